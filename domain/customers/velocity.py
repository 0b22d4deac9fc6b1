"""Session velocity and signup cohorts for the velocity & cohorts page: pure functions over contract frames.

Velocity is the contract's: completed sessions with start_time in (T - 28 days, T] divided by 4
(sessions per week). Everything is as of `at` (naive UTC): sessions starting after it, customers
signing up after it and churn after it are not seen.

Cohorts group customers by signup period: `freq="M"` (calendar month, labelled by its first day) or
`"W"` (Monday-Sunday week, labelled by its Monday). "Week k after signup" is the 7-day span
[signup_date + 7k days, signup_date + 7(k+1) days) counted from 00:00 of the signup date; a customer
is *observed* for week k only once that span has fully passed at `at`, so young cohorts are not
diluted by weeks that have not happened yet. Cohort functions include customers who churned later
(a cohort is everyone who signed up in the period); "current" views (velocity, tiers now, histogram)
only include customers not churned at `at`.
"""
from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from domain.customers.triggers import DAY_NS, NAT, _dt, _ids, _ns, as_timestamp, prepare

WEEK_NS = 7 * DAY_NS
DEFAULT_BENCHMARK = 2.0  # sessions/week we hold customers to (= HealthConfig().velocity_target)
FREQS = {"M": "M", "W": "W-SUN"}


def velocity(customers: pd.DataFrame, sessions: pd.DataFrame, at: datetime, window_days: int = 28) -> pd.DataFrame:
    """Velocity of every customer eligible at `at` (signed up by then, not churned then).

    Output columns: customer_id, completed (completed sessions starting in (at - window_days, at]),
    velocity (completed / (window_days / 7): sessions per week; with the default 28 days this is
    the contract's velocity, completed / 4). Customers without sessions get 0.
    """
    prep = prepare(customers, sessions, None, at)
    s = prep.sessions
    recent = (s["status"] == "completed").to_numpy() & (s["t"].to_numpy() > prep.at_ns - window_days * DAY_NS)
    done = np.bincount(s["code"].to_numpy()[recent], minlength=len(prep.customers))
    return pd.DataFrame({"customer_id": prep.customers["customer_id"].to_numpy(dtype=object),
                         "completed": done.astype(np.int64), "velocity": done * 7 / window_days})


class _Base:
    """Every customer signed up by `at` (churned or not) and their completed sessions up to `at`.

    signup_ns: 00:00 of the signup date; churn_ns: churned_at (NAT when not churned by `at`; a
    `churned` status without a date counts as churned at signup); cohort: period start per customer.
    codes/t: completed sessions (customer row, start time ns).
    """

    def __init__(self, customers: pd.DataFrame, sessions: pd.DataFrame, at, freq: str = "M"):
        if freq not in FREQS:
            raise ValueError(f"freq must be one of {', '.join(FREQS)}; got {freq!r}")
        self.at = as_timestamp(at)
        at_ns = self.at.value
        cust = customers.drop_duplicates("customer_id", keep="last")
        signup = _dt(cust["signup_date"]).dt.normalize()
        keep = (signup <= self.at).to_numpy()
        cust, signup = cust.loc[keep], signup[keep]
        self.ids = _ids(cust["customer_id"]).to_numpy(dtype=object)
        self.signup_ns = signup.to_numpy(dtype="datetime64[ns]").view("int64")
        churn = _ns(cust["churned_at"]) if "churned_at" in cust else np.full(len(cust), NAT)
        no_date = (cust["status"] == "churned").to_numpy() & (churn == NAT)
        churn = np.where(no_date, self.signup_ns, churn)
        self.churn_ns = np.where(churn <= at_ns, churn, NAT)
        self.cohort = signup.dt.to_period(FREQS[freq]).dt.start_time.to_numpy()
        t = _ns(sessions["start_time"])
        code = pd.Index(self.ids).get_indexer(_ids(sessions["customer_id"]))
        ok = (sessions["status"] == "completed").to_numpy() & (code >= 0) & (t != NAT) & (t <= at_ns)
        self.codes, self.t = code[ok], t[ok]

    @property
    def n(self) -> int:
        return len(self.ids)

    def eligible_at(self, when_ns: int) -> np.ndarray:
        """Signed up by `when` and not churned at `when`."""
        return (self.signup_ns <= when_ns) & ((self.churn_ns == NAT) | (self.churn_ns > when_ns))


