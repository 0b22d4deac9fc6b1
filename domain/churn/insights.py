"""What the churn page shows besides the model: the customer funnel, risk by group, and whether
contacting at-risk customers changed what happened to them. Pure functions over DataFrames.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from domain.customers.triggers import _dt, as_timestamp

FUNNEL_STAGES = (("signed_up", "Signed up"), ("first_session", "First session"), ("three_sessions", "3 sessions"),
                 ("thirty_days", "Still here at 30 days"), ("goal", "Goal completed"))
RISK_BANDS = (0.10, 0.20, 0.40)  # at risk from 10 % (about twice the monthly churn rate)
MIN_COMPARE = 30  # contacted customers with a known outcome needed before the comparison means much


def funnel(customers: pd.DataFrame, completed: pd.Series, at: datetime, since_days: int = 180,
           min_age_days: int = 30) -> pd.DataFrame:
    """Where customers drop off, for those who signed up in (at - since_days, at - min_age_days] (each
    has had 30 days to get through the early stages). Stages are cumulative, each needs the ones
    before: signed up -> first completed session -> 3 completed sessions -> not churned within 30
    days of signup -> goal completed (by `at`).

    customers: contract columns customer_id, signup_date, churned_at, goal_status, goal_completed_at.
    completed: completed sessions started by `at`, indexed by customer_id.
    Output: stage, label, customers, share (of signups), step_share (of the stage before).
    """
    at = as_timestamp(at)
    signup = _dt(customers["signup_date"])
    cohort = (signup > at - timedelta(days=since_days)) & (signup <= at - timedelta(days=min_age_days))
    c = customers.loc[cohort]
    signup = signup[cohort]
    n = completed.reindex(c["customer_id"]).fillna(0).to_numpy()
    churned = _dt(c["churned_at"])
    stayed = (churned.isna() | (churned > signup + timedelta(days=30))).to_numpy()
    goal_at = _dt(c["goal_completed_at"]) if "goal_completed_at" in c else pd.Series(pd.NaT, index=c.index)
    goal = ((c["goal_status"] == "completed") & (goal_at.isna() | (goal_at <= at))).to_numpy()
    masks = [np.ones(len(c), dtype=bool), n >= 1, n >= 3, stayed, goal]
    counts, alive = [], np.ones(len(c), dtype=bool)
    for m in masks:
        alive = alive & m
        counts.append(int(alive.sum()))
    out = pd.DataFrame({"stage": [s for s, _ in FUNNEL_STAGES], "label": [lbl for _, lbl in FUNNEL_STAGES],
                        "customers": counts})
    first = max(counts[0], 1)
    out["share"] = out["customers"] / first
    out["step_share"] = out["customers"] / out["customers"].shift(1).fillna(counts[0]).clip(lower=1)
    return out


def risk_by(scores: pd.DataFrame, column: str, threshold: float) -> pd.DataFrame:
    """Mean predicted churn risk per value of `column` (scores: probability and that column).
    Output: group, customers, mean_probability, flagged (probability >= threshold), flagged_share,
    expected_churners (sum of probabilities), sorted by mean_probability descending."""
    df = scores.assign(_group=scores[column].fillna("unknown").astype(str),
                       _flag=scores["probability"] >= threshold)
    g = df.groupby("_group")
    out = pd.DataFrame({"customers": g.size(), "mean_probability": g["probability"].mean(),
                        "flagged": g["_flag"].sum().astype(int), "expected_churners": g["probability"].sum()})
    out["flagged_share"] = out["flagged"] / out["customers"]
    return out.reset_index(names="group").sort_values("mean_probability", ascending=False, ignore_index=True)


def band_of(p: np.ndarray, bands: tuple[float, ...] = RISK_BANDS) -> np.ndarray:
    """Risk band labels: '<10%', '10-20%', '20-40%', '40%+' for the default bands."""
    labels = np.array([f"<{bands[0]:.0%}"] + [f"{a:.0%}-{b:.0%}" for a, b in zip(bands[:-1], bands[1:])]
                      + [f"{bands[-1]:.0%}+"], dtype=object)
    return labels[np.searchsorted(np.asarray(bands), np.asarray(p, dtype=float), side="right")]


def intervention_effect(contacts: pd.DataFrame, history: pd.DataFrame, customers: pd.DataFrame, at: datetime,
                        horizon_days: int = 30, bands: tuple[float, ...] = RISK_BANDS,
                        min_compare: int = MIN_COMPARE) -> dict:
    """Churn of contacted at-risk customers vs similar uncontacted ones.

    contacts: customer_id, contacted_at (each customer's first contact in the period is used).
    history: customer_id, day, probability (churn_prediction_history: the risk each day).
    customers: customer_id, churned_at.
    A contact is matched to the customer's risk on the contact's day (the newest history day at or
    before it); at-risk = probability >= bands[0]. Its outcome is churn in (contact day, +horizon],
    known once that window has passed (`pending` otherwise). Controls: customers scored on the same
    day in the same band, not churned then and not contacted within horizon_days either side; their
    outcome is churn in (day, +horizon]. The expected churn of the contacted = control churn rate per
    band weighted by the contacted in each band (like-for-like on risk).
    Returns {bands: [{band, contacted, contacted_churned, contacted_rate, controls, controls_churned,
    control_rate}], contacted, contacted_rate, expected_rate, difference, pending, not_at_risk,
    unmatched, enough, note}.
    """
    at = as_timestamp(at)
    ns = "datetime64[ns]"  # one unit on both sides of the as-of merge (pandas keeps s/us/ns apart)
    h = history.assign(day=pd.to_datetime(history["day"]).astype(ns))
    churn = pd.Series(_dt(customers["churned_at"]).to_numpy(dtype=ns), index=customers["customer_id"])
    c = contacts.assign(contacted_at=_dt(contacts["contacted_at"]).astype(ns)).sort_values("contacted_at")
    c = c.drop_duplicates("customer_id")
    c = c.assign(day=c["contacted_at"].dt.normalize())
    matured = c["day"] + timedelta(days=horizon_days) <= at
    pending = int((~matured).sum())
    c = c.loc[matured]
    risk = pd.merge_asof(c.sort_values("day"), h.sort_values("day")[["customer_id", "day", "probability"]],
                         on="day", by="customer_id", direction="backward")
    unmatched = int(risk["probability"].isna().sum())
    risk = risk.dropna(subset=["probability"])
    at_risk = risk["probability"] >= bands[0]
    not_at_risk = int((~at_risk).sum())
    risk = risk.loc[at_risk]
    end = risk["day"] + timedelta(days=horizon_days)
    ch = churn.reindex(risk["customer_id"]).to_numpy()
    risk = risk.assign(band=band_of(risk["probability"].to_numpy(), bands),
                       churned=(pd.notna(ch) & (ch > risk["day"].to_numpy()) & (ch <= end.to_numpy())))
    # controls: same day, same band, never contacted within the horizon either side of that day
    days = risk["day"].unique()
    ctl = h.loc[h["day"].isin(days) & (h["probability"] >= bands[0])]
    all_contacts = contacts.assign(d=_dt(contacts["contacted_at"]).astype(ns).dt.normalize())
    near = all_contacts.merge(pd.DataFrame({"day": days}), how="cross")
    near = near.loc[(near["d"] - near["day"]).abs() <= timedelta(days=horizon_days), ["customer_id", "day"]]
    ctl = ctl.merge(near.drop_duplicates().assign(_near=True), on=["customer_id", "day"], how="left")
    ctl = ctl.loc[ctl["_near"].isna()]
    cch = churn.reindex(ctl["customer_id"]).to_numpy()
    alive = pd.isna(cch) | (cch > ctl["day"].to_numpy())
    ctl = ctl.loc[alive].assign(band=band_of(ctl.loc[alive, "probability"].to_numpy(), bands))
    cch = churn.reindex(ctl["customer_id"]).to_numpy()
    ctl = ctl.assign(churned=pd.notna(cch) & (cch <= (ctl["day"] + timedelta(days=horizon_days)).to_numpy()))
    rows = []
    for band in band_of(np.array(bands), bands):
        a, b = risk.loc[risk["band"] == band], ctl.loc[ctl["band"] == band]
        rows.append({"band": band, "contacted": len(a), "contacted_churned": int(a["churned"].sum()),
                     "contacted_rate": float(a["churned"].mean()) if len(a) else None,
                     "controls": len(b), "controls_churned": int(b["churned"].sum()),
                     "control_rate": float(b["churned"].mean()) if len(b) else None})
    n = len(risk)
    weighted = [(r["contacted"], r["control_rate"]) for r in rows if r["contacted"] and r["control_rate"] is not None]
    expected = sum(w * r for w, r in weighted) / sum(w for w, _ in weighted) if weighted else None
    rate = float(risk["churned"].mean()) if n else None
    enough = n >= min_compare and expected is not None
    note = (f"{n} contacted at-risk customers with a known 30-day outcome, compared with uncontacted customers of "
            "the same risk band on the same day" if enough else
            f"Too few to compare: {n} contacted at-risk customers with a known outcome (at least {min_compare} "
            "needed); the numbers below are for information only")
    return {"bands": rows, "contacted": n, "contacted_rate": rate, "expected_rate": expected,
            "difference": (rate - expected) if enough and rate is not None else None, "pending": pending,
            "not_at_risk": not_at_risk, "unmatched": unmatched, "enough": bool(enough), "note": note}
