"""From raw points to a regular grid: parse, drop bad rows, sort, merge duplicates, infer the step.

The detector works on a regular grid (NaN where a point is missing) so that "the same hour last
week" is a fixed number of steps back. The step is the median spacing of the timestamps; points
are put on the grid nearest to them, starting at the first timestamp, so the event times reported
are the series' own sample times.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd

MAX_GRID_POINTS = 5_000_000  # a one-minute series over ten years; beyond that the step is surely wrong


@dataclass
class Grid:
    """A regular series: values[i] is the value at index[i]; NaN marks a missing point."""
    values: np.ndarray
    index: pd.DatetimeIndex
    step: pd.Timedelta
    notes: list[str] = field(default_factory=list)
    scale: str = "linear"  # "log": values are log(original); events report exp() of them
    sample_ns: np.ndarray | None = None  # per slot: the earliest sample time in it (ns), -1 where empty

    def sample_time(self, ts) -> pd.Timestamp:
        """The series' own sample time in the slot at `ts`: with gaps the median spacing (the step)
        can exceed the sampling, and an event must name a row that exists."""
        if self.sample_ns is None:
            return pd.Timestamp(ts)
        i = int(round((pd.Timestamp(ts) - self.index[0]) / self.step)) if len(self.index) else -1
        if 0 <= i < len(self.sample_ns) and self.sample_ns[i] >= 0:
            return pd.Timestamp(int(self.sample_ns[i]))
        return pd.Timestamp(ts)

    @property
    def per_day(self) -> float:
        return pd.Timedelta(days=1) / self.step

    def points(self, hours: float) -> int:
        """How many grid steps make `hours` (at least 1)."""
        return max(1, int(round(pd.Timedelta(hours=hours) / self.step)))


@dataclass
class BadRow:
    line: int      # 1-based line in the CSV, header = line 1
    reason: str


NICE_STEPS = [pd.Timedelta(x) for x in (
    "1s", "2s", "5s", "10s", "15s", "20s", "30s", "1min", "2min", "3min", "5min", "10min", "15min", "20min",
    "30min", "1h", "2h", "3h", "4h", "6h", "8h", "12h", "1D", "7D")]


def infer_step(index: pd.DatetimeIndex) -> pd.Timedelta:
    """Median positive spacing, snapped to a round step (5 min, 1 h, ...) when within 5 % of one,
    else rounded to the second; jittered timestamps must not make the grid drift off the clock."""
    diffs = np.diff(pd.DatetimeIndex(index).as_unit("ns").asi8)
    diffs = diffs[diffs > 0]
    if len(diffs) == 0:
        return pd.Timedelta(hours=1)
    step = pd.Timedelta(int(np.median(diffs)), unit="ns")
    for nice in NICE_STEPS:
        if abs(step - nice) <= 0.05 * nice:
            return nice
    unit = "1s" if step >= pd.Timedelta(seconds=1) else "1ms"
    return max(step.round(unit), pd.Timedelta(unit))


def to_grid(series: pd.Series, at: datetime | None = None) -> Grid:
    """Clean a series (DatetimeIndex, numeric values) onto a regular grid; nothing after `at`."""
    notes: list[str] = []
    values = pd.to_numeric(pd.Series(np.asarray(series.values), dtype=object), errors="coerce").astype(float).to_numpy()
    index = pd.DatetimeIndex(series.index)
    if index.tz is not None:
        index = index.tz_convert("UTC").tz_localize(None)
    keep = np.isfinite(values) & ~index.isna()
    if at is not None:
        keep &= np.asarray(index <= pd.Timestamp(at))
    if (~keep).sum() and at is None:
        notes.append(f"{int((~keep).sum())} missing or non-numeric values skipped")
    values, index = values[keep], index[keep]
    if len(values) == 0:
        return Grid(np.array([], dtype=float), pd.DatetimeIndex([], dtype="datetime64[ns]"), pd.Timedelta(hours=1), notes)
    index = index.as_unit("ns")
    order = np.argsort(index.asi8, kind="stable")
    if np.any(order != np.arange(len(order))):
        notes.append("rows were not in time order; sorted")
    values, index = values[order], index[order]
    step = infer_step(index.unique())
    t0 = index.asi8[0]
    slot = np.rint((index.asi8 - t0) / step.value).astype(np.int64)
    n = int(slot[-1]) + 1
    if n > MAX_GRID_POINTS:
        raise ValueError(f"{n:,} grid points at a {step} step: the timestamps are too irregular to infer a sampling")
    sums = np.bincount(slot, weights=values, minlength=n)
    counts = np.bincount(slot, minlength=n)
    dup = int((counts > 1).sum())
    if dup:
        notes.append(f"{dup} timestamps held more than one value; averaged")
    with np.errstate(invalid="ignore", divide="ignore"):
        grid_values = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    grid_index = pd.DatetimeIndex(t0 + np.arange(n, dtype=np.int64) * step.value).as_unit("ns")
    missing = int((counts == 0).sum())
    if missing:
        notes.append(f"{missing} of {n} points missing at a {step} step (gaps are tolerated)")
    first = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first, slot, index.asi8)
    sample_ns = np.where(counts > 0, first, -1)
    return Grid(grid_values, grid_index, step, notes, sample_ns=sample_ns)


def series_from_frame(frame: pd.DataFrame, time_col: str, value_col: str) -> tuple[pd.Series, list[BadRow]]:
    """Parse a CSV-like frame of strings into a float series on a naive-UTC DatetimeIndex.

    Timestamps: ISO 8601 or anything pandas reads (with or without offset, converted to UTC);
    a column of plain numbers is read as Unix epoch seconds (milliseconds when large).
    Rows whose time or value cannot be read, or whose value is empty/NaN/infinite, are returned
    as BadRow(line, reason) and left out; the rest is returned unsorted as given.
    """
    for col in (time_col, value_col):
        if col not in frame.columns:
            raise KeyError(f"column {col!r} not in the file; columns: {', '.join(map(str, frame.columns))}")
    raw_t = frame[time_col]
    raw_v = frame[value_col]
    times = _parse_times(raw_t)
    values = pd.to_numeric(raw_v, errors="coerce").astype(float)
    bad: list[BadRow] = []
    bad_t = times.isna().to_numpy()
    bad_v = ~np.isfinite(values.to_numpy())
    for pos in np.flatnonzero(bad_t | bad_v):
        line = int(pos) + 2
        if bad_t[pos]:
            bad.append(BadRow(line, f"time {_show(raw_t.iloc[pos])} is not a timestamp"))
        else:
            bad.append(BadRow(line, f"value {_show(raw_v.iloc[pos])} is not a number"))
    ok = ~(bad_t | bad_v)
    series = pd.Series(values.to_numpy()[ok], index=pd.DatetimeIndex(times.to_numpy()[ok]), name=value_col)
    return series, bad


def _show(raw) -> str:
    if raw is None or (isinstance(raw, float) and np.isnan(raw)) or (isinstance(raw, str) and not raw.strip()):
        return "(empty)"
    return repr(str(raw)[:40])


def _parse_times(raw: pd.Series) -> pd.Series:
    text = raw.astype("string").str.strip()
    numeric = pd.to_numeric(text, errors="coerce")
    if numeric.notna().sum() > 0 and numeric.notna().sum() >= 0.9 * text.notna().sum():
        scale = "ms" if numeric.abs().median() > 1e11 else "s"
        return pd.to_datetime(numeric, unit=scale, errors="coerce")
    try:
        parsed = pd.to_datetime(text, utc=True, errors="coerce", format="ISO8601")
    except (ValueError, TypeError):
        parsed = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns, UTC]")
    retry = parsed.isna() & text.notna() & (text != "")
    if retry.any():
        again = pd.to_datetime(text[retry], utc=True, errors="coerce", format="mixed")
        parsed = parsed.astype("datetime64[ns, UTC]")
        parsed[retry] = again.astype("datetime64[ns, UTC]")
    return parsed.dt.tz_convert("UTC").dt.tz_localize(None)
