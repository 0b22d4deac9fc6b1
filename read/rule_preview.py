"""The rule editor's preview: a metric's recent series and how often a detector config would have fired on it."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.engine import Engine

from domain.anomaly import preview_rule
from domain.alerting.lifecycle import RuleError
from infra.clock import utcnow
from read.alerts import derived_series, metric_series

PREVIEW_HISTORY_DAYS = 70  # before the preview window: 4 weeks of seasonal baseline + 8 weeks of week-over-week history


def load_series(engine: Engine, metric: str, days: int, at: datetime):
    """The metric's points over the preview window plus the history its baselines need: from
    metric_points, or derived from sessions and bookings for the domain.alerting.streams streams."""
    since = at - timedelta(days=days + PREVIEW_HISTORY_DAYS)
    series = metric_series(engine, metric, since, at)
    if series.empty:
        series = derived_series(engine, metric, since, at)
    if series.empty:
        raise RuleError(f"No data for {metric} in the last {days + PREVIEW_HISTORY_DAYS} days.")
    return series


def preview(series, config, days: int = 30, at: datetime | None = None, metric: str = "series") -> dict:
    """How often `config` would have fired on `series` over the last `days` days up to `at`
    (domain.anomaly.preview_rule's dict)."""
    return preview_rule(series, config, days=days, at=at or utcnow(), metric=metric)
