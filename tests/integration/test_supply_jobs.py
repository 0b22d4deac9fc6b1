"""Supply and recommend jobs on a hand-made store (SQLite and PostgreSQL), numbers computed by hand
(tests/support/forecast.py explains the marketplace); decisions on recommendations; and the forecast job on
a hand-made series where "same hour last week" cannot be beaten, so the baseline becomes the forecast of record."""
from __future__ import annotations

import json
from datetime import timedelta

import pandas as pd
import pytest
from sqlalchemy import func, select

from models.base import get_engine
from models.derived import Alert, ForecastAccuracy, Recommendation, SupplyDemand
from models.frames import read_frame
from models.ops import AuditLog
from read import forecast as fq
from writes import recommendations
from domain.forecasting import hourly_demand
from jobs.demand.forecast import hourly_counts
from loaders.bookings import load_bookings
from jobs.runner import run_job
from tests.factories import booking, customer, frame, tutor
from tests.support.forecast import AT, FAR, NEAR, source_frames, write_forecast
from tests.support.store import load_frames
from loaders.forecasts import latest_run, record_forecast


@pytest.fixture
def store(any_settings):
    load_frames(any_settings, source_frames())
    write_forecast(any_settings)
    return any_settings, get_engine(any_settings.db_url)


def alerts(engine, status="active") -> dict[str, list]:
    with engine.connect() as conn:
        rows = conn.execute(select(Alert.rule, Alert.dedup_key, Alert.severity).where(Alert.status == status)).all()
    out: dict[str, list] = {}
    for rule, key, severity in rows:
        out.setdefault(rule, []).append((key, severity))
    return {k: sorted(v) for k, v in out.items()}


def test_supply_coverage_and_the_three_alert_rules(store):
    settings, engine = store
    summary = run_job("supply", settings, at=AT)
    with engine.connect() as conn:
        rows = read_frame(conn, select(SupplyDemand).where(SupplyDemand.region == "ALL"), parse_dates=["ts"])
        regional = read_frame(conn, select(SupplyDemand).where(SupplyDemand.region != "ALL"))
    assert len(rows) == 2 * 168
    spanish = rows[rows["subject"] == "spanish"].set_index("ts")
    assert spanish.loc[NEAR[0], "available_hours"] == 2 and spanish.loc[NEAR[0], "forecast"] == 5
    assert spanish.loc[NEAR[0], "coverage"] == pytest.approx(0.4)  # 2 open tutor hours / 5 sessions
    assert spanish.loc[pd.Timestamp(AT) + timedelta(hours=2), "coverage"] == pytest.approx(2.0)  # 14:00: 2 / 1
    assert pd.isna(spanish.loc[pd.Timestamp(AT), "coverage"])  # noon: no demand, nothing to cover
    assert set(regional["region"]) == {"CA", "NY", "TX"}  # the tutors' regions
    assert alerts(engine) == {
        # the Thursday slot is 30 h ahead: recruiting alert (critical, 40 % < 60 %); Wednesday's is 4 h ahead: too late
        "supply.shortage": [("supply.shortage:spanish:2026-05-21", "critical")],
        "supply.capacity": [("supply.capacity:spanish:2026-05-20T16", "warning"),
                            ("supply.capacity:spanish:2026-05-21T18", "warning")],
        "supply.surplus": [("supply.surplus:math", "info")],  # 7 days x 8 h at 200 %; spanish is short, so not it
    }
    assert [s["missing"] for s in summary["shortages"]] == pytest.approx([6.0, 6.0])  # 2 h x 3 sessions each
    with engine.connect() as conn:
        alert = conn.execute(select(Alert).where(Alert.rule == "supply.shortage")).first()
    details = json.loads(alert.details)
    assert details["lead_h"] == pytest.approx(30) and details["start"] == FAR[0].isoformat()
    assert [h["coverage"] for h in details["hours"]] == pytest.approx([0.4, 0.4])

    # 20 h later the Thursday slot is 10 h ahead: its recruiting alert stays open; Wednesday's slot has passed
    run_job("supply", settings, at=AT + timedelta(hours=20))
    now = alerts(engine)
    assert now["supply.shortage"] == [("supply.shortage:spanish:2026-05-21", "critical")]
    assert now["supply.capacity"] == [("supply.capacity:spanish:2026-05-21T18", "warning")]
    # once it has passed, it resolves itself
    run_job("supply", settings, at=AT + timedelta(hours=40))
    assert "supply.shortage" not in alerts(engine)
    assert ("supply.shortage:spanish:2026-05-21", "critical") in alerts(engine, "resolved")["supply.shortage"]


