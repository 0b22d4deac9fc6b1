"""The forecast, supply and recommend jobs on the synthetic marketplace: the planted shortage raises its
recruiting alert at least 12 hours ahead and a recommendation with its ROI; forecasts are stored, refreshed
with the stored models and scored a week later; reruns make no duplicates; a few days of hourly runs stay
within the daily volume."""
from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
import pytest
from sqlalchemy import func, select

from models.derived import Alert, DemandForecast, ForecastAccuracy, ForecastModel, ForecastRun, Recommendation, SupplyDemand
from models.schema import upgrade
from read import forecast as fq
from jobs.runner import run_job
from tests.conftest import make_settings
from tests.support.store import load_frames
from infra.jsonable import jsonable
from loaders.forecasts import latest_run

END = datetime(2026, 5, 20, 12, 0)  # a Wednesday noon
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def market(tmp_path_factory):
    """2,000 customers, 100 days, seed 7 (its shortage: spanish, Thu 21 May 18:00-24:00, 30-36 h after the end).

    Models are trained 8 days before the end (train-forecast) and refreshed at the end (forecast: 10-day
    retrain age here, so the stored models are used); supply and recommend run at the end."""
    from sources.simulation import generate
    tmp = tmp_path_factory.mktemp("forecast_jobs")
    settings = make_settings(tmp, forecast_retrain_days=10)
    upgrade(settings.db_url)
    mp = generate(customers=2000, days=100, seed=7, end=END)
    load_frames(settings, mp.frames)
    early = END - timedelta(days=8)
    results = {"train": run_job("train-forecast", settings, at=early),
               "forecast": run_job("forecast", settings, at=END),
               "supply": run_job("supply", settings, at=END),
               "recommend": run_job("recommend", settings, at=END)}
    incident = next(i for i in mp.incidents if i["kind"] == "shortage")
    return settings, incident, results


def engine_of(settings):
    from models.base import get_engine
    return get_engine(settings.db_url)


def test_planted_shortage_raises_its_recruiting_alert_at_least_12_hours_ahead(market):
    settings, incident, _ = market
    with engine_of(settings).connect() as conn:
        alerts = conn.execute(select(Alert).where(Alert.rule == "supply.shortage", Alert.status == "active")).all()
    assert [a.entity_id for a in alerts] == [incident["subject"]]  # the planted subject, and no other
    alert = alerts[0]
    assert alert.type == "supply_demand" and alert.severity == "critical"  # coverage 0 % < 60 %
    details = pd.read_json(pd.io.common.StringIO(alert.details), typ="series")
    start, end = pd.Timestamp(details["start"]), pd.Timestamp(details["end"])
    assert alert.detected_at == END
    assert start - pd.Timestamp(alert.detected_at) >= pd.Timedelta(hours=12)
    # the alerted window lies in the planted one (its hours with demand)
    assert pd.Timestamp(incident["start"]) <= start < end <= pd.Timestamp(incident["end"])
    assert alert.dedup_key == f"supply.shortage:{incident['subject']}:{start:%Y-%m-%d}"
    assert alert.link == f"/forecast?subject={incident['subject']}"
    assert "open tutor hours" in alert.message and "sessions forecast" in alert.message


def test_a_recommendation_for_the_shortage_subject_with_its_roi(market):
    settings, incident, results = market
    with engine_of(settings).connect() as conn:
        recs = conn.execute(select(Recommendation).where(Recommendation.subject == incident["subject"],
                                                         Recommendation.rule == "recruit.raise_budget")).all()
    assert len(recs) == 1
    rec = recs[0]
    assert rec.status == "pending" and rec.priority == 1 and rec.roi is not None
    assert rec.expires_at == END + timedelta(hours=settings.recommendation_ttl_h)
    assert "recruiting budget 15%" in rec.action or "Resume" in rec.action
    details = jsonable(__import__("json").loads(rec.details))
    r = details["roi"]
    # ROI = (sessions served x revenue per session - extra spend) / extra spend, as stored
    assert rec.roi == pytest.approx((r["sessions"] * 45.0 - r["spend_week"]) / r["spend_week"], abs=1e-4)
    # over the 8-week horizon a hire serves at most the week's shortfall each week after onboarding
    assert r["sessions"] <= details["shortfall"] * (r["horizon_weeks"] - 1) + 1e-9 and details["shortfall"] >= 1
    assert r["horizon_weeks"] == 8 and r["payback_weeks"] is not None
    assert "sessions short" in rec.reason and "8-week ROI" in rec.expected_impact
    assert results["recommend"]["created"][0] == f"recruit.raise_budget:{incident['subject']}"


