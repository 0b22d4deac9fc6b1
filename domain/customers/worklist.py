"""Customer tasks: a trigger firing for a customer becomes a task (open, waiting, done). Pure rules.

open: the trigger fires and nobody has followed up yet. waiting: an agent logged a contact and set a
follow-up date; the task waits until then. At the follow-up the task opens again when the trigger
still fires, else it is done. A task whose trigger stops firing is done ("cleared").
"""
from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd

from domain.customers.triggers import TRIGGERS

TASK_STATES = ("open", "waiting", "done")
ACTIVE_STATES = ("open", "waiting")
# how long an agent has to act on a task, by priority (1 = call first)
DUE_AFTER = {1: timedelta(days=1), 2: timedelta(days=2), 3: timedelta(days=3), 4: timedelta(days=7),
             5: timedelta(days=14)}
# the follow-up the contact form proposes for an outcome
FOLLOW_UP_DAYS = {"no_answer": 1, "voicemail": 2, "escalated": 3, "reached": 7, "resolved": 14}
MAX_FOLLOW_UP = timedelta(days=90)


def due_at(priority: int, opened_at: datetime) -> datetime:
    return opened_at + DUE_AFTER.get(int(priority), DUE_AFTER[5])


def plan_tasks(active: pd.DataFrame, firing: pd.DataFrame, at: datetime) -> dict[str, pd.DataFrame]:
    """What the worklist should do now.

    active: id, customer_id, trigger, status (open|waiting), waiting_until — tasks not done.
    firing: customer_id, trigger, why — triggers firing now.
    Returns {"new": firing rows without an active task (customer_id, trigger, why, priority, severity,
    due_at), "refresh": active tasks still firing (id, why), "reopen": ids of waiting tasks whose
    follow-up has come and whose trigger still fires, "cleared": ids of tasks whose trigger stopped}."""
    firing = firing[["customer_id", "trigger", "why"]].drop_duplicates(["customer_id", "trigger"])
    key = ["customer_id", "trigger"]
    merged = active.merge(firing, on=key, how="left", indicator=True)
    still = merged["_merge"] == "both"
    due = merged["waiting_until"].notna() & (pd.to_datetime(merged["waiting_until"]) <= pd.Timestamp(at))
    reopen = merged.loc[still & (merged["status"] == "waiting") & due, "id"]
    cleared = merged.loc[~still, "id"]
    refresh = merged.loc[still, ["id", "why"]]
    known = firing.merge(active[key], on=key, how="left", indicator=True)
    new = known.loc[known["_merge"] == "left_only", ["customer_id", "trigger", "why"]].reset_index(drop=True)
    new["priority"] = new["trigger"].map(lambda t: TRIGGERS[t].priority).astype(int)
    new["severity"] = new["trigger"].map(lambda t: TRIGGERS[t].severity)
    new["due_at"] = pd.Timestamp(at) + pd.to_timedelta(
        new["priority"].map(lambda p: DUE_AFTER.get(int(p), DUE_AFTER[5])), unit="s")
    return {"new": new, "refresh": refresh.reset_index(drop=True), "reopen": reopen.astype(int).tolist(),
            "cleared": cleared.astype(int).tolist()}


def check_follow_up(follow_up: datetime | None, at: datetime) -> datetime:
    """A follow-up date for a contact: in the future, at most MAX_FOLLOW_UP ahead; ValueError with a message."""
    if follow_up is None:
        raise ValueError("Choose when to follow up.")
    if follow_up <= at:
        raise ValueError("The follow-up must be in the future.")
    if follow_up - at > MAX_FOLLOW_UP:
        raise ValueError(f"Follow up within {MAX_FOLLOW_UP.days} days.")
    return follow_up
