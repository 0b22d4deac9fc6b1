"""The Celery object for production mode: `celery -A workers.celery_app worker` / `beat`."""
from __future__ import annotations

from celery import Celery
from celery.signals import beat_init
from celery.signals import setup_logging as celery_setup_logging

from config import get_settings
from jobs.table import beat_schedule, visibility_timeout_s
from infra.logs import setup_logging
from workers.catchup import send_stale

CATCHUP_TASK = "jobs.catchup"


def make_celery(settings=None) -> Celery:
    settings = settings or get_settings()
    broker = settings.redis_url or "memory://"
    app = Celery("dashboard", broker=broker, backend=settings.redis_url or "cache+memory://",
                 include=["workers.tasks"])
    app.conf.update(
        task_acks_late=True,              # a worker killed mid-task leaves it to be redone
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_time_limit=1800,             # each job's task sets its own (jobs/table.py time_limit_s)
        task_soft_time_limit=1500,
        beat_schedule={**beat_schedule(),
                       "catchup": {"task": CATCHUP_TASK, "schedule": float(settings.catchup_every_s)}},
        timezone="UTC",
        broker_connection_retry_on_startup=True,
        # Redis has no acks: a delivered, unacknowledged task (its worker killed) goes back to the queue
        # after the visibility timeout, sized to the jobs (jobs/table.visibility_timeout_s, README); the
        # job's advisory lock makes a redelivery of a job still running elsewhere return at once
        broker_transport_options={"visibility_timeout": settings.celery_visibility_timeout_s or visibility_timeout_s(),
                                  "socket_connect_timeout": 5},
        worker_max_memory_per_child=settings.celery_max_memory_per_child_mb * 1024 or None,  # KiB
        result_expires=86400,
    )
    return app


@beat_init.connect
def _catch_up_at_start(sender=None, **_kwargs) -> None:
    """Beat starting (a deploy): every job whose output is missing or stale runs once now, in table order."""
    send_stale(get_settings(), getattr(sender, "app", None) or celery)


@celery_setup_logging.connect
def _logging(**_kwargs) -> None:
    """Worker and beat log like the app: LOG_FORMAT=json for one JSON object per line, secrets scrubbed."""
    setup_logging(get_settings())


celery = make_celery()
app = celery
_by_broker: dict[str, Celery] = {}


def celery_for(settings) -> Celery:
    """The Celery app for `settings`' Redis: this module's when it matches (it reads the environment at
    import), else one made for those settings (tests and scripts may name another Redis)."""
    if celery.conf.broker_url == settings.redis_url:
        return celery
    if settings.redis_url not in _by_broker:
        _by_broker[settings.redis_url] = make_celery(settings)
    return _by_broker[settings.redis_url]
