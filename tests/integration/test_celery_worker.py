"""A real Celery worker on Redis runs the ingestion task against PostgreSQL."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from models.base import get_engine
from models.schema import upgrade
from models.source import Customer, TutorSession
from tests.conftest import REDIS_TEST_URL, create_pg_database, drop_pg_database, make_settings
from tests.integration.test_ingestion import write_export

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def worker_env(pg_server, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("celery")
    url = create_pg_database(pg_server)
    upgrade(url)
    write_export(tmp / "export")
    env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": REDIS_TEST_URL, "SECRET_KEY": "test",
           "SOURCES": f"csv:{tmp / 'export'}", "VAR_DIR": str(tmp), "SOURCE_BACKOFF_S": "0.01"}
    yield env, tmp
    drop_pg_database(pg_server, url)


@pytest.fixture(scope="module")
def worker(worker_env):
    env, tmp = worker_env
    import redis
    redis.Redis.from_url(REDIS_TEST_URL).flushdb()
    log = open(tmp / "worker.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "celery", "-A", "workers.celery_app", "worker", "--pool=solo",
                             "--concurrency=1", "--loglevel=INFO", "-n", f"test-{os.getpid()}@%h"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    from workers.celery_app import make_celery
    client = make_celery(make_settings(tmp, redis_url=REDIS_TEST_URL, database_url=env["DATABASE_URL"]))
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"worker exited: {(tmp / 'worker.log').read_text()[-2000:]}")
        if client.control.ping(timeout=1.0):
            break
    else:
        proc.kill()
        pytest.fail("worker did not answer ping within 60 s")
    yield client, env
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


def test_worker_runs_the_ingestion_task(worker):
    client, env = worker
    result = client.send_task("ingest.poll").get(timeout=120)
    assert result["errors"] == {}
    assert result["records"]["customers"]["inserted"] == 2
    engine = get_engine(env["DATABASE_URL"])
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Customer)).scalar() == 2
        assert conn.execute(select(func.count()).select_from(TutorSession)).scalar() == 2
    again = client.send_task("ingest.poll").get(timeout=120)
    assert all(c["inserted"] == 0 and c["updated"] == 0 for c in again["records"].values())
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Customer)).scalar() == 2
