"""The one door for starting work from a page or the API: check the role, record who asked, hand the job to
the workers (Celery in production, a thread of this process in embedded mode), and tell how it is going.

Pages never import a job module: they name a job of jobs/table.py. Progress and the outcome are read from
the job's job_runs row, which the runner keeps up to date whichever process runs the job.
"""
from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select

from auth import audit
from auth.permissions import require
from config import Settings
from infra.clock import utcnow
from jobs.runner import lock_free, mark_abandoned
from jobs.table import job
from models.base import get_engine
from models.ops import JobRun
from kombu.exceptions import OperationalError
from redis import Redis
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

log = logging.getLogger(__name__)


class WorkersUnreachable(RuntimeError):
    """The broker could not be reached: nothing was queued."""


@dataclass(frozen=True)
class RunState:
    status: str  # "queued" (no run yet), "running", "ok", "failed", "abandoned"
    progress: float
    step: str
    detail: dict
    finished: bool


def start(name: str, settings: Settings, user_email: str | None, role: str | None, action: str) -> datetime:
    """Start job `name` now on behalf of a user allowed to do `action`; returns when it was asked for (pass it
    to `state`). NotAllowed for the wrong role, WorkersUnreachable when no worker can be reached."""
    require(role, action)
    spec = job(name)
    asked = utcnow()
    if settings.embedded:
        from jobs.runner import JobBusy, run_job  # embedded mode only: production web processes never run jobs

        def run() -> None:
            try:
                run_job(name, settings)
            except JobBusy:
                log.info("job %s already running; the page follows that run", name)
            except Exception:  # recorded in job_runs by run_job
                log.warning("job %s started from a page failed", name)
        threading.Thread(target=run, name=f"door-{name}", daemon=True).start()
    else:
        _send(settings, spec.task_name)
    audit.record(get_engine(settings.db_url), action, user_email=user_email, entity=action.partition(".")[0],
                 entity_id=name, detail={"job": name, "role": role})
    return asked


def _send(settings: Settings, task_name: str) -> None:
    from workers.celery_app import celery_for  # builds a Celery app at import: only production needs it
    try:
        _ping(settings.redis_url)  # redis-py and kombu retry a refused connection for seconds: ask once first
        # no retries and no result subscription (the page follows job_runs): an unreachable Redis fails at once
        celery_for(settings).send_task(task_name, retry=False, ignore_result=True)
    except (OperationalError, OSError, RedisError) as exc:
        log.error("could not queue %s: broker unreachable (%s)", task_name, type(exc).__name__)
        raise WorkersUnreachable("Background workers are unreachable; try again in a minute.") from None


def _ping(url: str) -> None:
    """One PING to the broker with a 2-second limit and no retry; RedisError when it does not answer."""
    client = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2, retry=Retry(NoBackoff(), 0))
    try:
        client.ping()
    finally:
        client.close()


def state(settings: Settings, name: str, since: datetime) -> RunState:
    """How the newest run of `name` started at or after `since` is going (queued while none has started)."""
    engine = get_engine(settings.db_url)
    with engine.connect() as conn:
        # a run already going when the user asked (JobBusy) is the one the page follows
        row = conn.execute(select(JobRun.id, JobRun.status, JobRun.detail).where(
            JobRun.job == name, or_(JobRun.started_at >= since, JobRun.status == "running"))
            .order_by(JobRun.id.desc()).limit(1)).first()
    if row is not None and row.status == "running" and lock_free(engine, name):
        # nobody holds the job's lock: the worker running it died (kill -9); say so now instead of showing
        # frozen progress until the task is redelivered
        with engine.begin() as conn:
            mark_abandoned(conn, row.id, "found by the page following it")
        return state(settings, name, since)
    if row is None:
        return RunState("queued", 0.0, "waiting for a worker", {}, False)
    try:
        detail = json.loads(row.detail or "{}")
    except ValueError:
        detail = {}
    finished = row.status != "running"
    progress = 1.0 if finished else float(detail.get("progress", 0.0))
    return RunState(row.status, progress, str(detail.get("step", "")), detail, finished)
