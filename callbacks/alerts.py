"""Alert center callbacks: the filtered grid, the selected alert's detail, lifecycle actions, deliveries."""
from __future__ import annotations

from datetime import timedelta

import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, ctx, no_update

from auth import audit
from callbacks import alert_rules  # noqa: F401  (silences and detector-rule callbacks of the same page)
from layouts.alert_detail import detail_view, number, when
from ui.components import error_state
from models.base import get_engine
from read import alerts as aq
from writes.alerts import act
from domain.alerting.lifecycle import TRANSITIONS, TransitionError
from infra.clock import utcnow
from writes.alerts import resend
from web_context import current_email, current_settings, require

ACTIONS = ("acknowledge", "resolve", "snooze", "dismiss", "reopen")
MAX_SNOOZE_MINUTES = 60 * 24 * 30  # as the API: a snooze lasts at most 30 days
MAX_ID = 2**31 - 1


def _snooze_minutes(value) -> int:
    """The snooze length chosen (minutes, 1 to 30 days); ValueError with a message for anything else."""
    try:
        minutes = int(str(240 if value in (None, "") else value).strip())
    except ValueError:
        raise ValueError("Choose how long to snooze from the list.") from None
    if not 1 <= minutes <= MAX_SNOOZE_MINUTES:
        raise ValueError("A snooze lasts between 1 minute and 30 days.")
    return minutes


def _engine():
    return get_engine(current_settings().db_url)


@callback(Output("alerts-grid", "rowData"), Output("alerts-count", "children"),
          Input("alerts-filter-status", "value"), Input("alerts-filter-type", "value"),
          Input("alerts-filter-severity", "value"), Input("alerts-filter-time", "value"),
          Input("alerts-changed", "data"), Input("shell-data-version", "data"))
def refresh_grid(status, types, severities, hours, _changed, _version):
    since = None if hours in (None, "all") else utcnow() - timedelta(hours=int(hours))
    try:
        df, total = aq.list_alerts(_engine(), aq.statuses_for(status), types or (), severities or (), since=since,
                                   limit=1000)
    except ValueError as exc:
        return [], str(exc)
    rows = [{"row_id": str(r.id), "id": int(r.id), "severity": r.severity, "status": r.status, "title": r.title,
             "type": r.type, "rule": r.rule, "current_value": number(r.current_value), "expected_value": r.expected_value,
             "detected_at": when(r.detected_at)[:-4]} for r in df.itertuples()]
    shown = f"{len(rows)} of {total}" if total > len(rows) else f"{total}"
    return rows, f"{shown} alert{'s' * (total != 1)}"


@callback(Output("alerts-selected", "data"), Input("alerts-grid", "selectedRows"), prevent_initial_call=True)
def select(rows):
    if not rows:
        return no_update  # the grid clears its selection when its rows reload; keep showing the alert
    return int(rows[0]["id"])


@callback(Output("alerts-detail", "children"), *[Output(f"alerts-{a}", "disabled") for a in ACTIONS],
          Input("alerts-selected", "data"), Input("alerts-changed", "data"), Input("shell-data-version", "data"))
def detail(alert_id, _changed, _version):
    if alert_id and not (isinstance(alert_id, int) and 0 < alert_id <= MAX_ID):
        return error_state(f"Alert {str(alert_id)[:40]} does not exist."), *[True] * len(ACTIONS)
    alert = aq.alert_detail(_engine(), alert_id) if alert_id else None
    if alert_id and alert is None:
        return error_state(f"Alert {alert_id} does not exist."), *[True] * len(ACTIONS)
    status = alert["status"] if alert else None
    return detail_view(alert), *[status not in TRANSITIONS[a][0] for a in ACTIONS]


@callback(Output("alerts-action-message", "children"), Output("alerts-changed", "data"),
          Output("alerts-comment", "value"),
          *[Input(f"alerts-{a}", "n_clicks") for a in ACTIONS],
          State("alerts-selected", "data"), State("alerts-comment", "value"), State("alerts-snooze-for", "value"),
          State("alerts-changed", "data"), prevent_initial_call=True)
def take_action(*args):
    alert_id, comment, snooze_minutes, changed = args[len(ACTIONS):]
    action = ctx.triggered_id.removeprefix("alerts-") if ctx.triggered_id else None
    if action not in ACTIONS or not alert_id:
        return no_update, no_update, no_update
    require("alert.act")
    user = current_email()
    at = utcnow()
    try:
        if not isinstance(alert_id, int) or not 0 < alert_id <= MAX_ID:
            raise LookupError("Select an alert first.")
        if comment is not None and (not isinstance(comment, str) or len(comment) > 2000):
            raise ValueError("A comment has at most 2,000 characters.")
        until = at + timedelta(minutes=_snooze_minutes(snooze_minutes)) if action == "snooze" else None
        new = act(_engine(), alert_id, action, user, comment, until=until, at=at)
    except (TransitionError, LookupError, ValueError) as exc:
        return dbc.Alert(str(exc), color="warning", className="py-2 mb-0", id="alerts-action-error"), changed + 1, no_update
    audit.record(_engine(), f"alert.{action}", user_email=user, entity="alert", entity_id=alert_id,
                 detail={"via": "alert center", "status": new, "comment": comment, "until": until})
    done = f"Alert {alert_id} is now {new}" + (f" until {when(until)}" if until else "") + "."
    return dbc.Alert(done, color="success", className="py-2 mb-0", id="alerts-action-done", duration=6000), changed + 1, ""


@callback(Output("alerts-deliveries", "rowData"), Input("alerts-tabs", "active_tab"), Input("alerts-changed", "data"),
          Input("shell-data-version", "data"), Input("alerts-delivery-message", "children"))
def deliveries(tab, _changed, _version, _message):
    if tab != "alerts-tab-deliveries":
        return no_update
    df = aq.list_deliveries(_engine())
    return [{**row, "row_id": str(row["id"])} for row in aq.to_json_rows(df)]


@callback(Output("alerts-delivery-message", "children"), Input("alerts-delivery-resend", "n_clicks"),
          State("alerts-deliveries", "selectedRows"), prevent_initial_call=True)
def resend_delivery(_n, rows):
    require("alert.resend")
    if not rows:
        return dbc.Alert("Select a failed delivery first.", color="warning", className="py-2 mb-0")
    delivery_id = int(rows[0]["id"])
    try:
        resend(_engine(), delivery_id)
    except ValueError as exc:
        return dbc.Alert(str(exc), color="warning", className="py-2 mb-0")
    audit.record(_engine(), "alert_delivery.resend", user_email=current_email(), entity="alert_delivery",
                 entity_id=delivery_id)
    return dbc.Alert(f"Delivery {delivery_id} will be sent again within a minute.", color="success", className="py-2 mb-0")
