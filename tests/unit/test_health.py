"""Health score on hand-made fixtures: every component, tiers, config validation, next action, no future data."""
from __future__ import annotations

import json
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from domain.customers.health import COMPONENT_DOCS, HEALTH_COLUMNS, HealthConfig, score_health, tier_for
from domain.customers.health_config import COMPONENTS, DEFAULT_WEIGHTS, SCORE_DOC
from domain.customers.triggers import TRIGGERS, evaluate_triggers
from tests.factories import (
    T0, booking, bookings_df, call, calls_df, customer, customers_df, session, sessions_df,
)

AT = T0
D = timedelta(days=1)
OLD = (AT - 200 * D).date()


def score(customers, sessions=(), calls=(), bookings=None, at=AT, config=None) -> pd.DataFrame:
    b = bookings_df(*bookings) if bookings is not None else None
    out = score_health(customers_df(*customers), sessions_df(*sessions), calls_df(*calls), at, config, bookings=b)
    return out.set_index("customer_id", drop=False)


def one(*args, **kw) -> pd.Series:
    out = score(*args, **kw)
    assert len(out) == 1
    return out.iloc[0]


def explanation(row) -> dict:
    return json.loads(row["explanation"])


# shape -------------------------------------------------------------------------------------------

def test_columns_match_the_health_scores_table():
    from models.derived import HealthScore
    assert HEALTH_COLUMNS == [c.name for c in HealthScore.__table__.columns]
    out = score([customer("c1", signup_date=OLD)], [session("c1", AT - D, rating=5)])
    assert list(out.columns) == HEALTH_COLUMNS
    row = out.iloc[0]
    assert row["computed_at"] == pd.Timestamp(AT)
    assert np.isnan(row["churn_probability"])
    assert (row["segment"], row["acquisition_channel"], row["region"]) == ("k12", "organic", "CA")


def test_no_eligible_customers_gives_an_empty_frame_with_the_columns():
    out = score_health(customers_df(), sessions_df(), calls_df(), AT)
    assert list(out.columns) == HEALTH_COLUMNS and out.empty


def test_hand_worked_score():
    sess = [session("c1", AT - 60 * D, rating=5, tutor_id="t1")]
    sess += [session("c1", AT - d * D, tutor_id="t2" if d == 20 else "t1", subject="math") for d in (2, 5, 12, 20)]
    row = one([customer("c1", signup_date=OLD)], sess, [call("c1", AT - 2 * D, reason_code="billing")])
    assert row["first_session_score"] == pytest.approx(100)
    assert row["velocity"] == pytest.approx(1.0)
    assert row["velocity_score"] == pytest.approx(75)  # 1/week
    assert row["calls_score"] == pytest.approx(62.5)  # 100 - 25 x 1.5 (billing)
    assert row["goal_score"] == pytest.approx(80)
    assert row["tutor_consistency_score"] == pytest.approx(80)  # t1 in 4 of 5
    # 0.3 x 100 + 0.25 x 75 + 0.2 x 62.5 + 0.15 x 80 + 0.1 x 80 = 81.25, shown as 81.3 (halves up)
    assert row["score"] == pytest.approx(81.3)
    assert row["tier"] == "healthy"
    assert row["calls_14d"] == 1
    assert row["last_session_at"] == pd.Timestamp(AT - 2 * D)
    assert row["primary_tutor_id"] == "t1"
    assert row["primary_subject"] == "math"


def test_explanation_has_score_weight_facts_and_why_per_component():
    row = one([customer("c1", signup_date=OLD)], [session("c1", AT - D, rating=5)], [call("c1", AT - D)])
    exp = explanation(row)
    assert list(exp) == list(COMPONENTS)
    for name in COMPONENTS:
        assert set(exp[name]) == {"score", "weight", "facts", "why"}
        assert exp[name]["score"] == pytest.approx(row[f"{name}_score"])
        assert exp[name]["weight"] == pytest.approx(DEFAULT_WEIGHTS[name])
        assert isinstance(exp[name]["why"], str) and exp[name]["why"]
    assert exp["calls"]["facts"] == {"calls_14d": 1, "calls_15_30d": 0, "heavy_calls_30d": 0}
    assert exp["first_session"]["facts"]["rating"] == pytest.approx(5)
    assert "rated 5" in exp["first_session"]["why"]


