"""Seasonal baselines: "same hour last week" and the median of the same hour over recent weeks.

Both take history as DataFrame[ts, y] on a regular hourly grid (``series.regular_hourly``) and
return DataFrame[ts, yhat] for the ``horizon_h`` hours after the last history hour.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

HOUR = pd.Timedelta(hours=1)


def _last_seasons(history: pd.DataFrame, season_h: int, seasons: int) -> tuple[np.ndarray, pd.Timestamp]:
    """The last ``seasons`` full seasons as a (seasons, season_h) array, oldest first, NaN-padded."""
    y = history["y"].to_numpy(dtype=float)
    need = season_h * seasons
    if len(y) < need:
        y = np.concatenate([np.full(need - len(y), np.nan), y])
    return y[-need:].reshape(seasons, season_h), pd.Timestamp(history["ts"].iloc[-1])


def _future(last: pd.Timestamp, values: np.ndarray, horizon_h: int) -> pd.DataFrame:
    reps = int(np.ceil(horizon_h / len(values)))
    ts = pd.date_range(last + HOUR, periods=horizon_h, freq="h")
    return pd.DataFrame({"ts": ts, "yhat": np.tile(values, reps)[:horizon_h]})


def seasonal_naive(history: pd.DataFrame, horizon_h: int = 168, season_h: int = 168) -> pd.DataFrame:
    """yhat(t) = y(t - k * season_h) for the smallest k that lands in the history ("same hour last
    week" for season_h=168); a missing value there falls back to the season before it."""
    block, last = _last_seasons(history, season_h, 2)
    values = np.where(np.isnan(block[-1]), block[-2], block[-1])
    return _future(last, values, horizon_h)


def _nan_quiet(func, block: np.ndarray) -> np.ndarray:
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an hour missing in every season -> NaN
        return func(block)


def seasonal_median(history: pd.DataFrame, horizon_h: int = 168, season_h: int = 168,
                    seasons: int = 4) -> pd.DataFrame:
    """yhat(t) = median of y at the same position in the last ``seasons`` seasons (missing values
    ignored): as quick as the seasonal naive, and one odd week (a holiday, an outage) cannot move it."""
    block, last = _last_seasons(history, season_h, seasons)
    return _future(last, _nan_quiet(lambda b: np.nanmedian(b, axis=0), block), horizon_h)


def seasonal_trimmed_mean(history: pd.DataFrame, horizon_h: int = 168, season_h: int = 168,
                          seasons: int = 6) -> pd.DataFrame:
    """yhat(t) = mean of y at the same position in the last ``seasons`` seasons without the
    highest and the lowest value: nearly as robust to one odd week as the median, and less noisy
    on counts (a median of a few Poisson draws wastes most of them)."""
    block, last = _last_seasons(history, season_h, seasons)

    def trimmed(b: np.ndarray) -> np.ndarray:
        n = np.sum(~np.isnan(b), axis=0)
        cut = np.nansum(b, axis=0) - np.nanmin(b, axis=0) - np.nanmax(b, axis=0)
        return np.where(n >= 3, cut / np.maximum(n - 2, 1), np.nanmean(b, axis=0))

    return _future(last, _nan_quiet(trimmed, block), horizon_h)
