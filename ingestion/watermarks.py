"""Repair of a watermark that lies in the future.

Before future times were quarantined, one row stamped in 2030 moved its record's watermark there,
and every later row of that record was skipped. A stored watermark later than the poll is moved
back to the newest time of that record the store holds up to the poll (rows in between are read
again and counted as unchanged), or cleared (a full re-read) when there is none; the repair is logged.
"""
from __future__ import annotations

import logging
from datetime import datetime

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from domain.contract import RECORDS
from models.source import SOURCE_TABLES

log = logging.getLogger(__name__)


def repair_watermark(engine: Engine, source: str, record: str, stored: datetime, poll_at: datetime) -> datetime | None:
    """The watermark to poll from instead of `stored` (> poll_at): never later than poll_at."""
    column = SOURCE_TABLES[record].__table__.c[RECORDS[record].watermark]
    with engine.connect() as conn:
        newest = conn.execute(select(func.max(column)).where(column <= poll_at)).scalar()
    repaired = None if newest is None else min(pd.Timestamp(newest).to_pydatetime(), poll_at)
    log.warning("%s %s: stored watermark %s is later than the poll at %s; repaired to %s",
                source, record, stored.isoformat(), poll_at.isoformat(timespec="seconds"),
                repaired.isoformat() if repaired else "none (full re-read)")
    return repaired
