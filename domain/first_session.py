"""First-session success tracking (issue 6): pure functions over contract DataFrames.

Definitions are the data contract's (docs/DATA_CONTRACT.md):

- A customer's **first session** is their earliest session by ``start_time`` whose status is
  ``completed`` or ``no_show``; cancelled sessions never count. It is attributed to its tutor.
- **Success**: the first session is ``completed`` with rating >= 4.
- **Success rate** = successes / rated completed first sessions (unrated completed sessions are left
  out of the denominator). **Completion rate** = completed / (completed + no_show) first sessions.
  **Average rating** is over rated completed first sessions. Rates are fractions in [0, 1] and NaN
  when their denominator is 0.

Choices this module makes (the contract leaves them open):

- **Ties** in a customer's earliest ``start_time``: ``completed`` wins over ``no_show`` (the lesson
  the customer actually had is the experience that shapes them; a same-minute no-show is usually a
  double booking), then the lowest ``session_id`` in string order. The result never depends on
  row order.
- **Windows** are half-open ``[start, end)`` on the first session's ``start_time``, everywhere.
  ``last_month`` and ``last_quarter`` are the previous *calendar* month and quarter, so a stored
  period means the same span on every run within it (see ``period_windows``).
- **Alert counts** (``min_first_sessions``) count rated completed first sessions: the success rate's
  denominator.
- **Region rule**: see ``region_alerts``.
- First sessions with no known segment/region (no ``customers`` given, or the customer missing)
  are grouped under the key ``"unknown"`` in statistics and never raise region alerts.

Callers must pass the customer's whole session history, not a recent slice: a slice would make a
returning customer's first visible session look like their first session.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from math import erfc, sqrt

import numpy as np
import pandas as pd

COUNTED = ("completed", "no_show")
SUCCESS_MIN_RATING = 4
DIMENSIONS = {"tutor": "tutor_id", "subject": "subject", "segment": "segment", "region": "region"}
PERFORMANCE_PERIODS = ("this_week", "last_week", "last_month", "last_quarter")
UNKNOWN = "unknown"
FIRST_COLUMNS = ["customer_id", "session_id", "tutor_id", "subject", "start_time", "status", "rating",
                 "success", "segment", "region"]
STATS_COLUMNS = ["key", "first_sessions", "completed", "no_show", "rated_completed", "successes",
                 "success_rate", "completion_rate", "avg_rating"]
PERFORMANCE_COLUMNS = ["computed_at", "period", "period_start", "period_end", "dimension", *STATS_COLUMNS]
_COUNTS = STATS_COLUMNS[1:6]
_EPS = 1e-9  # thresholds compare at this tolerance so 0.8 - 0.6 is exactly 20 points, not 20.000000000000004


def _naive_utc(values: pd.Series) -> pd.Series:
    # Strings may carry offsets (mixed ones too); naive strings are UTC by contract.
    out = values if pd.api.types.is_datetime64_any_dtype(values) \
        else pd.to_datetime(values, errors="coerce", utc=True)
    if getattr(out.dt, "tz", None) is not None:
        out = out.dt.tz_convert("UTC").dt.tz_localize(None)
    return out


def _timestamp(value: datetime | str | None) -> pd.Timestamp | None:
    if value is None:
        return None
    ts = pd.Timestamp(value)
    return ts.tz_convert("UTC").tz_localize(None) if ts.tzinfo is not None else ts


def first_sessions(sessions: pd.DataFrame, customers: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each customer's first session.

    ``sessions``: contract sessions (session_id, customer_id, tutor_id, subject, start_time, status,
    rating, ...). ``customers``: optional contract customers (customer_id, segment, region, ...).
    Returns one row per customer that has a first session, ordered by customer_id, with columns
    customer_id, session_id, tutor_id, subject, start_time, status, rating, success (bool), segment,
    region (segment/region NaN when ``customers`` is not given or lacks the customer).
    """
    s = sessions.loc[sessions["status"].isin(COUNTED),
                     ["customer_id", "session_id", "tutor_id", "subject", "start_time", "status", "rating"]]
    s = s.assign(start_time=_naive_utc(s["start_time"]), rating=pd.to_numeric(s["rating"], errors="coerce"))
    s = s[s["start_time"].notna()]
    # Keep every session at its customer's earliest start; only those tied need the (rarer) tie-break sort.
    earliest = s.groupby("customer_id", sort=False)["start_time"].transform("min")
    s = s[s["start_time"] == earliest]
    tied = s["customer_id"].duplicated(keep=False)
    if tied.any():
        ranked = s[tied].assign(_rank=(s.loc[tied, "status"] != "completed").astype(int))
        ranked = ranked.sort_values(["customer_id", "_rank", "session_id"], kind="stable")
        s = pd.concat([s[~tied], ranked.drop_duplicates("customer_id").drop(columns="_rank")])
    first = s.sort_values("customer_id", kind="stable").reset_index(drop=True)
    first["success"] = (first["status"] == "completed") & (first["rating"] >= SUCCESS_MIN_RATING)
    if customers is not None:
        attrs = customers[["customer_id", "segment", "region"]].drop_duplicates("customer_id", keep="last")
        first = first.merge(attrs, on="customer_id", how="left")
    else:
        first["segment"] = np.nan
        first["region"] = np.nan
    return first[FIRST_COLUMNS]


