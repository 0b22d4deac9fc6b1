"""Forecast, supply and recommend jobs on the demo store, and their pages and API: job times, callback and API
p50/p95, page usable time.

    .venv/bin/python benchmarks/forecast_jobs.py [--customers 50000] [--days 180] [--requests 30]

Goals (DESIGN.md): demand forecast for all subjects, 168 h ahead, retrain < 60 s; page usable < 1 s; any
callback or API call p95 < 200 ms. The hourly forecast re-predicts with the stored models (no fit). Prints
numbers; asserts nothing. Writes the forecast tables of the (shared, cached) demo store.
"""
from __future__ import annotations

import argparse
import json
import time

from common import browser, browser_login, callback_payload, logged_in_client, prepared_settings, serve, time_calls, time_until

DRAW = ".." + "...".join(["forecast-chart-box.children", "forecast-asof.children", "forecast-note.children",
                          "forecast-accuracy-box.children", "forecast-accuracy-summary.children",
                          "forecast-alerts.children", "forecast-regions.rowData", "forecast-empty.children"]) + ".."
FEED = ".." + "...".join(["recs-feed.children", "recs-count.children", "recs-acceptance-rate.children",
                          "recs-acceptance-detail.children", "recs-acceptance-box.children"]) + ".."
FORECAST_READY = "document.querySelector('#forecast-chart .main-svg') && document.querySelector('#forecast-heatmap .main-svg')"
RECS_READY = "document.querySelector('#recs-feed .recs-card, #recs-empty') && document.getElementById('recs-acceptance-rate')"


def timed(run_job, name, settings) -> tuple[float, dict]:
    started = time.perf_counter()
    summary = run_job(name, settings)
    return time.perf_counter() - started, summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--loads", type=int, default=5)
    args = parser.parse_args()
    settings = prepared_settings(args.customers, args.days)
    from read import forecast as fq
    from jobs.runner import run_job
    from models.base import get_engine
    engine = get_engine(settings.db_url)

    jobs = {}
    for name in ("train-forecast", "forecast", "supply", "recommend"):
        jobs[name] = timed(run_job, name, settings)
    refresh = [timed(run_job, "forecast", settings)[0] for _ in range(2)]
    subject = fq.supply_summary.uncached(engine).iloc[0]["subject"]

    client = logged_in_client(settings)

    def post(output, inputs):
        response = client.post("/_dash-update-component", data=json.dumps(callback_payload(output, inputs)),
                               content_type="application/json")
        assert response.status_code == 200, response.status_code

    def api(path):
        def call():
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
        return call

    n = args.requests
    results = {
        f"forecast page draw callback ({subject})": time_calls(lambda: post(DRAW, [
            {"id": "forecast-subject", "property": "value", "value": subject},
            {"id": "shell-data-version", "property": "data", "value": 1}]), n=n),
        "coverage heatmap callback": time_calls(lambda: post("forecast-heatmap-box.children", [
            {"id": "shell-data-version", "property": "data", "value": 1}]), n=n),
        "recommendation feed callback": time_calls(lambda: post(FEED, [
            {"id": "recs-filter", "property": "value", "value": "all"},
            {"id": "recs-changed", "property": "data", "value": 0},
            {"id": "shell-data-version", "property": "data", "value": 1}]), n=n),
        f"GET /forecast?subject={subject}": time_calls(api(f"/api/v1/forecast?subject={subject}"), n=n),
        "GET /recommendations?status=all": time_calls(api("/api/v1/recommendations?status=all"), n=n),
        "subject view uncached": time_calls(lambda: fq.subject_view.uncached(engine, subject), n=10),
    }
    base = serve(settings)
    driver = browser()
    try:
        browser_login(driver, base)
        forecast_loads = [time_until(driver, f"{base}/forecast?subject={subject}", FORECAST_READY) for _ in range(args.loads)]
        recs_loads = [time_until(driver, f"{base}/recommendations?status=all", RECS_READY) for _ in range(args.loads)]
        severe = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
    finally:
        driver.quit()

    train = jobs["train-forecast"][1]
    print(f"\nForecast benchmark: {args.customers:,} customers, {args.days} days, {settings.db_url.split(':')[0]} store")
    print(f"  train-forecast   {jobs['train-forecast'][0]:6.2f} s  ({train['subjects']} subjects fitted; {train['timings']}; "
          f"baseline of record: {train['baseline_of_record'] or 'none'})")
    print(f"  forecast (hourly, stored models)  first {jobs['forecast'][0]:.2f} s, then {', '.join(f'{t:.2f}' for t in refresh)} s"
          f"  ({jobs['forecast'][1]['timings']})")
    print(f"  supply           {jobs['supply'][0]:6.2f} s  ({jobs['supply'][1]['rows_written']:,} rows; "
          f"{len(jobs['supply'][1]['shortages'])} shortage windows; alerts {jobs['supply'][1]['alerts']})")
    print(f"  recommend        {jobs['recommend'][0]:6.2f} s  (created {len(jobs['recommend'][1]['created'])} of "
          f"{len(jobs['recommend'][1]['candidates'])} candidates)")
    for name, r in results.items():
        print(f"  {name:<42} p50 {r['p50_ms']:7.1f} ms   p95 {r['p95_ms']:7.1f} ms   (n={r['n']})")
    for name, loads in (("forecast", forecast_loads), ("recommendations", recs_loads)):
        print(f"  {name} page usable in headless Chromium  median {sorted(loads)[len(loads) // 2]:.2f} s   "
              f"worst {max(loads):.2f} s   (goal < 1.0 s)")
    print(f"  browser errors: {len(severe)}")


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"  (benchmark took {time.perf_counter() - started:.0f} s)")
