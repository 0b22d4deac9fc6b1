"""Bulk reads and writes: hundreds of thousands of rows without a Python object per row and field.

`read_columns` runs a select and builds the DataFrame from the driver's plain tuples; SQLAlchemy
Row objects handed to pandas cost ~10x more at half a million rows. `text_times` reads SQLite
datetimes as their stored text so pandas parses each column once instead of SQLAlchemy per value.

Writes: SQLAlchemy's executemany builds and type-processes one parameter dict per row; at 50,000
wide rows that costs several times the database's own work. `bulk_insert` (models.frames.bulk_append)
hands the driver plain tuples (SQLite executemany) or a CSV stream (PostgreSQL COPY) instead.
`staged` loads rows into a temporary table so that one set-based statement (UPDATE ... FROM,
INSERT ... SELECT ... ON CONFLICT) can merge them.
"""
from __future__ import annotations

import csv
import tempfile
import uuid
from contextlib import contextmanager
from typing import Iterator

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals
from sqlalchemy import Column, MetaData, String, Table, select, true, type_coerce
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from models.frames import bulk_append


def text_times(conn: Connection, columns: list) -> list:
    """Datetime columns to select: as stored text on SQLite (parse with read_columns' dates), as is elsewhere."""
    if conn.dialect.name != "sqlite":
        return list(columns)
    return [type_coerce(c, String).label(c.key) for c in columns]


def read_columns(conn: Connection, stmt, dates: list[str] = ()) -> pd.DataFrame:
    """Run a select into a DataFrame of object columns (`dates` parsed as naive datetimes)."""
    result = conn.execute(stmt)
    names = list(result.keys())
    rows = result.cursor.fetchall()
    result.close()
    table = np.array(rows, dtype=object) if rows else np.empty((0, len(names)), dtype=object)
    df = pd.DataFrame({name: table[:, i] for i, name in enumerate(names)}, copy=False)
    for c in dates:
        df[c] = pd.to_datetime(df[c], errors="coerce", format="ISO8601")
    return df


def read_compact(conn: Connection, stmt, dates: list[str] = (), numbers: list[str] = (),
                 chunk_rows: int = 1_000_000) -> pd.DataFrame:
    """Run a select into a compact DataFrame, a chunk of rows at a time: `dates` as datetime64, `numbers` as
    float32, every other column categorical. Millions of rows (the churn model's whole history at 500,000
    customers) then cost their values' bytes plus one chunk of text or Python objects, not an object per row
    and field (~3 GB for 5 million sessions). PostgreSQL sends the rows with COPY as CSV, which pandas' C
    parser reads (~5x less CPU than a cursor's Python objects); other stores stream through the cursor."""
    chunks = _copy_chunks if conn.dialect.name == "postgresql" else _cursor_chunks
    names, parts = None, []
    for names, raw in chunks(conn, stmt, dates, numbers, chunk_rows):
        part = {}
        for name in names:
            column = raw[name]
            if name in dates:
                part[name] = pd.to_datetime(column, errors="coerce", format="ISO8601")
            elif name in numbers:
                part[name] = pd.to_numeric(column, errors="coerce").astype(np.float32)
            else:
                part[name] = column if isinstance(column.dtype, pd.CategoricalDtype) else column.astype("category")
        parts.append(pd.DataFrame(part, copy=False))
    if not parts:
        names = names or [c.name for c in stmt.selected_columns]
        empty = {n: pd.Series(dtype="datetime64[ns]" if n in dates else np.float32 if n in numbers else "category")
                 for n in names}
        return pd.DataFrame(empty)
    return pd.DataFrame({n: _concat([p[n] for p in parts]) for n in names})


