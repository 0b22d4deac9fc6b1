"""The one clock: naive UTC, the way the store keeps every datetime."""
from __future__ import annotations

from datetime import datetime, timezone


def utcnow() -> datetime:
    """Naive UTC now; the store keeps naive UTC datetimes."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def parse_utc(value: str | None) -> datetime | None:
    """ISO 8601 text -> naive UTC datetime (None for empty); ValueError with an example otherwise."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO 8601 time, e.g. 2026-11-01T12:00:00Z") from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(timezone.utc).replace(tzinfo=None)
    return parsed
