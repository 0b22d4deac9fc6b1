"""Celery tasks: one thin wrapper per job in jobs/table.py, named <domain>.<verb>."""
from __future__ import annotations

from config import get_settings
from infra.clock import parse_utc
from jobs.table import JOB_TABLE, JobSpec
from jobs.runner import JobBusy, run_job
from workers.catchup import send_stale
from workers.celery_app import CATCHUP_TASK, celery


def _make_task(spec: JobSpec):
    name = spec.name

    @celery.task(name=spec.task_name, bind=True, max_retries=5,
                 soft_time_limit=int(spec.time_limit_s * 0.9), time_limit=spec.time_limit_s)
    def task(self, at: str | None = None):
        try:
            return run_job(name, get_settings(), at=parse_utc(at))
        except JobBusy:
            return {"skipped": "already running elsewhere"}
        except Exception as exc:
            raise self.retry(exc=exc, countdown=min(300, 10 * 2 ** self.request.retries))
    return task


TASKS = {spec.name: _make_task(spec) for spec in JOB_TABLE}


@celery.task(name=CATCHUP_TASK, soft_time_limit=50, time_limit=60)
def catchup() -> list[str]:
    """Every CATCHUP_EVERY_S: send the scheduled jobs whose output is stale (a task lost with its worker)."""
    return send_stale(get_settings(), celery)
