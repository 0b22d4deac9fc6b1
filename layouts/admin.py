"""Users (admins only): who can sign in, with which role; add a user; recent audit log."""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from ui.components import grid, page_header, section
from models.ops import ROLES

USER_COLUMNS = [
    {"field": "email", "headerName": "Email", "minWidth": 220},
    {"field": "role", "headerName": "Role"},
    {"field": "active", "headerName": "Active"},
    {"field": "created_at", "headerName": "Created"},
    {"field": "last_login_at", "headerName": "Last sign-in"},
]
AUDIT_COLUMNS = [
    {"field": "at", "headerName": "When", "sort": "desc"},
    {"field": "user_email", "headerName": "User"},
    {"field": "action", "headerName": "Action"},
    {"field": "entity", "headerName": "Entity"},
    {"field": "entity_id", "headerName": "Id"},
    {"field": "detail", "headerName": "Detail", "minWidth": 300},
]


def layout(**_query) -> html.Div:
    form = dbc.Row([
        dbc.Col(dbc.Input(id="admin-email", type="email", placeholder="email@company.com", maxLength=255), md=4),
        dbc.Col(dbc.Select(id="admin-role", options=[{"label": r, "value": r} for r in ROLES], value="cs"), md=2),
        dbc.Col(dbc.Input(id="admin-password", type="password", placeholder="initial password (8+ chars)", maxLength=512), md=4),
        dbc.Col(dbc.Button("Add user", id="admin-add", color="primary"), md=2),
    ], className="g-2")
    return html.Div([
        page_header("Users and audit log", "Only admins manage users. Every user action is recorded."),
        html.Div(id="admin-denied"),
        html.Div(id="admin-body", children=[
            section("Add a user", [form, html.Div(id="admin-message", className="mt-2")]),
            section("Users", grid("admin-users", USER_COLUMNS, height="300px")),
            section("Audit log (latest 500)", grid("admin-audit", AUDIT_COLUMNS, height="400px")),
        ]),
    ])
