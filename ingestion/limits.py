"""What the store's columns can hold, read from the models, so every backend refuses the same values.

PostgreSQL refuses a 300-character value in a VARCHAR(255) or a NUL byte in any text (and a COPY
that meets one fails whole); SQLite stores both silently. Checking values against these limits
before writing makes both stores accept and refuse exactly the same rows.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import BigInteger, Integer, SmallInteger, String

INT32 = (-(2 ** 31), 2 ** 31 - 1)
INT64 = (-(2 ** 63), 2 ** 63 - 1)


@dataclass(frozen=True)
class ColumnLimit:
    max_length: int | None = None  # characters, for strings
    int_range: tuple[int, int] | None = None  # inclusive, for integers


@lru_cache(maxsize=None)
def store_limits(record: str) -> dict[str, ColumnLimit]:
    """column -> its limit, for the contract columns of `record`'s source table."""
    from models.source import SOURCE_TABLES
    limits: dict[str, ColumnLimit] = {}
    for col in SOURCE_TABLES[record].__table__.columns:
        kind = col.type
        if isinstance(kind, String) and kind.length:
            limits[col.name] = ColumnLimit(max_length=int(kind.length))
        elif isinstance(kind, BigInteger):
            limits[col.name] = ColumnLimit(int_range=INT64)
        elif isinstance(kind, (Integer, SmallInteger)):
            limits[col.name] = ColumnLimit(int_range=INT32)
    return limits
