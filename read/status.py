"""Read side shared by pages and the API: small, indexed queries that return DataFrames or dicts.

Heavy numbers are computed by jobs into derived tables; these functions only read.
"""
from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine

from config import Settings
from models.base import get_engine
from models.ops import JobRun, QuarantinedRow, SourceState
from read.cache import cached_read
from infra.clock import utcnow
from read.alerts import banner_counts
from read.queue import open_task_count
from models.derived import OverviewSnapshot
from models.ops import AuditLog
from read import cache
import json


def engine_for(settings: Settings) -> Engine:
    return get_engine(settings.db_url)


def source_freshness(engine: Engine, stale_after_s: int, now: datetime | None = None) -> pd.DataFrame:
    """Per source: last successful poll, newest watermark, lag, failures, rows, stale flag."""
    now = now or utcnow()
    table = SourceState.__table__
    with engine.connect() as conn:
        rows = conn.execute(select(table)).all()
    df = pd.DataFrame(rows, columns=[c.name for c in table.columns])
    if df.empty:
        return df.assign(lag_s=pd.Series(dtype=float), poll_age_s=pd.Series(dtype=float), stale=pd.Series(dtype=bool))
    for c in ("watermark", "last_attempt_at", "last_success_at"):
        df[c] = pd.to_datetime(df[c])
    df["lag_s"] = (now - df["watermark"]).dt.total_seconds()
    df["poll_age_s"] = (now - df["last_success_at"]).dt.total_seconds()
    df["stale"] = df["last_success_at"].isna() | (df["poll_age_s"] > stale_after_s) | (df["consecutive_failures"] > 0)
    return df.sort_values(["source", "record"]).reset_index(drop=True)


def source_summary(freshness: pd.DataFrame) -> pd.DataFrame:
    """One row per source: last successful poll, worst failure count, stale if any record is stale."""
    if freshness.empty:
        return pd.DataFrame(columns=["source", "last_success_at", "newest_data", "consecutive_failures", "last_error", "stale", "rows_total"])
    return (freshness.groupby("source", as_index=False)
            .agg(last_success_at=("last_success_at", "min"), newest_data=("watermark", "max"),
                 consecutive_failures=("consecutive_failures", "max"),
                 last_error=("last_error", lambda s: next((e for e in s if e), None)),
                 stale=("stale", "any"), rows_total=("rows_total", "sum")))


def last_job_runs(engine: Engine) -> pd.DataFrame:
    """The newest run of every job."""
    with engine.connect() as conn:
        newest = select(JobRun.job, func.max(JobRun.id).label("id")).group_by(JobRun.job).subquery()
        rows = conn.execute(select(JobRun.job, JobRun.started_at, JobRun.finished_at, JobRun.status,
                                   JobRun.duration_s, JobRun.detail)
                            .join(newest, newest.c.id == JobRun.id).order_by(JobRun.job)).all()
    return pd.DataFrame(rows, columns=["job", "started_at", "finished_at", "status", "duration_s", "detail"])


def health_status(settings: Settings) -> dict:
    """For /api/v1/health: database reachability, cache/broker, per-source freshness."""
    status = {"status": "ok", "mode": "embedded" if settings.embedded else "production", "time": utcnow().isoformat()}
    try:
        engine = engine_for(settings)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        status["database"] = {"ok": True, "dialect": engine.dialect.name}
        fresh = source_summary(source_freshness(engine, settings.stale_after_s))
        status["sources"] = [
            {"source": r.source, "last_success_at": _iso(r.last_success_at), "newest_data": _iso(r.newest_data),
             "stale": bool(r.stale), "consecutive_failures": int(r.consecutive_failures), "last_error": r.last_error}
            for r in fresh.itertuples()]
        if any(s["stale"] for s in status["sources"]):
            status["status"] = "degraded"
        status["worker"] = worker_heartbeat(engine)
        if not status["worker"]["ok"]:
            status["status"] = "degraded"
    except Exception as exc:  # the health check reports, it never raises
        status["database"] = {"ok": False, "error": type(exc).__name__}
        status["status"] = "down"
    status["cache"] = cache.status()
    if not status["cache"]["ok"] and status["status"] == "ok":
        status["status"] = "degraded"
    return status


def worker_heartbeat(engine: Engine, max_age_s: int = 300) -> dict:
    """When a scheduled job last finished (Celery worker or the embedded scheduler)."""
    with engine.connect() as conn:
        last = conn.execute(select(func.max(JobRun.finished_at))).scalar()
    if last is None:
        return {"ok": False, "last_job_finished_at": None}
    age = (utcnow() - pd.Timestamp(last).to_pydatetime()).total_seconds()
    return {"ok": age <= max_age_s, "last_job_finished_at": _iso(last), "age_s": round(age, 1)}


def _iso(value) -> str | None:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NaT:
        return None
    return pd.Timestamp(value).isoformat()


@cached_read
def open_alert_counts(engine: Engine) -> dict[str, int]:
    """The banner: alerts that need action by severity (read.alerts.banner_counts, the alert centre's
    own definition), and the customers with a task to do now under "customer_triggers" (the CS worklist)."""
    return {**banner_counts(engine), "customer_triggers": open_task_count(engine, utcnow())}


@cached_read(topic="overview")
def overview_snapshot(engine: Engine) -> dict | None:
    """The newest overview cards written by the overview job, or None when it has not run."""
    with engine.connect() as conn:
        row = conn.execute(select(OverviewSnapshot.computed_at, OverviewSnapshot.payload)  # a backfill adds older ones
                           .order_by(OverviewSnapshot.computed_at.desc(), OverviewSnapshot.id.desc()).limit(1)).first()
    if row is None:
        return None
    data = json.loads(row.payload)
    data["computed_at"] = pd.Timestamp(row.computed_at).isoformat()
    return data


def audit_log(engine: Engine, limit: int = 500) -> list[dict]:
    with engine.connect() as conn:
        rows = conn.execute(select(AuditLog.at, AuditLog.user_email, AuditLog.action, AuditLog.entity,
                                   AuditLog.entity_id, AuditLog.detail).order_by(AuditLog.id.desc()).limit(limit)).all()
    return [{**dict(r._mapping), "at": str(r.at)[:19]} for r in rows]


def quarantine_summary(engine: Engine) -> pd.DataFrame:
    """Quarantined rows counted by source, record and kind of reason, newest first, with one example each."""
    with engine.connect() as conn:
        rows = conn.execute(select(QuarantinedRow.source, QuarantinedRow.record, QuarantinedRow.reason,
                                   QuarantinedRow.row_key, QuarantinedRow.received_at)).all()
    df = pd.DataFrame(rows, columns=["source", "record", "reason", "row_key", "received_at"])
    if df.empty:
        return pd.DataFrame(columns=["source", "record", "kind", "rows", "example", "last_seen"])
    df["kind"] = df["reason"].str.replace(r"'[^']*'", "…", regex=True)
    out = (df.sort_values("received_at").groupby(["source", "record", "kind"], as_index=False)
           .agg(rows=("reason", "size"), example=("reason", "last"), last_seen=("received_at", "max")))
    return out.sort_values("last_seen", ascending=False, kind="stable").reset_index(drop=True)
