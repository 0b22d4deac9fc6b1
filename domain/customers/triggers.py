"""The seven alert triggers of the contract (DATA_CONTRACT.md, "Alert triggers"), for all customers at once.

Conventions, as of a time T (`at`, naive UTC):

* Eligible customers: signed up by T (signup_date, a full timestamp, <= T) and not churned at T. Churned at T
  means churned_at <= T, whatever the current status says (a past T sees customers who churned later
  as active); a customer whose status is `churned` but who has no churned_at is treated as churned.
* Nothing after T is used: a session counts once its start_time <= T (even if it is still running),
  a call once its call_date <= T; later rows are dropped before anything is counted.
* Windows "in the N days up to T" are half-open, (T - N days, T]: an event exactly N days before T is
  outside. "N+ days since X" means T - X >= N days, i.e. no such event in (T - N days, T].
* First session: the earliest session by start_time whose status is `completed` or `no_show`; ties in
  start_time go to the completed one, then to the lowest session_id (string order) - the same rule
  as domain.first_session, so the score and the first-session pages agree.
* signup_date is a full timestamp (the contract keeps the time of day). day7_nudge looks at customers
  whose signup is at least 7 and less than 14 days (exact durations) before T, and counts their
  completed sessions that started in [signup, signup + 7 days], both ends included.
* inactive_21d for a customer who never completed a session: measured from the signup timestamp,
  so someone who signed up 3+ weeks ago and never had a lesson is flagged too.
  inactive_14d needs 3+ completed sessions by definition, so it never fires for them.
* goal_completed with no goal_completed_at: the status is trusted and it fires (the time is unknown,
  so a replay "as of" a past T may flag it early); with a goal_completed_at after T it does not fire
  and the goal counts as in progress at T.
* Triggers are independent: a regular customer idle for 21+ days fires inactive_14d and inactive_21d.

Every function here is pure: DataFrames with the contract's columns in, DataFrames out.
`prepare` and `trigger_facts` are shared with domain.customers.health, which scores the same customers.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

DAY_NS = 86_400 * 10**9
NAT = np.iinfo(np.int64).min  # int64 view of NaT


@dataclass(frozen=True)
class Trigger:
    name: str
    severity: str  # critical | at-risk | re-engagement | cross-sell | nudge
    rule: str  # the contract's rule, in words
    priority: int  # 1 = call first .. 5
    intervention: str  # what a CS agent should do when it fires


TRIGGERS: dict[str, Trigger] = {t.name: t for t in (
    Trigger("calls_14d", "critical", "2 or more inbound calls in the 14 days up to now", 1,
            "Call today: 2+ support calls in 14 days — resolve the open issue"),
    Trigger("first_session_low_rating", "at-risk", "first session rated below 3", 1,
            "Call and rematch with a top-rated tutor: the first session went badly"),
    Trigger("inactive_21d", "at-risk", "21 or more days since the last completed session", 2,
            "Call: no session in 21+ days — find out what stopped them and book the next one"),
    Trigger("velocity_drop", "re-engagement",
            "from 2+ sessions/week (28 days before) to 1 or fewer (last 28 days)", 3,
            "Reach out: sessions dropped from 2+/week to 1 or fewer — offer a fixed weekly slot"),
    Trigger("inactive_14d", "re-engagement", "no completed session in 14 days after 3 or more", 3,
            "Re-engage: no session in 14 days — offer to book the next one with their tutor"),
    Trigger("day7_nudge", "nudge", "fewer than 3 completed sessions in the first 7 days (signed up 7-14 days ago)", 4,
            "Nudge: fewer than 3 sessions in the first week — suggest a regular weekly schedule"),
    Trigger("goal_completed", "cross-sell", "goal completed", 4,
            "Cross-sell: goal completed — congratulate and propose a new goal or subject"),
)}
TRIGGER_COLUMNS = ["customer_id", "trigger", "severity", "why", "value"]

CALLS_MIN, CALLS_DAYS = 2, 14
LOW_RATING = 3.0
INACTIVE_MIN_SESSIONS, INACTIVE_DAYS, INACTIVE_LONG_DAYS = 3, 14, 21
NUDGE_MIN_SESSIONS, NUDGE_FIRST_DAYS, NUDGE_AGE = 3, 7, (7, 14)  # age: 7 <= days since signup < 14
VELOCITY_DAYS, VELOCITY_FROM, VELOCITY_TO = 28, 2.0, 1.0


@dataclass
class Prepared:
    """Inputs cut to what is known at `at` and keyed by customer position.

    customers: eligible customers, RangeIndex, with `signup` (datetime64) added.
    sessions / calls / bookings: rows for eligible customers only (sessions: start_time <= at; calls:
    call_date <= at; bookings: created_at <= at) and only the columns used, with `code` = the
    customer's row in `customers` and `t` = the event time as int64 nanoseconds. calls and
    bookings are None when not given.
    """
    at: pd.Timestamp
    customers: pd.DataFrame
    sessions: pd.DataFrame
    calls: pd.DataFrame
    bookings: pd.DataFrame | None

    @property
    def at_ns(self) -> int:
        return self.at.value


def as_timestamp(at: datetime | str | pd.Timestamp) -> pd.Timestamp:
    ts = pd.Timestamp(at)
    return ts.tz_convert("UTC").tz_localize(None) if ts.tzinfo is not None else ts


def _dt(values: pd.Series) -> pd.Series:
    if not pd.api.types.is_datetime64_any_dtype(values):
        values = pd.to_datetime(values, errors="coerce", utc=True, format="mixed")
    if getattr(values.dt, "tz", None) is not None:
        values = values.dt.tz_convert("UTC").dt.tz_localize(None)
    return values


def _ns(values: pd.Series) -> np.ndarray:
    """Datetimes as int64 nanoseconds (NaT -> NAT), whatever the column's unit."""
    return _dt(values).to_numpy(dtype="datetime64[ns]").view("int64")


