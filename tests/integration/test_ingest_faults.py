"""Issue #12, row by row, on SQLite and PostgreSQL: each kind of bad input ends with the good rows
stored, the bad ones quarantined with a reason, later rows still ingested, and the failure (if any)
visible on the data-health page and in /api/v1/health."""
from __future__ import annotations

import logging
from datetime import timedelta

import pandas as pd
from sqlalchemy import select, update

from domain.contract import DUPLICATE_RULE
from domain.customers.triggers import evaluate_triggers
from infra.clock import utcnow
from ingestion.pipeline import ingest_sources
from layouts.admin.data_health import layout as data_health_layout
from models.base import get_engine
from models.ops import QuarantinedRow, SourceState
from models.source import Booking, Customer, InboundCall, Tutor, TutorSession
from sources.csv_dir import CsvDirAdapter
from tests.support.health_view import data_health
from tests.support.store import FramesAdapter

CUSTOMERS = ["customer_id", "signup_date", "acquisition_channel", "segment", "region", "goal", "goal_status",
             "goal_completed_at", "status", "churned_at", "updated_at"]
SESSIONS = ["session_id", "customer_id", "tutor_id", "subject", "start_time", "end_time", "rating", "status",
            "updated_at"]
TUTOR = "t1,Ann Lee,math;physics,CA,active,4.6,2025-06-01T00:00:00Z,2025-06-02T00:00:00Z\n"
TUTOR_HEADER = "tutor_id,name,subjects,region,status,rating_avg,hired_at,updated_at\n"


def iso(t) -> str:
    return pd.Timestamp(t).strftime("%Y-%m-%dT%H:%M:%SZ")


def customer_line(cid: str, updated, signup="2026-01-05T10:00:00Z", goal="pass algebra") -> str:
    return f"{cid},{signup},organic,k12,CA,{goal},in_progress,,active,,{updated}\n"


def session_line(sid: str, cid: str, start, updated=None) -> str:
    start = pd.Timestamp(start)
    end = start + pd.Timedelta(hours=1)
    return f"{sid},{cid},t1,math,{iso(start)},{iso(end)},5,completed,{updated or iso(end)}\n"


def write(folder, name: str, text: str | bytes) -> None:
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())


def stored(engine, model, key) -> set:
    with engine.connect() as conn:
        return set(conn.execute(select(getattr(model, key))).scalars())


def reasons(engine, record: str) -> dict[str, str]:
    with engine.connect() as conn:
        return dict(conn.execute(select(QuarantinedRow.row_key, QuarantinedRow.reason)
                                 .where(QuarantinedRow.record == record)).all())


def state(engine, source: str, record: str):
    with engine.connect() as conn:
        return conn.execute(select(SourceState).where(SourceState.source == source,
                                                      SourceState.record == record)).first()


def quarantine_shown(view: dict, record: str, words: str) -> bool:
    return any(r["record"] == record and words in r["example"] for r in view["quarantine"])


# 1. a time in the future -----------------------------------------------------------------------

