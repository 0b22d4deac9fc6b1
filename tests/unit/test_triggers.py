"""The seven contract triggers on hand-made fixtures, each fired and not fired at its boundary."""
from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from domain.customers.triggers import TRIGGER_COLUMNS, TRIGGERS, evaluate_triggers
from tests.factories import T0, call, calls_df, customer, customers_df, session, sessions_df

AT = T0  # 2024-06-01 12:00
D = timedelta(days=1)
OLD = (AT - 200 * D).date()  # signup long ago: no day7_nudge; inactive_21d only without recent sessions


def run(customers, sessions=(), calls=(), at=AT) -> pd.DataFrame:
    return evaluate_triggers(customers_df(*customers), sessions_df(*sessions), calls_df(*calls), at)


def fired(*args, **kw) -> set[tuple[str, str]]:
    return set(zip(*run(*args, **kw)[["customer_id", "trigger"]].to_numpy().T))


def active(cid: str, **kw) -> list[dict]:
    """A steady customer: signed up long ago, a good completed session 2 days ago (nothing fires)."""
    return [session(cid, AT - 2 * D, rating=5, **kw)]


def test_trigger_registry_names_and_severities():
    assert list(TRIGGERS) == ["calls_14d", "first_session_low_rating", "inactive_21d", "velocity_drop",
                              "inactive_14d", "day7_nudge", "goal_completed"]
    assert {t.name: t.severity for t in TRIGGERS.values()} == {
        "calls_14d": "critical", "first_session_low_rating": "at-risk", "inactive_21d": "at-risk",
        "velocity_drop": "re-engagement", "inactive_14d": "re-engagement", "day7_nudge": "nudge",
        "goal_completed": "cross-sell",
    }
    assert all(1 <= t.priority <= 5 and t.intervention for t in TRIGGERS.values())


def test_steady_customer_fires_nothing_and_output_has_the_columns():
    out = run([customer("c1", signup_date=OLD)], active("c1"))
    assert list(out.columns) == TRIGGER_COLUMNS
    assert out.empty


# calls_14d ------------------------------------------------------------------------------------

def test_calls_14d_two_calls_fire_critical_with_the_count():
    out = run([customer("c1", signup_date=OLD)], active("c1"),
              [call("c1", AT - 1 * D), call("c1", AT - 14 * D + timedelta(seconds=1))])
    row = out.set_index("trigger").loc["calls_14d"]
    assert row["severity"] == "critical"
    assert row["value"] == pytest.approx(2)
    assert "2 inbound calls" in row["why"]


def test_calls_14d_one_call_does_not_fire():
    assert fired([customer("c1", signup_date=OLD)], active("c1"), [call("c1", AT - D)]) == set()


def test_calls_14d_call_exactly_14_days_ago_is_outside_the_window():
    calls = [call("c1", AT - D), call("c1", AT - 14 * D)]
    assert fired([customer("c1", signup_date=OLD)], active("c1"), calls) == set()


def test_calls_14d_call_at_T_counts_and_calls_after_T_do_not():
    cust = [customer("c1", signup_date=OLD)]
    assert ("c1", "calls_14d") in fired(cust, active("c1"), [call("c1", AT - D), call("c1", AT)])
    assert fired(cust, active("c1"), [call("c1", AT - D), call("c1", AT + timedelta(seconds=1))]) == set()


# first_session_low_rating ----------------------------------------------------------------------

def test_first_session_rated_below_3_fires_and_3_does_not():
    cust = [customer("c1", signup_date=OLD), customer("c2", signup_date=OLD)]
    sess = [session("c1", AT - 3 * D, rating=2.9), session("c1", AT - 2 * D, rating=5),
            session("c2", AT - 3 * D, rating=3.0), session("c2", AT - 2 * D, rating=5)]
    out = run(cust, sess)
    assert set(zip(out["customer_id"], out["trigger"])) == {("c1", "first_session_low_rating")}
    assert out["value"].iloc[0] == pytest.approx(2.9)
    assert out["severity"].iloc[0] == "at-risk"


def test_low_rating_on_a_later_session_does_not_fire():
    sess = [session("c1", AT - 3 * D, rating=5), session("c1", AT - 2 * D, rating=1)]
    assert fired([customer("c1", signup_date=OLD)], sess) == set()


def test_first_session_skips_cancelled_and_counts_no_show():
    cust = [customer("c1", signup_date=OLD), customer("c2", signup_date=OLD)]
    sess = [session("c1", AT - 4 * D, status="cancelled", rating=5), session("c1", AT - 3 * D, rating=2),
            session("c2", AT - 4 * D, status="no_show"), session("c2", AT - 3 * D, rating=1)]
    assert fired(cust, sess) == {("c1", "first_session_low_rating")}


