"""domain.supply on a tiny hand-computed marketplace.

Monday 2024-01-01, hours 10..13:
- T1 active, math;physics, CA, free Mon 10-12 (10, 11), booked at 11 for physics.
- T2 active, math, NY, free Mon 11-13 (11, 12); its booking at 12 was cancelled.
- T3 inactive, math, free Mon 10-14: never counts.
"""
from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from domain.supply import available_hours, coverage, shortages, surpluses, utilization

MON = datetime(2024, 1, 1)  # a Monday


@pytest.fixture
def tutors():
    return pd.DataFrame({
        "tutor_id": ["T1", "T2", "T3"], "subjects": ["math;physics", "math", "math"],
        "region": ["CA", "NY", "CA"], "status": ["active", "active", "inactive"],
    })


@pytest.fixture
def availability():
    return pd.DataFrame({"tutor_id": ["T1", "T2", "T3"], "weekday": [0, 0, 0],
                         "start_hour": [10, 11, 10], "end_hour": [12, 13, 14]})


@pytest.fixture
def bookings():
    return pd.DataFrame({
        "booking_id": ["b1", "b2"], "tutor_id": ["T1", "T2"], "subject": ["physics", "math"],
        "scheduled_time": [datetime(2024, 1, 1, 11, 0), datetime(2024, 1, 1, 12, 0)],
        "status": ["scheduled", "cancelled"],
    })


def _col(df, subject, column):
    return df[df["subject"] == subject].set_index("ts")[column].tolist()


def test_available_hours_hand_case(tutors, availability, bookings):
    s = available_hours(tutors, availability, bookings, datetime(2024, 1, 1, 10), hours=4)
    assert list(s.columns) == ["subject", "ts", "available_hours", "booked_hours", "booked_sessions"]
    assert _col(s, "math", "available_hours") == [1, 1, 1, 0]  # T3 inactive never counts
    assert _col(s, "math", "booked_hours") == [0, 1, 0, 0]  # T1 is busy at 11 whatever the subject
    assert _col(s, "physics", "available_hours") == [1, 0, 0, 0]
    assert _col(s, "physics", "booked_sessions") == [0, 1, 0, 0]
    assert _col(s, "math", "booked_sessions") == [0, 0, 0, 0]  # the cancelled booking is not held


def test_equal_split_shares_one_tutor_hour(tutors, availability, bookings):
    s = available_hours(tutors, availability, bookings, datetime(2024, 1, 1, 10), hours=4, split="equal")
    assert _col(s, "math", "available_hours") == [0.5, 1.0, 1.0, 0.0]
    assert _col(s, "physics", "available_hours") == [0.5, 0.0, 0.0, 0.0]
    # summed over subjects this is the real number of open tutor hours
    assert s.groupby("ts")["available_hours"].sum().tolist() == [1.0, 1.0, 1.0, 0.0]


def test_by_region(tutors, availability, bookings):
    s = available_hours(tutors, availability, bookings, datetime(2024, 1, 1, 10), hours=4, by=("subject", "region"))
    ca = s[(s["subject"] == "math") & (s["region"] == "CA")]["available_hours"].tolist()
    ny = s[(s["subject"] == "math") & (s["region"] == "NY")]["available_hours"].tolist()
    assert ca == [1, 0, 0, 0] and ny == [0, 1, 1, 0]


def test_coverage_hand_case(tutors, availability, bookings):
    s = available_hours(tutors, availability, bookings, datetime(2024, 1, 1, 10), hours=4)
    ts = pd.date_range("2024-01-01 10:00", periods=4, freq="h")
    fc = pd.DataFrame({"subject": ["math"] * 4 + ["physics"] * 4, "ts": list(ts) * 2,
                       "yhat": [2, 1, 0, 1, 1, 1, 0, 0]})
    c = coverage(s, fc)
    math = _col(c, "math", "coverage")
    assert math[:2] == [0.5, 1.0] and np.isnan(math[2]) and math[3] == 0.0  # forecast 0 -> NaN
    phys = _col(c, "physics", "coverage")
    # at 11 the one physics session forecast is already booked: nothing open to cover
    assert phys[0] == 1.0 and np.isnan(phys[1])
    short = shortages(c, min_lead_h=0)
    assert short[["subject", "start", "end", "hours"]].values.tolist() == [
        ["math", pd.Timestamp("2024-01-01 10:00"), pd.Timestamp("2024-01-01 11:00"), 1],
        ["math", pd.Timestamp("2024-01-01 13:00"), pd.Timestamp("2024-01-01 14:00"), 1],
    ]
    assert short["min_coverage"].tolist() == [0.5, 0.0]
    assert short["missing_hours"].tolist() == [1.0, 1.0]
    # with a lead time of 2 h the 10:00 window is too soon to act on
    assert shortages(c, min_lead_h=2)["start"].tolist() == [pd.Timestamp("2024-01-01 13:00")]


