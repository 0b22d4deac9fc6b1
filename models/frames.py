"""DataFrame <-> table I/O shared by ingestion and jobs: typed reads and idempotent upserts.

Upserts count what they did (inserted / updated / unchanged) by comparing a per-row hash,
so running the same batch twice changes nothing and reports it as unchanged.
"""
from __future__ import annotations

import io
import uuid
from typing import Iterable

import numpy as np
import pandas as pd
from sqlalchemy import Column, Date, DateTime, Integer, MetaData, Table, and_, case, func, select, true
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

CHUNK = 5000
COPY_CHUNK = 100_000  # rows per COPY / executemany into the staging table
SQLITE_UPSERT_CACHE_KIB = 65_536


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
    """Stable signed 64-bit hash of the given columns of each row.

    Hashes the typed values (as validation leaves them) rather than their text: formatting every
    datetime and float as a string cost more than the hashing. Datetimes are brought to one unit
    first so the same instant always hashes the same.
    """
    part = df[list(columns)]
    stamps = {c: part[c].astype("datetime64[us]") for c in part.columns
              if pd.api.types.is_datetime64_dtype(part[c]) and part[c].dtype != "datetime64[us]"}
    hashed = pd.util.hash_pandas_object(part.assign(**stamps) if stamps else part, index=False)
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


def upsert_frame(engine: Engine, table: Table, df: pd.DataFrame, key: list[str]) -> dict[str, int]:
    """Insert new rows, update changed ones (by row_hash), leave identical ones; returns counts.

    df must already carry a `row_hash` column and only columns of the table, one row per key.
    The batch is bulk-loaded into a temporary table (PostgreSQL COPY; SQLite executemany), counted
    against the table with one join, and merged with one INSERT ... SELECT ... ON CONFLICT DO UPDATE
    that only touches rows whose hash differs, so a 10^6-row batch costs seconds, not minutes.
    """
    counts = {"inserted": 0, "updated": 0, "unchanged": 0}
    if df.empty:
        return counts
    cols = list(df.columns)
    with engine.begin() as conn:
        restore = _bigger_sqlite_cache(conn)
        stage = _stage_table(conn, table, cols)
        try:
            bulk_append(conn, stage, df)
            matched = and_(*(table.c[k] == stage.c[k] for k in key))
            found = table.c[key[0]]
            changed = and_(found.is_not(None), table.c.row_hash.is_distinct_from(stage.c.row_hash))
            total, existing, updated = conn.execute(
                select(func.count(), func.count(found), func.coalesce(func.sum(case((changed, 1), else_=0)), 0))
                .select_from(stage.outerjoin(table, matched))).one()
            counts = {"inserted": int(total - existing), "updated": int(updated), "unchanged": int(existing - updated)}
            if counts["inserted"] or counts["updated"]:
                # in key order, so the primary-key index is appended to rather than split page by page
                rows = select(*(stage.c[c] for c in cols)).where(true()).order_by(*(stage.c[k] for k in key))
                stmt = _insert_stmt(conn, table).from_select(cols, rows)
                stmt = stmt.on_conflict_do_update(
                    index_elements=[table.c[k] for k in key],
                    set_={c: stmt.excluded[c] for c in cols if c not in key},
                    where=table.c.row_hash.is_distinct_from(stmt.excluded.row_hash))
                conn.execute(stmt)
        finally:
            if conn.dialect.name != "postgresql":  # PostgreSQL drops it at commit or rollback
                stage.drop(conn, checkfirst=True)
            if restore is not None:
                conn.exec_driver_sql(f"PRAGMA cache_size = {int(restore)}")
    return counts


def _bigger_sqlite_cache(conn: Connection):
    """SQLite's default 2 MB page cache makes index inserts of a big batch thrash; use 64 MB meanwhile.

    Returns the previous setting to restore (None on other databases).
    """
    if conn.dialect.name != "sqlite":
        return None
    previous = conn.exec_driver_sql("PRAGMA cache_size").scalar()
    conn.exec_driver_sql(f"PRAGMA cache_size = {SQLITE_UPSERT_CACHE_KIB * -1}")
    return previous


