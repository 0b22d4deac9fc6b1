"""Scale 10: 500,000 customers x 180 days (~30,000 sessions a day) on PostgreSQL. Every job in
jobs/table.py with its time and peak memory, the pages' usable time in headless Chromium, and
the p95 of the main callbacks and API routes, against the app served by gunicorn as in production.

    .venv/bin/python benchmarks/scale.py [--scale 10] [--days 180] [--database-url URL]
        [--jobs score,overview] [--skip-jobs] [--skip-pages] [--requests 30] [--loads 3]

The store is generated once into the database `bench_scale<N>` on 127.0.0.1:5432 (created when
missing; the preparation time is printed) and reused by later runs. Each job runs in its own process
(like a Celery worker taking one task), so its peak RSS is its own: that is the worker memory the
job needs. `ingest` is measured as production polls: a CSV source holding one hour of new activity
at this scale (~1,250 sessions, ~1,650 bookings, ~210 calls, ~830 changed customers) — first poll,
then a poll that finds nothing new; the synthetic demo source is not a production source.
Goals (DESIGN.md): scores + triggers < 60 s at 500,000; callbacks and API p95 < 200 ms (at 50,000);
page usable < 1 s (at 50,000); app process < 1 GiB. Prints numbers; asserts nothing.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from common import ADMIN, BENCH_DIR, ROOT, browser, browser_login, percentiles, prepared_settings, time_until

from config import Settings

BASE_CUSTOMERS = 50_000
PG = "postgresql+psycopg2://postgres@127.0.0.1:5432"
READY = {
    "/": "document.querySelectorAll('.overview-card').length >= 8 && "
         "[...document.querySelectorAll('[id^=overview-value-]')].every(e => e.textContent.length > 0)",
    "/customers": "document.querySelectorAll('#customers-grid .ag-center-cols-container .ag-row').length >= 10 && "
                  "document.querySelector('#customers-count').textContent.includes('customers')",
    "/tutors": "document.querySelectorAll('#tutors-grid .ag-center-cols-container .ag-row').length > 0 && "
               "(document.getElementById('tutors-card-first-sessions') || {}).textContent",
}


def settings_for(customers: int, days: int, url: str, **overrides) -> Settings:
    """The same settings prepared_settings builds for this store (folder under var/bench)."""
    values = dict(var_dir=BENCH_DIR / f"{customers}x{days}s42", database_url=url, secret_key="bench",
                  live_synthetic=False, embedded_scheduler=False, demo_customers=customers, demo_days=days,
                  demo_seed=42)
    values.update(overrides)
    return Settings(**values)


def ensure_database(url: str) -> None:
    from sqlalchemy import create_engine, text
    name = url.rsplit("/", 1)[1]
    admin = create_engine(url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar():
            conn.execute(text(f'CREATE DATABASE "{name}"'))  # name from our own argument, never a request
    admin.dispose()


def store_summary(url: str) -> str:
    from sqlalchemy import text
    from models.base import get_engine
    with get_engine(url).connect() as conn:
        rows = conn.execute(text("SELECT relname, n_live_tup FROM pg_stat_user_tables WHERE n_live_tup > 0 "
                                 "ORDER BY n_live_tup DESC LIMIT 8")).all()
        size = conn.execute(text("SELECT pg_size_pretty(pg_database_size(current_database()))")).scalar()
    return f"{size}; " + ", ".join(f"{r.relname} {r.n_live_tup:,}" for r in rows)


def refresh_derived_schema(url: str) -> list[str]:
    """The single initial migration is regenerated while nothing is released, so a store kept from an
    earlier run can lack a newer table or column. Derived tables (models/derived.py: recomputed by
    jobs) that differ from the models are recreated; other tables are only reported."""
    from sqlalchemy import inspect, text
    import models.derived
    from models.base import Base, get_engine
    engine = get_engine(url)
    derived = {v.__table__.name for v in vars(models.derived).values() if hasattr(v, "__table__")}
    inspector = inspect(engine)
    notes = []
    for table in Base.metadata.sorted_tables:
        if not inspector.has_table(table.name):
            continue
        have = {c["name"] for c in inspector.get_columns(table.name)}
        if {c.name for c in table.columns} - have:
            if table.name in derived:
                with engine.begin() as conn:
                    conn.execute(text(f'DROP TABLE "{table.name}" CASCADE'))  # names from our own models
                notes.append(f"recreated {table.name}")
            else:
                notes.append(f"WARNING: {table.name} lacks {sorted({c.name for c in table.columns} - have)}")
    Base.metadata.create_all(engine, checkfirst=True)
    return notes


# jobs ----------------------------------------------------------------------------------------------

def job_order() -> list[str]:
    from jobs.table import JOBS
    return list(JOBS)


def build_delta(settings: Settings, hours: float = 1.0) -> Path:
    """CSV files with `hours` of new activity at the store's rates, after its newest row (new ids;
    rebuilt at every run, so the first poll always has something to land)."""
    import pandas as pd
    from sqlalchemy import select
    from models.base import get_engine
    from models.frames import read_frame
    from models.source import SOURCE_TABLES
    from domain.contract import RECORDS
    sys.path.insert(0, str(ROOT))
    from tests.support.dataset import more_rows
    folder = settings.var_dir / "delta"
    engine = get_engine(settings.db_url)
    frames = {}
    with engine.connect() as conn:
        for record, sample in (("customers", None), ("sessions", 20_000), ("bookings", 20_000), ("inbound_calls", 5_000)):
            table = SOURCE_TABLES[record].__table__
            stmt = select(*(table.c[c] for c in RECORDS[record].columns))
            if sample:
                stmt = stmt.order_by(table.c[RECORDS[record].watermark].desc()).limit(sample)
            dates = [f.name for f in RECORDS[record].fields if f.kind in ("date", "datetime")]
            frames[record] = read_frame(conn, stmt, parse_dates=dates)
    # more_rows scales by len(customers): the whole customers table makes it this store's rates
    delta = more_rows(frames, hours=hours, seed=int(time.time()) % 1000)  # new ids at every benchmark run
    folder.mkdir(parents=True, exist_ok=True)
    for record, frame in delta.items():
        frame.to_csv(folder / f"{record}.csv", index=False, date_format="%Y-%m-%dT%H:%M:%SZ")
    return folder


def peak_rss_mb() -> int:
    """This process's peak RSS since it started (VmHWM; ru_maxrss would carry over the RSS of the
    parent that forked it, which exec does not reset on Linux)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def one_job(name: str, settings: Settings) -> dict:
    """Run one job in this process; its wall and CPU time, this process's peak RSS, and the outcome."""
    from jobs.runner import run_job
    import psutil
    base_rss = psutil.Process().memory_info().rss
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        summary, error = run_job(name, settings), None
    except Exception as exc:  # reported, not raised: the benchmark goes on to the next job
        summary, error = None, f"{type(exc).__name__}: {str(exc)[:300]}"
    return {"job": name, "wall_s": round(time.perf_counter() - wall, 2), "cpu_s": round(time.process_time() - cpu, 2),
            "peak_rss_mb": peak_rss_mb(),
            "start_rss_mb": round(base_rss / 2**20), "error": error,
            "summary": json.dumps(summary, default=str)[:400] if summary is not None else None}


