"""Users page callbacks: admins only; adding a user is validated and audit-logged."""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, no_update

from auth import accounts, audit
from read import status as queries
from web_context import current_email, current_role, current_settings


@callback(Output("admin-users", "rowData"), Output("admin-audit", "rowData"), Output("admin-denied", "children"),
          Output("admin-body", "style"), Input("admin-message", "children"), Input("shell-data-version", "data"))
def refresh(_msg, _version):
    if current_role() != "admin":
        return [], [], dbc.Alert("Only admins can manage users.", color="warning"), {"display": "none"}
    engine = queries.engine_for(current_settings())
    users = [{**u, "created_at": str(u["created_at"])[:19], "last_login_at": str(u["last_login_at"] or "")[:19]}
             for u in accounts.list_users(engine)]
    log = queries.audit_log(engine, limit=500)
    return users, log, None, {}


@callback(Output("admin-message", "children"), Input("admin-add", "n_clicks"),
          State("admin-email", "value"), State("admin-role", "value"), State("admin-password", "value"),
          prevent_initial_call=True)
def add_user(_n, email, role, password):
    if current_role() != "admin":
        return dbc.Alert("Only admins can add users.", color="danger")
    engine = queries.engine_for(current_settings())
    try:
        account = accounts.create_user(engine, email or "", role or "", password or "")
    except accounts.AccountError as exc:
        return dbc.Alert(str(exc), color="danger", id="admin-error")
    audit.record(engine, "user.create", user_email=current_email(), entity="user", entity_id=account.email,
                 detail={"role": account.role})
    return dbc.Alert(f"Added {account.email} as {account.role}.", color="success", id="admin-ok")
