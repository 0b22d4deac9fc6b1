"""Point-by-point methods against the seasonal baseline: robust_zscore (default) and sigma."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from domain.anomaly.baseline import KINDS, Expectation
from domain.anomaly.config import DetectorConfig
from domain.anomaly.events import AnomalyEvent, fmt, fmt_time, runs, severity
from domain.anomaly.prepare import Grid
from domain.anomaly.tail import calibrated_flags

ROUTINE_MARGIN = 1.5   # the single-point bar sits this far above the routine spikes
# A metric is spiky (heavy-tailed) when isolated misses beyond 4 robust sigmas come at least
# TAIL_EXCESS times as often as Gaussian noise makes them (6.3e-5 of points), and at least twice in
# the routine window: the latency or bursty-count kind where a month can pass without a 5-sigma
# spike and then three come in a week.
TAIL_BAR, TAIL_P, TAIL_EXCESS = 4.0, 6.3e-5, 10.0


@dataclass
class Flags:
    flags: np.ndarray      # point is part of an anomaly (direction not yet applied)
    z: np.ndarray          # signed score, NaN where not ready
    used: np.ndarray       # the bar the point passed (or the single-point bar where unflagged)
    sustained: np.ndarray  # flagged as part of a run (pair or longer) rather than on its own
    raised: np.ndarray     # the single-point bar was raised above the configured one (routine spikes)
    run_len: int = 3       # points in a row that make a sustained run
    pair: np.ndarray | None = None  # flagged as 2 points in a row beyond pair_threshold (not a longer run)
    spiky: np.ndarray | None = None  # routine isolated spikes reach the threshold: single points do not fire
    paired_only: np.ndarray | None = None  # single_point rule: one point of this stream does not fire alone
    scale: np.ndarray | None = None  # calibrated bars: points averaged by the mean that flagged (1 = alone)


def ready_mask(ex: Expectation, config: DetectorConfig, grid: Grid | None = None) -> np.ndarray:
    """Enough history to judge: min_history_points seen and, for sub-daily data, min_cycles days and
    a spread measured at this hour of the day (before that, a trailing median and its spread call
    every evening peak an anomaly), and min_daytype_days earlier days of the same kind (weekday or
    weekend) observed: a stream's first weekend is not judged against its weekdays."""
    need = config.baseline.min_history_points
    if "day" in ex.period_points:
        need = max(need, config.baseline.min_cycles * ex.period_points["day"])
    ready = (ex.seen >= need) & ex.settled
    if grid is not None and "day" in ex.period_points and config.baseline.min_daytype_days > 0:
        ready &= daytype_days_seen(grid) >= config.baseline.min_daytype_days
    return ready


def daytype_days_seen(grid: Grid) -> np.ndarray:
    """For every point: how many earlier calendar days of its kind (weekday or weekend) hold data."""
    day = grid.index.normalize()
    weekend = grid.index.day_of_week.to_numpy() >= 5
    observed = pd.Series(np.isfinite(grid.values)).groupby(np.asarray(day)).any()
    days = pd.DatetimeIndex(observed.index)
    kind = days.day_of_week.to_numpy() >= 5
    have = observed.to_numpy()
    before = np.zeros(len(days), dtype=np.int64)
    for k in (False, True):
        sel = kind == k
        c = np.cumsum(have[sel])
        before[sel] = c - have[sel]  # strictly earlier days
    pos = days.get_indexer(day)
    return before[pos]


SMALL_COUNT = 30.0  # below this expected count the Gaussian sqrt(expected) floor misreads the Poisson tail
MIN_RATE = 1.0      # the Poisson rate is never taken below one event per step (a median of 0 is not "never")


def _is_count(values: np.ndarray) -> bool:
    obs = values[np.isfinite(values)]
    return bool(len(obs)) and bool(np.all(obs >= 0)) and bool(np.all(obs == np.round(obs)))