def run_jobs(args, customers: int, url: str, names: list[str]) -> list[dict]:
    results = []
    for name in names:
        variants = [(name, [])]
        if name == "ingest":
            delta = build_delta(settings_for(customers, args.days, url))
            variants = [("ingest (1 h of new rows)", ["--sources", f"csv:{delta}"]),
                        ("ingest (nothing new)", ["--sources", f"csv:{delta}"])]
        for label, extra in variants:
            cmd = [sys.executable, __file__, "--one-job", name, "--customers", str(customers), "--days", str(args.days),
                   "--database-url", url, *extra]
            print(f"  running {label} ...", flush=True)
            try:
                done = subprocess.run(cmd, capture_output=True, text=True, timeout=args.job_timeout, cwd=ROOT)
                line = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
                result = json.loads(line[-1]) if line else {"job": name, "error": done.stderr[-400:]}
            except subprocess.TimeoutExpired:
                result = {"job": name, "error": f"did not finish within {args.job_timeout} s"}
            result["label"] = label
            results.append(result)
            status = result.get("error") or "ok"
            print(f"    {label:<28} {result.get('wall_s', float('nan')):8.1f} s wall {result.get('cpu_s', float('nan')):8.1f} s CPU"
                  f"  peak RSS {result.get('peak_rss_mb', 0):6,} MB  {status}", flush=True)
    return results


# pages, callbacks, API -------------------------------------------------------------------------------

