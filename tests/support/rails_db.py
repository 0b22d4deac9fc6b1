"""A Rails-shaped marketplace database in PostgreSQL, loaded with COPY.

Each table has what a Rails app would give it: `id bigserial` primary key, the contract's columns,
`created_at`/`updated_at`, and a column the dashboard must ignore (`lock_version`). By default
`campaigns` keeps no `campaign_id` column, so the adapter's fallback to `id` is exercised.
"""
from __future__ import annotations

import pandas as pd
from sqlalchemy import (BigInteger, Column, Date, DateTime, Float, Integer, MetaData, Table, Text,
                        create_engine, func)
from sqlalchemy.engine import Engine

from models.frames import bulk_append
from domain.contract import RECORDS

RAILS_TABLES = ("customers", "tutors", "tutor_availability", "sessions", "bookings", "campaigns")
TYPES = {"str": Text, "datetime": DateTime, "date": Date, "int": Integer, "float": Float}


def rails_metadata(id_only: tuple[str, ...] = ("campaigns",), drop: dict[str, tuple[str, ...]] | None = None) -> MetaData:
    """Table definitions. `id_only`: tables whose contract id lives in `id` only; `drop`: columns left out per table."""
    meta = MetaData()
    drop = drop or {}
    for name in RAILS_TABLES:
        spec = RECORDS[name]
        cols = [Column("id", BigInteger, primary_key=True, autoincrement=True)]
        for f in spec.fields:
            if name in id_only and (f.name,) == spec.key or f.name in drop.get(name, ()):
                continue
            cols.append(Column(f.name, TYPES[f.kind], nullable=not f.required))
        have = {c.name for c in cols}
        for stamp in ("created_at", "updated_at"):
            if stamp not in have:
                cols.append(Column(stamp, DateTime, nullable=False, server_default=func.now()))
        cols.append(Column("lock_version", Integer, nullable=False, server_default="0"))
        Table(name, meta, *cols)
    return meta


def load_rails_db(url: str, frames: dict[str, pd.DataFrame], id_only: tuple[str, ...] = ("campaigns",),
                  drop: dict[str, tuple[str, ...]] | None = None) -> dict[str, int]:
    """Create the tables in the (empty) database at `url` and COPY `frames` into them; returns rows per table.

    created_at is the row's updated_at (or the contract's created_at for bookings); tutor_availability
    rows get one updated_at for the whole snapshot.
    """
    meta = rails_metadata(id_only, drop)
    engine = create_engine(url)
    try:
        meta.create_all(engine)
        with engine.begin() as conn:
            return {name: bulk_append(conn, tbl, _rails_rows(frames[name], tbl)) for name, tbl in meta.tables.items()}
    finally:
        engine.dispose()


def _rails_rows(df: pd.DataFrame, tbl: Table) -> pd.DataFrame:
    df = df.copy()
    if "updated_at" not in df.columns:
        df["updated_at"] = pd.Timestamp("2026-01-01")
    if "created_at" not in df.columns:
        df["created_at"] = df["updated_at"]
    return df[[c.name for c in tbl.columns if c.name in df.columns and c.name not in ("id", "lock_version")]]


def rails_engine(url: str) -> Engine:
    """A read-write engine on the Rails database, playing the Rails app in tests."""
    return create_engine(url)
