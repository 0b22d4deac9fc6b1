"""What a job gets: settings, the store's engine, and the time it runs as of."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from sqlalchemy.engine import Engine

from config import Settings
from models.base import get_engine


def utcnow() -> datetime:
    """Naive UTC now; the store keeps naive UTC datetimes."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


@dataclass
class JobContext:
    settings: Settings
    at: datetime = field(default_factory=utcnow)
    live: bool = True  # False when run for a past time (--at): jobs must not poll sources then

    @property
    def engine(self) -> Engine:
        return get_engine(self.settings.db_url)
