"""The support-call adapter against a real loopback HTTP API, into SQLite and PostgreSQL stores."""
from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.base import get_engine
from models.ops import QuarantinedRow, SourceState
from models.source import InboundCall
from sources import get_adapter
from sources.base import ContractViolation, SourceUnavailable
from sources.csv_dir import CsvDirAdapter
from sources.support_api import SupportApiAdapter
from ingestion.pipeline import ingest_sources
from tests.support.calls_server import CallsServer

TOKEN = "s3cret-token"
T0 = datetime(2026, 3, 1)


def make_calls(n: int, start: datetime = T0, prefix: str = "k", customers: int = 50) -> list[dict]:
    """n calls a minute apart, as the API sends them."""
    return [{"call_id": f"{prefix}{i:05d}", "customer_id": f"c{i % customers:03d}",
             "call_date": (start + timedelta(minutes=i)).isoformat() + "Z", "duration_s": 60 + i % 600,
             "reason_code": "billing"} for i in range(n)]


@pytest.fixture
def store(any_settings, tmp_path):
    """The store with the customers the calls belong to (calls to unknown customers are quarantined)."""
    folder = tmp_path / "crm"
    folder.mkdir()
    pd.DataFrame({"customer_id": [f"c{i:03d}" for i in range(50)], "signup_date": "2026-01-01",
                  "acquisition_channel": "organic", "segment": "adult", "region": "CA", "goal": None,
                  "goal_status": "none", "goal_completed_at": None, "status": "active", "churned_at": None,
                  "updated_at": "2026-01-01T00:00:00Z"}).to_csv(folder / "customers.csv", index=False)
    assert ingest_sources(any_settings, [CsvDirAdapter(str(folder))])["errors"] == {}
    return any_settings


@pytest.fixture
def server():
    with CallsServer(make_calls(2500), token=TOKEN, page_size=1000) as srv:
        yield srv


def stored_ids(settings) -> list[str]:
    with get_engine(settings.db_url).connect() as conn:
        return list(conn.execute(select(InboundCall.call_id)).scalars())


def state(settings, adapter) -> SourceState:
    with Session(get_engine(settings.db_url)) as session:
        return session.get(SourceState, (adapter.name, "inbound_calls"))


def test_full_poll_follows_pages_and_a_second_poll_inserts_nothing(store, server):
    adapter = get_adapter(f"calls:{server.url}", store, token=TOKEN)
    result = ingest_sources(store, [adapter])
    assert result["errors"] == {}
    assert result["records"]["inbound_calls"] == {"inserted": 2500, "updated": 0, "unchanged": 0, "quarantined": 0}
    assert [r["params"]["page"] for r in server.requests] == ["1", "2", "3"]
    assert all(r["auth"] == f"Bearer {TOKEN}" and "since" not in r["params"] for r in server.requests)
    ids = stored_ids(store)
    assert len(ids) == 2500 and set(ids) == server.call_ids
    newest = T0 + timedelta(minutes=2499)
    assert state(store, adapter).watermark == newest

    server.requests.clear()
    second = ingest_sources(store, [adapter])["records"]["inbound_calls"]
    assert second["inserted"] == 0 and second["updated"] == 0
    assert second["unchanged"] == 121  # the 2-hour lookback, re-read and recognised
    assert server.requests[0]["params"]["since"] == (newest - timedelta(hours=2)).isoformat() + "Z"
    assert len(stored_ids(store)) == 2500


def test_new_calls_after_the_watermark_land(store, server):
    adapter = SupportApiAdapter(server.url, TOKEN)
    ingest_sources(store, [adapter])
    later = make_calls(30, start=T0 + timedelta(days=3), prefix="n")
    server.add_calls(later)
    recs = ingest_sources(store, [adapter])["records"]["inbound_calls"]
    assert recs["inserted"] == 30 and recs["updated"] == 0
    assert set(stored_ids(store)) == server.call_ids
    assert state(store, adapter).watermark == T0 + timedelta(days=3, minutes=29)


