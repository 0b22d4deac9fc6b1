"""Security hardening of the web side, one test per finding of issue #14 (Flask test client, real SQLite/Redis):
sessions that end, cookie writes to the API, headers, the login throttle, exact public paths, bad input, file modes."""
from __future__ import annotations

import json
import os
import re
import stat
import threading

import pytest
import werkzeug.security
from sqlalchemy import func, select

from app import create_app
from auth import accounts
from models.base import get_engine
from models.ops import AuditLog
from tests.conftest import REDIS_TEST_URL, make_settings

PASSWORD = "correct-horse"


@pytest.fixture
def app(settings):
    engine = get_engine(settings.db_url)
    accounts.create_user(engine, "ops@example.com", "ops", PASSWORD)
    return create_app(settings)


def csrf(client, path="/login") -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


def login(client, email="ops@example.com", password=PASSWORD):
    return client.post("/login", data={"email": email, "password": password, "csrf_token": csrf(client)})


def signed_in(client) -> bool:
    return client.get("/_dash-layout").status_code == 200 and client.get("/api/v1/metrics").status_code == 200


def session_cookie(client) -> str:
    return client.get_cookie("session").value


# 4 -------------------------------------------------------------------------------------------------------

def test_logout_by_post_ends_the_session_even_for_a_saved_copy_of_the_cookie(app):
    client = app.server.test_client()
    assert login(client).status_code == 302 and signed_in(client)
    saved = session_cookie(client)
    assert client.get("/logout").status_code == 200 and signed_in(client)  # a GET (link, prefetch) only asks
    assert client.post("/logout", data={"csrf_token": csrf(client, "/logout")}).status_code == 302
    assert not signed_in(client)
    replay = app.server.test_client()
    replay.set_cookie("session", saved)
    assert replay.get("/_dash-layout").status_code == 401
    assert replay.get("/api/v1/metrics").status_code == 401
    assert replay.get("/alerts").status_code == 302


@pytest.mark.parametrize("change", ["password", "deactivate", "role"])
def test_password_change_deactivation_and_role_change_end_existing_sessions(app, settings, change):
    engine = get_engine(settings.db_url)
    client = app.server.test_client()
    login(client)
    assert signed_in(client)
    {"password": lambda: accounts.set_password(engine, "ops@example.com", "another-horse"),
     "deactivate": lambda: accounts.set_active(engine, "ops@example.com", False),
     "role": lambda: accounts.set_role(engine, "ops@example.com", "cs")}[change]()
    assert not signed_in(client)


def test_cookies_are_secure_in_production_and_configurable(tmp_path):
    from models.schema import upgrade
    cases = [({}, False), ({"redis_url": REDIS_TEST_URL}, True), ({"redis_url": REDIS_TEST_URL, "secure_cookies": False},
                                                                   False), ({"secure_cookies": True}, True)]
    for i, (overrides, secure) in enumerate(cases):
        settings = make_settings(tmp_path / str(i), **overrides)
        upgrade(settings.db_url)
        accounts.create_user(get_engine(settings.db_url), "ops@example.com", "ops", PASSWORD)
        app = create_app(settings)
        cookie = login(app.server.test_client()).headers["Set-Cookie"]
        assert ("Secure" in cookie) is secure, (overrides, cookie)
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
        hsts = app.server.test_client().get("/login").headers.get("Strict-Transport-Security")
        assert bool(hsts) is secure, overrides
    from read import cache
    cache.configure("")


# 5 -------------------------------------------------------------------------------------------------------

def test_security_headers_on_pages_callbacks_and_api(app):
    client = app.server.test_client()
    login(client)
    for path in ("/login", "/alerts", "/_dash-layout", "/api/v1/health"):
        headers = client.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp and "object-src 'none'" in csp
        assert re.search(r"script-src 'self' [^;]*'sha256-", csp), csp  # Dash's inline renderer script, by hash
        assert "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
        assert headers["X-Frame-Options"] == "DENY" and headers["X-Content-Type-Options"] == "nosniff"
        assert "Strict-Transport-Security" not in headers  # plain http in embedded mode


# 3 -------------------------------------------------------------------------------------------------------

def test_api_state_changes_with_the_cookie_need_csrf_token_same_origin_and_json(app, settings):
    client = app.server.test_client()
    login(client)
    assert client.get("/api/v1/alerts").status_code == 200  # reads with the cookie are fine
    forged = client.post("/api/v1/alerts/2/dismiss", data="comment=x", content_type="application/x-www-form-urlencoded",
                         headers={"Origin": "http://evil.example"})
    assert forged.status_code == 403 and "cross-site" in forged.get_json()["error"]
    no_token = client.post("/api/v1/alerts/2/dismiss", json={})
    assert no_token.status_code == 403 and "X-CSRFToken" in no_token.get_json()["error"]
    token = csrf(client, "/logout")
    with_token = client.post("/api/v1/alerts/2/dismiss", json={}, headers={"X-CSRFToken": token})
    assert with_token.status_code == 404  # accepted as a request: there is just no alert 2
    bearer = {"Authorization": f"Bearer {accounts.create_token(get_engine(settings.db_url), 'ops@example.com')}"}
    form = app.server.test_client().post("/api/v1/alerts/2/dismiss", data="comment=x", headers=bearer,
                                         content_type="application/x-www-form-urlencoded")
    assert form.status_code == 415 and "application/json" in form.get_json()["error"]
    with get_engine(settings.db_url).connect() as conn:  # nothing above acted on an alert
        assert conn.execute(select(func.count()).select_from(AuditLog).where(AuditLog.action.like("alert.%"))).scalar() == 0