def _ids(values: pd.Series) -> pd.Series:
    return values if pd.api.types.is_string_dtype(values) or values.dtype == object else values.astype(str)


def _attach(frame: pd.DataFrame | None, index: pd.Index, time_col: str, at_ns: int,
            columns: list[str]) -> pd.DataFrame | None:
    if frame is None:
        return None
    t = _ns(frame[time_col])
    code = index.get_indexer(_ids(frame["customer_id"]))
    keep = (t != NAT) & (t <= at_ns) & (code >= 0)
    out = pd.DataFrame({c: frame[c].to_numpy()[keep] for c in columns if c in frame})
    out["code"], out["t"] = code[keep], t[keep]
    return out


def prepare(customers: pd.DataFrame, sessions: pd.DataFrame, calls: pd.DataFrame | None, at,
            bookings: pd.DataFrame | None = None) -> Prepared:
    """Eligible customers at `at` and their sessions, calls and bookings known at `at` (see module doc).

    Sessions get two booleans computed once: `done` (status completed) and `counts_first`
    (completed or no_show: may be the first session).
    """
    at = as_timestamp(at)
    cust = customers.drop_duplicates("customer_id", keep="last")
    signup = _dt(cust["signup_date"])
    churned_at = _dt(cust["churned_at"]) if "churned_at" in cust else pd.Series(pd.NaT, index=cust.index)
    churned = (churned_at <= at) | ((cust["status"] == "churned") & churned_at.isna())
    keep = (signup <= at) & ~churned
    cust = cust.loc[keep].reset_index(drop=True)
    cust["customer_id"] = _ids(cust["customer_id"])
    cust["signup"] = signup[keep].to_numpy()
    index = pd.Index(cust["customer_id"])
    sess = _attach(sessions, index, "start_time", at.value, ["session_id", "tutor_id", "subject", "status", "rating"])
    status = sess["status"].to_numpy(dtype=object)
    sess["done"] = status == "completed"
    sess["counts_first"] = sess["done"].to_numpy() | (status == "no_show")
    return Prepared(
        at, cust, sess,
        _attach(calls, index, "call_date", at.value, ["reason_code"]),
        _attach(bookings, index, "created_at", at.value, ["tutor_id", "subject", "scheduled_time", "status"]),
    )


