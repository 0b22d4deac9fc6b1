"""The backfill job on a real store: a store that holds a month of past data gets a daily history (health scores,
first-session computations, overview cards) for every past day, without touching the present (current scores,
alerts, the newest overview), and a second run has nothing left to do."""
from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import func, select

from domain.customers.health import score_prepared
from domain.customers.health_config import parse_health_config
from domain.customers.triggers import prepare, trigger_facts
from jobs.customers import health
from jobs.runner import run_job
from models.base import get_engine
from models.derived import Alert, HealthScore, HealthScoreHistory, OverviewSnapshot, TutorPerformance
from models.source import TutorSession
from read import status
from tests.support.dataset import contract_frames
from tests.support.store import load_frames


def _days(conn, column) -> set:
    return {pd.Timestamp(v).date() for v in conn.execute(select(column).distinct()).scalars()}


def test_backfill_fills_each_past_day_once_and_leaves_the_present_alone(settings):
    settings = settings.model_copy(update={"backfill_weeks": 2})  # the default is 12
    load_frames(settings, contract_frames(customers=300, days=30, seed=3))
    engine = get_engine(settings.db_url)
    with engine.connect() as conn:
        first, last = conn.execute(select(func.min(TutorSession.start_time), func.max(TutorSession.start_time))).one()
    at = pd.Timestamp(last).ceil("h").to_pydatetime()
    for job in ("score", "first-session", "overview"):
        run_job(job, settings, at=at)
    with engine.connect() as conn:
        scores_before = conn.execute(select(HealthScore.customer_id, HealthScore.score)
                                     .order_by(HealthScore.customer_id)).all()
        alerts_before = conn.execute(select(func.count()).select_from(Alert)).scalar()
    present = status.overview_snapshot(engine)

    summary = run_job("backfill", settings, at=at)
    today = pd.Timestamp(at).normalize()
    past_days = {d.date() for d in pd.date_range(max(pd.Timestamp(first).normalize(), today - pd.Timedelta(weeks=2)),
                                                  today - pd.Timedelta(days=1))}
    assert summary["days"] == len(past_days) and summary["filled"]["overview"] == len(past_days)
    with engine.connect() as conn:
        assert past_days <= _days(conn, HealthScoreHistory.day)
        assert past_days <= _days(conn, TutorPerformance.computed_at)
        assert past_days <= _days(conn, OverviewSnapshot.computed_at)
        assert conn.execute(select(HealthScore.customer_id, HealthScore.score)
                            .order_by(HealthScore.customer_id)).all() == scores_before
        assert conn.execute(select(func.count()).select_from(Alert)).scalar() == alerts_before
    # a backfilled day holds what the scoring job computes as of that day (the in-memory cut equals its reads)
    day = sorted(past_days)[len(past_days) // 2]
    as_of = pd.Timestamp(day) + pd.Timedelta(hours=23, minutes=59)
    with engine.connect() as conn:
        inputs = health.load_inputs(conn, as_of.to_pydatetime())
        stored = dict(conn.execute(select(HealthScoreHistory.customer_id, HealthScoreHistory.score)
                                   .where(HealthScoreHistory.day == day)).all())
    prep = prepare(inputs["customers"], inputs["sessions"], inputs["inbound_calls"], as_of, inputs["bookings"])
    expected = score_prepared(prep, trigger_facts(prep), parse_health_config(settings.health_weights))
    assert stored == pytest.approx(dict(zip(expected["customer_id"], expected["score"])))
    newest_card = status.overview_snapshot(engine)
    assert newest_card["computed_at"] == present["computed_at"]  # the page still shows the present

    again = run_job("backfill", settings, at=at)
    assert again["filled"] == {"health": 0, "first_session": 0, "overview": 0}