# 6 -------------------------------------------------------------------------------------------------------

def _parallel_wrong_logins(app, n: int) -> list[int]:
    statuses = []

    def attempt():
        client = app.server.test_client()
        statuses.append(login(client, password="wrong-password").status_code)
    threads = [threading.Thread(target=attempt) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return statuses


@pytest.mark.parametrize("backend", ["embedded", "redis"])
def test_parallel_wrong_logins_get_at_most_the_limit_of_password_checks(tmp_path, monkeypatch, backend):
    from models.schema import upgrade
    overrides = {"redis_url": REDIS_TEST_URL} if backend == "redis" else {}
    settings = make_settings(tmp_path, login_max_attempts=5, **overrides)
    upgrade(settings.db_url)
    accounts.create_user(get_engine(settings.db_url), "ops@example.com", "ops", PASSWORD)
    if backend == "redis":
        import redis
        redis.Redis.from_url(REDIS_TEST_URL).delete("login:email:ops@example.com", "login:ip:127.0.0.1")
    app = create_app(settings)
    checks = []
    real = werkzeug.security.check_password_hash
    monkeypatch.setattr(accounts, "check_password_hash", lambda h, p: checks.append(1) or real(h, p))
    statuses = _parallel_wrong_logins(app, 40)
    assert statuses.count(401) == len(checks) == 5, (sorted(statuses), len(checks))
    assert statuses.count(429) == 35
    with get_engine(settings.db_url).connect() as conn:
        failed = conn.execute(select(func.count()).select_from(AuditLog).where(AuditLog.action == "login.failed")).scalar()
    assert failed == 5
    if backend == "redis":
        from read import cache
        cache.configure("")


def test_unknown_email_costs_a_password_check_like_a_known_one(app, settings, monkeypatch):
    checks = []
    real = werkzeug.security.check_password_hash
    monkeypatch.setattr(accounts, "check_password_hash", lambda h, p: checks.append(h) or real(h, p))
    engine = get_engine(settings.db_url)
    assert accounts.authenticate(engine, "nobody@example.com", "whatever") is None
    assert accounts.authenticate(engine, "not an email", "whatever") is None
    assert accounts.authenticate(engine, "ops@example.com", "wrong") is None
    assert len(checks) == 3 and all(h.startswith("scrypt:") for h in checks)


# 8 -------------------------------------------------------------------------------------------------------

def test_login_and_logout_are_public_by_exact_path_only(app):
    client = app.server.test_client()
    for path in ("/loginfoo", "/login/x", "/logoutx", "/logout/../alerts", "/login.json"):
        response = client.get(path)
        assert response.status_code in (302, 404), (path, response.status_code)
        if response.status_code == 302:
            assert response.headers["Location"].startswith("/login?next=")
    assert client.get("/login").status_code == 200
    assert client.get("/logout").status_code == 302  # signed out: back to the login page


# 7 -------------------------------------------------------------------------------------------------------

def test_api_parameters_out_of_range_are_4xx_with_a_message(app, settings):
    token = accounts.create_token(get_engine(settings.db_url), "ops@example.com")
    client = app.server.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    for path in ("/api/v1/alerts/18446744073709551617", "/api/v1/alerts/0", "/api/v1/alerts/2147483648/ack"):
        method = client.post if path.endswith("ack") else client.get
        response = method(path, headers=headers, json={} if method == client.post else None)
        assert response.status_code == 404 and response.get_json()["error"], path
    for query in ({"since": "0001-01-01T00:00:00+23:00"}, {"until": "9999-12-31T23:59:59-23:00"},
                  {"since": "1200-01-01"}, {"limit": "1e19"}, {"offset": "18446744073709551617"}):
        response = client.get("/api/v1/alerts", query_string=query, headers=headers)
        assert response.status_code == 400 and response.get_json()["error"], query
    response = client.get("/api/v1/first-sessions", query_string={"by": "tutor", "since": "0001-01-01T00:00:00+23:00"},
                          headers=headers)
    assert response.status_code == 400 and "since" in response.get_json()["error"]


def dash_post(client, output, inputs, state=(), changed=None, outputs=None):
    payload = {"output": output, "outputs": outputs or [], "inputs": list(inputs), "state": list(state),
               "changedPropIds": [changed or f"{inputs[0]['id']}.{inputs[0]['property']}"]}
    return client.post("/_dash-update-component", data=json.dumps(payload), content_type="application/json")


def test_page_snooze_and_grid_requests_out_of_range_get_a_message(app):
    client = app.server.test_client()
    login(client)
    actions = ["acknowledge", "resolve", "snooze", "dismiss", "reopen"]
    for minutes in ("1000000000000", "abc", "-5"):
        response = dash_post(
            client, "..alerts-action-message.children...alerts-changed.data...alerts-comment.value..",
            [{"id": f"alerts-{a}", "property": "n_clicks", "value": 1 if a == "snooze" else None} for a in actions],
            [{"id": "alerts-selected", "property": "data", "value": 1},
             {"id": "alerts-comment", "property": "value", "value": None},
             {"id": "alerts-snooze-for", "property": "value", "value": minutes},
             {"id": "alerts-changed", "property": "data", "value": 0}], changed="alerts-snooze.n_clicks",
            outputs=[{"id": "alerts-action-message", "property": "children"}, {"id": "alerts-changed", "property": "data"},
                     {"id": "alerts-comment", "property": "value"}])
        assert response.status_code == 200, minutes
        assert "between 1 minute and 30 days" in response.get_data(as_text=True) or \
            "from the list" in response.get_data(as_text=True), minutes
    grid_out = "..customers-grid.getRowsResponse...customers-count.children...customers-message.children.."
    outputs = [{"id": "customers-grid", "property": "getRowsResponse"}, {"id": "customers-count", "property": "children"},
               {"id": "customers-message", "property": "children"}]
    for request in ({"startRow": 1e19, "endRow": 1e19 + 100},
                    {"startRow": 0, "endRow": 100, "filterModel": {"signup_date": {"filterType": "date", "type": "equals",
                                                                                   "dateFrom": ""}}},
                    {"startRow": "x", "endRow": 100}):
        response = dash_post(client, grid_out, [{"id": "customers-grid", "property": "getRowsRequest", "value": request}],
                             outputs=outputs)
        assert response.status_code in (200, 400), request
        if response.status_code == 200:
            message = response.get_json()["response"]["customers-message"]["children"]
            assert message and ("whole number" in message or "not a date" in message), message
    alert = dash_post(client, "..alerts-detail.children...alerts-acknowledge.disabled..",
                      [{"id": "alerts-selected", "property": "data", "value": 18446744073709551617},
                       {"id": "alerts-changed", "property": "data", "value": 0},
                       {"id": "shell-data-version", "property": "data", "value": 0}])
    assert alert.status_code < 500


def test_malformed_callback_requests_are_400_not_500(app):
    client = app.server.test_client()
    login(client)
    for body in ({}, {"output": "nope.children"}, {"output": "alerts-grid.rowData", "inputs": "x"}):
        response = client.post("/_dash-update-component", data=json.dumps(body), content_type="application/json")
        assert 400 <= response.status_code < 500, (body, response.status_code)


def test_a_hand_made_callback_request_for_a_page_the_role_may_not_see_is_403(app, settings):
    """The navbar hides /customers from recruiters and the page itself refuses them; its grid callback must too."""
    from app import callback_pages
    owners = callback_pages()
    grid_out = "..customers-grid.getRowsResponse...customers-count.children...customers-message.children.."
    assert owners[grid_out] == "customers" and "admin" in owners.values() and "queue" in owners.values()
    engine = get_engine(settings.db_url)
    accounts.create_user(engine, "recruiter@example.com", "recruiter", PASSWORD)
    accounts.create_user(engine, "cs@example.com", "cs", PASSWORD)
    outputs = [{"id": "customers-grid", "property": "getRowsResponse"}, {"id": "customers-count", "property": "children"},
               {"id": "customers-message", "property": "children"}]
    inputs = [{"id": "customers-grid", "property": "getRowsRequest", "value": {"startRow": 0, "endRow": 100}}]
    from callbacks.customers.customers import QUICK_STATES
    state = [{"id": s.component_id, "property": s.component_property, "value": None} for s in QUICK_STATES]
    answers = {}
    for email in ("recruiter@example.com", "cs@example.com"):
        client = app.server.test_client()
        assert login(client, email).status_code == 302
        answers[email] = dash_post(client, grid_out, inputs, state, outputs=outputs)
    refused = answers["recruiter@example.com"]
    assert refused.status_code == 403 and "not available to the recruiter role" in refused.get_json()["error"]
    assert answers["cs@example.com"].status_code == 200


# 14 ------------------------------------------------------------------------------------------------------

def test_files_under_var_are_created_for_their_owner_only(tmp_path):
    from bootstrap.startup import demo_admin
    old = os.umask(0o022)
    try:
        var = tmp_path / "var"
        settings = make_settings(var, database_url="", secret_key="", embedded_scheduler=False)
        assert settings.db_url.endswith("var/dashboard.db")
        create_app(settings)
        assert demo_admin(settings) is not None
        with get_engine(settings.db_url).begin() as conn:  # WAL and shared-memory files exist once written
            conn.execute(select(1))
    finally:
        os.umask(old)
    assert stat.S_IMODE(var.stat().st_mode) == 0o700
    files = sorted(p for p in var.iterdir() if p.is_file())
    assert {p.name for p in files} >= {"dashboard.db", "secret_key", "demo-admin-password"}
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, (path.name, oct(path.stat().st_mode))
