"""Rolling-origin training of the churn model: every closed weekly snapshot, calibrated on the latest ones.

The recipe at an origin O (see domain.churn.snapshots for the weekly grid and "closed"):

    validation  the latest `validation_weeks` snapshots closed at O
    fit         each kind (logistic regression, gradient boosting) on the older closed snapshots, a week
                `half_life_weeks` older weighing half as much (None: all weeks alike)
    calibrate   Platt (or isotonic) map and the threshold for recall >= min_recall, on validation; the
                kind with the higher validation AUC is kept
    refit       the kept kind on every closed snapshot, validation included (the most recent weeks carry
                the most information), keeping the map and the threshold

`train_churn(at)` runs the recipe at O = T: that model scores customers. With `evaluate`, it first runs it at
O = H, the latest snapshot closed at T, and scores H (the holdout: weeks that recipe never saw), with two
baselines fitted on the same weeks (days since the last session alone; a 5-input logistic regression); the
recipe at T then fits the kind chosen there.
Too short a history for that: the metrics are the validation weeks' and say so (`evaluated_on`).

Fewer than `min_gbm_churners` churners to fit on: logistic regression only (measured in
benchmarks/churn_heldout.py: below that boosting ranks worse than the linear model).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Callable

import numpy as np
import pandas as pd
import sklearn

from domain.churn.features import FEATURE_NAMES, History
from domain.churn.metrics import choose_threshold, evaluate
from domain.churn.model import KINDS, ChurnModel
from domain.churn.snapshots import NotEnoughHistory, Plan, Snapshots, plan
from domain.customers.triggers import DAY_NS, as_timestamp

Progress = Callable[[str, float], None]
BASELINES = {"days_since_last_session": ("days_since_last_session",),
             "logistic_5": ("days_since_last_session", "sessions_28d", "tenure_days", "calls_14d", "upcoming_bookings")}

__all__ = ["ChurnConfig", "NotEnoughHistory", "TrainResult", "plan_snapshots", "train_churn", "BASELINES"]


@dataclass(frozen=True)
class ChurnConfig:
    horizon_days: int = 30
    step_days: int = 7
    lookback_days: int = 56  # the longest feature window but one (velocity change: 28 + 28 days)
    min_lookback_days: int = 14  # a short history's first snapshot: two weeks of behaviour
    window_days: int = 180  # the history trained on
    validation_weeks: int = 3
    half_life_weeks: float | None = None
    calibration: str = "platt"
    min_recall: float = 0.80
    kinds: tuple[str, ...] = KINDS
    min_gbm_churners: int = 5000
    max_rows: int = 600_000  # training rows across all weeks; negatives beyond it are sampled with weights
    evaluate: bool = True  # also run the recipe one horizon back and score the holdout (and baselines)
    final: bool = True  # fit the scoring model at T (evaluate-churn only evaluates)
    refit: bool = True
    importance_rows: int = 2000


def plan_snapshots(at_ns: int, data_start_ns: int, config: ChurnConfig = ChurnConfig()) -> Plan:
    """The weekly grid at T (domain.churn.snapshots.plan with the config's numbers)."""
    # the full inputs once the recipe can also be run one horizon back on two closed weeks (~128 days)
    shift = -(-config.horizon_days // config.step_days)
    return plan(at_ns, data_start_ns, config.horizon_days, config.step_days, config.lookback_days,
                config.min_lookback_days, config.window_days, shift + 2)


@dataclass
class Recipe:
    model: ChurnModel
    kind: str
    threshold: float
    candidates: dict
    fit_times: list[int]
    validation_times: list[int]
    validation: pd.DataFrame = field(repr=False)  # customer_id, snapshot, churned, probability, predicted
    train_churners: int = 0


@dataclass
class TrainResult:
    model: ChurnModel  # what scores customers (the recipe at T)
    kind: str
    threshold: float
    metrics: dict
    train_start: datetime
    train_end: datetime
    holdout: pd.DataFrame = field(repr=False)  # customer_id, snapshot, churned, probability, predicted
    validation: pd.DataFrame = field(repr=False)  # the same for the evaluated recipe's validation weeks
    baselines: dict = field(default_factory=dict, repr=False)  # name -> holdout probabilities


def _decay(frame: pd.DataFrame, newest_ns: int, half_life_weeks: float | None) -> np.ndarray:
    w = frame["weight"].to_numpy(dtype=float)
    if not half_life_weeks:
        return w
    age_weeks = (newest_ns - frame["snapshot"].to_numpy(dtype="datetime64[ns]").view("int64")) / (7 * DAY_NS)
    return w * 0.5 ** (age_weeks / half_life_weeks)


def _fit(kind: str, features, frame: pd.DataFrame, newest_ns: int, config: ChurnConfig) -> ChurnModel:
    return ChurnModel(kind=kind, features=features).fit(frame[FEATURE_NAMES], frame["churned"],
                                                        _decay(frame, newest_ns, config.half_life_weeks))


def run_recipe(data: Snapshots, p: Plan, origin_ns: int, config: ChurnConfig, report: Progress) -> Recipe:
    """The recipe at `origin_ns` (module doc). NotEnoughHistory with fewer than two closed snapshots."""
    closed = p.closed(origin_ns, config.horizon_days)
    if len(closed) < 2:
        raise NotEnoughHistory(f"fewer than two weekly snapshots closed by {pd.Timestamp(origin_ns):%Y-%m-%d}")
    n_val = min(config.validation_weeks, max(1, len(closed) // 3))
    fit_t, val_t = closed[:-n_val], closed[-n_val:]
    train, val = data.train(fit_t), data.full(val_t)
    if train["churned"].sum() < 5 or val["churned"].sum() < 1:
        raise NotEnoughHistory(f"too few churners to learn from: {int(train['churned'].sum())} in training, "
                               f"{int(val['churned'].sum())} in validation")
    kinds = [k for k in config.kinds if k != "gbm" or train["churned"].sum() >= config.min_gbm_churners] or ["logistic"]
    candidates, models = {}, {}
    for i, kind in enumerate(kinds):
        report(f"fitting {kind}", i / (len(kinds) + 1))
        t0 = time.perf_counter()
        model = _fit(kind, p.features, train, fit_t[-1], config)
        fit_s = time.perf_counter() - t0
        model.calibrate(val[FEATURE_NAMES], val["churned"], method=config.calibration)
        p_val = model.predict_proba(val[FEATURE_NAMES])[:, 1]
        threshold = choose_threshold(val["churned"], p_val, config.min_recall)
        model.set_params(threshold=threshold)
        candidates[kind] = {"fit_seconds": round(fit_s, 3),
                            "validation": evaluate(val["churned"], p_val, threshold, config.min_recall)}
        models[kind] = (model, p_val)
    kind = max(candidates, key=lambda k: np.nan_to_num(candidates[k]["validation"]["auc"], nan=-1))
    model, p_val = models[kind]
    threshold = float(model.threshold)
    validation = val[["customer_id", "snapshot", "churned"]].assign(probability=p_val, predicted=p_val >= threshold)
    used = fit_t
    if config.refit:
        report(f"refitting {kind} on every closed week", len(kinds) / (len(kinds) + 1))
        del val
        t0 = time.perf_counter()
        calibrator = model.calibrator_
        model = _fit(kind, p.features, data.train(closed), closed[-1], config)
        model.calibrator_, used = calibrator, closed
        model.set_params(threshold=threshold)
        candidates[kind]["refit_seconds"] = round(time.perf_counter() - t0, 3)
    return Recipe(model, kind, threshold, candidates, used, val_t, validation, int(train["churned"].sum()))


def train_churn(frames: dict[str, pd.DataFrame] | History, at: datetime | str, config: ChurnConfig = ChurnConfig(),
                progress: Progress | None = None) -> TrainResult:
    """Train (and with config.evaluate, evaluate) the churn model on the history known at `at`."""
    report = progress or (lambda step, fraction: None)
    h = frames if isinstance(frames, History) else History(frames)
    at_ns = as_timestamp(at).value
    p = plan_snapshots(at_ns, h.data_start(at_ns, config.window_days), config)
    data = Snapshots(h, config.horizon_days, config.max_rows // max(len(p.times), 1))
    started = time.perf_counter()
    evaluated = None
    hold_t = p.times[-1]
    if config.evaluate and len(p.closed(hold_t, config.horizon_days)) >= 2:
        report("evaluating the recipe one horizon back", 0.05)
        evaluated = run_recipe(data, p, hold_t, config, lambda s, f: report(f"holdout: {s}", 0.05 + 0.4 * f))
    final = None
    if config.final or evaluated is None:
        # the kind the evaluated recipe chose: the card then describes the model that scores (and one fit less)
        kinds = (evaluated.kind,) if evaluated is not None else config.kinds
        final = run_recipe(data, p, at_ns, replace(config, kinds=kinds), lambda s, f: report(s, 0.45 + 0.45 * f))
    shown = evaluated or final
    hold = data.full([hold_t]) if evaluated else None
    metrics = {"kind": (final or evaluated).kind, "threshold": (final or evaluated).threshold,
               "min_recall": config.min_recall, "horizon_days": config.horizon_days,
               "short_history": p.short, "lookback_days": p.lookback_days,
               "features": list(p.features), "dropped_features": [f for f in FEATURE_NAMES if f not in p.features],
               "calibration_method": config.calibration, "half_life_weeks": config.half_life_weeks,
               "max_rows": config.max_rows, "sklearn_version": sklearn.__version__,
               "candidates": shown.candidates, "train_churners": shown.train_churners,
               "split": {"train": _iso(shown.fit_times), "validation": _iso(shown.validation_times),
                         "holdout": _iso([hold_t]) if evaluated else []}}
    baselines: dict[str, np.ndarray] = {}
    if evaluated is not None:
        y = hold["churned"]
        p_hold = evaluated.model.predict_proba(hold[FEATURE_NAMES])[:, 1]
        metrics["holdout"] = evaluate(y, p_hold, evaluated.threshold, config.min_recall)
        metrics["evaluated_on"] = "holdout"
        report("baselines", 0.92)
        fit_rows = data.train(evaluated.fit_times)
        metrics["baselines"] = {}
        for name, inputs in BASELINES.items():
            b = _fit("logistic", inputs, fit_rows, evaluated.fit_times[-1], config)
            baselines[name] = b.predict_proba(hold[FEATURE_NAMES])[:, 1]
            metrics["baselines"][name] = evaluate(y, baselines[name], None, config.min_recall)
        holdout = hold[["customer_id", "snapshot", "churned"]].assign(probability=p_hold,
                                                                     predicted=p_hold >= evaluated.threshold)
    else:
        metrics["holdout"] = shown.candidates[shown.kind]["validation"]
        metrics["evaluated_on"] = "validation"
        holdout = shown.validation
    metrics["validation"] = shown.candidates[shown.kind]["validation"]
    metrics["rows"] = {"holdout": int(len(holdout)), "validation": int(len(shown.validation))}
    metrics["churners"] = {"holdout": int(holdout["churned"].sum()), "validation": int(shown.validation["churned"].sum())}
    model = (final or evaluated).model
    report("explaining", 0.95)
    sample = hold if hold is not None else None
    if sample is None:
        sample = data.full([shown.validation_times[-1]])
    sample = sample if len(sample) <= config.importance_rows else sample.sample(config.importance_rows, random_state=0)
    importance = model.importance(sample[FEATURE_NAMES])
    metrics["top_features"] = [{"feature": f, "mean_abs_contribution": round(float(v), 4)}
                               for f, v in importance.items() if v > 0]
    metrics["train_seconds"] = round(time.perf_counter() - started, 3)
    used = (final or evaluated).fit_times
    horizon = pd.Timedelta(days=config.horizon_days)
    report("done", 1.0)
    return TrainResult(model=model, kind=(final or evaluated).kind, threshold=(final or evaluated).threshold,
                       metrics=metrics, train_start=pd.Timestamp(used[0]).to_pydatetime(),
                       train_end=(pd.Timestamp(used[-1]) + horizon).to_pydatetime(),
                       holdout=holdout, validation=shown.validation, baselines=baselines)


def _iso(times: list[int]) -> list[str]:
    return [pd.Timestamp(t).isoformat() for t in times]
