"""The churn jobs: `train-churn` (weekly) fits and stores a model; `churn` (daily) scores customers with it.

train (as of ``ctx.at``):
1. loads customers, sessions, bookings and inbound calls known at ``at`` (contract columns);
2. ``domain.churn.train_churn``: every weekly snapshot whose 30-day outcome is known (rolling origin),
   calibrated on the latest ones, refitted on all of them; the same recipe run one horizon back scores
   the holdout week, next to two baselines (the model card's numbers);
3. stores a ``churn_models`` row (joblib blob, kind, threshold, training window, metrics JSON) as the
   only active one, then runs ``predict`` so pages show the new model at once.
From ~51 days of history (fewer inputs below ~128 days: the card says so); with less it returns
``{"skipped": why}`` and keeps the current model. Every run trains a new version.

predict (as of ``ctx.at``):
1. the active model scores every customer eligible at ``at`` (signed up, not churned);
2. replaces ``churn_predictions`` (probability, predicted = probability >= threshold, factors JSON =
   top factors + recent changes and intervention for the customers worth explaining (the 20,000 with the most
   revenue at risk and the 20,000 riskiest; everyone in a store under 40,000), and domain.churn.value's sessions_per_month, clv = expected
   revenue over 12 months and revenue_at_risk = probability x clv), upserts today's ``churn_prediction_history`` row per
   customer (kept ``HISTORY_DAYS``) and fills ``health_scores.churn_probability`` for the same
   customers (set-based statements from a staged copy);
3. bumps the data version topic ``churn``.

It raises no alerts: at the operating point the model flags ~1 in 5 customers with a precision around
0.1-0.2 (see the model card), which is a work list for CS agents (the churn page and the API sort by
risk), not something to email; the health job's triggers already alert on the concrete situations.

"Retrain now" on the churn page starts ``train-churn`` through workers/door.py; its progress goes to the
run's job_runs row (infra/progress.py).
"""
from __future__ import annotations

import io
import json
import time
from datetime import datetime, timedelta

import joblib
import numpy as np
import pandas as pd
from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.engine import Connection, Engine

from models.derived import ChurnModelRecord, ChurnPrediction, ChurnPredictionHistory, HealthScore
from models.bulk import read_compact, staged, text_times, upsert_staged
from models.frames import replace_frame
from models.source import Booking, Customer, InboundCall, TutorSession
from domain.churn import ChurnConfig, History, NotEnoughHistory, train_churn
from domain.churn.explain import explain, to_json
from domain.churn.features import FEATURE_NAMES, features_at
from domain.churn.value import lifetime_value
from infra.progress import report
from jobs.context import JobContext
from infra.versions import bump_version

TOPIC = "churn"
HISTORY_DAYS = 400
EXPLAIN_TOP = 20_000


# --- loading ---------------------------------------------------------------------------------------

def load_frames(engine: Engine, at: datetime, recent_only: bool = False) -> dict[str, pd.DataFrame]:
    """Contract frames as known at ``at`` (rows dated after it are not read; see domain.churn.features for
    how present-state columns are cut). recent_only: just what scoring at ``at`` needs (sessions of the
    last 120 days plus every customer's first session, calls of 90 days, bookings touched in 31 days or
    still ahead) instead of the whole history training needs. Read a chunk at a time into categorical,
    float32 and datetime64 columns (models.bulk.read_compact): 500,000 customers' half-year is ~5 million
    sessions."""
    c, s, b, k = Customer, TutorSession, Booking, InboundCall
    with engine.connect() as conn:
        customers = read_compact(conn, select(c.customer_id, c.acquisition_channel, c.segment, c.goal_status, c.status,
                                       *text_times(conn, [c.signup_date, c.goal_completed_at, c.churned_at])),
                          ["signup_date", "goal_completed_at", "churned_at"])
        where = [s.start_time <= at]
        if recent_only:
            where.append(or_(s.start_time > at - timedelta(days=120), s.session_id.in_(_first_sessions(at))))
        # price: the contract's optional column, read when the store has it (else revenue_per_session stands in)
        price = [s.price] if hasattr(s, "price") else []
        sessions = read_compact(conn, select(s.customer_id, s.tutor_id, s.rating, s.status, *price,
                                      *text_times(conn, [s.start_time, s.updated_at])).where(*where),
                         ["start_time", "updated_at"], ["rating", "price"])
        bwhere = [b.created_at <= at]
        if recent_only:
            bwhere.append(or_(b.scheduled_time > at, b.updated_at > at - timedelta(days=31)))
        bookings = read_compact(conn, select(b.customer_id, b.status, b.rescheduled_by,
                                      *text_times(conn, [b.scheduled_time, b.created_at, b.updated_at])).where(*bwhere),
                         ["scheduled_time", "created_at", "updated_at"])
        kwhere = [k.call_date <= at] + ([k.call_date > at - timedelta(days=91)] if recent_only else [])
        calls = read_compact(conn, select(k.customer_id, *text_times(conn, [k.call_date])).where(*kwhere), ["call_date"])
    return {"customers": customers, "sessions": sessions, "bookings": bookings, "inbound_calls": calls}