def test_explanation_escapes_text_from_the_source():
    row = one([customer("c1", signup_date=OLD, goal='say "hi" \\ ünïcode')], [session("c1", AT - D, tutor_id='t"1')])
    exp = explanation(row)
    assert exp["goal"]["facts"]["goal"] == 'say "hi" \\ ünïcode'
    assert exp["tutor_consistency"]["facts"]["primary_tutor_id"] == 't"1'


def test_component_docs_cover_every_component():
    assert set(COMPONENT_DOCS) == set(COMPONENTS)
    assert all(doc.startswith("Weight ") for doc in COMPONENT_DOCS.values())
    assert "30 %" in COMPONENT_DOCS["first_session"] and "41-70" in SCORE_DOC


# first-session success ---------------------------------------------------------------------------

@pytest.mark.parametrize("status, rating, expected", [
    ("completed", 5, 100), ("completed", 4, 100), ("completed", 3.9, 50), ("completed", 3, 50),
    ("completed", 2.9, 10), ("completed", 1, 10), ("completed", None, 70), ("no_show", None, 20),
])
def test_first_session_component(status, rating, expected):
    sess = [session("c1", AT - 40 * D, status=status, rating=rating), session("c1", AT - D, rating=5)]
    row = one([customer("c1", signup_date=OLD)], sess)
    assert row["first_session_score"] == pytest.approx(expected)
    assert explanation(row)["first_session"]["facts"]["status"] == status


@pytest.mark.parametrize("age, expected", [(0, 60), (6, 60), (7, 40), (13, 40), (14, 20), (60, 20)])
def test_no_first_session_yet_scores_by_days_since_signup(age, expected):
    cancelled = session("c1", AT - timedelta(hours=1), status="cancelled")
    row = one([customer("c1", signup_date=(AT - age * D).date())], [cancelled])
    assert row["first_session_score"] == pytest.approx(expected)
    assert "No first session yet" in explanation(row)["first_session"]["why"]


def test_a_booked_first_session_lifts_the_no_session_score():
    cust = [customer("c1", signup_date=(AT - 20 * D).date())]
    assert one(cust, bookings=[booking("c1", AT + 2 * D)])["first_session_score"] == pytest.approx(70)
    # cancelled, already past, or created after T: not booked
    for b in (booking("c1", AT + 2 * D, status="cancelled"), booking("c1", AT - D),
              booking("c1", AT + 2 * D, created_at=AT + timedelta(hours=1))):
        assert one(cust, bookings=[b])["first_session_score"] == pytest.approx(20)


# velocity ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("count, velocity, expected", [
    (0, 0, 0), (2, 0.5, 37.5), (4, 1, 75), (6, 1.5, 87.5), (8, 2, 100), (12, 3, 100),
])
def test_velocity_component_is_piecewise_linear(count, velocity, expected):
    sess = [session("c1", AT - 100 * D, rating=5)]
    sess += [session("c1", AT - (1 + i * 26 / max(count, 1)) * D) for i in range(count)]
    row = one([customer("c1", signup_date=OLD)], sess)
    assert row["velocity"] == pytest.approx(velocity)
    assert row["velocity_score"] == pytest.approx(expected)


def test_velocity_window_excludes_exactly_28_days_ago():
    sess = [session("c1", AT - 28 * D), session("c1", AT - 27 * D)]
    assert one([customer("c1", signup_date=OLD)], sess)["velocity"] == pytest.approx(0.25)


def test_new_customers_are_measured_over_their_tenure_with_a_floor():
    young = one([customer("c1", signup_date=(AT - 5 * D).date())])  # 5.5 days, nothing yet -> floor
    assert young["velocity_score"] == pytest.approx(60)
    ten = (AT - 10 * D).date()  # 10.5 days: 3 sessions = 3 x 7 / 10.5 = 2/week -> 100
    sess = [session("c1", AT - d * D) for d in (1, 4, 8)]
    assert one([customer("c1", signup_date=ten)], sess)["velocity_score"] == pytest.approx(100)
    twenty = (AT - 20 * D).date()  # 20.5 days: 2 sessions = 0.683/week -> 75 x 0.683 = 51.2, no floor any more
    row = one([customer("c1", signup_date=twenty)], [session("c1", AT - d * D) for d in (1, 4)])
    assert row["velocity_score"] == pytest.approx(75 * (2 * 7 / 20.5), abs=0.05)
    assert row["velocity"] == pytest.approx(0.5)  # the contract's velocity is always /4


