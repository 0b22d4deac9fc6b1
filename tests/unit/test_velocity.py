"""Velocity, cohorts, time to n-th session, tiers, retention, histogram and trend on hand-made fixtures."""
from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from domain.customers.health import score_health
from domain.customers.velocity import (
    cohort_table, frequency_histogram, retention_curves, time_to_nth_session, velocity, velocity_tiers,
    velocity_trend,
)
from tests.factories import T0, calls_df, customer, customers_df, session, sessions_df

AT = T0  # 2024-06-01 12:00
D = timedelta(days=1)
OLD = (AT - 200 * D).date()
MAY, APRIL = pd.Timestamp("2024-05-01"), pd.Timestamp("2024-04-01")


def test_velocity_counts_completed_sessions_in_the_trailing_28_days():
    cust = customers_df(customer("a", signup_date=OLD), customer("b", signup_date=OLD),
                        customer("gone", signup_date=OLD, status="churned", churned_at=AT - D))
    sess = sessions_df(*[session("a", AT - d * D) for d in (0, 1, 5, 20, 27.9)],
                       session("a", AT - 28 * D), session("a", AT - 2 * D, status="cancelled"),
                       session("a", AT - 3 * D, status="no_show"), session("a", AT + timedelta(minutes=1)),
                       session("gone", AT - 2 * D))
    out = velocity(cust, sess, AT).set_index("customer_id")
    assert list(out.index) == ["a", "b"]
    assert out.loc["a", "completed"] == 5
    assert out.loc["a", "velocity"] == pytest.approx(1.25)
    assert out.loc["b", "velocity"] == pytest.approx(0)
    scores = score_health(cust, sess, calls_df(), AT).set_index("customer_id")
    assert scores["velocity"].to_dict() == pytest.approx(out["velocity"].to_dict())


@pytest.fixture
def cohorts():
    """a, b signed up in May, c in April (churned 10 days in); d signs up after AT."""
    cust = customers_df(
        customer("a", signup_date=datetime(2024, 5, 1)),  # 31.5 days before AT: weeks 0-3 have passed
        customer("b", signup_date=datetime(2024, 5, 20)),  # 12.5 days: week 0 has passed
        customer("c", signup_date=datetime(2024, 4, 10), status="churned", churned_at=datetime(2024, 4, 20)),
        customer("d", signup_date=datetime(2024, 6, 2)),
    )
    sess = sessions_df(
        session("a", datetime(2024, 5, 1, 10)), session("a", datetime(2024, 5, 3, 10)),
        session("a", datetime(2024, 5, 8)),  # exactly 7 days after signup: week 1
        session("a", datetime(2024, 5, 29)),  # week 4: beyond weeks=4
        session("a", datetime(2024, 5, 2), status="cancelled"),
        session("b", datetime(2024, 5, 20, 9)), session("b", datetime(2024, 5, 28, 9)),  # week 1 not passed yet
        session("c", datetime(2024, 4, 11)),
        session("d", datetime(2024, 6, 3)),
    )
    return cust, sess


def test_cohort_table_counts_only_passed_weeks(cohorts):
    out = cohort_table(*cohorts, AT, weeks=4, benchmark=2.0)
    may = out[out["cohort"] == MAY].set_index("week")
    assert may["cohort_size"].unique().tolist() == [2]
    assert may["customers"].tolist() == [2, 1, 1, 1]
    assert may["sessions"].tolist() == [3, 1, 0, 0]
    assert may["active_customers"].tolist() == [2, 1, 0, 0]
    assert may.loc[0, "sessions_per_customer"] == pytest.approx(1.5)
    assert may.loc[0, "share_of_benchmark"] == pytest.approx(0.75)
    assert np.isnan(may.loc[2, "sessions_per_active_customer"])
    april = out[out["cohort"] == APRIL]
    assert april["customers"].tolist() == [1, 1, 1, 1]  # churned customers stay in their cohort
    assert april["sessions"].tolist() == [1, 0, 0, 0]
    assert set(out["cohort"]) == {MAY, APRIL}


def test_weekly_cohorts_start_on_monday(cohorts):
    out = cohort_table(*cohorts, AT, freq="W", weeks=2)
    assert set(out["cohort"]) == {pd.Timestamp("2024-04-29"), pd.Timestamp("2024-05-20"), pd.Timestamp("2024-04-08")}
    with pytest.raises(ValueError, match="freq"):
        cohort_table(*cohorts, AT, freq="Q")


def test_retention_curves(cohorts):
    active = retention_curves(*cohorts, AT, weeks=4)
    may = active[active["cohort"] == MAY]
    assert may["retention"].tolist() == pytest.approx([1.0, 1.0, 0.0, 0.0])
    stay = retention_curves(*cohorts, AT, weeks=4, kind="not_churned")
    # c churned 10 days after signup: still a customer at the end of week 0, not of week 1
    assert stay[stay["cohort"] == APRIL]["retained"].tolist() == [1, 0, 0, 0]
    assert stay[stay["cohort"] == MAY]["retention"].tolist() == pytest.approx([1.0] * 4)
    assert set(stay["kind"]) == {"not_churned"}
    with pytest.raises(ValueError):
        retention_curves(*cohorts, AT, kind="other")


