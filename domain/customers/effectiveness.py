"""Does outreach work? Contacted customers against comparable customers not (yet) contacted.

Matching: on the day of a customer's first contact in the window, each contacted customer is put in a
stratum (health score band of BAND points, the set of triggers open that day); the comparison group
is every customer of the same stratum that day who had no contact before the outcome window ended.
Outcomes over the OUTCOME_DAYS after that day: churned (churned_at inside the window) and session
velocity (completed sessions per week). The effect is the treated-weighted difference of stratum
means (contacted minus comparable), with a normal 95 % interval from the strata's variances.
Only contacts whose outcome window has ended count. Observational: a difference is a hint, not proof.
"""
from __future__ import annotations

import math
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

BAND = 10.0
OUTCOME_DAYS = 30
Z95 = 1.959964
EFFECT_COLUMNS = ["group", "value", "contacted", "comparable", "unmatched", "churn_contacted", "churn_comparable",
                  "churn_diff", "churn_low", "churn_high", "velocity_contacted", "velocity_comparable",
                  "velocity_diff", "velocity_low", "velocity_high"]


def _stratum(day_rows: pd.DataFrame, tasks: pd.DataFrame, day: pd.Timestamp) -> pd.Series:
    """customer_id -> "band|trigger,trigger" on `day` (day_rows: customer_id, score of that day)."""
    opened = pd.to_datetime(tasks["opened_at"])
    done = pd.to_datetime(tasks["done_at"])
    on = tasks[(opened < day + pd.Timedelta(days=1)) & (done.isna() | (done >= day))]
    trig = on.groupby("customer_id")["trigger"].agg(lambda s: ",".join(sorted(set(s))))
    band = np.floor(day_rows["score"].astype(float) / BAND).astype(int).astype(str)
    key = band.to_numpy() + "|" + day_rows["customer_id"].map(trig).fillna("").to_numpy()
    return pd.Series(key, index=day_rows["customer_id"].to_numpy())


def _outcomes(ids: pd.Index, day: pd.Timestamp, churned_at: pd.Series, sessions: pd.DataFrame) -> pd.DataFrame:
    end = day + pd.Timedelta(days=OUTCOME_DAYS)
    churn = churned_at.reindex(ids)
    churned = (churn.notna() & (churn > day) & (churn <= end)).astype(float)
    s = sessions[(sessions["start_time"] > day) & (sessions["start_time"] <= end)]
    per = s.groupby("customer_id").size().reindex(ids, fill_value=0) / (OUTCOME_DAYS / 7)
    return pd.DataFrame({"churned": churned.to_numpy(), "velocity": per.to_numpy(dtype=float)}, index=ids)


