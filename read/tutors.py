"""Read side of first-session tracking for the tutors page and the API (no Dash, no Flask).

Page numbers come from the newest computation the first-session job stored in tutor_performance
(``latest_computed_at``); only the drill-down and the API's arbitrary windows read first sessions
from the sessions table, through the same loader and pure functions the job uses.

Definitions used here, beyond the data contract's:

- **Week-over-week trend** of a tutor = success rate over the last 7 days minus the 7 days before
  (the stored ``last_7d`` and ``prev_7d`` periods: the windows the decline alert compares), in points.
  It does not depend on the period shown, and is empty when either week has no rated first session.
- **Low** (red): success rate below ``LOW_SUCCESS``. **Top** (green): success rate >= ``TOP_SUCCESS``
  with >= ``TOP_MIN_RATED`` rated first sessions in the period (one lucky session is not "top").
- The subject filter keeps tutors who teach the subject (the tutor's ``subjects`` list); their
  numbers stay over all their first sessions.
"""
from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from domain.alerting.lifecycle import OPEN_STATES
from models.derived import Alert, TutorPerformance
from models.frames import read_frame
from models.source import Tutor
from read.cache import cached_read
from domain.first_session import (DIMENSIONS, STATS_COLUMNS, UNKNOWN, first_session_stats, first_sessions,
                                    tutor_first_sessions)
from infra.clock import utcnow
from domain.first_session import stored_windows
from loaders.first_sessions import load_first_session_inputs

PERIODS = ("this_week", "last_week", "last_month", "last_quarter")
PERIOD_LABELS = {"this_week": "This week", "last_week": "Last week", "last_month": "Last month",
                 "last_quarter": "Last quarter", "prior_week": "the week before", "prior_month": "the month before",
                 "prior_quarter": "the quarter before", "last_7d": "last 7 days", "prev_7d": "the 7 days before"}
PREVIOUS = {"this_week": "last_week", "last_week": "prior_week", "last_month": "prior_month",
            "last_quarter": "prior_quarter"}
DEFAULT_PERIOD = "last_week"
LOW_SUCCESS = 0.70
TOP_SUCCESS = 0.90
TOP_MIN_RATED = 5
GRID_COLUMNS = ["tutor_id", "name", "subjects", "region", "status", "first_sessions", "completed", "no_show",
                "rated_completed", "successes", "success_rate", "completion_rate", "avg_rating", "wow_trend",
                "last_7d_rate", "prev_7d_rate", "band"]
_COUNTS = ["first_sessions", "completed", "no_show", "rated_completed", "successes"]
_T = TutorPerformance.__table__


def latest_computed_at(engine: Engine) -> datetime | None:
    """When the newest stored computation was made (as of), or None before the job first ran."""
    with engine.connect() as conn:
        value = conn.execute(select(func.max(_T.c.computed_at))).scalar()
    return pd.Timestamp(value).to_pydatetime() if value is not None else None


def stored(engine: Engine, dimension: str, periods: tuple[str, ...] | list[str],
           computed_at: datetime | None = None) -> pd.DataFrame:
    """Rows of one computation (the newest by default) for a dimension and periods (tutor_performance columns)."""
    computed_at = computed_at or latest_computed_at(engine)
    columns = [c for c in _T.c if c.name != "id"]
    if computed_at is None:
        return pd.DataFrame(columns=[c.name for c in columns])
    with engine.connect() as conn:
        return read_frame(conn, select(*columns).where(_T.c.dimension == dimension, _T.c.period.in_(list(periods)),
                                                       _T.c.computed_at == computed_at),
                          parse_dates=["computed_at", "period_start", "period_end"])


def _check_period(period: str) -> None:
    if period not in PERIODS:
        raise ValueError(f"period must be one of {', '.join(PERIODS)}, not {period!r}")


def tutors(engine: Engine) -> pd.DataFrame:
    """The tutors table: tutor_id, name, subjects, region, status."""
    with engine.connect() as conn:
        return read_frame(conn, select(Tutor.tutor_id, Tutor.name, Tutor.subjects, Tutor.region, Tutor.status))


def tutor_grid(engine: Engine, period: str = DEFAULT_PERIOD, subject: str | None = None, region: str | None = None,
               status: str | None = None, min_first_sessions: int = 0) -> pd.DataFrame:
    """One row per tutor (GRID_COLUMNS) for a period of the newest computation.

    Every tutor of the tutors table is listed (zero first sessions when none in the period), plus
    any tutor with first sessions but no tutors row. Rates are fractions (NaN without a denominator);
    wow_trend is in points; band is "low", "top" or "". Sorted by tutor_id. Filters: ``filter_grid``.
    """
    _check_period(period)
    return filter_grid(_grid(engine, period), subject, region, status, min_first_sessions)