def test_unrated_first_session_does_not_fire():
    assert fired([customer("c1", signup_date=OLD)], [session("c1", AT - 2 * D, rating=None)]) == set()


@pytest.mark.parametrize("rating_a, rating_b, fires", [(5, 1, False), (1, 5, True)])
def test_tied_first_sessions_go_to_the_lowest_session_id(rating_a, rating_b, fires):
    t = AT - 3 * D
    sess = [session("c1", t, session_id="s-b", rating=rating_b), session("c1", t, session_id="s-a", rating=rating_a)]
    for rows in (sess, sess[::-1]):  # row order must not matter
        assert (("c1", "first_session_low_rating") in fired([customer("c1", signup_date=OLD)], rows)) is fires


def test_tied_first_sessions_prefer_completed_over_no_show():
    t = AT - 3 * D
    sess = [session("c1", t, session_id="s-a", status="no_show"), session("c1", t, session_id="s-b", rating=2)]
    assert ("c1", "first_session_low_rating") in fired([customer("c1", signup_date=OLD)], sess)


def test_first_session_after_T_is_not_seen():
    sess = [session("c1", AT + timedelta(minutes=1), rating=1)]
    out = run([customer("c1", signup_date=(AT - 3 * D).date())], sess)
    assert "first_session_low_rating" not in set(out["trigger"])


# inactive_14d ------------------------------------------------------------------------------------

def three_done(cid: str, last) -> list[dict]:
    return [session(cid, last - 10 * D), session(cid, last - 5 * D), session(cid, last)]


def test_inactive_14d_last_session_exactly_14_days_ago_fires():
    out = run([customer("c1", signup_date=OLD)], three_done("c1", AT - 14 * D))
    row = out.set_index("trigger").loc["inactive_14d"]
    assert row["severity"] == "re-engagement"
    assert row["value"] == pytest.approx(14)


def test_inactive_14d_last_session_just_under_14_days_ago_does_not_fire():
    sess = three_done("c1", AT - 14 * D + timedelta(minutes=1))
    assert fired([customer("c1", signup_date=OLD)], sess) == set()


@pytest.mark.parametrize("days, fires", [(13, False), (13.99, False), (14, True), (15, True)])
def test_inactive_14d_13_vs_14_days(days, fires):
    got = fired([customer("c1", signup_date=OLD)], three_done("c1", AT - days * D))
    assert (("c1", "inactive_14d") in got) is fires


def test_inactive_14d_needs_three_completed_sessions():
    sess = three_done("c1", AT - 15 * D)
    sess[0]["status"] = "no_show"  # only 2 completed now
    assert fired([customer("c1", signup_date=OLD)], sess) == set()


def test_inactive_14d_ignores_cancelled_and_no_show_in_the_window():
    sess = three_done("c1", AT - 15 * D) + [session("c1", AT - D, status="cancelled"),
                                            session("c1", AT - 2 * D, status="no_show")]
    assert ("c1", "inactive_14d") in fired([customer("c1", signup_date=OLD)], sess)


# inactive_21d ------------------------------------------------------------------------------------

def test_inactive_21d_boundary_on_the_last_completed_session():
    cust = [customer("c1", signup_date=OLD), customer("c2", signup_date=OLD)]
    sess = [session("c1", AT - 21 * D), session("c2", AT - 21 * D + timedelta(minutes=1))]
    out = run(cust, sess)
    assert set(zip(out["customer_id"], out["trigger"])) == {("c1", "inactive_21d")}
    assert out["value"].iloc[0] == pytest.approx(21)
    assert out["severity"].iloc[0] == "at-risk"


def test_inactive_21d_also_fires_inactive_14d_for_regulars():
    assert fired([customer("c1", signup_date=OLD)], three_done("c1", AT - 30 * D)) == {
        ("c1", "inactive_21d"), ("c1", "inactive_14d")}


def test_inactive_21d_without_any_completed_session_counts_from_signup():
    # signup_date is a date (00:00); AT is noon: 21.5 days since signup fires, 20.5 does not.
    cust = [customer("c1", signup_date=(AT - 21 * D).date(), goal_status="none"),
            customer("c2", signup_date=(AT - 20 * D).date(), goal_status="none"),
            customer("c3", signup_date=(AT - 30 * D).date(), goal_status="none")]
    sess = [session("c3", AT - 2 * D, status="no_show"), session("c3", AT - D, status="cancelled")]
    out = run(cust, sess)
    got = out[out["trigger"] == "inactive_21d"].set_index("customer_id")
    assert sorted(got.index) == ["c1", "c3"]
    assert got.loc["c1", "value"] == pytest.approx(21.5)
    assert "since signup" in got.loc["c1", "why"]


