"""Explanations a CS agent can act on: top factors (signed contributions), recent changes, what to do.

`explain(model, X)` -> one dict per row of X: {"factors", "changes", "intervention"}.

- factors: the `top` model inputs with the largest |contribution| (log-odds, see ChurnModel.contributions),
  risk-raising first: {kind: "factor", feature, label, value, contribution, text}.
- changes: behaviour that moved recently, read from the same inputs (sessions per week now vs the 28
  days before, idle days, calls, tutor changes, reschedules, cancellations, bad ratings, no-shows,
  nothing booked): {kind: "change", feature, label, value, text}.
- intervention: the action for the strongest risk-raising factor that an agent can act on.

Every `feature` named is one of the model's inputs (FEATURE_NAMES), so what the page shows is what
the model used.
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd

from domain.churn.features import BY_NAME, FEATURE_NAMES
from domain.churn.model import ChurnModel

WORDS = {
    "first_session": {"none_yet": "none yet", "no_show": "the tutor did not show", "rated_low": "rated below 3",
                      "rated_3": "rated 3", "rated_good": "rated 4 or 5", "unrated": "completed, not rated"},
    "goal": {"none": "not set", "in_progress": "in progress", "completed": "completed"},
}
RE_ENGAGE = "Re-engage: offer to book the next session with their tutor at a fixed weekly slot"
REMATCH = "Apologise and offer a rematch with a top-rated tutor"
INTERVENTIONS = {
    "days_since_last_session": RE_ENGAGE, "sessions_28d": RE_ENGAGE, "velocity_change": RE_ENGAGE,
    "velocity_drop": RE_ENGAGE, "upcoming_bookings": RE_ENGAGE, "idle_nothing_booked": RE_ENGAGE, "sessions_prev_28d": RE_ENGAGE,
    "sessions_total": RE_ENGAGE,
    "calls_14d": "Call today: resolve the open support issue", "calls_14d_new": "Call today: resolve the open support issue",
    "calls_90d": "Call: review their support history and fix what keeps coming back",
    "call_rate": "Call: review their support history and fix what keeps coming back",
    "first_session": "Call and rematch with a top-rated tutor: the first session went badly",
    "no_first_session_10d": "Call and help book the first session",
    "bad_rating_7d": REMATCH, "low_ratings_30d": REMATCH, "avg_rating_90d": REMATCH, "rated_sessions_90d": REMATCH,
    "tutor_no_show_7d": REMATCH, "tutor_no_shows_30d": REMATCH,
    "tutor_switches_90d": "Match them with one steady tutor and keep them together",
    "tutor_consistency": "Match them with one steady tutor and keep them together",
    "tutor_reschedules_30d": "Find a tutor whose hours fit: their tutor keeps moving sessions",
    "customer_reschedules_30d": "Find a schedule that fits: offer a fixed weekly slot",
    "cancellations_30d": "Find a schedule that fits: offer a fixed weekly slot",
    "goal": "Congratulate and propose a new goal or subject", "goal_completed_30d": "Congratulate and propose a new goal or subject",
    "new_30d": "Welcome call: check the first weeks are going well", "new_90d": "Welcome call: check the first weeks are going well",
    "tenure_days": "Welcome call: check the first weeks are going well",
}
DEFAULT_INTERVENTION = "Check in: ask how tutoring is going and book the next session"
MIN_ACTIONABLE = 0.05  # log-odds: a factor this small does not decide the action


def describe(feature: str, value) -> str:
    """One model input's value in plain words, e.g. '23 days since the last completed session'."""
    spec = BY_NAME[feature]
    if spec.kind == "cat":
        return spec.text.format(v=WORDS.get(feature, {}).get(value, value))
    v = float(value)
    if spec.kind == "flag":
        return spec.text.format(yes="" if v >= 0.5 else "not ")
    return spec.text.format(v=v)


def _value(feature: str, value):
    if BY_NAME[feature].kind == "cat":
        return str(value)
    return round(float(value), 3)


