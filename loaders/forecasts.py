"""Stored forecast runs and their forecast of record, read by the supply and recommendation jobs and the pages."""
from __future__ import annotations

import json
from datetime import datetime

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.engine import Engine

from models.derived import DemandForecast, ForecastRun
from models.frames import read_frame

# forecast_runs.model of the runs the backfill makes as of past days (jobs/backfill/forecast.py): kept only for
# their accuracy (forecast_accuracy), without hourly rows; never the latest run a page or a job reads
BACKFILL_MODEL = "backfill"


def latest_run(engine: Engine, at: datetime | None = None) -> dict | None:
    """The newest forecast run (generated at or before ``at``; a backfilled one never): id, generated_at, start
    (its first hour), model, detail (dict)."""
    stmt = (select(ForecastRun.id).where(ForecastRun.model != BACKFILL_MODEL)
            .order_by(ForecastRun.generated_at.desc(), ForecastRun.id.desc()).limit(1))
    if at is not None:
        stmt = stmt.where(ForecastRun.generated_at <= at)
    with engine.connect() as conn:
        run_id = conn.execute(stmt).scalar()
        return None if run_id is None else run_by_id(conn, run_id)


def run_by_id(conn, run_id: int) -> dict:
    row = conn.execute(select(ForecastRun.id, ForecastRun.generated_at, ForecastRun.model, ForecastRun.detail)
                       .where(ForecastRun.id == run_id)).first()
    detail = json.loads(row.detail or "{}")
    start = pd.Timestamp(detail.get("start") or pd.Timestamp(row.generated_at).floor("h")).to_pydatetime()
    return {"id": row.id, "generated_at": row.generated_at, "model": row.model, "detail": detail, "start": start}


def record_forecast(engine: Engine, run: dict, subject: str | None = None) -> pd.DataFrame:
    """A run's rows with the forecast of record: DataFrame[subject, ts, yhat, yhat_lower, yhat_upper, baseline,
    forecast, source] where forecast = yhat, or baseline for subjects whose of_record is "baseline"."""
    stmt = select(DemandForecast.subject, DemandForecast.ts, DemandForecast.yhat, DemandForecast.yhat_lower,
                  DemandForecast.yhat_upper, DemandForecast.baseline).where(DemandForecast.run_id == run["id"])
    if subject is not None:
        stmt = stmt.where(DemandForecast.subject == subject)
    with engine.connect() as conn:
        df = read_frame(conn, stmt.order_by(DemandForecast.subject, DemandForecast.ts), parse_dates=["ts"])
    subjects = run["detail"].get("subjects", {})
    baseline = df["subject"].map(lambda s: subjects.get(s, {}).get("of_record") == "baseline").astype(bool)
    df["forecast"] = np.where(baseline, df["baseline"].fillna(df["yhat"]), df["yhat"])
    df["source"] = np.where(baseline, "baseline", "model")
    return df
