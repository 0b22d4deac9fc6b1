"""The one clock: naive UTC, the way the store keeps every datetime."""
from __future__ import annotations

from datetime import datetime, timezone


def utcnow() -> datetime:
    """Naive UTC now; the store keeps naive UTC datetimes."""
    return datetime.now(timezone.utc).replace(tzinfo=None)
