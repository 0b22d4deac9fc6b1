"""Read side of churn prediction for the churn page and the API (no Dash, no Flask).

Everything reads what the churn jobs stored (churn_models, churn_predictions, churn_prediction_history)
joined with health_scores (subject, tutor consistency, velocity), customers and contact_log; grouping
and the comparisons are the pure functions of domain.churn.insights. Reads built on predictions are
cached on the `churn` data version, the funnel on the store's.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import and_, case, func, select
from sqlalchemy.engine import Engine

from models.derived import ChurnModelRecord, ChurnPrediction, ChurnPredictionHistory, ContactLog, HealthScore
from models.frames import read_frame
from models.source import Customer, TutorSession
from read.cache import cached_read
from domain.churn.explain import from_json
from domain.churn.insights import RISK_BANDS, funnel, intervention_effect, risk_by
from infra.clock import utcnow

TOPIC = "churn"
VELOCITY_EDGES = (0, 1, 2, 3)
DIMENSIONS = {"acquisition_channel": "Acquisition channel", "primary_subject": "Subject",
              "tutor_consistency": "Tutor consistency", "velocity_segment": "Velocity (sessions/week)",
              "segment": "Segment"}
_M = ChurnModelRecord.__table__


def _card(row) -> dict:
    metrics = json.loads(row.metrics) if row.metrics else {}
    return {"version": int(row.version), "trained_at": row.trained_at, "kind": row.kind,
            "train_start": row.train_start, "train_end": row.train_end, "threshold": float(row.threshold),
            "active": bool(row.active), "metrics": metrics}


@cached_read(topic=TOPIC)
def model_card(engine: Engine) -> dict | None:
    """The active model: version, trained_at, kind, training window, threshold and its metrics JSON
    (holdout precision/recall/AUC/Brier/ECE, calibration bins, top features, both candidates)."""
    cols = [c for c in _M.c if c.name != "model_blob"]
    with engine.connect() as conn:
        row = conn.execute(select(*cols).where(_M.c.active.is_(True)).order_by(_M.c.version.desc()).limit(1)).first()
    return _card(row) if row is not None else None


@cached_read(topic=TOPIC)
def model_versions(engine: Engine, limit: int = 20) -> list[dict]:
    """Recent models, newest first: version, trained_at, kind, active, holdout AUC / precision / recall."""
    with engine.connect() as conn:
        rows = conn.execute(select(_M.c.version, _M.c.trained_at, _M.c.kind, _M.c.active, _M.c.metrics)
                            .order_by(_M.c.version.desc()).limit(limit)).all()
    out = []
    for r in rows:
        hold = json.loads(r.metrics).get("holdout", {}) if r.metrics else {}
        out.append({"version": r.version, "trained_at": r.trained_at, "kind": r.kind, "active": bool(r.active),
                    **{k: hold.get(k) for k in ("auc", "precision", "recall")}})
    return out


def _velocity_segment(v: pd.Series) -> np.ndarray:
    labels = np.array(["0", "<1", "1-2", "2-3", "3+"], dtype=object)
    x = pd.to_numeric(v, errors="coerce").to_numpy()
    idx = np.where(np.isnan(x), -1, np.where(x <= 0, 0, 1 + np.searchsorted([1, 2, 3], x, side="right")))
    return np.where(idx < 0, "unknown", labels[np.maximum(idx, 0)])


def _consistency_band(score: pd.Series) -> np.ndarray:
    x = pd.to_numeric(score, errors="coerce").to_numpy()
    return np.select([np.isnan(x), x >= 100, x >= 80, x >= 50], ["unknown", "100% one tutor", "80-99%", "50-79%"],
                     "<50%").astype(object)


@cached_read(topic=TOPIC)
def scored(engine: Engine) -> pd.DataFrame:
    """Every current prediction with the groups the page compares: customer_id, probability, predicted,
    intervention, clv, revenue_at_risk, segment, acquisition_channel, primary_subject, tutor_consistency
    (band of the health score's component), velocity_segment (health velocity, sessions/week), health_score, tier."""
    p, h, c = ChurnPrediction, HealthScore, Customer
    with engine.connect() as conn:
        df = read_frame(conn, select(p.customer_id, p.probability, p.predicted, p.intervention, p.clv,
                                     p.revenue_at_risk, c.segment,
                                     c.acquisition_channel, h.primary_subject, h.tutor_consistency_score, h.velocity,
                                     h.score.label("health_score"), h.tier)
                        .outerjoin(c, c.customer_id == p.customer_id).outerjoin(h, h.customer_id == p.customer_id))
    df["tutor_consistency"] = _consistency_band(df["tutor_consistency_score"])
    df["velocity_segment"] = _velocity_segment(df["velocity"])
    return df


def risk_groups(engine: Engine, dimension: str) -> pd.DataFrame:
    """risk_by (domain.churn.insights) of the current predictions for one of DIMENSIONS."""
    if dimension not in DIMENSIONS:
        raise ValueError(f"dimension must be one of {', '.join(DIMENSIONS)}, not {dimension!r}")
    card = model_card(engine)
    df = scored(engine)
    if card is None or df.empty:
        return pd.DataFrame(columns=["group", "customers", "mean_probability", "flagged", "flagged_share",
                                     "expected_churners"])
    return risk_by(df, dimension, card["threshold"])


SORTS = {"revenue_at_risk": "Revenue at risk (probability x 12-month value), largest first",
         "probability": "Churn probability, highest first", "clv": "12-month value, largest first"}


def _money(value) -> float | None:
    return None if value is None else float(value)


def top_risk(engine: Engine, limit: int = 100, offset: int = 0, min_probability: float = 0.0,
             sort: str = "probability") -> tuple[int, list[dict]]:
    """(total, rows) of current predictions with probability >= min_probability, ordered by `sort` (SORTS):
    customer_id, probability, predicted, predicted_at, model_version, intervention, clv, revenue_at_risk,
    sessions_per_month, factors, changes."""
    if sort not in SORTS:
        raise ValueError(f"sort must be one of {', '.join(SORTS)}, not {sort!r}")
    p = ChurnPrediction
    where = p.probability >= min_probability
    key = getattr(p, sort)
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(p).where(where)).scalar() or 0
        rows = conn.execute(select(p.customer_id, p.probability, p.predicted, p.predicted_at, p.model_version,
                                   p.intervention, p.clv, p.revenue_at_risk, p.sessions_per_month, p.factors)
                            .where(where).order_by(key.desc().nulls_last(), p.customer_id)
                            .limit(limit).offset(offset)).all()
    out = []
    for r in rows:
        parts = from_json(r.factors)
        out.append({"customer_id": r.customer_id, "probability": float(r.probability), "predicted": bool(r.predicted),
                    "predicted_at": r.predicted_at, "model_version": int(r.model_version),
                    "intervention": r.intervention, "clv": _money(r.clv), "revenue_at_risk": _money(r.revenue_at_risk),
                    "sessions_per_month": _money(r.sessions_per_month),
                    "factors": parts["factors"], "changes": parts["changes"]})
    return int(total), out


