"""The first-session job (issue 6): first-session statistics into tutor_performance, and its three alerts.

Each run, as of ``ctx.at``:

1. loads the candidate first sessions from the store (``loaders.first_sessions.load_first_session_inputs``: per customer
   only the sessions at their earliest counted start, which is all ``first_sessions`` looks at);
2. writes one computation into ``tutor_performance``: ``performance_table`` (this_week, last_week,
   last_month, last_quarter x tutor, subject, segment, region) plus the windows in ``EXTRA_PERIODS``
   (rolling last_7d / prev_7d for the week-over-week trend and the trend chart; the period before
   each page period for the summary cards' "previous" values). A rerun at the same ``at`` replaces
   its own rows; old computations are thinned (``prune``);
3. raises ``tutor.first_session_decline``, ``subject.first_session_low`` and
   ``region.first_session_low`` through the alert service, unless the run is a backfill older than
   the newest stored computation (alerts describe the present; a past run must not resolve them);
4. bumps the data version topic ``tutor_performance`` so open pages redraw.
"""
from __future__ import annotations

import time
from datetime import datetime, timedelta
from urllib.parse import quote

import pandas as pd
from sqlalchemy import delete, func, select
from sqlalchemy.engine import Connection, Engine

from config import Settings
from models.derived import TutorPerformance
from models.frames import insert_frame
from models.source import Tutor
from writes.alerts import sync_alerts
from domain.alerting.lifecycle import AlertSpec
from domain.first_session import (DIMENSIONS, PERFORMANCE_COLUMNS, first_session_stats, first_sessions, performance_table,
                                    region_alerts, subject_alerts, tutor_declines)
from jobs.context import JobContext
from infra.versions import bump_version
from domain.first_session import stored_windows
from loaders.first_sessions import load_first_session_inputs

TOPIC = "tutor_performance"
# Stored next to PERFORMANCE_PERIODS. prior_* is the period before last_week/last_month/last_quarter.
EXTRA_PERIODS = ("last_7d", "prev_7d", "prior_week", "prior_month", "prior_quarter")
# Retention: every computation of the last KEEP_ALL_HOURS, then the day's last one up to KEEP_DAYS, then none.
# Hourly runs at 5,000 tutors write ~20k rows each: keeping all of them for 90 days would be ~40M rows.
KEEP_ALL_HOURS = 48
KEEP_DAYS = 90
RULES = {
    "tutor": "tutor.first_session_decline",
    "subject": "subject.first_session_low",
    "region": "region.first_session_low",
}


def performance_rows(sessions: pd.DataFrame, customers: pd.DataFrame, first: pd.DataFrame,
                     at: datetime) -> pd.DataFrame:
    """One computation's rows (PERFORMANCE_COLUMNS): performance_table plus EXTRA_PERIODS."""
    frames = [performance_table(sessions, customers, at), period_rows(first, at, EXTRA_PERIODS)]
    filled = [f for f in frames if len(f)]
    return pd.concat(filled, ignore_index=True)[PERFORMANCE_COLUMNS] if filled else frames[0]


def period_rows(first: pd.DataFrame, at: datetime, periods: tuple[str, ...]) -> pd.DataFrame:
    """Rows (PERFORMANCE_COLUMNS) of `periods` (names of stored_windows) for every dimension, from first sessions."""
    windows = stored_windows(at)
    frames = []
    for period in periods:
        start, end = windows[period]
        in_period = first[(first["start_time"] >= start) & (first["start_time"] < end)]  # half-open, as the service
        for dimension in DIMENSIONS:
            stats = first_session_stats(in_period, dimension)
            frames.append(stats.assign(computed_at=pd.Timestamp(at), period=period, period_start=pd.Timestamp(start),
                                       period_end=pd.Timestamp(end), dimension=dimension))
    filled = [f for f in frames if len(f)]
    return pd.concat(filled, ignore_index=True)[PERFORMANCE_COLUMNS] if filled else pd.DataFrame(columns=PERFORMANCE_COLUMNS)


def prune(conn: Connection, at: datetime) -> int:
    """Thin old computations: all within KEEP_ALL_HOURS of ``at``, the day's last up to KEEP_DAYS, none older."""
    t = TutorPerformance.__table__
    deleted = conn.execute(delete(t).where(t.c.computed_at < at - timedelta(days=KEEP_DAYS))).rowcount
    older = [pd.Timestamp(v) for v in conn.execute(
        select(t.c.computed_at).where(t.c.computed_at < at - timedelta(hours=KEEP_ALL_HOURS)).distinct()).scalars()]
    if older:
        stamps = pd.Series(older)
        keep = set(stamps.groupby(stamps.dt.normalize()).max())
        drop = [v.to_pydatetime() for v in stamps if v not in keep]
        for start in range(0, len(drop), 500):
            deleted += conn.execute(delete(t).where(t.c.computed_at.in_(drop[start:start + 500]))).rowcount
    return deleted


def _names(engine: Engine, tutor_ids: list[str]) -> dict[str, str]:
    if not tutor_ids:
        return {}
    with engine.connect() as conn:
        return dict(conn.execute(select(Tutor.tutor_id, Tutor.name).where(Tutor.tutor_id.in_(tutor_ids))).all())