def matched_pairs(contacts: pd.DataFrame, history: pd.DataFrame, tasks: pd.DataFrame, customers: pd.DataFrame,
                  sessions: pd.DataFrame, at: datetime) -> pd.DataFrame:
    """One row per (contacted customer, its comparison group) with outcomes.

    contacts: customer_id, contacted_at, channel, outcome, user_email; history: customer_id, day, score;
    tasks: customer_id, trigger, opened_at, done_at; customers: customer_id, churned_at; sessions:
    customer_id, start_time (completed only). Returns customer_id, channel, outcome, user_email, stratum,
    churned, velocity (contacted) and c_n, c_churn_mean, c_churn_var, c_vel_mean, c_vel_var (comparable)."""
    cols = ["customer_id", "channel", "outcome", "user_email", "stratum", "churned", "velocity",
            "c_n", "c_churn_mean", "c_churn_var", "c_vel_mean", "c_vel_var"]
    if contacts.empty or history.empty:
        return pd.DataFrame(columns=cols)
    c = contacts.assign(contacted_at=pd.to_datetime(contacts["contacted_at"])).sort_values("contacted_at")
    first = c.drop_duplicates("customer_id").assign(day=lambda d: d["contacted_at"].dt.normalize())
    first = first[first["day"] + pd.Timedelta(days=OUTCOME_DAYS) <= pd.Timestamp(at)]
    last_contact = c.groupby("customer_id")["contacted_at"].min()
    history = history.assign(day=pd.to_datetime(history["day"]))
    churned_at = pd.to_datetime(customers.set_index("customer_id")["churned_at"])
    sessions = sessions.assign(start_time=pd.to_datetime(sessions["start_time"]))
    out = []
    for day, group in first.groupby("day"):
        rows = history[history["day"] == day]
        if rows.empty:
            continue
        strata = _stratum(rows, tasks, day)
        end = day + pd.Timedelta(days=OUTCOME_DAYS)
        contacted_by_end = set(last_contact[last_contact <= end].index)
        pool = strata[~strata.index.isin(contacted_by_end)]
        pool_out = _outcomes(pool.index, day, churned_at, sessions).assign(stratum=pool.to_numpy())
        stats = pool_out.groupby("stratum").agg(c_n=("churned", "size"), c_churn_mean=("churned", "mean"),
                                                c_churn_var=("churned", "var"), c_vel_mean=("velocity", "mean"),
                                                c_vel_var=("velocity", "var"))
        treated = group[group["customer_id"].isin(strata.index)]
        t_out = _outcomes(pd.Index(treated["customer_id"]), day, churned_at, sessions)
        t = treated.assign(stratum=treated["customer_id"].map(strata).to_numpy(),
                           churned=t_out["churned"].to_numpy(), velocity=t_out["velocity"].to_numpy())
        out.append(t.join(stats, on="stratum")[cols])
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=cols)


def _effect(pairs: pd.DataFrame, outcome: str, c_mean: str, c_var: str) -> tuple[float, float, float, float, float]:
    """(contacted mean, comparable mean, difference, low, high) over matched strata, treated-weighted."""
    by = pairs.groupby("stratum").agg(n=(outcome, "size"), t_mean=(outcome, "mean"), t_var=(outcome, "var"),
                                      c_n=("c_n", "first"), c_mean=(c_mean, "first"), c_var=(c_var, "first"))
    w = by["n"] / by["n"].sum()
    t_mean, c_mean_all = float((w * by["t_mean"]).sum()), float((w * by["c_mean"]).sum())
    diff = t_mean - c_mean_all
    var = float((w ** 2 * (by["t_var"].fillna(0) / by["n"] + by["c_var"].fillna(0) / by["c_n"])).sum())
    half = Z95 * math.sqrt(max(var, 0.0))
    return t_mean, c_mean_all, diff, diff - half, diff + half


def summarize(pairs: pd.DataFrame, by: tuple[str, ...] = ("channel", "outcome")) -> pd.DataFrame:
    """EFFECT_COLUMNS: one row for all contacts, then one per value of each `by` column."""
    rows = []
    groups = [("all", "all", pairs)] + [(col, v, g) for col in by for v, g in pairs.groupby(col)] if len(pairs) else []
    for col, value, g in groups:
        matched = g[g["c_n"].fillna(0) > 0]
        if matched.empty:
            rows.append({"group": col, "value": value, "contacted": 0, "comparable": 0, "unmatched": len(g)})
            continue
        churn = _effect(matched, "churned", "c_churn_mean", "c_churn_var")
        vel = _effect(matched, "velocity", "c_vel_mean", "c_vel_var")
        rows.append({"group": col, "value": value, "contacted": len(matched),
                     "comparable": int(matched.drop_duplicates("stratum")["c_n"].sum()),
                     "unmatched": len(g) - len(matched),
                     **dict(zip(EFFECT_COLUMNS[5:10], churn)), **dict(zip(EFFECT_COLUMNS[10:], vel))})
    return pd.DataFrame(rows, columns=EFFECT_COLUMNS)


def window_start(at: datetime, days: int = 120) -> datetime:
    return at - timedelta(days=days)
