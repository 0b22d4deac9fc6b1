"""The expected value of every point and how far from it is normal, from that point's past only.

level[t]   trailing median of the last day (a week, for daily data), t excluded. It follows trends
           and level shifts within half a window, so a shift is one event, not weeks of them.
profiles   three candidate expectations built on the level:
             trailing   expected = level
             daily      level x median(value / level) at the same hour-of-day, last `days` days
             weekly     the same at the same hour-of-week, last `weeks` weeks
           (value - level and level + median for additive series: those that go negative).
           A seasonal profile needs `min_cycles` cycles of history. The candidates compete on
           their typical miss (median |value - expected|) over the last `select_days`; a more
           complex one must beat the simpler one by 5 %, so a metric without a weekly shape is
           not judged on a noisy four-sample hour-of-week median.
spread[t]  1.4826 x median |value - expected| of the chosen profile at the same hour-of-day
           (+/- neighbour_minutes, last `spread_days` days): for Gaussian noise this is the
           standard deviation, but outliers do not inflate it, and a profile that misses the
           evening peak has a wide spread there instead of flagging it daily. Floors: a % of
           the typical level (flat series), an absolute floor, sqrt(expected) for counts.

Everything is causal (the point itself and later points are never used), so running the
detector as of time T gives the answer the five-minute job gave at T.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from domain.anomaly.config import Baseline
from domain.anomaly.prepare import Grid

MAD_TO_SIGMA = 1.4826
KINDS = ("trailing window", "hour-of-day", "hour-of-week", "hour-of-day on the same kind of day (weekday or weekend)")
MODES = ("raw", "add", "mul")  # plain median; shifted to the current level; scaled to it
PREFER_SIMPLER = 0.95  # a richer profile must cut the typical miss by 5 % to be chosen


@dataclass
class Expectation:
    expected: np.ndarray      # robust expected value
    spread: np.ndarray        # robust spread (sigma-equivalent), floored
    kind: np.ndarray          # index into KINDS
    mean: np.ndarray          # classic expected value (mean of the same samples), for the sigma method
    std: np.ndarray           # classic standard deviation of past residuals
    seen: np.ndarray          # observed points strictly before t
    cycles: np.ndarray        # seasonal samples behind the profile (0 for trailing window)
    mode: np.ndarray          # index into MODES
    settled: np.ndarray       # the spread comes from same-hour-of-day history (always, without a daily period)
    period_points: dict[str, int]
    multiplicative: bool


def periods(grid: Grid) -> dict[str, int]:
    """Season lengths in grid steps; only those long enough to hold a shape."""
    per_day = grid.per_day
    out = {}
    if per_day >= 4:
        out["day"] = int(round(per_day))
    if 7 * per_day >= 4:
        out["week"] = int(round(7 * per_day))
    return out


def level_window(grid: Grid, cfg: Baseline | None = None) -> int:
    """Points in the trailing level window: level_days (at least 5 points; 12 without a daily period)."""
    days = cfg.level_days if cfg is not None else 1.0
    per = periods(grid)
    if "day" in per:
        return max(5, int(round(days * per["day"])))
    if "week" in per:
        return max(per["week"], 5)
    return 12


def lag_matrix(x: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """out[t, j] = x[t - offsets[j]] (NaN before the start); offsets are all >= 1."""
    n = len(x)
    out = np.full((n, len(offsets)), np.nan)
    for j, off in enumerate(offsets):
        off = int(off)
        if off < n:
            out[off:, j] = x[:n - off]
    return out


def seasonal_offsets(period: int, cycles: int, half_width: int, max_per_cycle: int = 7) -> np.ndarray:
    """k*period + j for k = 1..cycles and up to `max_per_cycle` j's spread over [-half_width, half_width]."""
    if half_width <= 0:
        js = np.array([0])
    else:
        js = np.unique(np.rint(np.linspace(-half_width, half_width, min(2 * half_width + 1, max_per_cycle))).astype(int))
    offs = (np.arange(1, cycles + 1)[:, None] * period + js[None, :]).ravel()
    return offs[offs >= 1]


