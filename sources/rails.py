"""The marketplace's Rails PostgreSQL database, read-only, polled by `updated_at`.

Tables `customers`, `tutors`, `tutor_availability`, `sessions`, `bookings`, `campaigns` carry the
contract's columns plus Rails' own (`id`, `created_at`, anything else), which are ignored.

Id mapping: Rails often names the primary key `id` and may or may not keep the contract id in a
column. For a record's own key (`customers.customer_id`, `tutors.tutor_id`, `sessions.session_id`,
`bookings.booking_id`, `campaigns.campaign_id`) the column of that name is used when the table has
one, else `id` cast to text. Every string field is cast to text in SQL, so integer foreign keys
(`sessions.customer_id -> customers.id`) come out as the same strings as the ids they point to.

Being a good guest of the production database:
- sessions are read-only (`default_transaction_read_only=on`), with a short `statement_timeout`,
  `lock_timeout` and `idle_in_transaction_session_timeout`, all set as connection options;
- one plain SELECT per fetch (no ORDER BY, no FOR UPDATE), built with SQLAlchemy Core with bound
  parameters and streamed through a server-side cursor in chunks; the only lock it holds is the ACCESS SHARE every SELECT takes, released at the end of
  the fetch; the adapter never writes.
Point it at a read replica where one exists: a fetch is one snapshot, held while it streams.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy import Text, cast, column, create_engine, inspect, null, select, table
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine, make_url

from sources.base import ContractViolation, SourceUnavailable
from domain.contract import RECORDS
from infra.urls import normalise_url

log = logging.getLogger(__name__)

TABLES = ("customers", "tutors", "tutor_availability", "sessions", "bookings", "campaigns")
WATERMARK = "updated_at"


class RailsAdapter:
    """Adapter over the Rails database at `dsn` (postgresql://user:pass@host:port/db).

    `lookback` widens each poll to `updated_at >= since - lookback`: Rails stamps updated_at before
    its transaction commits, so a row from a slow transaction can become visible with a stamp older
    than a watermark already taken. Re-read rows are counted as unchanged downstream.
    """

    def __init__(self, dsn: str, chunk_size: int = 50_000, statement_timeout_s: float = 30,
                 lookback: timedelta = timedelta(minutes=5)):
        url = make_url(normalise_url(dsn))
        if url.get_backend_name() != "postgresql":
            raise ValueError(f"rails source must be a postgresql:// DSN, got {url.drivername!r}")
        self.name = "rails:" + url.set(drivername="postgresql").render_as_string(hide_password=True)
        self.chunk_size = chunk_size
        self.lookback = lookback
        timeout_ms = int(statement_timeout_s * 1000)
        options = (f"-c default_transaction_read_only=on -c statement_timeout={timeout_ms} "
                   f"-c lock_timeout=2000 -c idle_in_transaction_session_timeout={2 * timeout_ms} -c TimeZone=UTC")
        self.engine: Engine = create_engine(
            url, pool_pre_ping=True, pool_size=1, max_overflow=2,
            connect_args={"options": options, "connect_timeout": 5, "application_name": "dashboard-rails-adapter"})

    @property
    def records(self) -> tuple[str, ...]:
        """The contract tables this database has; all six when it cannot be reached (so fetch reports why)."""
        try:
            with self.engine.connect() as conn:
                present = set(inspect(conn).get_table_names())
        except sa_exc.DBAPIError:
            return TABLES
        return tuple(t for t in TABLES if t in present)

    def check(self) -> None:
        try:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
        except sa_exc.DBAPIError as exc:
            raise SourceUnavailable(f"{self.name}: {_first_line(exc)}") from exc

    def fetch(self, record: str, since: datetime | None) -> pd.DataFrame:
        """Rows of `record` with updated_at >= since - lookback (all rows when since is None).

        Returns the contract columns (domain.contract.RECORDS[record].columns): strings, datetimes
        (naive UTC), numbers; ingestion validates them. tutor_availability is a full snapshot unless
        its table has an updated_at column and `since` is given.
        """
        if record not in TABLES:
            raise ContractViolation(f"{self.name} does not provide {record!r}; it provides {', '.join(TABLES)}")
        dbapi = self.engine.dialect.loaded_dbapi
        try:
            with self.engine.connect() as conn:
                stmt = self._select(conn, record, since)
                frames = [self._frame(record, rows) for rows in self._chunks(conn, stmt)]
        except (sa_exc.ProgrammingError, dbapi.ProgrammingError) as exc:  # a table or column changed under us
            raise ContractViolation(f"{self.name} {record}: {_first_line(exc)}") from exc
        except (sa_exc.DBAPIError, dbapi.Error) as exc:  # refused, timed out, cancelled, connection lost
            raise SourceUnavailable(f"{self.name} {record}: {_first_line(exc)}") from exc
        if not frames:
            return self._frame(record, [])
        return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]

    def ids(self, record: str) -> list[str]:
        """Every id of `record` at the source, as text (the id reconciliation: rows deleted at the source).

        One column through the server-side cursor: a few seconds for millions of rows.
        """
        spec = RECORDS[record]
        dbapi = self.engine.dialect.loaded_dbapi
        try:
            with self.engine.connect() as conn:
                inspector = inspect(conn)
                present = {c["name"] for c in inspector.get_columns(record)}
                name = spec.key[0] if spec.key[0] in present else "id"
                src = table(record, column(name))
                out: list[str] = []
                for rows in self._chunks(conn, select(cast(src.c[name], Text))):
                    out.extend(r[0] for r in rows)
                return out
        except (sa_exc.DBAPIError, dbapi.Error) as exc:
            raise SourceUnavailable(f"{self.name} {record} ids: {_first_line(exc)}") from exc

    def close(self) -> None:
        self.engine.dispose()

    def _select(self, conn, record: str, since: datetime | None):
        """SELECT <contract columns> FROM <table> [WHERE updated_at >= :since], from the table's real columns."""
        spec = RECORDS[record]
        inspector = inspect(conn)
        if not inspector.has_table(record):
            raise ContractViolation(f"{self.name}: table {record!r} is missing")
        present = {c["name"] for c in inspector.get_columns(record)}
        own_key = spec.key[0] if len(spec.key) == 1 else None
        source_of = {c: c for c in spec.columns if c in present}
        if own_key and own_key not in present and "id" in present:
            source_of[own_key] = "id"
        missing = [c for c in spec.columns if c not in source_of and spec.field(c).required]
        if missing:
            raise ContractViolation(f"{self.name}: table {record!r} is missing column(s) {', '.join(missing)}")
        wanted = set(source_of.values()) | ({WATERMARK} if WATERMARK in present else set())
        src = table(record, *(column(c) for c in sorted(wanted)))
        exprs = []
        for field in spec.fields:
            if field.name not in source_of:  # an optional field this database does not have (e.g. phone)
                exprs.append(null().label(field.name))
                continue
            col = src.c[source_of[field.name]]
            exprs.append((cast(col, Text) if field.kind == "str" else col).label(field.name))
        stmt = select(*exprs)
        if since is not None and WATERMARK in present:
            stmt = stmt.where(src.c[WATERMARK] >= since - self.lookback)
        return stmt

    def _chunks(self, conn, stmt):
        """The rows of the compiled, parameterised `stmt` in chunks, from a server-side (named) cursor.

        The driver's plain tuples go straight to pandas: wrapping each row in a SQLAlchemy Row and
        unwrapping it again cost more than the database's own work on big tables.
        """
        compiled = stmt.compile(dialect=conn.dialect)
        cursor = conn.connection.dbapi_connection.cursor(name="dashboard_rails_fetch")
        try:
            cursor.execute(compiled.string, compiled.params)
            while rows := cursor.fetchmany(self.chunk_size):
                yield rows
        finally:
            cursor.close()

    @staticmethod
    def _frame(record: str, rows) -> pd.DataFrame:
        spec = RECORDS[record]
        df = pd.DataFrame.from_records(rows, columns=spec.columns)
        for field in spec.fields:  # typed per chunk so a 10x table does not sit in memory as Python objects
            if field.kind in ("date", "datetime") and df[field.name].dtype == object:
                df[field.name] = pd.to_datetime(df[field.name], errors="coerce", utc=True).dt.tz_localize(None)
        return df


def _first_line(exc: Exception) -> str:
    orig = getattr(exc, "orig", None) or exc
    return str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