def _count(codes: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(codes, minlength=n).astype(np.int64)


def trigger_facts(prep: Prepared) -> pd.DataFrame:
    """Per eligible customer (same rows as prep.customers): the facts the triggers and the score read.

    Columns: customer_id, signup, days_since_signup (calendar days), tenure_days (exact, float),
    completed_total, completed_28d (in (T-28d, T]), completed_prev_28d (in (T-56d, T-28d]),
    completed_first7 (start in [signup, signup + 7d]), last_completed (NaT if none),
    fs_session_id, fs_status, fs_rating, fs_start, fs_tutor_id, fs_subject (first session, NaN if none),
    calls_14d (in (T-14d, T]), goal, goal_status (as of T), goal_completed_at, goal_done.
    """
    at, at_ns, cust = prep.at, prep.at_ns, prep.customers
    n = len(cust)
    s = prep.sessions
    codes, t = s["code"].to_numpy(), s["t"].to_numpy()
    done = s["done"].to_numpy()
    signup_ns = cust["signup"].to_numpy(dtype="datetime64[ns]").view("int64")
    signup_day_ns = cust["signup"].dt.normalize().to_numpy(dtype="datetime64[ns]").view("int64")

    f = pd.DataFrame({"customer_id": cust["customer_id"], "signup": cust["signup"]})
    f["days_since_signup"] = (at.normalize().value - signup_day_ns) // DAY_NS
    f["tenure_days"] = (at_ns - signup_ns) / DAY_NS
    f["completed_total"] = _count(codes[done], n)
    recent = done & (t > at_ns - VELOCITY_DAYS * DAY_NS)
    f["completed_28d"] = _count(codes[recent], n)
    prev = done & ~recent & (t > at_ns - 2 * VELOCITY_DAYS * DAY_NS)
    f["completed_prev_28d"] = _count(codes[prev], n)
    day0 = signup_ns[codes]
    first7 = done & (t >= day0) & (t <= day0 + NUDGE_FIRST_DAYS * DAY_NS)
    f["completed_first7"] = _count(codes[first7], n)
    last = np.full(n, NAT, dtype=np.int64)
    np.maximum.at(last, codes[done], t[done])
    f["last_completed"] = pd.to_datetime(last.view("datetime64[ns]"))

    # First session: the earliest completed/no-show session; ties -> completed, then lowest session_id.
    fs_mask = s["counts_first"].to_numpy()
    first_t = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first_t, codes[fs_mask], t[fs_mask])
    cand = s.loc[fs_mask & (t == first_t[codes])]
    tied = cand["code"].duplicated(keep=False).to_numpy()
    if tied.any():  # rare: sort only the tied rows
        ranked = cand[tied].assign(_rank=~cand["done"][tied])
        ranked = ranked.sort_values(["code", "_rank", "session_id"], kind="stable").drop_duplicates("code")
        cand = pd.concat([cand[~tied], ranked.drop(columns="_rank")])
    fs = cand.set_index("code")[["session_id", "status", "rating", "t", "tutor_id", "subject"]]
    fs = fs.reindex(pd.RangeIndex(n))
    fs.columns = ["fs_session_id", "fs_status", "fs_rating", "fs_start", "fs_tutor_id", "fs_subject"]
    fs["fs_start"] = pd.to_datetime(fs["fs_start"].fillna(NAT).to_numpy(dtype=np.int64).view("datetime64[ns]"))
    f = pd.concat([f, fs], axis=1)
    f["fs_rating"] = pd.to_numeric(f["fs_rating"], errors="coerce")

    c = prep.calls
    in_window = np.zeros(0, dtype=np.intp) if c is None else \
        c["code"].to_numpy()[c["t"].to_numpy() > at_ns - CALLS_DAYS * DAY_NS]
    f["calls_14d"] = _count(in_window, n)

    completed_at = _dt(cust["goal_completed_at"]) if "goal_completed_at" in cust \
        else pd.Series(pd.NaT, index=cust.index)
    said_done = (cust["goal_status"] == "completed").to_numpy()
    # A goal completed after T was still in progress at T; with no timestamp we trust the status.
    future = said_done & (completed_at > at).to_numpy()
    f["goal"] = cust["goal"] if "goal" in cust else None
    f["goal_status"] = np.where(future, "in_progress", cust["goal_status"].astype(object).fillna("none"))
    f["goal_completed_at"] = completed_at.where(~future)
    f["goal_done"] = said_done & ~future
    return f


