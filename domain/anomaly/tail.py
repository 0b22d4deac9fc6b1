"""Per-stream calibrated bars: how far out is news for THIS stream, from its own history.

One global |z| bar is wrong both ways: a smooth seasonal stream has |z| of 5 a few times a week
(the Gaussian model of its misses is too thin in the tail), while a spiky stream's routine spikes
reach 20 and the old answer -- a "spiky" label that silences single points -- also silences the
spike of 200 that is the incident. Here every stream gets a bar at which its own past would have
alerted about `false_alarms_per_week` times a week:

  peaks over threshold (extreme-value theory): u = the (1 - TAIL_SHARE) quantile of the trailing
  scores; the excesses over u are modelled as exponential (the generalised Pareto with shape 0:
  stable from a few dozen excesses, where fitting the shape needs thousands), mean beta; the bar for
  an exceedance probability p per observed point is u + beta * ln(TAIL_SHARE / p).

Scores are judged on observed points only (gaps are simply absent), at three time scales -- the
point, and the mean z of the last SHORT and LONG observed points -- so a gap does not break a run
and a sustained moderate shift is as visible as a lone spike. The probability p is per observed
point, so a stream with a third of its slots filled is not held to a 3x stricter bar.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

TAIL_SHARE = 0.02     # the top 2 % of the history is the tail the exponential is fitted to
SCALES = (1, 3, 12)   # points averaged: a lone spike, a short burst, an hour-long shift at 5 minutes
MIN_DAYS = 1.0        # no bar before a day of observed points (the dev kit: 59.5 without, 60.0 with, 56.9 at 3)
MIN_HISTORY = 1500    # observed points the tail is fitted to, at least (30 tail points)
MAX_SHAPE = 0.5      # generalised Pareto shape at most this (a tail like x^-2); moments need xi < 0.5
RUN_FLOOR = 0.7       # a mean over several points may alert at 0.7 x the single-point floor


def tail_bar(scores: np.ndarray, p: float, history: int, every: int, min_points: int) -> np.ndarray:
    """Bar per position for non-negative `scores` (observed points only, in time order).

    The bar at i comes from scores[i - history: i] (strictly past), refreshed every `every`
    points (a few times a day is plenty and keeps 90 streams cheap); inf until min_points exist.
    Past alerts stay in the history: leaving them out lowers the bar of a spiky stream after every
    alert and it alerts ever more (on the dev kit: 145 false-positive events instead of 64).
    """
    n = len(scores)
    bar = np.full(n, np.inf)
    lift = np.log(max(TAIL_SHARE / max(p, 1e-12), 1.0))
    every = max(1, every)
    for t in range(min_points, n + every, every):
        t = min(t, n)
        past = scores[max(0, t - history):t]
        past = past[np.isfinite(past)]
        if len(past) < min_points:
            continue
        k = int((1.0 - TAIL_SHARE) * (len(past) - 1))
        u = float(np.partition(past, k)[k])  # the order statistic: a sort-free quantile
        over = past[past > u] - u
        bar[t:t + every] = u + _excess_quantile(over, lift)
        if t == n:
            break
    return bar


def _excess_quantile(over: np.ndarray, lift: float) -> float:
    """The excess over u exceeded with probability exp(-lift) given an exceedance: generalised Pareto
    by the method of moments, shape clipped to [0, MAX_SHAPE] (0 = exponential; a heavier tail --
    latency, bursty counts -- gets a higher bar, a lighter one never a lower bar than exponential)."""
    if len(over) == 0:
        return 0.0
    mean = float(over.mean())
    var = float(over.var()) if len(over) > 1 else 0.0
    if mean <= 0:
        return 0.0
    xi = 0.5 * (1.0 - mean * mean / var) if var > 0 else 0.0
    xi = min(max(xi, 0.0), MAX_SHAPE)
    if xi < 1e-6:
        return mean * lift
    sigma = mean * (1.0 - xi)
    return sigma / xi * (np.exp(xi * lift) - 1.0)


def calibrated_flags(z: np.ndarray, times: pd.DatetimeIndex, per_week_rate: float, history_days: float,
                     floor: float | np.ndarray, min_points: int = 100) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(flags, bar, scale) for a signed z on a grid (NaN = not observed or not ready).

    A point is flagged when the mean z of the last k observed points (k in SCALES) is beyond both its
    calibrated bar and the floor (RUN_FLOOR x floor for k > 1), same sign for the whole mean.
    bar: the bar the flag passed (or the single-point bar); scale: the k that flagged (0 = none).
    per_week_rate: false alarms a week the stream's own past would have raised, all scales together,
    before event grouping (the refractory period then merges what belongs to one incident).
    """
    n = len(z)
    flags = np.zeros(n, dtype=bool)
    used = np.full(n, np.inf)
    scale = np.zeros(n, dtype=np.int16)
    obs = np.flatnonzero(np.isfinite(z))
    floor = np.broadcast_to(np.asarray(floor, dtype=float), (n,))
    if len(obs) < min_points:
        return flags, np.fmax(used, floor), scale
    t = times[obs]
    span_days = max((t[-1] - t[0]) / pd.Timedelta(days=1), 1e-9)
    per_day = len(obs) / span_days if len(obs) > 1 else 1.0  # observed points a day, gaps and all
    p = per_week_rate / len(SCALES) / (7.0 * per_day)  # the week's budget shared by the scales
    # the tail is fitted to the top TAIL_SHARE of the history: an hourly stream's two weeks hold 7
    # such points, too few, so the history is at least MIN_HISTORY observed points
    min_points = max(min_points, int(MIN_DAYS * per_day))  # a day of its own data, at least
    history = max(MIN_HISTORY, int(round(history_days * per_day)))
    # refreshed when a fiftieth of the history is new (or four times a day, if more often): the bar
    # barely moves in between, and 90 hourly streams stay cheap
    every = max(1, int(round(per_day / 4)), history // 50)
    zo = z[obs]
    for k in SCALES:
        m = zo if k == 1 else pd.Series(zo).rolling(k, min_periods=k).mean().to_numpy()
        s = np.abs(m)
        bar = tail_bar(s, p, history, every, min_points)
        bar = np.fmax(bar, floor[obs] * (1.0 if k == 1 else RUN_FLOOR))
        hit = np.nan_to_num(s) >= bar
        if k > 1:  # the point itself must be part of it: the mean stays high for k points after a burst ends
            hit &= (np.sign(zo) == np.sign(m)) & (np.abs(zo) >= 0.5 * bar)
        new = hit & ~flags[obs]
        flags[obs[new]] = True
        used[obs[new]] = bar[new]
        scale[obs[new]] = k
        if k == 1:
            used[obs[~hit]] = bar[~hit]
    return flags, used, scale


def refractory(spans: list[tuple], hours: float) -> list[bool]:
    """Keep flags for (start, end) spans sorted by start: an event starting within `hours` of the end
    of the last kept one is the same incident still unfolding (its aftershocks, the baseline catching
    up with a shift, another method's view of it), not a second page."""
    keep, until = [], None
    for start, end in spans:
        ok = until is None or pd.Timestamp(start) > until
        keep.append(ok)
        if ok:
            until = pd.Timestamp(end) + pd.Timedelta(hours=hours)
    return keep
