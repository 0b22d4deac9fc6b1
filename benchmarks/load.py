"""Load test on loopback: N logged-in users, each refreshing the overview and customers pages every
`interval` seconds for `minutes` minutes; prints requests, errors and p50/p95/max per request kind.

    .venv/bin/python benchmarks/load.py [--users 50] [--minutes 5] [--interval 30]
        [--customers 50000] [--days 180] [--database-url postgresql://...] [--redis-url redis://...]
        [--workers 2] [--threads 8]

The app runs as production would (gunicorn, `wsgi:server`, settings from the environment) in its own
processes, so the load generator's threads don't share its interpreter. A refresh of a page is what
a browser's reload asks for: the page HTML, /_dash-layout, the page-routing callback, the shell's
callbacks (data version, freshness, alert banner) and the page's own: overview cards and definitions;
customers filter options and the first 100-row block of the grid. Users start spread over the first
interval; each loop is bounded, so the script ends by itself. Goal (DESIGN.md): callback p95 < 200 ms.
"""
from __future__ import annotations

import argparse
import os
import random
import re
import subprocess
import sys
import threading
import time
from collections import defaultdict

from common import ROOT, free_port, percentiles, prepared_settings

import requests

PAGES = {
    "overview": {"path": "/", "callbacks": [
        ("overview cards", "overview-computed-at.children", {"shell-data-version.data": 1, "shell-refresh.n_intervals": 0}),
        ("overview definitions", "overview-definitions.children", {}),
    ]},
    "customers": {"path": "/customers", "callbacks": [
        ("customers filter options", "customers-segment.options", {"shell-data-version.data": 1}),
        ("customers grid block", "customers-grid.getRowsResponse",
         {"customers-grid.getRowsRequest": {"startRow": 0, "endRow": 100, "sortModel": [], "filterModel": {}},
          "customers-attention.value": False}),
    ]},
}
SHELL = [
    ("shell data version", "shell-data-version.data", {"shell-tick.n_intervals": 1, "shell-data-version.data": 1}),
    ("shell freshness", "shell-freshness.children", {"shell-data-version.data": 1, "shell-refresh.n_intervals": 0}),
    ("shell alert banner", "shell-alert-banner.children", {"shell-data-version.data": 1, "shell-refresh.n_intervals": 0}),
]


def pattern_outputs(part: str) -> list[dict]:
    """The components a pattern output matches on the page (the overview's card slots)."""
    import json
    pattern, prop = part.rsplit(".", 1)
    kind = json.loads(pattern)["type"]
    if kind != "overview-slot":
        raise ValueError(f"no components known for pattern output {part}")
    from layouts.marketplace.overview import CARD_ORDER
    return [{"id": {"type": kind, "key": key}, "property": prop} for key in CARD_ORDER]


def payloads(dependencies: list[dict]) -> dict[str, dict]:
    """Callback request bodies, built from /_dash-dependencies so they match what the app registered."""
    def body(output_part: str, values: dict) -> dict:
        spec = next(d for d in dependencies if output_part in d["output"] and not d.get("clientside_function"))
        out = spec["output"]
        parts = [p for p in out.strip(".").split("...") if p] if out.startswith("..") else [out]
        outputs = [pattern_outputs(p) if p.startswith("{") else
                   {"id": p.rsplit(".", 1)[0], "property": p.rsplit(".", 1)[1].split("@")[0]} for p in parts]

        def entries(items):
            return [{"id": i["id"], "property": i["property"], "value": values.get(f"{i['id']}.{i['property']}")}
                    for i in items]
        inputs = entries(spec["inputs"])
        return {"output": out, "outputs": outputs if out.startswith("..") else outputs[0], "inputs": inputs,
                "state": entries(spec["state"]), "changedPropIds": [f"{inputs[0]['id']}.{inputs[0]['property']}"]}
    built = {name: body(part, values) for name, part, values in SHELL}
    for page in PAGES.values():
        built.update({name: body(part, values) for name, part, values in page["callbacks"]})
    for page, spec in PAGES.items():
        built[f"route {page}"] = body("_pages_content.children", {"_pages_location.pathname": spec["path"],
                                                                  "_pages_location.search": ""})
    return built


