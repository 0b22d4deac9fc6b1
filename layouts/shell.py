"""Root layout around every page: navbar (the role's pages in a few menus), alert banner, freshness stamp,
data-version ticker; and which pages the signed-in role sees, enforced on the server.

The navbar fits one line from 1280 px: five menus (app.py's PAGES give each page its `menu`), a menu with a
single page for the role is a plain link. Below 992 px it collapses behind the toggler (phones).

Page visibility (auth/permissions.PAGE_ROLES) is asked in three places: the navbar lists only the role's pages,
every page's layout refuses a role that may not see it (`guarded`: the Dash router draws pages on the server), and
a request hook answers a direct visit with 403 and sends "/" to the role's home (`page_request_guard`).
"""
from __future__ import annotations

from typing import Callable

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html
from flask import redirect, request

from auth.permissions import HOME_PAGES, can_see
from ui.components import empty_state
from web_context import current_role


def _pages() -> dict[str, dict]:
    return {p["module"]: p for p in dash.page_registry.values()}


def home_path(role: str | None) -> str:
    """The path of the role's home page (its first HOME_PAGES entry that is registered), "/" otherwise."""
    pages = _pages()
    for module in HOME_PAGES.get(role or "", ()):
        if module in pages and "<" not in pages[module]["path"]:
            return pages[module]["path"]
    return "/"


def visible_pages(role: str | None) -> list[dict]:
    """The registered pages `role` may open, in menu order."""
    return sorted((p for p in dash.page_registry.values() if can_see(role, p["module"])),
                  key=lambda p: p.get("order", 99))


def refusal(module: str):
    """What a page says to a role that may not open it."""
    return empty_state("This page is not available to your role",
                       f"Ask an administrator if you need it. Your pages are in the menu; your home is {home_path(current_role())}.",
                       id="shell-page-refused")


def guarded(module: str, layout: Callable) -> Callable:
    """The page's layout function, refusing roles that may not see it (the Dash router calls it on the server)."""
    def page(**query):
        if not can_see(current_role(), module):
            return refusal(module)
        return layout(**query)
    page.__name__ = f"{module}_layout"
    return page


def _page_for_path(path: str) -> str | None:
    for p in dash.page_registry.values():
        template = p.get("path_template")
        if p["path"] == path:
            return p["module"]
        if template and "<" in template:
            prefix = template.split("<", 1)[0]
            if path.startswith(prefix) and "/" not in path[len(prefix):].strip("/"):
                return p["module"]
    return None


def page_request_guard():
    """Flask before_request: "/" -> the role's home; a page the role may not see -> 403 (the same refusal
    the router shows). Anonymous requests are left to the login guard; non-page paths pass."""
    if request.method != "GET" or request.path.startswith(("/_dash", "/api/", "/assets/", "/login", "/logout")):
        return None
    role = current_role()
    if role is None:
        return None
    module = _page_for_path(request.path.rstrip("/") or "/")
    if module is None:
        return None
    if request.path == "/" and not request.query_string:
        home = home_path(role)
        if home != "/":
            return redirect(home)
    if not can_see(role, module):
        return (f"<!doctype html><title>Not available</title><p>The page {request.path} is not available to the "
                f"{role} role. <a href='{home_path(role)}'>Go to your home page</a>.</p>"), 403
    return None


MENUS = ("Marketplace", "Customers", "Supply", "Alerts", "Admin")
MENU_ICONS = {"Marketplace": "bi-speedometer", "Customers": "bi-people-fill", "Supply": "bi-person-badge",
              "Alerts": "bi-bell", "Admin": "bi-gear"}


def _link(p: dict) -> dbc.NavLink:
    return dbc.NavLink([html.I(className=f"bi {p.get('icon', 'bi-circle')} me-1"), p["name"]], href=p["path"],
                       active="exact", id=f"nav-{p['module']}", className="text-nowrap")


def menus(role: str | None) -> list:
    """The role's pages grouped into MENUS: a dropdown per menu, a link when it holds one page."""
    pages = [p for p in visible_pages(role) if p.get("nav", True)]
    items = []
    for menu in MENUS + tuple(sorted({p.get("menu", "More") for p in pages} - set(MENUS))):
        group = [p for p in pages if p.get("menu", "More") == menu]
        if len(group) == 1:
            items.append(dbc.NavItem(_link(group[0])))
        elif group:
            items.append(dbc.DropdownMenu(
                [dbc.DropdownMenuItem([html.I(className=f"bi {p.get('icon', 'bi-circle')} me-2"), p["name"]],
                                      href=p["path"], id=f"nav-{p['module']}") for p in group],
                label=[html.I(className=f"bi {MENU_ICONS.get(menu, 'bi-three-dots')} me-1"), menu], nav=True,
                in_navbar=True, id=f"nav-menu-{menu.lower()}", toggleClassName="text-nowrap"))
    return items


def navbar(role: str | None = None) -> dbc.Navbar:
    return dbc.Navbar(dbc.Container([
        dbc.NavbarBrand([html.I(className="bi bi-speedometer2 me-2"), "Marketplace Ops"], href=home_path(role),
                        className="text-nowrap"),
        dbc.NavbarToggler(id="shell-nav-toggle"),
        dbc.Collapse([
            dbc.Nav(menus(role), navbar=True, className="me-auto flex-nowrap-lg", id="shell-nav"),
            html.Div([html.Span(id="shell-freshness", className="small text-light me-3 text-nowrap"),
                      html.Span(role or "", className="badge bg-secondary me-2", id="shell-role"),
                      html.A([html.I(className="bi bi-box-arrow-right me-1"), "Sign out"], href="/logout",
                             className="btn btn-outline-light btn-sm text-nowrap", id="shell-logout")],
                     className="d-flex align-items-center py-2 py-lg-0"),
        ], id="shell-nav-collapse", navbar=True),
    ], fluid=True), color="dark", dark=True, className="mb-3 shell-navbar", expand="lg", id="shell-navbar")


def layout(refresh_seconds: int = 30) -> html.Div:
    return html.Div([
        dcc.Location(id="shell-url"),
        navbar(current_role()),
        dbc.Container([
            html.Div(id="shell-stale-warning"),
            html.Div(id="shell-alert-banner"),
            dash.page_container,
        ], fluid=True, className="pb-5"),
        dcc.Store(id="shell-data-version", data=0),
        dcc.Interval(id="shell-tick", interval=5_000),  # cheap version check; pages redraw only on change
        dcc.Interval(id="shell-refresh", interval=refresh_seconds * 1000),
    ])