def test_future_times_are_quarantined_and_never_move_the_watermark(any_settings, tmp_path):
    folder = tmp_path / "export"
    past = iso(utcnow() - timedelta(days=2))
    write(folder, "customers.csv", ",".join(CUSTOMERS) + "\n" + customer_line("c1", past)
          + customer_line("c2", "2030-01-01T00:00:00Z") + customer_line("c3", "2999-01-01T00:00:00Z")
          + customer_line("c4", past, signup="2999-06-01T08:00:00Z"))
    write(folder, "tutors.csv", TUTOR_HEADER + TUTOR)
    write(folder, "sessions.csv", ",".join(SESSIONS) + "\n" + session_line("s1", "c1", utcnow() - timedelta(days=1))
          + session_line("s2", "c1", "2030-03-01T10:00:00Z"))
    soon = iso(utcnow() + timedelta(days=3))
    write(folder, "bookings.csv", "booking_id,customer_id,tutor_id,subject,scheduled_time,created_at,status,"
          f"rescheduled_by,updated_at\nb1,c1,t1,math,{soon},{past},scheduled,,{past}\n"
          f"b2,c1,t1,math,{soon},2030-01-01T00:00:00Z,scheduled,,{past}\n")
    write(folder, "inbound_calls.csv", "call_id,customer_id,call_date,duration_s,reason_code\n"
          f"k1,c1,{past},300,billing\nk2,c1,2030-01-01T00:00:00Z,300,billing\n")
    adapter = CsvDirAdapter(str(folder))
    result = ingest_sources(any_settings, [adapter])
    polled = utcnow()
    engine = get_engine(any_settings.db_url)
    assert result["errors"] == {}
    assert stored(engine, Customer, "customer_id") == {"c1"}
    assert stored(engine, TutorSession, "session_id") == {"s1"}
    assert stored(engine, Booking, "booking_id") == {"b1"}  # a scheduled_time ahead is what a booking is
    assert stored(engine, InboundCall, "call_id") == {"k1"}
    why = reasons(engine, "customers")
    assert "updated_at '2030-01-01T00:00:00Z' is in the future" in why["c2"]
    assert "in the future" in why["c3"] and "signup_date '2999-06-01T08:00:00Z' is in the future" in why["c4"]
    assert "start_time" in reasons(engine, "sessions")["s2"] and "created_at" in reasons(engine, "bookings")["b2"]
    for record in ("customers", "sessions", "bookings", "inbound_calls"):
        assert pd.Timestamp(state(engine, adapter.name, record).watermark) <= pd.Timestamp(polled)

    # later rows of the same records still land
    now = iso(utcnow() - timedelta(minutes=5))
    with open(folder / "customers.csv", "a") as f:
        f.write(customer_line("c5", now) + customer_line("c1", now, goal="pass calculus"))
    with open(folder / "sessions.csv", "a") as f:
        f.write(session_line("s3", "c5", utcnow() - timedelta(hours=2), updated=now))
    again = ingest_sources(any_settings, [adapter])["records"]
    assert again["customers"]["inserted"] == 1 and again["customers"]["updated"] == 1
    assert stored(engine, TutorSession, "session_id") == {"s1", "s3"}
    view = data_health(any_settings)
    assert quarantine_shown(view, "customers", "is in the future")


def test_a_stored_future_watermark_is_repaired_and_logged(any_settings, caplog):
    earlier = utcnow() - timedelta(days=3)
    rows = pd.DataFrame([dict(zip(CUSTOMERS, ["c1", earlier, "organic", "k12", "CA", None, "none", None, "active",
                                              None, earlier]))])
    adapter = FramesAdapter({"customers": rows}, name="rails-like")
    ingest_sources(any_settings, [adapter])
    engine = get_engine(any_settings.db_url)
    with engine.begin() as conn:  # what a 2999 row left behind before this fix
        conn.execute(update(SourceState).where(SourceState.source == "rails-like")
                     .values(watermark=pd.Timestamp("2999-01-01").to_pydatetime()))
    later = utcnow() - timedelta(hours=1)
    new = pd.DataFrame([dict(zip(CUSTOMERS, ["c2", later, "organic", "k12", "CA", None, "none", None, "active",
                                             None, later]))])
    adapter.frames["customers"] = pd.concat([rows, new], ignore_index=True)
    with caplog.at_level(logging.WARNING, logger="ingestion.watermarks"):
        counts = ingest_sources(any_settings, [adapter])["records"]["customers"]
    assert counts["inserted"] == 1 and stored(engine, Customer, "customer_id") == {"c1", "c2"}
    assert any("stored watermark 2999-01-01" in r.getMessage() and "repaired" in r.getMessage() for r in caplog.records)
    assert pd.Timestamp(state(engine, "rails-like", "customers").watermark) <= pd.Timestamp(utcnow())


# 2. values the store cannot hold ---------------------------------------------------------------

