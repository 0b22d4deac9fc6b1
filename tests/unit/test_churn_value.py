"""Lifetime value and revenue at risk (domain.churn.value), computed by hand on small frames."""
from __future__ import annotations

import math
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from domain.churn.features import History, features_at
from domain.churn.value import expected_days, lifetime_value, worklist_share
from tests.factories import T0, customer, frame, session

D = timedelta(days=1)


def _history(with_price: bool) -> History:
    customers = frame("customers", [customer("steady", signup_date=T0 - 400 * D),
                                    customer("new", signup_date=T0 - 20 * D),
                                    customer("idle", signup_date=T0 - 400 * D),
                                    customer("gone", signup_date=T0 - 400 * D, status="churned",
                                             churned_at=T0 - 5 * D)])
    rows = [session("steady", T0 - (3 + 10 * k) * D) for k in range(9)]  # 9 in the last 90 days
    rows += [session("steady", T0 - 200 * D)]  # outside the window
    rows += [session("new", T0 - 5 * D), session("new", T0 - 12 * D)]
    rows += [session("idle", T0 - 120 * D)]
    rows += [session("steady", T0 + 2 * D)]  # after T: not counted
    sessions = frame("sessions", rows)
    if with_price:
        sessions["price"] = [60.0] * 8 + [np.nan, 999.0, 30.0, 50.0, 70.0, 80.0]
    return History({"customers": customers, "sessions": sessions})


def test_frequency_price_and_survival_make_the_value():
    h = _history(with_price=True)
    at = pd.Timestamp(T0).value
    ids = list(features_at(h, at)["customer_id"])
    assert ids == ["steady", "new", "idle"]  # churned customers are not scored
    p = np.array([0.0, 0.1, 0.5])
    v = lifetime_value(h, at, p, revenue_per_session=45.0).set_index("customer_id")
    steady, new, idle = v.loc["steady"], v.loc["new"], v.loc["idle"]
    assert steady["sessions_per_month"] == pytest.approx(3.0)  # 9 in 90 days
    assert steady["price"] == pytest.approx(60.0) and steady["price_known"]  # unpriced and old sessions left out
    assert steady["clv"] == pytest.approx(3.0 / 30 * 60.0 * 365)  # no risk: a whole year
    assert steady["revenue_at_risk"] == 0
    tenure = (T0 - pd.Timestamp(T0 - 20 * D).normalize()) / D  # signed up 20 days (and some hours) ago
    assert new["sessions_per_month"] == pytest.approx(2 / tenure * 30)  # a newer customer: their own days
    assert new["price"] == pytest.approx(40.0)
    lam = -math.log(0.9) / 30
    assert new["clv"] == pytest.approx(2 / tenure * 40.0 * (1 - math.exp(-365 * lam)) / lam)
    assert new["revenue_at_risk"] == pytest.approx(0.1 * new["clv"])
    assert idle["sessions_per_month"] == 0 and idle["clv"] == 0 and idle["price"] == 45.0 and not idle["price_known"]


def test_without_a_price_column_the_configured_revenue_per_session_stands_in():
    h = _history(with_price=False)
    v = lifetime_value(h, pd.Timestamp(T0).value, np.zeros(3), revenue_per_session=50.0).set_index("customer_id")
    assert (v["price"] == 50.0).all() and not v["price_known"].any()
    assert v.loc["steady", "clv"] == pytest.approx(3.0 / 30 * 50.0 * 365)


def test_expected_days_fall_with_risk_and_the_worklist_share():
    days = expected_days(np.array([0.0, 0.05, 0.3, 1.0]))
    assert days[0] == 365 and 365 > days[1] > days[2] > days[3] >= 0
    assert days[1] == pytest.approx(30 / -math.log(0.95) * (1 - 0.95 ** (365 / 30)))
    r = pd.Series([50.0, 30.0, 10.0, 10.0, np.nan])
    assert worklist_share(r, 2) == pytest.approx(0.8) and worklist_share(pd.Series([0.0]), 5) == 0.0
