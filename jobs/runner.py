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

from sqlalchemy import delete, insert, select, text, update

from config import Settings
from models.ops import JobRun, JobRunCommit
from jobs.table import job
from infra import progress
from infra.clock import utcnow
from infra.versions import recording_commits
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
        key = _lock_key(name)
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
            with progress.reporting_to(_progress_writer(ctx, run_id)) if not progress.reporting() else nullcontext(), \
                    recording_commits(run_id):
                summary = func(ctx) or {}
        except Exception as exc:
            _finish(ctx, run_id, "failed", started, {"error": f"{type(exc).__name__}: {exc}"}, say_committed=True)
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
    stmt = select(JobRun.id).where(JobRun.job == name, JobRun.status == "running", JobRun.id != run_id)
    if conn.dialect.name != "postgresql":
        stmt = stmt.where(JobRun.started_at < utcnow() - timedelta(seconds=ABANDONED_AFTER_S))
    dead = list(conn.execute(stmt).scalars())
    for dead_id in dead:
        mark_abandoned(conn, dead_id, f"found by run {run_id}")
    if dead:
        log.warning("job %s: marked %d run(s) left running by a stopped worker as abandoned", name, len(dead))


def committed(conn, run_id: int) -> dict[str, int]:
    """{data topic: committed writes} of run `run_id` (job_run_commits, written with the data)."""
    counts: dict[str, int] = {}
    for topic in conn.execute(select(JobRunCommit.topic).where(JobRunCommit.run_id == run_id)
                              .order_by(JobRunCommit.id)).scalars():
        counts[topic] = counts.get(topic, 0) + 1
    return counts


def committed_text(counts: dict[str, int]) -> str:
    if not counts:
        return "nothing it wrote was committed"
    parts = [f"{topic} ({n} writes)" if n > 1 else topic for topic, n in counts.items()]
    return f"it had committed {sum(counts.values())} write(s): {', '.join(parts)}; the rest was not written"


def mark_abandoned(conn, run_id: int, found_by: str) -> bool:
    """Close run `run_id` (still "running", its worker gone) as abandoned, saying what it had committed."""
    counts = committed(conn, run_id)
    detail = {"error": f"abandoned: its worker stopped before the run finished; {committed_text(counts)} "
                       f"({found_by})", "committed": counts}
    done = conn.execute(update(JobRun).where(JobRun.id == run_id, JobRun.status == "running").values(
        status="abandoned", finished_at=utcnow(), detail=json.dumps(detail))).rowcount
    conn.execute(delete(JobRunCommit).where(JobRunCommit.run_id == run_id))
    return bool(done)


def lock_free(engine, name: str) -> bool | None:
    """PostgreSQL: True when nobody holds job `name`'s advisory lock (no run of it is alive anywhere);
    None on SQLite, where the lock is per process and says nothing about other processes."""
    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as conn:
        got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": _lock_key(name)}).scalar()
        if got:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _lock_key(name)})
        conn.commit()
        return bool(got)


def _lock_key(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


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


def _finish(ctx: JobContext, run_id: int, status: str, started: float, detail: dict,
            say_committed: bool = False) -> None:
    """Record the outcome; a failed run also says what it had committed before it failed."""
    with ctx.engine.begin() as conn:
        if say_committed:
            counts = committed(conn, run_id)
            detail = {**detail, "committed": counts, "error": f"{detail.get('error', '')}; {committed_text(counts)}"}
        conn.execute(delete(JobRunCommit).where(JobRunCommit.run_id == run_id))
        conn.execute(update(JobRun).where(JobRun.id == run_id).values(
            status=status, finished_at=utcnow(), duration_s=time.perf_counter() - started,
            detail=json.dumps(detail, default=str)))
