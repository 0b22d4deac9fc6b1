"""The Alembic migrations build exactly the schema the models describe (on SQLite and PostgreSQL)."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from models import Base
from models.base import get_engine


def test_migrations_match_the_models(any_settings):
    engine = get_engine(any_settings.db_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), Base.metadata)
    assert diff == [], f"models and migrations differ; run `make migrations`: {diff}"
