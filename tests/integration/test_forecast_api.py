"""/api/v1/forecast and /api/v1/recommendations on the hand-made store (tests/support/forecast.py): token auth,
hourly rows with bounds, baseline, supply and coverage, 400 on an unknown subject, the recommendation list with
its acceptance rate, implement/dismiss with 409 once decided, and the audit log."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from app import create_app
from auth import accounts
from models.base import get_engine
from models.ops import AuditLog
from jobs.runner import run_job
from tests.support.forecast import AT, FAR, NEAR, source_frames, write_forecast
from tests.support.store import load_frames


@pytest.fixture
def api(settings):
    """The hand-made store with its forecast run, supply and recommendations computed at AT (May 2026); the
    recommendations' TTL is long enough that they are still pending today."""
    settings = settings.model_copy(update={"recommendation_ttl_h": 24 * 365 * 20})
    engine = get_engine(settings.db_url)
    load_frames(settings, source_frames())
    write_forecast(settings)
    run_job("supply", settings, at=AT)
    run_job("recommend", settings, at=AT)
    accounts.create_user(engine, "recruiter@example.com", "recruiter", "correct-horse")
    token = accounts.create_token(engine, "recruiter@example.com")
    client = create_app(settings).server.test_client()
    headers = {"Authorization": f"Bearer {token}"}

    class Api:
        def get(self, path, **kw):
            return client.get(f"/api/v1{path}", headers=headers, **kw)

        def post(self, path, json=None, **kw):
            return client.post(f"/api/v1{path}", headers=headers, json=json, **kw)
    Api.client, Api.engine = client, engine
    return Api()


def test_token_is_required(api):
    assert api.client.get("/api/v1/forecast?subject=spanish").status_code == 401
    assert api.client.get("/api/v1/recommendations").status_code == 401
    assert api.client.post("/api/v1/recommendations/1/implement").status_code == 401


def test_forecast_rows_with_bounds_baseline_supply_and_coverage(api):
    body = api.get("/forecast?subject=spanish").get_json()
    assert body["subject"] == "spanish" and body["run"]["of_record"] == "model"
    rows = body["rows"]
    assert len(rows) == 168 and rows[0]["ts"] == AT.isoformat()
    assert set(rows[0]) == {"ts", "yhat", "yhat_lower", "yhat_upper", "baseline", "forecast", "source",
                            "available_hours", "booked_hours", "coverage"}
    by_ts = {r["ts"]: r for r in rows}
    busy = [r for r in rows if r["yhat"] == 1.0]  # 14:00-22:00 outside the two short slots
    assert len(busy) == 7 * 8 - 4
    assert all(r["yhat_lower"] == 0.5 and r["yhat_upper"] == 1.5 and r["baseline"] == 1.0 for r in busy)
    assert all(r["available_hours"] == 2 and r["coverage"] == pytest.approx(2.0) for r in busy)
    for slot in (NEAR, FAR):  # 5 sessions, 2 open tutor hours
        for ts in (slot[0], slot[0] + timedelta(hours=1)):
            assert by_ts[ts.isoformat()]["forecast"] == 5.0 and by_ts[ts.isoformat()]["coverage"] == pytest.approx(0.4)
    quiet = [r for r in rows if r["yhat"] == 0.0]
    assert all(r["coverage"] is None for r in quiet)  # no demand: nothing to cover (null, not NaN)
    assert body["accuracy"] is None  # nothing scored yet


def test_forecast_parameters_are_checked(api):
    missing = api.get("/forecast")
    assert missing.status_code == 400 and "subject is required" in missing.get_json()["error"]
    unknown = api.get("/forecast?subject=klingon")
    assert unknown.status_code == 400 and unknown.get_json()["parameter"] == "subject"
    assert api.get("/forecast?subject=spanish&region=CA").status_code == 400
    assert api.get("/forecast?subject=french").status_code == 200  # a contract subject, not forecast here
    assert api.get("/forecast?subject=french").get_json()["rows"] == []


