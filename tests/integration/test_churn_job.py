"""The churn jobs, API and evaluate-churn on a small synthetic marketplace in a real (SQLite) store:
train + predict write their tables (with lifetime value and revenue at risk), health_scores get the
probability, every shown factor is a model input, GET /churn pages, sorts by revenue at risk and validates,
evaluate-churn prints the baselines and --json writes the predictions CSV."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from auth import accounts
from models.base import get_engine
from models.derived import ChurnModelRecord, ChurnPrediction, ChurnPredictionHistory, ContactLog, HealthScore
from models.source import Customer, TutorSession
from domain.churn.value import expected_days
from models.schema import upgrade
from domain.churn.features import FEATURE_NAMES
from bootstrap.demo import load_demo
from jobs.runner import run_job
from tests.conftest import make_settings

CUSTOMERS, DAYS, SEED = 1500, 180, 11


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A synthetic store, health-scored, with one trained churn model (which also scored everyone)."""
    settings = make_settings(tmp_path_factory.mktemp("churn"))
    upgrade(settings.db_url)
    load_demo(settings, customers=CUSTOMERS, days=DAYS, seed=SEED)
    run_job("score", settings)
    summary = run_job("train-churn", settings)
    return settings, summary


def summary_end(summary: dict):
    return pd.Timestamp(summary["train_end"]).to_pydatetime()


def count(engine, model, *where) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(model).where(*where)).scalar()


def test_train_stores_an_active_model_with_its_window_and_holdout_metrics(store):
    settings, summary = store
    engine = get_engine(settings.db_url)
    with engine.connect() as conn:
        row = conn.execute(select(ChurnModelRecord).where(ChurnModelRecord.active.is_(True))).one()
    metrics = json.loads(row.metrics)
    assert row.kind in ("logistic", "gbm") and row.kind == metrics["kind"] == summary["kind"]
    assert row.train_start < row.train_end and len(row.model_blob) > 100
    hold = metrics["holdout"]
    assert metrics["evaluated_on"] == "holdout" and not metrics["short_history"]
    assert 0.5 < hold["auc"] < 1 and hold["recall"] > 0.5 and 0 < hold["precision"] < 1
    assert {"brier", "ece", "calibration"} <= set(hold) and len(hold["calibration"]) == 10
    # 1,500 customers: fewer churners than boosting needs, so the simpler model (and the card says which)
    assert set(metrics["candidates"]) == {"logistic"} and row.kind == "logistic"
    assert metrics["validation"]["recall"] >= 0.8  # the threshold is chosen for it on validation
    split = metrics["split"]  # every week closed by the holdout, the latest included; validation = the latest
    assert pd.Timestamp(split["train"][-1]) + timedelta(days=30) <= pd.Timestamp(split["holdout"][0])
    assert split["validation"] == split["train"][-len(split["validation"]):] and len(split["train"]) >= 8
    assert set(metrics["baselines"]) == {"days_since_last_session", "logistic_5"}
    assert row.train_end == summary_end(summary)  # the scoring model used every week closed at T
    assert {f["feature"] for f in metrics["top_features"]} <= set(FEATURE_NAMES)


def test_predictions_history_and_health_scores_are_written(store):
    settings, summary = store
    engine = get_engine(settings.db_url)
    scored = count(engine, ChurnPrediction)
    assert scored == summary["scored"] > 1000
    assert count(engine, ChurnPredictionHistory) == scored
    assert count(engine, HealthScore, HealthScore.churn_probability.is_(None)) == 0
    with engine.connect() as conn:
        rows = conn.execute(select(ChurnPrediction.probability, HealthScore.churn_probability)
                            .join(HealthScore, HealthScore.customer_id == ChurnPrediction.customer_id)).all()
    assert rows and all(a == pytest.approx(b) for a, b in rows)


def test_lifetime_value_and_revenue_at_risk_are_stored_for_everyone_scored(store):
    settings, _ = store
    engine = get_engine(settings.db_url)
    with engine.connect() as conn:
        df = pd.DataFrame(conn.execute(select(ChurnPrediction.probability, ChurnPrediction.clv,
                                              ChurnPrediction.revenue_at_risk, ChurnPrediction.sessions_per_month)).all())
    assert df.notna().all().all() and (df["clv"] >= 0).all()
    assert df["revenue_at_risk"].to_numpy() == pytest.approx((df["probability"] * df["clv"]).to_numpy())
    assert (df["sessions_per_month"] > 0).sum() > 100
    # by hand for the customers with the most at risk: the mean price they paid for completed sessions in the
    # 90 days before scoring (the source's price; revenue_per_session where it gives none) x sessions x days
    with engine.connect() as conn:
        top = conn.execute(select(ChurnPrediction).order_by(ChurnPrediction.revenue_at_risk.desc()).limit(5)).all()
        for r in top:
            since = r.predicted_at - timedelta(days=90)
            prices = [x for (x,) in conn.execute(select(TutorSession.price).where(
                TutorSession.customer_id == r.customer_id, TutorSession.status == "completed",
                TutorSession.start_time > since, TutorSession.start_time <= r.predicted_at))]
            known = [x for x in prices if x is not None]
            price = sum(known) / len(known) if known else settings.revenue_per_session
            days = expected_days(np.array([r.probability]))[0]
            assert r.clv == pytest.approx(r.sessions_per_month / 30 * price * days, rel=1e-6)
            signup = conn.execute(select(Customer.signup_date).where(Customer.customer_id == r.customer_id)).scalar()
            tenure = (r.predicted_at - pd.Timestamp(signup).normalize()) / timedelta(days=1)
            assert r.sessions_per_month == pytest.approx(len(prices) / min(max(tenure, 14), 90) * 30)