def _cursor_chunks(conn: Connection, stmt, dates, numbers, chunk_rows: int):
    """(column names, {name: object Series}) per chunk of rows from SQLAlchemy's buffered streaming
    (an option of this statement only: Connection.execution_options would change the caller's connection)."""
    result = conn.execute(stmt, execution_options={"yield_per": chunk_rows})
    names = list(result.keys())
    for rows in result.partitions(chunk_rows):
        columns = list(zip(*rows))
        yield names, {name: pd.Series(np.array(columns[i], dtype=object)) for i, name in enumerate(names)}
    result.close()


def _copy_chunks(conn: Connection, stmt, dates, numbers, chunk_rows: int):
    """The same from PostgreSQL's COPY (the select's parameters bound by the driver) into a temporary file,
    read back by pandas a chunk at a time: categories and float32 as it parses, times as text."""
    compiled = stmt.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    dbapi = conn.connection.dbapi_connection
    with dbapi.cursor() as cursor, tempfile.TemporaryFile() as buffer:
        query = cursor.mogrify(str(compiled), compiled.params).decode()
        cursor.copy_expert(f"COPY ({query}) TO STDOUT WITH (FORMAT csv, HEADER)", buffer)
        buffer.seek(0)
        names = next(csv.reader([buffer.readline().decode()]), [])
        buffer.seek(0)
        dtype = {n: (str if n in dates else np.float32 if n in numbers else "category") for n in names}
        for chunk in pd.read_csv(buffer, dtype=dtype, chunksize=chunk_rows, keep_default_na=False, na_values=[""]):
            yield names, chunk


def _concat(columns: list[pd.Series]) -> pd.Series:
    """Chunks of one column end to end (categories united, codes recoded)."""
    if isinstance(columns[0].dtype, pd.CategoricalDtype):
        if len({c.cat.categories.dtype for c in columns}) > 1:  # e.g. a chunk where the column is all NULL
            columns = [c.cat.rename_categories(c.cat.categories.astype(object)) for c in columns]
        return pd.Series(union_categoricals(columns, ignore_order=True))
    return pd.concat(columns, ignore_index=True)


def bulk_insert(conn: Connection, table: Table, df: pd.DataFrame) -> int:
    """Append df's rows (its columns are columns of `table`); returns the row count.
    The same as models.frames.bulk_append (PostgreSQL COPY, SQLite one executemany of plain tuples)."""
    if df.empty:
        return 0
    return bulk_append(conn, table, df)


@contextmanager
def staged(conn: Connection, like: Table, columns: list[str], df: pd.DataFrame) -> Iterator[Table]:
    """A temporary table with `columns` of `like` (same types, no constraints) holding df's rows."""
    kw = {"postgresql_on_commit": "DROP"} if conn.dialect.name == "postgresql" else {}
    stage = Table(f"stage_{like.name}_{uuid.uuid4().hex[:8]}", MetaData(),
                  *(Column(c, like.c[c].type) for c in columns), prefixes=["TEMPORARY"], **kw)
    stage.create(conn)
    try:
        bulk_insert(conn, stage, df[columns])
        yield stage
    finally:
        if conn.dialect.name != "postgresql":  # PostgreSQL drops it at commit
            stage.drop(conn)


def upsert_staged(conn: Connection, table: Table, rows: pd.DataFrame, keys: list[str]) -> int:
    """Insert rows (its columns: some of `table`'s), a row whose `keys` exist replacing that row's other
    columns: one INSERT ... SELECT ... ON CONFLICT from a staged copy, hundreds of thousands of rows in
    seconds instead of a statement per row. Returns the row count."""
    if rows.empty:
        return 0
    columns = list(rows.columns)
    with staged(conn, table, columns, rows) as stage:
        insert = (postgresql if conn.dialect.name == "postgresql" else sqlite).insert(table)
        stmt = insert.from_select(columns, select(*stage.c).where(true()))  # WHERE: SQLite's upsert parse
        conn.execute(stmt.on_conflict_do_update(index_elements=[table.c[k] for k in keys],
                                                set_={c: stmt.excluded[c] for c in columns if c not in keys}))
    return len(rows)
