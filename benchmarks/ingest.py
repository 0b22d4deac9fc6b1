"""Full 6-month ingest at 50,000 customers from a CSV folder and from a Rails database, into fresh
PostgreSQL and SQLite stores, then an incremental poll after about an hour of new rows.

    .venv/bin/python benchmarks/ingest.py [--customers 50000] [--days 180] [--profile]

Goal (DESIGN.md): a full ingest under 60 s. Loading the Rails database (COPY) is not counted.
Each run prints where its time goes (fetch, validate, row hash, upsert, other) and the CPU seconds
of this process, which help read wall times taken on a busy machine. `--profile` adds a cProfile.
At the end: what the checks added by issue #12 cost per million rows (future times, the store's
column limits, the duplicate rule, row-level CSV reading against pandas' parser, and the Rails id
reconciliation that finds deleted rows).
"""
from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from config import Settings  # noqa: E402
from models.base import get_engine  # noqa: E402
from models.frames import bulk_append  # noqa: E402
from models.schema import upgrade  # noqa: E402
from sources.csv_dir import CsvDirAdapter  # noqa: E402
from sources.rails import RailsAdapter  # noqa: E402
from domain.contract import INGEST_ORDER, RECORDS  # noqa: E402
from ingestion import pipeline as ingestion  # noqa: E402
from ingestion.checks import check_future, check_limits, duplicate_verdicts  # noqa: E402
from ingestion.limits import store_limits  # noqa: E402
from ingestion.validation import validate  # noqa: E402
from models.frames import row_hash  # noqa: E402
from infra.clock import utcnow  # noqa: E402
from sources.csv_dir import read_rows  # noqa: E402
from tests.conftest import PG_ADMIN_URL, create_pg_database, drop_pg_database  # noqa: E402
from tests.support.dataset import HAVE_GENERATOR, contract_frames, more_rows, typed_frame  # noqa: E402
from tests.support.rails_db import load_rails_db, rails_metadata  # noqa: E402

CSV_DATE_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
STAGES = ("fetch", "validate", "row hash", "upsert")


class StageClock:
    """Wall time spent in each step of ingest_record, by wrapping the functions it calls."""

    def __init__(self):
        self.seconds = dict.fromkeys(STAGES, 0.0)

    def wrap(self, stage: str, func):
        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                self.seconds[stage] += time.perf_counter() - started
        return timed

    def install(self, adapter) -> list:
        """Wrap the adapter's fetch and ingestion's validate / row_hash / upsert_frame; returns what to undo."""
        undo = [(ingestion, name, getattr(ingestion, name)) for name in ("validate", "row_hash", "upsert_frame")]
        ingestion.validate = self.wrap("validate", ingestion.validate)
        ingestion.row_hash = self.wrap("row hash", ingestion.row_hash)
        ingestion.upsert_frame = self.wrap("upsert", ingestion.upsert_frame)
        adapter.fetch = self.wrap("fetch", adapter.fetch)
        return undo + [(adapter, "fetch", None)]


def prepare_source_data(folder: Path, customers: int, days: int, seed: int) -> dict[str, pd.DataFrame]:
    """Write the contract CSVs into `folder` and return the same data as typed frames."""
    if HAVE_GENERATOR:
        from bootstrap.demo import write_demo_csv
        write_demo_csv(str(folder), customers=customers, days=days, seed=seed)
        return {r: typed_frame(r, pd.read_csv(folder / f"{r}.csv", dtype=str, keep_default_na=False, na_values=[""]))
                for r in RECORDS if (folder / f"{r}.csv").exists()}
    frames = contract_frames(customers=customers, days=days, seed=seed)
    folder.mkdir(parents=True, exist_ok=True)
    for record, frame in frames.items():
        frame.to_csv(folder / f"{record}.csv", index=False, date_format=CSV_DATE_FORMAT)
    return frames


