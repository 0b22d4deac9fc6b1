"""Shared fixtures: settings on a temporary var/, a migrated SQLite or PostgreSQL store."""
from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine, text

from config import Settings

PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")
REDIS_TEST_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def make_settings(tmp_path, **overrides) -> Settings:
    values = dict(var_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'test.db'}", testing=True,
                  secret_key="test-secret", source_backoff_s=0.01, source_retries=2,
                  embedded_scheduler=False, live_synthetic=False, demo_customers=300, demo_days=60)
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def settings(tmp_path) -> Settings:
    """Embedded settings on a fresh SQLite file; the schema is created."""
    from models.schema import upgrade
    s = make_settings(tmp_path)
    upgrade(s.db_url)
    return s


@pytest.fixture(scope="session")
def pg_server():
    """The PostgreSQL server; `make test` starts it when it is down."""
    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # pragma: no cover - make test starts the server
        pytest.fail(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}. Run `make services`.")
    return engine


def create_pg_database(admin_engine, prefix: str = "dash_test") -> str:
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with admin_engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))  # name is generated here, never user input
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def drop_pg_database(admin_engine, url: str) -> None:
    from models.base import get_engine
    get_engine.cache_clear()
    name = url.rsplit("/", 1)[1]
    with admin_engine.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"), {"n": name})
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))


@pytest.fixture
def pg_url(pg_server):
    """A fresh, empty PostgreSQL database for one test."""
    url = create_pg_database(pg_server)
    yield url
    drop_pg_database(pg_server, url)


@pytest.fixture
def pg_settings(tmp_path, pg_url) -> Settings:
    """Settings on a fresh PostgreSQL database with the schema created."""
    from models.schema import upgrade
    s = make_settings(tmp_path, database_url=pg_url)
    upgrade(s.db_url)
    return s


@pytest.fixture(params=["sqlite", "postgresql"])
def any_settings(request, tmp_path):
    """The same test on the embedded SQLite store and on PostgreSQL."""
    from models.schema import upgrade
    if request.param == "sqlite":
        s = make_settings(tmp_path)
    else:
        url = create_pg_database(request.getfixturevalue("pg_server"))
        request.addfinalizer(lambda: drop_pg_database(request.getfixturevalue("pg_server"), url))
        s = make_settings(tmp_path, database_url=url)
    upgrade(s.db_url)
    return s
