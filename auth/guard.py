"""What the app answers when a callback or request is refused: 403 for a role that may not act, 400 for input
no page sends (a forged or malformed callback request), never a 500; and the security headers."""
from __future__ import annotations

import logging
from typing import Callable

from dash import Dash
from dash import _callback as dash_callback
from dash.exceptions import InvalidCallbackReturnValue
from flask import abort, jsonify, request
from werkzeug.exceptions import BadRequest, Forbidden, HTTPException

from auth.headers import init_headers
from auth.permissions import NotAllowed, can_see
from config import Settings

log = logging.getLogger(__name__)
# what reading a forged or malformed callback request raises: answered 400, not 500
BAD_INPUT = (ValueError, TypeError, OverflowError, KeyError, IndexError, AttributeError)


def refuse_callback(exc: Exception) -> None:
    """Called by the app's callback error handler: raise 403 for NotAllowed, 400 for bad input; else return."""
    if isinstance(exc, NotAllowed):
        log.warning("callback refused: %s", exc)
        raise Forbidden(str(exc))
    if isinstance(exc, BAD_INPUT):
        log.warning("callback refused malformed input (%s)", type(exc).__name__)
        raise BadRequest("The request's values are not ones this page sends; reload the page.")


def callback_page_guard(page_of_output: dict[str, str], role_of: Callable[[], str | None]) -> Callable[[], None]:
    """Flask before_request for callback requests: a callback that belongs to a page (page_of_output: the
    callback's output string -> its page module) answers only roles that may open that page, so a hand-made
    request cannot read a page the navbar hides (the router and page_request_guard cover the page itself).
    Shared callbacks (the shell, job buttons: they check their own action) are not in the map and pass."""
    def guard() -> None:
        if request.method != "POST" or request.path != "/_dash-update-component":
            return None
        body = request.get_json(silent=True)
        output = body.get("output") if isinstance(body, dict) else None
        page = page_of_output.get(output) if isinstance(output, str) else None
        role = role_of()
        if page is not None and role is not None and not can_see(role, page):
            log.warning("callback refused: page %s is not for the %s role", page, role)
            abort(403, description=f"This page is not available to the {role} role.")
        return None
    return guard


def secure_server(app: Dash, settings: Settings) -> None:
    """Security headers (with the hashes of Dash's inline scripts) and JSON answers for refused callbacks."""
    seen: dict[int, list[str]] = {}

    def script_hashes() -> list[str]:
        """Dash's inline scripts (server-side state, never from a request), hashed again only when they change."""
        app._setup_server()  # idempotent; a first request refused before Dash's own hook still sees every script
        key = len(app._inline_scripts) + len(dash_callback.GLOBAL_INLINE_SCRIPTS)
        if key not in seen:
            seen.clear()
            seen[key] = app.csp_hashes()
        return seen[key]
    init_headers(app.server, script_hashes, settings.hsts_seconds if settings.cookies_secure else 0)

    @app.server.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if request.path.startswith("/_dash-") and exc.code and 400 <= exc.code < 500:
            return jsonify(error=exc.description), exc.code
        return exc

    @app.server.errorhandler(Exception)
    def _malformed_dash_request(exc: Exception):
        """Dash reading a callback request that lacks its fields (never sent by a page): 400, not 500."""
        if request.path == "/_dash-update-component" and isinstance(exc, BAD_INPUT + (InvalidCallbackReturnValue,)):
            # InvalidCallbackReturnValue here: the request named outputs the page does not have (pattern outputs
            # matching other components than the callback fills); logged, as it could also be a callback's bug
            log.warning("malformed callback request (%s: %s)", type(exc).__name__, str(exc).strip()[:200])
            return jsonify(error="malformed callback request"), 400
        raise exc