def measure_app(args, settings: Settings) -> dict:
    import psutil
    import requests
    from load import PAGES, SHELL, User, payloads, start_server
    server, base = start_server(settings, workers=2, threads=4, redis_url="")
    out: dict = {"pages": {}, "calls": {}}
    try:
        user = User(base, *ADMIN, {}, 0, 0, 0, {}, None)
        user.login()
        session = user.session
        bodies = payloads(session.get(base + "/_dash-dependencies", timeout=120).json())
        from tutors import REFRESH
        tutors_spec = next(d for d in session.get(base + "/_dash-dependencies").json() if d["output"] == REFRESH)
        bodies["tutors page callback"] = {
            "output": REFRESH, "outputs": [{"id": p.rsplit(".", 1)[0], "property": p.rsplit(".", 1)[1]}
                                           for p in REFRESH.strip(".").split("...")],
            "inputs": [{"id": i["id"], "property": i["property"],
                        "value": {"tutors-period.value": "last_month"}.get(f"{i['id']}.{i['property']}")}
                       for i in tutors_spec["inputs"]],
            "state": [], "changedPropIds": ["tutors-period.value"]}
        bodies["customers grid, sorted by score, page 100"] = json.loads(json.dumps(bodies["customers grid block"]))
        bodies["customers grid, sorted by score, page 100"]["inputs"][0]["value"] = {
            "startRow": 10_000, "endRow": 10_100, "sortModel": [{"colId": "score", "sort": "asc"}], "filterModel": {}}
        names = [n for n, *_ in SHELL] + [n for p in PAGES.values() for n, *_ in p["callbacks"]] + [
            "route overview", "route customers", "tutors page callback", "customers grid, sorted by score, page 100"]

        def timed(method: str, path: str, body=None) -> dict:
            samples, errors = [], 0
            for i in range(args.requests + 2):
                started = time.perf_counter()
                response = session.request(method, base + path, json=body, timeout=300)
                if i >= 2:  # two warm-up calls
                    samples.append(time.perf_counter() - started)
                errors += response.status_code not in (200, 204)
            return {**percentiles(samples), "errors": errors}
        for name in names:
            out["calls"][f"callback: {name}"] = timed("POST", "/_dash-update-component", bodies[name])
        some_customer = session.get(base + "/api/v1/customers?limit=1", timeout=300).json()
        first_id = (some_customer.get("rows") or some_customer.get("customers") or [{}])[0].get("customer_id")
        routes = ["/api/v1/metrics", "/api/v1/customers?limit=100", "/api/v1/customers?sort=score:desc&limit=100&offset=5000",
                  "/api/v1/tutors", "/api/v1/first-sessions?by=subject", "/api/v1/alerts", "/api/v1/churn",
                  "/api/v1/recommendations", "/api/v1/health"]
        if first_id:
            routes.append(f"/api/v1/customers/{first_id}")
        for route in routes:
            out["calls"][f"GET {route}"] = timed("GET", route)
        if not args.skip_browser:
            driver = browser()
            try:
                browser_login(driver, base)
                for path, ready in READY.items():
                    try:
                        loads = [time_until(driver, base + path, ready, timeout=120) for _ in range(args.loads)]
                        out["pages"][path] = sorted(loads)
                    except TimeoutError as exc:
                        out["pages"][path] = str(exc)
            finally:
                driver.quit()
        workers = psutil.Process(server.pid).children(recursive=True)
        out["app_rss_mb"] = [round(p.memory_info().rss / 2**20) for p in workers]
    finally:
        server.terminate()
        server.wait(timeout=60)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--jobs", default="", help="comma-separated job names (default: every job)")
    parser.add_argument("--skip-jobs", action="store_true")
    parser.add_argument("--skip-pages", action="store_true")
    parser.add_argument("--skip-browser", action="store_true")
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--loads", type=int, default=3)
    parser.add_argument("--job-timeout", type=int, default=3600)
    parser.add_argument("--one-job", help=argparse.SUPPRESS)
    parser.add_argument("--customers", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--sources", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    customers = args.customers or BASE_CUSTOMERS * args.scale
    url = args.database_url or f"{PG}/bench_scale{args.scale}"
    if args.one_job:  # child mode: one job, one JSON line
        overrides = {"sources": args.sources, "calls_api_url": ""} if args.sources else {}
        print(json.dumps(one_job(args.one_job, settings_for(customers, args.days, url, **overrides))), flush=True)
        return

    started = time.perf_counter()
    ensure_database(url)
    prepared = time.perf_counter()
    settings = prepared_settings(customers, args.days, database_url=url)
    print(f"{customers:,} customers x {args.days} days on PostgreSQL "
          f"(store ready in {time.perf_counter() - prepared:.0f} s; a first run generates and ingests it)")
    print(f"  store: {store_summary(url)}")
    for note in refresh_derived_schema(url):
        print(f"  schema: {note} (the store predates the current models)")
    jobs = []
    if not args.skip_jobs:
        names = [n.strip() for n in args.jobs.split(",") if n.strip()] or job_order()
        print("\nJobs (each in its own process):")
        jobs = run_jobs(args, customers, url, names)
    app = None if args.skip_pages else measure_app(args, settings)

    print(f"\n== Results at {customers:,} customers x {args.days} days (PostgreSQL, 2 shared cores)")
    if jobs:
        print(f"  {'job':<30} {'wall s':>8} {'CPU s':>8} {'peak RSS MB':>12}  outcome")
        for r in jobs:
            print(f"  {r['label']:<30} {r.get('wall_s', float('nan')):>8.1f} {r.get('cpu_s', float('nan')):>8.1f} "
                  f"{r.get('peak_rss_mb', 0):>12,}  {r.get('error') or 'ok'}")
        worst = max((r.get("peak_rss_mb", 0) for r in jobs), default=0)
        print(f"  worker memory: the largest job peaks at {worst:,} MB RSS")
    if app:
        for path, loads in app["pages"].items():
            if isinstance(loads, str):
                print(f"  page {path:<12} NOT usable: {loads}")
            else:
                print(f"  page {path:<12} usable in {loads[len(loads) // 2]:.2f} s median, {loads[-1]:.2f} s worst "
                      f"(headless Chromium, {len(loads)} loads)")
        print(f"  {'request':<58} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'err':>4}")
        for name, r in app["calls"].items():
            print(f"  {name[:58]:<58} {r['p50_ms']:>8.1f} {r['p95_ms']:>8.1f} {r['max_ms']:>8.1f} {r['errors']:>4}")
        print(f"  app (gunicorn worker) RSS after the run: {app['app_rss_mb']} MB")
    print(f"  (benchmark took {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
