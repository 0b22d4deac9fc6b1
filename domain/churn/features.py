"""Churn features and labels as of a snapshot time T: only what was known at T.

`snapshot_features(frames, at)` -> one row per customer eligible at T (signed up by T, not churned at T)
with the model's inputs (FEATURES). `labels(customers, at)` -> the contract's churn label.

What "known at T" means for each record (nothing here reads a row's present state blindly):

* customers: `signup_date`, `segment`, `acquisition_channel` are static. `status` and `updated_at` are
  never read (they describe today, and a paused-then-churned customer would leak through them);
  churned at T = `churned_at <= T` (a `churned` status with no date counts as churned, as in
  domain.customers.triggers); the goal is completed at T only when `goal_completed_at <= T` (completed with
  no date: the status is trusted, as the triggers do).
* sessions: those with `start_time <= T` (the contract's "a session counts once it starts"); a rating
  is used only when the row's `updated_at <= T` (a rating given after T was not known at T).
* bookings: those with `created_at <= T`; their status at T is the stored status when `updated_at <=
  T`, else `scheduled` (a booking is created scheduled and changes once: completed, cancelled,
  rescheduled or no-show at its `updated_at`).
* inbound_calls: `call_date <= T`.

Everything is column-wise numpy over a `History` built once, so training can cut many snapshots
from the same loaded frames cheaply.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from domain.contract import CHANNELS, SEGMENTS
from domain.customers.triggers import DAY_NS, NAT, _dt, _ids, _ns, as_timestamp

NEVER = np.iinfo(np.int64).max
BOOKING_STATUS = {"scheduled": 0, "completed": 1, "cancelled": 2, "rescheduled": 3, "no_show": 4}
FIRST_OUTCOMES = ("none_yet", "no_show", "rated_low", "rated_3", "rated_good", "unrated")
GOAL_STATES = ("none", "in_progress", "completed")


@dataclass(frozen=True)
class Feature:
    name: str
    kind: str  # "count" (log1p then scaled), "num" (scaled), "flag" (0/1), "cat" (one-hot)
    label: str  # plain words for a CS agent
    text: str  # how a value reads, "{v}" formatted by the explainer
    categories: tuple[str, ...] = ()


FEATURES: tuple[Feature, ...] = (
    Feature("tenure_days", "num", "Time as a customer", "customer for {v:.0f} days"),
    Feature("new_30d", "flag", "Signed up in the last 30 days", "{yes}signed up in the last 30 days"),
    Feature("new_90d", "flag", "Signed up in the last 90 days", "{yes}signed up in the last 90 days"),
    Feature("segment", "cat", "Customer segment", "segment {v}", SEGMENTS),
    Feature("channel", "cat", "Acquisition channel", "came through {v}", CHANNELS),
    Feature("first_session", "cat", "First-session outcome", "first session: {v}", FIRST_OUTCOMES),
    Feature("no_first_session_10d", "flag", "No first session 10+ days after signup",
            "{yes}no first session 10+ days after signup"),
    Feature("sessions_total", "count", "Completed sessions so far", "{v:.0f} completed sessions so far"),
    Feature("sessions_28d", "count", "Sessions in the last 28 days", "{v:.0f} sessions in the last 28 days"),
    Feature("sessions_prev_28d", "count", "Sessions in the 28 days before", "{v:.0f} sessions in the 28 days before"),
    Feature("velocity_change", "num", "Change in sessions per week", "sessions/week changed by {v:+.2f}"),
    Feature("velocity_drop", "flag", "Velocity fell from 2+/week to 1 or fewer",
            "{yes}sessions fell from 2+/week to 1 or fewer"),
    Feature("days_since_last_session", "num", "Days since the last completed session",
            "{v:.0f} days since the last completed session"),
    Feature("idle_nothing_booked", "num", "Days idle with nothing booked",
            "{v:.0f} days without a session and nothing booked"),
    Feature("upcoming_bookings", "count", "Sessions booked for the next 14 days",
            "{v:.0f} sessions booked for the next 14 days"),
    Feature("avg_rating_90d", "num", "Average rating given (90 days)", "average rating {v:.1f} over 90 days"),
    Feature("rated_sessions_90d", "count", "Rated sessions (90 days)", "{v:.0f} rated sessions in 90 days"),
    Feature("low_ratings_30d", "count", "Sessions rated 2 or lower (30 days)", "{v:.0f} sessions rated 2 or lower in 30 days"),
    Feature("bad_rating_7d", "flag", "Rated a session 2 or lower this week", "{yes}rated a session 2 or lower in the last 7 days"),
    Feature("tutor_no_shows_30d", "count", "Tutor no-shows (30 days)", "{v:.0f} tutor no-shows in 30 days"),
    Feature("tutor_no_show_7d", "flag", "Tutor no-show this week", "{yes}a tutor no-show in the last 7 days"),
    Feature("calls_14d", "count", "Support calls (14 days)", "{v:.0f} support calls in the last 14 days"),
    Feature("calls_14d_new", "count", "Support calls (14 days) while new", "{v:.0f} support calls in 14 days while new"),
    Feature("calls_90d", "count", "Support calls (90 days)", "{v:.0f} support calls in the last 90 days"),
    Feature("call_rate", "num", "Support calls per month (90 days)", "{v:.1f} support calls a month over 90 days"),
    Feature("tutor_switches_90d", "count", "Tutor changes (90 days)", "changed tutor {v:.0f} times in 90 days"),
    Feature("tutor_consistency", "num", "Sessions with their main tutor (90 days)",
            "{v:.0%} of recent sessions with their main tutor"),
    Feature("customer_reschedules_30d", "count", "Sessions they rescheduled (30 days)",
            "rescheduled {v:.0f} sessions in 30 days"),
    Feature("tutor_reschedules_30d", "count", "Sessions the tutor rescheduled (30 days)",
            "the tutor rescheduled {v:.0f} sessions in 30 days"),
    Feature("cancellations_30d", "count", "Cancelled sessions (30 days)", "{v:.0f} cancelled sessions in 30 days"),
    Feature("goal", "cat", "Goal status", "goal {v}", GOAL_STATES),
    Feature("goal_completed_30d", "flag", "Goal completed in the last 30 days", "{yes}completed their goal in the last 30 days"),
)
FEATURE_NAMES = [f.name for f in FEATURES]
BY_NAME = {f.name: f for f in FEATURES}
CATEGORICAL = [f.name for f in FEATURES if f.kind == "cat"]
NUMERIC = [f.name for f in FEATURES if f.kind != "cat"]
IDLE_CAP_DAYS = 120
TENURE_CAP_DAYS = 730


def _codes(values: pd.Series, index: pd.Index) -> np.ndarray:
    """Each value's position in `index` (-1: not there). A categorical column (the job's compact reads) is
    looked up once per category instead of once per row."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        where = index.get_indexer(_ids(pd.Series(values.cat.categories)))
        codes = values.cat.codes.to_numpy()
        return np.where(codes >= 0, where[np.maximum(codes, 0)], -1)
    return index.get_indexer(_ids(values))


