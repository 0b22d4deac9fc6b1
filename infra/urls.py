"""Database URLs as people write them -> what the installed drivers accept."""
from __future__ import annotations

PG_DRIVER = "postgresql+psycopg2"  # the PostgreSQL driver requirements.txt installs


def normalise_url(url: str) -> str:
    """`postgres://` and `postgresql://` (as Heroku, README and most tools write them) -> the installed driver.

    SQLAlchemy's default driver for a bare `postgresql://` is psycopg 3, which is not installed;
    an explicit driver (`postgresql+psycopg2://`, `sqlite://`) is left as it is.
    """
    for scheme in ("postgres://", "postgresql://"):
        if url.startswith(scheme):
            return PG_DRIVER + "://" + url[len(scheme):]
    return url
