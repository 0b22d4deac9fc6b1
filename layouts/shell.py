"""Root layout around every page: navbar, alert banner, freshness stamp, data-version ticker."""
from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html


def navbar() -> dbc.Navbar:
    pages = sorted((p for p in dash.page_registry.values() if p.get("nav", True)), key=lambda p: p.get("order", 99))
    links = [dbc.NavItem(dbc.NavLink([html.I(className=f"bi {p.get('icon', 'bi-circle')} me-1"), p["name"]],
                                     href=p["path"], active="exact", id=f"nav-{p['module']}"))
             for p in pages]
    return dbc.Navbar(dbc.Container([
        dbc.NavbarBrand([html.I(className="bi bi-speedometer2 me-2"), "Marketplace Ops"], href="/"),
        dbc.NavbarToggler(id="shell-nav-toggle"),
        dbc.Collapse(dbc.Nav(links, navbar=True, className="me-auto"), id="shell-nav-collapse", navbar=True),
        html.Div([html.Span(id="shell-freshness", className="small text-light me-3"),
                  html.A([html.I(className="bi bi-box-arrow-right me-1"), "Sign out"], href="/logout",
                         className="btn btn-outline-light btn-sm", id="shell-logout")],
                 className="d-flex align-items-center"),
    ], fluid=True), color="dark", dark=True, className="mb-3", expand="lg")


def layout(refresh_seconds: int = 30) -> html.Div:
    return html.Div([
        dcc.Location(id="shell-url"),
        navbar(),
        dbc.Container([
            html.Div(id="shell-stale-warning"),
            html.Div(id="shell-alert-banner"),
            dash.page_container,
        ], fluid=True, className="pb-5"),
        dcc.Store(id="shell-data-version", data=0),
        dcc.Interval(id="shell-tick", interval=5_000),  # cheap version check; pages redraw only on change
        dcc.Interval(id="shell-refresh", interval=refresh_seconds * 1000),
    ])