class User(threading.Thread):
    def __init__(self, base: str, email: str, password: str, bodies: dict, until: float, interval: float,
                 start_delay: float, results: dict, lock: threading.Lock):
        super().__init__(daemon=True)
        self.base, self.email, self.password, self.bodies = base, email, password, bodies
        self.until, self.interval, self.start_delay = until, interval, start_delay
        self.results, self.lock = results, lock
        self.session = requests.Session()

    def timed(self, name: str, method: str, path: str, **kw) -> None:
        started = time.perf_counter()
        try:
            response = self.session.request(method, self.base + path, timeout=60, **kw)
            ok = response.status_code in (200, 204)
            error = None if ok else f"HTTP {response.status_code}"
        except requests.RequestException as exc:
            ok, error = False, type(exc).__name__
        elapsed = time.perf_counter() - started
        with self.lock:
            self.results[name].append((elapsed, ok, error))

    def login(self) -> None:
        page = self.session.get(self.base + "/login", timeout=60).text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        response = self.session.post(self.base + "/login", data={"email": self.email, "password": self.password,
                                                                  "csrf_token": token}, timeout=60,
                                     allow_redirects=False)
        if response.status_code != 302:
            raise RuntimeError(f"login failed: HTTP {response.status_code}")

    def refresh(self, page: str) -> None:
        started = time.perf_counter()
        self.timed(f"GET {PAGES[page]['path']}", "GET", PAGES[page]["path"])
        self.timed("GET /_dash-layout", "GET", "/_dash-layout")
        self.timed(f"route callback {page}", "POST", "/_dash-update-component", json=self.bodies[f"route {page}"])
        for name, *_ in SHELL + PAGES[page]["callbacks"]:
            self.timed(name, "POST", "/_dash-update-component", json=self.bodies[name])
        with self.lock:
            self.results[f"whole {page} refresh"].append((time.perf_counter() - started, True, None))

    def run(self) -> None:
        time.sleep(self.start_delay)
        try:
            self.login()
        except Exception as exc:
            with self.lock:
                self.results["login"].append((0.0, False, str(exc)))
            return
        max_cycles = int((self.until - time.time()) // self.interval) + 2  # bounded, whatever the clock does
        for _ in range(max_cycles):
            cycle = time.time()
            if cycle >= self.until:
                break
            for page in PAGES:
                self.refresh(page)
            time.sleep(max(0.0, min(self.until - time.time(), cycle + self.interval - time.time())))


def start_server(settings, workers: int, threads: int, redis_url: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": settings.db_url, "VAR_DIR": str(settings.var_dir), "SECRET_KEY": "bench",
           "REDIS_URL": redis_url, "LIVE_SYNTHETIC": "false", "EMBEDDED_SCHEDULER": "false", "LOG_LEVEL": "WARNING",
           "SECURE_COOKIES": "false"}  # plain http on loopback: a Secure session cookie would never come back
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", str(workers), "--threads", str(threads),
                             "--bind", f"127.0.0.1:{port}", "--timeout", "120", "--log-level", "warning", "wsgi:server"],
                            cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            if requests.get(base + "/api/v1/health", timeout=5).status_code == 200:
                return proc, base
        except requests.RequestException:
            pass
        if proc.poll() is not None:
            raise RuntimeError("gunicorn exited")
        time.sleep(0.5)
    proc.kill()
    raise RuntimeError("the app did not answer within 120 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--minutes", type=float, default=5)
    parser.add_argument("--interval", type=float, default=30)
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--database-url", default="", help="default: the benchmark SQLite store under var/bench")
    parser.add_argument("--redis-url", default="", help="production mode: Redis cache and CeleryManager")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=8, help="threads per gunicorn worker")
    args = parser.parse_args()

    settings = prepared_settings(args.customers, args.days, database_url=args.database_url)
    _ensure_jobs(settings)
    from common import ADMIN
    people = _people(settings, args.users)
    server, base = start_server(settings, args.workers, args.threads, args.redis_url)
    results: dict[str, list] = defaultdict(list)
    lock = threading.Lock()
    until = time.time() + args.minutes * 60
    try:
        probe = User(base, *ADMIN, {}, until, args.interval, 0, results, lock)
        probe.login()
        bodies = payloads(probe.session.get(base + "/_dash-dependencies", timeout=60).json())
        rng = random.Random(7)
        users = [User(base, *person, bodies, until, args.interval, rng.uniform(0, min(args.interval, args.minutes * 60)),
                      results, lock) for person in people]
        started = time.time()
        for user in users:
            user.start()
        for user in users:
            user.join(timeout=max(1.0, until - time.time()) + 300)
        wall = time.time() - started
    finally:
        server.terminate()
        server.wait(timeout=30)
    report(results, args, wall, settings)