def add_hour_to_csv(folder: Path, frames: dict[str, pd.DataFrame], new: dict[str, pd.DataFrame]) -> None:
    """A fresh export: new rows appended, updated customers rewritten in place."""
    for record, frame in new.items():
        if record == "customers":
            key = RECORDS[record].key[0]
            rest = frames[record][~frames[record][key].isin(frame[key])]
            pd.concat([rest, frame]).to_csv(folder / f"{record}.csv", index=False, date_format=CSV_DATE_FORMAT)
        else:
            frame.to_csv(folder / f"{record}.csv", mode="a", header=False, index=False, date_format=CSV_DATE_FORMAT)


def add_hour_to_rails(url: str, new: dict[str, pd.DataFrame]) -> None:
    """What an hour of the Rails app looks like: inserted sessions and bookings, updated customers."""
    meta = rails_metadata()
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            for record in ("sessions", "bookings"):
                rows = new[record] if record == "bookings" else new[record].assign(created_at=new[record]["updated_at"])
                bulk_append(conn, meta.tables[record], rows)
            cust = new["customers"]
            conn.execute(text("UPDATE customers SET goal_status = :goal_status, goal_completed_at = NULL, "
                              "updated_at = :updated_at WHERE customer_id = :customer_id"),
                         [{"goal_status": g, "updated_at": u, "customer_id": c} for g, u, c in
                          zip(cust["goal_status"], cust["updated_at"].dt.to_pydatetime(), cust["customer_id"])])
    finally:
        engine.dispose()


def fresh_store(kind: str, admin, tmp: Path, created: list[str]) -> Settings:
    if kind == "postgresql":
        url = create_pg_database(admin, prefix="bench_store")
        created.append(url)
    else:
        db = tmp / f"store_{len(list(tmp.glob('store_*.db')))}.db"
        url = f"sqlite:///{db}"
    upgrade(url)
    # the generated history ends at the current hour and the added hour may run up to an hour past the
    # wall clock: a wider skew keeps those rows in (what the checks cost is measured apart, below)
    return Settings(database_url=url, var_dir=tmp, secret_key="bench", testing=True, source_retries=0,
                    embedded_scheduler=False, live_synthetic=False, clock_skew_s=3 * 3600)


def checks_cost(folder: Path, frames: dict[str, pd.DataFrame], rails: RailsAdapter | None) -> None:
    """Seconds per million rows of each check #12 added, on the benchmark's own data."""
    print("\ncost of the checks added by #12 (seconds per million rows)")
    print(f"  {'record':<14}{'rows':>10}{'future':>9}{'limits':>9}{'dups':>8}{'validate':>10}"
          f"{'csv rows':>10}{'pd csv':>8}{'ids':>7}")
    noop = lambda mask, reason: None  # noqa: E731
    now = utcnow()
    for record in ("customers", "sessions", "bookings", "inbound_calls"):
        spec = RECORDS[record]
        typed, _ = validate(record, frames[record])
        n = len(typed)
        per_m = lambda s: s / n * 1e6  # noqa: E731
        t = {}
        for name, run in (("future", lambda: check_future(spec, typed, noop, now, pd.Timedelta(hours=1))),
                          ("limits", lambda: check_limits(spec, typed, noop, store_limits(record))),
                          ("dups", lambda: duplicate_verdicts(spec, typed, pd.Series(True, index=typed.index),
                                                              lambda f: row_hash(f, spec.columns))),
                          ("validate", lambda: validate(record, frames[record], now=now))):
            started = time.perf_counter()
            run()
            t[name] = per_m(time.perf_counter() - started)
        data = (folder / f"{record}.csv").read_bytes()
        started = time.perf_counter()
        read_rows(data, f"{record}.csv")
        t["csv"] = per_m(time.perf_counter() - started)
        started = time.perf_counter()
        pd.read_csv(folder / f"{record}.csv", dtype=str, keep_default_na=False, na_values=[""])
        t["pd"] = per_m(time.perf_counter() - started)
        ids = float("nan")
        if rails is not None and record != "inbound_calls":
            started = time.perf_counter()
            rails.ids(record)
            ids = per_m(time.perf_counter() - started)
        print(f"  {record:<14}{n:>10,}{t['future']:>9.2f}{t['limits']:>9.2f}{t['dups']:>8.2f}{t['validate']:>10.2f}"
              f"{t['csv']:>10.2f}{t['pd']:>8.2f}{ids:>7.2f}")
    print("  validate = the whole validation (types, vocabularies, rules and the three checks); csv rows = the "
          "row-level reader, pd csv = pandas' C parser it replaced; ids = listing a Rails table's ids (reconciliation)")


