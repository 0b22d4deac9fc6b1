"""The Rails adapter against a real Rails-shaped PostgreSQL database, into SQLite and PostgreSQL stores."""
from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest
from sqlalchemy import func, select, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from models.base import get_engine
from models.ops import SourceState
from models.source import SOURCE_TABLES, Campaign, Customer, TutorSession
from sources import get_adapter
from sources.base import ContractViolation, SourceUnavailable
from sources.rails import RailsAdapter
from domain.contract import RECORDS
from ingestion.pipeline import ingest_sources
from tests.conftest import create_pg_database, drop_pg_database
from infra.clock import utcnow
from tests.support.dataset import contract_frames
from tests.support.rails_db import RAILS_TABLES, load_rails_db, rails_engine

pytestmark = pytest.mark.postgres
APP_NAME = "dashboard-rails-adapter"


@pytest.fixture(scope="module")
def frames():
    return contract_frames(customers=300, days=30, seed=1)


@pytest.fixture
def rails_db(pg_server, frames):
    """A fresh Rails database (campaigns keyed by `id` only); yields its URL."""
    url = create_pg_database(pg_server, prefix="rails_src")
    load_rails_db(url, frames)
    yield url
    drop_pg_database(pg_server, url)


@pytest.fixture
def rails(rails_db):
    """The Rails app's own read-write connection to its database."""
    engine = rails_engine(rails_db)
    yield engine
    engine.dispose()


@pytest.fixture
def adapter(rails_db):
    a = get_adapter(f"rails:{rails_db}", settings=None)
    a.chunk_size = 100  # several chunks per table even on test data
    yield a
    a.close()


def _comparable(record: str, df: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(index=df.index)
    for f in RECORDS[record].fields:
        out[f.name] = df[f.name].astype(object) if f.kind == "str" else (
            pd.to_datetime(df[f.name]).astype("datetime64[us]") if f.kind in ("date", "datetime") else df[f.name].astype(float))
    return out


def store_count(engine, record):
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(SOURCE_TABLES[record].__table__)).scalar()