@cached_read
def _grid(engine: Engine, period: str) -> pd.DataFrame:
    perf = stored(engine, "tutor", [period, "last_7d", "prev_7d"])
    current = perf[perf["period"] == period].set_index("key")[STATS_COLUMNS[1:]]
    wow = pd.DataFrame({
        "last_7d_rate": perf[perf["period"] == "last_7d"].set_index("key")["success_rate"],
        "prev_7d_rate": perf[perf["period"] == "prev_7d"].set_index("key")["success_rate"],
    })
    people = tutors(engine).set_index("tutor_id")
    grid = people.join(current, how="outer").join(wow, how="left")
    grid.index.name = "tutor_id"
    grid = grid.reset_index()
    grid["name"] = grid["name"].fillna(grid["tutor_id"])
    grid[_COUNTS] = grid[_COUNTS].fillna(0).astype("int64")
    for col in ("success_rate", "completion_rate", "avg_rating", "last_7d_rate", "prev_7d_rate"):
        grid[col] = pd.to_numeric(grid[col], errors="coerce").astype(float)
    grid["wow_trend"] = (grid["last_7d_rate"] - grid["prev_7d_rate"]) * 100
    grid["band"] = np.select(
        [grid["success_rate"] < LOW_SUCCESS,
         (grid["success_rate"] >= TOP_SUCCESS) & (grid["rated_completed"] >= TOP_MIN_RATED)], ["low", "top"], "")
    return grid.sort_values("tutor_id", kind="stable").reset_index(drop=True)[GRID_COLUMNS]


def filter_grid(grid: pd.DataFrame, subject: str | None = None, region: str | None = None,
                status: str | None = None, min_first_sessions: int = 0) -> pd.DataFrame:
    """Rows of ``tutor_grid`` for tutors teaching ``subject``, in ``region``, with ``status``, with at
    least ``min_first_sessions`` first sessions in the period (each filter ignored when empty)."""
    keep = pd.Series(True, index=grid.index)
    if subject:
        keep &= grid["subjects"].fillna("").str.split(";").apply(lambda xs: subject in [x.strip() for x in xs])
    if region:
        keep &= grid["region"] == region
    if status:
        keep &= grid["status"] == status
    if min_first_sessions:
        keep &= grid["first_sessions"] >= min_first_sessions
    return grid[keep].reset_index(drop=True)


def subjects_of(grid: pd.DataFrame) -> list[str]:
    """Every subject the grid's tutors teach, sorted."""
    listed = grid["subjects"].dropna().str.split(";").explode().str.strip()
    return sorted(s for s in listed.unique() if s)


def _totals(rows: pd.DataFrame) -> dict:
    """Marketplace totals from one period's subject rows (each first session has exactly one subject)."""
    if rows.empty:
        return {"first_sessions": 0, "success_rate": None, "completion_rate": None, "avg_rating": None,
                "rated_completed": 0}
    n = {c: int(rows[c].sum()) for c in _COUNTS}
    rating_sum = float((rows["avg_rating"].fillna(0) * rows["rated_completed"]).sum())
    attended = n["completed"] + n["no_show"]
    return {"first_sessions": n["first_sessions"], "rated_completed": n["rated_completed"],
            "success_rate": n["successes"] / n["rated_completed"] if n["rated_completed"] else None,
            "completion_rate": n["completed"] / attended if attended else None,
            "avg_rating": rating_sum / n["rated_completed"] if n["rated_completed"] else None}


@cached_read
def summary(engine: Engine, period: str = DEFAULT_PERIOD) -> dict | None:
    """Totals for the period and the period before it, from the newest computation; None before any run.

    {computed_at, period, start, end, previous_label, current: {first_sessions, rated_completed,
    success_rate, completion_rate, avg_rating}, previous: {...}}.
    """
    _check_period(period)
    computed_at = latest_computed_at(engine)
    if computed_at is None:
        return None
    rows = stored(engine, "subject", [period, PREVIOUS[period]], computed_at)
    start, end = stored_windows(computed_at)[period]
    return {"computed_at": computed_at, "period": period, "start": start, "end": end,
            "previous_label": PERIOD_LABELS[PREVIOUS[period]],
            "current": _totals(rows[rows["period"] == period]),
            "previous": _totals(rows[rows["period"] == PREVIOUS[period]])}