def test_recommendations_by_hand_no_duplicates_decisions_and_cooldown(store):
    settings, engine = store
    first = run_job("recommend", settings, at=AT)
    assert first["created"] == ["recruit.raise_budget:spanish", "recruit.cut_spend:math"]
    df, total = fq.list_recommendations.uncached(engine, ("pending",))
    assert total == 2
    spanish, math = df.iloc[0], df.iloc[1]
    # spanish: 4 short hours, 20 sessions vs 8 open tutor hours, 12 short. +15 % of 50 $/day = 52.5 $/week
    # = 0.21 hires at 250 $; 56 hours a week each -> 11.76 sessions a week x 45 $ = 529.2 $, in weeks 2-8 of the
    # 8-week horizon with 97 % of new tutors still active each next week
    weeks = sum(0.97 ** w for w in range(1, 8))
    assert spanish["priority"] == 1 and spanish["roi"] == pytest.approx((529.2 * weeks - 52.5) / 52.5, abs=1e-3)
    assert "20.0 open sessions" in spanish["reason"] and "8.0 open tutor hours" in spanish["reason"]
    assert spanish["details"]["link"] == "/forecast?subject=spanish"
    # math: 200 % even in its tightest hour; -20 % of 40 $/day saves 56 $/week, nothing short: no ROI claimed,
    # the sessions the forgone hires would have served are stated as at risk
    assert math["rule"] == "recruit.cut_spend" and pd.isna(math["roi"]) and math["priority"] == 5
    assert math["details"]["roi"]["sessions_at_risk"] > 0 and "at risk" in math["expected_impact"]
    assert run_job("recommend", settings, at=AT + timedelta(hours=1))["created"] == []  # still pending: no repeat

    when = AT + timedelta(hours=1, minutes=30)
    recommendations.decide_recommendation(engine, int(spanish["id"]), "implement", "recruiter@example.com", at=when)
    recommendations.decide_recommendation(engine, int(math["id"]), "dismiss", "recruiter@example.com", "budget already cut", at=when)
    with pytest.raises(recommendations.DecisionConflict, match="already dismissed"):
        recommendations.decide_recommendation(engine, int(math["id"]), "implement", "other@example.com", at=when)
    with pytest.raises(LookupError):
        recommendations.decide_recommendation(engine, 999, "implement", "recruiter@example.com", at=when)
    with pytest.raises(ValueError):
        recommendations.decide_recommendation(engine, int(math["id"]), "archive", "recruiter@example.com", at=when)
    assert fq.acceptance.uncached(engine) == {"pending": 0, "implemented": 1, "dismissed": 1, "expired": 0,
                                              "decided": 2, "rate": 0.5}
    with engine.connect() as conn:
        audit = conn.execute(select(AuditLog.action, AuditLog.user_email, AuditLog.entity_id, AuditLog.detail)
                             .where(AuditLog.entity == "recommendation").order_by(AuditLog.id)).all()
        decided = conn.execute(select(Recommendation.decision_reason).where(Recommendation.id == int(math["id"]))).scalar()
    assert [(a.action, a.user_email, a.entity_id) for a in audit] == [
        ("recommendation.implement", "recruiter@example.com", str(spanish["id"])),
        ("recommendation.dismiss", "recruiter@example.com", str(math["id"]))]
    assert json.loads(audit[1].detail)["reason"] == "budget already cut" and decided == "budget already cut"
    # decided ones are not suggested again within the TTL; afterwards they may be
    assert run_job("recommend", settings, at=AT + timedelta(hours=2))["created"] == []
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Recommendation)).scalar() == 2