def report(results: dict, args, wall: float, settings) -> None:
    store = "PostgreSQL" if not settings.is_sqlite else "SQLite"
    total = sum(len(v) for k, v in results.items() if not k.startswith("whole"))
    errors = [(k, e) for k, v in results.items() for _, ok, e in v if not ok]
    print(f"\nLoad test: {args.users} users, every {args.interval:g} s for {args.minutes:g} min, "
          f"{args.customers:,} customers ({store}{', Redis cache' if args.redis_url else ''}), "
          f"gunicorn {args.workers}x{args.threads}, loopback")
    print(f"  {total:,} requests in {wall:.0f} s ({total / max(wall, 1):.1f}/s), errors: {len(errors)}")
    for kind, error in sorted(set(errors))[:10]:
        print(f"    error: {kind}: {error}")
    print(f"  {'request':<28} {'n':>6} {'err':>4} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for name in sorted(results, key=lambda k: (k.startswith("whole"), k)):
        samples = [t for t, ok, _ in results[name] if ok] or [0.0]
        p = percentiles(samples)
        bad = sum(1 for _, ok, _ in results[name] if not ok)
        print(f"  {name:<28} {len(results[name]):>6} {bad:>4} {p['p50_ms']:>8.1f} {p['p95_ms']:>8.1f} {p['max_ms']:>8.1f}")
    callbacks = [t for k, v in results.items() if "callback" in k or k.startswith(("overview ", "customers ", "shell "))
                 for t, ok, _ in v if ok]
    if callbacks:
        p = percentiles(callbacks)
        print(f"  all callbacks: p50 {p['p50_ms']:.1f} ms, p95 {p['p95_ms']:.1f} ms, max {p['max_ms']:.1f} ms "
              f"(goal p95 < 200 ms)")


def _people(settings, n: int) -> list[tuple[str, str]]:
    """One account per simulated user, as in life (sign-in is throttled per email: one account signing in
    50 times at once is refused beyond the limit)."""
    from auth import accounts
    from models.base import get_engine
    engine = get_engine(settings.db_url)
    known = {u["email"] for u in accounts.list_users(engine)}
    people = [(f"load-user-{i}@example.com", "load-password-123") for i in range(n)]
    for email, password in people:
        if email not in known:
            accounts.create_user(engine, email, "ops", password)
    return people


def _ensure_jobs(settings) -> None:
    """Scores and an overview snapshot must exist for the pages to show data; computed once."""
    from sqlalchemy import func, select
    from models.base import get_engine
    from models.derived import HealthScore, OverviewSnapshot
    from jobs.runner import run_job
    with get_engine(settings.db_url).connect() as conn:
        have_scores = conn.execute(select(func.count()).select_from(HealthScore)).scalar()
        have_overview = conn.execute(select(func.count()).select_from(OverviewSnapshot)).scalar()
    for job, needed in (("score", not have_scores), ("overview", not have_overview)):
        if needed:
            started = time.perf_counter()
            run_job(job, settings)
            print(f"  job {job}: {time.perf_counter() - started:.1f} s", flush=True)


if __name__ == "__main__":
    main()