def test_oversize_values_and_nul_bytes_are_quarantined_the_same_on_every_backend(any_settings):
    t = utcnow() - timedelta(days=1)

    def cust(cid, **kw):
        row = dict(zip(CUSTOMERS, [cid, t, "organic", "k12", "CA", "pass algebra", "in_progress", None, "active",
                                   None, t]))
        return {**row, **kw}
    customers = pd.DataFrame([cust("c1", email="ann@example.com"), cust("c2", goal="x" * 300),
                              cust("c3", goal="pass\x00algebra"), cust("c4", name="N" * 300),
                              cust("c5", phone="5" * 40), cust("c6")])
    sessions = pd.DataFrame([
        dict(zip(SESSIONS, ["s1", "c1", "t1", "math", t, t + timedelta(hours=1), 5.0, "completed", t])) | {"price": 45.0},
        dict(zip(SESSIONS, ["s2", "c1", "t1", "m" * 65, t, t + timedelta(hours=1), 5.0, "completed", t])),
        dict(zip(SESSIONS, ["s3", "c6", "t1", "math", t, t + timedelta(hours=1), 5.0, "completed", t])) | {"price": -5.0},
    ])
    tutors = pd.DataFrame([{"tutor_id": "t1", "name": "Ann Lee", "subjects": "math", "region": "CA", "status": "active",
                            "rating_avg": 4.5, "hired_at": t - timedelta(days=90), "updated_at": t}])
    calls = pd.DataFrame([{"call_id": "k1", "customer_id": "c6", "call_date": t, "duration_s": 60, "reason_code": "billing"},
                          {"call_id": "k2", "customer_id": "c6", "call_date": t, "duration_s": 60, "reason_code": "b" * 70}])
    adapter = FramesAdapter({"customers": customers, "tutors": tutors, "sessions": sessions, "inbound_calls": calls},
                            name="rails-like")
    result = ingest_sources(any_settings, [adapter])
    engine = get_engine(any_settings.db_url)
    assert result["errors"] == {}
    assert stored(engine, Customer, "customer_id") == {"c1", "c6"}
    assert stored(engine, TutorSession, "session_id") == {"s1"} and stored(engine, InboundCall, "call_id") == {"k1"}
    why = reasons(engine, "customers")
    assert "goal longer than 255 characters" in why["c2"]
    assert "goal 'pass\\x00algebra' holds a NUL byte" in why["c3"]
    assert why["c4"] == "name longer than 255 characters"  # personal data: named, never quoted
    assert why["c5"] == "phone longer than 32 characters" and "5555" not in why["c5"]
    assert "subject longer than 64" in reasons(engine, "sessions")["s2"]
    assert "price -5.0 outside 0..100000" in reasons(engine, "sessions")["s3"]
    with engine.connect() as conn:
        email = conn.execute(select(Customer.email).where(Customer.customer_id == "c1")).scalar_one()
        price = conn.execute(select(TutorSession.price).where(TutorSession.session_id == "s1")).scalar_one()
    assert email == "ann@example.com" and price == 45.0
    with engine.connect() as conn:
        payload = conn.execute(select(QuarantinedRow.payload).where(QuarantinedRow.row_key == "c4")).scalar()
    assert "NNNN" not in payload  # the quarantined copy leaves personal fields out
    assert state(engine, "rails-like", "customers").consecutive_failures == 0
    # a later poll still lands new rows
    adapter.frames["customers"] = pd.concat([customers, pd.DataFrame([cust("c7")])], ignore_index=True)
    assert ingest_sources(any_settings, [adapter])["records"]["customers"]["inserted"] == 1
    view = data_health(any_settings)
    assert quarantine_shown(view, "customers", "longer than 255 characters")


# 3. an empty file ------------------------------------------------------------------------------

def test_an_empty_or_header_only_csv_is_zero_rows_not_an_error(any_settings, tmp_path):
    folder = tmp_path / "export"
    write(folder, "customers.csv", b"")
    write(folder, "sessions.csv", ",".join(SESSIONS) + "\n")
    write(folder, "tutors.csv", TUTOR_HEADER + TUTOR)
    write(folder, "campaigns.csv", "campaign_id,subject,channel,daily_budget,status,cost_per_hire,updated_at\n"
          "cp1,math,indeed,100,active,300,2026-01-01T00:00:00Z\n")
    adapter = CsvDirAdapter(str(folder))
    result = ingest_sources(any_settings, [adapter])
    assert result["errors"] == {}
    recs = result["records"]
    assert recs["customers"]["inserted"] == 0 and recs["sessions"]["inserted"] == 0
    assert recs["tutors"]["inserted"] == 1 and recs["campaigns"]["inserted"] == 1  # later records ingested
    engine = get_engine(any_settings.db_url)
    assert state(engine, adapter.name, "customers").last_success_at is not None
    view = data_health(any_settings)
    assert {r["record"]: r["status"] for r in view["sources"]}["customers"] == "ok"


# 4. unreadable CSV lines -----------------------------------------------------------------------