def _in_window(first: pd.DataFrame, since, until) -> pd.DataFrame:
    since, until = _timestamp(since), _timestamp(until)
    start = _naive_utc(first["start_time"])
    mask = pd.Series(True, index=first.index)
    if since is not None:
        mask &= start >= since
    if until is not None:
        mask &= start < until
    return first[mask]


def _ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    return num / den.where(den > 0)


def _aggregate(first: pd.DataFrame, column: str) -> pd.DataFrame:
    """Counts and rates per value of ``column`` (STATS_COLUMNS), sorted by key."""
    completed = first["status"] == "completed"
    rating = pd.to_numeric(first["rating"], errors="coerce")
    rated = completed & rating.notna()
    parts = pd.DataFrame({
        "key": first[column].astype(object).where(first[column].notna(), UNKNOWN).astype(str),
        "first_sessions": 1,
        "completed": completed.astype(int),
        "no_show": (first["status"] == "no_show").astype(int),
        "rated_completed": rated.astype(int),
        "successes": (rated & (rating >= SUCCESS_MIN_RATING)).astype(int),
        "rating_sum": rating.where(rated, 0.0),
    }, index=first.index)
    g = parts.groupby("key", sort=True).sum().reset_index()
    g[_COUNTS] = g[_COUNTS].astype("int64")
    g["success_rate"] = _ratio(g["successes"], g["rated_completed"])
    g["completion_rate"] = _ratio(g["completed"], g["completed"] + g["no_show"])
    g["avg_rating"] = _ratio(g["rating_sum"], g["rated_completed"])
    return g[STATS_COLUMNS]


def first_session_stats(first: pd.DataFrame, by: str, since: datetime | str | None = None,
                        until: datetime | str | None = None) -> pd.DataFrame:
    """Statistics of first sessions starting in ``[since, until)`` grouped by a dimension.

    ``first``: output of ``first_sessions``. ``by``: "tutor", "subject", "segment" or "region".
    Returns STATS_COLUMNS (key, first_sessions, completed, no_show, rated_completed, successes,
    success_rate, completion_rate, avg_rating), one row per key with at least one first session,
    sorted by key; rates are NaN when their denominator is 0.
    """
    if by not in DIMENSIONS:
        raise ValueError(f"by must be one of {', '.join(DIMENSIONS)}, not {by!r}")
    return _aggregate(_in_window(first, since, until), DIMENSIONS[by])