def factors_for(row: dict, contrib: np.ndarray, top: int = 5) -> list[dict]:
    """The `top` inputs by |contribution| (contrib aligned with FEATURE_NAMES), risk-raising first."""
    picked = np.argsort(-np.abs(contrib), kind="stable")[:top]
    out = []
    for j in sorted(picked, key=lambda j: -contrib[j]):
        f, c = FEATURE_NAMES[j], float(contrib[j])
        out.append({"kind": "factor", "feature": f, "label": BY_NAME[f].label, "value": _value(f, row[f]),
                    "contribution": round(c, 4),
                    "text": f"{describe(f, row[f])} ({'raises' if c > 0 else 'lowers'} risk)"})
    return out


def changes_for(row: dict, limit: int = 5) -> list[dict]:
    """Recent behaviour worth telling an agent, from the row's model inputs."""
    out = []

    def add(feature: str, text: str) -> None:
        out.append({"kind": "change", "feature": feature, "label": BY_NAME[feature].label,
                    "value": _value(feature, row[feature]), "text": text})
    now, before = row["sessions_28d"] / 4, row["sessions_prev_28d"] / 4
    if before - now >= 0.5:
        add("velocity_change", f"Sessions fell from {before:.1f} to {now:.1f} a week (last 28 days vs the 28 before)")
    elif now - before >= 0.5:
        add("velocity_change", f"Sessions rose from {before:.1f} to {now:.1f} a week (last 28 days vs the 28 before)")
    if row["days_since_last_session"] >= 14:
        what = "No completed session in" if row["sessions_total"] > 0 else "No session since signing up,"
        add("days_since_last_session", f"{what} {row['days_since_last_session']:.0f} days")
    if row["calls_14d"] >= 1:
        add("calls_14d", f"{row['calls_14d']:.0f} support call(s) in the last 14 days")
    if row["bad_rating_7d"] >= 0.5:
        add("bad_rating_7d", "Rated a session 2 or lower in the last 7 days")
    if row["tutor_no_show_7d"] >= 0.5:
        add("tutor_no_show_7d", "Their tutor did not show up in the last 7 days")
    if row["tutor_switches_90d"] >= 1:
        add("tutor_switches_90d", f"Changed tutor {row['tutor_switches_90d']:.0f} time(s) in 90 days")
    if row["customer_reschedules_30d"] >= 1:
        add("customer_reschedules_30d", f"Rescheduled {row['customer_reschedules_30d']:.0f} session(s) in 30 days")
    if row["cancellations_30d"] >= 1:
        add("cancellations_30d", f"{row['cancellations_30d']:.0f} session(s) cancelled in 30 days")
    if row["goal_completed_30d"] >= 0.5:
        add("goal_completed_30d", "Completed their goal in the last 30 days")
    if row["upcoming_bookings"] == 0 and row["sessions_total"] > 0:
        add("upcoming_bookings", "Nothing booked for the next 14 days")
    return out[:limit]


def intervention_for(factors: list[dict]) -> str:
    for f in factors:
        if f["contribution"] >= MIN_ACTIONABLE and f["feature"] in INTERVENTIONS:
            return INTERVENTIONS[f["feature"]]
    return DEFAULT_INTERVENTION


def explain(model: ChurnModel, X: pd.DataFrame, top: int = 5) -> list[dict]:
    """Per row of X (FEATURES columns): {"factors": [...], "changes": [...], "intervention": str}."""
    if X.empty:
        return []
    weights = model.contributions(X[FEATURE_NAMES]).to_numpy()
    out = []
    for row, w in zip(X[FEATURE_NAMES].to_dict("records"), weights):
        factors = factors_for(row, w, top)
        out.append({"factors": factors, "changes": changes_for(row), "intervention": intervention_for(factors)})
    return out


def to_json(explanation: dict) -> str:
    """The stored form (churn_predictions.factors): factors then changes, one JSON list."""
    return json.dumps(explanation["factors"] + explanation["changes"], default=_plain)


def from_json(text: str | None) -> dict:
    """Stored factors JSON -> {"factors": [...], "changes": [...]}."""
    items = json.loads(text) if text else []
    return {"factors": [i for i in items if i.get("kind", "factor") == "factor"],
            "changes": [i for i in items if i.get("kind") == "change"]}


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    return str(value)
