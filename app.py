"""create_app(settings) -> Dash. `python app.py` serves on HOST:PORT with embedded defaults."""
from __future__ import annotations

import importlib
import logging
from datetime import timedelta

import dash
from dash import Dash
from flask import Flask

from config import Settings, get_settings
from api import bp as api_bp
from auth.guard import callback_page_guard, refuse_callback, secure_server
from auth.web import init_auth
from bootstrap.startup import prepare_embedded
from infra.logs import setup_logging
from layouts.shell import guarded, layout as shell_layout, page_request_guard
from web_context import current_role
from read import cache
from models.base import store_unreachable

# One place where pages are registered: (module, path, name, icon, order[, options]). options go to
# dash.register_page: "menu" is the navbar menu the page sits in (layouts/shell.MENUS), {"nav": False} keeps a
# page out of the navbar; a path with <variables> is a path_template. Who sees a page: auth/permissions.PAGE_ROLES.
PAGES = [
    ("overview", "/", "Overview", "bi-speedometer", 10, {"menu": "Marketplace"}),
    ("explorer", "/explorer", "Metric explorer", "bi-activity", 12, {"menu": "Marketplace"}),
    ("velocity", "/velocity", "Velocity & cohorts", "bi-graph-up-arrow", 35, {"menu": "Marketplace"}),
    ("queue", "/queue", "My queue", "bi-list-check", 29, {"menu": "Customers"}),
    ("customers", "/customers", "Customers", "bi-people-fill", 30, {"menu": "Customers"}),
    ("customer_detail", "/customers/<customer_id>", "Customer", "bi-person", 31, {"nav": False, "menu": "Customers"}),
    ("churn", "/churn", "Churn risk", "bi-graph-down-arrow", 50, {"menu": "Customers"}),
    ("tutors", "/tutors", "Tutors", "bi-person-badge", 40, {"menu": "Supply"}),
    ("forecast", "/forecast", "Forecast & supply", "bi-graph-up", 60, {"menu": "Supply"}),
    ("recommendations", "/recommendations", "Recommendations", "bi-lightbulb", 70, {"menu": "Supply"}),
    ("alerts", "/alerts", "Alert center", "bi-bell", 20, {"menu": "Alerts"}),
    ("data_health", "/data-health", "Data health", "bi-database-check", 90, {"menu": "Admin"}),
    ("admin", "/admin", "Users", "bi-people", 95, {"menu": "Admin"}),
]


def page_module(module: str, options: dict) -> str:
    """Pages live in the package of their menu: layouts/<menu>/<module>.py and callbacks/<menu>/<module>.py."""
    return f"{options['menu'].lower()}.{module}"


CALLBACK_MODULES = ["shell"] + [page_module(module, options) for module, *_, options in PAGES]


def create_server(settings: Settings) -> Flask:
    server = Flask(__name__)
    server.config.update(
        SECRET_KEY=settings.resolved_secret_key(),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.cookies_secure,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.session_hours),
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=settings.cookies_secure,
        WTF_CSRF_TIME_LIMIT=None,
        MAX_CONTENT_LENGTH=1_000_000,
        TESTING=settings.testing,
    )
    server.extensions["settings"] = settings
    init_auth(server)
    server.before_request(page_request_guard)  # after the login guard: "/" -> the role's home, 403 for others' pages
    server.register_blueprint(api_bp)
    return server


_CALLBACK_LIST: list = []
_CALLBACK_MAP: dict = {}


def _attach_callbacks() -> None:
    """Import the callback modules and hand their callbacks to the app being built.

    `dash.callback` registers into module-level lists that the first app to serve a request
    consumes and clears; keeping our own copy lets every create_app (tests build many) get them all.
    """
    from dash import _callback
    for module in CALLBACK_MODULES:
        importlib.import_module(f"callbacks.{module}")
    known = {c["output"] for c in _CALLBACK_LIST}
    _CALLBACK_LIST.extend(c for c in _callback.GLOBAL_CALLBACK_LIST if c["output"] not in known)
    _CALLBACK_MAP.update(_callback.GLOBAL_CALLBACK_MAP)
    _callback.GLOBAL_CALLBACK_LIST[:] = list(_CALLBACK_LIST)
    _callback.GLOBAL_CALLBACK_MAP.clear()
    _callback.GLOBAL_CALLBACK_MAP.update(_CALLBACK_MAP)


def callback_pages() -> dict[str, str]:
    """Callback output string -> the page module whose callbacks/<menu>/<page>.py registered it (shared callbacks,
    e.g. the shell's and job buttons', and clientside ones belong to no page)."""
    pages = {module for module, *_ in PAGES}
    owners = {}
    for output, spec in _CALLBACK_MAP.items():
        module = getattr(spec.get("callback"), "__module__", "") or ""
        if module.rsplit(".", 1)[-1] in pages and module.startswith("callbacks."):
            owners[output] = module.rsplit(".", 1)[-1]
    return owners


def _callback_error(exc: Exception):
    """Every callback's error handler: with the database unreachable a callback changes nothing, so an
    open page keeps the last data it shows (the shell says the database is down); other errors raise."""
    if store_unreachable(exc):
        logging.getLogger(__name__).warning("callback left its outputs as they were: database unreachable (%s)",
                                            type(exc).__name__)
        return None  # dash: no_update for every output
    refuse_callback(exc)  # a role that may not act: 403; input no page sends: 400
    raise exc


def create_app(settings: Settings | None = None) -> Dash:
    settings = settings or get_settings()
    settings.make_var_dir()
    cache.configure(settings.redis_url, settings.cache_ttl_s)
    server = create_server(settings)
    app = Dash(__name__, server=server, use_pages=True, pages_folder="", title="Marketplace Ops",
               update_title=None, suppress_callback_exceptions=True, compress=True,
               on_error=_callback_error)
    for module, path, name, icon, order, *options in PAGES:
        layout_module = importlib.import_module(f"layouts.{page_module(module, options[0])}")
        where = {"path_template": path} if "<" in path else {"path": path}
        dash.register_page(module, **where, name=name, title=f"{name} · Marketplace Ops",
                           layout=guarded(module, layout_module.layout), icon=icon, order=order, **(options[0] if options else {}))
    _attach_callbacks()
    server.before_request(callback_page_guard(callback_pages(), current_role))  # hand-made callback requests too
    app.layout = lambda: shell_layout(settings.refresh_seconds)
    secure_server(app, settings)
    return app


def main() -> None:
    settings = get_settings()
    setup_logging(settings)
    app = create_app(settings)
    prepare_embedded(settings)
    app.run(host=settings.host, port=settings.port, debug=False)


if __name__ == "__main__":
    main()
