"""Prediction intervals calibrated by backtest: split-conformal on the inner folds' errors,
normalised by how much the members disagree.

Errors are taken in log1p units (demand swings in proportion to its level, and the bounds stay
above zero), divided by ``floor + spread`` where ``spread`` is the standard deviation of the
members' log1p forecasts for that hour: after a level shift or around a holiday the multi-week and
the recent-level members part ways, and the interval widens with them; in a calm week it stays
narrow. ``floor`` is the median spread of the inner backtest. Quantiles are per lead-time bucket
(tomorrow is known better than next Sunday), lower and upper apart (a shock or a holiday pulls
demand down far more often than up).
"""
from __future__ import annotations

import math

import numpy as np

BUCKETS = (24, 72)  # lead hours: <= 24, 25-72, beyond
MIN_RESIDUALS = 48  # fewer in a bucket: use all buckets' errors together


def bucket(lead: np.ndarray) -> np.ndarray:
    """Lead time in hours (1 = the next hour) -> bucket index 0..len(BUCKETS)."""
    return np.searchsorted(np.asarray(BUCKETS), np.asarray(lead), side="left")


def spread(preds: dict[str, np.ndarray]) -> np.ndarray:
    """Per hour, the standard deviation of the members' log1p forecasts (0 where fewer than two)."""
    logs = np.log1p(np.clip(np.vstack(list(preds.values())), 0, None))
    with np.errstate(invalid="ignore"):
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            s = np.nanstd(logs, axis=0)
    return np.nan_to_num(s)


def _quantile(r: np.ndarray, level: float) -> float:
    """Finite-sample conformal quantile: the ceil((n + 1) level)-th smallest."""
    n = len(r)
    return float(np.quantile(r, min(1.0, math.ceil((n + 1) * level) / n)))


def fit_bounds(actual: np.ndarray, predicted: np.ndarray, disagreement: np.ndarray, lead: np.ndarray,
               interval: float) -> dict:
    """{"floor", "q": per bucket [lower, upper]} normalised error quantiles so that ``interval`` of
    the inner backtest's actuals fall inside."""
    ok = ~(np.isnan(actual) | np.isnan(predicted))
    floor = float(np.median(disagreement[ok])) if ok.any() else 0.0
    floor = max(floor, 0.01)
    resid = (np.log1p(np.clip(actual[ok], 0, None)) - np.log1p(np.clip(predicted[ok], 0, None))) \
        / (floor + disagreement[ok])
    b = bucket(lead[ok])
    tail = (1 - interval) / 2
    if not len(resid):
        return {"floor": floor, "q": [[0.0, 0.0] for _ in range(len(BUCKETS) + 1)]}

    def pair(r: np.ndarray) -> list[float]:
        return [min(-_quantile(-r, 1 - tail), 0.0), max(_quantile(r, 1 - tail), 0.0)]

    pooled = pair(resid)
    q = [pair(resid[b == k]) if np.sum(b == k) >= MIN_RESIDUALS else pooled for k in range(len(BUCKETS) + 1)]
    return {"floor": floor, "q": q}


def level_drift(y: np.ndarray, interval: float) -> list[float]:
    """[lower, upper] quantiles of log(next week's 24-hour total / this one's) over the history: how far
    the level wanders in a week (weather, season), which a few calm inner weeks can understate."""
    s = np.convolve(np.clip(y, 0, None), np.ones(24), mode="valid")  # NaN (a holiday) spoils its windows
    if len(s) <= 168:
        return [0.0, 0.0]
    with np.errstate(divide="ignore", invalid="ignore"):
        e = np.log1p(s[168:]) - np.log1p(s[:-168])
    e = e[np.isfinite(e)]
    tail = (1 - interval) / 2
    return [min(-_quantile(-e, 1 - tail), 0.0), max(_quantile(e, 1 - tail), 0.0)] if len(e) else [0.0, 0.0]


def widen_for_drift(bounds: dict, drift: list[float]) -> dict:
    """Per bucket, at least the week's level drift (scaled by sqrt(lead / week)) combined with the
    next-day error (the hour-to-hour noise), in normalised units at the median disagreement."""
    unit = 2 * bounds["floor"]  # floor + a typical spread (the median spread is the floor)
    noise = np.asarray(bounds["q"][0]) * unit
    out = []
    for k, (lo, hi) in enumerate(bounds["q"]):
        days = (min(BUCKETS[k], 168) if k < len(BUCKETS) else 168) / 168
        dlo = -math.sqrt((drift[0] ** 2) * days + noise[0] ** 2) / unit
        dhi = math.sqrt((drift[1] ** 2) * days + noise[1] ** 2) / unit
        out.append([min(lo, dlo), max(hi, dhi)])
    return {"floor": bounds["floor"], "q": out}


def apply_bounds(low_base: np.ndarray, high_base: np.ndarray, disagreement: np.ndarray, lead: np.ndarray,
                 bounds: dict) -> tuple[np.ndarray, np.ndarray]:
    """Bounds around a span of forecasts (the point forecast, or near holidays the span between the
    ordinary-day and the Sunday-like forecast): lower quantile under its low end, upper over its high."""
    q = np.asarray(bounds["q"])[np.minimum(bucket(lead), len(bounds["q"]) - 1)]
    scale = bounds["floor"] + disagreement
    lo = np.expm1(np.log1p(np.clip(low_base, 0, None)) + q[:, 0] * scale)
    hi = np.expm1(np.log1p(np.clip(high_base, 0, None)) + q[:, 1] * scale)
    return np.clip(lo, 0, None), hi
