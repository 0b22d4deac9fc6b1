"""Churn-risk history for past days: churn_prediction_history rows as the daily churn job would have written them
then, with no look into the future.

The past days are cut into blocks of BLOCK_DAYS (12 weeks: the default backfill trains once, as of its first day;
measured in benchmarks/backfill.py, a model per 4 weeks would cost two more trainings, 2-3 minutes at 50,000
customers, out of the 10-minute budget). For a block with a missing day, the churn recipe
(domain.churn.train_churn with the train-churn job's ChurnConfig, without its holdout evaluation, which only fills
the model card and doubles the cost) is trained on the history known at the end of the block's first day (frames
cut in memory to what that time knew, as churn.load_frames would read them) and stored as an *inactive*
churn_models row whose metrics say ``"backfill": true``: the rows of the block carry its version, its threshold
says whom it flagged, and no page or job takes it for the active model. A model already stored that was trained in
the BLOCK_DAYS before the block's first day (an earlier backfill's, or a weekly training's) is used instead of
training anew. Each missing day of the block (never one before the training time, never one BLOCK_DAYS after it)
is then scored with it: features_at as of that day's end, on frames read once for every day. When the block's
first day has too little history for the recipe (NotEnoughHistory), the next day is tried; days before the first
model are skipped, and the summary says why.
"""
from __future__ import annotations

import json
import time
from dataclasses import replace
from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy import select
from sqlalchemy.engine import Engine

from domain.churn import ChurnConfig, History, NotEnoughHistory, plan_snapshots, train_churn
from domain.churn.features import FEATURE_NAMES, features_at
from infra.jsonable import jsonable
from jobs.customers import churn
from models.derived import ChurnModelRecord

BLOCK_DAYS = 84  # one model per 12 weeks: a training costs ~70 s at 50,000 customers, a day's scoring ~2 s


def frames_as_of(frames: dict[str, pd.DataFrame], at: datetime) -> dict[str, pd.DataFrame]:
    """churn.load_frames(engine, at) cut in memory from frames read at a later time: the rows dated after `at`
    dropped (customers are all read, as load_frames does)."""
    t = pd.Timestamp(at)
    s, b, k = frames["sessions"], frames["bookings"], frames["inbound_calls"]
    return {"customers": frames["customers"], "sessions": s[s["start_time"] <= t].reset_index(drop=True),
            "bookings": b[b["created_at"] <= t].reset_index(drop=True),
            "inbound_calls": k[k["call_date"] <= t].reset_index(drop=True)}


def _trainable(history: History, at: datetime, config: ChurnConfig) -> str | None:
    """None when the recipe has enough history at `at`, else why not (the recipe's own check, without fitting)."""
    at_ns = pd.Timestamp(at).value
    try:
        plan_snapshots(at_ns, history.data_start(at_ns, config.window_days), config)
    except NotEnoughHistory as exc:
        return str(exc)
    return None


def _stored_model(engine: Engine, at: datetime):
    """(version, model, trained_at, kind) of the newest stored model trained at most BLOCK_DAYS before `at` and
    not after it (one the backfill stored, or a model the weekly training made then), or None. Reusing it keeps
    a refilled day on its neighbours' model and costs no training; it knew nothing after `at` either."""
    t = ChurnModelRecord.__table__
    with engine.connect() as conn:
        row = conn.execute(select(t.c.version, t.c.model_blob, t.c.trained_at, t.c.kind)
                           .where(t.c.trained_at <= at, t.c.trained_at > at - timedelta(days=BLOCK_DAYS))
                           .order_by(t.c.trained_at.desc(), t.c.version.desc()).limit(1)).first()
    return None if row is None else (int(row.version), churn.load_model(row.model_blob), row.trained_at, row.kind)


def _store_model(engine: Engine, result, at: datetime) -> int:
    metrics = {**result.metrics, "backfill": True,
               "note": "trained by the backfill on the history known at trained_at; scores past days only"}
    t = ChurnModelRecord.__table__
    with engine.begin() as conn:
        version = conn.execute(t.insert().values(
            trained_at=at, kind=result.kind, train_start=result.train_start, train_end=result.train_end,
            threshold=result.threshold, metrics=json.dumps(jsonable(metrics), default=str),
            model_blob=churn.dump_model(result.model), active=False)).inserted_primary_key[0]
    return int(version)


def _score_day(engine: Engine, history: History, model, version: int, at: datetime) -> int:
    X = features_at(history, pd.Timestamp(at).value)
    if not len(X):
        return 0
    p = model.predict_proba(X[FEATURE_NAMES])[:, 1]
    out = pd.DataFrame({"customer_id": X["customer_id"].to_numpy(dtype=object), "probability": p.astype(float),
                        "model_version": version})
    with engine.begin() as conn:
        return churn.write_history(conn, out, pd.Timestamp(at).date())


def fill(engine: Engine, missing: list[datetime], on_day=None, on_train=None) -> dict:
    """churn_prediction_history for the `missing` as-of times (each a day's end, oldest first). on_day(at) is
    called after each day scored, on_train(at) before a training (progress). Returns {"days", "rows",
    "models": [{version, trained_at, days, kind, reused}], "skipped": why or None, "train_s": seconds}."""
    summary = {"days": 0, "rows": 0, "models": [], "skipped": None, "train_s": 0.0}
    if not missing:
        return summary
    config = replace(ChurnConfig(), evaluate=False)  # the recipe; the holdout evaluation is for the model card
    frames = churn.load_frames(engine, missing[-1])
    full = History(frames)
    start = missing[0]
    while start is not None:
        stored = _stored_model(engine, start)
        if stored is None:
            why = _trainable(full, start, config)
            if why is not None:  # too young a store at `start`: try the next missing day
                summary["skipped"] = f"no churn history before {start:%Y-%m-%d}: {why}"
                start = next((at for at in missing if at > start), None)
                continue
            if on_train:
                on_train(start)
            started = time.perf_counter()
            try:
                result = train_churn(History(frames_as_of(frames, start)), start, config)
            except NotEnoughHistory as exc:
                summary["skipped"] = f"no churn history before {start:%Y-%m-%d}: {exc}"
                start = next((at for at in missing if at > start), None)
                continue
            summary["train_s"] += time.perf_counter() - started
            version, model, trained_at, kind = _store_model(engine, result, start), result.model, start, result.kind
        else:
            version, model, trained_at, kind = stored
        until = pd.Timestamp(trained_at) + pd.Timedelta(days=BLOCK_DAYS)
        block = [at for at in missing if start <= at < until]
        for at in block:
            summary["rows"] += _score_day(engine, full, model, version, at)
            summary["days"] += 1
            if on_day:
                on_day(at)
        summary["models"].append({"version": version, "trained_at": pd.Timestamp(trained_at).isoformat(),
                                  "days": len(block), "kind": kind, "reused": stored is not None})
        start = next((at for at in missing if at > block[-1]), None)
    return summary