# calls -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("calls, expected", [
    ([], 100),
    ([(1, "general")], 75),
    ([(1, "billing")], 62.5),
    ([(1, "cancellation"), (3, "general")], 37.5),
    ([(20, "general")], 90),
    ([(20, "billing")], 85),
    ([(14, "general")], 90),  # exactly 14 days ago: the older window
    ([(30, "general")], 100),  # exactly 30 days ago: outside
    ([(1, "general")] * 5, 0),  # never below 0
])
def test_calls_component(calls, expected):
    rows = [call("c1", AT - d * D, reason_code=r) for d, r in calls]
    row = one([customer("c1", signup_date=OLD)], [session("c1", AT - D)], rows)
    assert row["calls_score"] == pytest.approx(expected)
    assert row["calls_14d"] == sum(1 for d, _ in calls if d < 14)


# goal --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("status, completed_at, expected", [
    ("completed", AT - D, 40), ("completed", AT - 30 * D + timedelta(minutes=1), 40),
    ("completed", AT - 30 * D, 70), ("completed", None, 70), ("completed", AT + D, 80),
    ("in_progress", None, 80), ("none", None, 50),
])
def test_goal_component(status, completed_at, expected):
    cust = [customer("c1", signup_date=OLD, goal_status=status, goal_completed_at=completed_at)]
    row = one(cust, [session("c1", AT - D)])
    assert row["goal_score"] == pytest.approx(expected)
    if completed_at is not None and completed_at > AT:
        assert explanation(row)["goal"]["facts"]["goal_status"] == "in_progress"
        assert "goal_completed" not in row["triggers"]


# tutor consistency -------------------------------------------------------------------------------

def test_tutor_consistency_uses_the_last_ten_completed_sessions():
    older = [session("c1", AT - (50 + d) * D, tutor_id="t9") for d in range(10)]  # ignored: not in the last 10
    recent = [session("c1", AT - d * D, tutor_id="t1" if d <= 7 else "t2") for d in range(1, 11)]
    noise = [session("c1", AT - timedelta(hours=5), tutor_id="t3", status="cancelled")]
    row = one([customer("c1", signup_date=OLD)], older + recent + noise)
    assert row["tutor_consistency_score"] == pytest.approx(70)
    assert row["primary_tutor_id"] == "t1"
    facts = explanation(row)["tutor_consistency"]["facts"]
    assert facts == {"recent_sessions": 10, "with_primary_tutor": 7, "primary_tutor_id": "t1", "distinct_tutors": 2}


def test_tutor_consistency_is_neutral_below_two_sessions():
    row = one([customer("c1", signup_date=OLD)], [session("c1", AT - D, tutor_id="t1")])
    assert row["tutor_consistency_score"] == pytest.approx(50)


def test_most_frequent_tutor_tie_goes_to_the_most_recent():
    sess = [session("c1", AT - 3 * D, tutor_id="a", subject="x"), session("c1", AT - 2 * D, tutor_id="b", subject="y")]
    row = one([customer("c1", signup_date=OLD)], sess)
    assert (row["primary_tutor_id"], row["primary_subject"]) == ("b", "y")
    assert row["tutor_consistency_score"] == pytest.approx(50)


def test_primary_tutor_falls_back_to_first_session_then_booking():
    no_show = one([customer("c1", signup_date=OLD)],
                  [session("c1", AT - D, status="no_show", tutor_id="t7", subject="bio")])
    assert (no_show["primary_tutor_id"], no_show["primary_subject"]) == ("t7", "bio")
    booked = one([customer("c1", signup_date=OLD)], bookings=[booking("c1", AT + D, tutor_id="t8", subject="chem")])
    assert (booked["primary_tutor_id"], booked["primary_subject"]) == ("t8", "chem")
    nothing = one([customer("c1", signup_date=OLD)])
    assert nothing["primary_tutor_id"] is None and nothing["primary_subject"] is None


