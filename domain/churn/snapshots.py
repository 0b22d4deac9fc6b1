"""Weekly snapshots for training: which times, which features, and memory-bounded training rows.

One weekly grid anchored at the last time whose 30-day outcome is known at T (`at`): S_k = T - horizon -
k x step, k >= 0, no earlier than `lookback_days` after the data's start (56: every feature sees its
whole window). A snapshot is *closed* at an origin O when its label window has ended by then (S + horizon
<= O). With less history the grid starts `min_lookback_days` after the start and the features that need
the longer look back (SHORT_HISTORY_DROPS) are left out: the model is told less rather than told zeros.

Training rows of a snapshot keep every churner and, beyond a per-snapshot budget, a random share r of the
others with weight 1/r (the weighted fit sees the true base rate); numbers are float32. Validation and
holdout rows are never sampled.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from domain.churn.features import FEATURE_NAMES, NUMERIC, History, features_at, labels_at
from domain.customers.triggers import DAY_NS

# features whose window reaches further back than a short history's first snapshots (14 days in)
SHORT_HISTORY_DROPS = ("sessions_prev_28d", "velocity_change", "velocity_drop", "calls_90d", "call_rate",
                       "tutor_switches_90d", "avg_rating_90d", "rated_sessions_90d", "tutor_consistency")
SHORT_FEATURES = tuple(f for f in FEATURE_NAMES if f not in SHORT_HISTORY_DROPS)


class NotEnoughHistory(ValueError):
    """The store does not hold enough history to train (or to evaluate) the churn model."""


@dataclass(frozen=True)
class Plan:
    times: list[int]  # the weekly grid, ascending, ns
    short: bool  # a short history: fewer features
    lookback_days: int
    features: tuple[str, ...]

    def closed(self, origin_ns: int, horizon_days: int) -> list[int]:
        return [t for t in self.times if t + horizon_days * DAY_NS <= origin_ns]


def plan(at_ns: int, data_start_ns: int, horizon_days: int, step_days: int, lookback_days: int,
         min_lookback_days: int, window_days: int, full_weeks: int) -> Plan:
    """The grid at T; the full feature set when it has at least `full_weeks` snapshots, else the short
    one; NotEnoughHistory below two snapshots (one to fit, one to calibrate)."""
    last = at_ns - horizon_days * DAY_NS
    step = step_days * DAY_NS

    def grid(lookback: int) -> list[int]:
        first = max(data_start_ns + lookback * DAY_NS, at_ns - window_days * DAY_NS)
        return [last - k * step for k in range(10_000) if last - k * step >= first][::-1]
    full = grid(lookback_days)
    if len(full) >= full_weeks:
        return Plan(full, False, lookback_days, tuple(FEATURE_NAMES))
    short = grid(min_lookback_days)
    if len(short) >= 2:
        return Plan(short, True, min_lookback_days, SHORT_FEATURES)
    days = (at_ns - data_start_ns) / DAY_NS
    need = min_lookback_days + horizon_days + step_days
    raise NotEnoughHistory(f"{days:.0f} days of history before {pd.Timestamp(at_ns):%Y-%m-%d}; training needs at "
                           f"least {need} (features look back {min_lookback_days} days, then two weekly snapshots "
                           f"whose {horizon_days}-day outcome is known)")


def rows(h: History, t_ns: int, horizon_days: int, budget: int | None = None, seed: int = 0) -> pd.DataFrame:
    """customer_id, snapshot, FEATURES (numbers float32), churned, weight for every customer eligible at
    t (budget None), or every churner plus a weighted sample of the others within `budget` rows."""
    f = features_at(h, t_ns)
    y = labels_at(h, t_ns, horizon_days).to_numpy()
    weight = np.ones(len(f), dtype=np.float32)
    if budget is not None and len(f) > budget:
        neg = np.flatnonzero(~y)
        keep_neg = max(budget - int(y.sum()), min(len(neg), budget // 4))
        if keep_neg < len(neg):
            rng = np.random.default_rng(seed + int(t_ns // DAY_NS))
            picked = rng.choice(neg, keep_neg, replace=False)
            weight[neg] = len(neg) / keep_neg
            keep = np.sort(np.concatenate([np.flatnonzero(y), picked]))
            f, y, weight = f.iloc[keep].reset_index(drop=True), y[keep], weight[keep]
    f[NUMERIC] = f[NUMERIC].astype(np.float32)
    return f.assign(snapshot=pd.Timestamp(t_ns), churned=y, weight=weight)


class Snapshots:
    """Rows per snapshot, built once: sampled training rows are cached (bounded), full rows are rebuilt."""

    def __init__(self, h: History, horizon_days: int, budget: int | None):
        self.h, self.horizon_days, self.budget = h, horizon_days, budget
        self._train: dict[int, pd.DataFrame] = {}

    def train(self, times: list[int]) -> pd.DataFrame:
        for t in times:
            if t not in self._train:
                self._train[t] = rows(self.h, t, self.horizon_days, self.budget)
        return pd.concat([self._train[t] for t in times], ignore_index=True)

    def full(self, times: list[int]) -> pd.DataFrame:
        return pd.concat([rows(self.h, t, self.horizon_days) for t in times], ignore_index=True)
