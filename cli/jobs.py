"""run-jobs."""
from __future__ import annotations

import click

from cli.common import at_option, emit, json_option, parse_at, settings


@click.command("run-jobs")
@click.argument("names", nargs=-1)
@at_option
@json_option
def run_jobs(names, at, as_json) -> None:
    """Run scheduled jobs now (all, in schedule order, when no NAME is given)."""
    from jobs.table import JOBS, scheduled_jobs
    from jobs.runner import run_job
    unknown = [n for n in names if n not in JOBS]
    if unknown:
        raise click.BadParameter(f"unknown job(s) {', '.join(unknown)}; known: {', '.join(JOBS)}")
    when = parse_at(at)
    s = settings()
    results = {}
    for name in names or list(scheduled_jobs()):
        if when is not None and name == "ingest":
            continue  # polling sources "as of the past" means nothing
        results[name] = run_job(name, s, at=when)
    emit(results, as_json)
