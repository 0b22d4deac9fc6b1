"""Issue 16's screens in a warm browser: time from navigation until each page is usable, and the metric explorer
drawing a 30-day 5-minute stream (8,640 points), plus the explorer callback alone.

    .venv/bin/python benchmarks/screens.py [--customers 50000] [--loads 5] [--store PATH] [--pages overview,queue]

Per page: the median and max usable time over warm loads, and on the server (a WSGI timer around the app) the
callback requests one load makes, their summed time, the slowest one and the largest response; with --detail,
each callback of the last load. Goals: every page usable in < 1 s warm at the seed's volumes; the explorer draws 8,640 points in < 1 s.
Prints numbers; asserts nothing.
"""
from __future__ import annotations

import argparse
import statistics
import time
from datetime import timedelta

from common import ADMIN, browser, browser_login, prepared_settings, serve, time_until

PAGES = {
    "overview": ("/", "document.querySelectorAll('.overview-card').length >= 8"),
    "tutors": ("/tutors", "document.querySelectorAll('#tutors-grid .ag-center-cols-container .ag-row').length > 0"),
    "recommendations": ("/recommendations", "document.querySelectorAll('#recs-feed .card').length > 0 || "
                                            "document.getElementById('recs-empty')"),
    "customers": ("/customers", "document.querySelectorAll('#customers-grid .ag-center-cols-container .ag-row').length"
                                " > 0 && document.getElementById('customers-count').textContent.length > 0"),
    "my queue": ("/queue", "document.querySelectorAll('#queue-table .ag-center-cols-container .ag-row').length > 0 || "
                           "document.getElementById('queue-empty')"),
    "explorer 30 d": ("/explorer?metric={metric}&range=30d",
                      "document.querySelector('#explorer-chart .main-svg') && "
                      "document.getElementById('explorer-summary').textContent.includes('points')"),
}


# Draw the open explorer's figure again into a fresh div: the chart's own drawing time, without the page load.
DRAW = """const done = arguments[0]; const gd = document.querySelector('#explorer-chart .js-plotly-plot');
const div = document.createElement('div'); div.style.width = '1400px'; document.body.appendChild(div);
const t = performance.now();
Plotly.newPlot(div, gd.data, gd.layout).then(() => { const ms = performance.now() - t; div.remove(); done(ms); });"""


def _settings(args):
    if not args.store:
        return prepared_settings(args.customers, args.days)
    from auth import accounts
    from config import Settings
    from models.base import get_engine
    from pathlib import Path
    settings = Settings(var_dir=Path(args.store).parent, database_url=f"sqlite:///{args.store}", secret_key="bench",
                        embedded_scheduler=False, live_synthetic=False)
    engine = get_engine(settings.db_url)
    if not accounts.authenticate(engine, *ADMIN):
        try:
            accounts.create_user(engine, ADMIN[0], "admin", ADMIN[1])
        except accounts.AccountError:
            accounts.set_password(engine, ADMIN[0], ADMIN[1])
    return settings


def _five_minute_stream(engine) -> tuple[str, int]:
    """The stored metric with the most points (the demo's 5-minute streams) and its points in the last 30 days."""
    from sqlalchemy import func, select
    from models.source import MetricPoint
    with engine.connect() as conn:
        metric = conn.execute(select(MetricPoint.metric).group_by(MetricPoint.metric)
                              .order_by(func.count().desc()).limit(1)).scalar()
        newest = conn.execute(select(func.max(MetricPoint.ts)).where(MetricPoint.metric == metric)).scalar()
        import pandas as pd
        n = conn.execute(select(func.count()).where(MetricPoint.metric == metric, MetricPoint.ts >= pd.Timestamp(newest)
                                                    - pd.Timedelta(days=30))).scalar()
    return metric, int(n)


