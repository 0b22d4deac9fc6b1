"""/api/v1/customers and /api/v1/customers/<id> on a store scored by the real job: token auth, sort,
filters, paging, 400 on bad values, 404 for an unknown customer, and the contract's trigger names."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from app import create_app
from auth import accounts
from models.base import get_engine
from jobs.runner import run_job
from tests.factories import call, customer, frame, session, tutor
from tests.support.store import load_frames

AT = datetime(2026, 5, 20, 12, 0)
D = timedelta(days=1)


def marketplace() -> dict:
    old = (AT - 120 * D).date()
    customers = [customer("c-calls", signup_date=old, segment="adult", acquisition_channel="referral"),
                 customer("c-low", signup_date=old, segment="k12"),
                 customer("c-good", signup_date=old, segment="k12"),
                 customer("c-new", signup_date=(AT - 3 * D).date(), segment="college")]
    sessions = [session("c-low", AT - 50 * D, rating=1, tutor_id="t2")]
    sessions += [session("c-low", AT - d * D, rating=4, tutor_id="t2") for d in (30, 26)]
    for cid in ("c-calls", "c-good"):
        sessions += [session(cid, AT - d * D, rating=5, tutor_id="t1", subject="chemistry") for d in range(1, 100, 3)]
    calls = [call("c-calls", AT - d * D, reason_code="billing") for d in (2, 5, 9)]
    return {"customers": frame("customers", customers), "tutors": frame("tutors", [tutor("t1"), tutor("t2")]),
            "sessions": frame("sessions", sessions), "inbound_calls": frame("inbound_calls", calls)}


@pytest.fixture
def api(settings):
    load_frames(settings, marketplace())
    run_job("score", settings, at=AT)
    engine = get_engine(settings.db_url)
    accounts.create_user(engine, "cs@example.com", "cs", "correct-horse")
    token = accounts.create_token(engine, "cs@example.com")
    client = create_app(settings).server.test_client()

    class Api:
        def get(self, path, headers=None):
            auth = {"Authorization": f"Bearer {token}"} if headers is None else headers
            return client.get(f"/api/v1{path}", headers=auth)
    return Api()


def customer_ids(response) -> list[str]:
    assert response.status_code == 200, response.get_json()
    return [c["customer_id"] for c in response.get_json()["customers"]]


def test_token_is_required(api):
    assert api.get("/customers", headers={}).status_code == 401
    assert api.get("/customers/c-calls", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_list_sorts_filters_and_pages(api):
    body = api.get("/customers").get_json()
    assert body["total"] == 4 and body["limit"] == 100 and body["offset"] == 0
    scores = [c["score"] for c in body["customers"]]
    assert scores == sorted(scores)  # default: riskiest first
    first = body["customers"][0]
    assert {"customer_id", "score", "tier", "triggers", "priority", "intervention", "segment"} <= set(first)
    assert customer_ids(api.get("/customers?sort=score:desc"))[0] == "c-good"
    assert customer_ids(api.get("/customers?segment=k12&sort=customer_id")) == ["c-good", "c-low"]
    assert customer_ids(api.get("/customers?segment=k12,adult&acquisition_channel=referral")) == ["c-calls"]
    assert customer_ids(api.get("/customers?trigger=calls_14d")) == ["c-calls"]
    assert customer_ids(api.get("/customers?trigger=first_session_low_rating")) == ["c-low"]
    assert customer_ids(api.get("/customers?min_score=80")) == ["c-good"]
    assert customer_ids(api.get("/customers?primary_subject=chemistry&sort=customer_id")) == ["c-calls", "c-good"]
    tiers = {c["tier"] for c in api.get("/customers?tier=critical,at-risk").get_json()["customers"]}
    assert tiers <= {"critical", "at-risk"}
    attention = api.get("/customers?attention=true").get_json()["customers"]
    assert attention and all(c["priority"] <= 2 or c["tier"] == "critical" for c in attention)
    page = api.get("/customers?sort=customer_id&limit=2&offset=2").get_json()
    assert page["total"] == 4 and [c["customer_id"] for c in page["customers"]] == ["c-low", "c-new"]


@pytest.mark.parametrize("query, parameter", [
    ("sort=password", "sort"), ("sort=score:sideways", "sort"), ("tier=doomed", "tier"), ("trigger=calls", "trigger"),
    ("limit=0", "limit"), ("limit=1001", "limit"), ("offset=-1", "offset"), ("min_score=high", "min_score"),
    ("max_score=101", "max_score"), ("colour=red", "colour"), ("attention=maybe", "attention"),
])
def test_bad_values_get_400_with_a_message(api, query, parameter):
    response = api.get(f"/customers?{query}")
    assert response.status_code == 400
    body = response.get_json()
    assert body["error"] and body.get("parameter", parameter) == parameter


def test_hostile_filter_values_are_values(api):
    response = api.get("/customers?segment=k12'%20OR%20'1'='1&region=%25")
    assert response.status_code == 200 and response.get_json()["total"] == 0


def test_one_customer_has_score_components_and_contract_trigger_names(api):
    body = api.get("/customers/c-calls").get_json()
    assert body["tier"] in ("critical", "at-risk", "healthy", "thriving") and 0 <= body["health_score"] <= 100
    assert body["triggers"] == ["calls_14d"]
    assert set(body["components"]) == {"first_session", "velocity", "calls", "goal", "tutor_consistency"}
    calls = body["components"]["calls"]
    assert calls["weight"] == 0.2 and calls["facts"]["calls_14d"] == 3 and "support calls" in calls["why"]
    assert body["intervention"].startswith("Call today") and body["priority"] == 1
    assert body["velocity"] == pytest.approx(2.25) and body["last_session_at"].startswith("2026-05-19")
    assert body["churn_probability"] is None and body["scored"] is True
    low = api.get("/customers/c-low").get_json()
    assert "first_session_low_rating" in low["triggers"] and "inactive_21d" in low["triggers"]
    assert {t["name"] for t in low["trigger_details"]} == set(low["triggers"])
    assert api.get("/customers/c-good").get_json()["triggers"] == []


def test_unknown_customer_is_404_json(api):
    response = api.get("/customers/nobody")
    assert response.status_code == 404 and response.get_json() == {"error": "no customer nobody"}
    assert api.get("/customers/" + "x" * 100).status_code == 400


def test_openapi_documents_the_routes(api):
    paths = api.get("/openapi.json").get_json()["paths"]
    assert "/customers" in paths and "/customers/{customer_id}" in paths
    names = {p["name"] for p in paths["/customers"]["get"]["parameters"]}
    assert {"sort", "tier", "segment", "trigger", "limit", "offset"} <= names