# tiers -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("value, tier", [
    (0, "critical"), (40, "critical"), (40.49, "critical"), (40.5, "at-risk"), (41, "at-risk"),
    (70, "at-risk"), (70.49, "at-risk"), (70.5, "healthy"), (71, "healthy"), (85, "healthy"),
    (85.4, "healthy"), (85.5, "thriving"), (86, "thriving"), (100, "thriving"),
])
def test_tier_boundaries(value, tier):
    assert tier_for(value) == tier


def test_tier_for_arrays_and_custom_bounds():
    assert list(tier_for([40, 41, 71, 86])) == ["critical", "at-risk", "healthy", "thriving"]
    assert tier_for(50, HealthConfig(tier_bounds=(50, 60, 90))) == "critical"
    with pytest.raises(ValueError):
        tier_for(float("nan"))


# config ------------------------------------------------------------------------------------------

def test_config_validation():
    with pytest.raises(ValueError, match="sum to 1"):
        HealthConfig(weights={**DEFAULT_WEIGHTS, "goal": 0.2})
    with pytest.raises(ValueError, match="exactly the components"):
        HealthConfig(weights={"first_session": 0.5, "velocity": 0.5})
    with pytest.raises(ValueError, match="between 0 and 1"):
        HealthConfig(weights={**DEFAULT_WEIGHTS, "goal": -0.15, "velocity": 0.55})
    with pytest.raises(ValueError, match="fs_success"):
        HealthConfig(fs_success=120)
    with pytest.raises(ValueError, match="tier_bounds"):
        HealthConfig(tier_bounds=(70, 40, 85))
    with pytest.raises(ValueError, match="velocity_points"):
        HealthConfig(velocity_points=((1, 0), (2, 100)))
    with pytest.raises(ValueError, match="velocity_points"):
        HealthConfig(velocity_points=((0, 50), (2, 40)))
    assert HealthConfig(velocity_points=((0, 0), (3, 100))).velocity_target == 3
    cfg = HealthConfig(weights=dict.fromkeys(COMPONENTS, 0.2))
    assert sum(cfg.weights.values()) == pytest.approx(1)


def test_custom_weights_change_the_score():
    cust, sess = [customer("c1", signup_date=OLD, goal_status="none")], [session("c1", AT - D, rating=5)]
    only_goal = HealthConfig(weights={"first_session": 0, "velocity": 0, "calls": 0, "goal": 1, "tutor_consistency": 0})
    assert one(cust, sess, config=only_goal)["score"] == pytest.approx(50)
    assert explanation(one(cust, sess, config=only_goal))["goal"]["weight"] == pytest.approx(1)


# triggers, priority, intervention ----------------------------------------------------------------

def test_calls_trigger_sets_priority_1_and_the_call_today_action():
    row = one([customer("c1", signup_date=OLD)], [session("c1", AT - D, rating=5)], [call("c1", AT - D)] * 2)
    assert row["triggers"] == "calls_14d"
    assert row["priority"] == 1
    assert row["intervention"] == TRIGGERS["calls_14d"].intervention


def test_most_urgent_trigger_wins_and_all_are_listed_in_trigger_order():
    cust = [customer("c1", signup_date=OLD, goal_status="completed", goal_completed_at=AT - D)]
    sess = [session("c1", AT - 40 * D, rating=2), session("c1", AT - 35 * D), session("c1", AT - 30 * D)]
    row = one(cust, sess)
    assert row["triggers"] == "first_session_low_rating,inactive_21d,inactive_14d,goal_completed"
    assert row["priority"] == 1
    assert row["intervention"] == TRIGGERS["first_session_low_rating"].intervention