def _first_sessions(at: datetime):
    """session_ids of each customer's earliest completed / no-show session started by ``at``."""
    s = TutorSession
    counted = s.status.in_(["completed", "no_show"])
    first = (select(s.customer_id, func.min(s.start_time).label("t")).where(counted, s.start_time <= at)
             .group_by(s.customer_id).subquery())
    return (select(s.session_id).join(first, and_(first.c.customer_id == s.customer_id, first.c.t == s.start_time))
            .where(counted))


# --- the model in the store ------------------------------------------------------------------------------

def dump_model(model) -> bytes:
    buf = io.BytesIO()
    joblib.dump(model, buf, compress=3)
    return buf.getvalue()


def load_model(blob: bytes):
    return joblib.load(io.BytesIO(blob))


def active_record(engine: Engine) -> ChurnModelRecord | None:
    t = ChurnModelRecord.__table__
    with engine.connect() as conn:
        return conn.execute(select(t).where(t.c.active.is_(True)).order_by(t.c.version.desc()).limit(1)).first()


# --- jobs ---------------------------------------------------------------------------------------------------

def train(ctx: JobContext) -> dict:
    def progress(step: str, fraction: float) -> None:  # domain.churn.training reports (step, fraction)
        report(fraction, step)
    started = time.perf_counter()
    progress("loading history", 0.02)
    frames = load_frames(ctx.engine, ctx.at)
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    try:
        result = train_churn(History(frames), ctx.at, ChurnConfig(),
                             progress=lambda step, f: progress(step, 0.05 + 0.8 * f))
    except NotEnoughHistory as exc:  # a young store: nothing to fix, the model comes once history does
        return {"skipped": str(exc)}
    train_s = time.perf_counter() - started
    result.metrics["timings"] = {"load_s": round(load_s, 2), "train_s": round(train_s, 2)}
    t = ChurnModelRecord.__table__
    with ctx.engine.begin() as conn:
        conn.execute(update(t).where(t.c.active.is_(True)).values(active=False))
        version = conn.execute(t.insert().values(
            trained_at=ctx.at, kind=result.kind, train_start=result.train_start, train_end=result.train_end,
            threshold=result.threshold, metrics=json.dumps(result.metrics, default=_json_default),
            model_blob=dump_model(result.model), active=True)).inserted_primary_key[0]
        bump_version(conn, TOPIC)
    progress("scoring customers", 0.9)
    scored = predict(ctx, frames=frames)
    progress("done", 1.0)
    hold = result.metrics["holdout"]
    return {"version": int(version), "kind": result.kind, "threshold": round(result.threshold, 4),
            "evaluated_on": result.metrics["evaluated_on"], "short_history": result.metrics["short_history"],
            "holdout": {k: _round(hold.get(k)) for k in ("auc", "precision", "recall", "brier", "ece")},
            "train_start": result.train_start.isoformat(), "train_end": result.train_end.isoformat(),
            "timings": result.metrics["timings"], "scored": scored.get("scored", 0)}


