"""Login, the guard in front of pages, callbacks and API, tokens and throttling (Flask test client)."""
from __future__ import annotations

import re

import pytest

from app import create_app
from auth import accounts
from models.base import get_engine


@pytest.fixture
def app(settings):
    accounts.create_user(get_engine(settings.db_url), "ops@example.com", "ops", "correct-horse")
    return create_app(settings)


@pytest.fixture
def client(app):
    return app.server.test_client()


def login(client, email="ops@example.com", password="correct-horse"):
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token, "next": "/data-health"})


def test_anonymous_requests_are_refused(client):
    page = client.get("/data-health")
    assert page.status_code == 302 and page.headers["Location"].startswith("/login")
    deep = client.get("/alerts?id=3")  # a link from an alert email keeps its query through sign-in
    assert deep.headers["Location"] == "/login?next=/alerts%3Fid%3D3"
    assert client.post("/_dash-update-component", json={"output": "x"}).status_code == 401
    assert client.get("/_dash-layout").status_code in (302, 401)
    api = client.get("/api/v1/openapi.json")
    assert api.status_code == 200  # the API description is public; the data is not
    assert client.get("/api/v1/health").status_code == 200


def test_login_with_wrong_password_is_refused_with_a_message(client):
    response = login(client, password="wrong-password")
    assert response.status_code == 401
    assert "Wrong email or password" in response.get_data(as_text=True)
    assert client.get("/data-health").status_code == 302


def test_login_without_csrf_token_is_refused(client):
    response = client.post("/login", data={"email": "ops@example.com", "password": "correct-horse"})
    assert response.status_code == 400
    assert client.get("/data-health").status_code == 302


def test_login_then_pages_and_callbacks_work(client):
    response = login(client)
    assert response.status_code == 302 and response.headers["Location"] == "/data-health"
    assert client.get("/data-health").status_code == 200
    assert client.get("/_dash-layout").status_code == 200
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_open_redirect_is_refused(client):
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"email": "ops@example.com", "password": "correct-horse",
                                           "csrf_token": token, "next": "//evil.example.com/"})
    assert response.headers["Location"] == "/"


def test_login_attempts_are_throttled(client, settings):
    for _ in range(settings.login_max_attempts):
        assert login(client, password="nope-nope").status_code == 401
    response = login(client)  # even the right password waits out the window
    assert response.status_code == 429
    assert "Too many failed attempts" in response.get_data(as_text=True)


def test_api_token_auth(client, settings):
    engine = get_engine(settings.db_url)
    assert client.get("/api/v1/openapi.json").status_code == 200
    token = accounts.create_token(engine, "ops@example.com")
    assert client.get("/api/v1/health").status_code == 200
    protected = [r.rule for r in client.application.url_map.iter_rules()
                 if r.rule.startswith("/api/v1/") and r.endpoint not in ("api.health", "api.openapi") and "GET" in r.methods
                 and "<" not in r.rule]
    for rule in protected:
        assert client.get(rule).status_code == 401, rule
        assert client.get(rule, headers={"Authorization": "Bearer wrong"}).status_code == 401, rule
        assert client.get(rule, headers={"Authorization": f"Bearer {token}"}).status_code in (200, 400), rule


def test_accounts_refuse_bad_input(settings):
    engine = get_engine(settings.db_url)
    with pytest.raises(accounts.AccountError, match="at least 8"):
        accounts.create_user(engine, "x@example.com", "ops", "short")
    with pytest.raises(accounts.AccountError, match="Role must be"):
        accounts.create_user(engine, "x@example.com", "boss", "long-enough-pw")
    with pytest.raises(accounts.AccountError, match="valid email"):
        accounts.create_user(engine, "not-an-email", "ops", "long-enough-pw")
    accounts.create_user(engine, "x@example.com", "ops", "long-enough-pw")
    with pytest.raises(accounts.AccountError, match="already exists"):
        accounts.create_user(engine, "X@example.com", "ops", "long-enough-pw")


def test_script_bundles_are_cacheable_without_the_session(client):
    """The browser keeps the Dash bundles (max-age a year) only if they come without "Vary: Cookie" and a cookie;
    pages and callbacks keep the session (and say they vary by it)."""
    login(client)
    page = client.get("/data-health").get_data(as_text=True)
    bundle = re.search(r'src="(/_dash-component-suites/[^"]+\.js)"', page).group(1)
    script = client.get(bundle)
    assert script.status_code == 200 and "max-age" in script.headers["Cache-Control"]
    assert "Set-Cookie" not in script.headers and "Cookie" not in script.headers.get("Vary", "")
    style = client.get("/assets/shell.css")
    assert style.status_code == 200 and "Set-Cookie" not in style.headers
    again = client.get("/data-health")
    assert again.status_code == 200 and "Cookie" in again.headers.get("Vary", "")
    assert client.post("/_dash-update-component", json={"output": "x"}).status_code != 401  # still signed in