def decline_specs(declines: pd.DataFrame, names: dict[str, str], settings: Settings) -> list[AlertSpec]:
    """AlertSpecs for ``tutor_declines`` rows; critical when the drop is twice the rule's points or more."""
    points = settings.tutor_decline_points
    specs = []
    for r in declines.itertuples():
        name = names.get(r.tutor_id, r.tutor_id)
        specs.append(AlertSpec(
            rule=RULES["tutor"], type="tutor_performance",
            severity="critical" if r.drop_points >= 2 * points else "warning",
            title=f"{name}: first-session success down {r.drop_points:.0f} points week over week",
            message=f"{name} ({r.tutor_id}). {r.why}",
            dedup_key=f"{RULES['tutor']}:{r.tutor_id}", entity_id=r.tutor_id, current_value=float(r.new_rate),
            expected_value=f"≥ {max(0.0, r.prev_rate - points / 100):.0%} (previous week {r.prev_rate:.0%} "
                           f"minus at most {points:g} points)",
            investigation=[
                "Review the tutor's first sessions of the last 7 days (ratings, no-shows, subjects) on the tutor page",
                "Read the low-rated sessions and contact the affected new customers",
                "Ask the tutor what changed (schedule, subjects, materials, connection)",
                "Pause new-customer matching for this tutor until reviewed",
            ],
            link=f"/tutors?tutor={quote(r.tutor_id)}",
            details={"prev_rate": r.prev_rate, "new_rate": r.new_rate, "drop_points": r.drop_points,
                     "prev_n": r.prev_n, "new_n": r.new_n, "min_first_sessions": settings.tutor_decline_min_first_sessions,
                     "rule_points": points}))
    return specs


def subject_specs(low: pd.DataFrame, settings: Settings) -> list[AlertSpec]:
    threshold = settings.subject_success_threshold
    return [AlertSpec(
        rule=RULES["subject"], type="tutor_performance", severity="warning",
        title=f"{r.subject}: first-session success {r.success_rate:.0%}, below {threshold:.0%}",
        message=r.why, dedup_key=f"{RULES['subject']}:{r.subject}", entity_id=r.subject,
        current_value=float(r.success_rate), expected_value=f"≥ {threshold:.0%}",
        investigation=[
            "Sort the subject's tutors by success rate on the tutor page: one tutor or all of them?",
            "Compare with last month: a new curriculum, new tutors or a change in who books this subject?",
            "Review matching for new customers in this subject (level, goals, tutor experience)",
        ],
        link=f"/tutors?subject={quote(r.subject)}",
        details={"success_rate": r.success_rate, "n": r.n, "threshold": threshold})
        for r in low.itertuples()]


def region_specs(low: pd.DataFrame) -> list[AlertSpec]:
    return [AlertSpec(
        rule=RULES["region"], type="tutor_performance", severity="warning",
        title=f"Region {r.region}: first-session success {r.success_rate:.0%} vs {r.rest_rate:.0%} elsewhere",
        message=r.why, dedup_key=f"{RULES['region']}:{r.region}", entity_id=r.region,
        current_value=float(r.success_rate), expected_value=f"≈ {r.rest_rate:.0%} (all other regions)",
        investigation=[
            "Open success by region on the tutor page and compare segments and subjects of the region",
            "Check which tutors serve the region's new customers and their success rates",
            "Look for a local cause: time zone scheduling, a school calendar, a marketing campaign",
        ],
        link=f"/tutors?region={quote(r.region)}",
        details={"success_rate": r.success_rate, "rest_rate": r.rest_rate, "n": r.n, "rest_n": r.rest_n,
                 "p_value": r.p_value})
        for r in low.itertuples()]


def run(ctx: JobContext) -> dict:
    at, engine, settings = ctx.at, ctx.engine, ctx.settings
    timings = {}
    started = time.perf_counter()
    since = min(start for start, _ in stored_windows(at).values())
    with engine.connect() as conn:
        sessions, customers = load_first_session_inputs(conn, until=at, since=since)
    first = first_sessions(sessions, customers)
    timings["load_s"] = round(time.perf_counter() - started, 3)

    started = time.perf_counter()
    rows = performance_rows(sessions, customers, first, at)
    t = TutorPerformance.__table__
    with engine.begin() as conn:
        newest = conn.execute(select(func.max(t.c.computed_at))).scalar()
        replaced = conn.execute(delete(t).where(t.c.computed_at == at)).rowcount
        written = insert_frame(conn, t, rows)
        pruned = prune(conn, at)
        bump_version(conn, TOPIC)
    timings["write_s"] = round(time.perf_counter() - started, 3)

    summary = {"at": at.isoformat(), "first_sessions": len(first), "rows_written": written, "rows_replaced": replaced,
               "rows_pruned": pruned, "timings": timings}
    if newest is not None and at < pd.Timestamp(newest).to_pydatetime():
        # A backfill behind the newest computation adds history; alerts describe the present and stay as they are.
        summary["alerts"] = f"left alone: as of {at.isoformat()} is older than the newest computation ({newest})"
        return summary
    started = time.perf_counter()
    declines = tutor_declines(first, at, min_first_sessions=settings.tutor_decline_min_first_sessions,
                              drop_points=settings.tutor_decline_points)
    low_subjects = subject_alerts(first, at, threshold=settings.subject_success_threshold)
    low_regions = region_alerts(first, at)
    alerts = {
        RULES["tutor"]: sync_alerts(engine, RULES["tutor"],
                                    decline_specs(declines, _names(engine, list(declines["tutor_id"])), settings), at),
        RULES["subject"]: sync_alerts(engine, RULES["subject"], subject_specs(low_subjects, settings), at),
        RULES["region"]: sync_alerts(engine, RULES["region"], region_specs(low_regions), at),
    }
    timings["alerts_s"] = round(time.perf_counter() - started, 3)
    return {**summary, "declining_tutors": list(declines["tutor_id"]), "low_subjects": list(low_subjects["subject"]),
            "low_regions": list(low_regions["region"]), "alerts": alerts}
