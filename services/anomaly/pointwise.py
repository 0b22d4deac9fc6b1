"""Point-by-point methods against the seasonal baseline: robust_zscore (default) and sigma."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from services.anomaly.baseline import KINDS, Expectation
from services.anomaly.config import DetectorConfig
from services.anomaly.events import AnomalyEvent, fmt, fmt_time, runs, severity
from services.anomaly.prepare import Grid

ROUTINE_MARGIN = 1.5   # the single-point bar sits this far above the routine spikes


@dataclass
class Flags:
    flags: np.ndarray      # point is part of an anomaly (direction not yet applied)
    z: np.ndarray          # signed score, NaN where not ready
    used: np.ndarray       # the bar the point passed (or the single-point bar where unflagged)
    sustained: np.ndarray  # flagged as part of a run rather than on its own
    raised: np.ndarray     # the single-point bar was raised above the configured one (routine spikes)
    run_len: int = 3       # points in a row that make a sustained run


def ready_mask(ex: Expectation, config: DetectorConfig) -> np.ndarray:
    """Enough history to judge: min_history_points seen and, for sub-daily data, min_cycles days and
    a spread measured at this hour of the day (before that, a trailing median and its spread call
    every evening peak an anomaly)."""
    need = config.baseline.min_history_points
    if "day" in ex.period_points:
        need = max(need, config.baseline.min_cycles * ex.period_points["day"])
    return (ex.seen >= need) & ex.settled


def _runs_of(over: np.ndarray, k: int) -> np.ndarray:
    """Mark every point of each run of True that is at least k long."""
    out = np.zeros(len(over), dtype=bool)
    if k <= 1:
        return over.copy()
    for first, last in runs(over, 1):
        if last - first + 1 >= k:
            out[first:last + 1] = True
    return out


def robust_flags(grid: Grid, ex: Expectation, config: DetectorConfig, routine: bool = True) -> Flags:
    """Robust z against the seasonal baseline; a point is flagged alone at |z| >= threshold, or in a
    same-sign run of sustained_points at |z| >= sustained_threshold."""
    cfg = config.robust_zscore
    with np.errstate(all="ignore"):
        z_raw = (grid.values - ex.expected) / ex.spread
    ready = ready_mask(ex, config) & np.isfinite(z_raw)
    z = np.where(ready, z_raw, np.nan)
    zz = np.nan_to_num(z)
    n = len(z)
    warm = np.where(ex.seen < cfg.warmup_days * grid.per_day, cfg.warmup_factor, 1.0)
    single = cfg.threshold * warm
    sus_bar = cfg.sustained_threshold * warm
    run_len = max(cfg.sustained_points, int(np.ceil(pd.Timedelta(minutes=cfg.sustained_minutes) / grid.step)))
    in_run = np.zeros(n, dtype=bool)
    for sign in (1.0, -1.0):
        in_run |= _runs_of(sign * zz >= sus_bar, run_len)
    raised = np.zeros(n, dtype=bool)
    if routine and cfg.routine_days > 0 and n:
        # Alert budget: the level that isolated |z| (runs excluded: those are events, not noise)
        # exceeded about once per routine_days over the last spread_days. A metric that spikes
        # routinely gets its single-point bar lifted above those spikes; a quiet one keeps threshold.
        rate = 1.0 / (cfg.routine_days * grid.per_day)
        window = max(100, int(round(cfg.routine_window_days * grid.per_day)))
        # the history includes the warm-up points not yet judged (after the first day, whose
        # spreads are too rough): a metric that spiked on day 2 has not stopped spiking because
        # we were not looking yet
        z_all = np.where(np.isfinite(z_raw) & (ex.seen >= max(24, grid.per_day)), z_raw, np.nan)
        runs_all = np.zeros(n, dtype=bool)
        for sign in (1.0, -1.0):
            runs_all |= _runs_of(sign * np.nan_to_num(z_all) >= sus_bar, run_len)
        hist = np.where(runs_all, np.nan, np.abs(z_all))
        minp = min(window, max(50, int(round(2 * grid.per_day))))  # below 1/rate points this is the max: conservative
        # up to an hour ago, so a burst under way does not lift its own bar
        lag = max(1, grid.points(1.0))
        q = pd.Series(hist).rolling(window, min_periods=minp).quantile(1.0 - rate).shift(lag).to_numpy()
        lifted = ROUTINE_MARGIN * np.nan_to_num(q)
        raised = lifted > single
        single = np.fmax(single, lifted)
    flags = (np.abs(zz) >= single) | in_run
    used = np.where(in_run & (np.abs(zz) < single), sus_bar, single)
    return Flags(flags & ready, z, used, in_run & (np.abs(zz) < single), raised, run_len)


def _direction(z: np.ndarray, direction: str) -> np.ndarray:
    if direction == "up":
        return np.nan_to_num(z) > 0
    if direction == "down":
        return np.nan_to_num(z) < 0
    return np.ones(len(z), dtype=bool)


def robust_events(grid: Grid, ex: Expectation, config: DetectorConfig, metric: str, fl: Flags) -> list[AnomalyEvent]:
    flags = fl.flags & _direction(fl.z, config.robust_zscore.direction)
    return _events(grid, ex, config, metric, "robust_zscore", flags, fl, ex.expected, ex.spread)


def sigma_events(grid: Grid, ex: Expectation, config: DetectorConfig, metric: str) -> list[AnomalyEvent]:
    cfg = config.sigma
    with np.errstate(all="ignore"):
        z = (grid.values - ex.mean) / ex.std
    ready = ready_mask(ex, config) & np.isfinite(z)
    z = np.where(ready, z, np.nan)
    flags = (np.abs(np.nan_to_num(z)) >= cfg.threshold) & _direction(z, cfg.direction)
    n = len(z)
    fl = Flags(flags, z, np.full(n, cfg.threshold), np.zeros(n, dtype=bool), np.zeros(n, dtype=bool))
    return _events(grid, ex, config, metric, "sigma", flags, fl, ex.mean, ex.std)


def _events(grid, ex, config, metric, method, flags, fl: Flags, expected, spread) -> list[AnomalyEvent]:
    gap = max(2, grid.points(config.merge_gap_hours))
    out = []
    for first, last in runs(flags, gap, grow=1.0):
        span = np.arange(first, last + 1)
        span = span[flags[span]]
        ratio = np.abs(fl.z[span]) / fl.used[span]
        peak = int(span[np.argmax(ratio)])
        score = float(np.max(ratio))
        value, exp, spr, zp = float(grid.values[peak]), float(expected[peak]), float(spread[peak]), float(fl.z[peak])
        details = {
            "z": round(zp, 2), "threshold": round(float(fl.used[peak]), 2), "spread": spr,
            "baseline": KINDS[int(ex.kind[peak])], "points_flagged": int(len(span)),
            "step_seconds": grid.step.total_seconds(),
        }
        why = _why(method, grid, ex, config, fl, peak, first, last, len(span), value, exp, spr, zp)
        out.append(AnomalyEvent(metric, method, grid.index[first].to_pydatetime(), grid.index[last].to_pydatetime(),
                                grid.index[peak].to_pydatetime(), value, exp, round(score, 3),
                                severity(score, config), why, details))
    return out


def _basis(ex: Expectation, peak: int) -> str:
    kind, cycles = int(ex.kind[peak]), int(ex.cycles[peak])
    if kind == 0:
        return "the trailing days (no daily or weekly shape fits better yet)"
    if kind == 2:
        where = f"the same hour of the week over the last {cycles} weeks"
    elif kind == 3:
        where = f"the same hour on the last {cycles} days of the same kind (weekdays or weekends)"
    else:
        where = f"the same hour of the day over the last {cycles} days"
    return where + ("", ", shifted to the current level", ", scaled to the current level")[int(ex.mode[peak])]


def _why(method, grid, ex, config, fl: Flags, peak, first, last, n, value, exp, spr, z) -> str:
    word = "above" if z > 0 else "below"
    thr = float(fl.used[peak])
    when = fmt_time(grid.index[peak])
    if method == "sigma":
        text = (f"{fmt(value)} at {when} is {abs(z):.1f} standard deviations {word} the expected {fmt(exp)} "
                f"(mean of {_basis(ex, peak)}; standard deviation {fmt(spr)}; threshold {thr:g})")
    else:
        cfg = config.robust_zscore
        text = (f"{fmt(value)} at {when} is {abs(z):.1f} robust sigmas {word} the expected {fmt(exp)} "
                f"(median of {_basis(ex, peak)}; spread {fmt(spr)} = 1.4826 x "
                f"median miss at this hour); ")
        if fl.sustained[peak]:
            text += f"{fl.run_len}+ points in a row beyond {thr:.1f}"
        else:
            text += f"threshold {thr:.1f}"
            if fl.raised[peak]:
                text += f" (raised from {cfg.threshold:g}: this metric spikes to that level routinely)"
        if ex.seen[peak] < cfg.warmup_days * grid.per_day:
            text += f" (bars x{cfg.warmup_factor:g} during the first {cfg.warmup_days:g} days)"
    if n > 1:
        text += f"; {n} points flagged from {fmt_time(grid.index[first])} to {fmt_time(grid.index[last])}"
    return text
