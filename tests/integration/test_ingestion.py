"""Ingestion from a folder of contract CSVs into SQLite and PostgreSQL: quarantine, idempotency, watermarks."""
from __future__ import annotations

import pandas as pd
from sqlalchemy import func, select

from models.base import get_engine
from models.ops import QuarantinedRow, SourceState
from models.source import Customer, InboundCall, TutorSession
from sources import get_adapter
from ingestion.pipeline import ingest_sources
from read.status import quarantine_summary

CUSTOMER_COLS = ["customer_id", "signup_date", "acquisition_channel", "segment", "region", "goal",
                 "goal_status", "goal_completed_at", "status", "churned_at", "updated_at"]


def write_export(folder, extra_sessions=()):
    folder.mkdir(exist_ok=True)
    customers = [
        ["c1", "2026-01-05", "organic", "k12", "CA", "pass algebra", "in_progress", "", "active", "", "2026-01-05T10:00:00Z"],
        ["c2", "2026-01-06", "referral", "adult", "NY", "", "none", "", "active", "", "2026-01-06T10:00:00Z"],
        ["c3", "2026-01-07", "social", "college", "ZZ", "", "none", "", "active", "", "2026-01-07T10:00:00Z"],  # bad region
        ["c4", "not a date", "social", "college", "TX", "", "none", "", "active", "", "2026-01-07T10:00:00Z"],  # bad type
    ]
    pd.DataFrame(customers, columns=CUSTOMER_COLS).to_csv(folder / "customers.csv", index=False)
    tutors = pd.DataFrame([["t1", "Ann Lee", "math;physics", "CA", "active", "4.6", "2025-06-01T00:00:00Z", "2026-01-01T00:00:00Z"]],
                          columns=["tutor_id", "name", "subjects", "region", "status", "rating_avg", "hired_at", "updated_at"])
    tutors.to_csv(folder / "tutors.csv", index=False)
    sessions = [
        ["s1", "c1", "t1", "math", "2026-01-10T17:00:00Z", "2026-01-10T18:00:00Z", "5", "completed", "2026-01-10T18:05:00Z"],
        ["s2", "c2", "t1", "math", "2026-01-11T17:00:00Z", "2026-01-11T18:00:00Z", "", "no_show", "2026-01-11T18:05:00Z"],
        ["s3", "c9", "t1", "math", "2026-01-11T17:00:00Z", "2026-01-11T18:00:00Z", "4", "completed", "2026-01-11T18:05:00Z"],  # dangling
        ["s4", "", "t1", "math", "2026-01-11T17:00:00Z", "2026-01-11T18:00:00Z", "4", "completed", "2026-01-11T18:05:00Z"],  # missing
        ["s5", "c1", "t1", "math", "2026-01-12T17:00:00Z", "2026-01-12T18:00:00Z", "3", "finished", "2026-01-12T18:05:00Z"],  # vocab
        ["s1", "c1", "t1", "math", "2026-01-10T17:00:00Z", "2026-01-10T18:00:00Z", "4", "completed", "2026-01-10T18:01:00Z"],  # duplicate id
        *extra_sessions,
    ]
    pd.DataFrame(sessions, columns=["session_id", "customer_id", "tutor_id", "subject", "start_time", "end_time",
                                    "rating", "status", "updated_at"]).to_csv(folder / "sessions.csv", index=False)
    pd.DataFrame([["k1", "c1", "2026-01-12T15:00:00Z", "300", "billing"], ["k2", "c2", "2026-01-13T15:00:00Z", "abc", "billing"]],
                 columns=["call_id", "customer_id", "call_date", "duration_s", "reason_code"]).to_csv(folder / "inbound_calls.csv", index=False)


def count(engine, model):
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(model)).scalar()


def test_bad_rows_are_quarantined_with_reasons_and_the_rest_lands(any_settings, tmp_path):
    write_export(tmp_path / "export")
    adapter = get_adapter(f"csv:{tmp_path / 'export'}", any_settings)
    result = ingest_sources(any_settings, [adapter])
    assert result["errors"] == {}
    recs = result["records"]
    assert recs["customers"] == {"inserted": 2, "updated": 0, "unchanged": 0, "quarantined": 2}
    assert recs["sessions"] == {"inserted": 2, "updated": 0, "unchanged": 0, "quarantined": 3}
    assert recs["inbound_calls"]["inserted"] == 1 and recs["inbound_calls"]["quarantined"] == 1
    engine = get_engine(any_settings.db_url)
    with engine.connect() as conn:
        reasons = dict(conn.execute(select(QuarantinedRow.row_key, QuarantinedRow.reason)
                                    .where(QuarantinedRow.record.in_(["sessions", "customers"]))).all())
        kept = conn.execute(select(TutorSession.rating).where(TutorSession.session_id == "s1")).scalar()
    assert "region" in reasons["c3"] and "'ZZ'" in reasons["c3"]
    assert "signup_date" in reasons["c4"]
    assert "dangling reference customer_id 'c9'" in reasons["s3"]
    assert reasons["s4"] == "missing required field customer_id"
    assert "unknown status 'finished'" in reasons["s5"]
    assert "s1" not in reasons  # the older version of s1 is superseded, not bad (checks.DUPLICATE_RULE)
    assert kept == 5.0  # the newer of the two s1 rows was kept
    summary = quarantine_summary(engine)
    assert summary["rows"].sum() == 6


