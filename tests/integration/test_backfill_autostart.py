"""History from the first minute by itself: the embedded scheduler (at boot) and the production catch-up (at
deploy) start the backfill once on a store with past data and no history, and never again once it ran, was
asked for, or the history exists."""
from __future__ import annotations

import json

import pandas as pd
from sqlalchemy import func, select

from jobs.backfill.days import ASKED
from models.base import get_engine
from models.ops import AuditLog, JobRun
from tests.conftest import REDIS_TEST_URL
from tests.support.dataset import contract_frames
from tests.support.store import load_frames
from workers import autostart
from workers.catchup import send_backfill
from workers.embedded import EmbeddedScheduler


def _small(settings):
    return settings.model_copy(update={"backfill_weeks": 1, "forecast_subjects": "math"})


def _runs(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(JobRun).where(JobRun.job == "backfill")).scalar()


def test_embedded_scheduler_backfills_once_at_boot(settings):
    settings = _small(settings)
    engine = get_engine(settings.db_url)
    assert autostart.state(settings) == "no data"  # an empty store: nothing to backfill yet, ask again later
    load_frames(settings, contract_frames(customers=200, days=30, seed=7))
    assert autostart.state(settings) == "needed"
    assert autostart.state(settings.model_copy(update={"backfill_auto": False})) == "off"

    first = EmbeddedScheduler(settings, schedule={}).start()  # no scheduled job: only the auto-start runs
    first.backfill.join(timeout=300)
    assert not first.backfill.is_alive() and _runs(engine) == 1
    with engine.connect() as conn:
        run = conn.execute(select(JobRun.status, JobRun.detail).where(JobRun.job == "backfill")).one()
        claims = conn.execute(select(AuditLog.user_email, AuditLog.detail).where(AuditLog.action == ASKED)).all()
    assert run.status == "ok" and json.loads(run.detail)["filled"]["health"] == 7
    assert len(claims) == 1 and claims[0].user_email is None  # the system asked, and it says so

    again = EmbeddedScheduler(settings, schedule={}).start()  # the next boot: the history exists
    again.backfill.join(timeout=60)
    assert _runs(engine) == 1 and autostart.state(settings) == "done"
    first.stop(), again.stop()


def test_catch_up_sends_the_backfill_once(settings):
    import redis

    from workers.celery_app import make_celery
    settings = _small(settings.model_copy(update={"redis_url": REDIS_TEST_URL}))
    load_frames(settings, contract_frames(customers=200, days=30, seed=7))
    client = redis.Redis.from_url(REDIS_TEST_URL)
    app = make_celery(settings)

    def sent() -> int:
        return sum(json.loads(m)["headers"]["task"] == "history.backfill" for m in client.lrange("celery", 0, -1))
    try:
        before = sent()
        assert send_backfill(settings, app) is True and sent() == before + 1
        # not run yet (no worker): the claim in the audit log keeps the next catch-up from sending it again
        assert send_backfill(settings, app) is False and sent() == before + 1
    finally:
        for m in client.lrange("celery", 0, -1):
            if json.loads(m)["headers"]["task"] == "history.backfill":
                client.lrem("celery", 1, m)
        app.close()


def test_a_store_with_history_is_not_backfilled_by_itself(settings):
    """A store whose jobs have run for weeks (health history before yesterday) needs no automatic backfill."""
    settings = _small(settings)
    load_frames(settings, contract_frames(customers=200, days=30, seed=7))
    engine = get_engine(settings.db_url)
    from jobs.runner import run_job
    from models.source import TutorSession
    with engine.connect() as conn:
        newest = pd.Timestamp(conn.execute(select(func.max(TutorSession.start_time))).scalar())
    run_job("score", settings, at=(newest - pd.Timedelta(days=5)).to_pydatetime())  # history of a past day
    assert autostart.state(settings, at=newest.to_pydatetime()) == "done" and _runs(engine) == 0
