"""Classification metrics for churn: threshold choice, precision/recall, AUC, Brier, calibration.

All take y (0/1 or bool) and p (probabilities) as array-likes of the same length.
"""
from __future__ import annotations

import numpy as np
from sklearn.metrics import brier_score_loss, roc_auc_score

CALIBRATION_BINS = 10


def choose_threshold(y, p, min_recall: float = 0.80) -> float:
    """The highest probability threshold t such that predicting churn for p >= t catches at least
    `min_recall` of the churners in (y, p): the most precise cut that still reaches the recall.
    Ties in p are taken together (a threshold cannot split them). No churners: 0.5."""
    y, p = np.asarray(y, dtype=bool), np.asarray(p, dtype=float)
    positives = y.sum()
    if positives == 0:
        return 0.5
    order = np.argsort(-p, kind="stable")
    caught = np.cumsum(y[order])
    k = int(np.searchsorted(caught, np.ceil(min_recall * positives - 1e-9)))  # first index reaching it
    return float(p[order][min(k, len(p) - 1)])


def precision_recall(y, predicted) -> tuple[float, float]:
    y, predicted = np.asarray(y, dtype=bool), np.asarray(predicted, dtype=bool)
    tp = float((y & predicted).sum())
    precision = tp / predicted.sum() if predicted.sum() else float("nan")
    recall = tp / y.sum() if y.sum() else float("nan")
    return precision, recall


def precision_at_recall(y, p, min_recall: float = 0.80) -> float:
    """Precision of the most precise cut of p that reaches `min_recall` on the same data (an oracle
    threshold: compares ranking quality like for like, e.g. a model with the generator's own limit)."""
    t = choose_threshold(y, p, min_recall)
    return precision_recall(y, np.asarray(p) >= t)[0]


def calibration(y, p, bins: int = CALIBRATION_BINS) -> list[dict]:
    """Equal-count bins of p (churn is rare, so equal-width bins would leave most of them empty):
    [{bin, customers, predicted (mean p), observed (churn rate)}]."""
    y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    if not len(p):
        return []
    order = np.argsort(p, kind="stable")
    out = []
    for i, part in enumerate(np.array_split(order, min(bins, len(p)))):
        if len(part):
            out.append({"bin": i, "customers": int(len(part)), "predicted": float(p[part].mean()),
                        "observed": float(y[part].mean())})
    return out


def expected_calibration_error(y, p, bins: int = CALIBRATION_BINS) -> float:
    """Sum over equal-count bins of (bin share) x |mean predicted - observed rate|."""
    table = calibration(y, p, bins)
    n = sum(b["customers"] for b in table)
    return float(sum(b["customers"] / n * abs(b["predicted"] - b["observed"]) for b in table)) if n else float("nan")


def evaluate(y, p, threshold: float | None = None, min_recall: float = 0.80) -> dict:
    """Everything we report about one set of predictions: customers, churners, base_rate, auc, brier,
    ece, calibration bins, precision_at_recall (oracle cut at `min_recall`), and, when a threshold
    is given, threshold, precision, recall, flagged (customers at or above it)."""
    y, p = np.asarray(y, dtype=bool), np.asarray(p, dtype=float)
    both = y.any() and not y.all()
    out = {
        "customers": int(len(y)), "churners": int(y.sum()), "base_rate": float(y.mean()) if len(y) else float("nan"),
        "auc": float(roc_auc_score(y, p)) if both else float("nan"),
        "brier": float(brier_score_loss(y, p)) if len(y) else float("nan"),
        "ece": expected_calibration_error(y, p), "calibration": calibration(y, p),
        f"precision_at_recall_{int(round(min_recall * 100))}": precision_at_recall(y, p, min_recall) if y.any()
        else float("nan"),
    }
    if threshold is not None:
        flagged = p >= threshold
        precision, recall = precision_recall(y, flagged)
        out.update({"threshold": float(threshold), "precision": precision, "recall": recall,
                    "flagged": int(flagged.sum())})
    return out
