"""Forecast accuracy on hourly counts, where many hours are zero.

Definitions (every number the dashboard, the CLI and the benchmark print means exactly this):

- ``mape``: *weighted* MAPE (a.k.a. WAPE) = sum(|actual - predicted|) / sum(|actual|), as a
  fraction (0.12 = 12 %). Plain MAPE divides by each hour's actual and is undefined at the zero
  hours hourly demand is full of; weighting by volume is defined whenever any hour has demand and
  makes busy hours count more, which is what staffing cares about. NaN when every actual is 0.
- ``smape``: mean over hours of 2|a - p| / (|a| + |p|), a fraction in [0, 2]; an hour where both
  are 0 counts as a perfect 0.
- ``mase``: mean |a - p| / mean |y_t - y_{t-season}| of the in-sample series (the error of the
  seasonal-naive forecast on the training data); < 1 beats that in-sample naive. NaN without
  ``insample`` or when the in-sample naive error is 0.
- ``coverage``: share of hours whose actual lies within [lower, upper]; None without bounds.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

MAPE_DEFINITION = "weighted MAPE = sum|actual - predicted| / sum|actual| (defined with zero hours)"


def accuracy(actual: pd.Series, predicted: pd.Series, lower: pd.Series | None = None,
             upper: pd.Series | None = None, insample: pd.Series | None = None,
             season: int = 168) -> dict:
    """Accuracy of one forecast: {"mape", "smape", "mase", "coverage"} as defined in this module.

    ``actual``, ``predicted``, ``lower``, ``upper`` are aligned by position; hours whose actual or
    prediction is missing are left out. ``insample`` is the training series, in time order.
    """
    a = np.asarray(actual, dtype=float)
    p = np.asarray(predicted, dtype=float)
    ok = ~(np.isnan(a) | np.isnan(p))
    a, p = a[ok], p[ok]
    err = np.abs(a - p)
    total = np.abs(a).sum()
    mape = float(err.sum() / total) if total > 0 else float("nan")
    denom = np.abs(a) + np.abs(p)
    smape = float(np.mean(np.where(denom > 0, 2 * err / np.where(denom > 0, denom, 1), 0.0))) if len(a) else float("nan")
    mase = float("nan")
    if insample is not None and len(a):
        ins = np.asarray(insample, dtype=float)
        if len(ins) > season:
            scale = np.nanmean(np.abs(ins[season:] - ins[:-season]))
            if scale > 0:
                mase = float(err.mean() / scale)
    coverage = None
    if lower is not None and upper is not None:
        lo = np.asarray(lower, dtype=float)[ok]
        hi = np.asarray(upper, dtype=float)[ok]
        coverage = float(np.mean((a >= lo) & (a <= hi))) if len(a) else float("nan")
    return {"mape": mape, "smape": smape, "mase": mase, "coverage": coverage}