def test_recommendations_list_decide_and_acceptance(api):
    body = api.get("/recommendations").get_json()
    assert body["total"] == 2 and body["acceptance"]["rate"] is None
    recs = {r["subject"]: r for r in body["recommendations"]}
    spanish, math = recs["spanish"], recs["math"]
    assert spanish["rule"] == "recruit.raise_budget" and spanish["priority"] == 1 and spanish["roi"] > 0
    assert spanish["details"]["link"] == "/forecast?subject=spanish" and spanish["expires_at"]
    assert math["rule"] == "recruit.cut_spend"

    done = api.post(f"/recommendations/{spanish['id']}/implement")
    assert done.status_code == 200 and done.get_json()["status"] == "implemented"
    dismissed = api.post(f"/recommendations/{math['id']}/dismiss", json={"reason": "hiring freeze lifted"})
    assert dismissed.status_code == 200 and dismissed.get_json()["decision_reason"] == "hiring freeze lifted"
    again = api.post(f"/recommendations/{math['id']}/implement")
    assert again.status_code == 409 and "already dismissed" in again.get_json()["error"]
    assert api.post("/recommendations/999/dismiss").status_code == 404

    after = api.get("/recommendations?status=decided").get_json()
    assert after["total"] == 2 and after["acceptance"]["rate"] == 0.5
    assert {r["status"] for r in after["recommendations"]} == {"implemented", "dismissed"}
    assert api.get("/recommendations").get_json()["total"] == 0
    assert api.get("/recommendations?status=all&limit=1").get_json()["total"] == 2
    assert len(api.get("/recommendations?status=all&limit=1").get_json()["recommendations"]) == 1
    with api.engine.connect() as conn:
        audit = conn.execute(select(AuditLog.action, AuditLog.user_email, AuditLog.detail)
                             .where(AuditLog.entity == "recommendation").order_by(AuditLog.id)).all()
    assert [(a.action, a.user_email) for a in audit] == [("recommendation.implement", "recruiter@example.com"),
                                                        ("recommendation.dismiss", "recruiter@example.com")]
    assert json.loads(audit[1].detail)["via"] == "api"


@pytest.mark.parametrize("path,body,word", [
    ("/recommendations?status=maybe", None, "status"),
    ("/recommendations?limit=0", None, "limit"),
    ("/recommendations?sort=roi", None, "unknown parameter"),
])
def test_bad_list_parameters_are_400(api, path, body, word):
    r = api.get(path)
    assert r.status_code == 400 and word in r.get_json()["error"]


def test_only_recruiting_roles_decide(api):
    accounts.create_user(api.engine, "cs@example.com", "cs", "correct-horse")
    token = accounts.create_token(api.engine, "cs@example.com")
    rec = api.get("/recommendations").get_json()["recommendations"][0]
    r = api.client.post(f"/api/v1/recommendations/{rec['id']}/implement", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 403
    assert api.client.get("/api/v1/recommendations", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert api.get("/recommendations").get_json()["total"] == 2  # still pending


def test_bad_decision_bodies_are_400(api):
    rec = api.get("/recommendations").get_json()["recommendations"][0]
    assert api.post(f"/recommendations/{rec['id']}/dismiss", json=["no"]).status_code == 400
    assert api.post(f"/recommendations/{rec['id']}/dismiss", json={"reason": 5}).status_code == 400
    assert api.post(f"/recommendations/{rec['id']}/dismiss", json={"note": "x"}).status_code == 400
    assert api.post(f"/recommendations/{rec['id']}/dismiss", json={"reason": "x" * 2001}).status_code == 400
    assert api.get("/recommendations").get_json()["total"] == 2  # nothing was decided


def test_routes_are_in_the_openapi_document(api):
    paths = api.client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "get" in paths["/forecast"] and "get" in paths["/recommendations"]
    assert "post" in paths["/recommendations/{rec_id}/implement"] and "post" in paths["/recommendations/{rec_id}/dismiss"]
