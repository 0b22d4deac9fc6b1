"""Backfill of derived histories (jobs/backfill.py) on the demo store: seconds per past day and in all.

    .venv/bin/python benchmarks/backfill.py [--customers 50000] [--weeks 12] [--store PATH]

Goal (issue 16): 12 weeks of history at 50,000 customers in < 10 minutes, in the background. Runs the job
on a copy of the store (the histories it writes would make a second run a no-op), so `--weeks 2` gives a
quick per-day figure and the 12-week projection. Prints numbers; asserts nothing.
"""
from __future__ import annotations

import argparse
import cProfile
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from common import prepared_settings


def project(summary: dict, days: int, weeks: int = 12) -> float:
    """Seconds for `weeks` weeks from a shorter run's parts: the daily histories and churn scoring per day, churn
    training per BLOCK_DAYS block, forecasts per scorable day (the last 7 days have no scorable forecast)."""
    from jobs.backfill.churn import BLOCK_DAYS
    n = weeks * 7
    sec, ch, fc = summary["seconds"], summary["churn"], summary["forecast"]
    models = max(len(ch["models"]), 1)
    scoring = (sec["churn"] - ch["train_s"]) / max(summary["filled"]["churn"], 1)
    return (sec["daily"] / days * n + ch["train_s"] / models * -(-n // BLOCK_DAYS) + scoring * n
            + sec["forecast"] / max(fc["runs"], 1) * (n - 7))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--weeks", type=int, default=12)
    parser.add_argument("--store", help="an existing SQLite store to copy instead of the prepared demo store")
    parser.add_argument("--profile", help="write a cProfile of the run to this file (read it with pstats)")
    args = parser.parse_args()
    source = Path(args.store) if args.store else Path(prepared_settings(args.customers, args.days).db_url[len("sqlite:///"):])
    work = Path(tempfile.mkdtemp(prefix="bench-backfill-"))
    copy = work / "bench.db"
    subprocess.run(["sqlite3", str(source), f".backup {copy}"], check=True)  # consistent copy of a live store
    from config import Settings
    from infra import progress
    from jobs import backfill
    from jobs.context import JobContext
    settings = Settings(var_dir=work, database_url=f"sqlite:///{copy}", secret_key="bench", embedded_scheduler=False)
    settings = settings.model_copy(update={"backfill_weeks": args.weeks})
    stamps = []
    started = time.perf_counter()
    profiler = cProfile.Profile() if args.profile else None
    with progress.reporting_to(lambda f, step: stamps.append(time.perf_counter())):
        if profiler:
            profiler.enable()
        summary = backfill.run(JobContext(settings=settings, live=False))
        if profiler:
            profiler.disable()
            profiler.dump_stats(args.profile)
    total = time.perf_counter() - started
    days = max(summary["days"], 1)
    per_day = total / days
    print(f"backfill {summary['days']} days ({summary['from']} .. {summary['to']}) at {args.customers:,} customers: "
          f"{total:.1f} s, {per_day:.2f} s/day, filled {summary['filled']}")
    print(f"projected 12 weeks (84 days), every part per day: {per_day * 84 / 60:.1f} min (goal < 10 min)")
    print(f"parts: {summary['seconds']} s; churn training {summary['churn']['train_s']} s for "
          f"{len(summary['churn']['models'])} model(s); forecast {summary['forecast']['runs']} runs, "
          f"{summary['forecast']['fits']} weekly fits")
    print(f"projected 12 weeks by part (a churn model per block, forecasts for the 77 days whose week has passed): "
          f"{project(summary, days) / 60:.1f} min")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
