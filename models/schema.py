"""Create or upgrade the schema (Alembic), and TimescaleDB hypertables where the extension exists."""
from __future__ import annotations

import logging
import os
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Engine

from models.base import get_engine

ROOT = Path(__file__).resolve().parent.parent
HYPERTABLES = {"metric_points": "ts"}
log = logging.getLogger(__name__)


def alembic_config(url: str) -> Config:
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def private_sqlite_file(path: Path) -> None:
    """Create the SQLite file 0600 before SQLite does (it would use the umask, typically 0644): it holds
    password and token hashes. SQLite gives its -wal and -shm files the database file's mode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    if path.stat().st_mode & 0o077:
        try:
            path.chmod(0o600)  # a store made before this rule existed
        except OSError:
            log.warning("could not restrict %s to its owner (mode %o)", path.name, path.stat().st_mode & 0o777)


def upgrade(url: str) -> Engine:
    """Bring the database at `url` to the newest schema; safe to run again."""
    if url.startswith("sqlite:///"):
        private_sqlite_file(Path(url.removeprefix("sqlite:///")))
    command.upgrade(alembic_config(url), "head")
    engine = get_engine(url)
    if engine.dialect.name == "postgresql":
        _hypertables(engine)
    return engine


def _hypertables(engine: Engine) -> None:
    with engine.begin() as conn:
        available = conn.execute(
            text("SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'")).first()
        if not available:
            return
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS timescaledb"))
        for table, column in HYPERTABLES.items():
            conn.execute(text("SELECT create_hypertable(:t, :c, if_not_exists => TRUE, migrate_data => TRUE)"),
                         {"t": table, "c": column})
            log.info("hypertable %s on %s", table, column)