def test_forecasts_stored_refreshed_and_scored_a_week_later(market):
    settings, _, results = market
    engine = engine_of(settings)
    train, refresh = results["train"], results["forecast"]
    assert len(train["fitted"]) == 16 and refresh["fitted"] == [] and refresh["subjects"] == 16
    with engine.connect() as conn:
        runs = conn.execute(select(ForecastRun.id, ForecastRun.generated_at).order_by(ForecastRun.id)).all()
        models = conn.execute(select(ForecastModel.subject, ForecastModel.trained_at)).all()
        rows = conn.execute(select(func.count()).select_from(DemandForecast).where(DemandForecast.run_id == runs[1].id)).scalar()
        first_ts = conn.execute(select(func.min(DemandForecast.ts)).where(DemandForecast.run_id == runs[1].id)).scalar()
        scores = fq.read_frame(conn, select(ForecastAccuracy))
    assert [r.generated_at for r in runs] == [END - timedelta(days=8), END]
    assert len(models) == 16 and {m.trained_at for m in models} == {END - timedelta(days=8)}
    assert rows == 16 * 168 and first_ts == END
    # the first run's week has passed by END: scored once per subject, model and baseline side by side
    assert refresh["runs_scored"] == 16
    assert set(scores["run_id"]) == {runs[0].id} and len(scores) == 16
    assert scores["hours"].eq(168).all() and (scores["evaluated_at"] == END).all()
    assert scores["mape"].between(0, 2).all() and scores["baseline_mape"].between(0, 3).all()
    assert scores["coverage"].between(0, 1).all()
    view = fq.accuracy_history.uncached(engine, "spanish", days=3650)
    assert len(view) == 1 and view["runs"].iloc[0] == 1
    run = latest_run(engine)
    assert set(fq.run_subjects(run)) == set(m.subject for m in models)
    assert all(d["live"]["runs"] == 1 for d in run["detail"]["subjects"].values())  # judged on the scored run


def test_demand_counted_in_the_database_equals_hourly_demand(market):
    from domain.contract import SUBJECTS
    from domain.forecasting import hourly_demand
    from jobs.demand.forecast import hourly_counts
    from loaders.bookings import load_bookings
    settings, _, _ = market
    engine, start = engine_of(settings), END - timedelta(days=90)
    counted = hourly_counts(engine, start, END, list(SUBJECTS))
    expected = hourly_demand(load_bookings(engine, start, END), start, END, subjects=list(SUBJECTS))
    pd.testing.assert_frame_equal(counted, expected, check_dtype=False)


def test_supply_rows_by_subject_and_region(market):
    settings, incident, _ = market
    with engine_of(settings).connect() as conn:
        total = fq.read_frame(conn, select(SupplyDemand).where(SupplyDemand.region == "ALL"), parse_dates=["ts"])
        regions = conn.execute(select(func.count(func.distinct(SupplyDemand.region))).where(SupplyDemand.region != "ALL")).scalar()
    assert len(total) == 16 * 168 and total["ts"].min() == END
    assert regions > 3
    short = total[(total["subject"] == incident["subject"]) & (total["ts"] >= incident["start"])
                  & (total["ts"] < incident["end"]) & (total["coverage"] < 0.8)]
    assert len(short) >= 3 and short["available_hours"].eq(0).all()


def test_reruns_make_no_duplicates(market):
    settings, incident, _ = market
    engine = engine_of(settings)

    def counts():
        with engine.connect() as conn:
            alerts = conn.execute(select(Alert.rule, func.count()).group_by(Alert.rule)).all()
            recs = conn.execute(select(Recommendation.dedup_key, func.count()).where(Recommendation.status == "pending")
                                .group_by(Recommendation.dedup_key)).all()
        return dict(alerts), dict(recs)

    alerts_before, recs_before = counts()
    later = END + timedelta(hours=1)
    run_job("supply", settings, at=later)
    second = run_job("recommend", settings, at=later)
    alerts_after, recs_after = counts()
    assert alerts_after == alerts_before  # refreshed, not raised again
    assert recs_after == recs_before and second["created"] == []  # pending ones are not repeated
    assert set(recs_after.values()) == {1}


def test_hourly_runs_over_three_days_stay_within_the_daily_volume(tmp_path):
    """A fresh copy of the store after the first week of runs: recommend every 3 hours for 3 days."""
    from sources.simulation import generate
    settings = make_settings(tmp_path, forecast_retrain_days=10, forecast_subjects="spanish,algebra,math,sat_prep")
    upgrade(settings.db_url)
    mp = generate(customers=2000, days=100, seed=7, end=END)
    load_frames(settings, mp.frames)
    run_job("train-forecast", settings, at=END)
    created_per_day = []
    for day in range(3):
        created = 0
        for step in range(8):
            at = END + timedelta(days=day, hours=3 * step)
            run_job("supply", settings, at=at)
            created += len(run_job("recommend", settings, at=at)["created"])
        created_per_day.append(created)
    with engine_of(settings).connect() as conn:
        pending = conn.execute(select(Recommendation.dedup_key, func.count()).where(Recommendation.status == "pending")
                               .group_by(Recommendation.dedup_key)).all()
    assert max(created_per_day) <= settings.recommendation_daily_cap
    assert all(n == 1 for _, n in pending)
    assert sum(created_per_day) >= 3