def period_windows(at: datetime) -> dict[str, tuple[datetime, datetime]]:
    """Named ``[start, end)`` windows as of ``at`` (naive UTC).

    this_week: Monday 00:00 of at's week .. at (empty when at is Monday 00:00).
    last_week: the previous Monday 00:00 .. this Monday 00:00.
    last_month: the previous calendar month (1st 00:00 .. 1st 00:00 of at's month).
    last_quarter: the previous calendar quarter (Jan/Apr/Jul/Oct 1st .. 1st of at's quarter).
    last_7d: at - 7 days .. at; prev_7d: at - 14 days .. at - 7 days (week-over-week alerting).
    """
    at = _timestamp(at).to_pydatetime()
    day = at.replace(hour=0, minute=0, second=0, microsecond=0)
    monday = day - timedelta(days=day.weekday())
    month = day.replace(day=1)
    prev_month = (month - timedelta(days=1)).replace(day=1)
    quarter = month.replace(month=(month.month - 1) // 3 * 3 + 1)
    prev_quarter = quarter.replace(year=quarter.year - 1, month=10) if quarter.month == 1 \
        else quarter.replace(month=quarter.month - 3)
    week = timedelta(days=7)
    return {
        "this_week": (monday, at),
        "last_week": (monday - week, monday),
        "last_month": (prev_month, month),
        "last_quarter": (prev_quarter, quarter),
        "last_7d": (at - week, at),
        "prev_7d": (at - 2 * week, at - week),
    }


def performance_table(sessions: pd.DataFrame, customers: pd.DataFrame | None, at: datetime) -> pd.DataFrame:
    """Rows for the tutor_performance table (models.derived.TutorPerformance, without id).

    For each period in PERFORMANCE_PERIODS and each dimension in DIMENSIONS, the
    ``first_session_stats`` rows of that window, with computed_at=at, period, period_start,
    period_end and dimension. Keys with no first session in a period have no row.
    """
    first = first_sessions(sessions, customers)
    windows = period_windows(at)
    frames = []
    for period in PERFORMANCE_PERIODS:
        start, end = windows[period]
        in_period = _in_window(first, start, end)
        for dimension, column in DIMENSIONS.items():
            stats = _aggregate(in_period, column)
            frames.append(stats.assign(computed_at=_timestamp(at), period=period, period_start=pd.Timestamp(start),
                                       period_end=pd.Timestamp(end), dimension=dimension))
    return pd.concat(frames, ignore_index=True)[PERFORMANCE_COLUMNS]


def _when(at: datetime) -> str:
    return f"{pd.Timestamp(at):%Y-%m-%d %H:%M}"


def tutor_declines(first: pd.DataFrame, at: datetime, min_first_sessions: int = 5,
                   drop_points: float = 20) -> pd.DataFrame:
    """Tutors whose first-session success rate fell week over week.

    Compares ``last_7d`` ``[at-7d, at)`` with ``prev_7d`` ``[at-14d, at-7d)``. A tutor is listed when
    both windows hold >= ``min_first_sessions`` rated completed first sessions and the rate fell by
    more than ``drop_points`` percentage points (strictly). Returns tutor_id, prev_rate, new_rate
    (fractions), drop_points (points), prev_n, new_n (rated completed counts) and why, largest drop
    first.
    """
    windows = period_windows(at)
    prev = _aggregate(_in_window(first, *windows["prev_7d"]), "tutor_id")
    new = _aggregate(_in_window(first, *windows["last_7d"]), "tutor_id")
    both = prev.merge(new, on="key", suffixes=("_prev", "_new"))
    both = both[(both["rated_completed_prev"] >= min_first_sessions)
                & (both["rated_completed_new"] >= min_first_sessions)]
    out = pd.DataFrame({
        "tutor_id": both["key"],
        "prev_rate": both["success_rate_prev"],
        "new_rate": both["success_rate_new"],
        "drop_points": (both["success_rate_prev"] - both["success_rate_new"]) * 100,
        "prev_n": both["rated_completed_prev"],
        "new_n": both["rated_completed_new"],
        "prev_successes": both["successes_prev"],
        "new_successes": both["successes_new"],
    })
    out = out[out["drop_points"] > drop_points + _EPS]
    out = out.sort_values(["drop_points", "tutor_id"], ascending=[False, True]).reset_index(drop=True)
    out["why"] = [
        f"First-session success rate fell from {r.prev_rate:.0%} ({r.prev_successes}/{r.prev_n} rated first "
        f"sessions in the 7 days before {_when(windows['prev_7d'][1])}) to {r.new_rate:.0%} "
        f"({r.new_successes}/{r.new_n} in the 7 days before {_when(at)}): down {r.drop_points:.1f} points; "
        f"the rule fires above {drop_points:g} points with >= {min_first_sessions} rated first sessions "
        f"in each week."
        for r in out.itertuples()
    ]
    return out[["tutor_id", "prev_rate", "new_rate", "drop_points", "prev_n", "new_n", "why"]]


def subject_alerts(first: pd.DataFrame, at: datetime, window_days: int = 28, threshold: float = 0.60,
                   min_first_sessions: int = 10) -> pd.DataFrame:
    """Subjects whose first-session success rate over ``[at - window_days, at)`` is below ``threshold``.

    Only subjects with >= ``min_first_sessions`` rated completed first sessions in the window are
    judged; a rate exactly at the threshold does not fire. Returns subject, success_rate, n (rated
    completed first sessions) and why, lowest rate first.
    """
    stats = _aggregate(_in_window(first, pd.Timestamp(at) - pd.Timedelta(days=window_days), at), "subject")
    low = stats[(stats["rated_completed"] >= min_first_sessions)
                & (stats["success_rate"] < threshold - _EPS)]
    low = low.sort_values(["success_rate", "key"]).reset_index(drop=True)
    why = [
        f"First-session success rate {r.success_rate:.0%} ({r.successes}/{r.rated_completed} rated first "
        f"sessions in the {window_days} days before {_when(at)}) is below the {threshold:.0%} floor "
        f"(judged with >= {min_first_sessions} rated first sessions)."
        for r in low.itertuples()
    ]
    return pd.DataFrame({"subject": low["key"], "success_rate": low["success_rate"],
                         "n": low["rated_completed"], "why": pd.Series(why, index=low.index, dtype=object)})


def _below_p_value(z: float) -> float:
    """One-sided p-value P(Z >= z) of a standard normal."""
    return 0.5 * erfc(z / sqrt(2))


def region_alerts(first: pd.DataFrame, at: datetime, window_days: int = 28, min_first_sessions: int = 10,
                  alpha: float = 0.01, min_gap_points: float = 15) -> pd.DataFrame:
    """Regions whose first-session success rate is markedly below the rest of the marketplace.

    Over ``[at - window_days, at)``, each region with a known code is compared with all other known
    regions pooled ("the rest"); rates are successes / rated completed first sessions. A region
    fires when all hold:

    - region and rest each have >= ``min_first_sessions`` rated completed first sessions;
    - its rate is at least ``min_gap_points`` percentage points below the rest's (practical size);
    - a one-sided pooled two-proportion z-test (H1: region below rest) gives p < alpha / m, where m
      is the number of regions judged (Bonferroni), so that testing ~50 states each run keeps the
      chance of any false alarm at ``alpha`` rather than ~50 x alpha.

    Returns region, success_rate, rest_rate, n, rest_n, p_value, why; lowest rate first.
    """
    known = first[first["region"].notna()]
    stats = _aggregate(_in_window(known, pd.Timestamp(at) - pd.Timedelta(days=window_days), at), "region")
    total_n, total_s = stats["rated_completed"].sum(), stats["successes"].sum()
    stats = stats.assign(rest_n=total_n - stats["rated_completed"], rest_s=total_s - stats["successes"])
    judged = stats[(stats["rated_completed"] >= min_first_sessions) & (stats["rest_n"] >= min_first_sessions)].copy()
    m = len(judged)
    judged["rest_rate"] = judged["rest_s"] / judged["rest_n"]
    pooled = total_s / total_n if total_n else np.nan
    se = np.sqrt(pooled * (1 - pooled) * (1 / judged["rated_completed"] + 1 / judged["rest_n"]))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (judged["rest_rate"] - judged["success_rate"]) / se.where(se > 0)
    judged["p_value"] = [_below_p_value(v) if np.isfinite(v) else 1.0 for v in z]
    judged["gap"] = (judged["rest_rate"] - judged["success_rate"]) * 100
    level = alpha / m if m else alpha
    hit = judged[(judged["gap"] >= min_gap_points - _EPS) & (judged["p_value"] < level)]
    hit = hit.sort_values(["success_rate", "key"]).reset_index(drop=True)
    why = [
        f"First-session success rate {r.success_rate:.0%} ({r.successes}/{r.rated_completed} rated first "
        f"sessions in the {window_days} days before {_when(at)}) vs {r.rest_rate:.0%} ({r.rest_s}/{r.rest_n}) "
        f"in all other regions: {r.gap:.1f} points below (rule: >= {min_gap_points:g} points), one-sided "
        f"two-proportion z-test p = {r.p_value:.2g} < {alpha:g}/{m} regions judged."
        for r in hit.itertuples()
    ]
    return pd.DataFrame({"region": hit["key"], "success_rate": hit["success_rate"], "rest_rate": hit["rest_rate"],
                         "n": hit["rated_completed"], "rest_n": hit["rest_n"], "p_value": hit["p_value"],
                         "why": pd.Series(why, index=hit.index, dtype=object)})


def tutor_first_sessions(first: pd.DataFrame, tutor_id: str, since: datetime | str | None = None,
                         until: datetime | str | None = None) -> pd.DataFrame:
    """Drill-down: one tutor's first sessions (FIRST_COLUMNS) in ``[since, until)``, newest first."""
    rows = _in_window(first[first["tutor_id"] == tutor_id], since, until)
    return rows.sort_values(["start_time", "customer_id"], ascending=[False, True]).reset_index(drop=True)


def stored_windows(at: datetime) -> dict[str, tuple[datetime, datetime]]:
    """Every ``[start, end)`` window one computation stores: PERFORMANCE_PERIODS and EXTRA_PERIODS."""
    windows = period_windows(at)
    out = {p: windows[p] for p in ("this_week", "last_week", "last_month", "last_quarter", "last_7d", "prev_7d")}
    # "The period before" is that period as seen from its own start (period_windows is calendar-based).
    for prior, period in (("prior_week", "last_week"), ("prior_month", "last_month"),
                          ("prior_quarter", "last_quarter")):
        out[prior] = period_windows(windows[period][0])[period]
    return out
