"""Read side of the metric explorer and the anomaly charts: which streams exist, one stream over a window,
its expected band, and the alerts and anomalies to draw on it.

Stream names: a metric_points metric as stored (`app_error_rate`), a stream derived from sessions and
bookings (`sessions.no_show_rate`, `bookings.rate.math`), or an overview card's history
(`overview.<card key>`, from the stored overview snapshots).
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import or_, select
from sqlalchemy.engine import Engine

from domain.marketplace import CARD_META
from models.derived import Alert, Anomaly, OverviewSnapshot
from models.frames import read_frame
from read.alerts import derived_series, derived_stream_names, has_metric, metric_names, metric_series
from read.cache import cached_read

OVERVIEW_PREFIX = "overview."
BAND_WEEKS = 3  # the expected band: same time of week over the 3 weeks before


@cached_read(topic="metric_streams")  # no job bumps it: the list lives for the cache TTL (a new stream shows then)
def streams(engine: Engine) -> list[dict]:
    """[{value, label, group}] for the explorer's picker: overview cards, stored metrics, derived streams."""
    cards = [{"value": f"{OVERVIEW_PREFIX}{k}", "label": label, "group": "Overview cards"}
             for k, (label, _unit, _link) in CARD_META.items()]
    stored = [{"value": m, "label": m.replace("_", " "), "group": "Metric streams"} for m in metric_names(engine)]
    derived = [{"value": m, "label": m.replace("_", " ").replace(".", " · "), "group": "From sessions and bookings"}
               for m in derived_stream_names(engine)]
    return cards + stored + derived


def unit_of(stream: str) -> str | None:
    if stream.startswith(OVERVIEW_PREFIX):
        meta = CARD_META.get(stream[len(OVERVIEW_PREFIX):])
        return meta[1] if meta else None
    return "percent" if stream.endswith("_rate") or "_rate." in stream else None


def series(engine: Engine, stream: str, since: datetime, until: datetime) -> pd.Series:
    """Values of `stream` with since <= ts <= until, time-indexed (naive UTC), float."""
    if stream.startswith(OVERVIEW_PREFIX):
        return _overview_series(engine, stream[len(OVERVIEW_PREFIX):], since, until)
    if has_metric(engine, stream):
        return metric_series(engine, stream, since, until)
    return derived_series(engine, stream, since, until)


def _overview_series(engine: Engine, key: str, since: datetime, until: datetime) -> pd.Series:
    with engine.connect() as conn:
        rows = conn.execute(select(OverviewSnapshot.computed_at, OverviewSnapshot.payload)
                            .where(OverviewSnapshot.computed_at >= since, OverviewSnapshot.computed_at <= until)
                            .order_by(OverviewSnapshot.computed_at)).all()
    values = {}
    for at, payload in rows:
        card = json.loads(payload).get("cards", {}).get(key)
        if card and card.get("value") is not None:
            values[pd.Timestamp(at)] = float(card["value"])
    out = pd.Series(values, dtype=float, name=key)
    out.index = pd.DatetimeIndex(out.index)  # also when empty (a RangeIndex would not compare with a time)
    return out.sort_index()


def expected_band(history: pd.Series, since: datetime) -> pd.DataFrame:
    """Expected value and range for the points at or after `since`: the median of the same time of week over
    the BAND_WEEKS weeks before, +- 3 scaled MADs of those values (columns expected, lower, upper). Points
    without any earlier week are left out."""
    if history.empty:
        return pd.DataFrame(columns=["expected", "lower", "upper"])
    lags = [history.shift(freq=timedelta(weeks=w)).reindex(history.index) for w in range(1, BAND_WEEKS + 1)]
    past = np.column_stack([lag.to_numpy(dtype=float) for lag in lags])
    ok = ~np.isnan(past).all(axis=1)
    med = np.full(len(history), np.nan)
    mad = np.full(len(history), np.nan)
    med[ok] = np.nanmedian(past[ok], axis=1)
    mad[ok] = np.nanmedian(np.abs(past[ok] - med[ok, None]), axis=1) * 1.4826
    spread = np.maximum(mad, np.nanmedian(mad) if ok.any() else 0) * 3
    band = pd.DataFrame({"expected": med, "lower": med - spread, "upper": med + spread}, index=history.index)
    return band[(band.index >= pd.Timestamp(since)) & ok]


def annotations(engine: Engine, stream: str, since: datetime, until: datetime, limit: int = 50) -> list[dict]:
    """Alerts and anomalies about `stream` detected in [since, until]: [{ts, text, severity, alert_id}]."""
    metric = stream[len(OVERVIEW_PREFIX):] if stream.startswith(OVERVIEW_PREFIX) else stream
    with engine.connect() as conn:
        alerts = conn.execute(select(Alert.id, Alert.detected_at, Alert.title, Alert.severity)
                              .where(or_(Alert.entity_id == metric, Alert.link.like(f"%metric={metric}")),
                                     Alert.detected_at >= since, Alert.detected_at <= until)
                              .order_by(Alert.detected_at.desc()).limit(limit)).all()
        events = conn.execute(select(Anomaly.start_ts, Anomaly.severity, Anomaly.method)
                              .where(Anomaly.metric == metric, Anomaly.start_ts >= since, Anomaly.start_ts <= until)
                              .order_by(Anomaly.start_ts.desc()).limit(limit)).all()
    notes = [{"ts": a.detected_at, "text": a.title, "severity": a.severity, "alert_id": a.id} for a in alerts]
    notes += [{"ts": e.start_ts, "text": f"anomaly ({e.method.replace('_', ' ')})", "severity": e.severity or "info",
               "alert_id": None} for e in events]
    return sorted(notes, key=lambda n: n["ts"])


def anomaly_windows(engine: Engine, metric: str, since: datetime, until: datetime) -> pd.DataFrame:
    """Anomaly events of `metric` overlapping [since, until] (start_ts, end_ts, expected, severity)."""
    stmt = (select(Anomaly.start_ts, Anomaly.end_ts, Anomaly.expected, Anomaly.severity)
            .where(Anomaly.metric == metric, Anomaly.end_ts >= since, Anomaly.start_ts <= until))
    return read_frame(engine, stmt, parse_dates=["start_ts", "end_ts"])


def flagged_points(actual: pd.Series, windows: pd.DataFrame) -> pd.Series:
    """The points of `actual` inside any anomaly window."""
    if actual.empty or windows.empty:
        return actual.iloc[:0]
    inside = np.zeros(len(actual), dtype=bool)
    idx = actual.index
    for w in windows.itertuples():
        inside |= (idx >= w.start_ts) & (idx <= w.end_ts)
    return actual[inside]