def test_every_flagged_customer_has_factors_that_are_model_inputs(store):
    settings, _ = store
    engine = get_engine(settings.db_url)
    with engine.connect() as conn:
        rows = conn.execute(select(ChurnPrediction.predicted, ChurnPrediction.factors,
                                   ChurnPrediction.intervention)).all()
    assert any(r.predicted for r in rows)
    for r in rows:
        items = json.loads(r.factors)
        factors = [i for i in items if i["kind"] == "factor"]
        assert len(factors) == 5 and r.intervention
        assert {i["feature"] for i in items} <= set(FEATURE_NAMES)
        assert all(i["label"] and i["text"] for i in items)


def test_predict_respects_at_and_keeps_one_history_row_per_day(store):
    settings, _ = store
    engine = get_engine(settings.db_url)
    before = count(engine, ChurnPredictionHistory)
    past = pd.Timestamp.now().floor("D").to_pydatetime() - timedelta(days=3)
    result = run_job("churn", settings, at=past)
    with engine.connect() as conn:
        when = conn.execute(select(func.max(ChurnPrediction.predicted_at))).scalar()
    assert pd.Timestamp(when) == pd.Timestamp(past)
    assert count(engine, ChurnPredictionHistory) == before + result["scored"]
    run_job("churn", settings, at=past + timedelta(hours=5))  # same day: overwritten, not added
    assert count(engine, ChurnPredictionHistory) == before + result["scored"]
    run_job("churn", settings)  # back to now for the other tests


def test_api_churn_pages_filters_and_validates(store):
    from app import create_app
    settings, _ = store
    engine = get_engine(settings.db_url)
    if "api@example.com" not in {u["email"] for u in accounts.list_users(engine)}:
        accounts.create_user(engine, "api@example.com", "cs", "long-enough-pw")
    token = accounts.create_token(engine, "api@example.com")
    client = create_app(settings).server.test_client()
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/churn").status_code == 401
    body = client.get("/api/v1/churn?limit=5", headers=auth).get_json()
    assert body["model"]["kind"] in ("logistic", "gbm") and body["model"]["holdout"]["auc"] > 0.5
    probs = [r["probability"] for r in body["customers"]]
    assert len(probs) == 5 and probs == sorted(probs, reverse=True)
    assert all({f["feature"] for f in r["factors"]} <= set(FEATURE_NAMES) for r in body["customers"])
    second = client.get("/api/v1/churn?limit=5&offset=5", headers=auth).get_json()["customers"]
    assert second[0]["probability"] <= probs[-1] and second[0]["customer_id"] not in {r["customer_id"] for r in body["customers"]}
    high = client.get("/api/v1/churn?min_probability=0.2&limit=1000", headers=auth).get_json()
    assert high["total"] == len(high["customers"]) and all(r["probability"] >= 0.2 for r in high["customers"])
    for bad in ("1.5", "-0.1", "abc", "nan"):
        resp = client.get(f"/api/v1/churn?min_probability={bad}", headers=auth)
        assert resp.status_code == 400 and "min_probability" in resp.get_json()["error"]
    assert client.get("/api/v1/churn?limit=0", headers=auth).status_code == 400
    by_value = client.get("/api/v1/churn?sort=revenue_at_risk&limit=20", headers=auth).get_json()
    money = [r["revenue_at_risk"] for r in by_value["customers"]]
    assert by_value["sort"] == "revenue_at_risk" and money == sorted(money, reverse=True) and money[0] > 0
    assert all(r["revenue_at_risk"] == pytest.approx(r["probability"] * r["clv"]) for r in by_value["customers"])
    summary = by_value["revenue_at_risk"]
    assert summary["revenue_at_risk"] >= sum(money) and 0 < summary["top_share"] <= 1
    assert body["model"]["baselines"]["logistic_5"]["auc"] > 0.5 and body["model"]["evaluated_on"] == "holdout"
    resp = client.get("/api/v1/churn?sort=name", headers=auth)
    assert resp.status_code == 400 and "sort must be one of" in resp.get_json()["error"]
    assert "/churn" in client.get("/api/v1/openapi.json").get_json()["paths"]