def fired(f: pd.DataFrame, at: pd.Timestamp) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """name -> (boolean mask over the facts' rows, the trigger's value for every row)."""
    at_ns = at.value
    last_ns = f["last_completed"].to_numpy(dtype="datetime64[ns]").view("int64")
    has_last = last_ns != NAT
    since_last = np.where(has_last, (at_ns - last_ns) / DAY_NS, np.nan)
    # Never completed a session: inactivity is measured from signup (see inactive_21d in why()).
    since_ref = np.where(has_last, since_last, f["tenure_days"].to_numpy())
    velocity = f["completed_28d"].to_numpy() / 4
    prev_velocity = f["completed_prev_28d"].to_numpy() / 4
    age = f["tenure_days"].to_numpy()
    goal_at = f["goal_completed_at"].to_numpy(dtype="datetime64[ns]").view("int64")
    goal_days = np.where(goal_at != NAT, (at_ns - goal_at) / DAY_NS, np.nan)
    rating = f["fs_rating"].to_numpy(dtype=float)
    return {
        "calls_14d": (f["calls_14d"].to_numpy() >= CALLS_MIN, f["calls_14d"].to_numpy().astype(float)),
        "first_session_low_rating": (rating < LOW_RATING, rating),
        "inactive_21d": (since_ref >= INACTIVE_LONG_DAYS, since_ref),
        "velocity_drop": ((prev_velocity >= VELOCITY_FROM) & (velocity <= VELOCITY_TO), velocity),
        "inactive_14d": ((f["completed_total"].to_numpy() >= INACTIVE_MIN_SESSIONS) & has_last
                         & (since_last >= INACTIVE_DAYS), since_last),
        "day7_nudge": ((age >= NUDGE_AGE[0]) & (age < NUDGE_AGE[1])
                       & (f["completed_first7"].to_numpy() < NUDGE_MIN_SESSIONS),
                       f["completed_first7"].to_numpy().astype(float)),
        "goal_completed": (f["goal_done"].to_numpy(dtype=bool), goal_days),
    }


def _day(values: pd.Series) -> pd.Series:
    arr = values.to_numpy(dtype="datetime64[ns]")
    return pd.Series(np.where(np.isnat(arr), "unknown date", np.datetime_as_string(arr, unit="D")),
                     index=values.index)


def _num(values) -> pd.Series:
    return pd.Series([f"{v:.1f}".rstrip("0").rstrip(".") for v in np.asarray(values, dtype=float)])


