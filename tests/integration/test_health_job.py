"""The health scoring job on a real store: scores and history written as the pure service computes them,
trigger tasks opened once per customer and trigger, kept by reruns, done when the condition clears
(and the trigger alerts of earlier versions resolved), churn_probability kept, configurable weights, and the synthetic marketplace's planted triggers."""
from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
import pytest
from sqlalchemy import func, select, update

from models.base import get_engine
from models.derived import Alert, CustomerTask, HealthScore, HealthScoreHistory
from models.ops import DataVersion
from domain.customers.health import score_health
from domain.customers.health_config import parse_health_config
from writes.alerts import sync_alerts
from domain.alerting.lifecycle import AlertSpec
from jobs.runner import run_job
from domain.customers.triggers import TRIGGERS, evaluate_triggers
from tests.factories import call, customer, frame, session, tutor
from tests.support.store import load_frames

AT = datetime(2026, 5, 20, 12, 0)
D = timedelta(days=1)
OLD = (AT - 120 * D).date()


def marketplace() -> dict[str, pd.DataFrame]:
    """c-calls: 2 calls in 14 days; c-low: first session rated 2; c-idle: regular until 25 days ago;
    c-good: weekly sessions with one tutor; c-goal: goal completed; c-new: signed up 10 days ago, 1 session;
    c-gone: churned (never scored); plus cancelled sessions that must not change anything."""
    customers = [customer("c-calls", signup_date=OLD), customer("c-low", signup_date=OLD),
                 customer("c-idle", signup_date=OLD), customer("c-good", signup_date=OLD),
                 customer("c-goal", signup_date=OLD, goal_status="completed", goal_completed_at=AT - 5 * D),
                 customer("c-new", signup_date=(AT - 10 * D).date()),
                 customer("c-gone", signup_date=OLD, status="churned", churned_at=AT - 30 * D)]
    sessions = [session("c-low", AT - 60 * D, rating=2, tutor_id="t9")]
    for cid in ("c-calls", "c-good", "c-goal"):
        sessions += [session(cid, AT - d * D, rating=5, tutor_id="t1") for d in range(2, 100, 4)]
    sessions += [session("c-idle", AT - d * D, rating=4, tutor_id="t2") for d in range(25, 100, 3)]
    sessions += [session("c-new", AT - 9 * D, rating=5, tutor_id="t3")]
    sessions += [session("c-good", AT - d * D, status="cancelled", tutor_id="t7") for d in (1, 3)]
    calls = [call("c-calls", AT - 2 * D, reason_code="billing"), call("c-calls", AT - 6 * D)]
    tutors = [tutor(t) for t in ("t1", "t2", "t3", "t7", "t9")]
    return {"customers": frame("customers", customers), "tutors": frame("tutors", tutors),
            "sessions": frame("sessions", sessions),
            "inbound_calls": frame("inbound_calls", calls)}


def stored(engine, model, *where) -> pd.DataFrame:
    with engine.connect() as conn:
        rows = conn.execute(select(model.__table__).where(*where)).all()
    return pd.DataFrame(rows, columns=[c.name for c in model.__table__.columns])


def open_tasks(engine) -> dict[tuple[str, str], object]:
    with engine.connect() as conn:
        rows = conn.execute(select(CustomerTask.__table__).where(CustomerTask.status == "open")).all()
    return {(t.trigger, t.customer_id): t for t in rows}


def count(engine, model, *where) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(model).where(*where)).scalar()


@pytest.fixture
def store(any_settings):
    load_frames(any_settings, marketplace())
    return any_settings


def test_job_writes_the_scores_the_service_computes_and_a_history_row(store):
    engine = get_engine(store.db_url)
    summary = run_job("score", store, at=AT)
    frames = marketplace()
    expected = score_health(frames["customers"], frames["sessions"], frames["inbound_calls"], AT)
    scores = stored(engine, HealthScore).set_index("customer_id").sort_index()
    expected = expected.set_index("customer_id").sort_index()
    assert list(scores.index) == list(expected.index) and "c-gone" not in scores.index
    assert summary["customers_scored"] == 6
    for col in ("score", "first_session_score", "velocity_score", "calls_score", "goal_score",
                "tutor_consistency_score", "velocity"):
        assert scores[col].tolist() == pytest.approx(expected[col].tolist())
    for col in ("tier", "triggers", "priority", "intervention", "primary_tutor_id", "explanation"):
        assert scores[col].tolist() == expected[col].tolist()
    assert scores.loc["c-good", "primary_tutor_id"] == "t1"  # cancelled sessions with t7 count for nothing
    history = stored(engine, HealthScoreHistory).set_index("customer_id")
    assert len(history) == 6 and set(pd.to_datetime(history["day"]).dt.date) == {AT.date()}
    assert history.loc["c-calls", "score"] == pytest.approx(scores.loc["c-calls", "score"])
    with engine.connect() as conn:
        assert conn.execute(select(DataVersion.version).where(DataVersion.topic == "health")).scalar() == 1
    fired = evaluate_triggers(frames["customers"], frames["sessions"], frames["inbound_calls"], AT)
    assert set(open_tasks(engine)) == set(zip(fired["trigger"], fired["customer_id"]))


