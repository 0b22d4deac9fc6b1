"""The rule editor's preview: a metric's recent series and how often a detector config would have fired on it.

A preview runs in the web process, so it is bounded: the settings are those of the form within their bounds
(writes/rules.RULE_SCHEMA), the series is at most MAX_POINTS points (a denser stream is previewed on means
over a coarser step), and at most PREVIEWS_AT_ONCE previews run at a time per process (others are told to
try again), so a burst of clicks cannot take the memory of the process serving everyone's pages.
"""
from __future__ import annotations

import math
import threading
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Iterator

from sqlalchemy.engine import Engine

from domain.anomaly import preview_rule
from domain.alerting.lifecycle import RuleError
from infra.clock import utcnow
from read.alerts import derived_series, metric_series

PREVIEW_HISTORY_DAYS = 70  # before the preview window: 4 weeks of seasonal baseline + 8 weeks of week-over-week history
MAX_POINTS = 30_000  # 100 days at 5-minute steps; a preview of that takes ~1-2 s and ~100 MB
PREVIEWS_AT_ONCE = 2
_slots = threading.BoundedSemaphore(PREVIEWS_AT_ONCE)


@contextmanager
def preview_slot() -> Iterator[None]:
    """Hold one of the process's preview slots; RuleError at once when all are taken."""
    if not _slots.acquire(blocking=False):
        raise RuleError("Other previews are running; try again in a few seconds.")
    try:
        yield
    finally:
        _slots.release()


def bounded(series):
    """`series` with at most MAX_POINTS points: a denser one as means over the smallest whole number of
    minutes that fits (series.attrs["step_minutes"] says which; absent when kept as it is)."""
    if len(series) <= MAX_POINTS:
        return series
    span_min = max(1.0, (series.index[-1] - series.index[0]).total_seconds() / 60)
    step = max(1, math.ceil(span_min / MAX_POINTS))
    while True:
        out = series.resample(f"{step}min").mean().dropna()
        if len(out) <= MAX_POINTS:
            out.name = series.name
            out.attrs["step_minutes"] = step
            return out
        step += 1


def load_series(engine: Engine, metric: str, days: int, at: datetime):
    """The metric's points over the preview window plus the history its baselines need: from
    metric_points, or derived from sessions and bookings for the domain.alerting.streams streams."""
    since = at - timedelta(days=days + PREVIEW_HISTORY_DAYS)
    series = metric_series(engine, metric, since, at)
    if series.empty:
        series = derived_series(engine, metric, since, at)
    if series.empty:
        raise RuleError(f"No data for {metric} in the last {days + PREVIEW_HISTORY_DAYS} days.")
    return bounded(series)


def preview(series, config, days: int = 30, at: datetime | None = None, metric: str = "series") -> dict:
    """How often `config` would have fired on `series` over the last `days` days up to `at`
    (domain.anomaly.preview_rule's dict)."""
    return preview_rule(series, config, days=days, at=at or utcnow(), metric=metric)