def test_full_ingest_equals_the_source_and_a_second_poll_inserts_nothing(any_settings, adapter, rails, frames):
    result = ingest_sources(any_settings, [adapter])
    assert result["errors"] == {}
    assert adapter.records == RAILS_TABLES
    store = get_engine(any_settings.db_url)
    with rails.connect() as conn:
        source_counts = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in RAILS_TABLES}
        rails_campaign_ids = {str(i) for i in conn.execute(text("SELECT id FROM campaigns")).scalars()}
    assert {t: store_count(store, t) for t in RAILS_TABLES} == source_counts
    assert all(result["records"][t]["quarantined"] == 0 for t in RAILS_TABLES)
    # campaigns has no campaign_id column: the contract id is Rails' id, as text
    with store.connect() as conn:
        assert set(conn.execute(select(Campaign.campaign_id)).scalars()) == rails_campaign_ids
        stored = pd.read_sql(select(TutorSession.__table__).order_by(TutorSession.session_id), conn)
    expected = frames["sessions"].sort_values("session_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(_comparable("sessions", stored), _comparable("sessions", expected))

    second = ingest_sources(any_settings, [adapter])["records"]
    assert all(c["inserted"] == 0 and c["updated"] == 0 for c in second.values())
    assert {t: store_count(store, t) for t in RAILS_TABLES} == source_counts


def test_rows_touched_in_rails_are_updated_and_only_those(any_settings, adapter, rails, frames):
    ingest_sources(any_settings, [adapter])
    later = utcnow()  # what Rails stamps now: past every watermark (the data ends at the hour before)
    changed = frames["sessions"]["session_id"].iloc[[3, 50, 200]].tolist()
    paused = frames["customers"]["customer_id"].iloc[[1, 2]].tolist()
    with rails.begin() as conn:
        conn.execute(text("UPDATE sessions SET status = 'cancelled', rating = NULL, updated_at = :t, "
                          "lock_version = lock_version + 1 WHERE session_id = ANY(:ids)"), {"t": later, "ids": changed})
        conn.execute(text("UPDATE customers SET status = 'paused', updated_at = :t WHERE customer_id = ANY(:ids)"),
                     {"t": later, "ids": paused})
        conn.execute(text("UPDATE tutors SET lock_version = 7"))  # a Rails-only column: nothing the dashboard sees

    recs = ingest_sources(any_settings, [adapter])["records"]
    assert recs["sessions"]["updated"] == 3 and recs["sessions"]["inserted"] == 0
    assert recs["customers"]["updated"] == 2 and recs["customers"]["inserted"] == 0
    assert recs["tutors"]["updated"] == 0
    store = get_engine(any_settings.db_url)
    with store.connect() as conn:
        statuses = dict(conn.execute(select(TutorSession.session_id, TutorSession.status)
                                     .where(TutorSession.session_id.in_(changed))).all())
        cust = dict(conn.execute(select(Customer.customer_id, Customer.status).where(Customer.customer_id.in_(paused))).all())
        wm = conn.execute(select(SourceState.watermark).where(SourceState.source == adapter.name,
                                                               SourceState.record == "sessions")).scalar()
    assert statuses == {s: "cancelled" for s in changed}
    assert cust == {c: "paused" for c in paused}
    assert pd.Timestamp(wm) == pd.Timestamp(later)


def _adapter_relation_locks(admin) -> list[str]:
    with admin.connect() as conn:
        return list(conn.execute(text(
            "SELECT l.mode FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE a.application_name = :app AND l.locktype = 'relation'"), {"app": APP_NAME}).scalars())


def test_adapter_reads_only_and_leaves_no_locks(adapter, rails, pg_server, frames, monkeypatch):
    with adapter.engine.connect() as conn:
        assert conn.execute(text("SHOW transaction_read_only")).scalar() == "on"
        assert conn.execute(text("SHOW statement_timeout")).scalar() == "30s"
        with pytest.raises(sa_exc.DBAPIError, match="read-only transaction"):
            conn.execute(text("UPDATE customers SET region = 'CA'"))

    # while a fetch streams its chunks, the only lock it holds is the ACCESS SHARE of a plain SELECT
    seen: list[list[str]] = []
    frame = RailsAdapter._frame

    def spy(record, rows):
        seen.append(_adapter_relation_locks(pg_server))
        return frame(record, rows)

    monkeypatch.setattr(RailsAdapter, "_frame", staticmethod(spy))
    assert len(adapter.fetch("sessions", None)) == len(frames["sessions"])
    assert len(seen) >= 5 and all(modes and set(modes) == {"AccessShareLock"} for modes in seen)

    # and after it, nothing: a Rails migration can take the table at once
    assert _adapter_relation_locks(pg_server) == []
    with rails.begin() as conn:
        conn.execute(text("LOCK TABLE sessions IN ACCESS EXCLUSIVE MODE NOWAIT"))


def test_a_migration_holding_the_table_makes_the_fetch_give_up_not_queue(adapter, rails):
    with rails.begin() as conn:
        conn.execute(text("LOCK TABLE bookings IN ACCESS EXCLUSIVE MODE"))
        with pytest.raises(SourceUnavailable, match="lock timeout"):
            adapter.fetch("bookings", None)


def test_a_missing_column_or_table_is_a_clear_contract_violation(settings, pg_server, frames):
    url = create_pg_database(pg_server, prefix="rails_src")
    try:
        load_rails_db(url, frames, drop={"sessions": ("subject",)})
        with rails_engine(url).begin() as conn:
            conn.execute(text("DROP TABLE campaigns"))
        adapter = RailsAdapter(url)
        assert "campaigns" not in adapter.records
        with pytest.raises(ContractViolation, match="table 'campaigns' is missing"):
            adapter.fetch("campaigns", None)
        with pytest.raises(ContractViolation, match="table 'sessions' is missing column\\(s\\) subject"):
            adapter.fetch("sessions", None)

        result = ingest_sources(settings, [adapter])
        assert "ContractViolation" in result["errors"][adapter.name]
        store = get_engine(settings.db_url)
        with Session(store) as session:
            state = session.get(SourceState, (adapter.name, "sessions"))
            customers = session.get(SourceState, (adapter.name, "customers"))
        assert "missing column(s) subject" in state.last_error and state.consecutive_failures == 1
        assert customers.last_error is None and customers.rows_total == len(frames["customers"])
        adapter.close()
    finally:
        drop_pg_database(pg_server, url)


def test_an_unreachable_database_is_a_recorded_source_failure(settings):
    adapter = RailsAdapter("postgresql://dash:secret@127.0.0.1:1/marketplace")
    assert adapter.name == "rails:postgresql://dash:***@127.0.0.1:1/marketplace"
    with pytest.raises(SourceUnavailable, match="127.0.0.1"):
        adapter.check()
    result = ingest_sources(settings, [adapter])
    assert result["errors"][adapter.name].startswith("SourceUnavailable")
    assert "secret" not in result["errors"][adapter.name]
    with Session(get_engine(settings.db_url)) as session:
        state = session.scalars(select(SourceState)).one()
    assert state.record == "customers" and state.consecutive_failures == 1
    assert state.last_success_at is None and "SourceUnavailable" in state.last_error
    assert store_count(get_engine(settings.db_url), "customers") == 0


def test_polls_reread_a_short_lookback_so_late_commits_are_not_lost(any_settings, adapter, rails, frames):
    """Rails stamps updated_at before commit: a row stamped just under the watermark still lands."""
    ingest_sources(any_settings, [adapter])
    newest = frames["sessions"]["updated_at"].max().to_pydatetime()
    late = frames["sessions"].iloc[[0]].assign(session_id="late-commit", updated_at=newest - timedelta(minutes=2))
    with rails.begin() as conn:
        conn.execute(text("INSERT INTO sessions (session_id, customer_id, tutor_id, subject, start_time, end_time, "
                          "rating, status, updated_at, created_at) VALUES (:session_id, :customer_id, :tutor_id, "
                          ":subject, :start_time, :end_time, :rating, :status, :updated_at, :updated_at)"),
                     {k: (None if pd.isna(v) else v) for k, v in late.iloc[0].to_dict().items()})
    recs = ingest_sources(any_settings, [adapter])["records"]
    assert recs["sessions"]["inserted"] == 1


def test_rows_deleted_in_rails_are_removed_from_the_store_and_stop_counting(any_settings, adapter, rails, frames):
    from models.source import Booking, DeletedRow
    from loaders.bookings import load_bookings
    settings = any_settings.model_copy(update={"reconcile_interval_s": 0})
    ingest_sources(settings, [adapter])
    gone = frames["bookings"]["booking_id"].iloc[[0, 7]].tolist()
    session_gone = frames["sessions"]["session_id"].iloc[5]
    with rails.begin() as conn:
        conn.execute(text("DELETE FROM bookings WHERE booking_id = ANY(:ids)"), {"ids": gone})
        conn.execute(text("DELETE FROM sessions WHERE session_id = :s"), {"s": session_gone})
    store = get_engine(settings.db_url)
    before = store_count(store, "bookings")
    recs = ingest_sources(settings, [adapter])["records"]
    assert recs["bookings"]["deleted"] == 2 and recs["sessions"]["deleted"] == 1
    assert store_count(store, "bookings") == before - 2
    with store.connect() as conn:
        assert conn.execute(select(Booking).where(Booking.booking_id.in_(gone))).first() is None
        kept = dict(conn.execute(select(DeletedRow.row_key, DeletedRow.record)).all())
    assert kept == {gone[0]: "bookings", gone[1]: "bookings", session_gone: "sessions"}
    # the shared loader the jobs count bookings with no longer sees them
    start = frames["bookings"]["scheduled_time"].min().to_pydatetime()
    end = (frames["bookings"]["scheduled_time"].max() + pd.Timedelta(days=1)).to_pydatetime()
    loaded = load_bookings(store, start, end, columns=("booking_id", "scheduled_time"))
    assert len(loaded) == before - 2 and not set(gone) & set(loaded["booking_id"])
    # a poll within the interval does not read the ids again
    later = settings.model_copy(update={"reconcile_interval_s": 3600})
    assert "deleted" not in ingest_sources(later, [adapter])["records"]["bookings"]


def test_a_reconciliation_that_would_empty_the_store_refuses_and_says_so(settings, adapter, rails):
    settings = settings.model_copy(update={"reconcile_interval_s": 0})
    ingest_sources(settings, [adapter])
    with rails.begin() as conn:
        conn.execute(text("DELETE FROM bookings"))
    result = ingest_sources(settings, [adapter])
    assert "id reconciliation refused" in result["errors"][adapter.name]
    store = get_engine(settings.db_url)
    assert store_count(store, "bookings") > 0
    with Session(store) as session:
        state = session.get(SourceState, (adapter.name, "bookings"))
    assert state.consecutive_failures == 1 and "refused" in state.last_error


def test_optional_contract_fields_missing_in_rails_are_empty_not_an_error(settings, pg_server, frames):
    url = create_pg_database(pg_server, prefix="rails_src")
    try:
        load_rails_db(url, frames, drop={"customers": ("name", "email", "phone"), "sessions": ("price",)})
        adapter = RailsAdapter(url.replace("postgresql+psycopg2://", "postgres://"))
        assert ingest_sources(settings, [adapter])["errors"] == {}
        with get_engine(settings.db_url).connect() as conn:
            emails = set(conn.execute(text("SELECT email FROM customers")).scalars())
            prices = set(conn.execute(text("SELECT price FROM sessions")).scalars())
        assert emails == {None} and prices == {None}
        adapter.close()
    finally:
        drop_pg_database(pg_server, url)


def test_contact_fields_and_price_land_from_rails(settings, adapter, frames):
    assert ingest_sources(settings, [adapter])["errors"] == {}
    with get_engine(settings.db_url).connect() as conn:
        row = conn.execute(text("SELECT name, email, phone FROM customers WHERE customer_id = :c"),
                           {"c": frames["customers"]["customer_id"].iloc[0]}).one()
        priced = conn.execute(text("SELECT count(*) FROM sessions WHERE price > 0")).scalar()
    expected = frames["customers"].iloc[0]
    assert tuple(row) == (expected["name"], expected["email"], expected["phone"])
    assert priced > 0
