"""Data versions: one counter per topic, bumped inside every write, read by pages and the cache to redraw.

Jobs, ingestion and user writes call `bump_version` in their write transaction; the read side keys
its cache on `data_version` and pages poll it to know when to redraw.
"""
from __future__ import annotations

import contextvars
import os
import time
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Engine

from infra.clock import utcnow
from models.ops import DataVersion, JobRunCommit

_run: contextvars.ContextVar[int | None] = contextvars.ContextVar("job_run", default=None)


@contextmanager
def recording_commits(run_id: int) -> Iterator[None]:
    """Inside the block every bump_version also notes run `run_id`'s write (jobs/runner.py: what a killed run
    had committed is then known exactly: the note commits or rolls back with the data)."""
    token = _run.set(run_id)
    try:
        yield
    finally:
        _run.reset(token)


def bump_version(conn, topic: str) -> None:
    """Mark `topic` as changed so open pages redraw (call inside the writer's transaction)."""
    now = utcnow()
    changed = conn.execute(update(DataVersion).where(DataVersion.topic == topic).values(
        version=DataVersion.version + 1, changed_at=now)).rowcount
    if not changed:
        conn.execute(insert(DataVersion).values(topic=topic, version=1, changed_at=now))
    run_id = _run.get()
    if run_id is not None:
        conn.execute(insert(JobRunCommit).values(run_id=run_id, topic=topic, at=now))
    _fault_test_hold(topic)


def _fault_test_hold(topic: str) -> None:
    """Fault tests only: JOB_TEST_HOLD_S="health:8" sleeps 8 s here, inside the write transaction of
    the job writing `topic`, so tests/integration/test_faults.py can kill its worker mid-write.
    Unset in every real deployment (one environment lookup per write)."""
    spec = os.environ.get("JOB_TEST_HOLD_S")
    if spec and spec.partition(":")[0] == topic:
        time.sleep(float(spec.partition(":")[2] or 0))


def data_version(engine: Engine) -> int:
    """Sum of all topic versions: changes whenever any job or ingest writes."""
    with engine.connect() as conn:
        return int(conn.execute(select(func.coalesce(func.sum(DataVersion.version), 0))).scalar() or 0)


def topic_version(engine: Engine, topic: str) -> int:
    """The version of one data topic (0 when it was never written)."""
    with engine.connect() as conn:
        return int(conn.execute(select(DataVersion.version).where(DataVersion.topic == topic)).scalar() or 0)
