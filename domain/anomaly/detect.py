"""detect_series / detect_streams / preview_rule: the public entry points."""
from __future__ import annotations

import copy
from collections import Counter
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, Mapping

import numpy as np
import pandas as pd

from domain.anomaly.baseline import expectation
from domain.anomaly.calendar import holiday_mask
from domain.anomaly.config import DetectorConfig, config_for
from domain.anomaly.events import AnomalyEvent, iso, to_frame
from domain.anomaly.pointwise import robust_events, robust_flags, sigma_events
from domain.anomaly.prepare import Grid, to_grid
from domain.anomaly.tail import refractory
from domain.anomaly.windows import consecutive_drops, week_over_week


def detect_grid(grid: Grid, config: DetectorConfig, metric: str = "series") -> list[AnomalyEvent]:
    """All enabled methods on an already regular grid; events sorted by start time."""
    if np.isfinite(grid.values).sum() < 3:
        return []
    holiday, _ = holiday_mask(grid.index, config.holidays, config.holiday_timezones)
    learn = np.where(holiday, np.nan, grid.values)  # holidays never enter a baseline
    # two passes: the second learns its baseline without what the first one flagged
    # (the first pass skips what only the second needs: the sigma statistics and the routine-spike
    # bar, whose only effect there would be to keep a few more spikes in the history)
    first = robust_flags(grid, expectation(grid, config.baseline, learn, classic=False), config, routine=False)
    if log_candidate(grid, config):
        log_grid, log_config = to_log(grid, config)
        log_learn = np.where(holiday, np.nan, log_grid.values)
        log_first = robust_flags(log_grid, expectation(log_grid, log_config.baseline, log_learn, classic=False),
                                 log_config, routine=False)
        if config.baseline.scale == "log" or _skew(log_first.z, holiday) < _skew(first.z, holiday) - SKEW_MARGIN:
            grid, config, learn, first = log_grid, log_config, log_learn, log_first
    history = np.where(first.flags, np.nan, learn)
    ex = expectation(grid, config.baseline, history, classic=config.sigma.enabled)
    fl = robust_flags(grid, ex, config, exclude=holiday)
    events: list[AnomalyEvent] = []
    if config.robust_zscore.enabled:
        events += robust_events(grid, ex, config, metric, fl)
    if config.sigma.enabled:
        events += sigma_events(grid, ex, config, metric)
    # the window methods compare aggregates: a holiday leaves its windows short of coverage
    window_grid = replace(grid, values=learn) if holiday.any() else grid
    # past windows are judged without the points flagged in either pass: last week's incident is
    # not this week's reference (the clean rest of its window is, or the week before)
    reference = np.where(fl.flags, np.nan, history)
    if config.week_over_week.enabled:
        events += week_over_week(window_grid, config, metric, reference)
    if config.consecutive_drops.enabled:
        events += consecutive_drops(window_grid, config, metric)
    if holiday.any():
        events = [e for e in events if not _mostly_holiday(e, grid, holiday)]
    events.sort(key=lambda e: (e.start, e.method))
    if grid.sample_ns is not None and len(grid.sample_ns) and (grid.sample_ns != grid.index.asi8).any():
        events = [_at_samples(e, grid) for e in events]
    if config.refractory_hours > 0:
        keep = refractory([(e.start, e.end) for e in events], config.refractory_hours)
        events = [e for e, k in zip(events, keep) if k]
    return events


SKEW_MARGIN = 0.1  # log must be clearly more symmetric to be chosen (about 10 % in the tail ratio)


def log_candidate(grid: Grid, config: DetectorConfig) -> bool:
    """May the series be judged on log(value)? Positive values only; baseline.scale "log", or "auto" for
    non-integer series: counts keep their Poisson floor on the linear scale (the log of small counts
    has a long lower tail -- 1 against an expected 6 is -1.8 -- that would make every quiet hour look
    like a deep dip and the metric look spiky)."""
    obs = grid.values[np.isfinite(grid.values)]
    if config.baseline.scale == "linear" or not len(obs) or obs.min() <= 0:
        return False
    return config.baseline.scale == "log" or not bool(np.all(obs == np.round(obs)))


def _skew(z: np.ndarray, exclude: np.ndarray) -> float:
    """Tail asymmetry of past misses: |log(99.5th percentile z / -0.5th)|; 0 for symmetric noise.

    baseline.scale "auto" judges a positive series on the scale (linear or log) whose misses are
    the more symmetric (Box-Cox with lambda 1 or 0). Latency, durations and small rates have a
    multiplicative tail -- one request in a hundred three times slower, never a third as slow --
    which on a linear scale reads as a stream of 10-sigma spikes; a CPU percentage with symmetric
    noise stays linear (its log would make every dip look deep). Decided on the history available."""
    zs = z[np.isfinite(z) & ~exclude]
    if len(zs) < 100:
        return np.inf
    lo, hi = np.quantile(zs, [0.005, 0.995])
    if hi <= 0 or lo >= 0:
        return np.inf
    return float(abs(np.log(hi / -lo)))


