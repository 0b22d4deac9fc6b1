"""The backfill job on a real store: a store that holds past data gets a daily history (health scores, first-session
computations, overview cards, churn risk, forecast accuracy) for every past day, without touching the present
(current scores, alerts, the newest overview, the active churn model, the latest forecast), computed from what
each day knew, and a second run has nothing left to do."""
from __future__ import annotations

import json

import pandas as pd
import pytest
from sqlalchemy import delete, func, select

from domain.churn import History
from domain.churn.features import FEATURE_NAMES, features_at
from domain.customers.health import score_prepared
from domain.customers.health_config import parse_health_config
from domain.customers.triggers import prepare, trigger_facts
from jobs.customers import churn as churn_job, health
from jobs.customers.churn import active_record
from loaders.forecasts import BACKFILL_MODEL, latest_run
from jobs.runner import run_job
from models.base import get_engine
from models.derived import (Alert, ChurnModelRecord, ChurnPredictionHistory, ForecastAccuracy, ForecastRun,
                            HealthScore, HealthScoreHistory, OverviewSnapshot, TutorPerformance)
from models.source import TutorSession
from read import forecast as forecast_read, status
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
    assert again["filled"] == {"health": 0, "first_session": 0, "overview": 0, "churn": 0, "forecast_accuracy": 0}
    assert again["churn"]["skipped"].startswith("no churn history")  # a month is too short for the recipe


def _store_with_history(settings, days: int = 100):
    """A store holding `days` days of past data (enough for the churn recipe); the present hour after it."""
    load_frames(settings, contract_frames(customers=600, days=days, seed=5))
    engine = get_engine(settings.db_url)
    with engine.connect() as conn:
        last = conn.execute(select(func.max(TutorSession.start_time))).scalar()
    return engine, pd.Timestamp(last).ceil("h").to_pydatetime()


def test_churn_and_forecast_accuracy_histories_use_only_what_each_day_knew(settings):
    settings = settings.model_copy(update={"backfill_weeks": 3, "forecast_subjects": "math,english"})
    engine, at = _store_with_history(settings)
    summary = run_job("backfill", settings, at=at)
    today = pd.Timestamp(at).normalize()
    past_days = {d.date() for d in pd.date_range(today - pd.Timedelta(weeks=3), today - pd.Timedelta(days=1))}
    assert summary["filled"]["churn"] == len(past_days) and summary["churn"]["skipped"] is None
    assert len(summary["churn"]["models"]) == 1  # 21 days: one 4-week block, one model

    with engine.connect() as conn:
        models = {r.version: r for r in conn.execute(select(ChurnModelRecord.version, ChurnModelRecord.trained_at,
                                                            ChurnModelRecord.active, ChurnModelRecord.metrics,
                                                            ChurnModelRecord.model_blob))}
        history = pd.DataFrame(conn.execute(select(ChurnPredictionHistory.customer_id, ChurnPredictionHistory.day,
                                                   ChurnPredictionHistory.probability,
                                                   ChurnPredictionHistory.model_version)).all(),
                               columns=["customer_id", "day", "probability", "model_version"])
    assert {pd.Timestamp(d).date() for d in history["day"]} == past_days
    for version, rows in history.groupby("model_version"):
        model = models[version]  # the version exists: an inactive model marked as the backfill's
        assert not model.active and json.loads(model.metrics)["backfill"] is True
        # no row for a day before its model was trained: the model knew nothing after the day it scored
        assert min(pd.Timestamp(d) for d in rows["day"]) + pd.Timedelta(hours=23, minutes=59) >= model.trained_at
    assert active_record(engine) is None  # the backfill never makes its model the active one

    # a backfilled day holds what the churn job scores as of that day with that model on the store read as of
    # then (the full frames, as train-churn scores; the daily job's recent_only read differs for a customer or two)
    day = sorted(past_days)[len(past_days) // 2]
    as_of = (pd.Timestamp(day) + pd.Timedelta(hours=23, minutes=59)).to_pydatetime()
    stored = history[pd.to_datetime(history["day"]).dt.date == day]
    frames = churn_job.load_frames(engine, as_of)
    X = features_at(History(frames), pd.Timestamp(as_of).value)
    p = churn_job.load_model(models[int(stored["model_version"].iloc[0])].model_blob).predict_proba(X[FEATURE_NAMES])[:, 1]
    assert dict(zip(stored["customer_id"], stored["probability"])) == pytest.approx(dict(zip(X["customer_id"], p)))

    # forecast accuracy: one run per past day whose 168 hours have passed, each scored on the week after it
    with engine.connect() as conn:
        runs = pd.DataFrame(conn.execute(select(ForecastRun.id, ForecastRun.generated_at, ForecastRun.train_end,
                                                ForecastRun.model, ForecastRun.detail)).all(),
                            columns=["id", "generated_at", "train_end", "model", "detail"])
        acc = pd.DataFrame(conn.execute(select(ForecastAccuracy.run_id, ForecastAccuracy.subject,
                                               ForecastAccuracy.evaluated_at, ForecastAccuracy.mape)).all(),
                           columns=["run_id", "subject", "evaluated_at", "mape"])
    scorable = {d for d in past_days if pd.Timestamp(d) + pd.Timedelta(hours=23 + 168) <= pd.Timestamp(at)}
    assert len(scorable) == len(past_days) - 7 and summary["filled"]["forecast_accuracy"] == len(scorable)
    assert {pd.Timestamp(t).date() for t in runs["generated_at"]} == scorable
    assert (runs["model"] == BACKFILL_MODEL).all()
    for r in runs.itertuples():
        detail = json.loads(r.detail)
        # trained and fed only on hours before the forecast's time
        assert pd.Timestamp(detail["trained_at"]) <= pd.Timestamp(r.generated_at) == pd.Timestamp(r.train_end)
        scored = acc[acc["run_id"] == r.id]
        assert set(scored["subject"]) == {"math", "english"}
        assert (pd.to_datetime(scored["evaluated_at"]) == pd.Timestamp(r.generated_at) + pd.Timedelta(hours=168)).all()
    assert len(forecast_read.accuracy_history(engine)) == 2 * len(scorable)  # the forecast page's history
    assert latest_run(engine) is None  # a backfilled run is never the forecast pages and jobs read

    # only missing days are filled: drop two days of each, run again, exactly those come back
    gone_churn, gone_run = sorted(past_days)[3], runs.sort_values("generated_at").iloc[2]
    before = dict(history.loc[pd.to_datetime(history["day"]).dt.date == gone_churn, ["customer_id", "probability"]]
                  .itertuples(index=False))
    with engine.begin() as conn:
        conn.execute(delete(ChurnPredictionHistory).where(ChurnPredictionHistory.day == gone_churn))
        conn.execute(delete(ForecastAccuracy).where(ForecastAccuracy.run_id == int(gone_run.id)))
        conn.execute(delete(ForecastRun).where(ForecastRun.id == int(gone_run.id)))
    again = run_job("backfill", settings, at=at)
    assert again["filled"] == {"health": 0, "first_session": 0, "overview": 0, "churn": 1, "forecast_accuracy": 1}
    with engine.connect() as conn:
        refilled = dict(conn.execute(select(ChurnPredictionHistory.customer_id, ChurnPredictionHistory.probability)
                                     .where(ChurnPredictionHistory.day == gone_churn)).all())
    assert refilled == pytest.approx(before)  # scored again by the model its neighbours have (no new training)
    assert again["churn"]["models"][0]["reused"] is True
    third = run_job("backfill", settings, at=at)
    assert sum(third["filled"].values()) == 0