def test_trigger_tasks_are_opened_once_kept_and_done_when_the_condition_clears(store):
    engine = get_engine(store.db_url)
    sync_alerts(engine, "trigger.calls_14d", [AlertSpec(  # what an earlier version raised
        rule="trigger.calls_14d", type="customer_risk", severity="critical", title="old", message="old",
        dedup_key="trigger.calls_14d:c-calls", entity_id="c-calls")], at=AT - D)
    first = run_job("score", store, at=AT)
    assert first["trigger_alerts_retired"] == 1 and count(engine, Alert, Alert.status == "active") == 0
    tasks = open_tasks(engine)
    calls = tasks[("calls_14d", "c-calls")]
    assert (calls.priority, calls.severity, calls.due_at) == (1, "critical", AT + D)
    assert "2 inbound calls in the last 14 days" in calls.why
    assert tasks[("inactive_21d", "c-idle")].priority == 2 and tasks[("inactive_14d", "c-idle")].priority == 3
    assert {("goal_completed", "c-goal"), ("day7_nudge", "c-new"), ("first_session_low_rating", "c-low")} <= set(tasks)
    assert ("calls_14d", "c-good") not in tasks
    opened = len(tasks)
    assert first["worklist"]["opened"] == opened

    again = run_job("score", store, at=AT + timedelta(minutes=15))  # a rerun: kept, not opened again
    assert again["worklist"]["opened"] == 0 and count(engine, CustomerTask) == opened
    assert count(engine, HealthScoreHistory) == 6  # same day: the row is replaced, not added

    later = run_job("score", store, at=AT + 13 * D)  # the calls are now older than 14 days
    assert later["worklist"]["done"] >= 1
    with engine.connect() as conn:
        status, reason = conn.execute(select(CustomerTask.status, CustomerTask.done_reason)
                                      .where(CustomerTask.customer_id == "c-calls",
                                             CustomerTask.trigger == "calls_14d")).one()
    assert (status, reason) == ("done", "cleared")
    assert count(engine, HealthScoreHistory) == 12  # one more day: one more row per customer


def test_churn_probability_written_by_the_churn_job_is_kept(store):
    engine = get_engine(store.db_url)
    run_job("score", store, at=AT)
    with engine.begin() as conn:
        conn.execute(update(HealthScore).where(HealthScore.customer_id == "c-idle").values(churn_probability=0.42))
    run_job("score", store, at=AT + timedelta(minutes=15))
    scores = stored(engine, HealthScore).set_index("customer_id")
    assert scores.loc["c-idle", "churn_probability"] == pytest.approx(0.42)
    assert scores.drop(index="c-idle")["churn_probability"].isna().all()


def test_weights_and_thresholds_come_from_settings(tmp_path):
    only_calls = '{"first_session": 0, "velocity": 0, "calls": 1, "goal": 0, "tutor_consistency": 0}'
    assert parse_health_config(only_calls).weights["calls"] == 1
    cfg = parse_health_config('{"tier_bounds": [30, 60, 90], "velocity_points": [[0, 0], [3, 100]]}')
    assert cfg.tier_bounds == (30, 60, 90) and cfg.velocity_target == 3
    for bad, message in (("{not json", "not valid JSON"), ('{"speed": 1}', "unknown key"),
                         ('{"weights": {"calls": 1}}', "exactly the components"), ('{"weights": 5}', "HEALTH_WEIGHTS"),
                         ('{"tier_bounds": [90, 10, 5]}', "tier_bounds")):
        with pytest.raises(ValueError, match=message):
            parse_health_config(bad)


def test_weights_change_what_the_job_stores(settings):
    load_frames(settings, marketplace())
    only_calls = '{"first_session": 0, "velocity": 0, "calls": 1, "goal": 0, "tutor_consistency": 0}'
    run_job("score", settings.model_copy(update={"health_weights": only_calls}), at=AT)
    scores = stored(get_engine(settings.db_url), HealthScore).set_index("customer_id")
    assert scores.loc["c-good", "score"] == 100 and scores.loc["c-calls", "score"] == pytest.approx(37.5)


@pytest.mark.slow
def test_planted_trigger_customers_of_the_synthetic_marketplace_fire(any_settings):
    from sources.simulation import generate
    mp = generate(customers=1000, days=60, seed=3)
    load_frames(any_settings, {r: mp.frames[r] for r in ("customers", "tutors", "sessions", "bookings",
                                                         "inbound_calls")})
    first = run_job("score", any_settings, at=mp.end)
    engine = get_engine(any_settings.db_url)
    scores = stored(engine, HealthScore).set_index("customer_id")
    tasks = open_tasks(engine)
    planted = [(i["trigger"], i["customer_id"]) for i in mp.incidents if i.get("kind") == "trigger"]
    assert {t for t, _ in planted} == set(TRIGGERS)
    for trigger, cid in planted:
        assert trigger in scores.loc[cid, "triggers"].split(","), (trigger, cid)
        assert (trigger, cid) in tasks, (trigger, cid)
    opened = first["worklist"]["opened"]
    assert opened == count(engine, CustomerTask) > 100  # the batched paths of the worklist
    again = run_job("score", any_settings, at=mp.end + timedelta(minutes=15))
    assert again["worklist"]["opened"] == 0 and count(engine, CustomerTask) == opened
