"""Run a job by name: one at a time per job (across workers too), every run recorded in job_runs."""
from __future__ import annotations

import hashlib
import importlib
import json
import logging
import threading
import time
from contextlib import contextmanager, nullcontext
from datetime import datetime, timedelta
from typing import Iterator

from sqlalchemy import insert, text, update

from config import Settings
from models.ops import JobRun
from jobs.table import job
from infra import progress
from infra.clock import utcnow
from jobs.context import JobContext

log = logging.getLogger(__name__)
ABANDONED_AFTER_S = 3600  # SQLite only (its lock is per process): a run still "running" after this is dead
_local_locks: dict[str, threading.Lock] = {}
_guard = threading.Lock()


class JobBusy(RuntimeError):
    """Another worker is running this job right now."""


def resolve(name: str):
    module, _, func = job(name).target.partition(":")
    return getattr(importlib.import_module(module), func)


@contextmanager
def job_lock(ctx: JobContext, name: str) -> Iterator[None]:
    """PostgreSQL advisory lock (shared by every worker), or a process lock on SQLite."""
    engine = ctx.engine
    if engine.dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
        with engine.connect() as conn:
            got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar()
            if not got:
                raise JobBusy(name)
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                conn.commit()
    else:
        with _guard:
            lock = _local_locks.setdefault(name, threading.Lock())
        if not lock.acquire(blocking=False):
            raise JobBusy(name)
        try:
            yield
        finally:
            lock.release()


def run_job(name: str, settings: Settings, at: datetime | None = None) -> dict:
    """Run one job now (or as of `at`) and return its summary; failures are recorded and re-raised."""
    func = resolve(name)
    ctx = JobContext(settings=settings, at=at or utcnow(), live=at is None)
    with job_lock(ctx, name):
        started = time.perf_counter()
        with ctx.engine.begin() as conn:
            run_id = conn.execute(insert(JobRun).values(
                job=name, started_at=utcnow(), status="running")).inserted_primary_key[0]
            _close_abandoned(conn, name, run_id)
        try:
            with progress.reporting_to(_progress_writer(ctx, run_id)) if not progress.reporting() else nullcontext():
                summary = func(ctx) or {}
        except Exception as exc:
            _finish(ctx, run_id, "failed", started, {"error": f"{type(exc).__name__}: {exc}"})
            log.exception("job %s failed", name)
            raise
        _finish(ctx, run_id, "ok", started, summary)
        return summary


def _close_abandoned(conn, name: str, run_id: int) -> None:
    """Mark runs of `name` left "running" by a worker that died (kill -9, lost machine) as abandoned.

    On PostgreSQL we hold the job's advisory lock, so no other run of it is alive: every other
    "running" row is dead (its worker's connection, lock and open write transaction went with it).
    On SQLite the lock is per process, so only rows older than ABANDONED_AFTER_S are judged dead.
    """
    now = utcnow()
    stmt = update(JobRun).where(JobRun.job == name, JobRun.status == "running", JobRun.id != run_id)
    if conn.dialect.name != "postgresql":
        stmt = stmt.where(JobRun.started_at < now - timedelta(seconds=ABANDONED_AFTER_S))
    detail = json.dumps({"error": "abandoned: its worker stopped before the run finished; "
                                  f"nothing it wrote was committed (found by run {run_id})"})
    closed = conn.execute(stmt.values(status="abandoned", finished_at=now, detail=detail)).rowcount
    if closed:
        log.warning("job %s: marked %d run(s) left running by a stopped worker as abandoned", name, closed)


def _progress_writer(ctx: JobContext, run_id: int, every_s: float = 1.0):
    """A progress hook writing {"progress", "step"} into the run's detail, at most once every `every_s`
    (and always at 100 %), so a page polling job_runs can show it whichever process runs the job."""
    last = [0.0]

    def write(fraction: float, step: str) -> None:
        now = time.monotonic()
        if now - last[0] < every_s and fraction < 1.0:
            return
        last[0] = now
        with ctx.engine.begin() as conn:
            conn.execute(update(JobRun).where(JobRun.id == run_id, JobRun.status == "running").values(
                detail=json.dumps({"progress": round(fraction, 3), "step": step})))
    return write


def _finish(ctx: JobContext, run_id: int, status: str, started: float, detail: dict) -> None:
    with ctx.engine.begin() as conn:
        conn.execute(update(JobRun).where(JobRun.id == run_id).values(
            status=status, finished_at=utcnow(), duration_s=time.perf_counter() - started,
            detail=json.dumps(detail, default=str)))