def test_time_to_nth_session_per_customer_and_by_cohort(cohorts):
    per = time_to_nth_session(*cohorts, AT, per_customer=True).set_index(["customer_id", "n"])["days"]
    assert per[("a", 2)] == pytest.approx(2 + 10 / 24)
    assert per[("a", 3)] == pytest.approx(7.0)
    assert per[("b", 2)] == pytest.approx(8 + 9 / 24)
    assert np.isnan(per[("b", 3)]) and np.isnan(per[("c", 2)])
    first = time_to_nth_session(*cohorts, AT, n=(1, 2), since="first_session", per_customer=True)
    first = first.set_index(["customer_id", "n"])["days"]
    assert first[("a", 1)] == pytest.approx(0) and first[("a", 2)] == pytest.approx(2.0)
    summary = time_to_nth_session(*cohorts, AT).set_index(["cohort", "n"])
    assert summary.loc[(MAY, 2), "reached"] == 2
    assert summary.loc[(MAY, 2), "median_days"] == pytest.approx(((2 + 10 / 24) + (8 + 9 / 24)) / 2)
    assert summary.loc[(MAY, 3), "share_reached"] == pytest.approx(0.5)
    assert summary.loc[(APRIL, 2), "reached"] == 0


@pytest.fixture
def paced():
    """Customers at 0, 0.5, 1, 2 and 3 sessions/week now, and one who ran at 2/week and then churned."""
    cust = [customer(c, signup_date=OLD) for c in ("v0", "v05", "v1", "v2", "v3")]
    cust += [customer("churner", signup_date=OLD, status="churned", churned_at=AT - 10 * D),
             customer("long_gone", signup_date=OLD, status="churned", churned_at=AT - 40 * D)]
    sess = []
    for cid, count in (("v05", 2), ("v1", 4), ("v2", 8), ("v3", 12)):
        sess += [session(cid, AT - (1 + i * 26 / count) * D) for i in range(count)]
    sess += [session("churner", AT - (31 + i * 3) * D) for i in range(8)]  # (AT-58d, AT-30d]
    return customers_df(*cust), sessions_df(*sess)


def test_velocity_tiers_now_and_churn_by_tier(paced):
    out = velocity_tiers(*paced, AT, horizon_days=30).set_index("tier")
    assert list(out.index) == ["0", "<1", "1-2", "2-3", "3+"]
    assert out["customers"].tolist() == [1, 1, 1, 1, 1]  # 1.0 is in 1-2, 2.0 in 2-3, 3.0 in 3+
    assert out["share"].sum() == pytest.approx(1)
    assert out["customers_at_start"].tolist() == [5, 0, 0, 1, 0]
    assert out.loc["2-3", "churned"] == 1
    assert out.loc["2-3", "churn_rate"] == pytest.approx(1.0)
    assert out.loc["0", "churn_rate"] == pytest.approx(0.0)
    assert np.isnan(out.loc["<1", "churn_rate"])
    with pytest.raises(ValueError):
        velocity_tiers(*paced, AT, edges=(2, 1))


def test_frequency_histogram(paced):
    out = frequency_histogram(*paced, AT, max_sessions=3)
    assert out["label"].tolist() == ["0", "1", "2", "3+"]
    assert out["customers"].tolist() == [1, 0, 1, 3]
    assert out["per_week"].tolist() == pytest.approx([0, 0.25, 0.5, 0.75])
    assert out["share"].sum() == pytest.approx(1)


def test_velocity_trend_by_week():
    cust = customers_df(customer("x", signup_date=OLD), customer("young", signup_date=(AT - 20 * D).date()),
                        customer("z", signup_date=OLD, status="churned", churned_at=AT - 10 * D))
    sess = sessions_df(*[session("x", AT - (1 + 3 * i) * D) for i in range(8)],  # 1, 4, ..., 22 days ago
                       *[session("young", AT - d * D) for d in range(1, 15)],
                       *[session("z", AT - d * D) for d in (15, 18, 21, 25)])
    out = velocity_trend(cust, sess, AT, weeks=3, benchmark=2.0)
    assert out["week_end"].tolist() == [pd.Timestamp(AT - 14 * D), pd.Timestamp(AT - 7 * D), pd.Timestamp(AT)]
    assert out["customers"].tolist() == [2, 1, 1]
    # x: 3 sessions in (AT-42d, AT-14d] -> 0.75; z: 4 -> 1.0; then x alone: 6 -> 1.5, 8 -> 2.0
    assert out["median_velocity"].tolist() == pytest.approx([0.875, 1.5, 2.0])
    assert out["share_at_benchmark"].tolist() == pytest.approx([0.0, 0.0, 1.0])
    assert set(out["benchmark"]) == {2.0}


def test_no_sessions_at_all():
    cust = customers_df(customer("a", signup_date=OLD))
    empty = sessions_df()
    assert velocity(cust, empty, AT)["velocity"].tolist() == [0]
    assert cohort_table(cust, empty, AT)["sessions"].sum() == 0
    assert time_to_nth_session(cust, empty, AT)["reached"].tolist() == [0, 0]
    assert velocity_trend(cust, empty, AT, weeks=2)["median_velocity"].tolist() == [0, 0]
    assert frequency_histogram(cust, empty, AT)["customers"].iloc[0] == 1


def test_rows_after_at_change_nothing(cohorts):
    cust, sess = cohorts
    later = pd.concat([sess, sessions_df(*[session(c, AT + d * D) for c in ("a", "b", "c") for d in (0.01, 1, 3)])],
                      ignore_index=True)
    for fn in (velocity, cohort_table, retention_curves, time_to_nth_session, velocity_tiers, frequency_histogram,
               velocity_trend):
        pd.testing.assert_frame_equal(fn(cust, sess, AT), fn(cust, later, AT))
