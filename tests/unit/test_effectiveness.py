"""Intervention effectiveness on hand-made frames: contacted customers are compared with customers of the
same score band and open triggers on the day of contact who were not contacted; outcomes over 30 days."""
from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
import pytest

from domain.customers.effectiveness import matched_pairs, summarize

AT = datetime(2026, 6, 30)
DAY = pd.Timestamp("2026-05-01")
D = timedelta(days=1)


def world(contacted_churn: int, control_churn: int, n: int = 10):
    """n contacted and 2n comparable customers in band 3 with calls_14d open on DAY, plus n in another band."""
    treated = [f"t{i}" for i in range(n)]
    controls = [f"k{i}" for i in range(2 * n)]
    others = [f"o{i}" for i in range(n)]
    contacts = pd.DataFrame({"customer_id": treated, "contacted_at": [DAY + timedelta(hours=10)] * n,
                             "channel": ["phone"] * (n // 2) + ["email"] * (n - n // 2), "outcome": "reached",
                             "user_email": "ann"})
    history = pd.DataFrame({"customer_id": treated + controls + others, "day": DAY,
                            "score": [35.0] * (3 * n) + [80.0] * n})
    tasks = pd.DataFrame({"customer_id": treated + controls, "trigger": "calls_14d",
                          "opened_at": DAY - 3 * D, "done_at": None})
    churned = {c: DAY + 10 * D for c in treated[:contacted_churn] + controls[:control_churn]}
    customers = pd.DataFrame({"customer_id": treated + controls + others,
                              "churned_at": [churned.get(c) for c in treated + controls + others]})
    sessions = pd.DataFrame({"customer_id": treated * 4 + controls * 2,
                             "start_time": [DAY + 5 * D] * (6 * n) + [DAY + 6 * D] * (2 * n)})
    return contacts, history, tasks, customers, sessions


def test_contacted_vs_matched_comparison_with_an_interval():
    pairs = matched_pairs(*world(contacted_churn=2, control_churn=10), AT)
    assert len(pairs) == 10 and set(pairs["c_n"]) == {20}  # the other band is not comparable
    out = summarize(pairs).set_index(["group", "value"])
    overall = out.loc[("all", "all")]
    assert overall["contacted"] == 10 and overall["comparable"] == 20
    assert overall["churn_contacted"] == pytest.approx(0.2) and overall["churn_comparable"] == pytest.approx(0.5)
    assert overall["churn_diff"] == pytest.approx(-0.3)
    assert overall["churn_low"] < -0.3 < overall["churn_high"]
    assert overall["velocity_contacted"] == pytest.approx(4 / (30 / 7))
    assert overall["velocity_comparable"] == pytest.approx(2 / (30 / 7))
    assert set(out.index) >= {("channel", "phone"), ("channel", "email"), ("outcome", "reached")}


def test_recent_contacts_wait_for_their_outcome_window_and_empty_inputs():
    contacts, history, tasks, customers, sessions = world(1, 1)
    assert matched_pairs(contacts, history, tasks, customers, sessions, DAY + 20 * D).empty
    assert summarize(matched_pairs(contacts.iloc[0:0], history, tasks, customers, sessions, AT)).empty