def test_ragged_quoted_and_undecodable_lines_cost_only_that_line(any_settings, tmp_path):
    folder = tmp_path / "export"
    t = iso(utcnow() - timedelta(days=1))
    body = (",".join(CUSTOMERS) + "\n" + customer_line("c1", t)            # line 2
            + customer_line("c2", t).replace("\n", ",extra\n")             # line 3: ragged
            + customer_line("c3", t, goal="caf\xe9"))                      # line 4: latin-1 byte below
    data = body.encode().replace("caf\xc3\xa9".encode("latin-1"), b"caf\xe9")
    data += customer_line("c4", t).encode()                                # line 5
    data += customer_line("c5", t, goal='"never closed').encode()         # line 6: unclosed quote
    data += customer_line("c6", t).encode()                                # line 7
    write(folder, "customers.csv", data)
    write(folder, "tutors.csv", TUTOR_HEADER + TUTOR)
    write(folder, "sessions.csv", ",".join(SESSIONS) + "\n" + session_line("s1", "c6", utcnow() - timedelta(hours=5)))
    adapter = CsvDirAdapter(str(folder))
    result = ingest_sources(any_settings, [adapter])
    engine = get_engine(any_settings.db_url)
    assert result["errors"] == {}
    assert stored(engine, Customer, "customer_id") == {"c1", "c4", "c6"}
    assert stored(engine, TutorSession, "session_id") == {"s1"}  # the records after it still land
    why = reasons(engine, "customers")
    assert why["customers.csv:3"] == "customers.csv line 3: ragged line: 12 fields, the header has 11"
    assert why["customers.csv:4"] == "customers.csv line 4: bytes that are not UTF-8"
    assert why["customers.csv:6"].startswith("customers.csv line 6: bad quoting")
    assert ingest_sources(any_settings, [adapter])["records"]["customers"]["inserted"] == 0  # stored once
    assert len(reasons(engine, "customers")) == 3
    view = data_health(any_settings)
    assert quarantine_shown(view, "customers", "ragged line")


# 5. the same id twice --------------------------------------------------------------------------

def test_duplicate_ids_follow_one_rule_newest_wins_and_a_tie_is_quarantined(any_settings, tmp_path):
    folder = tmp_path / "export"
    t1, t2 = iso(utcnow() - timedelta(days=2)), iso(utcnow() - timedelta(days=1))
    write(folder, "customers.csv", ",".join(CUSTOMERS) + "\n"
          + customer_line("c1", t1, goal="old goal") + customer_line("c1", t2, goal="new goal")   # newest wins
          + customer_line("c2", t2, goal="one") + customer_line("c2", t2, goal="other")           # tie: conflict
          + customer_line("c3", t2) + customer_line("c3", t2))                                    # identical: one
    adapter = CsvDirAdapter(str(folder))
    recs = ingest_sources(any_settings, [adapter])["records"]["customers"]
    engine = get_engine(any_settings.db_url)
    with engine.connect() as conn:
        goals = dict(conn.execute(select(Customer.customer_id, Customer.goal)).all())
    assert goals == {"c1": "new goal", "c3": "pass algebra"}
    assert recs == {"inserted": 2, "updated": 0, "unchanged": 0, "quarantined": 2}
    assert reasons(engine, "customers")["c2"].startswith("conflicting duplicate id")
    assert DUPLICATE_RULE in str(data_health_layout())  # the page says the rule the code follows
    view = data_health(any_settings)
    assert quarantine_shown(view, "customers", "conflicting duplicate id")


# 6. signup with a time of day ------------------------------------------------------------------

def test_signup_time_of_day_is_kept_end_to_end(any_settings, tmp_path):
    folder = tmp_path / "export"
    signup = (utcnow() - timedelta(days=10)).replace(hour=22, minute=30, second=0, microsecond=0)
    write(folder, "customers.csv", ",".join(CUSTOMERS) + "\n" + customer_line("c1", iso(signup), signup=iso(signup)))
    write(folder, "tutors.csv", TUTOR_HEADER + TUTOR)
    # 3 completed sessions within 7 days of the signup time, two of them after midnight of day 7
    starts = [signup + timedelta(hours=2), signup + timedelta(days=7) - timedelta(hours=1), signup + timedelta(days=7)]
    write(folder, "sessions.csv", ",".join(SESSIONS) + "\n"
          + "".join(session_line(f"s{i}", "c1", s) for i, s in enumerate(starts)))
    ingest_sources(any_settings, [CsvDirAdapter(str(folder))])
    engine = get_engine(any_settings.db_url)
    with engine.connect() as conn:
        kept = conn.execute(select(Customer.signup_date)).scalar()
        customers = pd.read_sql(select(Customer.__table__), conn)
        sessions = pd.read_sql(select(TutorSession.__table__), conn)
    assert pd.Timestamp(kept) == pd.Timestamp(signup)
    for df, cols in ((customers, ["signup_date", "updated_at"]), (sessions, ["start_time", "end_time"])):
        for c in cols:
            df[c] = pd.to_datetime(df[c])
    at = pd.Timestamp(signup + timedelta(days=8))
    fired = evaluate_triggers(customers, sessions, None, at)
    assert "day7_nudge" not in set(fired["trigger"])  # all three sessions are in [signup, signup + 7 days]
    young = evaluate_triggers(customers, sessions.iloc[:0], None, pd.Timestamp(signup + timedelta(days=7) - timedelta(minutes=1)))
    assert "day7_nudge" not in set(young["trigger"])  # 6 days 23:59 after signup: not 7 days yet