def test_coverage_needs_matching_keys(tutors, availability, bookings):
    s = available_hours(tutors, availability, bookings, MON, hours=4, by=("subject", "region"))
    with pytest.raises(ValueError, match="region"):
        coverage(s, pd.DataFrame({"subject": ["math"], "ts": [MON], "yhat": [1.0]}))


def test_weekday_and_hour_boundaries():
    tutors = pd.DataFrame({"tutor_id": ["A", "B"], "subjects": ["math", "math"], "region": ["CA", "CA"],
                           "status": ["active", "active"]})
    availability = pd.DataFrame({
        "tutor_id": ["A", "A", "B", "B"], "weekday": [6, 0, 6, 2],
        "start_hour": [22, 0, 23, 0], "end_hour": [2, 24, 24, 1],  # A: Sun 22 -> Mon 02, Mon all day
    })
    s = available_hours(tutors, availability, pd.DataFrame(columns=["tutor_id", "subject", "scheduled_time", "status"]),
                        datetime(2024, 1, 7, 21), hours=6)  # Sunday 21:00 .. Monday 02:00
    # Sun 21: nobody; Sun 22: A; Sun 23: A+B; Mon 00, 01: A (overlap of A's two rows counted once); Mon 02: A
    assert _col(s, "math", "available_hours") == [0, 1, 2, 1, 1, 1]
    wed = available_hours(tutors, availability, pd.DataFrame(columns=["tutor_id", "subject", "scheduled_time", "status"]),
                          datetime(2024, 1, 3, 0), hours=2)  # weekday 2 = Wednesday; end 1 is exclusive
    assert _col(wed, "math", "available_hours") == [1, 0]


def test_surpluses_need_sustained_hours():
    ts = pd.date_range("2024-01-01", periods=10, freq="h")
    cov = pd.DataFrame({"subject": "math", "ts": ts, "forecast": 1.0, "available_hours": 2.0, "open_demand": 1.0,
                        "coverage": [2, 2, 2, 1, 2, 2, 2, 2, 2, 2.0]})
    out = surpluses(cov, min_hours=4)
    assert out[["start", "hours"]].values.tolist() == [[ts[4], 6]]


def test_shortage_and_surplus_never_both_for_one_subject():
    # generated week: math mostly over-staffed with one short hour on Friday, physics over-staffed throughout
    rng = np.random.default_rng(3)
    ts = pd.date_range("2024-01-01", periods=168, freq="h")
    rows = []
    for subject in ("math", "physics"):
        demand = rng.uniform(1, 4, len(ts))
        avail = np.round(demand * 2 + 1)
        if subject == "math":
            avail[24 * 4 + 18] = 0  # Friday 18:00
        rows.append(pd.DataFrame({"subject": subject, "ts": ts, "available_hours": avail, "booked_hours": 0.0,
                                  "booked_sessions": 0.0, "yhat": demand}))
    supply = pd.concat(rows, ignore_index=True)
    forecast = supply[["subject", "ts", "yhat"]]
    supply = supply.drop(columns="yhat")
    cov = coverage(supply, forecast)
    short = set(shortages(cov, min_lead_h=0)["subject"])
    surplus = set(surpluses(cov, min_hours=6)["subject"])
    assert short == {"math"} and surplus == {"physics"} and not short & surplus
    assert "math" in set(surpluses(cov, min_hours=6, shortage=None)["subject"])  # without the rule it would be both


def test_utilization(tutors, availability):
    sessions = pd.DataFrame({
        "session_id": ["s1", "s2", "s3"], "tutor_id": ["T1", "T1", "T1"], "subject": ["math", "physics", "math"],
        "start_time": [datetime(2024, 1, 1, 10), datetime(2024, 1, 1, 11), datetime(2024, 1, 2, 10)],
        "end_time": [datetime(2024, 1, 1, 11), datetime(2024, 1, 1, 11, 30), datetime(2024, 1, 2, 11)],
        "status": ["completed", "no_show", "cancelled"],
    })
    u = utilization(sessions, availability, tutors, MON, datetime(2024, 1, 8)).set_index("tutor_id")
    assert u.loc["T1", "available_hours"] == 2 and u.loc["T1", "session_hours"] == 1.5
    assert u.loc["T1", "utilization"] == pytest.approx(0.75)
    assert "T3" not in u.index  # inactive
    by_subject = utilization(sessions, availability, tutors, MON, datetime(2024, 1, 8), by="subject").set_index("subject")
    assert by_subject.loc["math", "available_hours"] == 4  # T1's 2 h + T2's 2 h
    assert by_subject.loc["math", "utilization"] == pytest.approx(0.25)
