"""Tutors page and first-session job on the demo store: job time, callback and API p50/p95, page usable time.

    .venv/bin/python benchmarks/tutors.py [--customers 50000] [--days 180] [--requests 50]

Goals (DESIGN.md): page usable < 1 s; any callback or API call p95 < 200 ms. The job has no stated goal;
it runs hourly. Prints numbers; asserts nothing.
"""
from __future__ import annotations

import argparse
import json
import time

from common import (browser, browser_login, callback_payload, logged_in_client, prepared_settings, serve,
                    time_calls, time_until)

READY = ("document.querySelectorAll('#tutors-grid .ag-center-cols-container .ag-row').length > 0 && "
         "(document.getElementById('tutors-card-first-sessions') || {}).textContent")
REFRESH = ("..tutors-empty.children...tutors-content.style...tutors-asof.children...tutors-cards.children..."
           "tutors-grid.rowData...tutors-regions.rowData...tutors-subject.options..")
DETAIL = "..tutors-detail-title.children...tutors-first-sessions.rowData...tutors-trend-box.children.."


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--loads", type=int, default=5)
    args = parser.parse_args()
    settings = prepared_settings(args.customers, args.days)
    from models.base import get_engine
    from read import tutors as tutor_queries
    from jobs.runner import run_job
    engine = get_engine(settings.db_url)
    summaries = []
    job = time_calls(lambda: summaries.append(run_job("first-session", settings)), n=3, warmup=1)
    grid = tutor_queries.tutor_grid(engine, "last_month")
    busiest = grid.sort_values("first_sessions").iloc[-1]["tutor_id"]
    subject = tutor_queries.subjects_of(grid)[0]

    client = logged_in_client(settings)

    def post(output, inputs):
        payload = callback_payload(output, inputs)
        response = client.post("/_dash-update-component", data=json.dumps(payload), content_type="application/json")
        assert response.status_code == 200, response.status_code

    def refresh(period, subj=None):
        return lambda: post(REFRESH, [{"id": "tutors-period", "property": "value", "value": period},
                                      {"id": "tutors-subject", "property": "value", "value": subj},
                                      {"id": "shell-data-version", "property": "data", "value": 1},
                                      {"id": "shell-refresh", "property": "n_intervals", "value": 1}])

    def detail(tutor_id, period):
        return lambda: post(DETAIL, [{"id": "tutors-selected", "property": "data", "value": tutor_id},
                                     {"id": "tutors-period", "property": "value", "value": period},
                                     {"id": "shell-data-version", "property": "data", "value": 1}])

    def api(path):
        def call():
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
        return call

    n = args.requests
    results = {
        "page refresh callback (last month)": time_calls(refresh("last_month"), n=n),
        f"page refresh callback ({subject})": time_calls(refresh("last_quarter", subject), n=n),
        "drill-down callback (busiest tutor)": time_calls(detail(busiest, "last_quarter"), n=n),
        "GET /tutors?sort=-success_rate": time_calls(api("/api/v1/tutors?sort=-success_rate&limit=100"), n=n),
        "GET /first-sessions?by=tutor (cached)": time_calls(api("/api/v1/first-sessions?by=tutor"), n=n),
        "first-sessions uncached (all time)": time_calls(
            lambda: tutor_queries._stats.uncached(engine, "tutor", None, None), n=5, warmup=1),
        "grid query uncached": time_calls(lambda: tutor_queries._grid.uncached(engine, "last_month"), n=10),
    }
    base = serve(settings)
    driver = browser()
    try:
        browser_login(driver, base)
        loads = [time_until(driver, f"{base}/tutors?period=last_month", READY) for _ in range(args.loads)]
        severe = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
    finally:
        driver.quit()

    last = summaries[-1]
    print(f"\nTutors benchmark: {args.customers:,} customers, {args.days} days, {settings.db_url.split(':')[0]} store")
    print(f"  first-session job  p50 {job['p50_ms'] / 1000:6.2f} s  max {job['max_ms'] / 1000:6.2f} s   "
          f"({last['first_sessions']:,} first sessions, {last['rows_written']:,} rows; last run {last['timings']})")
    print(f"  alerts at the last run: declining tutors {last['declining_tutors']}, low subjects "
          f"{last['low_subjects']}, low regions {last['low_regions']}")
    for name, r in results.items():
        print(f"  {name:<40} p50 {r['p50_ms']:7.1f} ms   p95 {r['p95_ms']:7.1f} ms   (n={r['n']})")
    print(f"  page usable in headless Chromium  median {sorted(loads)[len(loads) // 2]:.2f} s   "
          f"worst {max(loads):.2f} s   (goal < 1.0 s); browser errors: {len(severe)}")


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"  (benchmark took {time.perf_counter() - started:.0f} s)")
