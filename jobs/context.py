"""What a job gets: settings, the store's engine, and the time it runs as of."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.engine import Engine

from config import Settings
from infra.clock import utcnow
from models.base import get_engine


@dataclass
class JobContext:
    settings: Settings
    at: datetime = field(default_factory=utcnow)
    live: bool = True  # False when run for a past time (--at): jobs must not poll sources then

    @property
    def engine(self) -> Engine:
        return get_engine(self.settings.db_url)