def test_ingesting_twice_changes_nothing(any_settings, tmp_path):
    write_export(tmp_path / "export")
    adapter = get_adapter(f"csv:{tmp_path / 'export'}", any_settings)
    ingest_sources(any_settings, [adapter])
    engine = get_engine(any_settings.db_url)
    before = (count(engine, Customer), count(engine, TutorSession), count(engine, InboundCall), count(engine, QuarantinedRow))
    second = ingest_sources(any_settings, [adapter])["records"]
    after = (count(engine, Customer), count(engine, TutorSession), count(engine, InboundCall), count(engine, QuarantinedRow))
    assert before == after
    assert all(c["inserted"] == 0 and c["updated"] == 0 for c in second.values())


def test_updated_rows_are_updated_and_watermark_advances(any_settings, tmp_path):
    folder = tmp_path / "export"
    write_export(folder)
    adapter = get_adapter(f"csv:{folder}", any_settings)
    ingest_sources(any_settings, [adapter])
    late = ["s6", "c2", "t1", "physics", "2026-01-20T17:00:00Z", "2026-01-20T18:00:00Z", "2", "completed", "2026-01-20T18:05:00Z"]
    write_export(folder, extra_sessions=[late])
    recs = ingest_sources(any_settings, [adapter])["records"]
    assert recs["sessions"]["inserted"] == 1
    engine = get_engine(any_settings.db_url)
    with engine.connect() as conn:
        wm = conn.execute(select(SourceState.watermark).where(SourceState.record == "sessions")).scalar()
    assert pd.Timestamp(wm) == pd.Timestamp("2026-01-20T18:05:00")


def test_missing_folder_is_a_recorded_source_failure(settings, tmp_path):
    from sources.csv_dir import CsvDirAdapter

    class MissingExport(CsvDirAdapter):
        records = ("customers",)  # what the export should have held

    adapter = MissingExport(str(tmp_path / "nowhere"))
    result = ingest_sources(settings, [adapter])
    assert "SourceUnavailable" in result["errors"][adapter.name]
    engine = get_engine(settings.db_url)
    from sqlalchemy.orm import Session
    with Session(engine) as session:
        state = session.scalars(select(SourceState)).one()
    assert state.consecutive_failures == 1 and state.last_success_at is None and "does not exist" in state.last_error


def test_availability_snapshot_replaces_a_tutors_hours(any_settings):
    """Hours a tutor no longer offers disappear; tutors the snapshot does not mention keep theirs."""
    from models.source import TutorAvailability
    from tests.factories import frame, tutor
    from tests.support.store import load_frames
    tutors = frame("tutors", [tutor("t1"), tutor("t2")])
    first = frame("tutor_availability", [{"tutor_id": "t1", "weekday": 0, "start_hour": 9, "end_hour": 12},
                                         {"tutor_id": "t1", "weekday": 2, "start_hour": 14, "end_hour": 18},
                                         {"tutor_id": "t2", "weekday": 1, "start_hour": 8, "end_hour": 10}])
    load_frames(any_settings, {"tutors": tutors, "tutor_availability": first})
    later = frame("tutor_availability", [{"tutor_id": "t1", "weekday": 0, "start_hour": 9, "end_hour": 11}])
    load_frames(any_settings, {"tutors": tutors, "tutor_availability": later})
    engine = get_engine(any_settings.db_url)
    with engine.connect() as conn:
        rows = sorted(tuple(r) for r in conn.execute(select(TutorAvailability.tutor_id, TutorAvailability.weekday,
                                                            TutorAvailability.end_hour)).all())
    assert rows == [("t1", 0, 11), ("t2", 1, 10)]


def test_a_refused_token_is_not_retried(settings):
    from sources.base import TokenRefused
    calls = []

    class Refusing:
        name, records = "calls:http://x", ("inbound_calls",)

        def check(self):
            return None

        def fetch(self, record, since):
            calls.append(record)
            raise TokenRefused("the API refused the token")
    result = ingest_sources(settings, [Refusing()])
    assert "TokenRefused" in result["errors"]["calls:http://x"] and calls == ["inbound_calls"]
