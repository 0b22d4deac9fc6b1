"""Production catch-up: send every scheduled job whose output is missing or stale, once, in table order.

Runs when beat starts (a fresh deploy computes everything within minutes, as embedded mode does, instead of
waiting up to a week for the first weekly fit) and every CATCHUP_EVERY_S after (a long task lost with its
worker is sent again). A job is stale when no run of it started within its interval plus its time limit and
none is running: a job on schedule is never sent twice. The same check sends the backfill of derived
histories once, when the store holds past data but no history of it (workers/autostart.py): at a deploy on
a store with data, or at the first catch-up after a real source's first ingest.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import func, select

from config import Settings
from infra.clock import utcnow
from jobs.table import JOB_TABLE, JobSpec, job
from models.base import get_engine
from models.ops import JobRun
from workers import autostart

log = logging.getLogger(__name__)


def stale_jobs(settings: Settings, at: datetime | None = None) -> list[JobSpec]:
    """Scheduled jobs, in table order, with no run (other than abandoned) started within every_s + time_limit_s
    and none running (a job that failed was tried: its task retries by itself)."""
    at = at or utcnow()
    with get_engine(settings.db_url).connect() as conn:
        last = dict(conn.execute(select(JobRun.job, func.max(JobRun.started_at))
                                 .where(JobRun.status != "abandoned").group_by(JobRun.job)).all())
        running = set(conn.execute(select(JobRun.job).where(JobRun.status == "running")).scalars())
    return [spec for spec in JOB_TABLE if spec.scheduled and spec.name not in running
            and (last.get(spec.name) is None or last[spec.name] < at - timedelta(seconds=spec.every_s + spec.time_limit_s))]


def send_stale(settings: Settings, celery) -> list[str]:
    """Queue the stale jobs as one chain (ingest before what builds on it); their names, [] when none or when
    the broker or the database is unreachable (logged; beat's schedule goes on)."""
    try:
        stale = stale_jobs(settings)
        if stale:
            chain = celery.signature(stale[0].task_name, immutable=True)
            for spec in stale[1:]:
                chain |= celery.signature(spec.task_name, immutable=True)
            chain.apply_async(retry=False)
    except Exception as exc:  # noqa: BLE001 - beat must keep running; the next catch-up tries again
        log.error("catch-up could not send stale jobs (%s)", type(exc).__name__)
        return []
    names = [spec.name for spec in stale] + (["backfill"] if send_backfill(settings, celery) else [])
    if names:
        log.info("catch-up sent %d stale job(s): %s", len(names), ", ".join(names))
    return names


def send_backfill(settings: Settings, celery) -> bool:
    """Send the backfill's task on its own (not in the chain: the schedule's jobs do not wait for it) when the
    store needs it, then record the claim, so no later check sends it again; False when not needed or when the
    broker or the database is unreachable (logged; the next catch-up asks again)."""
    try:
        if autostart.state(settings) != "needed":
            return False
        celery.signature(job("backfill").task_name, immutable=True).apply_async(retry=False)
        autostart.record_claim(settings)
    except Exception as exc:  # noqa: BLE001 - beat must keep running; the next catch-up tries again
        log.error("catch-up could not send the history backfill (%s)", type(exc).__name__)
        return False
    log.info("catch-up sent the history backfill: the store holds past data without history")
    return True