# 7. every failure is recorded, shown, and in the exit code ---------------------------------------

class Breaks(FramesAdapter):
    """A source whose `campaigns` poll fails with an error nobody planned for."""

    def fetch(self, record, since):
        if record == "campaigns":
            raise KeyError("column 'budget' vanished")
        return super().fetch(record, since)


def test_an_unexpected_failure_of_one_record_is_recorded_and_the_others_land(any_settings):
    t = utcnow() - timedelta(days=1)
    frames = {
        "customers": pd.DataFrame([dict(zip(CUSTOMERS, ["c1", t, "organic", "k12", "CA", None, "none", None,
                                                        "active", None, t]))]),
        "campaigns": pd.DataFrame(columns=["campaign_id"]),
        "inbound_calls": pd.DataFrame([{"call_id": "k1", "customer_id": "c1", "call_date": t, "duration_s": 60,
                                        "reason_code": "billing"}]),
    }
    adapter = Breaks(frames, name="flaky")
    result = ingest_sources(any_settings, [adapter])
    ingest_sources(any_settings, [adapter])
    engine = get_engine(any_settings.db_url)
    assert "KeyError" in result["errors"]["flaky"] and "[campaigns]" in result["errors"]["flaky"]
    assert stored(engine, InboundCall, "call_id") == {"k1"}  # polled after the failing record
    failing = state(engine, "flaky", "campaigns")
    assert failing.consecutive_failures == 2 and "column 'budget' vanished" in failing.last_error
    view = data_health(any_settings)
    rows = {r["record"]: r for r in view["sources"] if r["source"] == "flaky"}
    assert rows["campaigns"]["status"] == "failing" and "vanished" in rows["campaigns"]["last_error"]
    assert rows["customers"]["status"] == "ok"
    source = next(s for s in view["health"]["sources"] if s["source"] == "flaky")
    assert source["consecutive_failures"] == 2 and "vanished" in source["last_error"]
    assert view["health"]["status"] == "degraded"


def test_ingest_exit_code_says_whether_any_poll_failed(any_settings, tmp_path, monkeypatch):
    from click.testing import CliRunner
    from manage import cli
    folder = tmp_path / "export"
    write(folder, "tutors.csv", TUTOR_HEADER + TUTOR)
    monkeypatch.setenv("VAR_DIR", str(any_settings.var_dir))
    monkeypatch.setenv("DATABASE_URL", any_settings.db_url)
    ok = CliRunner().invoke(cli, ["ingest", "--once", "--json", "--source", f"csv:{folder}"])
    assert ok.exit_code == 0, ok.output
    (folder / "campaigns.csv").mkdir()  # a file that cannot be read at all: that record fails
    write(folder, "tutors.csv", TUTOR_HEADER + TUTOR + TUTOR.replace("t1,", "t2,"))
    failed = CliRunner().invoke(cli, ["ingest", "--once", "--json", "--source", f"csv:{folder}"])
    assert failed.exit_code == 1 and "IsADirectoryError" in failed.output
    assert stored(get_engine(any_settings.db_url), Tutor, "tutor_id") == {"t1", "t2"}


# 8. postgresql:// and postgres:// URLs -------------------------------------------------------------

def test_plain_postgresql_and_postgres_urls_work_for_store_migrations_and_rails(pg_url, tmp_path):
    from models.base import normalise_url
    from models.schema import upgrade
    from sources import get_adapter
    from tests.conftest import make_settings
    plain = pg_url.replace("postgresql+psycopg2://", "postgresql://")
    heroku = pg_url.replace("postgresql+psycopg2://", "postgres://")
    assert normalise_url(plain) == normalise_url(heroku) == pg_url
    assert normalise_url("sqlite:///x.db") == "sqlite:///x.db"
    upgrade(plain)  # Alembic reads the plain URL
    folder = tmp_path / "export"
    write(folder, "tutors.csv", TUTOR_HEADER + TUTOR)
    for url in (plain, heroku):
        settings = make_settings(tmp_path, database_url=url)
        assert ingest_sources(settings, [CsvDirAdapter(str(folder))])["errors"] == {}
    assert stored(get_engine(heroku), Tutor, "tutor_id") == {"t1"}
    rails = get_adapter(f"rails:{heroku}", settings=None)
    try:
        rails.check()  # connects with psycopg2
        assert rails.name.startswith("rails:postgresql://")
    finally:
        rails.close()
