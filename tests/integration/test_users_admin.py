"""The users page (issue #14 row 9), driven through its callbacks as an admin: change a role, deactivate and
reactivate, reset a password (shown once), make and revoke API tokens; each ends what it should and is
audit-logged, never with the secret."""
from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from app import create_app
from auth import accounts
from models.base import get_engine
from models.ops import AuditLog

PASSWORD = "long-enough-pw"
BUTTONS = ("admin-change-role", "admin-deactivate", "admin-reactivate", "admin-reset-password", "admin-new-token")


def sign_in(client, email, password=PASSWORD):
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


def signed_in(client) -> bool:
    return client.get("/_dash-layout").status_code == 200


@pytest.fixture
def page(settings):
    engine = get_engine(settings.db_url)
    accounts.create_user(engine, "admin@example.com", "admin", PASSWORD)
    accounts.create_user(engine, "agent@example.com", "cs", PASSWORD)
    app = create_app(settings)
    admin = app.server.test_client()
    sign_in(admin, "admin@example.com")

    def click(button: str, email: str = "agent@example.com", role: str = "ops") -> str:
        payload = {"output": "admin-manage-message.children",
                   "outputs": {"id": "admin-manage-message", "property": "children"},
                   "inputs": [{"id": b, "property": "n_clicks", "value": 1 if b == button else None} for b in BUTTONS],
                   "state": [{"id": "admin-users", "property": "selectedRows", "value": [{"email": email}]},
                             {"id": "admin-new-role", "property": "value", "value": role}],
                   "changedPropIds": [f"{button}.n_clicks"]}
        response = admin.post("/_dash-update-component", data=json.dumps(payload), content_type="application/json")
        assert response.status_code == 200, response.get_data()[:300]
        return json.dumps(response.get_json()["response"]["admin-manage-message"]["children"])

    def revoke(token_id) -> str:
        payload = {"output": "admin-token-message.children",
                   "outputs": {"id": "admin-token-message", "property": "children"},
                   "inputs": [{"id": "admin-revoke-token", "property": "n_clicks", "value": 1}],
                   "state": [{"id": "admin-tokens", "property": "selectedRows", "value": [{"id": token_id}]}],
                   "changedPropIds": ["admin-revoke-token.n_clicks"]}
        response = admin.post("/_dash-update-component", data=json.dumps(payload), content_type="application/json")
        return json.dumps(response.get_json()["response"]["admin-token-message"]["children"])
    return app, engine, click, revoke


def secret_in(message: str) -> str:
    return re.search(r'"admin-secret"', message) and json.loads(message)["props"]["children"][-1]["props"]["children"]


def test_admin_changes_role_deactivates_reactivates_resets_password_and_revokes_tokens(page):
    app, engine, click, revoke = page
    agent = app.server.test_client()
    sign_in(agent, "agent@example.com")
    assert signed_in(agent)

    assert "is now ops" in click("admin-change-role")
    assert not signed_in(agent)  # a role change ends the sessions
    assert [u["role"] for u in accounts.list_users(engine) if u["email"] == "agent@example.com"] == ["ops"]

    token = secret_in(click("admin-new-token"))
    api = app.server.test_client()
    assert api.get("/api/v1/metrics", headers={"Authorization": f"Bearer {token}"}).status_code == 200

    sign_in(agent, "agent@example.com")
    assert "deactivated" in click("admin-deactivate")
    assert not signed_in(agent)
    assert sign_in(agent, "agent@example.com").status_code == 401  # cannot sign in again
    assert api.get("/api/v1/metrics", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert "active again" in click("admin-reactivate")
    assert api.get("/api/v1/metrics", headers={"Authorization": f"Bearer {token}"}).status_code == 200

    sign_in(agent, "agent@example.com")
    new_password = secret_in(click("admin-reset-password"))
    assert new_password and len(new_password) >= 12
    assert not signed_in(agent)
    assert sign_in(agent, "agent@example.com").status_code == 401  # the old password is gone
    assert sign_in(agent, "agent@example.com", new_password).status_code == 302

    listed = [t for t in accounts.list_tokens(engine) if t["email"] == "agent@example.com"]
    assert len(listed) == 1 and not listed[0]["revoked"] and "token" not in listed[0]
    assert "revoked" in revoke(listed[0]["id"])
    assert api.get("/api/v1/metrics", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert "No active token" in revoke(listed[0]["id"])

    with engine.connect() as conn:
        logged = conn.execute(select(AuditLog.action, AuditLog.user_email, AuditLog.entity_id, AuditLog.detail)
                              .where(AuditLog.user_email == "admin@example.com",
                                     AuditLog.action.notlike("login%"))).all()
    assert [r.action for r in logged] == ["user.role", "token.create", "user.deactivate", "user.reactivate",
                                          "user.password_reset", "token.revoke"]
    assert all(new_password not in (r.detail or "") and token not in (r.detail or "") for r in logged)


def test_an_admin_cannot_lock_themselves_out_and_bad_selections_get_a_message(page):
    _app, engine, click, revoke = page
    assert "your own account" in click("admin-deactivate", email="admin@example.com")
    assert "your own account" in click("admin-change-role", email="admin@example.com", role="cs")
    assert "Role must be one of" in click("admin-change-role", role="boss")
    assert "No user" in click("admin-deactivate", email="ghost@example.com")
    assert "valid email" in click("admin-deactivate", email="not an email")
    assert "Select a token" in revoke(18446744073709551617)
    assert [u["role"] for u in accounts.list_users(engine) if u["email"] == "admin@example.com"] == ["admin"]