def _col(frame: pd.DataFrame | None, name: str, n: int, default=None) -> np.ndarray:
    if frame is None or name not in frame:
        return np.full(n, default, dtype=object)
    return frame[name].to_numpy(dtype=object)


class History:
    """Contract frames parsed once: times as int64 ns, rows keyed by customer position, sorted by time.

    frames: "customers" (required), "sessions", "bookings", "inbound_calls" (missing ones are empty).
    """

    def __init__(self, frames: dict[str, pd.DataFrame]):
        cust = frames["customers"].drop_duplicates("customer_id", keep="last").reset_index(drop=True)
        n = len(cust)
        self.ids = _ids(cust["customer_id"]).to_numpy(dtype=object)
        index = pd.Index(self.ids)
        self.signup = _dt(cust["signup_date"]).dt.normalize().to_numpy(dtype="datetime64[ns]").view("int64")
        churn = _ns(cust["churned_at"]) if "churned_at" in cust else np.full(n, NAT)
        no_date = (_col(cust, "status", n) == "churned") & (churn == NAT)
        self.churn = np.where(churn == NAT, NEVER, churn)
        self.churn[no_date] = np.iinfo(np.int64).min + 1  # churned, date unknown: churned for every T
        self.segment = _col(cust, "segment", n, "unknown")
        self.channel = _col(cust, "acquisition_channel", n, "unknown")
        goal_status = _col(cust, "goal_status", n, "none")
        goal_at = _ns(cust["goal_completed_at"]) if "goal_completed_at" in cust else np.full(n, NAT)
        self.goal_set = np.isin(goal_status, ("in_progress", "completed"))
        said_done = goal_status == "completed"
        # completed with no time: trusted as completed long ago (domain.customers.triggers does the same)
        self.goal_done = np.where(said_done, np.where(goal_at == NAT, np.iinfo(np.int64).min + 1, goal_at), NEVER)
        self.n = n
        self._sessions(frames.get("sessions"), index)
        self._bookings(frames.get("bookings"), index)
        self._calls(frames.get("inbound_calls"), index)

    def _sessions(self, s: pd.DataFrame | None, index: pd.Index) -> None:
        if s is None or s.empty:
            s = pd.DataFrame({c: pd.Series(dtype=object) for c in
                              ("customer_id", "tutor_id", "start_time", "status", "rating", "updated_at")})
        code = _codes(s["customer_id"], index)
        t = _ns(s["start_time"])
        keep = (code >= 0) & (t != NAT)
        order = np.argsort(t[keep], kind="stable")
        pick = np.flatnonzero(keep)[order]
        self.s_code, self.s_t = code[pick], t[pick]
        status = s["status"].to_numpy(dtype=object)[pick]
        self.s_done = status == "completed"
        self.s_noshow = status == "no_show"
        self.s_rating = pd.to_numeric(s["rating"], errors="coerce").to_numpy(dtype=float)[pick]
        # what the customer paid (the contract's optional price; NaN when the source does not say)
        self.s_price = (pd.to_numeric(s["price"], errors="coerce").to_numpy(dtype=float)[pick] if "price" in s
                        else np.full(len(pick), np.nan))
        upd = _ns(s["updated_at"])[pick] if "updated_at" in s else self.s_t.copy()
        self.s_rating_t = np.where(upd == NAT, self.s_t, np.maximum(upd, self.s_t))  # when the rating was known
        if isinstance(s["tutor_id"].dtype, pd.CategoricalDtype):  # already a code per tutor
            self.s_tutor = s["tutor_id"].cat.codes.to_numpy().astype(np.int64)[pick]
        else:
            tutors = s["tutor_id"].astype(str).to_numpy(dtype=object)[pick]
            self.s_tutor = pd.factorize(tutors)[0] if len(tutors) else np.zeros(0, dtype=np.int64)
        # First session (contract): earliest completed/no-show; ties -> completed first (sorted by time, then status)
        counts = self.s_done | self.s_noshow
        idx = np.flatnonzero(counts)
        ranked = idx[np.lexsort((~self.s_done[idx], self.s_t[idx], self.s_code[idx]))]
        first_rows = ranked[np.r_[True, self.s_code[ranked][1:] != self.s_code[ranked][:-1]]] if len(ranked) else ranked
        self.fs_row = np.full(self.n, -1, dtype=np.int64)
        self.fs_row[self.s_code[first_rows]] = first_rows
        # a tutor change = a counted session whose tutor differs from the customer's previous counted session
        by_cust = idx[np.lexsort((self.s_t[idx], self.s_code[idx]))]
        changed = np.zeros(len(by_cust), dtype=bool)
        changed[1:] = ((self.s_code[by_cust][1:] == self.s_code[by_cust][:-1])
                       & (self.s_tutor[by_cust][1:] != self.s_tutor[by_cust][:-1]))
        self.s_switch = np.zeros(len(self.s_t), dtype=bool)
        self.s_switch[by_cust[changed]] = True

    def _bookings(self, b: pd.DataFrame | None, index: pd.Index) -> None:
        if b is None or b.empty:
            b = pd.DataFrame({c: pd.Series(dtype=object) for c in
                              ("customer_id", "scheduled_time", "created_at", "status", "rescheduled_by", "updated_at")})
        code = _codes(b["customer_id"], index)
        created = _ns(b["created_at"])
        keep = (code >= 0) & (created != NAT)
        self.b_code, self.b_created = code[keep], created[keep]
        self.b_sched = _ns(b["scheduled_time"])[keep]
        upd = _ns(b["updated_at"])[keep]
        self.b_upd = np.where(upd == NAT, self.b_created, upd)
        self.b_status = pd.Series(b["status"].to_numpy(dtype=object)[keep]).map(BOOKING_STATUS).fillna(0).to_numpy(np.int8)
        self.b_rby = _col(b, "rescheduled_by", len(b))[keep]

    def _calls(self, k: pd.DataFrame | None, index: pd.Index) -> None:
        if k is None or k.empty:
            self.k_code, self.k_t = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
            return
        code = _codes(k["customer_id"], index)
        t = _ns(k["call_date"])
        keep = (code >= 0) & (t != NAT)
        self.k_code, self.k_t = code[keep], t[keep]

    def eligible(self, at_ns: int) -> np.ndarray:
        """Signed up by T (signup date at 00:00 <= T) and not churned at T (churned_at > T or none)."""
        return (self.signup <= at_ns) & (self.churn > at_ns)

    def data_start(self, at_ns: int, window_days: int = 180) -> int:
        """Where dense history begins in the `window_days` before T: the first day with sessions at a
        quarter of the median daily count (a store may hold a customer's first session from years ago
        and little else before the period it was loaded for). Returns ns."""
        lo = at_ns - window_days * DAY_NS
        t = self.s_t[(self.s_t > lo) & (self.s_t <= at_ns)]
        if not len(t):
            return lo
        days = np.bincount((t - lo) // DAY_NS, minlength=window_days)
        busy = np.flatnonzero(days >= 0.25 * max(np.median(days), 1))
        return lo + int(busy[0]) * DAY_NS if len(busy) else lo


def _bincount(codes: np.ndarray, n: int, weights=None) -> np.ndarray:
    return np.bincount(codes, weights=weights, minlength=n)


def features_at(h: History, at_ns: int) -> pd.DataFrame:
    """The FEATURES of every customer eligible at T (ns), plus customer_id. No data after T is read."""
    who = np.flatnonzero(h.eligible(at_ns))
    n = h.n
    day = DAY_NS
    # sessions started by T (sorted by time: a prefix)
    upto = np.searchsorted(h.s_t, at_ns, side="right")
    sc, st = h.s_code[:upto], h.s_t[:upto]
    done, noshow = h.s_done[:upto], h.s_noshow[:upto]
    rating = np.where(h.s_rating_t[:upto] <= at_ns, h.s_rating[:upto], np.nan)
    age = at_ns - st
    total = _bincount(sc[done], n)
    s28 = _bincount(sc[done & (age < 28 * day)], n)
    prev28 = _bincount(sc[done & (age >= 28 * day) & (age < 56 * day)], n)
    last = np.full(n, NAT, dtype=np.int64)
    np.maximum.at(last, sc[done], st[done])
    tenure = (at_ns - h.signup) / day
    idle = np.where(last != NAT, (at_ns - last) / day, tenure)
    rated90 = done & ~np.isnan(rating) & (age < 90 * day)
    n_rated = _bincount(sc[rated90], n)
    sum_rated = _bincount(sc[rated90], n, rating[rated90])
    low = done & (rating <= 2)
    recent90 = done & (age < 90 * day)
    # tutor consistency: share of completed sessions in 90 days with the customer's most frequent tutor
    pairs = sc[recent90].astype(np.int64) * (int(h.s_tutor.max(initial=0)) + 1) + h.s_tutor[:upto][recent90]
    uniq, cnt = np.unique(pairs, return_counts=True)
    top = np.zeros(n)
    np.maximum.at(top, uniq // (int(h.s_tutor.max(initial=0)) + 1), cnt)
    n90 = _bincount(sc[recent90], n)

    fs = h.fs_row
    has_fs = (fs >= 0) & (h.s_t[np.maximum(fs, 0)] <= at_ns)
    fr = np.where(has_fs & (h.s_rating_t[np.maximum(fs, 0)] <= at_ns), h.s_rating[np.maximum(fs, 0)], np.nan)
    f_done = has_fs & h.s_done[np.maximum(fs, 0)]
    first = np.select([~has_fs, ~f_done, np.isnan(fr), fr < 3, fr < 4], 
                      ["none_yet", "no_show", "unrated", "rated_low", "rated_3"], "rated_good").astype(object)

    kc = h.k_code[h.k_t <= at_ns]
    kage = at_ns - h.k_t[h.k_t <= at_ns]
    calls14 = _bincount(kc[kage < 14 * day], n)
    calls90 = _bincount(kc[kage < 90 * day], n)

    known = h.b_created <= at_ns
    changed = known & (h.b_upd <= at_ns)
    status_at = np.where(changed, h.b_status, 0)
    bc = h.b_code
    upcoming = _bincount(bc[known & (status_at == 0) & (h.b_sched > at_ns) & (h.b_sched <= at_ns + 14 * day)], n)
    recent_change = changed & (h.b_upd > at_ns - 30 * day)
    resched = recent_change & (h.b_status == 3)
    by_customer = resched & (h.b_rby == "customer")
    cust_res = _bincount(bc[by_customer], n)
    tutor_res = _bincount(bc[resched & (h.b_rby == "tutor")], n)
    cancels = _bincount(bc[recent_change & (h.b_status == 2)], n)

    goal_done = h.goal_done <= at_ns
    goal = np.where(goal_done, "completed", np.where(h.goal_set, "in_progress", "none")).astype(object)
    out = pd.DataFrame({
        "customer_id": h.ids,
        "tenure_days": np.minimum(tenure, TENURE_CAP_DAYS),
        "new_30d": (tenure < 30).astype(float),
        "new_90d": (tenure < 90).astype(float),
        "segment": h.segment, "channel": h.channel,
        "first_session": first,
        "no_first_session_10d": (~has_fs & (tenure > 10)).astype(float),
        "sessions_total": total.astype(float),
        "sessions_28d": s28.astype(float),
        "sessions_prev_28d": prev28.astype(float),
        "velocity_change": (s28 - prev28) / 4.0,
        "velocity_drop": ((prev28 >= 8) & (s28 <= 4)).astype(float),
        "days_since_last_session": np.minimum(idle, IDLE_CAP_DAYS),
        "idle_nothing_booked": np.where(upcoming == 0, np.minimum(idle, IDLE_CAP_DAYS), 0.0),
        "upcoming_bookings": upcoming.astype(float),
        "avg_rating_90d": np.where(n_rated > 0, sum_rated / np.maximum(n_rated, 1), 4.0),
        "rated_sessions_90d": n_rated.astype(float),
        "low_ratings_30d": _bincount(sc[low & (age < 30 * day)], n).astype(float),
        "bad_rating_7d": (_bincount(sc[low & (age < 7 * day)], n) > 0).astype(float),
        "tutor_no_shows_30d": _bincount(sc[noshow & (age < 30 * day)], n).astype(float),
        "tutor_no_show_7d": (_bincount(sc[noshow & (age < 7 * day)], n) > 0).astype(float),
        "calls_14d": calls14.astype(float),
        "calls_14d_new": np.where(tenure < 45, calls14, 0).astype(float),
        "calls_90d": calls90.astype(float),
        "call_rate": calls90 * 30 / np.clip(tenure, 14, 90),
        "tutor_switches_90d": _bincount(sc[h.s_switch[:upto] & (age < 90 * day)], n).astype(float),
        "tutor_consistency": np.where(n90 > 0, top / np.maximum(n90, 1), 1.0),
        "customer_reschedules_30d": cust_res.astype(float),
        "tutor_reschedules_30d": tutor_res.astype(float),
        "cancellations_30d": cancels.astype(float),
        "goal": goal,
        "goal_completed_30d": (goal_done & (h.goal_done > at_ns - 30 * day)).astype(float),
    })
    return out.iloc[who].reset_index(drop=True)[["customer_id", *FEATURE_NAMES]]


def snapshot_features(frames: dict[str, pd.DataFrame], at: datetime | str) -> pd.DataFrame:
    """Features of every customer eligible at `at` (signed up by then, not churned then).

    frames: contract DataFrames "customers" (required), "sessions", "bookings", "inbound_calls".
    Output: customer_id and one column per FEATURES entry (numbers as float, categories as str),
    computed only from what was known at `at` (see the module doc); adding rows dated after `at`
    or changing rows after `at` leaves it unchanged.
    """
    return features_at(History(frames), as_timestamp(at).value)


def labels_at(h: History, at_ns: int, horizon_days: int = 30) -> pd.Series:
    who = h.eligible(at_ns)
    y = (h.churn > at_ns) & (h.churn <= at_ns + horizon_days * DAY_NS)
    return pd.Series(y[who], index=pd.Index(h.ids[who], name="customer_id"), name="churned")


def labels(customers: pd.DataFrame, at: datetime | str, horizon_days: int = 30) -> pd.Series:
    """The contract's churn label at T: for customers not churned at T (and signed up by T), True when
    churned_at falls in (T, T + horizon_days]. Churned exactly at T: not eligible; exactly at T + 30 d:
    churned. Index customer_id (same rows and order as snapshot_features), bool."""
    return labels_at(History({"customers": customers}), as_timestamp(at).value, horizon_days)