def to_log(grid: Grid, config: DetectorConfig) -> tuple[Grid, DetectorConfig]:
    """The grid on a log scale, and the config whose floors mean the same there: the spread floor of
    min_spread_pct % becomes log(1 + pct/100); an absolute min_spread is taken relative to the
    median value; the Poisson floor and multiplicative profiles do not apply (log is additive)."""
    with np.errstate(all="ignore"):
        values = np.log(grid.values)
    b = config.baseline
    typical = float(np.nanmedian(grid.values))
    floor = max(np.log1p(b.min_spread_pct / 100.0), np.log1p(b.min_spread / typical) if typical > 0 else 0.0)
    cfg = copy.deepcopy(config)
    cfg.baseline.seasonal_mode = "additive"
    cfg.baseline.count_floor = False
    cfg.baseline.min_spread_pct = 0.0
    cfg.baseline.min_spread = float(floor)
    return replace(grid, values=values, scale="log"), cfg


def _at_samples(event: AnomalyEvent, grid: Grid) -> AnomalyEvent:
    """Event times as the series' own sample times, not grid slots (see Grid.sample_time)."""
    return replace(event, start=grid.sample_time(event.start).to_pydatetime(),
                   end=grid.sample_time(event.end).to_pydatetime(),
                   peak_ts=grid.sample_time(event.peak_ts).to_pydatetime())


def _mostly_holiday(event: AnomalyEvent, grid: Grid, holiday: np.ndarray) -> bool:
    """The event starts on a holiday and at least half of its time span is on one (an expected
    departure, not news). One that began before the holiday is not the holiday's doing: an incident
    under way on the evening before Thanksgiving Eve is still an incident."""
    lo = grid.index.searchsorted(pd.Timestamp(event.start), "left")
    hi = grid.index.searchsorted(pd.Timestamp(event.end), "right")
    return hi > lo and bool(holiday[lo]) and holiday[lo:hi].mean() >= 0.5


def detect_series(series: pd.Series, config: DetectorConfig | None = None, at: datetime | None = None,
                  metric: str = "series") -> list[AnomalyEvent]:
    """Anomaly events in one series.

    series: values on a DatetimeIndex (naive UTC); any regular sampling (inferred from the median
    spacing); gaps, duplicates (averaged), unsorted rows and NaN are tolerated.
    at: only data up to this time is used, so the answer is the one the detector gave at `at`.
    """
    config = config or DetectorConfig()
    return detect_grid(to_grid(series, at=at), config, metric)


def detect_streams(points: pd.DataFrame, config_by_metric: Mapping[str, Mapping[str, Any]] | None = None,
                   at: datetime | None = None, recent: timedelta | None = None,
                   base: DetectorConfig | None = None) -> pd.DataFrame:
    """Detect on every metric of a long frame.

    points: columns metric, ts, value (the metric_points record, or derive_streams output).
    config_by_metric: {metric name or glob like "sessions.*": override dict}; see config_for.
    recent: keep only events whose end is within `recent` of that stream's latest point (up to
    `at`), which is what the five-minute job wants: an hourly stream whose newest complete hour
    starts 60 minutes ago still has its news judged, and nothing older comes back.
    Returns one row per event: metric, method, start, end, peak_ts, value, expected, score,
    severity, why, details (dict), sorted by metric and start.
    """
    events: list[AnomalyEvent] = []
    if len(points):
        frame = points[["metric", "ts", "value"]].reset_index(drop=True)
        ts = pd.to_datetime(frame["ts"])
        if at is not None:
            keep = (ts <= pd.Timestamp(at)).to_numpy()
            frame, ts = frame[keep], ts[keep]
        for metric, part in frame.groupby("metric", sort=True):
            series = pd.Series(part["value"].to_numpy(dtype=float), index=pd.DatetimeIndex(ts.loc[part.index]))
            config = config_for(str(metric), config_by_metric, base)
            found = detect_series(series, config, metric=str(metric))
            if recent is not None:
                cutoff = pd.Timestamp(series.index.max()) - pd.Timedelta(recent)
                found = [e for e in found if pd.Timestamp(e.end) >= cutoff]
            events += found
    return to_frame(events)


def preview_rule(series: pd.Series, config: DetectorConfig | Mapping[str, Any] | None, days: int = 30,
                 at: datetime | None = None, metric: str = "series") -> dict[str, Any]:
    """What a rule would have fired over the last `days` days up to `at` (default: the last point).

    Returns {"metric", "days", "since", "until", "total", "by_method": {method: {"count", "times"}},
    "events": [event dicts]}; times are event start times, ISO.
    """
    if not isinstance(config, DetectorConfig):
        config = DetectorConfig.from_dict(config)
    grid = to_grid(series, at=at)
    until = pd.Timestamp(at) if at is not None else (grid.index[-1] if len(grid.index) else pd.Timestamp(0))
    since = until - pd.Timedelta(days=days)
    events = [e for e in detect_grid(grid, config, metric) if pd.Timestamp(e.end) >= since]
    counts = Counter(e.method for e in events)
    by_method = {m: {"count": counts.get(m, 0), "times": [iso(e.start) for e in events if e.method == m]}
                 for m in config.methods()}
    return {"metric": metric, "days": days, "since": iso(since), "until": iso(until), "total": len(events),
            "by_method": by_method, "events": [e.to_dict() for e in events]}
