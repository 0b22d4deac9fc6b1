"""/api/v1/alerts: token auth, filters, one alert with history, transitions, 409 and 400 with messages."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from app import create_app
from auth import accounts
from models.base import get_engine
from models.ops import AuditLog
from writes.alerts import sync_alerts
from domain.alerting.lifecycle import AlertSpec
from infra.clock import utcnow

NOW = utcnow().replace(microsecond=0)


def spec(key, severity="critical", type="customer_risk", rule="trigger.calls_14d"):
    return AlertSpec(rule=rule, type=type, severity=severity, title=f"{key} needs a call", message="3 calls in 14 days",
                     dedup_key=f"{rule}:{key}", entity_id=key, current_value=3, expected_value="< 2",
                     investigation=["Read the call notes"], link=f"/customers/{key}", details={"calls": 3})


@pytest.fixture
def api(settings):
    engine = get_engine(settings.db_url)
    accounts.create_user(engine, "ops@example.com", "ops", "correct-horse")
    token = accounts.create_token(engine, "ops@example.com")
    sync_alerts(engine, "trigger.calls_14d", [spec("c1"), spec("c2", "warning")], at=NOW - timedelta(days=2))
    sync_alerts(engine, "anomaly.robust_zscore", [spec("bookings", "warning", "anomaly", "anomaly.robust_zscore")],
                at=NOW - timedelta(hours=1))
    client = create_app(settings).server.test_client()
    headers = {"Authorization": f"Bearer {token}"}

    class Api:
        def get(self, path, **kw):
            return client.get(f"/api/v1{path}", headers=headers, **kw)

        def post(self, path, json=None, **kw):
            return client.post(f"/api/v1{path}", headers=headers, json=json, **kw)
    Api.client, Api.engine = client, engine
    return Api()


def ids(response):
    return sorted(a["entity_id"] for a in response.get_json()["alerts"])


def test_token_is_required(api):
    assert api.client.get("/api/v1/alerts").status_code == 401
    assert api.client.get("/api/v1/alerts/1").status_code == 401
    assert api.client.post("/api/v1/alerts/1/ack").status_code == 401
    assert api.get("/alerts").status_code == 200


def test_filters(api):
    everything = api.get("/alerts").get_json()
    assert everything["total"] == 3 and everything["limit"] == 100
    first = everything["alerts"][0]
    assert first["entity_id"] == "bookings" and first["status"] == "active"  # newest first
    assert first["detected_at"] == (NOW - timedelta(hours=1)).isoformat()
    assert ids(api.get("/alerts?type=anomaly")) == ["bookings"]
    assert ids(api.get("/alerts?severity=critical")) == ["c1"]
    assert ids(api.get("/alerts?severity=critical,warning&type=customer_risk")) == ["c1", "c2"]
    since = (NOW - timedelta(days=1)).isoformat() + "Z"
    assert ids(api.get(f"/alerts?since={since}")) == ["bookings"]
    assert ids(api.get(f"/alerts?until={since}")) == ["c1", "c2"]
    page = api.get("/alerts?limit=1&offset=1").get_json()
    assert page["total"] == 3 and len(page["alerts"]) == 1
    assert ids(api.get("/alerts?status=resolved")) == []


@pytest.mark.parametrize("query, message", [
    ("status=closed", "status must be one of"), ("type=weather", "type weather unknown"),
    ("severity=urgent", "severity urgent unknown"), ("since=yesterday", "since must be an ISO 8601 time"),
    ("limit=0", "limit must be between 1 and 500"), ("limit=ten", "limit must be a whole number"),
    ("offset=-1", "offset must be between"), ("sort=id", "unknown parameter"),
    ("since=2026-11-02T00:00:00&until=2026-11-01T00:00:00", "until must be after since"),
])
def test_bad_parameters_are_refused_with_a_message(api, query, message):
    response = api.get(f"/alerts?{query}")
    assert response.status_code == 400 and message in response.get_json()["error"]


def test_detail_transitions_and_history(api):
    alert_id = next(a["id"] for a in api.get("/alerts").get_json()["alerts"] if a["entity_id"] == "c1")
    detail = api.get(f"/alerts/{alert_id}").get_json()
    assert detail["message"] == "3 calls in 14 days" and detail["investigation"] == ["Read the call notes"]
    assert detail["details"] == {"calls": 3} and detail["link"] == "/customers/c1"
    assert [h["to_status"] for h in detail["history"]] == ["active"]
    assert api.get("/alerts/99999").status_code == 404

    ack = api.post(f"/alerts/{alert_id}/ack", json={"comment": "calling now"})
    assert ack.status_code == 200 and ack.get_json()["status"] == "acknowledged"
    again = api.post(f"/alerts/{alert_id}/ack")
    assert again.status_code == 409 and again.get_json()["error"] == "Cannot acknowledge an alert that is acknowledged."

    snooze = api.post(f"/alerts/{alert_id}/snooze", json={"minutes": 90})
    assert snooze.status_code == 200 and snooze.get_json()["status"] == "snoozed"
    until = datetime.fromisoformat(snooze.get_json()["snoozed_until"])
    assert timedelta(minutes=89) < until - utcnow() <= timedelta(minutes=90)
    assert api.post(f"/alerts/{alert_id}/resolve", json={"comment": "customer happy"}).get_json()["status"] == "resolved"
    assert api.post(f"/alerts/{alert_id}/dismiss").status_code == 409
    assert api.post(f"/alerts/{alert_id}/reopen").get_json()["status"] == "active"
    assert api.post(f"/alerts/{alert_id}/dismiss").get_json()["status"] == "dismissed"

    history = api.get(f"/alerts/{alert_id}").get_json()["history"]
    assert [(h["to_status"], h["user_email"]) for h in history] == [
        ("active", None), ("acknowledged", "ops@example.com"), ("snoozed", "ops@example.com"),
        ("resolved", "ops@example.com"), ("active", "ops@example.com"), ("dismissed", "ops@example.com")]
    assert history[1]["comment"] == "calling now"
    with api.engine.connect() as conn:
        actions = conn.execute(select(AuditLog.action, AuditLog.user_email, AuditLog.entity_id)
                               .where(AuditLog.entity == "alert").order_by(AuditLog.id)).all()
    assert [a.action for a in actions] == ["alert.acknowledge", "alert.snooze", "alert.resolve", "alert.reopen",
                                           "alert.dismiss"]
    assert {(a.user_email, a.entity_id) for a in actions} == {("ops@example.com", str(alert_id))}


@pytest.mark.parametrize("body, message", [
    ({}, "snooze needs until"), ({"minutes": 0}, "minutes must be between"), ({"minutes": "soon"}, "whole number"),
    ({"until": "2020-01-01T00:00:00Z"}, "until must be in the future"), ({"until": "tomorrow"}, "ISO 8601"),
    ({"minutes": 5, "until": "2099-01-01T00:00:00"}, "either until or minutes"),
    ({"minutes": 10 ** 6}, "minutes must be between"), ({"comment": 5, "minutes": 5}, "comment must be text"),
])
def test_bad_snooze_bodies_are_refused(api, body, message):
    alert_id = api.get("/alerts").get_json()["alerts"][0]["id"]
    response = api.post(f"/alerts/{alert_id}/snooze", json=body)
    assert response.status_code == 400 and message in response.get_json()["error"]
    assert api.get(f"/alerts/{alert_id}").get_json()["status"] == "active"


def test_bad_bodies_and_verbs(api):
    alert_id = api.get("/alerts").get_json()["alerts"][0]["id"]
    assert api.post(f"/alerts/{alert_id}/ack", data="not json", content_type="application/json").status_code == 400
    assert api.post(f"/alerts/{alert_id}/ack", json=[1, 2]).status_code == 400
    assert api.post(f"/alerts/{alert_id}/ack", json={"minutes": 5}).status_code == 400
    assert api.post(f"/alerts/{alert_id}/explode").status_code == 404
    assert api.post("/alerts/99999/ack").status_code == 404


def test_openapi_documents_the_routes(api):
    paths = api.client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"/alerts", "/alerts/{alert_id}", "/alerts/{alert_id}/ack", "/alerts/{alert_id}/snooze"} <= set(paths)
    assert "minutes" in str(paths["/alerts/{alert_id}/snooze"]["post"]["requestBody"])
    params = {p["name"] for p in paths["/alerts"]["get"]["parameters"]}
    assert {"status", "type", "severity", "since", "until", "limit", "offset"} <= params