def databases(*urls: str | None) -> list[str]:
    return [make_url(u).database for u in urls if u and u.startswith("postgresql")]


def pg_backend_cpu(admin, databases: list[str]) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend serving `databases` (the server runs on this machine)."""
    if not databases:
        return {}
    with admin.connect() as conn:
        pids = conn.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = ANY(:d)"),
                            {"d": databases}).scalars().all()
    ticks = os.sysconf("SC_CLK_TCK")
    out = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile, or not ours to read
            continue
        out[pid] = (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
    return out


def poll(adapter, settings: Settings, admin=None, pg_dbs: list[str] = (), profile: bool = False
         ) -> tuple[list[dict], dict[str, float]]:
    """One poll of every record the adapter has, timed per record and per step (what ingest_adapter does).

    `cpu` is this process's CPU time; `pg_cpu` that of the PostgreSQL backends serving `pg_dbs`.
    """
    engine = get_engine(settings.db_url)
    rows = []
    clock = StageClock()
    undo = clock.install(adapter)
    prof = cProfile.Profile() if profile else None
    try:
        for record in [r for r in INGEST_ORDER if r in adapter.records]:
            started, cpu = time.perf_counter(), time.process_time()
            pg_before = pg_backend_cpu(admin, list(pg_dbs))
            if prof:
                prof.enable()
            counts = ingestion.ingest_record(engine, adapter, record, settings)
            if prof:
                prof.disable()
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
            pg_cpu = sum(v - pg_before.get(pid, 0.0) for pid, v in pg_backend_cpu(admin, list(pg_dbs)).items())
            rows.append({"record": record, "rows": sum(counts.values()), **counts,
                         "seconds": seconds, "cpu": cpu, "pg_cpu": pg_cpu})
    finally:
        for owner, name, original in undo:
            if original is None:
                delattr(owner, name)
            else:
                setattr(owner, name, original)
    if prof:
        pstats.Stats(prof).sort_stats("cumulative").print_stats(30)
    return rows, clock.seconds


def print_run(title: str, rows: list[dict], stages: dict[str, float] | None = None) -> float:
    total = {"record": "total", **{k: sum(r[k] for r in rows)
                                   for k in ("rows", "inserted", "updated", "quarantined", "seconds", "cpu", "pg_cpu")}}
    print(f"\n{title}")
    print(f"  {'record':<20}{'rows':>10}{'inserted':>10}{'updated':>9}{'quarant.':>9}{'seconds':>9}{'rows/s':>10}"
          f"{'cpu s':>8}{'pg cpu s':>10}")
    for r in rows + [total]:
        rate = r["rows"] / r["seconds"] if r["seconds"] else 0
        print(f"  {r['record']:<20}{r['rows']:>10,}{r['inserted']:>10,}{r['updated']:>9,}{r['quarantined']:>9,}"
              f"{r['seconds']:>9.2f}{rate:>10,.0f}{r['cpu']:>8.2f}{r['pg_cpu']:>10.2f}")
    if stages:
        other = total["seconds"] - sum(stages.values())
        print("  where the time goes: " + ", ".join(
            f"{k} {v:.1f} s ({100 * v / total['seconds']:.0f} %)" for k, v in {**stages, "other": other}.items()))
    return total["seconds"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--sources", default="csv,rails", help="comma-separated: csv, rails")
    parser.add_argument("--stores", default="postgresql,sqlite", help="comma-separated: postgresql, sqlite")
    parser.add_argument("--profile", action="store_true", help="also print a cProfile of each full ingest")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # progress shows when piped to a file
    sources, stores = args.sources.split(","), args.stores.split(",")

    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    tmp = Path(tempfile.mkdtemp(prefix="bench_ingest_"))
    created: list[str] = []
    summary = []
    try:
        started = time.perf_counter()
        frames = prepare_source_data(tmp / "csv", args.customers, args.days, args.seed)
        print(f"data: {args.customers:,} customers, {args.days} days, generator="
              f"{'sources.simulation' if HAVE_GENERATOR else 'tests.support.dataset (fallback)'}; "
              + ", ".join(f"{r} {len(f):,}" for r, f in frames.items())
              + f"  ({time.perf_counter() - started:.1f} s, not counted)")
        adapters, source_urls = {}, {"csv": None, "rails": None}
        if "csv" in sources:
            adapters["csv"] = CsvDirAdapter(str(tmp / "csv"))
        if "rails" in sources:
            rails_url = source_urls["rails"] = create_pg_database(admin, prefix="bench_rails")
            created.append(rails_url)
            started = time.perf_counter()
            load_rails_db(rails_url, frames)
            with create_engine(rails_url).connect() as conn:
                conn.execute(text("ANALYZE"))
            print(f"rails database loaded with COPY in {time.perf_counter() - started:.1f} s (not counted)")
            adapters["rails"] = RailsAdapter(rails_url)

        targets = {}
        for source, adapter in adapters.items():
            for store in stores:
                settings = fresh_store(store, admin, tmp, created)
                rows, stages = poll(adapter, settings, admin, databases(settings.database_url, source_urls[source]),
                                    profile=args.profile)
                seconds = print_run(f"full ingest: {source} -> {store}", rows, stages)
                summary.append((f"full {source} -> {store}", sum(r["rows"] for r in rows), seconds,
                                sum(r["cpu"] + r["pg_cpu"] for r in rows)))
                targets[(source, store)] = settings

        new = more_rows(frames, hours=1.0)
        print("\none more hour: " + ", ".join(f"{r} {len(f):,}" for r, f in new.items()))
        if "csv" in adapters:
            add_hour_to_csv(tmp / "csv", frames, new)
        if "rails" in adapters:
            add_hour_to_rails(rails_url, new)
        for (source, store), settings in targets.items():
            rows, stages = poll(adapters[source], settings, admin, databases(settings.database_url, source_urls[source]))
            seconds = print_run(f"incremental poll: {source} -> {store}", rows, stages)
            summary.append((f"incremental {source} -> {store}", sum(r["inserted"] + r["updated"] for r in rows),
                            seconds, sum(r["cpu"] + r["pg_cpu"] for r in rows)))

        print(f"\n{'run':<34}{'rows':>10}{'seconds':>9}{'cpu s':>8}  goal: full ingest < 60 s; cpu s = this process"
              " + its PostgreSQL backends, a floor for the wall time on an idle machine")
        for name, n, seconds, cpu in summary:
            flag = "" if not name.startswith("full") else ("  ok" if seconds < 60 else "  OVER")
            print(f"{name:<34}{n:>10,}{seconds:>9.2f}{cpu:>8.1f}{flag}")
        print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        if "csv" in adapters:
            checks_cost(tmp / "csv", frames, adapters.get("rails"))
    finally:
        for adapter in adapters.values() if "adapters" in locals() else ():
            if isinstance(adapter, RailsAdapter):
                adapter.close()
        for url in created:
            drop_pg_database(admin, url)
        shutil.rmtree(tmp, ignore_errors=True)
        admin.dispose()


if __name__ == "__main__":
    main()