def why(name: str, f: pd.DataFrame, value: np.ndarray) -> pd.Series:
    """One sentence per row of `f` (the rows where `name` fired) saying why, with the numbers."""
    v = _num(value).set_axis(f.index)
    if name == "calls_14d":
        return v + " inbound calls in the last 14 days (2 or more is critical)"
    if name == "first_session_low_rating":
        return ("First session on " + _day(f["fs_start"]) + " with tutor " + f["fs_tutor_id"].astype(str)
                + " was rated " + v + " (below 3)")
    if name == "inactive_21d":
        never = f["last_completed"].isna()
        return pd.Series(np.where(
            never, "No completed session since signup on " + _day(f["signup"]) + ", " + v + " days ago",
            v + " days since the last completed session on " + _day(f["last_completed"])), index=f.index)
    if name == "velocity_drop":
        return ("Velocity fell from " + _num(f["completed_prev_28d"] / 4).set_axis(f.index)
                + " to " + v + " sessions/week (last 28 days vs the 28 before)")
    if name == "inactive_14d":
        return ("No completed session in the last 14 days (last on " + _day(f["last_completed"]) + ", "
                + v + " days ago) after " + f["completed_total"].astype(str) + " completed sessions")
    if name == "day7_nudge":
        return ("Only " + v + " completed sessions in the first 7 days after signup on "
                + _day(f["signup"]) + " (fewer than 3)")
    if name == "goal_completed":
        goal = f["goal"].fillna("").astype(str)
        named = np.where(goal != "", "Goal '" + goal + "'", "Goal")
        return pd.Series(named + " completed on " + _day(f["goal_completed_at"]).to_numpy(), index=f.index)
    raise KeyError(name)


def triggers_from_facts(f: pd.DataFrame, at: pd.Timestamp) -> pd.DataFrame:
    """The long trigger table for precomputed facts (see evaluate_triggers)."""
    parts = []
    for order, (name, (mask, value)) in enumerate(fired(f, at).items()):
        if not mask.any():
            continue
        sub = f.loc[mask]
        parts.append(pd.DataFrame({
            "customer_id": sub["customer_id"].to_numpy(), "trigger": name,
            "severity": TRIGGERS[name].severity, "why": why(name, sub, value[mask]).to_numpy(),
            "value": np.round(value[mask], 2), "_row": np.flatnonzero(mask), "_order": order,
        }))
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=float if c == "value" else object) for c in TRIGGER_COLUMNS})
    out = pd.concat(parts, ignore_index=True)
    out = out.iloc[np.lexsort((out["_order"].to_numpy(), out["_row"].to_numpy()))]
    return out[TRIGGER_COLUMNS].reset_index(drop=True)


def evaluate_triggers(customers: pd.DataFrame, sessions: pd.DataFrame, calls: pd.DataFrame,
                      at: datetime) -> pd.DataFrame:
    """Every contract trigger that fires at `at`, one row per (customer, trigger).

    Inputs: contract DataFrames customers, sessions, inbound_calls (rows after `at` are ignored).
    Output columns: customer_id, trigger (a TRIGGERS name), severity (critical | at-risk |
    re-engagement | cross-sell | nudge), why (one sentence with the numbers), value (float):
    calls_14d -> calls in (T-14d, T]; first_session_low_rating -> the rating; inactive_14d /
    inactive_21d -> days since the last completed session (inactive_21d: since signup when the
    customer never completed one); velocity_drop -> velocity now (sessions/week); day7_nudge ->
    completed sessions in the first 7 days; goal_completed -> days since completion (NaN if unknown).
    Rows are ordered by the customer's row in `customers`, then in TRIGGERS order.

    Boundaries: calls_14d needs >= 2 calls with call_date in (T-14d, T]; first_session_low_rating
    needs a rating < 3 (3.0 does not fire; an unrated or no-show first session does not fire);
    inactive_14d: >= 3 completed sessions and the last one at or before T-14d; inactive_21d: the last
    completed session (or, with none, the signup timestamp) at or before T-21d; velocity_drop:
    >= 8 completed sessions in (T-56d, T-28d] and <= 4 in (T-28d, T]; day7_nudge: T - signup_date
    (full timestamps) is at least 7 and less than 14 days and < 3 completed sessions started in
    [signup, signup + 7 days] (both ends included); goal_completed: goal_status `completed` with goal_completed_at <= T
    (or missing).
    """
    prep = prepare(customers, sessions, calls, at)
    return triggers_from_facts(trigger_facts(prep), prep.at)
