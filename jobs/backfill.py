"""backfill job: history from the first minute. When the store already holds past data (the demo, or a first
ingest of a real source), compute the derived histories as of the end of each past day, so trends start
weeks back instead of at install time.

For each day of the last `backfill_weeks` weeks (never before the first session), oldest first, and only
for what is missing:
- health score history: the scoring job's load, score and history upsert as of that day (the current scores,
  the worklist and alerts are left alone: they describe the present);
- first-session computations: the rolling 7-day rows (the periods the tutor trend reads) as of that day;
- overview card history: one overview snapshot as of that day (the explorer's overview streams).
Churn risk and forecast accuracy histories belong to their jobs' owners and are not rebuilt here.
Progress is reported per day (job_runs), so the page that started it shows how far it is.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy import Date, func, select

from domain.customers.health import score_prepared
from domain.customers.health_config import parse_health_config
from domain.customers.triggers import prepare, trigger_facts
from infra import progress
from infra.versions import bump_version
from domain.first_session import first_sessions, stored_windows
from jobs import first_session, overview
from jobs.customers import health
from loaders.first_sessions import load_first_session_inputs
from models.frames import insert_frame
from jobs.context import JobContext
from models.derived import HealthScoreHistory, OverviewSnapshot, TutorPerformance
from models.bulk import read_columns, text_times
from models.source import Booking, InboundCall, TutorSession

DAY_END = timedelta(hours=23, minutes=59)
TREND_PERIODS = ("last_7d", "prev_7d")  # the tutor trend reads last_7d; the WoW column compares it with prev_7d


def days_to_fill(first_data: datetime | None, at: datetime, weeks: int) -> list[datetime]:
    """The as-of times (each day's 23:59) of the past days to cover: from `weeks` weeks back, or the first
    data's day if later, up to yesterday."""
    if first_data is None:
        return []
    today = pd.Timestamp(at).normalize()
    start = max(today - pd.Timedelta(weeks=weeks), pd.Timestamp(first_data).normalize())
    return [(d + DAY_END).to_pydatetime() for d in pd.date_range(start, today - pd.Timedelta(days=1), freq="D")]


def _done(conn, column, days: list[datetime]) -> set:
    """Days (dates) among `days` that already hold a value in `column` (a date or a datetime column)."""
    if not days:
        return set()
    lo, hi = days[0].replace(hour=0, minute=0), days[-1]
    if isinstance(column.type, Date):
        lo, hi = lo.date(), hi.date()
    values = conn.execute(select(column).where(column >= lo, column <= hi).distinct()).scalars()
    return {pd.Timestamp(v).date() for v in values}


def _health_inputs(engine, days: list[datetime]):
    """A function at -> the scoring job's inputs as of `at` (health.load_inputs' frames), cut in memory from one
    read covering every day: the store is read once instead of once a day."""
    first, last = days[0], days[-1]
    k, b = InboundCall, Booking
    with engine.connect() as conn:
        base = health.load_inputs(conn, last)  # customers, and sessions up to the last day
        calls = read_columns(conn, select(k.customer_id, k.reason_code, *text_times(conn, [k.call_date]))
                             .where(k.call_date > first - timedelta(days=health.CALL_DAYS), k.call_date <= last),
                             ["call_date"])
        bookings = read_columns(conn, select(b.customer_id, b.tutor_id, b.subject, b.status,
                                             *text_times(conn, [b.scheduled_time, b.created_at]))
                                .where(b.scheduled_time > first, b.created_at <= last), ["scheduled_time", "created_at"])
    sessions = base["sessions"]

    def at_day(at: datetime) -> dict[str, pd.DataFrame]:
        at_ts = pd.Timestamp(at)
        return {"customers": base["customers"],
                "sessions": sessions[sessions["start_time"] <= at_ts].reset_index(drop=True),
                "inbound_calls": calls[(calls["call_date"] > at_ts - pd.Timedelta(days=health.CALL_DAYS))
                                       & (calls["call_date"] <= at_ts)].reset_index(drop=True),
                "bookings": bookings[(bookings["scheduled_time"] > at_ts)
                                     & (bookings["created_at"] <= at_ts)].reset_index(drop=True)}
    return at_day


def _first_session_trend(engine, at: datetime) -> None:
    """The rolling 7-day first-session rows as of `at` (what the tutor trend draws): only two weeks of first
    sessions to read, where the hourly job's full computation reads a quarter and more."""
    since = stored_windows(at)["prev_7d"][0]
    with engine.connect() as conn:
        sessions, customers = load_first_session_inputs(conn, until=at, since=since)
    rows = first_session.period_rows(first_sessions(sessions, customers), at, TREND_PERIODS)
    with engine.begin() as conn:
        insert_frame(conn, TutorPerformance.__table__, rows)


def run(ctx: JobContext) -> dict:
    settings, engine = ctx.settings, ctx.engine
    with engine.connect() as conn:
        first = conn.execute(select(func.min(TutorSession.start_time))).scalar()
        days = days_to_fill(pd.Timestamp(first).to_pydatetime() if first is not None else None, ctx.at,
                            int(getattr(settings, "backfill_weeks", 12)))
        done = {"health": _done(conn, HealthScoreHistory.day, days),
                "first_session": _done(conn, TutorPerformance.computed_at, days),
                "overview": _done(conn, OverviewSnapshot.computed_at, days)}
    config = parse_health_config(settings.health_weights)
    missing = [at for at in days if at.date() not in done["health"]]
    inputs_at = _health_inputs(engine, missing) if missing else None
    filled = {"health": 0, "first_session": 0, "overview": 0}
    for i, at in enumerate(days):
        progress.report(i / max(len(days), 1), f"{at:%d %b %Y} ({i + 1} of {len(days)} days)")
        if at.date() not in done["health"]:
            inputs = inputs_at(at)
            prep = prepare(inputs["customers"], inputs["sessions"], inputs["inbound_calls"], at, inputs["bookings"])
            scores = score_prepared(prep, trigger_facts(prep), config)
            with engine.begin() as conn:
                health.write_history(conn, scores, at.date())
            filled["health"] += 1
        if at.date() not in done["first_session"]:
            _first_session_trend(engine, at)
            filled["first_session"] += 1
        if at.date() not in done["overview"]:
            overview.run(JobContext(settings=settings, at=at, live=False))
            filled["overview"] += 1
    with engine.begin() as conn:
        bump_version(conn, "overview")
        bump_version(conn, health.TOPIC)
    progress.report(1.0, "done")
    return {"days": len(days), "from": days[0].date().isoformat() if days else None,
            "to": days[-1].date().isoformat() if days else None, "filled": filled}
