"""Overview card numbers on a small hand-made marketplace, checked against values computed by hand."""
from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest

from domain.marketplace import OverviewInputs, overview_metrics, status_for, trend

AT = datetime(2026, 11, 25, 14, 30)  # a Wednesday


def sessions():
    rows = [
        # start, end, rating, status
        ("2026-11-25 09:00", "2026-11-25 10:00", 5, "completed"),
        ("2026-11-24 09:00", "2026-11-24 10:00", 3, "completed"),
        ("2026-11-23 09:00", "2026-11-23 10:30", None, "completed"),
        ("2026-11-22 09:00", "2026-11-22 10:00", None, "no_show"),
        ("2026-11-20 09:00", "2026-11-20 10:00", 4, "cancelled"),   # cancelled: not rated, not held
        ("2026-11-15 09:00", "2026-11-15 10:00", 2, "completed"),   # previous 7 days
        ("2026-11-25 16:00", "2026-11-25 17:00", 5, "completed"),   # after `at`: excluded by the loader window
    ]
    df = pd.DataFrame(rows, columns=["start_time", "end_time", "rating", "status"])
    df["start_time"] = pd.to_datetime(df["start_time"])
    df["end_time"] = pd.to_datetime(df["end_time"])
    return df[df["start_time"] <= AT]


def bookings():
    times = (["2026-11-25 14:00"] * 3 + ["2026-11-25 14:45"]            # this hour: 3 held + 1 cancelled below
             + ["2026-11-18 14:10"] * 2                                 # same hour last week: 2
             + ["2026-11-25 20:00"] * 2                                 # later today
             + ["2026-11-04 10:00"] * 4 + ["2026-11-11 10:00"] * 6)     # same weekday, earlier weeks
    status = ["scheduled"] * 3 + ["cancelled"] + ["completed"] * 2 + ["scheduled"] * 2 + ["completed"] * 10
    return pd.DataFrame({"scheduled_time": pd.to_datetime(times), "status": status})


def inputs(**kw):
    tutors = pd.DataFrame({"tutor_id": ["t1", "t2", "t3"], "status": ["active", "active", "inactive"]})
    availability = pd.DataFrame({"tutor_id": ["t1", "t1", "t2", "t3"], "start_hour": [9, 14, 10, 9],
                                 "end_hour": [12, 16, 11, 17]})
    base = dict(sessions=sessions(), bookings=bookings(), tutors=tutors, availability=availability, at=AT)
    base.update(kw)
    return OverviewInputs(**base)


def test_cards_match_hand_computed_values():
    cards = overview_metrics(inputs(risk_now=12, customers_scored=100, open_critical=2,
                                    coverage_24h=pd.DataFrame({"subject": ["math", "sat_prep"], "coverage": [1.4, 0.7]})))
    assert cards["sessions_this_hour"]["value"] == 3          # the cancelled 14:45 booking does not count
    assert cards["sessions_this_hour"]["previous"] == 2
    assert cards["sessions_this_hour"]["trend"] == "up"
    assert cards["sessions_today"]["value"] == 5               # 3 this hour + 2 later today
    # target: mean of the same weekday 1..4 weeks back = (2 + 6 + 4 + 0) / 4 = 3
    assert cards["sessions_today"]["target"] == pytest.approx(3.0)
    assert cards["sessions_today"]["status"] == "green"
    # ratings in the last 7 days: 5 and 3 (cancelled and unrated ignored)
    assert cards["avg_rating_7d"]["value"] == pytest.approx(4.0)
    assert cards["avg_rating_7d"]["previous"] == pytest.approx(2.0)
    assert cards["csat_7d"]["value"] == pytest.approx(0.5)
    # utilization: held hours 1 + 1 + 1.5 + 1 (no-show) = 4.5; weekly available hours of active tutors 3 + 2 + 1 = 6
    assert cards["tutor_utilization"]["value"] == pytest.approx(4.5 / 6)
    assert cards["supply_balance"]["value"] == pytest.approx(0.7)
    assert cards["supply_balance"]["subject"] == "sat_prep" and cards["supply_balance"]["status"] == "red"
    assert cards["customers_at_risk"]["value"] == 12 and cards["customers_at_risk"]["status"] == "green"
    assert cards["open_critical_alerts"]["value"] == 2 and cards["open_critical_alerts"]["status"] == "yellow"
    assert len(cards["sessions_today"]["sparkline"]) == 7


def test_missing_inputs_give_grey_cards_not_errors():
    empty_s = sessions().iloc[0:0]
    cards = overview_metrics(inputs(sessions=empty_s, bookings=bookings().iloc[0:0]))
    assert cards["avg_rating_7d"]["value"] is None and cards["avg_rating_7d"]["status"] == "grey"
    assert cards["supply_balance"]["status"] == "grey"
    assert cards["customers_at_risk"]["value"] is None
    assert "score job" in cards["customers_at_risk"]["why"]


@pytest.mark.parametrize("value,expected", [(4.3, "green"), (4.29, "yellow"), (4.0, "yellow"), (3.99, "red")])
def test_rating_thresholds(value, expected):
    assert status_for("avg_rating_7d", value) == expected


def test_thresholds_are_configurable():
    assert status_for("avg_rating_7d", 4.1, thresholds={"avg_rating_7d": {"direction": "high", "yellow": 4.0, "red": 3.5}}) == "green"


def test_trend_tolerance():
    assert trend(101, 100) == "flat" and trend(103, 100) == "up" and trend(97, 100) == "down" and trend(5, None) == "flat"