@cached_read(topic=TOPIC)
def revenue_at_risk_summary(engine: Engine, top: int = 50) -> dict:
    """Totals behind the worklist: customers, total revenue_at_risk and clv, and the share of all revenue at
    risk the `top` customers with the most of it hold."""
    p = ChurnPrediction
    with engine.connect() as conn:
        n, total, clv = conn.execute(select(func.count(), func.sum(p.revenue_at_risk), func.sum(p.clv))).one()
        best = select(p.revenue_at_risk).order_by(p.revenue_at_risk.desc().nulls_last()).limit(top).subquery()
        top_sum = conn.execute(select(func.sum(func.coalesce(best.c.revenue_at_risk, 0.0)))).scalar()
    total = float(total or 0.0)
    return {"customers": int(n or 0), "top": top, "revenue_at_risk": total, "clv": float(clv or 0.0),
            "top_revenue_at_risk": float(top_sum or 0.0),
            "top_share": float(top_sum or 0.0) / total if total > 0 else 0.0}


def customer_prediction(engine: Engine, customer_id: str) -> dict | None:
    """One customer's current prediction: probability, predicted, intervention, clv, revenue_at_risk,
    sessions_per_month, factors, changes."""
    p = ChurnPrediction
    with engine.connect() as conn:
        r = conn.execute(select(p.probability, p.predicted, p.predicted_at, p.model_version, p.intervention,
                                p.clv, p.revenue_at_risk, p.sessions_per_month, p.factors)
                         .where(p.customer_id == customer_id)).first()
    if r is None:
        return None
    return {"customer_id": customer_id, "probability": float(r.probability), "predicted": bool(r.predicted),
            "predicted_at": r.predicted_at, "model_version": int(r.model_version), "intervention": r.intervention,
            "clv": _money(r.clv), "revenue_at_risk": _money(r.revenue_at_risk),
            "sessions_per_month": _money(r.sessions_per_month), **from_json(r.factors)}


@cached_read(topic=TOPIC)
def trend(engine: Engine, days: int = 90) -> pd.DataFrame:
    """Daily risk over the last `days` days of history: day, customers, mean_probability, flagged (probability
    >= the threshold of the model that scored that day), model_version (the day's newest)."""
    hst = ChurnPredictionHistory
    since = (utcnow() - timedelta(days=days)).date()
    with engine.connect() as conn:
        df = read_frame(conn, select(hst.day, hst.model_version, func.count().label("customers"),
                                     func.avg(hst.probability).label("mean_probability"))
                        .where(hst.day >= since).group_by(hst.day, hst.model_version), parse_dates=["day"])
        thresholds = dict(conn.execute(select(_M.c.version, _M.c.threshold)).all())
        flagged = []
        for version, threshold in thresholds.items():
            flagged.append(read_frame(conn, select(hst.day, func.count().label("flagged"))
                                      .where(hst.day >= since, hst.model_version == version,
                                             hst.probability >= threshold).group_by(hst.day), parse_dates=["day"]))
    if df.empty:
        return pd.DataFrame(columns=["day", "customers", "mean_probability", "flagged", "model_version"])
    df["weighted"] = df["mean_probability"] * df["customers"]
    out = df.groupby("day").agg(customers=("customers", "sum"), weighted=("weighted", "sum"),
                                model_version=("model_version", "max")).reset_index()
    out["mean_probability"] = out["weighted"] / out["customers"]
    flags = pd.concat(flagged).groupby("day")["flagged"].sum() if flagged else pd.Series(dtype=int)
    out["flagged"] = out["day"].map(flags).fillna(0).astype(int)
    return out[["day", "customers", "mean_probability", "flagged", "model_version"]]


