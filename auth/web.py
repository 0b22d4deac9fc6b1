"""Flask side of login: the login page, the session, and the guard in front of every route.

Every request needs a logged-in user except /login and /logout (exact paths), static assets and the
public health check. Dash callback requests from an anonymous browser get 401 JSON; pages redirect
to /login. API routes check their own bearer token (api/auth.py). Sessions carry the user's session
generation (auth/accounts.py): signing out ends the session everywhere it was copied to.
"""
from __future__ import annotations

import time
from urllib.parse import quote, urlparse

from flask import Blueprint, Flask, current_app, jsonify, redirect, render_template_string, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_login import LoginManager, current_user, login_user, logout_user
from flask_wtf.csrf import generate_csrf, validate_csrf

from auth import accounts, audit
from auth.throttle import throttle_for
from models.base import get_engine
from models.base import store_unreachable

login_manager = LoginManager()
bp = Blueprint("auth", __name__)
PUBLIC_PATHS = frozenset({"/login", "/logout", "/_favicon.ico"})
PUBLIC_PREFIXES = ("/assets/", "/_dash-component-suites/", "/api/")


def settings():
    return current_app.extensions["settings"]


def engine():
    return get_engine(settings().db_url)


STATIC_PREFIXES = ("/assets/", "/_dash-component-suites/")


class _Sessions(SecureCookieSessionInterface):
    """The signed-cookie session, left out of scripts and styles: a session cookie on them (Flask-Login touches
    the session after every request) makes Flask answer "Vary: Cookie" with a fresh cookie, so the browser never
    reused its copy of the Dash bundles (max-age a year) and fetched ~3.5 MB again at every page load."""

    def save_session(self, app, session, response) -> None:
        if request.path.startswith(STATIC_PREFIXES):
            return
        super().save_session(app, session, response)


def init_auth(server: Flask) -> None:
    server.session_interface = _Sessions()
    login_manager.init_app(server)
    login_manager.login_view = "auth.login"
    server.register_blueprint(bp)
    server.before_request(_require_login)


_recent: dict[str, tuple[float, accounts.Account]] = {}  # user id -> (monotonic time loaded, account)


@login_manager.user_loader
def _load(user_id: str):
    """The session's account; while the store is unreachable, the account as loaded within the
    cache TTL, so signed-in users keep reading the last data (nobody new can sign in meanwhile)."""
    try:
        account = accounts.load_account(engine(), user_id)
    except Exception as exc:
        if not store_unreachable(exc):
            raise
        seen = _recent.get(str(user_id))
        return seen[1] if seen and time.monotonic() - seen[0] < settings().cache_ttl_s else None
    if account is None:
        _recent.pop(str(user_id), None)
    else:
        _recent[str(user_id)] = (time.monotonic(), account)
    return account


def _require_login():
    path = request.path
    if path.startswith("/api/") and request.blueprint != "api":
        return jsonify(error="not found"), 404  # never let Dash's catch-all page answer under /api/
    if path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES) or current_user.is_authenticated:
        return None
    if path.startswith("/_dash-") or request.is_json:
        return jsonify(error="login required"), 401
    return redirect(f"/login?next={quote(request.full_path.rstrip('?'), safe='/')}")


LOGIN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in · Marketplace Ops</title><link rel="stylesheet" href="/assets/vendor/00-bootstrap.min.css"></head>
<body class="bg-light"><main class="container" style="max-width:420px;margin-top:10vh">
<h1 class="h4 mb-3">Marketplace Ops</h1>
<form method="post" action="/login" class="card card-body shadow-sm" id="login-form">
  <input type="hidden" name="csrf_token" value="{{ csrf }}">
  <input type="hidden" name="next" value="{{ next_url }}">
  {% if error %}<div class="alert alert-danger py-2" id="login-error" role="alert">{{ error }}</div>{% endif %}
  <label class="form-label" for="email">Email</label>
  <input class="form-control mb-2" id="email" name="email" type="email" autocomplete="username" value="{{ email }}" required maxlength="255">
  <label class="form-label" for="password">Password</label>
  <input class="form-control mb-3" id="password" name="password" type="password" autocomplete="current-password" required maxlength="512">
  <button class="btn btn-primary" id="login-submit" type="submit">Sign in</button>
</form></main></body></html>"""


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths, so the login page is no open redirect."""
    if not target:
        return "/"
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def _page(error: str = "", email: str = "", status: int = 200):
    html = render_template_string(LOGIN_PAGE, csrf=generate_csrf(), error=error, email=email,
                                  next_url=_safe_next(request.values.get("next")))
    return html, status


def _form_ok() -> bool:
    try:
        validate_csrf(request.form.get("csrf_token"))
        return True
    except Exception:  # CSRFError and flask-wtf's ValidationError: missing, expired or forged
        return False


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        return _page()
    if not _form_ok():
        return _page("Your form expired; please sign in again.", status=400)
    email = (request.form.get("email") or "").strip().lower()[:255]
    password = request.form.get("password") or ""
    ip = (request.remote_addr or "?")[:64]
    try:
        return _sign_in(email, password, ip)
    except Exception as exc:
        if not store_unreachable(exc):
            raise
        return _page("The database is unreachable; signing in is not possible right now. Try again in a minute.",
                     email, status=503)


def _sign_in(email: str, password: str, ip: str):
    throttle = throttle_for(settings(), engine())
    if not throttle.take(email, ip):
        minutes = max(1, settings().login_window_s // 60)
        audit.record(engine(), "login.throttled", user_email=email, entity="ip", entity_id=ip)
        return _page(f"Too many failed attempts. Try again in {minutes} minutes.", email, status=429)
    try:
        account = accounts.authenticate(engine(), email, password[:512])
        if account is None:
            audit.record(engine(), "login.failed", user_email=email, entity="ip", entity_id=ip)
            return _page("Wrong email or password.", email, status=401)
        throttle.give_back(email, ip)
    finally:
        throttle.done(email, ip)
    session.clear()  # a fresh session: nothing from before sign-in carries over
    session.permanent = True  # lasts SESSION_HOURS at most
    login_user(account)
    audit.record(engine(), "login.ok", user_email=account.email, entity="ip", entity_id=ip)
    return redirect(_safe_next(request.form.get("next")))


LOGOUT_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign out · Marketplace Ops</title>
<link rel="stylesheet" href="/assets/vendor/00-bootstrap.min.css"></head>
<body class="bg-light"><main class="container" style="max-width:420px;margin-top:10vh">
<form method="post" action="/logout" class="card card-body shadow-sm" id="logout-form">
  <p>Sign out of Marketplace Ops, here and in every other browser signed in as {{ email }}?</p>
  <input type="hidden" name="csrf_token" value="{{ csrf }}">
  <button class="btn btn-primary" id="logout-submit" type="submit">Sign out</button>
  <a class="btn btn-link" href="/">Stay signed in</a>
</form></main></body></html>"""


@bp.route("/logout", methods=["GET", "POST"])
def logout():
    """GET asks (a link or a prefetch never signs anyone out); POST with the form's token signs out and
    ends every session of the user (the session generation moves on)."""
    if not current_user.is_authenticated:
        return redirect("/login")
    if request.method == "GET":
        return render_template_string(LOGOUT_PAGE, csrf=generate_csrf(), email=current_user.email)
    if not _form_ok():
        return redirect("/logout")
    email = current_user.email
    accounts.end_sessions(engine(), email)
    audit.record(engine(), "logout", user_email=email)
    logout_user()
    session.clear()
    return redirect("/login")
