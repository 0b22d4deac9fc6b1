"""Time-split training and evaluation of the churn model.

Snapshots every `step_days` back from the last labelled time L = T - horizon (T = `at`) to
`min_history_days` after the data's start. Each snapshot S gives one row per customer eligible at S
(features from data <= S) and the label churn in (S, S + horizon]. The split is by time only, with
a horizon-long gap so no label window of an earlier part reaches into a later part:

    holdout     S = L                            (the last snapshot whose outcome is known)
    validation  S = L - horizon                  (threshold and reference for the holdout)
    train       S <= L - 2 x horizon             (every earlier snapshot)

Both kinds (logistic regression first, gradient boosting) are fitted on train; each gets the threshold
that reaches `min_recall` on validation; the one with the higher holdout AUC is kept (both are
reported). With `refit`, the kept recipe is fitted again on every labelled snapshot (train +
validation + holdout) for scoring: the stored metrics describe the same recipe one step earlier.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

import numpy as np
import pandas as pd
import sklearn

from domain.churn.features import FEATURE_NAMES, History, features_at, labels_at
from domain.churn.metrics import choose_threshold, evaluate
from domain.churn.model import KINDS, ChurnModel
from domain.customers.triggers import DAY_NS, as_timestamp

Progress = Callable[[str, float], None]


class NotEnoughHistory(ValueError):
    """The store does not hold enough history for a train / validation / holdout split."""


@dataclass(frozen=True)
class ChurnConfig:
    horizon_days: int = 30
    step_days: int = 7
    min_history_days: int = 56  # features look 56 days back (velocity change); earlier snapshots would be blind
    window_days: int = 180  # the history trained on
    min_recall: float = 0.80
    kinds: tuple[str, ...] = KINDS
    refit: bool = True
    importance_rows: int = 2000


@dataclass
class Split:
    train: list[pd.Timestamp]
    validation: list[pd.Timestamp]
    holdout: list[pd.Timestamp]

    def as_dict(self) -> dict:
        return {k: [t.isoformat() for t in getattr(self, k)] for k in ("train", "validation", "holdout")}


@dataclass
class TrainResult:
    model: ChurnModel  # what scores customers (refitted on all labelled snapshots when config.refit)
    kind: str
    threshold: float
    metrics: dict
    train_start: datetime
    train_end: datetime
    holdout: pd.DataFrame = field(repr=False)  # customer_id, snapshot, churned, probability, predicted (kept kind)
    validation: pd.DataFrame = field(repr=False)  # the same columns at the validation snapshot


def plan_snapshots(at_ns: int, data_start_ns: int, config: ChurnConfig = ChurnConfig()) -> Split:
    """Snapshot times of the time split (see the module doc); NotEnoughHistory when a part is empty."""
    h = config.horizon_days * DAY_NS
    last = at_ns - h
    first = max(data_start_ns + config.min_history_days * DAY_NS, at_ns - config.window_days * DAY_NS)
    step = config.step_days * DAY_NS
    holdout = [last] if last >= first else []
    validation = [last - h] if last - h >= first else []
    # training snapshots step back from a full horizon before validation, so no label window overlaps it
    train = [last - 2 * h - k * step for k in range(10_000) if last - 2 * h - k * step >= first][::-1]
    if not (holdout and validation and train):
        days = (at_ns - data_start_ns) / DAY_NS
        need = config.min_history_days + 3 * config.horizon_days
        raise NotEnoughHistory(f"{days:.0f} days of history before {pd.Timestamp(at_ns):%Y-%m-%d}; a time split needs "
                               f"at least {need} (features look back {config.min_history_days} days, then train, "
                               f"validation and holdout each need a {config.horizon_days}-day outcome window)")
    stamp = lambda ts: [pd.Timestamp(t) for t in ts]  # noqa: E731
    return Split(stamp(train), stamp(validation), stamp(holdout))


def dataset(h: History, times: list[pd.Timestamp], horizon_days: int) -> pd.DataFrame:
    """Rows of every snapshot: snapshot, customer_id, FEATURES, churned."""
    parts = []
    for t in times:
        f = features_at(h, t.value)
        y = labels_at(h, t.value, horizon_days)
        parts.append(f.assign(snapshot=t, churned=y.to_numpy()))
    return pd.concat(parts, ignore_index=True)


def _sample(df: pd.DataFrame, rows: int) -> pd.DataFrame:
    return df if len(df) <= rows else df.sample(rows, random_state=0)


def train_churn(frames: dict[str, pd.DataFrame] | History, at: datetime | str, config: ChurnConfig = ChurnConfig(),
                progress: Progress | None = None) -> TrainResult:
    """Fit, compare and evaluate on a time split of the history known at `at` (see the module doc)."""
    report = progress or (lambda step, fraction: None)
    h = frames if isinstance(frames, History) else History(frames)
    at_ns = as_timestamp(at).value
    split = plan_snapshots(at_ns, h.data_start(at_ns, config.window_days), config)
    report("building snapshots", 0.05)
    started = time.perf_counter()
    parts = {k: dataset(h, getattr(split, k), config.horizon_days) for k in ("train", "validation", "holdout")}
    feature_s = time.perf_counter() - started
    train, val, hold = parts["train"], parts["validation"], parts["holdout"]
    if train["churned"].sum() < 5 or val["churned"].sum() < 1:
        raise NotEnoughHistory(f"too few churners to learn from: {int(train['churned'].sum())} in training, "
                               f"{int(val['churned'].sum())} in validation")
    candidates, models = {}, {}
    for i, kind in enumerate(config.kinds):
        report(f"fitting {kind}", 0.15 + 0.55 * i / len(config.kinds))
        t0 = time.perf_counter()
        model = ChurnModel(kind=kind).fit(train[FEATURE_NAMES], train["churned"])
        fit_s = time.perf_counter() - t0
        p_val = model.predict_proba(val[FEATURE_NAMES])[:, 1]
        threshold = choose_threshold(val["churned"], p_val, config.min_recall)
        model.set_params(threshold=threshold)
        p_hold = model.predict_proba(hold[FEATURE_NAMES])[:, 1]
        candidates[kind] = {"fit_seconds": round(fit_s, 3),
                            "validation": evaluate(val["churned"], p_val, threshold, config.min_recall),
                            "holdout": evaluate(hold["churned"], p_hold, threshold, config.min_recall)}
        models[kind] = (model, p_val, p_hold)
    kind = max(candidates, key=lambda k: np.nan_to_num(candidates[k]["holdout"]["auc"], nan=-1))
    model, p_val, p_hold = models[kind]
    threshold = float(model.threshold)
    report("explaining", 0.75)
    importance = model.importance(_sample(hold, config.importance_rows)[FEATURE_NAMES])
    used = split.train
    if config.refit:
        report(f"refitting {kind} on all labelled snapshots", 0.8)
        everything = pd.concat([train, val, hold], ignore_index=True)
        t0 = time.perf_counter()
        model = ChurnModel(kind=kind, threshold=threshold).fit(everything[FEATURE_NAMES], everything["churned"])
        candidates[kind]["refit_seconds"] = round(time.perf_counter() - t0, 3)
        used = split.train + split.validation + split.holdout
    horizon = pd.Timedelta(days=config.horizon_days)
    metrics = {
        "kind": kind, "threshold": threshold, "min_recall": config.min_recall, "horizon_days": config.horizon_days,
        "holdout": candidates[kind]["holdout"], "validation": candidates[kind]["validation"],
        "candidates": candidates, "split": split.as_dict(),
        "rows": {k: int(len(v)) for k, v in parts.items()},
        "churners": {k: int(v["churned"].sum()) for k, v in parts.items()},
        "evaluated_train_window": [split.train[0].isoformat(), (split.train[-1] + horizon).isoformat()],
        "refit": config.refit, "feature_seconds": round(feature_s, 3),
        "top_features": [{"feature": f, "mean_abs_contribution": round(float(v), 4)} for f, v in importance.items()],
        "features": FEATURE_NAMES, "sklearn_version": sklearn.__version__,
    }
    holdout = hold[["customer_id", "snapshot", "churned"]].assign(probability=p_hold, predicted=p_hold >= threshold)
    validation = val[["customer_id", "snapshot", "churned"]].assign(probability=p_val, predicted=p_val >= threshold)
    report("done", 1.0)
    return TrainResult(model=model, kind=kind, threshold=threshold, metrics=metrics,
                       train_start=used[0].to_pydatetime(), train_end=(used[-1] + horizon).to_pydatetime(),
                       holdout=holdout, validation=validation)