def test_contacts_are_joined_to_later_outcomes(store):
    from read import churn as churn_queries
    settings, _ = store
    engine = get_engine(settings.db_url)
    with engine.connect() as conn:
        top = conn.execute(select(ChurnPrediction.customer_id).order_by(ChurnPrediction.probability.desc()).limit(3)).all()
    now = pd.Timestamp.now().to_pydatetime()
    with engine.begin() as conn:
        conn.execute(ContactLog.__table__.insert(), [
            {"customer_id": cid, "contacted_at": now, "user_email": "cs@example.com", "channel": "phone",
             "outcome": "reached"} for (cid,) in top])
    result = churn_queries.interventions.__wrapped__(engine, now + timedelta(hours=1))
    assert result["pending"] == 3 and result["contacted"] == 0 and not result["enough"]
    assert "Too few" in result["note"]


def test_evaluate_churn_json_and_predictions_csv(store, tmp_path, monkeypatch):
    from manage import cli
    settings, _ = store
    monkeypatch.setenv("VAR_DIR", str(settings.var_dir))
    monkeypatch.setenv("DATABASE_URL", settings.db_url)
    out = tmp_path / "predictions.csv"
    result = CliRunner().invoke(cli, ["evaluate-churn", "--json", "--predictions-out", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    model = report["model"]
    assert {"precision", "recall", "auc", "brier", "ece", "precision_at_recall_80"} <= set(model)
    assert set(report["baselines"]) == {"days_since_last_session", "logistic_5"}
    assert all(len(b["calibration"]) == 10 and 0 < b["brier"] < 0.25 for b in report["baselines"].values())
    assert len(report["calibration"]) == 10 and report["evaluated_on"] == "holdout"
    text = CliRunner().invoke(cli, ["evaluate-churn"]).output
    assert "baseline: days_since_last_session" in text and "Brier" in text and "calibration" in text
    assert report["limit"]["available"] and report["limit"]["auc"] > model["auc"] - 0.05
    assert report["distance"]["auc"] == pytest.approx(report["limit"]["auc"] - model["auc"], abs=0.02)
    csv = pd.read_csv(out)
    assert list(csv.columns) == ["customer_id", "probability", "predicted"]
    assert len(csv) == model["customers"] and csv["probability"].between(0, 1).all()
    assert CliRunner().invoke(cli, ["evaluate-churn", "--help"]).exit_code == 0


def test_train_on_a_young_store_skips_with_the_reason_and_predict_waits(settings):
    from tests.factories import customer, frame, session, tutor
    from tests.support.store import load_frames
    now = pd.Timestamp.now().floor("h").to_pydatetime()
    load_frames(settings, {"customers": frame("customers", [customer("c1", signup_date=(now - timedelta(days=40)).date())]),
                           "tutors": frame("tutors", [tutor("t1")]),
                           "sessions": frame("sessions", [session("c1", start_time=now - timedelta(days=3))])})
    assert "no trained churn model" in run_job("churn", settings)["skipped"]
    assert "training needs at least 51" in run_job("train-churn", settings)["skipped"]
    assert count(get_engine(settings.db_url), ChurnModelRecord) == 0


def test_history_upsert_and_health_fill_are_set_based_on_both_stores(any_settings):
    """write_history: the day's last run wins, other days stay; fill_health_scores: only rows the health job wrote."""
    from jobs.customers.churn import fill_health_scores, write_history
    engine = get_engine(any_settings.db_url)
    when = datetime(2026, 3, 2, 9)
    with engine.begin() as conn:
        conn.execute(HealthScore.__table__.insert(), [
            {"customer_id": c, "computed_at": when, "score": 50.0, "tier": "watch", "first_session_score": 1.0,
             "velocity_score": 1.0, "calls_score": 1.0, "goal_score": 1.0, "tutor_consistency_score": 1.0}
            for c in ("a", "b")])
    first = pd.DataFrame({"customer_id": ["a", "b", "c"], "probability": [0.1, 0.2, 0.3], "model_version": 1})
    again = first.assign(probability=[0.5, 0.6, 0.7], model_version=2)
    with engine.begin() as conn:
        assert write_history(conn, first, when.date()) == 3
        assert write_history(conn, first, (when - timedelta(days=1)).date()) == 3
        assert write_history(conn, again, when.date()) == 3
        assert fill_health_scores(conn, again) == 2  # "c" has no health row yet: left to the health job
    with engine.connect() as conn:
        t = ChurnPredictionHistory.__table__
        today = dict(conn.execute(select(t.c.customer_id, t.c.probability).where(t.c.day == when.date())).all())
        versions = set(conn.execute(select(t.c.model_version).where(t.c.day == when.date())).scalars())
        h = HealthScore.__table__
        filled = dict(conn.execute(select(h.c.customer_id, h.c.churn_probability)).all())
    assert today == {"a": 0.5, "b": 0.6, "c": 0.7} and versions == {2}
    assert count(engine, ChurnPredictionHistory) == 6 and filled == {"a": 0.5, "b": 0.6}