@cached_read
def customer_funnel(engine: Engine, at: datetime | None = None) -> pd.DataFrame:
    """domain.churn.insights.funnel over the store as of `at` (default now)."""
    at = at or utcnow()
    c, s = Customer, TutorSession
    with engine.connect() as conn:
        customers = read_frame(conn, select(c.customer_id, c.signup_date, c.churned_at, c.goal_status,
                                            c.goal_completed_at).where(c.signup_date > at - timedelta(days=181)),
                               parse_dates=["signup_date", "churned_at", "goal_completed_at"])
        done = read_frame(conn, select(s.customer_id, func.count().label("n"))
                          .where(s.status == "completed", s.start_time <= at,
                                 s.customer_id.in_(select(c.customer_id).where(c.signup_date > at - timedelta(days=181))))
                          .group_by(s.customer_id))
    return funnel(customers, done.set_index("customer_id")["n"], at)


@cached_read(topic=TOPIC)
def segment_comparison(engine: Engine, at: datetime | None = None) -> pd.DataFrame:
    """Per segment: customers scored, mean predicted risk, flagged share, and what happened in the last 30
    days (churned_30d / customers active 30 days ago = actual_churn_30d) and contacts in 30 days."""
    at = at or utcnow()
    card = model_card(engine)
    df = scored(engine)
    if card is None or df.empty:
        return pd.DataFrame()
    out = risk_by(df, "segment", card["threshold"]).rename(columns={"group": "segment"})
    start = at - timedelta(days=30)
    c = Customer
    with engine.connect() as conn:
        then = read_frame(conn, select(c.segment, func.count().label("at_start"),
                                       func.sum(case((and_(c.churned_at > start, c.churned_at <= at), 1), else_=0))
                                       .label("churned"))
                          .where(c.signup_date <= start, (c.churned_at.is_(None)) | (c.churned_at > start))
                          .group_by(c.segment))
        contacts = read_frame(conn, select(c.segment, func.count(func.distinct(ContactLog.customer_id)).label("contacted"))
                              .join(c, c.customer_id == ContactLog.customer_id)
                              .where(ContactLog.contacted_at > start).group_by(c.segment))
    out = out.merge(then, on="segment", how="left").merge(contacts, on="segment", how="left")
    out["churned"] = pd.to_numeric(out["churned"], errors="coerce").fillna(0).astype(int)
    out["actual_churn_30d"] = out["churned"] / out["at_start"].where(out["at_start"] > 0)
    out["contacted"] = out["contacted"].fillna(0).astype(int)
    return out


@cached_read(topic=TOPIC)
def interventions(engine: Engine, at: datetime | None = None, period_days: int = 180) -> dict:
    """domain.churn.insights.intervention_effect for contacts in the last `period_days` days."""
    at = at or utcnow()
    since = at - timedelta(days=period_days)
    hst, cl = ChurnPredictionHistory, ContactLog
    with engine.connect() as conn:
        contacts = read_frame(conn, select(cl.customer_id, cl.contacted_at).where(cl.contacted_at > since,
                                                                                  cl.contacted_at <= at),
                              parse_dates=["contacted_at"])
        if contacts.empty:
            return intervention_effect(contacts, pd.DataFrame(columns=["customer_id", "day", "probability"]),
                                       pd.DataFrame(columns=["customer_id", "churned_at"]), at)
        days = sorted({d.date() for d in contacts["contacted_at"].dt.normalize()})
        ids = contacts["customer_id"].unique().tolist()
        # the contacted customers' risk (newest day at or before each contact) and, as controls, every
        # at-risk customer on the contact days
        own = read_frame(conn, select(hst.customer_id, hst.day, hst.probability).where(
            hst.customer_id.in_(ids), hst.day >= min(days) - timedelta(days=7), hst.day <= at.date()), parse_dates=["day"])
        others = read_frame(conn, select(hst.customer_id, hst.day, hst.probability).where(
            hst.day.in_(days), hst.probability >= RISK_BANDS[0]), parse_dates=["day"])
        history = pd.concat([own, others]).drop_duplicates(["customer_id", "day"])
        customers = read_frame(conn, select(Customer.customer_id, Customer.churned_at).where(
            Customer.churned_at.is_not(None)), parse_dates=["churned_at"])
    return intervention_effect(contacts, history, customers, at)