def test_no_trigger_action_follows_the_tier():
    good = [session("c1", AT - d * D, rating=5) for d in (1, 4, 8, 11, 15, 18, 22, 25)]
    thriving = one([customer("c1", signup_date=OLD)], good)
    assert (thriving["tier"], thriving["triggers"], thriving["priority"]) == ("thriving", "", 5)
    assert thriving["intervention"].startswith("No action needed")
    # critical with no trigger firing: a no-show first session, one poor session since, 4 billing calls
    # 20 days ago, no goal: 0.3x20 + 0.25x18.75 + 0.2x40 + 0.15x50 + 0.1x50 = 31.1875
    sess = [session("c1", AT - 19 * D, status="no_show"), session("c1", AT - 18 * D, rating=1)]
    calls = [call("c1", AT - 20 * D, reason_code="billing")] * 4
    weak = one([customer("c1", signup_date=OLD, goal_status="none")], sess, calls)
    assert weak["triggers"] == ""
    assert weak["score"] == pytest.approx(31.2)
    assert weak["tier"] == "critical"
    assert weak["priority"] == 2
    assert weak["intervention"].endswith("first-session success")  # biggest weighted shortfall: 0.3 x 80


def test_triggers_column_agrees_with_evaluate_triggers():
    from tests.support.dataset import contract_frames
    f = contract_frames(customers=400, days=90, seed=3)
    at = pd.Timestamp(f["sessions"]["start_time"].max()) - pd.Timedelta(days=3)
    scores = score_health(f["customers"], f["sessions"], f["inbound_calls"], at, bookings=f.get("bookings"))
    trig = evaluate_triggers(f["customers"], f["sessions"], f["inbound_calls"], at)
    expected = trig.groupby("customer_id", sort=False)["trigger"].agg(",".join)
    got = scores.set_index("customer_id")["triggers"]
    assert got[got != ""].sort_index().to_dict() == expected.sort_index().to_dict()
    assert scores["score"].between(0, 100).all()
    assert scores["priority"].between(1, 5).all()
    for text in scores["explanation"].head(50):
        assert list(json.loads(text)) == list(COMPONENTS)


# who is scored, and no future data ---------------------------------------------------------------

def test_churned_and_not_yet_signed_up_customers_are_not_scored():
    cust = [customer("gone", signup_date=OLD, status="churned", churned_at=AT - D),
            customer("later", signup_date=OLD, status="churned", churned_at=AT + D),
            customer("tomorrow", signup_date=(AT + D).date()),
            customer("today", signup_date=AT.date())]
    assert sorted(score(cust).index) == ["later", "today"]


def test_customer_without_sessions_gets_neutral_components():
    row = one([customer("c1", signup_date=AT.date(), goal_status="none")])
    assert row["velocity"] == pytest.approx(0)
    assert pd.isna(row["last_session_at"])
    assert row["first_session_score"] == pytest.approx(60)
    assert row["velocity_score"] == pytest.approx(60)
    assert row["tutor_consistency_score"] == pytest.approx(50)
    assert row["score"] == pytest.approx(0.3 * 60 + 0.25 * 60 + 0.2 * 100 + 0.15 * 50 + 0.1 * 50)
    assert row["triggers"] == ""
    exp = explanation(row)
    assert exp["first_session"]["facts"]["status"] is None and exp["first_session"]["facts"]["date"] is None
    assert exp["goal"]["why"] == "No goal set"
    assert exp["tutor_consistency"]["facts"]["primary_tutor_id"] is None


def test_rows_after_T_change_nothing():
    cust = [customer("c1", signup_date=OLD), customer("c2", signup_date=(AT - 9 * D).date())]
    sess = [session("c1", AT - d * D, rating=4, tutor_id="t1") for d in (2, 9, 16)]
    sess += [session("c2", AT - 8 * D, rating=2)]
    calls = [call("c1", AT - D)]
    books = [booking("c2", AT + D)]
    base = score(cust, sess, calls, books)
    future_sessions = [session("c1", AT + timedelta(seconds=1), rating=1, tutor_id="t5")] + \
        [session("c2", AT + d * D, rating=5) for d in (1, 2, 3)]
    future_calls = [call("c1", AT + timedelta(minutes=1), reason_code="billing")]
    future_books = [booking("c1", AT + 3 * D, created_at=AT + timedelta(minutes=1))]
    later = score(cust, sess + future_sessions, calls + future_calls, books + future_books)
    pd.testing.assert_frame_equal(base, later)
