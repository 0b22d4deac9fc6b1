"""Pure worklist rules: owners balanced by open workload and kept while at risk (optionally per segment),
tasks opened / kept / reopened at the follow-up / done when cleared, the follow-up checks, and the
morning email's text."""
from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
import pytest

from domain.customers.assignment import assign_owners
from domain.customers.queue_email import render_queue_email
from domain.customers.worklist import check_follow_up, due_at, plan_tasks

AT = datetime(2026, 5, 20, 9, 0)


def needing(n: int, **cols) -> pd.DataFrame:
    return pd.DataFrame({"customer_id": [f"c{i:02d}" for i in range(n)], "priority": [1 + i % 3 for i in range(n)], **cols})


def no_owners() -> pd.DataFrame:
    return pd.DataFrame(columns=["customer_id", "owner_email"])


def test_new_customers_go_to_the_least_loaded_agent():
    owners = pd.DataFrame({"customer_id": ["c00", "c01", "c02"], "owner_email": ["ann", "ann", "ann"]})
    out = assign_owners(needing(9), owners, ["ann", "bob", "cat"])
    assert out.set_index("customer_id").loc[["c00", "c01", "c02"], "owner_email"].tolist() == ["ann"] * 3
    assert out["kept"].sum() == 3
    assert out["owner_email"].value_counts().to_dict() == {"ann": 3, "bob": 3, "cat": 3}


def test_an_inactive_owner_loses_customers_and_the_most_urgent_are_placed_first():
    owners = pd.DataFrame({"customer_id": ["c00", "c01"], "owner_email": ["gone", "bob"]})
    frame = needing(4, revenue_at_risk=[10.0, 0.0, 500.0, 5.0])
    out = assign_owners(frame, owners, ["ann", "bob"]).set_index("customer_id")
    assert out.loc["c01", "owner_email"] == "bob" and out.loc["c00", "owner_email"] != "gone"
    assert out["owner_email"].value_counts().to_dict() == {"ann": 2, "bob": 2}


def test_balanced_within_each_segment_and_nobody_without_agents():
    frame = needing(8, segment=["adult"] * 4 + ["k12"] * 4)
    out = assign_owners(frame, no_owners(), ["ann", "bob"], by="segment").merge(frame, on="customer_id")
    assert out.groupby(["segment", "owner_email"]).size().tolist() == [2, 2, 2, 2]
    assert assign_owners(frame, no_owners(), [])["owner_email"].isna().all()
    assert assign_owners(needing(0), no_owners(), ["ann"]).empty


def active(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["id", "customer_id", "trigger", "status", "waiting_until"])


def test_plan_opens_keeps_reopens_and_closes():
    tasks = active([(1, "c1", "calls_14d", "open", None),
                    (2, "c2", "inactive_21d", "waiting", AT - timedelta(hours=1)),  # follow-up came
                    (3, "c3", "inactive_21d", "waiting", AT + timedelta(days=2)),  # still waiting
                    (4, "c4", "goal_completed", "open", None)])  # no longer fires
    firing = pd.DataFrame({"customer_id": ["c1", "c2", "c3", "c5"],
                           "trigger": ["calls_14d", "inactive_21d", "inactive_21d", "day7_nudge"],
                           "why": ["3 calls", "22 days", "23 days", "1 session"]})
    plan = plan_tasks(tasks, firing, AT)
    assert plan["new"][["customer_id", "trigger", "priority"]].values.tolist() == [["c5", "day7_nudge", 4]]
    assert plan["new"]["due_at"].iloc[0] == AT + timedelta(days=7)
    assert plan["reopen"] == [2] and plan["cleared"] == [4]
    assert sorted(plan["refresh"]["id"].tolist()) == [1, 2, 3]
    empty = plan_tasks(active([]), firing.iloc[0:0], AT)
    assert empty["new"].empty and empty["reopen"] == [] and empty["cleared"] == []


def test_due_dates_and_follow_up_checks():
    assert due_at(1, AT) == AT + timedelta(days=1) and due_at(4, AT) == AT + timedelta(days=7)
    assert check_follow_up(AT + timedelta(days=1), AT) == AT + timedelta(days=1)
    for bad, message in ((None, "Choose when"), (AT, "in the future"), (AT + timedelta(days=91), "within 90 days")):
        with pytest.raises(ValueError, match=message):
            check_follow_up(bad, AT)


def test_morning_email_lists_the_queue_with_how_to_reach_each_customer():
    queue = pd.DataFrame({
        "customer_id": ["c1", "c2"], "name": ["Ada Lovelace", None], "phone": ["+1 555 0100", None],
        "email": ["ada@example.org", None], "priority": [1, 3], "tasks": ["calls_14d", "inactive_14d"],
        "why": ["2 calls", "15 days"], "due_at": [AT - timedelta(hours=2), AT + timedelta(days=2)],
        "overdue": [True, False], "intervention": ["", ""]})
    subject, body = render_queue_email("ann@example.com", queue, AT, "https://ops.example.com/")
    assert subject == "Your queue for Wed 20 May: 2 customers, 1 overdue"
    assert "1. Ada Lovelace (c1) · priority 1 · due 20 May (overdue)" in body
    assert "+1 555 0100 · ada@example.org" in body and "2. c2 (c2)" in body
    assert "https://ops.example.com/customers/c1" in body and "https://ops.example.com/queue" in body
