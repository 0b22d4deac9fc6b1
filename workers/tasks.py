"""Celery tasks: one thin wrapper per job in jobs/table.py, named <domain>.<verb>."""
from __future__ import annotations

from cli.common import parse_at
from config import get_settings
from jobs.table import JOB_TABLE, JobSpec
from jobs.runner import JobBusy, run_job
from workers.celery_app import celery


def _make_task(spec: JobSpec):
    name = spec.name

    @celery.task(name=spec.task_name, bind=True, max_retries=5,
                 soft_time_limit=int(spec.time_limit_s * 0.9), time_limit=spec.time_limit_s)
    def task(self, at: str | None = None):
        try:
            return run_job(name, get_settings(), at=parse_at(at))
        except JobBusy:
            return {"skipped": "already running elsewhere"}
        except Exception as exc:
            raise self.retry(exc=exc, countdown=min(300, 10 * 2 ** self.request.retries))
    return task


TASKS = {spec.name: _make_task(spec) for spec in JOB_TABLE}


def register_background_callbacks() -> None:
    """The pages' background callbacks ("Retrain now") run on workers as tasks named
    background_callback_<hash>. A worker knows them only by importing the callback modules and putting
    a CeleryManager on this Celery app, as the web process does in app.background_manager."""
    import importlib

    from dash import CeleryManager

    from app import CALLBACK_MODULES
    for module in CALLBACK_MODULES:
        importlib.import_module(f"callbacks.{module}")
    CeleryManager(celery)


register_background_callbacks()
