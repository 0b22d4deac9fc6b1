"""Churn service: the label's boundaries, no data after T in any feature, the weekly grid (rolling origin, short
histories), sampled rows, calibration, threshold choice, explanations made of model inputs, metrics, the funnel
and the contacted-vs-uncontacted comparison. Lifetime value: tests/unit/test_churn_value.py."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from domain.churn import (FEATURE_NAMES, ChurnConfig, ChurnModel, History, NotEnoughHistory, choose_threshold,
                            labels, plan_snapshots, snapshot_features, train_churn)
from domain.churn.explain import explain, from_json, to_json
from domain.churn.insights import funnel, intervention_effect
from domain.churn.metrics import calibration, evaluate, expected_calibration_error, precision_at_recall
from domain.churn.model import _logit
from domain.churn.snapshots import rows
from sklearn.metrics import brier_score_loss
from tests.factories import T0, booking, call, customer, frame, session

T = T0  # 2024-06-01 12:00
D = timedelta(days=1)


# --- the label ----------------------------------------------------------------------------------------

def test_label_boundaries_follow_the_contract():
    rows = [
        customer("at_T", churned_at=T, status="churned"),                        # churned at T: not eligible
        customer("at_T_plus_30d", churned_at=T + 30 * D, status="churned"),      # (T, T+30d]: in
        customer("just_after", churned_at=T + timedelta(seconds=1), status="churned"),
        customer("after_window", churned_at=T + 30 * D + timedelta(seconds=1), status="churned"),
        customer("before", churned_at=T - D, status="churned"),                  # churned before: not eligible
        customer("stays"),
        customer("not_yet_signed_up", signup_date=(T + D).date()),
        customer("signed_up_today", signup_date=T.date()),                       # 00:00 of T's date <= T
        customer("churned_no_date", status="churned"),                           # treated as churned
    ]
    y = labels(frame("customers", rows), T)
    assert y.to_dict() == {"at_T_plus_30d": True, "just_after": True, "after_window": False, "stays": False,
                           "signed_up_today": False}
    assert labels(frame("customers", rows), T, horizon_days=31)["after_window"]


# --- no data after T ---------------------------------------------------------------------------------

def _history_frames() -> dict:
    cust = [customer("a", signup_date=(T - 100 * D).date(), goal_status="in_progress"),
            customer("b", signup_date=(T - 20 * D).date(), acquisition_channel="social", segment="adult"),
            customer("c", signup_date=(T - 200 * D).date(), goal_status="completed", goal_completed_at=T - 10 * D)]
    sess = [session("a", start_time=T - 60 * D, tutor_id="t1", rating=5),
            session("a", start_time=T - 40 * D, tutor_id="t1", rating=4),
            session("a", start_time=T - 20 * D, tutor_id="t2", rating=2),
            session("a", start_time=T - 3 * D, tutor_id="t2", status="no_show"),
            session("b", start_time=T - 15 * D, tutor_id="t3", rating=2),
            session("c", start_time=T - 150 * D, tutor_id="t1", rating=5),
            session("c", start_time=T - 2 * D, tutor_id="t1", rating=None, status="completed")]
    book = [booking("a", scheduled_time=T + 2 * D, created_at=T - D, updated_at=T - D),
            booking("a", scheduled_time=T - 10 * D, created_at=T - 15 * D, status="rescheduled",
                    rescheduled_by="customer", updated_at=T - 12 * D),
            booking("b", scheduled_time=T + 5 * D, created_at=T - 2 * D, updated_at=T - 2 * D)]
    calls = [call("a", call_date=T - 5 * D), call("b", call_date=T - 1 * D), call("b", call_date=T - 30 * D)]
    return {"customers": frame("customers", cust), "sessions": frame("sessions", sess),
            "bookings": frame("bookings", book), "inbound_calls": frame("inbound_calls", calls)}


def _append(frames: dict, record: str, rows: list[dict]) -> None:
    frames[record] = pd.concat([frames[record], frame(record, rows)], ignore_index=True)


def test_no_feature_uses_data_after_the_snapshot_time():
    frames = _history_frames()
    before = snapshot_features(frames, T)
    later = {k: v.copy() for k, v in frames.items()}
    # new rows after T
    _append(later, "sessions", [session("a", start_time=T + D, rating=1), session("b", start_time=T + 2 * D,
                                                                                   status="no_show")])
    _append(later, "inbound_calls", [call("a", call_date=T + timedelta(minutes=1)), call("c", call_date=T + 3 * D)])
    _append(later, "bookings", [booking("c", scheduled_time=T + 4 * D, created_at=T + D, updated_at=T + D)])
    # rows changed after T: a booking cancelled, a late rating, churn and a goal completed after T
    b = later["bookings"]
    b.loc[b["customer_id"] == "b", ["status", "updated_at"]] = ["cancelled", T + 3 * D]
    s = later["sessions"]
    late = (s["customer_id"] == "c") & (s["start_time"] == T - 2 * D)
    s.loc[late, ["rating", "updated_at"]] = [1.0, T + D]
    cu = later["customers"]
    cu.loc[cu["customer_id"] == "a", ["status", "churned_at", "updated_at"]] = ["churned", T + 5 * D, T + 5 * D]
    cu.loc[cu["customer_id"] == "b", ["goal_status", "goal_completed_at", "updated_at"]] = ["completed", T + D, T + D]
    cu.loc[cu["customer_id"] == "c", ["status", "updated_at"]] = ["paused", T + D]
    after = snapshot_features(later, T)
    pd.testing.assert_frame_equal(before, after)
    # ... and they do move once T passes them
    assert not snapshot_features(later, T + 4 * D).set_index("customer_id").equals(
        snapshot_features(frames, T + 4 * D).set_index("customer_id"))


def test_hand_computed_features():
    f = snapshot_features(_history_frames(), T).set_index("customer_id")
    a, b, c = f.loc["a"], f.loc["b"], f.loc["c"]
    assert a["sessions_28d"] == 1 and a["sessions_prev_28d"] == 1 and a["days_since_last_session"] == 20
    assert a["tutor_no_show_7d"] == 1 and a["tutor_switches_90d"] == 1 and a["customer_reschedules_30d"] == 1
    assert a["upcoming_bookings"] == 1 and a["first_session"] == "rated_good" and a["calls_14d"] == 1
    assert a["tutor_consistency"] == pytest.approx(2 / 3) and a["low_ratings_30d"] == 1
    assert b["first_session"] == "rated_low" and b["new_30d"] == 1 and b["calls_14d"] == 1 and b["calls_90d"] == 2
    assert b["calls_14d_new"] == 1 and b["channel"] == "social" and b["segment"] == "adult"
    assert c["goal"] == "completed" and c["goal_completed_30d"] == 1 and c["days_since_last_session"] == 2
    assert a["goal"] == "in_progress" and list(f.columns) == FEATURE_NAMES


@pytest.fixture(scope="module")
def market():
    from sources.simulation import generate
    return generate(customers=700, days=150, seed=5, end=datetime(2026, 6, 1))


def test_features_on_the_marketplace_ignore_everything_after_t(market):
    at = market.start + timedelta(days=100, hours=7)
    full = market.frames
    cut = {k: v.copy() for k, v in full.items() if k in ("customers", "sessions", "bookings", "inbound_calls")}
    cut["sessions"] = cut["sessions"][cut["sessions"]["start_time"] <= at]
    cut["inbound_calls"] = cut["inbound_calls"][cut["inbound_calls"]["call_date"] <= at]
    b = cut["bookings"] = cut["bookings"][cut["bookings"]["created_at"] <= at].copy()
    b.loc[b["updated_at"] > at, ["status", "rescheduled_by"]] = ["scheduled", None]
    c = cut["customers"]
    c.loc[c["churned_at"] > at, ["churned_at", "status"]] = [pd.NaT, "active"]
    c.loc[c["goal_completed_at"] > at, ["goal_completed_at", "goal_status"]] = [pd.NaT, "in_progress"]
    pd.testing.assert_frame_equal(snapshot_features(full, at), snapshot_features(cut, at))


# --- time split, model, threshold -----------------------------------------------------------------------

def test_weekly_grid_ends_at_the_last_closed_week_and_short_histories_get_fewer_inputs():
    day = 86_400 * 10**9
    at = pd.Timestamp("2026-06-01").value
    full = plan_snapshots(at, at - 180 * day)
    assert full.times[-1] == at - 30 * day and not full.short and full.features == tuple(FEATURE_NAMES)
    assert all(b - a == 7 * day for a, b in zip(full.times, full.times[1:]))
    assert full.times[0] >= at - 180 * day + 56 * day > full.times[0] - 7 * day
    # closed at the holdout week = every week whose 30-day outcome was known by then
    assert full.closed(full.times[-1], 30) == [t for t in full.times if t <= at - 60 * day]
    short = plan_snapshots(at, at - 60 * day)
    assert short.short and short.times == [at - 44 * day, at - 37 * day, at - 30 * day]
    assert "sessions_prev_28d" not in short.features and "days_since_last_session" in short.features
    with pytest.raises(NotEnoughHistory, match="needs at least 51"):
        plan_snapshots(at, at - 50 * day)


def test_sampled_training_rows_keep_every_churner_and_weigh_back_to_the_base_rate(market):
    h = History(market.frames)
    t = pd.Timestamp(market.end - timedelta(days=60)).value
    full, sampled = rows(h, t, 30), rows(h, t, 30, budget=200)
    assert len(sampled) <= max(200, full["churned"].sum() + 50) < len(full)
    assert set(full.loc[full["churned"], "customer_id"]) <= set(sampled["customer_id"])
    assert sampled["weight"].sum() == pytest.approx(len(full), rel=0.01)
    assert sampled.loc[sampled["churned"], "weight"].eq(1).all()
    assert sampled["tenure_days"].dtype == np.float32


def test_calibration_turns_a_biased_model_into_observed_rates():
    rng = np.random.default_rng(0)
    n = 40_000
    x = rng.normal(size=n)
    y = rng.random(n) < 1 / (1 + np.exp(-(-3 + 1.2 * x)))
    X = pd.DataFrame({c: 0.0 for c in FEATURE_NAMES if c not in ("segment", "channel", "first_session", "goal")},
                     index=range(n)).assign(days_since_last_session=x, segment="k12", channel="organic",
                                            first_session="rated_good", goal="none")
    fit, cal = slice(0, n // 2), slice(n // 2, n)
    # trained with churners weighted 5x: its raw probabilities run high
    model = ChurnModel(features=("days_since_last_session",)).fit(X[fit], y[fit], np.where(y[fit], 5.0, 1.0))
    raw = model.predict_proba(X[cal])[:, 1]
    assert raw.mean() > 1.5 * y[cal].mean()
    for method in ("platt", "isotonic"):
        p = model.calibrate(X[cal], y[cal], method=method).predict_proba(X[cal])[:, 1]
        assert p.mean() == pytest.approx(y[cal].mean(), rel=0.05)
        assert brier_score_loss(y[cal], p) < brier_score_loss(y[cal], raw)
        assert expected_calibration_error(y[cal], p) < 0.01
    assert model.contributions(X[cal].head(3))["tenure_days"].eq(0).all()  # not an input: no contribution
    with pytest.raises(ValueError, match="method"):
        model.calibrate(X[cal], y[cal], method="magic")


def test_choose_threshold_reaches_the_recall_with_the_most_precise_cut():
    y = np.array([1, 0, 1, 1, 0, 0, 1, 0, 1, 0])
    p = np.array([.9, .8, .7, .6, .5, .4, .3, .2, .1, .05])
    t = choose_threshold(y, p, 0.8)
    assert t == pytest.approx(0.3)  # 4 of 5 churners at p >= 0.3; any higher cut catches 3
    caught = (p >= t) & (y == 1)
    assert caught.sum() / y.sum() >= 0.8
    assert choose_threshold(np.array([1, 1, 0]), np.array([.5, .5, .5]), 0.8) == pytest.approx(0.5)  # ties together
    assert choose_threshold(np.zeros(3), np.array([.1, .2, .3])) == 0.5


@pytest.fixture(scope="module")
def trained(market):
    return train_churn(market.frames, market.end, ChurnConfig(min_gbm_churners=0))


def test_training_uses_every_closed_week_calibrates_and_reports_holdout_and_baselines(trained, market):
    m = trained.metrics
    assert m["evaluated_on"] == "holdout" and not m["short_history"]
    assert m["validation"]["recall"] >= 0.80
    assert set(m["candidates"]) == {"logistic", "gbm"}
    best = max(m["candidates"], key=lambda k: m["candidates"][k]["validation"]["auc"])
    assert trained.kind == best  # chosen on validation, never on the holdout
    split = {k: [pd.Timestamp(t) for t in v] for k, v in m["split"].items()}
    # the evaluated recipe fitted on every week whose outcome was known at the holdout, the latest included
    assert split["train"][-1] + timedelta(days=30) <= split["holdout"][0] < split["train"][-1] + timedelta(days=37)
    assert split["validation"] == split["train"][-len(split["validation"]):]
    assert trained.model.threshold == pytest.approx(trained.threshold)
    assert trained.model.calibrator_[0] == "platt"
    # the scoring model: the same recipe at T, fitted up to the last week closed at T
    assert trained.train_end == market.end
    assert set(m["baselines"]) == {"days_since_last_session", "logistic_5"}
    for b in m["baselines"].values():
        assert 0.5 < b["auc"] < 1 and len(b["calibration"]) == 10
    hold = m["holdout"]
    assert len(trained.holdout) == m["rows"]["holdout"] == hold["customers"]
    # Platt on the validation weeks: there, the mean probability is the observed churn rate
    assert trained.validation["probability"].mean() == pytest.approx(trained.validation["churned"].mean(), abs=0.005)


def test_a_short_history_trains_with_fewer_inputs_and_says_what_it_measured(market):
    since = market.end - timedelta(days=62)
    frames = dict(market.frames)
    for record, column in (("sessions", "start_time"), ("bookings", "created_at"), ("inbound_calls", "call_date")):
        frames[record] = frames[record][pd.to_datetime(frames[record][column]) >= since]
    result = train_churn(frames, market.end, ChurnConfig())
    m = result.metrics
    assert m["short_history"] and m["evaluated_on"] == "validation" and result.kind == "logistic"
    assert "sessions_prev_28d" in m["dropped_features"] and result.model.used == list(m["features"])
    X = snapshot_features(frames, market.end)
    p = result.model.predict_proba(X)[:, 1]
    assert len(p) == len(X) and np.isfinite(p).all() and ((p > 0) & (p < 1)).all()


def test_model_follows_sklearn_conventions_and_is_deterministic(market):
    h = History(market.frames)
    at = (market.end - timedelta(days=40))
    X = snapshot_features(market.frames, at)
    y = labels(market.frames["customers"], at).to_numpy()
    for kind in ("logistic", "gbm"):
        model = ChurnModel(kind=kind, max_iter=50)
        assert not hasattr(model, "estimator_") and clone(model).get_params() == model.get_params()
        p1 = model.fit(X, y).predict_proba(X)[:, 1]
        p2 = clone(model).fit(X, y).predict_proba(X)[:, 1]
        np.testing.assert_allclose(p1, p2)
        assert set(model.predict(X)) <= {0, 1}
    assert h.n == len(market.frames["customers"])
    with pytest.raises(ValueError, match="kind"):
        ChurnModel(kind="forest").fit(X, y)


def test_explanations_are_made_of_model_inputs(market):
    at = market.end - timedelta(days=40)
    X = snapshot_features(market.frames, at)
    y = labels(market.frames["customers"], at).to_numpy()
    for kind in ("logistic", "gbm"):
        model = ChurnModel(kind=kind, max_iter=50).fit(X, y)
        out = explain(model, X.head(50))
        assert len(out) == 50
        for e in out:
            assert {f["feature"] for f in e["factors"] + e["changes"]} <= set(FEATURE_NAMES)
            assert len(e["factors"]) == 5 and e["intervention"]
            contributions = [f["contribution"] for f in e["factors"]]
            assert contributions == sorted(contributions, reverse=True)
            assert from_json(to_json(e)) == {"factors": e["factors"], "changes": e["changes"]}
    # logistic contributions add up to the log-odds relative to the average training customer
    model = ChurnModel(kind="logistic").fit(X, y)
    contrib = model.contributions(X).sum(axis=1).to_numpy()
    clf = model.estimator_.named_steps["clf"]
    baseline = clf.intercept_[0] + float(model.z_mean_ @ clf.coef_[0])
    np.testing.assert_allclose(contrib + baseline, _logit(model.predict_proba(X)[:, 1]), atol=1e-6)


def test_an_idle_customer_is_told_what_changed_and_what_to_do():
    frames = _history_frames()
    X = snapshot_features(frames, T)
    y = np.array([1, 0, 0])
    model = ChurnModel(kind="logistic").fit(pd.concat([X] * 4), np.tile(y, 4))
    e = explain(model, X)[0]  # customer a: 20 days idle, a tutor no-show, rescheduled, changed tutor
    texts = " | ".join(c["text"] for c in e["changes"])
    assert "No completed session in 20 days" in texts and "did not show" in texts
    assert json.loads(to_json(e))[0]["kind"] == "factor"


# --- metrics ---------------------------------------------------------------------------------------------

def test_metrics_on_known_cases():
    y = np.array([0, 0, 1, 1])
    p = np.array([0.1, 0.2, 0.8, 0.9])
    e = evaluate(y, p, threshold=0.5)
    assert e["auc"] == 1.0 and e["precision"] == 1.0 and e["recall"] == 1.0 and e["flagged"] == 2
    assert e["brier"] == pytest.approx((0.01 + 0.04 + 0.04 + 0.01) / 4)
    assert precision_at_recall(y, p) == 1.0
    # calibrated by construction: each equal-count bin's churn rate equals its probability
    p = np.repeat([0.1, 0.5], 10)
    y = np.r_[np.ones(1), np.zeros(9), np.ones(5), np.zeros(5)]
    assert expected_calibration_error(y, p, bins=2) == pytest.approx(0)
    assert [b["observed"] for b in calibration(y, p, bins=2)] == [0.1, 0.5]
    assert expected_calibration_error(np.zeros(4), np.full(4, 0.25)) == pytest.approx(0.25)


# --- page insights -----------------------------------------------------------------------------------------

def test_funnel_stages_are_cumulative():
    cust = frame("customers", [
        customer("none", signup_date=(T - 60 * D).date()),
        customer("one", signup_date=(T - 60 * D).date()),
        customer("three_left", signup_date=(T - 60 * D).date(), status="churned", churned_at=T - 50 * D),
        customer("three", signup_date=(T - 60 * D).date()),
        customer("goal", signup_date=(T - 90 * D).date(), goal_status="completed", goal_completed_at=T - 5 * D),
        customer("goal_later", signup_date=(T - 90 * D).date(), goal_status="completed", goal_completed_at=T + D),
        customer("too_new", signup_date=(T - 10 * D).date()),
    ])
    done = pd.Series({"one": 1, "three_left": 3, "three": 4, "goal": 12, "goal_later": 5})
    out = funnel(cust, done, T).set_index("stage")["customers"].to_dict()
    assert out == {"signed_up": 6, "first_session": 5, "three_sessions": 4, "thirty_days": 3, "goal": 1}


def test_contacted_customers_are_compared_with_uncontacted_ones_of_the_same_risk():
    day = pd.Timestamp(T - 40 * D).normalize()
    ids = [f"c{i}" for i in range(8)]
    history = pd.DataFrame({"customer_id": ids, "day": day, "probability": [0.3] * 6 + [0.05, 0.5]})
    contacts = pd.DataFrame({"customer_id": ["c0", "c1", "c6"], "contacted_at": [day + timedelta(hours=10)] * 3})
    customers = pd.DataFrame({"customer_id": ["c0", "c2", "c3", "c7"],
                              "churned_at": [day + 5 * D, day + 3 * D, day + 40 * D, day + 2 * D]})
    r = intervention_effect(contacts, history, customers, T, min_compare=2)
    band = next(b for b in r["bands"] if b["band"] == "20%-40%")
    # contacted c0 (churned), c1 (stayed); controls c2 (churned), c3 (after 30 d), c4, c5 -> 1 of 4
    assert (band["contacted"], band["contacted_churned"], band["controls"], band["controls_churned"]) == (2, 1, 4, 1)
    assert r["contacted_rate"] == 0.5 and r["expected_rate"] == 0.25 and r["difference"] == 0.25
    assert r["not_at_risk"] == 1 and r["enough"] and r["pending"] == 0
    small = intervention_effect(contacts, history, customers, T)
    assert not small["enough"] and small["difference"] is None and "Too few" in small["note"]
