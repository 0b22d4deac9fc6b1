"""Hourly series: demand from bookings, and any timestamped series put on a regular hourly grid."""
from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

# A booking is demand for its hour when it was or will be held there: scheduled (will be),
# completed, no_show (the hour was held; the customer wanted it). Not cancelled, and not
# rescheduled: rescheduling frees the hour and books the new time as a booking row of its own
# (so the source and the simulation do), which is counted at its own hour.
NOT_DEMAND = ("cancelled", "rescheduled")


def regular_hourly(series: pd.DataFrame, fill: float = np.nan) -> pd.DataFrame:
    """DataFrame[ts, y] (any order, any resolution) -> DataFrame[ts, y] with one row per hour.

    Times are floored to the hour and values summed within an hour (counts add up; finer series
    become hourly totals). Hours inside the range with no row get ``fill``: NaN (missing, left out
    of training and scoring) or 0 for event logs where no row means no demand.
    """
    if series.empty:
        return pd.DataFrame({"ts": pd.Series(dtype="datetime64[ns]"), "y": pd.Series(dtype=float)})
    ts = pd.to_datetime(series["ts"]).dt.floor("h")
    y = pd.Series(series["y"].to_numpy(dtype=float), index=ts).groupby(level=0).sum(min_count=1)
    grid = pd.date_range(y.index.min(), y.index.max(), freq="h")
    y = y.reindex(grid)
    if not np.isnan(fill):
        y = y.fillna(fill)
    return pd.DataFrame({"ts": grid, "y": y.to_numpy()})


def hourly_demand(bookings: pd.DataFrame, start: datetime, end: datetime, by: str = "subject",
                  subjects: list[str] | None = None) -> pd.DataFrame:
    """Bookings per hour of ``scheduled_time`` -> DataFrame[<by>, ts, y], zero-filled.

    ``bookings`` has the contract's booking columns (at least ``by``, scheduled_time, status).
    Counts every booking that was or will be held (status not cancelled or rescheduled, see
    ``NOT_DEMAND``), in hours
    [floor(start), end). One row per (key, hour) for every key in ``subjects`` (default: the keys
    present in ``bookings``), so a quiet subject still gets its zero hours.
    """
    start = pd.Timestamp(start).floor("h")
    hours = pd.date_range(start, pd.Timestamp(end), freq="h", inclusive="left")
    b = bookings.loc[~bookings["status"].isin(NOT_DEMAND), [by, "scheduled_time"]]
    ts = pd.to_datetime(b["scheduled_time"]).dt.floor("h")
    keep = (ts >= start) & (ts < pd.Timestamp(end))
    counts = b.loc[keep].assign(ts=ts[keep]).groupby([by, "ts"]).size()
    keys = sorted(subjects) if subjects is not None else sorted(b[by].dropna().unique())
    index = pd.MultiIndex.from_product([keys, hours], names=[by, "ts"])
    out = counts.reindex(index, fill_value=0).rename("y").reset_index()
    out["y"] = out["y"].astype(float)
    return out