def poisson_z(values: np.ndarray, expected: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Count streams with a small expected count: the z a point may claim is at most the one its
    exact Poisson tail gives -- P(X >= k) above, P(X <= k) below, under Poisson(max(expected, 1)),
    turned into the normal z with the same tail. sqrt(expected) as a Gaussian spread makes 5 against
    an expected 0 a 5-sigma spike; under a rate of 1 per step it happens about once in 270 steps."""
    from scipy.stats import norm, poisson

    out = z.copy()
    exp = np.nan_to_num(expected, nan=np.inf)
    small = np.isfinite(z) & np.isfinite(values) & (exp < SMALL_COUNT)
    if not small.any():
        return out
    k, mu = values[small], np.fmax(exp[small], MIN_RATE)
    up = k >= mu
    with np.errstate(all="ignore"):
        zp = np.where(up, norm.isf(poisson.sf(k - 1, mu)), -norm.isf(poisson.cdf(k, mu)))
    zs = z[small]
    # a count is unusual only if it is unusual both for this stream's spread and for Poisson noise
    out[small] = np.where(np.sign(zp) == np.sign(zs), np.sign(zs) * np.fmin(np.abs(zs), np.abs(zp)), 0.0)
    return out


def _runs_of(over: np.ndarray, k: int) -> np.ndarray:
    """Mark every point of each run of True that is at least k long."""
    out = np.zeros(len(over), dtype=bool)
    if k <= 1:
        return over.copy()
    for first, last in runs(over, 1):
        if last - first + 1 >= k:
            out[first:last + 1] = True
    return out


def _same_sign_runs(z: np.ndarray, bar: np.ndarray, k: int) -> np.ndarray:
    out = np.zeros(len(z), dtype=bool)
    for sign in (1.0, -1.0):
        out |= _runs_of(sign * z >= bar, k)
    return out


def robust_flags(grid: Grid, ex: Expectation, config: DetectorConfig, routine: bool = True,
                 exclude: np.ndarray | None = None) -> Flags:
    """Robust z against the seasonal baseline; a point is flagged alone at |z| >= threshold, in a
    same-sign pair at |z| >= pair_threshold, or in a same-sign run of sustained_points at
    |z| >= sustained_threshold. exclude: points the routine-spike history leaves out (holidays)."""
    cfg = config.robust_zscore
    with np.errstate(all="ignore"):
        z_raw = (grid.values - ex.expected) / ex.spread
    if config.baseline.count_floor and grid.scale != "log" and _is_count(grid.values):
        z_raw = poisson_z(grid.values, ex.expected, z_raw)
    warm = np.where(ex.seen < cfg.warmup_days * grid.per_day, cfg.warmup_factor, 1.0)
    if routine and cfg.calibrate:
        return _calibrated(grid, ex, config, z_raw, exclude)
    ready = ready_mask(ex, config, grid) & np.isfinite(z_raw)
    z = np.where(ready, z_raw, np.nan)
    zz = np.nan_to_num(z)
    n = len(z)
    single = cfg.threshold * warm
    sus_bar = cfg.sustained_threshold * warm
    pair_bar = cfg.pair_threshold * warm
    run_len = max(cfg.sustained_points, int(np.ceil(pd.Timedelta(minutes=cfg.sustained_minutes) / grid.step)))
    in_run = _same_sign_runs(zz, sus_bar, run_len)
    # a pair is a run only where 2 points cover sustained_minutes (hourly, half-hourly data): at a
    # 5-minute step two points are ten minutes, and the run rule already asks for half an hour
    pairs = 2 * grid.step >= pd.Timedelta(minutes=cfg.sustained_minutes)
    raised = np.zeros(n, dtype=bool)
    spiky = np.zeros(n, dtype=bool)
    if routine and cfg.routine_days > 0 and n:
        # Alert budget: the level that isolated |z| (runs and pairs excluded: those are events, not
        # noise) exceeded about once per routine_days over the last routine_window_days. A metric
        # that spikes routinely gets its single-point bar lifted 1.5x above that level; a quiet one
        # keeps threshold. When isolated spikes of the window reached the threshold twice -- once
        # is Gaussian noise's lot in 1.7 million points, or one real anomaly --
        # or 4-sigma ones come far more often than Gaussian noise allows (TAIL_*), the metric is spiky (heavy-tailed latency,
        # bursty counts): there a single point is not
        # news whatever its size (the next spike beats the largest of the last N about once per N
        # points, so a bar above past spikes still fires about once a window); two points in a row
        # beyond both pair_threshold and that routine level are, and so is a sustained run.
        rate = 1.0 / (cfg.routine_days * grid.per_day)
        window = max(100, int(round(cfg.routine_window_days * grid.per_day)))
        # the history includes the warm-up points not yet judged (after the first day, whose
        # spreads are too rough): a metric that spiked on day 2 has not stopped spiking because
        # we were not looking yet
        z_all = np.where(np.isfinite(z_raw) & (ex.seen >= max(24, grid.per_day)), z_raw, np.nan)
        if exclude is not None:
            z_all = np.where(exclude, np.nan, z_all)
        # a point against an expected zero is a stream coming alive (or dying), not its tail
        z_all = np.where(np.abs(np.nan_to_num(ex.expected)) > 0, z_all, np.nan)
        za = np.nan_to_num(z_all)
        events_all = _same_sign_runs(za, sus_bar, run_len)
        if pairs:
            events_all |= _same_sign_runs(za, pair_bar, 2)
        hist = np.where(events_all, np.nan, np.abs(z_all))
        minp = min(window, max(50, int(round(2 * grid.per_day))))  # below 1/rate points this is the max: conservative
        # up to an hour ago, so a burst under way does not lift its own bar
        lag = max(1, grid.points(1.0))
        q = pd.Series(hist).rolling(window, min_periods=minp).quantile(max(0.0, 1.0 - rate)).shift(lag).to_numpy()
        q = np.nan_to_num(q)
        over = pd.Series((np.nan_to_num(hist) >= cfg.threshold * warm).astype(float))
        top = np.nan_to_num(over.rolling(window, min_periods=1).sum().shift(lag).to_numpy())
        lifted = ROUTINE_MARGIN * q
        raised = lifted > single
        single = np.fmax(single, lifted)
        seen = pd.Series(np.isfinite(hist).astype(float)).rolling(window, min_periods=1).sum().shift(lag).to_numpy()
        far = pd.Series((np.nan_to_num(hist) >= TAIL_BAR).astype(float)).rolling(window, min_periods=1).sum()
        far = far.shift(lag).to_numpy()
        spiky = (top >= 2) | (np.nan_to_num(far) >= np.fmax(2.0, TAIL_EXCESS * TAIL_P * np.nan_to_num(seen)))
        single = np.where(spiky, np.inf, single)
        pair_bar = np.where(spiky, np.fmax(pair_bar, np.fmin(q, cfg.threshold * warm)), pair_bar)
    # one reading of a skewed (log-scale) metric never alerts alone: it takes 2 in a row
    paired_only = np.full(n, cfg.single_point == "none" or (cfg.single_point == "linear" and grid.scale == "log"))
    single = np.where(paired_only, np.inf, single)
    lone_off = spiky | paired_only
    in_pair = (_same_sign_runs(zz, pair_bar, 2) if pairs or lone_off.any() else np.zeros(n, dtype=bool)) & ~in_run
    if not pairs:  # fine sampling: pairs only stand in for single points where those do not alert
        in_pair &= lone_off
    alone = np.abs(zz) >= single
    flags = alone | in_run | in_pair
    used = np.where(alone, single, np.where(in_run, sus_bar, np.where(in_pair, pair_bar, single)))
    return Flags(flags & ready, z, used, (in_run | in_pair) & ~alone, raised, run_len, in_pair & ~alone, spiky,
                 paired_only)


def _calibrated(grid: Grid, ex: Expectation, config: DetectorConfig, z_raw: np.ndarray,
                exclude: np.ndarray | None) -> Flags:
    """Flags against per-stream calibrated bars (tail.py). Ready once min_history_points are observed
    and the stream has a calibration history (tail.calibrated_flags): observed data, not a count of
    same-hour samples that a gappy sensor never reaches. No warm-up doubling: a short history already
    gives a bar near its own maximum. Holidays are not judged."""
    cfg = config.robust_zscore
    ready = np.isfinite(z_raw) & (ex.seen >= config.baseline.min_history_points)
    if exclude is not None:
        ready &= ~exclude
    z = np.where(ready, z_raw, np.nan)
    flags, used, scale = calibrated_flags(z, grid.index, cfg.false_alarms_per_week, cfg.calibration_days,
                                          cfg.threshold)
    return Flags(flags, z, used, scale > 1, used > cfg.threshold, int(max(2, scale.max(initial=0))),
                 scale=scale)


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
    ready = ready_mask(ex, config, grid) & np.isfinite(z)
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
        if grid.scale == "log":
            value, exp = float(np.exp(value)), float(np.exp(exp))
        details = {
            "z": round(zp, 2), "threshold": round(float(fl.used[peak]), 2), "spread": spr,
            "baseline": KINDS[int(ex.kind[peak])], "points_flagged": int(len(span)),
            "step_seconds": grid.step.total_seconds(), "scale": grid.scale,
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
    log = grid.scale == "log"
    # on a log scale the spread is a factor: "x1.08" reads as "typically within 8 %"
    spread_txt = f"x{np.exp(spr):.2f} (log scale: this metric's misses are skewed, so it is judged on ratios)" \
        if log else fmt(spr)
    if method == "sigma":
        text = (f"{fmt(value)} at {when} is {abs(z):.1f} standard deviations {word} the expected {fmt(exp)} "
                f"(mean of {_basis(ex, peak)}; standard deviation {spread_txt}; threshold {thr:g})")
    else:
        cfg = config.robust_zscore
        text = (f"{fmt(value)} at {when} is {abs(z):.1f} robust sigmas {word} the expected {fmt(exp)} "
                f"(median of {_basis(ex, peak)}; spread {spread_txt} = 1.4826 x "
                f"median miss at this hour); ")
        if fl.scale is not None:
            k = int(fl.scale[peak])
            text += (f"the mean of its last {k} observed points is beyond {thr:.1f}" if k > 1 else f"threshold {thr:.1f}")
            if fl.raised[peak]:
                text += (f" (calibrated on this stream's own history, whose misses crossed its bars about"
                         f" {cfg.false_alarms_per_week:g} times a week; floor {cfg.threshold:g})")
        elif fl.pair is not None and fl.pair[peak]:
            text += f"2 points in a row beyond {thr:.1f}"
            if fl.spiky is not None and fl.spiky[peak]:
                text += (" (this metric spikes past the single-point threshold routinely, so one point alone "
                         "does not alert; two in a row beyond its routine spikes do)")
            elif fl.paired_only is not None and fl.paired_only[peak]:
                text += (" (one reading of a skewed, log-scale metric does not alert alone -- its tail is"
                         " multiplicative and lone outliers are routine; two in a row do)")
        elif fl.sustained[peak]:
            text += f"{fl.run_len}+ points in a row beyond {thr:.1f}"
        else:
            text += f"threshold {thr:.1f}"
            if fl.raised[peak]:
                text += f" (raised from {cfg.threshold:g}: this metric spikes to that level routinely)"
        if fl.scale is None and ex.seen[peak] < cfg.warmup_days * grid.per_day:
            text += f" (bars x{cfg.warmup_factor:g} during the first {cfg.warmup_days:g} days)"
    if n > 1:
        text += f"; {n} points flagged from {fmt_time(grid.index[first])} to {fmt_time(grid.index[last])}"
    return text
