"""DataFrame <-> table I/O shared by ingestion and jobs: typed reads and idempotent upserts.

Upserts count what they did (inserted / updated / unchanged) by comparing a per-row hash,
so running the same batch twice changes nothing and reports it as unchanged.
"""
from __future__ import annotations

from datetime import datetime
from typing import Iterable

import numpy as np
import pandas as pd
from sqlalchemy import Table, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

CHUNK = 5000


def to_records(df: pd.DataFrame) -> list[dict]:
    """Rows as dicts with NaN/NaT as None and numpy scalars as Python values (what DB drivers accept)."""
    if df.empty:
        return []
    columns = []
    for col in df.columns:
        # plain object arrays: assigning a list back into a DataFrame would let pandas re-infer
        # datetime64 and turn None into NaT again, which drivers reject
        values = df[col].astype(object).where(df[col].notna(), None).to_numpy(dtype=object)
        if pd.api.types.is_datetime64_any_dtype(df[col]):
            values = np.array([v.to_pydatetime() if v is not None else None for v in values], dtype=object)
        columns.append(values)
    records = [dict(zip(df.columns, row)) for row in zip(*columns)]
    for rec in records:
        for k, v in rec.items():
            if isinstance(v, np.generic):
                rec[k] = v.item()
    return records


def row_hash(df: pd.DataFrame, columns: Iterable[str]) -> pd.Series:
    """Stable signed 64-bit hash of the given columns of each row."""
    cols = list(columns)
    hashed = pd.util.hash_pandas_object(df[cols].astype(str), index=False)
    return pd.Series(hashed.to_numpy(dtype="uint64").view("int64"), index=df.index)


def read_frame(conn: Engine | Connection, stmt, parse_dates: list[str] | None = None) -> pd.DataFrame:
    """Run a SQLAlchemy select and return a DataFrame (datetimes parsed for SQLite too)."""
    df = pd.read_sql(stmt, conn)
    for col in parse_dates or []:
        if col in df.columns:
            df[col] = pd.to_datetime(df[col], errors="coerce")
    return df


def _insert_stmt(conn: Connection, table: Table):
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def _existing_hashes(conn: Connection, table: Table, df: pd.DataFrame, key: list[str]) -> dict[tuple, int]:
    """Map key tuple -> stored row_hash for the keys present in df."""
    found: dict[tuple, int] = {}
    key_cols = [table.c[k] for k in key]
    keys = list(dict.fromkeys(map(tuple, df[key].astype(object).itertuples(index=False, name=None))))
    for start in range(0, len(keys), CHUNK):
        chunk = keys[start:start + CHUNK]
        if len(key) == 1:
            cond = key_cols[0].in_([k[0] for k in chunk])
        else:
            cond = tuple_(*key_cols).in_(chunk)
        rows = conn.execute(select(*key_cols, table.c.row_hash).where(cond)).all()
        for row in rows:
            found[_norm_key(tuple(row[:-1]))] = row[-1]
    return found


def _norm_key(values: tuple) -> tuple:
    out = []
    for v in values:
        if isinstance(v, pd.Timestamp):
            v = v.to_pydatetime()
        if isinstance(v, datetime):
            v = v.replace(tzinfo=None)
        out.append(v)
    return tuple(out)


def upsert_frame(engine: Engine, table: Table, df: pd.DataFrame, key: list[str]) -> dict[str, int]:
    """Insert new rows, update changed ones (by row_hash), leave identical ones; returns counts.

    df must already carry a `row_hash` column and only columns of the table.
    """
    counts = {"inserted": 0, "updated": 0, "unchanged": 0}
    if df.empty:
        return counts
    with engine.begin() as conn:
        existing = _existing_hashes(conn, table, df, key)
        keys = [_norm_key(k) for k in df[key].astype(object).itertuples(index=False, name=None)]
        stored = pd.Series([existing.get(k) for k in keys], index=df.index, dtype="object")
        is_new = stored.isna()
        changed = ~is_new & (stored != df["row_hash"])
        counts["inserted"] = int(is_new.sum())
        counts["updated"] = int(changed.sum())
        counts["unchanged"] = int(len(df) - is_new.sum() - changed.sum())
        todo = df[is_new | changed]
        if todo.empty:
            return counts
        stmt = _insert_stmt(conn, table)
        update_cols = {c: stmt.excluded[c] for c in todo.columns if c not in key}
        stmt = stmt.on_conflict_do_update(index_elements=[table.c[k] for k in key], set_=update_cols)
        records = to_records(todo)
        for start in range(0, len(records), CHUNK):
            conn.execute(stmt, records[start:start + CHUNK])
    return counts


def replace_frame(engine: Engine, table: Table, df: pd.DataFrame, where=None) -> int:
    """Delete rows matching `where` (all rows if None) and insert df, in one transaction.

    Used by jobs whose output is a full recomputation (latest scores, supply for the week).
    """
    with engine.begin() as conn:
        conn.execute(table.delete().where(where) if where is not None else table.delete())
        records = to_records(df)
        for start in range(0, len(records), CHUNK):
            conn.execute(table.insert(), records[start:start + CHUNK])
    return len(df)


def insert_frame(engine: Engine | Connection, table: Table, df: pd.DataFrame) -> int:
    """Plain append of df's rows."""
    records = to_records(df)
    if not records:
        return 0
    if isinstance(engine, Engine):
        with engine.begin() as conn:
            for start in range(0, len(records), CHUNK):
                conn.execute(table.insert(), records[start:start + CHUNK])
    else:
        for start in range(0, len(records), CHUNK):
            engine.execute(table.insert(), records[start:start + CHUNK])
    return len(records)
