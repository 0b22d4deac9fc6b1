"""Pull records from sources into the store: validate, quarantine bad rows, upsert, keep watermarks.

Each (source, record) has a watermark in `source_state`. A poll fetches rows whose watermark
column is >= the stored watermark (so rows at the boundary are seen again and counted as
unchanged, never lost), validates them against the contract, quarantines bad rows with their
reason, upserts the good ones idempotently, and only then advances the watermark, never past the
time of the poll (rows stamped in the future are quarantined; a future watermark already stored is
repaired). A source that fails is retried with backoff; any failure of a record's poll is caught,
recorded with its freshness for the data-health view, and the other records go on.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from config import Settings
from models.base import get_engine
from models.frames import row_hash, upsert_frame
from models.ops import QuarantinedRow, SourceState
from models.source import SOURCE_TABLES
from sources.base import Adapter, SourceUnavailable, TokenRefused
from domain.contract import INGEST_ORDER, RECORDS
from infra.clock import utcnow
from infra.retry import with_retries
from ingestion.reconcile import reconcile_if_due
from ingestion.validation import typed_column, validate
from ingestion.watermarks import repair_watermark
from infra.versions import bump_version

log = logging.getLogger(__name__)
EMPTY_COUNTS = {"inserted": 0, "updated": 0, "unchanged": 0, "quarantined": 0}
ID_LOOKUP_LIMIT = 50_000  # distinct referenced ids in a batch above which the whole id column is read
ID_LOOKUP_CHUNK = 5_000


def ingest_sources(settings: Settings, adapters: list[Adapter], progress: bool = False) -> dict:
    """Poll every adapter; returns {"records": {record: counts summed over sources}, "errors": {source: msg}}.

    Records already ingested from a source count even when another record of it fails; `errors`
    names every (source, record) whose poll failed, whatever the cause (the `ingest` command's exit
    code says whether it is empty).
    """
    engine = get_engine(settings.db_url)
    totals: dict[str, dict[str, int]] = {}
    errors: dict[str, str] = {}
    for adapter in adapters:
        counts: dict[str, dict[str, int]] = {}
        failed = ingest_adapter(engine, adapter, settings, progress=progress, into=counts)
        if failed:
            errors[adapter.name] = "; ".join(f"{msg} [{record}]" for record, msg in failed.items())
        for record, c in counts.items():
            into = totals.setdefault(record, dict(EMPTY_COUNTS))
            for k, v in c.items():
                into[k] = into.get(k, 0) + v
    if any(c["inserted"] or c["updated"] or c["quarantined"] or c.get("deleted") for c in totals.values()):
        with engine.begin() as conn:
            bump_version(conn, "source")
    return {"records": totals, "errors": errors}


def ingest_adapter(engine: Engine, adapter: Adapter, settings: Settings, progress: bool = False,
                   into: dict | None = None) -> dict[str, str]:
    """Ingest every record the adapter provides, parents before children; returns {record: error} of
    the records that failed (each also recorded in source_state).

    A failure of one record does not stop the others, except that a source which stays unreachable
    ends this poll of it (the next records would only time out too), and a record whose parent
    failed in this poll waits for the next one (its rows would be quarantined as dangling).
    `into` keeps the counts of what landed.
    """
    result = into if into is not None else {}
    failed: dict[str, str] = {}
    try:
        records = [r for r in INGEST_ORDER if r in adapter.records]
    except Exception as exc:  # noqa: BLE001 - whatever a source raises, the poll reports it
        log.warning("%s: cannot list its records: %s", adapter.name, _describe(exc))
        return {"(source)": _describe(exc)}
    bar = _progress_bar(progress, len(records), adapter.name)
    try:
        for record in records:
            parents = [p for p, _ in RECORDS[record].refs.values() if p in failed]
            if parents:
                exc = SourceUnavailable(f"not polled: {', '.join(sorted(set(parents)))} failed in this poll")
                _record_failure(engine, adapter.name, record, utcnow(), exc)
                failed[record] = _describe(exc)
                continue
            try:
                result[record] = ingest_record(engine, adapter, record, settings)
            except Exception as exc:  # noqa: BLE001 - caught per record, recorded, shown on data health
                failed[record] = _describe(exc)
                if isinstance(exc, SourceUnavailable):
                    break
            if bar:
                bar.set_postfix_str(record)
                bar.update(1)
    finally:
        if bar:
            bar.close()
    return failed


def ingest_record(engine: Engine, adapter: Adapter, record: str, settings: Settings) -> dict[str, int]:
    """One poll of one record: fetch, validate, quarantine, upsert, advance the watermark (never past
    the poll time), and now and then reconcile ids to find rows deleted at the source.

    Any exception is recorded in source_state (error, consecutive failures) and raised.
    """
    attempt_at = utcnow()
    try:
        return _ingest_record(engine, adapter, record, settings, attempt_at)
    except Exception as exc:
        log.warning("%s %s: poll failed: %s", adapter.name, record, _describe(exc))
        try:
            _record_failure(engine, adapter.name, record, attempt_at, exc)
        except Exception:  # noqa: BLE001 - the store itself is down: the caller still hears of the first error
            log.exception("%s %s: could not record the failure", adapter.name, record)
        raise


def _ingest_record(engine: Engine, adapter: Adapter, record: str, settings: Settings, attempt_at: datetime) -> dict:
    spec = RECORDS[record]
    state = _state(engine, adapter.name, record)
    since = state.watermark if state is not None and spec.watermark else None
    if since is not None and since > attempt_at:
        since = repair_watermark(engine, adapter.name, record, since, attempt_at)
    raw = with_retries(lambda: adapter.fetch(record, since), settings.source_retries,
                       settings.source_backoff_s, (SourceUnavailable,), what=f"{adapter.name} {record}",
                       give_up_on=(TokenRefused,))
    unreadable = raw.attrs.get("rejected")  # lines the source could not parse (e.g. a ragged CSV line)
    good, bad = validate(record, raw, _known_ids(engine, record, raw), now=attempt_at,
                         skew=timedelta(seconds=settings.clock_skew_s))
    if unreadable is not None and len(unreadable):
        bad = pd.concat([unreadable[list(bad.columns)], bad], ignore_index=True) if len(bad) else unreadable
    table = SOURCE_TABLES[record].__table__
    if not good.empty:
        good = good.assign(row_hash=row_hash(good, spec.columns))
    counts = upsert_frame(engine, table, good, list(spec.key))
    if spec.snapshot_of and not raw.empty:
        _prune_snapshot(engine, table, good, list(spec.key), spec.snapshot_of, adapter.name)
    counts["quarantined"] = _quarantine(engine, adapter.name, record, bad, attempt_at)
    deleted = reconcile_if_due(engine, adapter, record, settings, attempt_at)
    if deleted:  # only then: the usual four counts stay the shape callers print
        counts["deleted"] = deleted
    watermark = _new_watermark(good, spec.watermark, since, attempt_at)
    _record_success(engine, adapter.name, record, attempt_at, watermark, counts, table)
    log.debug("ingested %s from %s: %s", record, adapter.name, counts)
    return counts


def _prune_snapshot(engine: Engine, table, good: pd.DataFrame, key: list[str], parent: str, source: str) -> int:
    """A snapshot record is the whole truth for each parent it mentions (e.g. a tutor's weekly hours):
    rows of those parents that the snapshot no longer holds are deleted. Parents it does not mention
    keep their rows (another source may own them)."""
    if good.empty:
        return 0
    keep = set(map(tuple, good[key].astype(object).itertuples(index=False, name=None)))
    parents = list(good[parent].unique())
    removed = 0
    with engine.begin() as conn:
        for start in range(0, len(parents), 5000):
            chunk = parents[start:start + 5000]
            stored = conn.execute(select(*[table.c[k] for k in key]).where(table.c[parent].in_(chunk))).all()
            gone = [tuple(r) for r in stored if tuple(r) not in keep]
            for row in gone:
                conn.execute(table.delete().where(*[table.c[k] == v for k, v in zip(key, row)]))
            removed += len(gone)
    if removed:
        log.info("%s: removed %d %s rows no longer in the snapshot", source, removed, table.name)
    return removed


def _new_watermark(good: pd.DataFrame, column: str | None, since: datetime | None, poll_at: datetime):
    """Advance to the newest watermark value among good rows, never backwards and never past the poll
    time: a row stamped a little ahead (within the allowed skew) is read again at the next poll, as
    unchanged, instead of hiding the rows stamped before it that arrive later."""
    if not column or good.empty:
        return since
    newest = good[column].max()
    if pd.isna(newest):
        return since
    newest = min(pd.Timestamp(newest).to_pydatetime(), poll_at)
    return max(newest, since) if since else newest


def _known_ids(engine: Engine, record: str, raw: pd.DataFrame) -> dict[str, set]:
    """Ids of referenced records already in the store, among those the batch refers to (parents are
    ingested first). A poll's batch names a few thousand ids: looking those up by primary key costs
    milliseconds where reading every customer id costs seconds at 500,000 customers; a batch naming
    more than ID_LOOKUP_LIMIT distinct ids (a first full load) reads the whole id column instead."""
    known = {}
    for col, (ref_record, ref_col) in RECORDS[record].refs.items():
        table = SOURCE_TABLES[ref_record].__table__
        wanted = sorted(set(typed_column(raw[col], "str").dropna())) if col in raw.columns else []
        with engine.connect() as conn:
            if len(wanted) > ID_LOOKUP_LIMIT:
                known[ref_record] = set(conn.execute(select(table.c[ref_col])).scalars())
                continue
            found: set = set()
            for start in range(0, len(wanted), ID_LOOKUP_CHUNK):
                chunk = wanted[start:start + ID_LOOKUP_CHUNK]
                found.update(conn.execute(select(table.c[ref_col]).where(table.c[ref_col].in_(chunk))).scalars())
            known[ref_record] = found
    return known


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]


def _quarantine(engine: Engine, source: str, record: str, bad: pd.DataFrame, at: datetime) -> int:
    """Store bad rows with their reasons; the same bad row seen again is stored once."""
    if bad.empty:
        return 0
    rows = [dict(source=source, record=record, row_key=str(r.row_key)[:255], reason=str(r.reason)[:512],
                 payload=r.payload, received_at=at) for r in bad.itertuples(index=False)]
    table = QuarantinedRow.__table__
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as dialect_insert
        else:
            from sqlalchemy.dialects.sqlite import insert as dialect_insert
        stmt = dialect_insert(table).on_conflict_do_nothing(
            index_elements=[table.c.source, table.c.record, table.c.row_key, table.c.reason])
        conn.execute(stmt, rows)
    return len(rows)


def _state(engine: Engine, source: str, record: str) -> SourceState | None:
    with Session(engine, expire_on_commit=False) as session:
        return session.scalars(select(SourceState).where(
            SourceState.source == source, SourceState.record == record)).first()


def _upsert_state(engine: Engine, source: str, record: str, values: dict) -> None:
    with engine.begin() as conn:
        changed = conn.execute(update(SourceState).where(
            SourceState.source == source, SourceState.record == record).values(**values)).rowcount
        if not changed:
            conn.execute(insert(SourceState).values(source=source, record=record, **values))


def _record_failure(engine: Engine, source: str, record: str, at: datetime, exc: Exception) -> None:
    state = _state(engine, source, record)
    failures = (state.consecutive_failures if state else 0) + 1
    _upsert_state(engine, source, record, {"last_attempt_at": at, "last_error": _describe(exc),
                                           "consecutive_failures": failures})


def _record_success(engine, source, record, at, watermark, counts, table) -> None:
    """rows_total: the table's rows as counted at the source's first poll plus what it inserted (less
    what reconciliation deleted) since (exact while each record has one source); a COUNT(*) of
    millions of sessions at every 15-second poll would cost seconds of database time each time."""
    state = _state(engine, source, record)
    if state is not None and state.last_success_at is not None:
        total = (state.rows_total or 0) + int(counts.get("inserted", 0)) - int(counts.get("deleted", 0))
    else:
        with engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(table)).scalar()
    _upsert_state(engine, source, record, {
        "watermark": watermark, "last_attempt_at": at, "last_success_at": at, "last_error": None,
        "consecutive_failures": 0, "rows_total": max(int(total or 0), 0),
        **{k: int(v) for k, v in counts.items() if k in EMPTY_COUNTS}})


def _progress_bar(enabled: bool, total: int, name: str):
    if not enabled:
        return None
    from tqdm import tqdm
    return tqdm(total=total, desc=f"ingest {name}", unit="record")