def predict(ctx: JobContext, frames: dict[str, pd.DataFrame] | None = None) -> dict:
    record = active_record(ctx.engine)
    if record is None:
        return {"skipped": "no trained churn model yet: run `python manage.py run-jobs train-churn`"}
    started = time.perf_counter()
    model = load_model(record.model_blob)
    frames = frames or load_frames(ctx.engine, ctx.at, recent_only=True)
    h = History(frames)
    at_ns = pd.Timestamp(ctx.at).value
    X = features_at(h, at_ns)
    p = model.predict_proba(X[FEATURE_NAMES])[:, 1] if len(X) else np.zeros(0)
    value = lifetime_value(h, at_ns, p, ctx.settings.revenue_per_session)
    explained = worth_explaining(p, value["revenue_at_risk"].to_numpy(float))
    explanations = [None] * len(X)
    for i, e in zip(explained, explain(model, X.iloc[explained])):
        explanations[i] = e
    out = pd.DataFrame({
        "customer_id": X["customer_id"].to_numpy(dtype=object), "model_version": int(record.version),
        "predicted_at": ctx.at, "probability": p.astype(float), "predicted": p >= record.threshold,
        "factors": [to_json(e) if e else "[]" for e in explanations],
        "intervention": [e["intervention"][:255] if e else None for e in explanations],
        "sessions_per_month": value["sessions_per_month"].to_numpy(float),
        "clv": value["clv"].to_numpy(float), "revenue_at_risk": value["revenue_at_risk"].to_numpy(float),
    })
    replace_frame(ctx.engine, ChurnPrediction.__table__, out)
    day = pd.Timestamp(ctx.at).date()
    with ctx.engine.begin() as conn:
        history = write_history(conn, out, day)
        conn.execute(delete(ChurnPredictionHistory).where(ChurnPredictionHistory.day < day - timedelta(days=HISTORY_DAYS)))
        filled = fill_health_scores(conn, out)
        bump_version(conn, TOPIC)
    return {"at": ctx.at.isoformat(), "model_version": int(record.version), "scored": len(out),
            "flagged": int(out["predicted"].sum()), "history_rows": history, "health_scores_filled": filled,
            "mean_probability": _round(float(p.mean()) if len(p) else None),
            "revenue_at_risk": _round(float(out["revenue_at_risk"].sum()), 2), "explained": len(explained),
            "seconds": round(time.perf_counter() - started, 2)}


def worth_explaining(probability: np.ndarray, revenue_at_risk: np.ndarray) -> np.ndarray:
    """Positions of the customers CS may act on: the EXPLAIN_TOP with the most revenue at risk and the
    EXPLAIN_TOP riskiest (everyone below 2 x EXPLAIN_TOP customers). Explaining a boosted model costs a
    prediction per input per customer: ~130 s of CPU for 500,000 customers (benchmarks/churn_scale.py),
    past the daily job's 2-minute budget, for rows no one reads."""
    n = len(probability)
    if n <= 2 * EXPLAIN_TOP:
        return np.arange(n)
    top = lambda v: np.argpartition(-np.nan_to_num(v, nan=-1.0), EXPLAIN_TOP)[:EXPLAIN_TOP]  # noqa: E731
    return np.union1d(top(revenue_at_risk), top(probability))


def write_history(conn: Connection, predictions: pd.DataFrame, day) -> int:
    """Upsert (customer_id, day) -> probability, model_version: the day's last run wins. One set-based
    statement from a staged copy (models.bulk.upsert_staged): 500,000 rows in seconds, not one per row."""
    if predictions.empty:
        return 0
    rows = pd.DataFrame({"customer_id": predictions["customer_id"], "day": pd.Timestamp(day),
                         "probability": predictions["probability"].astype(float),
                         "model_version": predictions["model_version"].astype(int)})
    return upsert_staged(conn, ChurnPredictionHistory.__table__, rows, ["customer_id", "day"])


def fill_health_scores(conn: Connection, predictions: pd.DataFrame) -> int:
    """health_scores.churn_probability for the scored customers (rows the health job has not written yet
    are left to it: it carries the column over when it replaces the table). One UPDATE ... FROM a staged copy."""
    if predictions.empty:
        return 0
    t = HealthScore.__table__
    rows = pd.DataFrame({"customer_id": predictions["customer_id"],
                         "churn_probability": predictions["probability"].astype(float)})
    with staged(conn, t, list(rows.columns), rows) as stage:
        filled = conn.execute(update(t).where(t.c.customer_id == stage.c.customer_id)
                              .values(churn_probability=stage.c.churn_probability)).rowcount
    return max(filled or 0, 0)


def _round(value, digits: int = 4):
    return None if value is None or value != value else round(float(value), digits)


def _json_default(value):
    if isinstance(value, (np.generic,)):
        return value.item()
    if isinstance(value, (pd.Timestamp, datetime)):
        return value.isoformat()
    return str(value)
