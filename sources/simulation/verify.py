"""The contract's definitions computed on the generated frames, to record (and double-check) the
planted incidents: first-session success per tutor and week, and the seven alert triggers."""
from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd

TRIGGERS = ("calls_14d", "first_session_low_rating", "inactive_14d", "goal_completed", "day7_nudge",
            "velocity_drop", "inactive_21d")


def first_sessions(sessions: pd.DataFrame, at: datetime | None = None) -> pd.DataFrame:
    """Each customer's earliest completed/no_show session (started by `at`)."""
    s = sessions[sessions["status"].isin(["completed", "no_show"])]
    if at is not None:
        s = s[s["start_time"] <= at]
    return s.sort_values("start_time", kind="stable").drop_duplicates("customer_id")


def success_rate(first: pd.DataFrame) -> tuple[float, int]:
    """(successes / rated completed first sessions, number of first sessions)."""
    rated = first[(first["status"] == "completed") & first["rating"].notna()]
    rate = float((rated["rating"] >= 4).mean()) if len(rated) else float("nan")
    return rate, len(first)


def tutor_weeks(sessions: pd.DataFrame, tutor_id: str, end: datetime) -> dict:
    first = first_sessions(sessions, end)
    mine = first[first["tutor_id"] == tutor_id]
    week = timedelta(days=7)
    prev = mine[(mine["start_time"] > end - 2 * week) & (mine["start_time"] <= end - week)]
    last = mine[(mine["start_time"] > end - week) & (mine["start_time"] <= end)]
    (p, pn), (n, nn) = success_rate(prev), success_rate(last)
    return {"prev_rate": round(p, 4), "new_rate": round(n, 4), "prev_first_sessions": pn, "new_first_sessions": nn}


def firing(frames: dict[str, pd.DataFrame], at: datetime) -> dict[str, set]:
    """Customers for whom each contract trigger fires at `at` (see DATA_CONTRACT.md)."""
    d = timedelta(days=1)
    c = frames["customers"]
    c = c[(c["signup_date"] <= at) & ~(c["churned_at"] <= at)]
    eligible = set(c["customer_id"])
    s = frames["sessions"]
    s = s[s["start_time"] <= at]
    done = s[s["status"] == "completed"]
    calls = frames["inbound_calls"]
    calls = calls[(calls["call_date"] > at - 14 * d) & (calls["call_date"] <= at)]
    n_calls = calls.groupby("customer_id").size()
    first = first_sessions(s)
    n_done = done.groupby("customer_id").size()
    last_done = done.groupby("customer_id")["start_time"].max()
    recent14 = set(done.loc[done["start_time"] > at - 14 * d, "customer_id"])

    def in_window(lo: int, hi: int) -> pd.DataFrame:
        return done[(done["start_time"] > at - lo * d) & (done["start_time"] <= at - hi * d)]

    v_now = in_window(28, 0).groupby("customer_id").size() / 4
    v_prev = in_window(56, 28).groupby("customer_id").size() / 4
    v = pd.concat([v_prev.rename("prev"), v_now.rename("now")], axis=1).fillna(0)
    new = c[(c["signup_date"] >= at - 14 * d) & (c["signup_date"] <= at - 7 * d)]
    early = done.merge(new[["customer_id", "signup_date"]], on="customer_id")
    early = early[(early["start_time"] >= early["signup_date"]) & (early["start_time"] < early["signup_date"] + 7 * d)]
    n_early = early.groupby("customer_id").size()
    goal = c[(c["goal_status"] == "completed") & (c["goal_completed_at"] <= at)]
    out = {
        "calls_14d": set(n_calls[n_calls >= 2].index),
        "first_session_low_rating": set(first.loc[first["rating"] < 3, "customer_id"]),
        "inactive_14d": set(n_done[n_done >= 3].index) - recent14,
        "goal_completed": set(goal["customer_id"]),
        "day7_nudge": {x for x in new["customer_id"] if n_early.get(x, 0) < 3},
        "velocity_drop": set(v[(v["prev"] >= 2) & (v["now"] <= 1)].index),
        "inactive_21d": set(last_done[last_done <= at - 21 * d].index),
    }
    return {k: v & eligible for k, v in out.items()}


def trigger_incidents(frames: dict[str, pd.DataFrame], at: datetime, scripted: dict[str, list]) -> list[dict]:
    """For each trigger, the scripted customers that really fire it (topped up with organic ones
    to at least 3 when a scale too small leaves fewer)."""
    fire = firing(frames, at)
    out = []
    for name in TRIGGERS:
        chosen = [x for x in scripted.get(name, []) if x in fire[name]]
        chosen += sorted(fire[name] - set(chosen))[: max(0, 3 - len(chosen))]
        out += [{"kind": "trigger", "trigger": name, "customer_id": x} for x in chosen]
    return out
