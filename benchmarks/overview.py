"""Overview at 50,000 customers x 6 months: time until the page is usable in headless Chromium,
p95 of the overview callbacks and of /api/v1/metrics, and the overview job.

    .venv/bin/python benchmarks/overview.py [--customers 50000] [--days 180] [--requests 200]

Goals (DESIGN.md): page usable < 1 s; any callback or API call p95 < 200 ms.
"""
from __future__ import annotations

import argparse
import json
import time

from common import (browser, browser_login, callback_payload, logged_in_client, prepared_settings, serve,
                    time_calls, time_until)

READY = ("document.querySelectorAll('.overview-card').length >= 8 && "
         "[...document.querySelectorAll('[id^=overview-value-]')].every(e => e.textContent.length > 0)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--loads", type=int, default=5)
    args = parser.parse_args()
    settings = prepared_settings(args.customers, args.days, jobs=("score", "supply", "overview"))
    from jobs.runner import run_job
    job = time_calls(lambda: run_job("overview", settings), n=5, warmup=1)

    client = logged_in_client(settings)
    cards = callback_payload("..overview-cards.children...overview-computed-at.children..",
                             [{"id": "shell-data-version", "property": "data", "value": 1},
                              {"id": "shell-refresh", "property": "n_intervals", "value": 1},
                              {"id": "overview-refresh", "property": "n_clicks", "value": None}])
    tick = callback_payload("shell-data-version.data", [{"id": "shell-tick", "property": "n_intervals", "value": 3}],
                            [{"id": "shell-data-version", "property": "data", "value": 0}])

    def post(payload):
        response = client.post("/_dash-update-component", data=json.dumps(payload), content_type="application/json")
        assert response.status_code in (200, 204), response.status_code
    results = {
        "overview cards callback": time_calls(lambda: post(cards), n=args.requests),
        "data-version tick callback": time_calls(lambda: post(tick), n=args.requests),
        "GET /api/v1/metrics": time_calls(lambda: client.get("/api/v1/metrics"), n=args.requests),
    }
    base = serve(settings)
    driver = browser()
    try:
        browser_login(driver, base)
        loads = [time_until(driver, f"{base}/", READY) for _ in range(args.loads)]
    finally:
        driver.quit()

    print(f"\nOverview benchmark: {args.customers:,} customers, {args.days} days, SQLite store")
    print(f"  overview job                     p50 {job['p50_ms']:7.1f} ms   max {job['max_ms']:7.1f} ms")
    for name, r in results.items():
        print(f"  {name:<32} p50 {r['p50_ms']:7.1f} ms   p95 {r['p95_ms']:7.1f} ms   (n={r['n']}; goal p95 < 200 ms)")
    print(f"  page usable in headless Chromium  median {sorted(loads)[len(loads) // 2]:.2f} s   "
          f"worst {max(loads):.2f} s   (goal < 1.0 s)")


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"  (benchmark took {time.perf_counter() - started:.0f} s)")
