"""Shared fixtures: settings on a temporary var/, a migrated SQLite or PostgreSQL store."""
from __future__ import annotations

import os
import shutil
from pathlib import Path
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


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A SQLite file migrated once per session: a test's fresh store is a copy of it (running the migrations
    for every test cost ~0.2 s each, a minute of the suite)."""
    from models.base import get_engine
    from models.schema import upgrade
    path = tmp_path_factory.mktemp("template") / "test.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    get_engine(url).dispose()  # every connection closed: the file holds the whole schema
    return path


def migrated_sqlite(tmp_path, template: Path, **overrides) -> Settings:
    """make_settings on a fresh copy of the migrated template (upgrade on it finds nothing to do)."""
    shutil.copyfile(template, tmp_path / "test.db")
    return make_settings(tmp_path, **overrides)


@pytest.fixture
def settings(tmp_path, sqlite_template) -> Settings:
    """Embedded settings on a fresh SQLite file; the schema is created."""
    return migrated_sqlite(tmp_path, sqlite_template)


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


def create_pg_database(admin_engine, prefix: str = "dash_test", template: str | None = None) -> str:
    """A new database (a copy of `template`, a database name, when given)."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    copy = f' TEMPLATE "{template}"' if template else ""
    with admin_engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"{copy}'))  # names generated here, never user input
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(scope="session")
def pg_template(pg_server):
    """The name of a PostgreSQL database migrated once per session; tests' migrated databases are copies."""
    from models.base import get_engine
    from models.schema import upgrade
    url = create_pg_database(pg_server, prefix="dash_template")
    upgrade(url)
    get_engine(url).dispose()  # a template must have no open connection
    get_engine.cache_clear()
    yield url.rsplit("/", 1)[1]
    drop_pg_database(pg_server, url)


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
def pg_settings(tmp_path, pg_server, pg_template) -> Settings:
    """Settings on a fresh PostgreSQL database with the schema created (a copy of the migrated template)."""
    url = create_pg_database(pg_server, template=pg_template)
    yield make_settings(tmp_path, database_url=url)
    drop_pg_database(pg_server, url)


@pytest.fixture(params=["sqlite", "postgresql"])
def any_settings(request, tmp_path):
    """The same test on the embedded SQLite store and on PostgreSQL (schema created: copies of migrated templates)."""
    if request.param == "sqlite":
        return migrated_sqlite(tmp_path, request.getfixturevalue("sqlite_template"))
    server = request.getfixturevalue("pg_server")
    url = create_pg_database(server, template=request.getfixturevalue("pg_template"))
    request.addfinalizer(lambda: drop_pg_database(server, url))
    return make_settings(tmp_path, database_url=url)
