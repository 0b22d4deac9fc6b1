"""Churn prediction (issue 7): features as of a time, the 30-day label, the model, explanations, evaluation.

    from domain.churn import snapshot_features, labels, train_churn, explain
    X = snapshot_features(frames, at)        # one row per customer eligible at `at`, FEATURES columns
    y = labels(frames["customers"], at)      # churned_at in (at, at + 30 days]
    result = train_churn(frames, at)         # time-split fit/compare/evaluate; result.model scores X

Modules: features (inputs and label), snapshots (weekly grid, sampled rows), model (ChurnModel, calibrated),
metrics, training (rolling origin), value (lifetime value, revenue at risk), explain
(factors, changes, intervention), limit (against the generator's own probabilities), insights (funnel,
risk by group, contacted vs uncontacted).

Honest expectations (benchmarks/churn.py, 50,000 customers): churn here is ~5 % a month and noisy; the
generator's own probabilities reach AUC ~0.77-0.78 and only ~0.09 precision at recall 0.80, because they
see an unobserved per-customer frailty and the future. A model that sees the past gets AUC ~0.68,
about as much as the generator's own hazard at T carries once the frailty is removed.
"""
from domain.churn.features import FEATURE_NAMES, FEATURES, History, labels, snapshot_features
from domain.churn.metrics import choose_threshold, evaluate
from domain.churn.model import ChurnModel
from domain.churn.training import ChurnConfig, NotEnoughHistory, TrainResult, plan_snapshots, train_churn

__all__ = ["FEATURE_NAMES", "FEATURES", "History", "labels", "snapshot_features", "choose_threshold", "evaluate",
           "ChurnModel", "ChurnConfig", "NotEnoughHistory", "TrainResult", "plan_snapshots", "train_churn"]
