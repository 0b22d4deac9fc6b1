"""Users (admins only): who can sign in, with which role; add a user; change a role, deactivate or reactivate,
reset a password (shown once), API tokens (revoke); recent audit log."""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from ui import format as fmt
from ui.components import grid, page_header, section
from models.ops import ROLES

USER_COLUMNS = [
    {"field": "email", "headerName": "Email", "minWidth": 220},
    {"field": "role", "headerName": "Role"},
    {"field": "active", "headerName": "Active"},
    {"field": "created_at", "headerName": "Created", **fmt.GRID_TIME_COLUMN, "tooltipField": "created_at_utc"},
    {"field": "last_login_at", "headerName": "Last sign-in", **fmt.GRID_TIME_COLUMN, "tooltipField": "last_login_at_utc"},
]
TOKEN_COLUMNS = [
    {"field": "id", "headerName": "#", "maxWidth": 90},
    {"field": "email", "headerName": "Owner", "minWidth": 220},
    {"field": "created_at", "headerName": "Created", **fmt.GRID_TIME_COLUMN, "tooltipField": "created_at_utc"},
    {"field": "last_used_at", "headerName": "Last used", **fmt.GRID_TIME_COLUMN, "tooltipField": "last_used_at_utc"},
    {"field": "revoked", "headerName": "Revoked"},
]
AUDIT_COLUMNS = [
    {"field": "at", "headerName": "When", "sort": "desc", **fmt.GRID_TIME_COLUMN, "tooltipField": "at_utc"},
    {"field": "user_email", "headerName": "User"},
    {"field": "action", "headerName": "Action"},
    {"field": "entity", "headerName": "Entity"},
    {"field": "entity_id", "headerName": "Id"},
    {"field": "detail", "headerName": "Detail", "minWidth": 300},
]
SINGLE_ROW = {"rowSelection": {"mode": "singleRow", "checkboxes": False, "enableClickSelection": True}}


def _role_options() -> list[dict]:
    return [{"label": r, "value": r} for r in ROLES]


def layout(**_query) -> html.Div:
    form = dbc.Row([
        dbc.Col(dbc.Input(id="admin-email", type="email", placeholder="email@company.com", maxLength=255), md=4),
        dbc.Col(dbc.Select(id="admin-role", options=_role_options(), value="cs"), md=2),
        dbc.Col(dbc.Input(id="admin-password", type="password", placeholder="initial password (8+ chars)", maxLength=512), md=4),
        dbc.Col(dbc.Button("Add user", id="admin-add", color="primary"), md=2),
    ], className="g-2")
    manage = html.Div([
        dbc.Row([
            dbc.Col(dbc.Select(id="admin-new-role", options=_role_options(), value="cs", size="sm"), width="auto"),
            dbc.Col(dbc.Button("Change role", id="admin-change-role", size="sm", color="secondary"), width="auto"),
            dbc.Col(dbc.Button("Deactivate", id="admin-deactivate", size="sm", color="outline-danger"), width="auto"),
            dbc.Col(dbc.Button("Reactivate", id="admin-reactivate", size="sm", color="outline-success"), width="auto"),
            dbc.Col(dbc.Button("Reset password", id="admin-reset-password", size="sm", color="outline-secondary"), width="auto"),
            dbc.Col(dbc.Button("New API token", id="admin-new-token", size="sm", color="outline-secondary"), width="auto"),
        ], className="g-2 mt-2 align-items-center"),
        html.Div(id="admin-manage-message", className="mt-2"),
    ])
    return html.Div([
        page_header("Users and audit log", "Only admins manage users. Every user action is recorded."),
        html.Div(id="admin-denied"),
        html.Div(id="admin-body", children=[
            section("Add a user", [form, html.Div(id="admin-message", className="mt-2")]),
            section("Users", [grid("admin-users", USER_COLUMNS, height="300px", getRowId="params.data.email",
                                   dashGridOptions=SINGLE_ROW), manage],
                    help_text="Select a user, then act. A role change, deactivation or password reset signs the "
                              "user out everywhere; deactivation also stops their API tokens."),
            section("API tokens", [grid("admin-tokens", TOKEN_COLUMNS, height="260px", getRowId="params.data.row_id",
                                        dashGridOptions=SINGLE_ROW),
                                   dbc.Button("Revoke the selected token", id="admin-revoke-token", size="sm",
                                              color="outline-danger", className="mt-2"),
                                   html.Div(id="admin-token-message", className="mt-2")],
                    help_text="Tokens are stored hashed: a new one is shown once, when it is made."),
            section("Audit log (latest 500)", grid("admin-audit", AUDIT_COLUMNS, height="400px")),
        ]),
    ])
