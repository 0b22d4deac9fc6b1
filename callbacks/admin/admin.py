"""Users page callbacks: admins only (checked on the server); every change is validated and audit-logged.

Role changes, deactivation and password resets end the user's sessions (auth/accounts.py); a reset password
and a new API token are shown once, in the answer to the admin who made them, and never stored in clear.
"""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, ctx, html

from auth import accounts, audit
from auth.permissions import can
from read import status as queries
from ui import format as fmt
from web_context import current_email, current_role, current_settings, require

MANAGE_BUTTONS = ("admin-change-role", "admin-deactivate", "admin-reactivate", "admin-reset-password", "admin-new-token")


@callback(Output("admin-users", "rowData"), Output("admin-audit", "rowData"), Output("admin-tokens", "rowData"),
          Output("admin-denied", "children"), Output("admin-body", "style"),
          Input("admin-message", "children"), Input("admin-manage-message", "children"),
          Input("admin-token-message", "children"), Input("shell-data-version", "data"))
def refresh(_msg, _manage, _token, _version):
    if not can(current_role(), "users.manage"):
        return [], [], [], dbc.Alert("Only admins can manage users.", color="warning"), {"display": "none"}
    engine = queries.engine_for(current_settings())
    users = [fmt.grid_times(u, "created_at", "last_login_at") for u in accounts.list_users(engine)]
    tokens = [{**fmt.grid_times(t, "created_at", "last_used_at"), "row_id": str(t["id"])}
              for t in accounts.list_tokens(engine)]
    log = audit_rows(queries.audit_log(engine, limit=500))
    return users, log, tokens, None, {}


def audit_rows(entries: list[dict]) -> list[dict]:
    """The audit log's grid rows: "When" as iso_utc (shown to the minute in the viewer's zone, UTC on hover)."""
    return [fmt.grid_times(entry, "at") for entry in entries]


@callback(Output("admin-message", "children"), Input("admin-add", "n_clicks"),
          State("admin-email", "value"), State("admin-role", "value"), State("admin-password", "value"),
          prevent_initial_call=True)
def add_user(_n, email, role, password):
    require("users.manage")
    engine = queries.engine_for(current_settings())
    try:
        account = accounts.create_user(engine, str(email or ""), str(role or ""), str(password or ""))
    except accounts.AccountError as exc:
        return dbc.Alert(str(exc), color="danger", id="admin-error")
    audit.record(engine, "user.create", user_email=current_email(), entity="user", entity_id=account.email,
                 detail={"role": account.role})
    return dbc.Alert(f"Added {account.email} as {account.role}.", color="success", id="admin-ok")


def _selected_email(rows) -> str:
    if not rows or not isinstance(rows, list) or not isinstance(rows[0], dict) or not rows[0].get("email"):
        raise accounts.AccountError("Select a user first.")
    return accounts.normalise_email(str(rows[0]["email"]))


@callback(Output("admin-manage-message", "children"), *[Input(b, "n_clicks") for b in MANAGE_BUTTONS],
          State("admin-users", "selectedRows"), State("admin-new-role", "value"), prevent_initial_call=True)
def manage(*args):
    """Change role, deactivate, reactivate, reset password or make an API token for the selected user."""
    require("users.manage")
    rows, new_role = args[-2:]
    action, me = ctx.triggered_id, current_email()
    engine = queries.engine_for(current_settings())
    try:
        email = _selected_email(rows)
        if email == me and action in ("admin-change-role", "admin-deactivate"):
            raise accounts.AccountError("You cannot change the role of, or deactivate, your own account; "
                                        "ask another admin.")
        shown = None
        if action == "admin-change-role":
            accounts.set_role(engine, email, str(new_role or ""))
            done, event, detail = f"{email} is now {new_role}; their sessions ended.", "user.role", {"role": new_role}
        elif action in ("admin-deactivate", "admin-reactivate"):
            active = action == "admin-reactivate"
            accounts.set_active(engine, email, active)
            done = f"{email} is {'active again' if active else 'deactivated: sessions and API tokens stopped'}."
            event, detail = ("user.reactivate" if active else "user.deactivate"), None
        elif action == "admin-reset-password":
            shown = accounts.reset_password(engine, email)
            done, event, detail = f"New password for {email} (shown once; their sessions ended):", "user.password_reset", None
        elif action == "admin-new-token":
            shown = accounts.create_token(engine, email)
            done, event, detail = f"New API token for {email} (shown once):", "token.create", None
        else:
            return None
    except accounts.AccountError as exc:
        return dbc.Alert(str(exc), color="danger", className="py-2 mb-0", id="admin-manage-error")
    audit.record(engine, event, user_email=me, entity="user", entity_id=email, detail=detail)  # never the secret
    body = [done] + ([" ", html.Code(shown, id="admin-secret", className="user-select-all")] if shown else [])
    return dbc.Alert(body, color="success", className="py-2 mb-0", id="admin-manage-ok")


@callback(Output("admin-token-message", "children"), Input("admin-revoke-token", "n_clicks"),
          State("admin-tokens", "selectedRows"), prevent_initial_call=True)
def revoke(_n, rows):
    require("users.manage")
    engine = queries.engine_for(current_settings())
    try:
        if not rows or not isinstance(rows[0], dict) or not isinstance(rows[0].get("id"), int) \
                or not 0 < rows[0]["id"] < 2**31:
            raise accounts.AccountError("Select a token first.")
        token_id = rows[0]["id"]
        owner = accounts.revoke_token(engine, token_id)
    except accounts.AccountError as exc:
        return dbc.Alert(str(exc), color="danger", className="py-2 mb-0", id="admin-token-error")
    audit.record(engine, "token.revoke", user_email=current_email(), entity="api_token", entity_id=token_id,
                 detail={"owner": owner})
    return dbc.Alert(f"Token {token_id} of {owner} revoked.", color="success", className="py-2 mb-0", id="admin-token-ok")
