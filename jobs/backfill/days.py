"""Which past days the backfill covers, which of them a history already holds, and whether the store needs a
backfill at all (the auto-start at boot and at deploy asks `backfill_state`)."""
from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy import Date, func, select
from sqlalchemy.engine import Engine

from models.derived import HealthScoreHistory
from models.ops import AuditLog, JobRun
from models.source import TutorSession

DAY_END = timedelta(hours=23, minutes=59)
DEFAULT_WEEKS = 12
JOB = "backfill"
ASKED = "history.backfill"  # the audit log's action when someone (or the auto-start) asks for a backfill


def weeks(settings) -> int:
    return int(getattr(settings, "backfill_weeks", DEFAULT_WEEKS))


def days_to_fill(first_data: datetime | None, at: datetime, weeks: int) -> list[datetime]:
    """The as-of times (each day's 23:59) of the past days to cover: from `weeks` weeks back, or the first
    data's day if later, up to yesterday."""
    if first_data is None:
        return []
    today = pd.Timestamp(at).normalize()
    start = max(today - pd.Timedelta(weeks=weeks), pd.Timestamp(first_data).normalize())
    return [(d + DAY_END).to_pydatetime() for d in pd.date_range(start, today - pd.Timedelta(days=1), freq="D")]


def first_session(conn) -> datetime | None:
    first = conn.execute(select(func.min(TutorSession.start_time))).scalar()
    return None if first is None else pd.Timestamp(first).to_pydatetime()


def done(conn, column, days: list[datetime]) -> set:
    """Days (dates) among `days` that already hold a value in `column` (a date or a datetime column)."""
    if not days:
        return set()
    lo, hi = days[0].replace(hour=0, minute=0), days[-1]
    if isinstance(column.type, Date):
        lo, hi = lo.date(), hi.date()
    values = conn.execute(select(column).where(column >= lo, column <= hi).distinct()).scalars()
    return {pd.Timestamp(v).date() for v in values}


def backfill_state(engine: Engine, at: datetime, weeks: int = DEFAULT_WEEKS) -> str:
    """What the auto-start (workers/autostart.py) should do: "needed" when the store holds past data (sessions
    before yesterday) but no derived history of it (no health history before yesterday) and no backfill was
    ever run or asked for (job_runs; the audit log's ASKED, by a user or by the auto-start); "no data" while
    there is no past data yet (a real source before its first ingest: ask again later); "done" otherwise (the
    histories were computed by the jobs over time, or a backfill ran or was asked for)."""
    with engine.connect() as conn:
        days = days_to_fill(first_session(conn), at, weeks)[:-1]  # yesterday: the daily jobs' own
        if not days:
            return "no data"
        ran = conn.execute(select(func.count()).select_from(JobRun)
                           .where(JobRun.job == JOB, JobRun.status != "abandoned")).scalar()
        asked = conn.execute(select(func.count()).select_from(AuditLog).where(AuditLog.action == ASKED)).scalar()
        if ran or asked:
            return "done"
        return "done" if done(conn, HealthScoreHistory.day, days) else "needed"
