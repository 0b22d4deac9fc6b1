"""API: health is public, everything else needs a token; openapi.json is a valid OpenAPI 3 document."""
from __future__ import annotations

from datetime import timedelta

import pytest
from openapi_spec_validator import validate

from app import create_app
from auth import accounts
from models.base import get_engine
from infra.clock import utcnow
from jobs.runner import run_job
from tests.factories import booking, customer, frame, tutor
from tests.support.store import load_frames


@pytest.fixture
def client(settings):
    accounts.create_user(get_engine(settings.db_url), "api@example.com", "ops", "long-enough-pw")
    return create_app(settings).server.test_client()


@pytest.fixture
def token(settings, client):
    return accounts.create_token(get_engine(settings.db_url), "api@example.com")


def test_openapi_document_is_valid_and_lists_routes(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    validate(doc)
    assert "/metrics" in doc["paths"] and "/health" in doc["paths"]
    assert doc["paths"]["/health"]["get"]["security"] == []


def test_metrics_need_a_token_and_return_the_cards(settings, client, token):
    assert client.get("/api/v1/metrics").status_code == 401
    assert client.get("/api/v1/metrics", headers={"Authorization": "Bearer nope"}).status_code == 401
    empty = client.get("/api/v1/metrics", headers={"Authorization": f"Bearer {token}"})
    assert empty.status_code == 200 and empty.get_json()["cards"] == {}
    now = utcnow()
    hour = now.replace(minute=0, second=0, microsecond=0)
    load_frames(settings, {
        "customers": frame("customers", [customer("c1")]),
        "tutors": frame("tutors", [tutor("t1")]),
        "bookings": frame("bookings", [booking("c1", scheduled_time=hour + timedelta(minutes=m), tutor_id="t1",
                                               status="scheduled", created_at=now, updated_at=now) for m in (1, 2)]),
    })
    run_job("overview", settings, at=now)
    body = client.get("/api/v1/metrics", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert body["cards"]["sessions_this_hour"]["value"] == 2
    assert set(body["cards"]) >= {"sessions_today", "avg_rating_7d", "tutor_utilization", "customers_at_risk"}


def test_health_reports_sources_without_auth(settings, client):
    load_frames(settings, {"customers": frame("customers", [customer("c1")])}, name="csv:/exports")
    body = client.get("/api/v1/health").get_json()
    assert body["database"]["ok"] is True
    assert body["sources"][0]["source"] == "csv:/exports"
    assert body["sources"][0]["last_success_at"] is not None


def test_unknown_route_is_json_404(client, token):
    response = client.get("/api/v1/nope", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 404 and response.get_json()["error"] == "not found"
