"""Bearer-token auth for every API route but /health; a logged-in browser session also works for reads.

A state change (POST) with the session cookie must carry the CSRF token (X-CSRFToken header) and come
from this site's own origin: a cookie rides along on any other site's form, a bearer token never does.
Every POST body is JSON with Content-Type application/json (a urlencoded form is how CSRF arrives).
"""
from __future__ import annotations

import logging

from urllib.parse import urlparse

from flask import current_app, g, jsonify, request
from flask_login import current_user
from flask_wtf.csrf import validate_csrf
from sqlalchemy.exc import InterfaceError, OperationalError

from api.blueprint import bp
from auth.accounts import account_for_token
from models.base import get_engine

PUBLIC = {"api.health", "api.openapi"}
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
log = logging.getLogger("api")


@bp.before_request
def require_token():
    if request.endpoint in PUBLIC:
        return None
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        account = account_for_token(get_engine(current_app.extensions["settings"].db_url), header[7:].strip()[:200])
        if account is None:
            return jsonify(error="invalid or revoked token"), 401
        g.api_user = account
    elif current_user.is_authenticated:
        refused = _cookie_write_refused()
        if refused:
            return jsonify(error=refused), 403
        g.api_user = current_user
    else:
        return jsonify(error="authentication required: send Authorization: Bearer <token>"), 401
    if request.method not in SAFE_METHODS and request.content_length and not request.is_json:
        return jsonify(error="send the body as JSON with Content-Type: application/json"), 415
    return None


def _cookie_write_refused() -> str | None:
    """Why a state change authenticated by the session cookie is refused (None for reads and good writes)."""
    if request.method in SAFE_METHODS:
        return None
    origin = request.headers.get("Origin") or request.headers.get("Referer")
    if origin and urlparse(origin).netloc != request.host:
        return "cross-site request refused: state changes come from this site or with a bearer token"
    try:
        validate_csrf(request.headers.get("X-CSRFToken"))
    except Exception:  # missing, expired or forged
        return "state changes with the session cookie need the X-CSRFToken header; or use a bearer token"
    return None


@bp.after_request
def log_refusals(response):
    """Every refused API request is a warning naming the route and the query parameters given, never
    their values (hostile, huge, or a secret) nor the Authorization header. api.params logs its own
    refusals (the parameter named in the JSON answer), so those are not logged twice."""
    if 400 <= response.status_code < 500 and response.status_code != 404:
        body = response.get_json(silent=True) if response.is_json else None
        if not (isinstance(body, dict) and "parameter" in body):
            names = ", ".join(sorted(name[:40] for name in request.args)[:20]) or "none"
            log.warning("refused API request: %s %s -> %d (query parameters: %s)", request.method,
                        request.path[:200], response.status_code, names)
    return response


@bp.errorhandler(404)
def not_found(_exc):
    return jsonify(error="not found"), 404


@bp.errorhandler(405)
def not_allowed(_exc):
    return jsonify(error="method not allowed"), 405


@bp.errorhandler(400)
def bad_request(exc):
    return jsonify(error=getattr(exc, "description", "bad request")), 400


@bp.errorhandler(OperationalError)
@bp.errorhandler(InterfaceError)
def store_unavailable(exc):
    """The database is unreachable (down, restarting): 503 with Retry-After, never a stack trace."""
    log.warning("API %s %s answered 503: database unreachable (%s)", request.method, request.path, type(exc).__name__)
    response = jsonify(error="database unavailable; retry shortly", retry_after_s=30)
    response.headers["Retry-After"] = "30"
    return response, 503