# goal_completed ----------------------------------------------------------------------------------

@pytest.mark.parametrize("completed_at, fires, days", [
    (AT - D, True, 1.0), (AT, True, 0.0), (AT + timedelta(hours=1), False, None), (None, True, np.nan),
])
def test_goal_completed_by_T(completed_at, fires, days):
    cust = [customer("c1", signup_date=OLD, goal_status="completed", goal_completed_at=completed_at)]
    got = run(cust, active("c1")).set_index("trigger")
    assert ("goal_completed" in got.index) is fires
    if fires:
        assert got.loc["goal_completed", "severity"] == "cross-sell"
        assert got.loc["goal_completed", "value"] == pytest.approx(days, nan_ok=True)


def test_goal_in_progress_does_not_fire():
    assert fired([customer("c1", signup_date=OLD, goal_status="in_progress")], active("c1")) == set()


# day7_nudge --------------------------------------------------------------------------------------

def signup_days_ago(days: float):
    """A full signup timestamp `days` before T (the contract keeps the time of day)."""
    return AT - days * D


@pytest.mark.parametrize("age, fires", [(6, False), (6.96, False), (7, True), (10, True), (13.99, True),
                                        (14, False), (15, False)])
def test_day7_nudge_only_for_signups_7_to_14_days_ago(age, fires):
    signup = pd.Timestamp(signup_days_ago(age))
    sess = [session("c1", signup + timedelta(hours=h)) for h in (10, 30)]  # 2 in the first week
    cust = [customer("c1", signup_date=signup_days_ago(age))]
    assert (("c1", "day7_nudge") in fired(cust, sess)) is fires


def test_day7_nudge_keeps_the_signup_time_of_day():
    # signed up six days and 23 hours before T: not yet 7 days (a date-only signup said 7)
    late = AT - 7 * D + timedelta(hours=1)
    assert ("c1", "day7_nudge") not in fired([customer("c1", signup_date=late)], [])
    # sessions after midnight of the signup day but within 7 days of the signup time count
    signup = AT - 8 * D - timedelta(hours=1)
    sess = [session("c1", signup + 7 * D - timedelta(minutes=m)) for m in (1, 2, 3)]
    assert ("c1", "day7_nudge") not in fired([customer("c1", signup_date=signup)], sess)


def test_day7_nudge_three_sessions_in_the_first_week_do_not_fire():
    signup = pd.Timestamp(signup_days_ago(10))
    sess = [session("c1", signup + timedelta(hours=h)) for h in (10, 30, 50)]
    assert fired([customer("c1", signup_date=signup_days_ago(10))], sess) == set()


def test_day7_nudge_first_week_is_signup_to_7_days_later_inclusive():
    signup = pd.Timestamp(signup_days_ago(10))
    sess = [session("c1", signup - timedelta(minutes=1)),  # before the signup time: not in the first week
            session("c1", signup + timedelta(hours=10)), session("c1", signup + 7 * D),  # both ends included
            session("c1", signup + 7 * D + timedelta(minutes=1))]  # after it: not in the first week
    out = run([customer("c1", signup_date=signup_days_ago(10))], sess)
    row = out.set_index("trigger").loc["day7_nudge"]
    assert row["value"] == pytest.approx(2)
    assert row["severity"] == "nudge"


def test_day7_nudge_no_show_and_cancelled_do_not_count():
    signup = pd.Timestamp(signup_days_ago(8))
    sess = [session("c1", signup + timedelta(hours=10)), session("c1", signup + timedelta(hours=30)),
            session("c1", signup + timedelta(hours=50), status="no_show"),
            session("c1", signup + timedelta(hours=70), status="cancelled")]
    assert ("c1", "day7_nudge") in fired([customer("c1", signup_date=signup_days_ago(8))], sess)


# velocity_drop -----------------------------------------------------------------------------------

def spread(cid: str, count: int, newest, oldest) -> list[dict]:
    """`count` completed sessions evenly from `newest` back to (not before) `oldest`."""
    step = (newest - oldest) / max(count, 1)
    return [session(cid, newest - i * step) for i in range(count)]