def test_pending_recommendations_expire(store):
    settings, engine = store
    run_job("recommend", settings, at=AT)
    df, _ = fq.list_recommendations.uncached(engine, ("pending",))
    with pytest.raises(recommendations.DecisionConflict, match="expired"):  # deciding too late expires it on the spot
        recommendations.decide_recommendation(engine, int(df["id"].iloc[0]), "implement", "r@example.com",
                                 at=AT + timedelta(hours=settings.recommendation_ttl_h))
    later = run_job("recommend", settings, at=AT + timedelta(hours=settings.recommendation_ttl_h))
    assert later["expired"] == 1
    with engine.connect() as conn:
        statuses = conn.execute(select(Recommendation.status, func.count()).group_by(Recommendation.status)).all()
    assert dict(statuses)["expired"] == 2


def test_baseline_becomes_the_forecast_of_record_when_the_model_cannot_beat_it(any_settings):
    """Three weeks of an exactly weekly pattern: "same hour last week" is perfect (MAPE 0), so no model beats it."""
    start = AT - timedelta(days=29)
    bookings = []
    for day in range(29):
        for hour in (15, 16, 17, 18, 19, 20):
            when = start + timedelta(days=day, hours=hour - start.hour)
            n = 1 + (when.weekday() < 5) + (hour in (17, 18)) * (when.weekday() % 3)
            bookings += [booking("c1", scheduled_time=when, tutor_id="t1", subject="algebra", status="completed",
                                 created_at=when - timedelta(days=2), updated_at=when + timedelta(hours=1))
                         for _ in range(n)]
    load_frames(any_settings, {"customers": frame("customers", [customer("c1")]),
                               "tutors": frame("tutors", [tutor("t1", subjects="algebra")]),
                               "bookings": frame("bookings", bookings)})
    settings = any_settings.model_copy(update={"forecast_subjects": "algebra", "forecast_train_days": 21,
                                               "forecast_retrain_days": 30})
    engine = get_engine(settings.db_url)
    # the job counts demand in the database; the same as the service's hourly_demand on the rows
    counted = hourly_counts(engine, start, AT, ["algebra", "spanish"])
    expected = hourly_demand(load_bookings(engine, start, AT), start, AT, subjects=["algebra", "spanish"])
    pd.testing.assert_frame_equal(counted, expected, check_dtype=False)
    assert counted["y"].sum() > 300
    t0 = AT - timedelta(days=8)
    trained = run_job("train-forecast", settings, at=t0)
    assert trained["fitted"] == ["algebra"] and trained["skipped"] == {}
    later = run_job("forecast", settings, at=AT)
    assert later["fitted"] == [] and later["runs_scored"] == 1
    with engine.connect() as conn:
        score = conn.execute(select(ForecastAccuracy)).one()
    assert score.baseline_mape == pytest.approx(0.0) and score.hours == 168
    assert later["baseline_of_record"] == ["algebra"]
    run = latest_run(engine)
    info = run["detail"]["subjects"]["algebra"]
    assert info["of_record"] == "baseline" and "not better than same-hour-last-week" in info["why"]
    fc = record_forecast(engine, run, "algebra")
    assert (fc["source"] == "baseline").all() and fc["forecast"].tolist() == fc["baseline"].tolist()


def test_old_forecast_rows_are_thinned_to_one_run_a_day(settings):
    """Rows of every run for 8 days; older, the day's first run only; none past forecast_keep_days."""
    from models.derived import DemandForecast, ForecastRun
    from jobs.demand.forecast import thin
    at = {name: AT - delta for name, delta in {
        "recent": timedelta(days=3), "first_of_day": timedelta(days=20, hours=6),
        "later_same_day": timedelta(days=20), "ancient": timedelta(days=100)}.items()}
    ids = {name: write_forecast(settings, at=when, subjects=("math",)) for name, when in at.items()}
    engine = get_engine(settings.db_url)
    with engine.begin() as conn:
        deleted = thin(conn, AT, keep_days=90)
    with engine.connect() as conn:
        kept = set(conn.execute(select(DemandForecast.run_id).distinct()).scalars())
        runs = conn.execute(select(func.count()).select_from(ForecastRun)).scalar()
    assert kept == {ids["recent"], ids["first_of_day"]} and deleted == 2 * 168
    assert runs == 4  # runs (and their scores) stay: the accuracy history keeps them