def _cohort_weeks(base: _Base, weeks: int) -> pd.DataFrame:
    """Per cohort and week k < weeks after signup: observed customers, sessions, active, not churned."""
    cohorts, ccode = np.unique(base.cohort, return_inverse=True)
    nc = len(cohorts)
    done_weeks = np.minimum((base.at.value - base.signup_ns) // WEEK_NS, weeks)  # fully passed weeks
    hist = np.bincount(ccode * (weeks + 1) + done_weeks, minlength=nc * (weeks + 1)).reshape(nc, weeks + 1)
    observed = hist[:, ::-1].cumsum(axis=1)[:, ::-1][:, 1:]  # customers with done_weeks > k
    k = (base.t - base.signup_ns[base.codes]) // WEEK_NS
    ok = (k >= 0) & (k < done_weeks[base.codes])
    cell = ccode[base.codes[ok]] * weeks + k[ok]
    sessions = np.bincount(cell, minlength=nc * weeks).reshape(nc, weeks)
    pairs = np.unique(base.codes[ok].astype(np.int64) * weeks + k[ok])
    active = np.bincount(ccode[pairs // weeks] * weeks + pairs % weeks, minlength=nc * weeks).reshape(nc, weeks)
    # still a customer at the end of week k: churned_at (if any) not before signup + 7(k+1) days
    churn_week = np.where(base.churn_ns == NAT, weeks, np.clip((base.churn_ns - base.signup_ns) // WEEK_NS, 0, weeks))
    stay = np.zeros((nc, weeks), dtype=np.int64)
    for week in range(weeks):  # a loop over weeks, not customers
        stay[:, week] = np.bincount(ccode[(done_weeks > week) & (churn_week > week)], minlength=nc)
    size = np.bincount(ccode, minlength=nc)
    return pd.DataFrame({
        "cohort": np.repeat(cohorts, weeks), "cohort_size": np.repeat(size, weeks),
        "week": np.tile(np.arange(weeks), nc),
        "customers": observed.ravel(), "sessions": sessions.ravel(), "active_customers": active.ravel(),
        "not_churned": stay.ravel(),
    })


def cohort_table(customers: pd.DataFrame, sessions: pd.DataFrame, at: datetime, freq: str = "M", weeks: int = 12,
                 benchmark: float = DEFAULT_BENCHMARK) -> pd.DataFrame:
    """Sessions per week by signup cohort and week after signup (only fully passed weeks are counted).

    Output, one row per (cohort, week) with at least one observed customer: cohort (period start),
    cohort_size (customers who signed up in the period by `at`), week (0 = the first 7 days),
    customers (observed for that week), active_customers (with >= 1 completed session that week),
    sessions (completed, started that week), sessions_per_customer (sessions / customers, churned
    customers count as 0), sessions_per_active_customer, benchmark, share_of_benchmark
    (sessions_per_customer / benchmark).
    """
    out = _cohort_weeks(_Base(customers, sessions, at, freq), weeks)
    out = out.loc[out["customers"] > 0].drop(columns="not_churned").reset_index(drop=True)
    out["sessions_per_customer"] = out["sessions"] / out["customers"]
    out["sessions_per_active_customer"] = out["sessions"] / out["active_customers"].where(out["active_customers"] > 0)
    out["benchmark"] = float(benchmark)
    out["share_of_benchmark"] = out["sessions_per_customer"] / benchmark
    return out


def retention_curves(customers: pd.DataFrame, sessions: pd.DataFrame, at: datetime, freq: str = "M",
                     weeks: int = 12, kind: str = "active") -> pd.DataFrame:
    """Share of each signup cohort retained in week k after signup.

    kind="active": retained = had a completed session starting in week k; kind="not_churned":
    retained = churned_at not before the end of week k. Only customers whose week k has fully
    passed are counted. Output columns: cohort, cohort_size, week, customers (observed), retained,
    retention (retained / customers), kind.
    """
    if kind not in ("active", "not_churned"):
        raise ValueError(f"kind must be 'active' or 'not_churned'; got {kind!r}")
    out = _cohort_weeks(_Base(customers, sessions, at, freq), weeks)
    out = out.loc[out["customers"] > 0].reset_index(drop=True)
    out["retained"] = out["active_customers" if kind == "active" else "not_churned"]
    out["retention"] = out["retained"] / out["customers"]
    out["kind"] = kind
    return out[["cohort", "cohort_size", "week", "customers", "retained", "retention", "kind"]]


def time_to_nth_session(customers: pd.DataFrame, sessions: pd.DataFrame, at: datetime, n: tuple[int, ...] = (2, 3),
                        freq: str = "M", since: str = "signup", per_customer: bool = False) -> pd.DataFrame:
    """Days to a customer's n-th completed session, as a distribution per customer or a summary per cohort.

    since="signup": days from 00:00 of the signup date; since="first_session": days from the first
    completed session (n=1 is then 0). per_customer=True returns customer_id, cohort, n, days
    (NaN when not reached by `at`). Otherwise one row per (cohort, n): cohort, n, customers,
    reached, share_reached, median_days, p25_days, p75_days (quantiles over those who reached it;
    young cohorts have had less time, so compare share_reached alongside).
    """
    if since not in ("signup", "first_session"):
        raise ValueError(f"since must be 'signup' or 'first_session'; got {since!r}")
    base = _Base(customers, sessions, at, freq)
    order = np.lexsort((base.t, base.codes))
    codes, t = base.codes[order], base.t[order]
    starts = np.flatnonzero(np.r_[True, np.diff(codes) != 0]) if len(codes) else np.array([], dtype=int)
    rank = np.arange(len(codes)) - np.repeat(starts, np.diff(np.r_[starts, len(codes)]))
    origin = base.signup_ns.astype(float)
    if since == "first_session":
        origin = np.full(base.n, np.nan)
        origin[codes[rank == 0]] = t[rank == 0]
    rows = []
    for nth in n:
        days = np.full(base.n, np.nan)
        hit = rank == nth - 1
        days[codes[hit]] = (t[hit] - origin[codes[hit]]) / DAY_NS
        rows.append(pd.DataFrame({"customer_id": base.ids, "cohort": base.cohort, "n": nth, "days": days}))
    long = pd.concat(rows, ignore_index=True)
    if per_customer:
        return long
    g = long.groupby(["cohort", "n"], sort=True)["days"]
    out = pd.DataFrame({"customers": g.size(), "reached": g.count(), "median_days": g.median(),
                        "p25_days": g.quantile(0.25), "p75_days": g.quantile(0.75)}).reset_index()
    out["share_reached"] = out["reached"] / out["customers"]
    return out[["cohort", "n", "customers", "reached", "share_reached", "median_days", "p25_days", "p75_days"]]


def _tier_labels(edges: tuple[float, ...]) -> list[str]:
    labels = ["0", f"<{edges[0]:g}"]
    labels += [f"{lo:g}-{hi:g}" for lo, hi in zip(edges[:-1], edges[1:])]
    return labels + [f"{edges[-1]:g}+"]


def _tier_index(v: np.ndarray, edges: tuple[float, ...]) -> np.ndarray:
    return np.where(v <= 0, 0, 1 + np.searchsorted(np.asarray(edges), v, side="right"))


def velocity_tiers(customers: pd.DataFrame, sessions: pd.DataFrame, at: datetime, edges: tuple[float, ...] = (1, 2, 3),
                   horizon_days: int = 30) -> pd.DataFrame:
    """Customers by velocity tier now, and how often each tier churned within `horizon_days`.

    Tiers (sessions/week): "0", "<1" (0 < v < 1), "1-2" (1 <= v < 2), "2-3", "3+" for the default
    edges. Now: customers eligible at `at`. Churn rate: customers eligible at S = at - horizon_days,
    tiered by their velocity at S, churned = churned_at in (S, at] (the contract's churn label, looked
    at in the past so it is known). Output columns: tier, order, customers, share,
    customers_at_start, churned, churn_rate.
    """
    edges = tuple(float(e) for e in edges)
    if not edges or any(b <= a for a, b in zip(edges, edges[1:])) or edges[0] <= 0:
        raise ValueError("edges must be increasing positive numbers")
    base = _Base(customers, sessions, at)
    at_ns, start_ns = base.at.value, base.at.value - horizon_days * DAY_NS
    labels = _tier_labels(edges)

    def tier_at(when_ns: int) -> np.ndarray:
        recent = (base.t > when_ns - 28 * DAY_NS) & (base.t <= when_ns)
        return _tier_index(np.bincount(base.codes[recent], minlength=base.n) / 4, edges)

    now = base.eligible_at(at_ns)
    then = base.eligible_at(start_ns)
    churned = then & (base.churn_ns != NAT) & (base.churn_ns > start_ns) & (base.churn_ns <= at_ns)
    k = len(labels)
    counts = np.bincount(tier_at(at_ns)[now], minlength=k)
    tier_then = tier_at(start_ns)
    at_start = np.bincount(tier_then[then], minlength=k)
    lost = np.bincount(tier_then[churned], minlength=k)
    return pd.DataFrame({
        "tier": labels, "order": np.arange(k), "customers": counts,
        "share": counts / max(counts.sum(), 1), "customers_at_start": at_start, "churned": lost,
        "churn_rate": np.where(at_start > 0, lost / np.maximum(at_start, 1), np.nan),
    })


def frequency_histogram(customers: pd.DataFrame, sessions: pd.DataFrame, at: datetime, window_days: int = 28,
                        max_sessions: int = 12) -> pd.DataFrame:
    """How many completed sessions each customer eligible at `at` had in (at - window_days, at].

    Output, one row per count 0..max_sessions (the last row is "max_sessions or more"): sessions,
    label ("12+" for the last), per_week (sessions / weeks in the window), customers, share.
    """
    v = velocity(customers, sessions, at, window_days)
    bucket = np.minimum(v["completed"].to_numpy(), max_sessions)
    counts = np.bincount(bucket, minlength=max_sessions + 1)
    values = np.arange(max_sessions + 1)
    return pd.DataFrame({
        "sessions": values, "label": [str(x) for x in values[:-1]] + [f"{max_sessions}+"],
        "per_week": values * 7 / window_days, "customers": counts, "share": counts / max(counts.sum(), 1),
    })


def velocity_trend(customers: pd.DataFrame, sessions: pd.DataFrame, at: datetime, weeks: int = 26,
                   benchmark: float = DEFAULT_BENCHMARK, min_tenure_days: int = 28) -> pd.DataFrame:
    """Weekly velocity over time: for each week end W = at - 7k days (k = weeks-1 .. 0), velocity
    (completed in (W - 28d, W] / 4) of the customers eligible at W who had signed up at least
    `min_tenure_days` before W (younger ones have not had 28 days to show a pace).

    Output, oldest week first: week_end, customers, median_velocity, mean_velocity, p25_velocity,
    p75_velocity, share_at_benchmark (velocity >= benchmark), benchmark.
    """
    base = _Base(customers, sessions, at)
    at_ns = base.at.value
    span = weeks + 3  # 4 buckets of 7 days per 28-day window
    b = (at_ns - base.t) // WEEK_NS  # bucket 0 = (at - 7d, at]
    ok = b < span
    counts = np.bincount(base.codes[ok] * span + b[ok], minlength=base.n * span).reshape(base.n, span).astype(np.int32)
    rows = []
    for k in range(weeks - 1, -1, -1):
        end = at_ns - k * WEEK_NS
        who = base.eligible_at(end) & (base.signup_ns <= end - min_tenure_days * DAY_NS)
        v = counts[who, k:k + 4].sum(axis=1) / 4
        q = np.percentile(v, [25, 50, 75]) if len(v) else [np.nan] * 3
        rows.append((pd.Timestamp(end), int(who.sum()), q[1], v.mean() if len(v) else np.nan, q[0], q[2],
                     (v >= benchmark).mean() if len(v) else np.nan))
    out = pd.DataFrame(rows, columns=["week_end", "customers", "median_velocity", "mean_velocity", "p25_velocity",
                                      "p75_velocity", "share_at_benchmark"])
    out["benchmark"] = float(benchmark)
    return out