@pytest.mark.parametrize("prev, now, fires", [(8, 4, True), (7, 4, False), (8, 5, False), (12, 0, True)])
def test_velocity_drop_from_2_to_1_per_week(prev, now, fires):
    sess = spread("c1", prev, AT - 29 * D, AT - 55 * D) + spread("c1", now, AT - D, AT - 27 * D)
    out = run([customer("c1", signup_date=OLD)], sess)
    got = out.set_index("trigger")
    assert ("velocity_drop" in got.index) is fires
    if fires:
        assert got.loc["velocity_drop", "value"] == pytest.approx(now / 4)
        assert got.loc["velocity_drop", "severity"] == "re-engagement"


def test_velocity_windows_are_half_open():
    # A session exactly 28 days ago belongs to the previous window; one exactly 56 days ago to neither.
    prev = spread("c1", 7, AT - 29 * D, AT - 55 * D) + [session("c1", AT - 28 * D)]
    now = spread("c1", 4, AT - D, AT - 27 * D)
    assert ("c1", "velocity_drop") in fired([customer("c1", signup_date=OLD)], prev + now)
    prev = spread("c1", 7, AT - 29 * D, AT - 55 * D) + [session("c1", AT - 56 * D)]
    assert ("c1", "velocity_drop") not in fired([customer("c1", signup_date=OLD)], prev + now)


# who is evaluated --------------------------------------------------------------------------------

def test_churned_and_future_signups_are_excluded():
    cust = [
        customer("gone", signup_date=OLD, status="churned", churned_at=AT - D),
        customer("gone_at_T", signup_date=OLD, status="churned", churned_at=AT),
        customer("gone_no_date", signup_date=OLD, status="churned", churned_at=None),
        customer("churns_later", signup_date=OLD, status="churned", churned_at=AT + D),
        customer("tomorrow", signup_date=(AT + D).date()),
        customer("today", signup_date=AT.date(), goal_status="completed", goal_completed_at=AT - timedelta(hours=1)),
        customer("paused", signup_date=OLD, status="paused"),
    ]
    calls = [call(c["customer_id"], AT - D) for c in cust] * 2
    got = {cid for cid, _ in fired(cust, [], calls)}
    assert got == {"churns_later", "today", "paused"}


def test_rows_after_T_change_nothing():
    cust = [customer("c1", signup_date=OLD), customer("c2", signup_date=signup_days_ago(9))]
    sess = three_done("c1", AT - 15 * D) + [session("c2", AT - 8 * D, rating=2)]
    calls = [call("c1", AT - D)]
    base = run(cust, sess, calls)
    future = [session("c1", AT + timedelta(seconds=1)), session("c2", AT + D, rating=5),
              session("c2", AT + 2 * D)] + spread("c1", 20, AT + 30 * D, AT + D)
    later = run(cust, sess + future, calls + [call("c1", AT + timedelta(hours=1))])
    pd.testing.assert_frame_equal(base, later)
    assert set(base["trigger"]) == {"inactive_14d", "first_session_low_rating", "day7_nudge"}


def test_customer_without_sessions_or_calls():
    out = run([customer("new", signup_date=AT.date()), customer("old", signup_date=OLD)])
    assert set(zip(out["customer_id"], out["trigger"])) == {("old", "inactive_21d")}


def test_sessions_and_calls_of_unknown_customers_are_ignored():
    out = run([customer("c1", signup_date=OLD)], active("c1") + [session("ghost", AT - D, rating=1)],
              [call("ghost", AT - D), call("ghost", AT - 2 * D)])
    assert out.empty


def test_rows_ordered_by_customer_then_trigger_order():
    cust = [customer("b", signup_date=OLD, goal_status="completed", goal_completed_at=AT - D),
            customer("a", signup_date=OLD)]
    calls = [call(c, AT - D) for c in ("a", "b")] * 2
    out = run(cust, [], calls)
    assert list(zip(out["customer_id"], out["trigger"])) == [
        ("b", "calls_14d"), ("b", "inactive_21d"), ("b", "goal_completed"),
        ("a", "calls_14d"), ("a", "inactive_21d"),
    ]
    assert out["value"].dtype == np.float64


def test_string_times_and_aware_at_are_accepted():
    cust = customers_df(customer("c1", signup_date=OLD))
    sess = sessions_df(*three_done("c1", AT - 15 * D))
    sess["start_time"] = sess["start_time"].dt.strftime("%Y-%m-%dT%H:%M:%S")
    calls = calls_df(call("c1", AT - D), call("c1", AT - 2 * D))
    calls["call_date"] = calls["call_date"].dt.strftime("%Y-%m-%dT%H:%M:%S+00:00")
    out = evaluate_triggers(cust, sess, calls, pd.Timestamp(AT, tz="UTC"))
    assert set(out["trigger"]) == {"calls_14d", "inactive_14d"}
