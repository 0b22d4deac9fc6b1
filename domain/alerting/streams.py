"""Metric streams derived from sessions and bookings, for the anomaly detector.

derive_streams(sessions, bookings, start, end) -> DataFrame[metric, ts, value], one row per stream
and complete bucket (default hourly), in the metric_points shape. Streams, overall and per subject
(`<name>` and `<name>.<subject>`):

  bookings.rate                 bookings created in the bucket (a count; empty buckets are 0)
  sessions.cancellation_rate    cancelled / all bookings whose scheduled_time falls in the window
  sessions.no_show_rate         no_show / (completed + no_show) sessions starting in the window
                                (the contract's no_show is the tutor no-show the issue asks about)
  sessions.avg_rating           mean rating of completed, rated sessions starting in the window

Rates and ratings are taken over a trailing `window` (default 6 h) ending at the bucket's end, and
are NaN when the denominator holds fewer than `min_count` (default 20) bookings or sessions: a
subject with three sessions at 4 am would otherwise swing from 0 % to 33 % no-shows and fire all
night. NaN points are left out of the output (the detector treats them as gaps).

ts is the bucket start; a bucket is emitted only once complete (ts + freq <= end), so the job
running every five minutes never compares a half-filled hour with a full one.

STREAM_RULES holds the detector overrides these streams want (counts compared as totals with a
minimum volume, spread floors for rates and ratings); the job merges the metric_rules table on top.
"""
from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

STREAM_RULES: dict[str, dict] = {
    "bookings.rate*": {
        "week_over_week": {"agg": "sum", "min_volume": 50},
        "consecutive_drops": {"agg": "sum", "min_volume": 50},
    },
    "sessions.cancellation_rate*": {"baseline": {"min_spread": 0.01}},
    "sessions.no_show_rate*": {"baseline": {"min_spread": 0.01}},
    "sessions.avg_rating*": {"baseline": {"min_spread": 0.05}},
}


def derive_streams(sessions: pd.DataFrame, bookings: pd.DataFrame, start: datetime, end: datetime,
                   freq: str = "1h", window: str = "6h", min_count: int = 20,
                   subjects: list[str] | None = None) -> pd.DataFrame:
    """Hourly (freq) streams from contract sessions and bookings between start and end (naive UTC).

    sessions: session_id, customer_id, tutor_id, subject, start_time, end_time, rating, status, updated_at
    bookings: booking_id, customer_id, tutor_id, subject, scheduled_time, created_at, status,
              rescheduled_by, updated_at
    Returns metric, ts, value (float), sorted by metric then ts.
    """
    step = pd.Timedelta(freq)
    origin = pd.Timestamp(start).floor(freq)
    n = int((pd.Timestamp(end) - origin) // step)  # complete buckets only
    if n <= 0:
        return pd.DataFrame({"metric": pd.Series(dtype=object), "ts": pd.Series(dtype="datetime64[ns]"),
                             "value": pd.Series(dtype=float)})
    w = max(1, int(pd.Timedelta(window) // step))
    if subjects is None:
        subjects = sorted(set(sessions["subject"].dropna().astype(str)) | set(bookings["subject"].dropna().astype(str)))
    code = {s: i for i, s in enumerate(subjects)}
    bk = _Events(bookings, "subject", code, origin, step, n)
    se = _Events(sessions, "subject", code, origin, step, n)

    created = bk.count("created_at")
    scheduled = bk.count("scheduled_time")
    cancelled = bk.count("scheduled_time", mask=bookings["status"].astype(str).eq("cancelled").to_numpy())
    status = sessions["status"].astype(str)
    completed = status.eq("completed").to_numpy()
    no_show = status.eq("no_show").to_numpy()
    attended = se.count("start_time", mask=completed | no_show)
    missed = se.count("start_time", mask=no_show)
    rating = pd.to_numeric(sessions["rating"], errors="coerce").to_numpy(dtype=float)
    rated = completed & np.isfinite(rating)
    n_rated = se.count("start_time", mask=rated)
    rating_sum = se.count("start_time", mask=rated, weights=np.nan_to_num(rating))

    ts = origin + step * np.arange(n)
    frames = []
    for name, values in (
        ("bookings.rate", created),
        ("sessions.cancellation_rate", _ratio(cancelled, scheduled, w, min_count)),
        ("sessions.no_show_rate", _ratio(missed, attended, w, min_count)),
        ("sessions.avg_rating", _ratio(rating_sum, n_rated, w, min_count)),
    ):
        for suffix, v in [("", values[0])] + [(f".{s}", values[code[s] + 1]) for s in subjects]:
            keep = np.isfinite(v)
            frames.append(pd.DataFrame({"metric": name + suffix, "ts": ts[keep], "value": v[keep].astype(float)}))
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["metric", "ts"], kind="stable").reset_index(drop=True)


class _Events:
    """Counts (or sums) rows of one frame per subject and bucket of a time column:
    row 0 of the result is all subjects, row i+1 subject i."""

    def __init__(self, frame: pd.DataFrame, subject_col: str, code: dict[str, int],
                 origin: pd.Timestamp, step: pd.Timedelta, n: int):
        self.frame, self.origin, self.step, self.n, self.rows = frame, origin, step, n, len(code)
        self.subject = frame[subject_col].astype(str).map(code).to_numpy(dtype=float)
        self._buckets: dict[str, np.ndarray] = {}

    def _bucket(self, col: str) -> np.ndarray:
        if col not in self._buckets:
            t = pd.to_datetime(self.frame[col], errors="coerce")
            if getattr(t.dt, "tz", None) is not None:
                t = t.dt.tz_convert("UTC").dt.tz_localize(None)
            self._buckets[col] = ((t - self.origin) // self.step).to_numpy(dtype=float)
        return self._buckets[col]

    def count(self, col: str, mask: np.ndarray | None = None, weights: np.ndarray | None = None) -> np.ndarray:
        bucket = self._bucket(col)
        ok = np.isfinite(bucket) & (bucket >= 0) & (bucket < self.n)
        if mask is not None:
            ok &= mask
        b = bucket[ok].astype(np.int64)
        wts = None if weights is None else weights[ok]
        total = np.bincount(b, weights=wts, minlength=self.n).astype(float)
        subj = self.subject[ok]
        s_ok = np.isfinite(subj)
        flat = np.bincount(subj[s_ok].astype(np.int64) * self.n + b[s_ok],
                           weights=None if wts is None else wts[s_ok], minlength=self.rows * self.n)
        return np.vstack([total[None, :], flat.reshape(self.rows, self.n).astype(float)])


def _ratio(num: np.ndarray, den: np.ndarray, w: int, min_count: int) -> np.ndarray:
    """Trailing-window ratio per row, NaN where the window's denominator is below min_count."""
    num_w, den_w = _trailing_sum(num, w), _trailing_sum(den, w)
    with np.errstate(all="ignore"):
        return np.where(den_w >= min_count, num_w / np.maximum(den_w, 1e-12), np.nan)


def _trailing_sum(x: np.ndarray, w: int) -> np.ndarray:
    c = np.cumsum(x, axis=1)
    out = c.copy()
    out[:, w:] = c[:, w:] - c[:, :-w]
    return out