def _stage_table(conn: Connection, table: Table, cols: list[str]) -> Table:
    """An empty temporary table with the given columns of `table` (same types, no constraints)."""
    name = f"stage_{table.name}_{uuid.uuid4().hex[:8]}"
    kw = {"postgresql_on_commit": "DROP"} if conn.dialect.name == "postgresql" else {}
    stage = Table(name, MetaData(), *(Column(c, table.c[c].type) for c in cols), prefixes=["TEMPORARY"], **kw)
    stage.create(conn)
    return stage


def bulk_append(conn: Connection, table: Table, df: pd.DataFrame) -> int:
    """Append df's rows (its columns: some of the table's) to `table`, in the caller's transaction.

    COPY on PostgreSQL, one executemany of driver-ready tuples on SQLite. No conflict handling: the
    rows must be new (a staging table, a fresh load). Returns the number of rows.
    """
    cols = [table.c[c] for c in df.columns]
    if conn.dialect.name == "postgresql":
        quote = conn.dialect.identifier_preparer.quote
        sql = (f"COPY {quote(table.name)} ({', '.join(quote(c.name) for c in cols)}) "
               "FROM STDIN WITH (FORMAT csv, NULL '\\N')")  # names from our own metadata, never data
        cursor = conn.connection.cursor()
        for start in range(0, len(df), COPY_CHUNK):
            buf = io.StringIO()
            _for_copy(df.iloc[start:start + COPY_CHUNK], cols).to_csv(
                buf, index=False, header=False, na_rep="\\N", date_format="%Y-%m-%d %H:%M:%S.%f")
            buf.seek(0)
            cursor.copy_expert(sql, buf)
        return len(df)
    compiled = table.insert().compile(dialect=conn.dialect, column_keys=list(df.columns))
    values = [_driver_values(df[name], table.c[name].type) for name in compiled.positiontup]
    rows = list(zip(*values))
    for start in range(0, len(rows), COPY_CHUNK):
        conn.exec_driver_sql(compiled.string, rows[start:start + COPY_CHUNK])
    return len(df)


def _for_copy(df: pd.DataFrame, cols: list[Column]) -> pd.DataFrame:
    """Integral floats bound for integer columns written as integers (COPY rejects '3.0' for an int)."""
    out = df
    for c in cols:
        if isinstance(c.type, Integer) and pd.api.types.is_float_dtype(df[c.name]):
            out = out.assign(**{c.name: df[c.name].astype("Int64")})
    return out


def _driver_values(s: pd.Series, type_) -> list:
    """One column as the values SQLAlchemy's SQLite types would bind (dates and times as ISO text)."""
    if isinstance(type_, (Date, DateTime)):
        fmt = "%Y-%m-%d %H:%M:%S.%f" if isinstance(type_, DateTime) else "%Y-%m-%d"
        stamps = pd.to_datetime(s)
        return stamps.dt.strftime(fmt).astype(object).where(stamps.notna(), None).tolist()
    return [v.item() if isinstance(v, np.generic) else v for v in s.astype(object).where(s.notna(), None).tolist()]


def replace_frame(engine: Engine, table: Table, df: pd.DataFrame, where=None) -> int:
    """Delete rows matching `where` (all rows if None) and insert df, in one transaction.

    Used by jobs whose output is a full recomputation (latest scores, supply for the week). The rows go in
    with bulk_append (COPY on PostgreSQL): 500,000 churn predictions took ~60 s as bound inserts.
    """
    with engine.begin() as conn:
        conn.execute(table.delete().where(where) if where is not None else table.delete())
        if not df.empty:
            bulk_append(conn, table, df)
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
