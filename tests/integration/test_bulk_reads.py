"""models.bulk.read_compact on both stores: every row, chunk after chunk, into categorical / float32 / datetime64
columns with the same values a plain read gives."""
from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import Column, DateTime, Float, Integer, MetaData, String, Table, select

from models.base import get_engine
from models.bulk import read_columns, read_compact, text_times


def test_read_compact_keeps_every_row_across_chunks_and_matches_a_plain_read(any_settings):
    engine = get_engine(any_settings.db_url)
    table = Table("compact_probe", MetaData(), Column("id", Integer, primary_key=True), Column("who", String(16)),
                  Column("score", Float), Column("at", DateTime))
    table.create(engine)
    start = datetime(2026, 1, 1, 8, 30)
    rows = [{"id": i, "who": None if 4 <= i <= 6 else f"c{i % 3}", "score": None if i == 6 else i / 4,
             "at": None if i == 8 else start + timedelta(hours=i)} for i in range(1, 11)]
    with engine.begin() as conn:
        conn.execute(table.insert(), rows)
    with engine.connect() as conn:
        stmt = select(table.c.id, table.c.who, table.c.score, *text_times(conn, [table.c.at])).order_by(table.c.id)
        compact = read_compact(conn, stmt, dates=["at"], numbers=["score"], chunk_rows=3)
        plain = read_columns(conn, stmt, dates=["at"])
        empty = read_compact(conn, stmt.where(table.c.id > 99), dates=["at"], numbers=["score"])
    assert len(compact) == 10 and list(compact["id"].astype(int)) == list(range(1, 11))  # the first row too
    assert isinstance(compact["who"].dtype, pd.CategoricalDtype) and sorted(compact["who"].cat.categories) == ["c0", "c1", "c2"]
    assert compact["who"].isna().sum() == 3  # the second chunk is all NULL: its categories differ in type
    assert list(compact["who"].astype(object).fillna("-")) == list(plain["who"].fillna("-"))
    assert compact["score"].dtype == np.float32 and np.isnan(compact["score"][5])
    assert np.allclose(compact["score"].drop(5).to_numpy(), [r["score"] for r in rows if r["score"] is not None])
    assert pd.api.types.is_datetime64_any_dtype(compact["at"]) and compact["at"].isna().sum() == 1
    assert (compact["at"].dropna().reset_index(drop=True) == plain["at"].dropna().reset_index(drop=True)).all()
    assert empty.empty and list(empty.columns) == ["id", "who", "score", "at"]
