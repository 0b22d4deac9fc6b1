"""Rolling-origin backtest of a forecaster against "same hour last week" on one hourly series."""
from __future__ import annotations

import math
from typing import Callable

import numpy as np
import pandas as pd

from domain.forecasting.baselines import seasonal_naive
from domain.forecasting.calendar import is_holiday, resolve_tz, to_local
from domain.forecasting.metrics import MAPE_DEFINITION, accuracy
from domain.forecasting.series import regular_hourly

PREDICTION_COLUMNS = ["cutoff", "timestamp", "actual", "predicted", "lower", "upper", "baseline"]


class NotEnoughHistory(ValueError):
    """The series is too short for train_days + horizon x cutoffs; the message says what fits."""


def required_hours(horizon_h: int, train_days: int, cutoffs: int) -> int:
    return train_days * 24 + horizon_h * cutoffs


def cutoff_times(series: pd.DataFrame, horizon_h: int = 168, train_days: int = 90,
                 cutoffs: int = 6) -> list[pd.Timestamp]:
    """The last hour of training for each fold, oldest first: folds of ``horizon_h`` hours placed
    back to back at the end of the series, each trained on the ``train_days`` before it."""
    n = len(series)
    need = required_hours(horizon_h, train_days, cutoffs)
    if n < need:
        fit_cutoffs = (n - train_days * 24) // horizon_h
        fit_days = (n - horizon_h * cutoffs) // 24
        hints = []
        if fit_cutoffs >= 1:
            hints.append(f"--cutoffs {fit_cutoffs}")
        if fit_days >= 14:
            hints.append(f"--train-days {fit_days}")
        hint = (" Try " + " or ".join(hints) + ".") if hints else " It needs at least 14 days plus one horizon."
        raise NotEnoughHistory(
            f"the series has {n} hours ({n / 24:.1f} days) but train-days {train_days} + horizon {horizon_h} h"
            f" x {cutoffs} cutoffs needs {need} hours ({need / 24:.1f} days).{hint}")
    last = series["ts"].iloc[-1]
    return [last - pd.Timedelta(hours=horizon_h * k) for k in range(cutoffs, 0, -1)]


def backtest(series: pd.DataFrame, horizon_h: int = 168, train_days: int = 90, cutoffs: int = 6,
             model_factory: Callable | None = None, holidays: str | None = None,
             tz: str | None = None) -> tuple[dict, pd.DataFrame]:
    """Score a model and the seasonal-naive baseline over ``cutoffs`` back-to-back folds.

    series: DataFrame[ts, y] (put on an hourly grid; missing hours stay missing and are not scored).
    model_factory(): a fresh object with fit(DataFrame[ts, y]) and predict() -> DataFrame[ts, yhat,
    yhat_lower, yhat_upper]; default DemandForecaster(horizon_h, train_days).
    ``holidays`` (country) and ``tz`` only label the folds: each fold lists the public holidays in
    its local dates, so a reader sees which weeks a model wins and loses.
    Returns (summary, predictions): summary = {"model": accuracy, "seasonal_naive": accuracy,
    "folds": [...], "beats_baseline", "mape_definition", ...}; predictions = DataFrame[cutoff,
    timestamp, actual, predicted, lower, upper, baseline], one row per forecast hour.
    """
    from domain.forecasting.model import DemandForecaster
    if model_factory is None:
        def model_factory():
            return DemandForecaster(horizon_h=horizon_h, train_days=train_days, holidays=holidays, tz=tz)
    s = regular_hourly(series)
    rows, folds = [], []
    for cutoff in cutoff_times(s, horizon_h, train_days, cutoffs):
        train = s[(s["ts"] <= cutoff) & (s["ts"] > cutoff - pd.Timedelta(days=train_days))]
        test = s[(s["ts"] > cutoff) & (s["ts"] <= cutoff + pd.Timedelta(hours=horizon_h))]
        fc = model_factory().fit(train).predict().set_index("ts").reindex(test["ts"])
        base = seasonal_naive(train, horizon_h).set_index("ts").reindex(test["ts"])
        fold = pd.DataFrame({
            "cutoff": cutoff, "timestamp": test["ts"].to_numpy(), "actual": test["y"].to_numpy(),
            "predicted": fc["yhat"].to_numpy(), "lower": fc["yhat_lower"].to_numpy(),
            "upper": fc["yhat_upper"].to_numpy(), "baseline": base["yhat"].to_numpy(),
        })
        rows.append(fold)
        insample = train["y"].to_numpy()
        local = to_local(test["ts"], resolve_tz(tz, holidays))
        flagged = sorted({d.date().isoformat() for d in local.normalize()[is_holiday(local, holidays)]})
        folds.append({
            "cutoff": cutoff.isoformat(), "holidays": flagged,
            "model": accuracy(fold["actual"], fold["predicted"], fold["lower"], fold["upper"], insample),
            "seasonal_naive": accuracy(fold["actual"], fold["baseline"], insample=insample),
        })
    predictions = pd.concat(rows, ignore_index=True)[PREDICTION_COLUMNS]
    summary = {"model": _pooled(predictions, "predicted", folds, "model", True),
               "seasonal_naive": _pooled(predictions, "baseline", folds, "seasonal_naive", False)}
    summary.update({
        "beats_baseline": bool(summary["model"]["mape"] < summary["seasonal_naive"]["mape"]),
        "hours": int(predictions["actual"].notna().sum()), "cutoffs": len(folds),
        "horizon_h": horizon_h, "train_days": train_days, "mape_definition": MAPE_DEFINITION,
        "folds": folds,
    })
    return summary, predictions


def _pooled(pred: pd.DataFrame, column: str, folds: list[dict], key: str, bounds: bool) -> dict:
    """Metrics over all folds' hours together; MASE is the mean of the folds' (each has its own scale)."""
    out = accuracy(pred["actual"], pred[column], pred["lower"] if bounds else None,
                   pred["upper"] if bounds else None)
    mases = [f[key]["mase"] for f in folds if not math.isnan(f[key]["mase"])]
    out["mase"] = float(np.mean(mases)) if mases else float("nan")
    return out