def region_table(engine: Engine, period: str = DEFAULT_PERIOD) -> pd.DataFrame:
    """Success by customer region for a period: STATS_COLUMNS plus rest_rate (all other known regions
    pooled) and gap_points (region minus rest, points). Sorted by success rate, lowest first."""
    _check_period(period)
    rows = stored(engine, "region", [period])
    out = rows[STATS_COLUMNS].copy()
    known = out["key"] != UNKNOWN
    rest_n = out.loc[known, "rated_completed"].sum() - out["rated_completed"]
    rest_s = out.loc[known, "successes"].sum() - out["successes"]
    out["rest_rate"] = (rest_s / rest_n.where(rest_n > 0)).where(known)
    out["gap_points"] = (out["success_rate"] - out["rest_rate"]) * 100
    return out.sort_values(["success_rate", "key"], na_position="last").reset_index(drop=True)


def tutor_detail(engine: Engine, tutor_id: str, period: str = DEFAULT_PERIOD) -> dict:
    """One tutor: their tutors row (or None), the period's window, and their first sessions in it.

    ``sessions`` has FIRST_COLUMNS (customer_id, session_id, tutor_id, subject, start_time, status,
    rating, success, segment, region), newest first. The window is the period as of the newest
    computation (as of now before any run), so the rows match the grid's counts.
    """
    _check_period(period)
    at = latest_computed_at(engine)
    start, end = stored_windows(at or utcnow())[period]
    with engine.connect() as conn:
        info = conn.execute(select(Tutor.tutor_id, Tutor.name, Tutor.subjects, Tutor.region, Tutor.status,
                                   Tutor.rating_avg).where(Tutor.tutor_id == tutor_id)).first()
        sessions, customers = load_first_session_inputs(conn, until=end, since=start, tutor_id=tutor_id)
    rows = tutor_first_sessions(first_sessions(sessions, customers), tutor_id, start, end)
    return {"tutor": dict(info._mapping) if info is not None else None, "start": start, "end": end,
            "sessions": rows}


def tutor_trend(engine: Engine, tutor_id: str) -> pd.DataFrame:
    """A tutor's rolling 7-day first-session success over the stored computations:
    computed_at, success_rate, rated_completed, successes, first_sessions; oldest first."""
    with engine.connect() as conn:
        return read_frame(conn, select(_T.c.computed_at, _T.c.success_rate, _T.c.rated_completed, _T.c.successes,
                                       _T.c.first_sessions)
                          .where(_T.c.dimension == "tutor", _T.c.period == "last_7d", _T.c.key == tutor_id)
                          .order_by(_T.c.computed_at), parse_dates=["computed_at"])


@cached_read
def _stats(engine: Engine, by: str, since: datetime | None, until: datetime | None) -> list[dict]:
    with engine.connect() as conn:
        sessions, customers = load_first_session_inputs(conn, until=until, since=since)
    stats = first_session_stats(first_sessions(sessions, customers), by, since, until)
    return stats.astype(object).where(stats.notna(), None).to_dict("records")


def first_session_api(engine: Engine, by: str, since: datetime | None = None,
                      until: datetime | None = None) -> list[dict]:
    """First-session statistics of first sessions starting in ``[since, until)`` (all time when open),
    grouped by tutor, subject, segment or region: [{key, first_sessions, completed, no_show,
    rated_completed, successes, success_rate, completion_rate, avg_rating}], rates None without a
    denominator. Read from the sessions table (any window), cached until the data version changes."""
    if by not in DIMENSIONS:
        raise ValueError(f"by must be one of {', '.join(DIMENSIONS)}, not {by!r}")
    rows = _stats(engine, by, since, until)
    return [{k: (v.item() if hasattr(v, "item") else v) for k, v in r.items()} for r in rows]


def alerting_tutors(engine: Engine) -> set[str]:
    """Tutors with an open tutor-performance alert (active, acknowledged or snoozed)."""
    with engine.connect() as conn:
        return set(conn.execute(select(Alert.entity_id).where(Alert.type == "tutor_performance",
                                                              Alert.status.in_(OPEN_STATES))).scalars())


def by_attention(grid: pd.DataFrame, alerting: set[str]) -> pd.DataFrame:
    """The grid in the order someone should look at it: tutors with an open alert, then falling ones (WoW trend
    <= -10 points on a real sample), then low success on a real sample (>= TOP_MIN_RATED rated), then the rest; within each, small
    samples last, then the steepest fall, then the most first sessions. Adds `attention` (0-3) and `small_sample`."""
    small = grid["rated_completed"] < TOP_MIN_RATED
    attention = np.select([grid["tutor_id"].isin(alerting), (grid["wow_trend"] <= -10) & ~small,
                           (grid["band"] == "low") & ~small], [0, 1, 2], 3)
    out = grid.assign(attention=attention, small_sample=small)
    out["_trend"] = out["wow_trend"].fillna(0)
    return (out.sort_values(["attention", "small_sample", "_trend", "first_sessions", "tutor_id"],
                            ascending=[True, True, True, False, True], kind="stable")
            .drop(columns="_trend").reset_index(drop=True))