def nanmedian_rows(m: np.ndarray) -> np.ndarray:
    """Row medians ignoring NaN (NaN for an all-NaN row); a sort is much faster than np.nanmedian here."""
    if m.shape[1] == 0:
        return np.full(len(m), np.nan)
    s = np.sort(m, axis=1)  # NaN sort last
    count = np.sum(~np.isnan(m), axis=1)
    lo = np.clip((count - 1) // 2, 0, None)[:, None]
    hi = np.clip(count // 2, 0, m.shape[1] - 1)[:, None]
    med = 0.5 * (np.take_along_axis(s, lo, axis=1)[:, 0] + np.take_along_axis(s, hi, axis=1)[:, 0])
    med[count == 0] = np.nan
    return med


def nanstat_rows(m: np.ndarray, how: str) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        if how == "mean":
            return np.nanmean(m, axis=1)
        return np.nanstd(m, axis=1, ddof=1)


def trailing(x: np.ndarray, window: int, how: str, min_periods: int) -> np.ndarray:
    """Trailing statistic over the `window` points before t (t excluded)."""
    r = pd.Series(x).rolling(window, min_periods=min_periods)
    out = r.quantile(0.5) if how == "median" else getattr(r, how)()
    return out.shift(1).to_numpy(dtype=float, copy=True)


def _positive(y: np.ndarray, level: np.ndarray, mode: str) -> bool:
    """May a multiplicative profile be tried? (values never negative, level mostly above zero)"""
    if mode == "additive":
        return False
    obs = y[np.isfinite(y)]
    lv = level[np.isfinite(level)]
    return bool(len(obs) and obs.min() >= 0 and len(lv) and np.mean(lv > 0) >= 0.95)


def _candidates(y, level, per, grid, cfg: Baseline, classic: bool = True):
    """(code, rank, expected, classic mean, cycles, mode) for each profile the data allows (the classic
    mean, for the sigma method, only when asked: it is NaN otherwise)."""
    n = len(y)
    w = level_window(grid, cfg)
    out = [(0, 0, level, trailing(y, w, "mean", max(3, w // 2)), np.zeros(n), 0)]
    modes = [("raw", y)]  # plain median of the same phase: immune to a level dragged by an outage
    if cfg.seasonal_mode != "multiplicative":
        modes.append(("add", y - level))
    if _positive(y, level, cfg.seasonal_mode):
        with np.errstate(all="ignore"):
            modes.append(("mul", np.where(level > 0, y / level, np.nan)))
    near = max(0, int(round(pd.Timedelta(minutes=15) / grid.step)))
    # a profile needs min_cycles cycles of what this stream fills: a sensor filling a third of its
    # slots never has three full cycles of same-phase samples, and would fall back to the level (causal: the share filled so far)
    fill = np.cumsum(np.isfinite(y)) / np.arange(1, n + 1) if n else np.ones(0)
    daytype = _daytype_order(grid) if "day" in per else None
    for code, key, count in ((1, "day", cfg.days), (3, "daytype", cfg.days), (2, "week", cfg.weeks)):
        if key == "daytype":
            if daytype is None:
                continue
            per_cycle, need, rank = 1, 2, 1.5
        else:
            if key not in per:
                continue
            offs = seasonal_offsets(per[key], count, near)
            per_cycle, need, rank = max(1, len(offs) // max(count, 1)), cfg.min_cycles, code
        for mode, rel in modes:
            m = _same_group_lags(rel, daytype, count) if key == "daytype" else lag_matrix(rel, offs)
            got = np.sum(~np.isnan(m), axis=1) / per_cycle
            prof = nanmedian_rows(m)
            pmean = nanstat_rows(m, "mean") if classic else np.full(n, np.nan)
            with np.errstate(all="ignore"):
                if mode == "raw":
                    exp, cmean = prof, pmean
                elif mode == "mul":
                    exp, cmean = level * prof, level * pmean
                else:
                    exp, cmean = level + prof, level + pmean
            exp[got < need * fill] = np.nan
            out.append((code, rank, exp, cmean, np.floor(got), MODES.index(mode)))
    return out


def _daytype_order(grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    """(order, sorted keys): points sorted by (time of day, weekday-or-weekend), then time."""
    idx = grid.index
    slot = np.rint(np.asarray((idx - idx.normalize()) / grid.step, dtype=float)).astype(np.int64)
    key = slot * 2 + (idx.day_of_week.to_numpy() >= 5).astype(np.int64)
    order = np.lexsort((np.arange(len(idx)), key))
    return order, key[order]


def _same_group_lags(x: np.ndarray, grouping: tuple[np.ndarray, np.ndarray], count: int) -> np.ndarray:
    """out[t, j] = the j-th previous value of x in t's group (same time of day and kind of day)."""
    order, keys = grouping
    xs = x[order]
    m = lag_matrix(xs, np.arange(1, count + 1))
    same = lag_matrix(keys.astype(float), np.arange(1, count + 1)) == keys[:, None]
    m[~same] = np.nan
    out = np.empty_like(m)
    out[order] = m
    return out


def expectation(grid: Grid, cfg: Baseline, history: np.ndarray | None = None, classic: bool = True) -> Expectation:
    """Expected value and spread of every grid point.

    history: what the baseline learns from (default the values themselves); the detector passes
    the values with already-flagged anomalies blanked out, so that an outage does not drag the
    level down and make the recovery look like a second anomaly, and last week's spike does not
    enter this week's profile.
    """
    y = grid.values
    h = y if history is None else history
    n = len(y)
    per = periods(grid)
    w = level_window(grid, cfg)
    # observed points, not slots: a sensor filling a third of its slots must still get a level
    minp = max(3, min(w // 2, cfg.min_history_points))
    level = trailing(h, w, "median", minp)
    cands = _candidates(h, level, per, grid, cfg, classic)

    # choose, point by point, the profile with the smallest recent typical miss (richer ones pay 5 %)
    sel_window = max(24, int(round(cfg.select_days * grid.per_day)))
    best = np.full(n, np.inf)
    choice = np.zeros(n, dtype=np.int64)
    for i, (code, rank, exp, _, _, _) in enumerate(cands):
        # mean, not median, miss: a profile that is wrong every weekend (2 days in 7) must lose
        score = trailing(np.abs(h - exp), sel_window, "mean", max(12, sel_window // 8))
        if rank == 0:
            score = np.where(np.isfinite(score), score, 1e300)
        score = np.where(np.isfinite(exp), score / PREFER_SIMPLER ** rank, np.inf)
        better = score < best
        best[better] = score[better]
        choice[better] = i
    rows = np.arange(n)
    stack = lambda k: np.vstack([c[k] for c in cands])[choice, rows]  # noqa: E731
    expected, mean, cycles = stack(2), stack(3), stack(4)
    kind = np.array([c[0] for c in cands], dtype=np.int8)[choice]
    mode = np.array([c[5] for c in cands], dtype=np.int8)[choice]

    # spread: how far the chosen expectation has missed, pooled over the last spread_days and
    # refined by the same hour-of-day
    resid = np.abs(h - expected)
    sq = (h - mean) ** 2 if classic else np.full(n, np.nan)
    pool_window = max(48, int(round(cfg.spread_days * grid.per_day)))
    pool_minp = max(12, min(pool_window // 4, per.get("day", 0)))
    pooled = MAD_TO_SIGMA * trailing(resid, pool_window, "median", pool_minp)
    pooled_sd = np.sqrt(trailing(sq, pool_window, "mean", pool_minp)) if classic else np.full(n, np.nan)
    spread, std = pooled, pooled_sd
    settled = np.isfinite(pooled)
    if "day" in per:
        half = int(round(pd.Timedelta(minutes=cfg.neighbour_minutes) / grid.step))
        offs = seasonal_offsets(per["day"], cfg.spread_days, half)
        m = lag_matrix(resid, offs)
        got = np.sum(~np.isnan(m), axis=1)
        spread = _shrink(MAD_TO_SIGMA * nanmedian_rows(m), got, pooled)
        if classic:
            mc = lag_matrix(sq, offs)
            std = _shrink(np.sqrt(nanstat_rows(mc, "mean")), np.sum(~np.isnan(mc), axis=1), pooled_sd)
        settled &= got >= max(8, m.shape[1] // 5)

    floor = _floor(y, expected, w, minp, cfg)
    spread = np.where(np.isnan(spread), np.nan, np.fmax(spread, floor))  # no spread yet: no judgement
    std = np.where(np.isnan(std), np.nan, np.fmax(std, floor))
    seen = np.concatenate([[0], np.cumsum(np.isfinite(y))[:-1]]) if n else np.zeros(0, dtype=np.int64)
    mult = _positive(y, level, cfg.seasonal_mode)
    return Expectation(expected, spread, kind, mean, std, seen, cycles.astype(np.int16), mode, settled, per, mult)


def _shrink(local: np.ndarray, count: np.ndarray, pooled: np.ndarray, prior: float = 20.0) -> np.ndarray:
    """Same-hour spread from a few samples is noisy: shrink it toward the pooled spread (worth
    `prior` samples), and never below half the pooled spread."""
    with np.errstate(all="ignore"):
        mixed = np.sqrt((count * np.nan_to_num(local) ** 2 + prior * pooled ** 2) / (count + prior))
    return np.fmax(mixed, 0.5 * pooled)


def _floor(y, expected, w, minp, cfg: Baseline) -> np.ndarray:
    typical = trailing(np.abs(y), w, "median", minp)
    scale = np.nanmax(np.abs(y)) if np.isfinite(y).any() else 1.0
    floor = np.fmax(cfg.min_spread_pct / 100.0 * np.nan_to_num(typical), cfg.min_spread)
    floor = np.fmax(floor, 1e-9 * max(scale, 1e-9))
    obs = y[np.isfinite(y)]
    if cfg.count_floor and len(obs) and np.all(obs >= 0) and np.all(obs == np.round(obs)):
        floor = np.fmax(floor, np.sqrt(np.fmax(np.nan_to_num(expected), 1.0)))
    return floor
