"""Root layout around every page: navbar (the role's pages in a few menus), alert banner, freshness stamp,
data-version ticker.

The navbar fits one line from 1280 px: five menus (app.py's PAGES give each page its `menu`), a menu with a
single page for the role is a plain link. Below 992 px it collapses behind the toggler (phones).
"""
from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from layouts.access import current_role, home_path, visible_pages

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