def _in_app(driver, base: str, path: str, ready: str, timer, timeout: float = 60.0) -> float:
    """Seconds from an in-app navigation to `path` (what the navbar's links do) until `ready`, from the
    data-health page fully loaded (its own callbacks are left out of the timer's count)."""
    driver.get(base + "/data-health")
    _settled(timer, quiet=0.8)
    started = time.perf_counter()
    driver.execute_script("window.history.pushState({}, '', arguments[0]);"
                          "window.dispatchEvent(new CustomEvent('_dashprivate_pushstate'));", path)
    while time.perf_counter() - started < timeout:
        if driver.execute_script(f"return Boolean({ready});"):
            return time.perf_counter() - started
        time.sleep(0.02)
    raise TimeoutError(f"{path} not ready within {timeout} s")


def _settled(timer, quiet: float = 0.4, limit: float = 10.0) -> list:
    """The callbacks of the load just made, once none has finished for `quiet` seconds (late ones included)."""
    started, seen, last = time.perf_counter(), 0, time.perf_counter()
    while time.perf_counter() - started < limit:
        n = len(timer.calls)
        if n != seen:
            seen, last = n, time.perf_counter()
        elif time.perf_counter() - last >= quiet:
            break
        time.sleep(0.05)
    return timer.take()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--loads", type=int, default=5)
    parser.add_argument("--store", help="an existing SQLite store instead of the prepared demo store")
    parser.add_argument("--pages", default=",".join(PAGES), help="comma list of the pages to measure")
    parser.add_argument("--detail", action="store_true", help="print each callback of a page's last load")
    parser.add_argument("--in-app", action="store_true", help="time a navigation inside the open app (a navbar "
                        "click: pushState, no page load) from the data-health page instead of a full page load")
    args = parser.parse_args()
    settings = _settings(args)
    from models.base import get_engine
    from callbacks.marketplace.explorer import window
    from read import metrics
    from infra.clock import utcnow
    engine = get_engine(settings.db_url)
    metric, points = _five_minute_stream(engine)
    since, until = window("30d", None, None, utcnow())
    samples = []
    for _ in range(args.loads):
        started = time.perf_counter()
        history = metrics.series(engine, metric, since - timedelta(weeks=metrics.BAND_WEEKS), until)
        metrics.expected_band(history, since)
        samples.append(time.perf_counter() - started)
    print(f"explorer read + band, {metric} ({points:,} points in 30 d): median {statistics.median(samples) * 1000:.0f} ms")
    base, timer = serve(settings, timer=True)
    driver = browser()
    try:
        browser_login(driver, base)
        for name in args.pages.split(","):
            path, ready = PAGES[name]
            url = base + path.format(metric=metric)
            measure = (lambda: _in_app(driver, base, path.format(metric=metric), ready, timer)) if args.in_app \
                else (lambda: time_until(driver, url, ready))
            measure()  # warm: assets cached, plotly.js loaded once
            _settled(timer)
            loads, calls = [], []
            for _ in range(args.loads):
                loads.append(measure())
                calls.append(_settled(timer))
            total = statistics.median(sum(c[1] for c in load) for load in calls)
            slowest = max((c for load in calls for c in load), key=lambda c: c[1], default=("-", 0, 0))
            print(f"{name:<16} usable in median {statistics.median(loads):.2f} s, max {max(loads):.2f} s "
                  f"over {len(loads)} warm loads; server: {statistics.median(len(c) for c in calls):.0f} callbacks, "
                  f"median {total * 1000:.0f} ms summed, slowest {slowest[1] * 1000:.0f} ms ({slowest[0][:50]}), "
                  f"largest response {max((c[2] for load in calls for c in load), default=0) / 1000:.0f} kB", flush=True)
            if args.detail:
                for output, seconds, size in calls[-1]:
                    print(f"    {seconds * 1000:7.0f} ms {size / 1000:8.1f} kB  {output[:110]}")
        if "explorer 30 d" not in args.pages.split(","):
            return
        draws = [driver.execute_async_script(DRAW) for _ in range(args.loads)]  # the explorer page is open
        print(f"explorer chart alone (Plotly.newPlot of the {points:,}-point figure): median "
              f"{statistics.median(draws):.0f} ms, max {max(draws):.0f} ms")
    finally:
        driver.quit()


if __name__ == "__main__":
    main()