def test_a_poll_cut_off_mid_way_catches_up_later_with_nothing_lost_or_doubled(store, server):
    adapter = SupportApiAdapter(server.url, TOKEN)
    ingest_sources(store, [adapter])
    watermark = state(store, adapter).watermark
    server.add_calls(make_calls(1500, start=T0 + timedelta(days=2), prefix="m"))  # two pages past the lookback

    # page 2 fails on every retry: the poll fails as a whole, nothing half-done lands, the watermark stays
    server.fail_on(page=2, mode="500", times=store.source_retries + 1)
    result = ingest_sources(store, [adapter])
    assert "HTTP 500" in result["errors"][adapter.name]
    assert len(stored_ids(store)) == 2500
    failed = state(store, adapter)
    assert failed.watermark == watermark and failed.consecutive_failures == 1

    # the server goes away altogether, then comes back on the same port
    port = server.port
    server.stop()
    result = ingest_sources(store, [adapter])
    assert "SourceUnavailable" in result["errors"][adapter.name]
    assert state(store, adapter).consecutive_failures == 2
    server.start()
    assert server.port == port

    # one dropped connection is absorbed by the retry inside a single poll
    server.fail_on(page=2, mode="drop", times=1)
    server.requests.clear()
    result = ingest_sources(store, [adapter])
    assert result["errors"] == {}
    assert "dropped" in [r["status"] for r in server.requests]
    assert result["records"]["inbound_calls"]["inserted"] == 1500
    ids = stored_ids(store)
    assert len(ids) == len(set(ids)) == 4000 and set(ids) == server.call_ids
    caught_up = state(store, adapter)
    assert caught_up.consecutive_failures == 0 and caught_up.last_error is None
    assert caught_up.watermark == T0 + timedelta(days=2, minutes=1499)


def test_a_call_served_twice_is_stored_once(store):
    calls = make_calls(10)
    with CallsServer(calls + calls[3:5], token=TOKEN, page_size=4) as srv:  # the API repeats two calls
        adapter = SupportApiAdapter(srv.url, TOKEN)
        recs = ingest_sources(store, [adapter])["records"]["inbound_calls"]
    assert recs == {"inserted": 10, "updated": 0, "unchanged": 0, "quarantined": 0}
    assert sorted(stored_ids(store)) == sorted(c["call_id"] for c in calls)


def test_a_refused_token_is_a_clear_recorded_failure_and_nothing_lands(settings, server):
    adapter = SupportApiAdapter(server.url, "expired-token")
    with pytest.raises(SourceUnavailable, match="refused the token"):
        adapter.check()
    result = ingest_sources(settings, [adapter])
    assert "refused the token (HTTP 401)" in result["errors"][adapter.name]
    failed = state(settings, adapter)
    assert "token" in failed.last_error and failed.consecutive_failures == 1 and failed.watermark is None
    assert stored_ids(settings) == []
    assert "expired-token" not in failed.last_error
    assert {r["status"] for r in server.requests} == {401}


def test_malformed_json_is_a_recorded_contract_violation(settings, server):
    adapter = SupportApiAdapter(server.url, TOKEN)
    server.fail_on(page=2, mode="malformed", times=10)
    result = ingest_sources(settings, [adapter])
    assert result["errors"][adapter.name].startswith("ContractViolation")
    failed = state(settings, adapter)
    assert "page 2: response is not JSON" in failed.last_error and failed.consecutive_failures == 1
    assert len(server.requests) == 2  # a payload in the wrong shape is not retried
    assert stored_ids(settings) == []

    server.fail_on(page=1, mode="missing_keys")
    with pytest.raises(ContractViolation, match="'calls' and 'next_page'"):
        adapter.fetch("inbound_calls", None)


def test_a_call_lacking_a_field_is_quarantined_alone(settings):
    calls = make_calls(3, customers=1)
    del calls[1]["duration_s"]
    with CallsServer(calls, token=TOKEN) as srv:
        pd.DataFrame({"customer_id": ["c000"], "signup_date": ["2026-01-01"], "acquisition_channel": ["organic"],
                      "segment": ["adult"], "region": ["CA"], "goal_status": ["none"], "status": ["active"],
                      "updated_at": ["2026-01-01T00:00:00Z"]}).to_csv(settings.var_dir / "customers.csv", index=False)
        ingest_sources(settings, [CsvDirAdapter(str(settings.var_dir))])
        recs = ingest_sources(settings, [SupportApiAdapter(srv.url, TOKEN)])["records"]["inbound_calls"]
    assert recs["inserted"] == 2 and recs["quarantined"] == 1
    with get_engine(settings.db_url).connect() as conn:
        reason = conn.execute(select(QuarantinedRow.reason).where(QuarantinedRow.record == "inbound_calls")).scalar()
        assert conn.execute(select(func.count()).select_from(InboundCall)).scalar() == 2
    assert reason == "missing required field duration_s"


def test_a_server_that_does_not_answer_in_time_is_unavailable(server):
    adapter = SupportApiAdapter(server.url, TOKEN, timeout=(1.0, 0.2))
    server.fail_on(mode="slow", delay=1.0)
    with pytest.raises(SourceUnavailable, match="ReadTimeout"):
        adapter.fetch("inbound_calls", None)
