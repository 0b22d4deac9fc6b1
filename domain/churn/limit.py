"""The model against the best any model could do: the generator's own churn probabilities.

The synthetic marketplace knows each customer's realised daily hazard (including what happens after
T and an unobserved frailty), so its P(churn in (T, T+30d]) is an upper bound for a model that only
sees the past. `against_limit` scores those probabilities exactly like the model: the threshold
for recall >= min_recall chosen on the validation snapshot, metrics on the holdout snapshot, on the
same customers.
"""
from __future__ import annotations

from datetime import datetime
from typing import Callable

import numpy as np
import pandas as pd

from domain.churn.metrics import choose_threshold, evaluate

TrueProbability = Callable[[datetime], pd.Series]  # at -> P(churn in 30 d) indexed by customer_id
MIN_COVERAGE = 0.95


def against_limit(holdout: pd.DataFrame, validation: pd.DataFrame, true_probability: TrueProbability,
                  min_recall: float = 0.80) -> dict:
    """holdout / validation: TrainResult frames (customer_id, snapshot, churned, probability). Returns
    {available, coverage, limit: metrics, model: metrics on the same customers, distance}; available is
    False (with a reason) when the generator's customers do not match the store's."""
    def probs(frame: pd.DataFrame) -> pd.Series:
        """The generator's probability of every row, snapshot by snapshot (validation spans several weeks)."""
        out = pd.Series(np.nan, index=frame.index)
        for at, rows in frame.groupby("snapshot"):
            p = true_probability(pd.Timestamp(at).to_pydatetime()).reindex(rows["customer_id"].to_numpy())
            out.loc[rows.index] = p.to_numpy()
        return out
    try:
        p_hold, p_val = probs(holdout), probs(validation)
    except (ValueError, IndexError, KeyError) as exc:
        return {"available": False, "reason": f"the generator cannot score these times: {exc}"}
    coverage = float(p_hold.notna().mean()) if len(p_hold) else 0.0
    if coverage < MIN_COVERAGE:
        return {"available": False, "coverage": coverage,
                "reason": f"only {coverage:.0%} of the store's customers exist in the regenerated marketplace"}
    ok_v = p_val.notna().to_numpy()
    threshold = choose_threshold(validation["churned"].to_numpy()[ok_v], p_val.to_numpy()[ok_v], min_recall)
    ok = p_hold.notna().to_numpy()
    y = holdout["churned"].to_numpy()[ok]
    limit = evaluate(y, p_hold.to_numpy()[ok], threshold, min_recall)
    model = evaluate(y, holdout["probability"].to_numpy()[ok], None, min_recall)
    key = f"precision_at_recall_{int(round(min_recall * 100))}"
    gap = limit["auc"] - model["auc"]
    return {"available": True, "coverage": coverage, "limit": limit, "model_same_rows": model,
            "distance": {"auc": gap, "auc_relative": gap / limit["auc"] if limit["auc"] else np.nan,
                         key: limit[key] - model[key], "brier": model["brier"] - limit["brier"]}}
