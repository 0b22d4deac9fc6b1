"""Rows deleted at the source: a periodic id reconciliation per record.

Polling by `updated_at` never sees a row that was deleted (a cancelled booking removed by the
Rails app keeps counting). Every `reconcile_interval_s` a source that can list its ids (an
adapter with `ids(record)`) is compared with the store: ids the store holds and the source no
longer has are removed from the source table and kept in `deleted_rows` (what the row was, when).
Reading one id column is cheap even at 10x volume (a few seconds for millions of ids, once an hour).

Safety: only a record that this source alone feeds is reconciled (a CSV export and the Rails
database both feeding `sessions` would otherwise delete each other's rows), and a reconciliation
that would delete more than `reconcile_max_delete_share` of the rows refuses (a truncated or
wrongly configured source must not empty the store); the refusal is an error on the data-health page.
"""
from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine

from domain.contract import RECORDS
from models.ops import SourceState
from models.source import SOURCE_TABLES, DeletedRow, ReconcileState
from sources.base import ContractViolation

log = logging.getLogger(__name__)
CHUNK = 5000


def reconcile_if_due(engine: Engine, adapter, record: str, settings, now: datetime) -> int:
    """Reconcile `record` of `adapter` when it is due; returns the number of rows marked deleted."""
    spec = RECORDS[record]
    if not hasattr(adapter, "ids") or len(spec.key) != 1 or spec.watermark is None:
        return 0
    with engine.connect() as conn:
        last = conn.execute(select(ReconcileState.reconciled_at).where(
            ReconcileState.source == adapter.name, ReconcileState.record == record)).scalar()
        others = conn.execute(select(SourceState.source).where(
            SourceState.record == record, SourceState.source != adapter.name)).first()
    if last is not None and now - last < timedelta(seconds=settings.reconcile_interval_s):
        return 0
    if others is not None:
        _mark(engine, adapter.name, record, now, 0)
        return 0
    return reconcile(engine, adapter, record, now, settings.reconcile_max_delete_share)


def reconcile(engine: Engine, adapter, record: str, now: datetime, max_share: float = 0.5) -> int:
    """Remove the store's rows of `record` whose id the source no longer has; returns how many."""
    key = RECORDS[record].key[0]
    table = SOURCE_TABLES[record].__table__
    at_source = set(adapter.ids(record))
    with engine.connect() as conn:
        stored = set(conn.execute(select(table.c[key])).scalars())
    gone = sorted(stored - at_source)
    if gone and len(gone) > max_share * len(stored):
        _mark(engine, adapter.name, record, now, 0)
        raise ContractViolation(f"id reconciliation refused: {len(gone)} of {len(stored)} stored rows are missing "
                                f"at the source (more than {max_share:.0%}); check the source before they are deleted")
    personal = RECORDS[record].personal
    with engine.begin() as conn:
        for start in range(0, len(gone), CHUNK):
            chunk = gone[start:start + CHUNK]
            rows = conn.execute(select(table).where(table.c[key].in_(chunk))).mappings().all()
            conn.execute(insert(DeletedRow), [
                {"source": adapter.name, "record": record, "row_key": str(r[key])[:255], "deleted_at": now,
                 "payload": json.dumps({k: _text(v) for k, v in r.items() if k not in personal and k != "row_hash"})}
                for r in rows])
            conn.execute(table.delete().where(table.c[key].in_(chunk)))
    _mark(engine, adapter.name, record, now, len(gone))
    if gone:
        log.info("%s %s: %d rows deleted at the source, removed from the store", adapter.name, record, len(gone))
    return len(gone)


def _mark(engine: Engine, source: str, record: str, now: datetime, deleted: int) -> None:
    t = ReconcileState.__table__
    with engine.begin() as conn:
        done = conn.execute(update(t).where(t.c.source == source, t.c.record == record).values(
            reconciled_at=now, deleted=deleted, deleted_total=t.c.deleted_total + deleted)).rowcount
        if not done:
            conn.execute(insert(t).values(source=source, record=record, reconciled_at=now, deleted=deleted,
                                          deleted_total=deleted))


def _text(value):
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    return value if isinstance(value, (int, float, str)) else str(value)
