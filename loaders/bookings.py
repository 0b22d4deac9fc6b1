"""Bookings read in bulk or counted in the database, for the forecast, supply and recommendation jobs."""
from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from domain.forecasting.series import NOT_DEMAND
from models.bulk import read_columns, text_times
from models.source import Booking


TIME_COLUMNS = ("scheduled_time", "created_at", "updated_at")


def load_bookings(engine: Engine, start: datetime, end: datetime, columns=("subject", "scheduled_time", "status")
                  ) -> pd.DataFrame:
    """Bookings scheduled in [start, end) with the given contract columns (bulk read: ~400k rows at 50k customers)."""
    with engine.connect() as conn:
        times = [c for c in columns if c in TIME_COLUMNS]
        cols = [getattr(Booking, c) for c in columns if c not in TIME_COLUMNS] + text_times(
            conn, [getattr(Booking, c) for c in times])
        return read_columns(conn, select(*cols).where(Booking.scheduled_time >= start, Booking.scheduled_time < end),
                            dates=times)[list(columns)]


def held_counts(engine: Engine, start: datetime, end: datetime, by: tuple[str, ...] = ("subject",)) -> pd.DataFrame:
    """DataFrame[*by, n]: bookings held or to be held (status not cancelled/rescheduled, as hourly_demand
    counts demand) scheduled in [start, end), counted in the database."""
    cols = [getattr(Booking, c) for c in by]
    with engine.connect() as conn:
        rows = conn.execute(select(*cols, func.count()).where(
            Booking.scheduled_time >= start, Booking.scheduled_time < end, Booking.status.not_in(NOT_DEMAND))
            .group_by(*cols)).all()
    return pd.DataFrame(rows, columns=[*by, "n"]).astype({"n": "int64"})
