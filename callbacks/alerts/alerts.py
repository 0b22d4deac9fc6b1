"""Alert center callbacks: the filtered grid, the selected alert's detail, lifecycle actions, deliveries."""
from __future__ import annotations

from datetime import timedelta

import dash_bootstrap_components as dbc
from dash import ALL, ClientsideFunction, Input, Output, State, callback, clientside_callback, ctx, html, no_update

from auth import audit
from callbacks.alerts import alert_rules  # noqa: F401  (silences and detector-rule callbacks of the same page)
from layouts.alerts.alert_detail import detail_view, number, when
from ui.components import error_state
from ui import format as fmt
from ui.format import humanize
from models.base import get_engine
from read import alerts as aq
from auth import permissions
from read.queue import open_task_count
from writes.alerts import act, act_many
from writes.rules import add_silence
from domain.alerting.lifecycle import RuleError
from domain.alerting.lifecycle import TRANSITIONS, TransitionError
from infra.clock import utcnow
from writes.alerts import resend
from web_context import current_email, current_role, current_settings, require

ACTIONS = ("acknowledge", "resolve", "snooze", "dismiss", "reopen")
BULK = ("acknowledge", "snooze", "resolve")
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


FILTERS = [Input("alerts-filter-status", "value"), Input("alerts-filter-type", "value"),
           Input("alerts-filter-severity", "value"), Input("alerts-filter-time", "value")]
NOT_HERE = ("customer_risk",)  # the CS worklist's (My queue), unless the type is chosen


def _since(hours):
    return None if hours in (None, "all") else utcnow() - timedelta(hours=int(hours))


@callback(Output("alerts-grid", "rowData"), Output("alerts-count", "children"),
          *FILTERS, Input("alerts-filter-rule", "data"),
          Input("alerts-changed", "data"), Input("shell-data-version", "data"))
def refresh_grid(status, types, severities, hours, rule, _changed, _version):
    try:
        df, total = aq.list_alerts(_engine(), aq.statuses_for(status), types or (), severities or (), since=_since(hours),
                                   limit=1000, rule=rule, exclude_types=NOT_HERE, by_severity=True)
    except ValueError as exc:
        return [], str(exc)
    rows = [{"row_id": str(r.id), "id": int(r.id), "severity": r.severity, "status": r.status, "title": r.title,
             "type": r.type, "rule": r.rule, "type_label": humanize(r.type), "rule_label": humanize(r.rule),
             "current_value": number(r.current_value), "expected_value": r.expected_value,
             "detected_at": fmt.iso_utc(r.detected_at),
             "detected_utc": fmt.utc_text(r.detected_at)} for r in df.itertuples()]
    shown = f"{fmt.count(len(rows))} of {fmt.count(total)}" if total > len(rows) else fmt.count(total)
    where = f" · rule {rule}" if rule else ""
    return rows, f"{shown} alert{'s' * (total != 1)}{where}, most severe first, then newest"


@callback(Output("alerts-groups", "children"), Output("alerts-worklist", "children"),
          *FILTERS, Input("alerts-filter-rule", "data"), Input("alerts-changed", "data"), Input("shell-data-version", "data"))
def groups(status, types, severities, hours, rule, _changed, _version):
    """The filtered alerts grouped by rule (worst first); a group opens in the grid. And the CS worklist's count."""
    engine = _engine()
    try:
        df = aq.rule_groups(engine, aq.statuses_for(status), types or (), severities or (), _since(hours), NOT_HERE)
    except ValueError as exc:
        return error_state(str(exc)), no_update
    colors = {"critical": "danger", "warning": "warning", "info": "info"}
    items = [dbc.ListGroupItem(["All rules", dbc.Badge(fmt.count(df['count'].sum() if len(df) else 0), color="secondary",
                                                       className="ms-auto")],
                               id="alerts-group-all", action=True, active=not rule, className="d-flex py-1 small")]
    for r in df.itertuples():
        badges = [dbc.Badge(fmt.count(getattr(r, s)), color=colors[s], className="ms-1") for s in colors if getattr(r, s)]
        items.append(dbc.ListGroupItem([html.Span(humanize(r.rule), className="text-truncate", title=r.rule),
                                        html.Span(badges, className="ms-auto")],
                                       id={"type": "alerts-group", "rule": r.rule}, action=True, active=r.rule == rule,
                                       className="d-flex py-1 small"))
    tasks = open_task_count(engine, utcnow())
    link = html.A([html.I(className="bi bi-list-check me-1"), f"{tasks:,} customers to contact in the CS worklist"],
                  href="/queue", id="alerts-worklist-link") if tasks else None
    return dbc.ListGroup(items, flush=False), link


@callback(Output("alerts-filter-rule", "data"), Input({"type": "alerts-group", "rule": ALL}, "n_clicks"),
          Input("alerts-group-all", "n_clicks"), prevent_initial_call=True)
def open_group(_clicks, _all):
    trig = ctx.triggered_id
    if not ctx.triggered or not ctx.triggered[0]["value"]:
        return no_update  # the list was redrawn, nobody clicked
    return trig["rule"] if isinstance(trig, dict) else None


@callback(Output("alerts-selected", "data"), Input("alerts-grid", "cellClicked"), prevent_initial_call=True)
def select(cell):
    if not cell or not str(cell.get("rowId") or "").isdigit():
        return no_update
    return int(cell["rowId"])


@callback(Output("alerts-bulk-scope", "children"), Input("alerts-grid", "selectedRows"), Input("alerts-filter-rule", "data"))
def bulk_scope(rows, rule):
    if rows:
        return f"Acts on the {fmt.count(len(rows))} selected alert{'s' * (len(rows) != 1)}."
    return f"Select alerts, or act on every alert of the group {rule} shown." if rule else "Select alerts to act on."


@callback(Output("alerts-bulk-message", "children"), Output("alerts-changed", "data", allow_duplicate=True),
          Output("alerts-bulk-comment", "value"), *[Input(f"alerts-bulk-{a}", "n_clicks") for a in BULK],
          State("alerts-grid", "selectedRows"), State("alerts-grid", "rowData"), State("alerts-filter-rule", "data"),
          State("alerts-bulk-comment", "value"), State("alerts-snooze-for", "value"), State("alerts-changed", "data"),
          prevent_initial_call=True)
def bulk(*args):
    rows, shown, rule, comment, snooze_minutes, changed = args[len(BULK):]
    action = ctx.triggered_id.removeprefix("alerts-bulk-") if ctx.triggered_id else None
    if action not in BULK:
        return no_update, no_update, no_update
    permissions.require(current_role(), "alert.act")
    ids = [int(r["id"]) for r in (rows or (shown if rule else []) or [])]
    at, user = utcnow(), current_email()
    try:
        minutes = int(snooze_minutes) if str(snooze_minutes or "").isdigit() else 240
        if action == "snooze" and not 1 <= minutes <= 60 * 24 * 30:
            raise ValueError("A snooze lasts between 1 minute and 30 days.")
        until = at + timedelta(minutes=minutes) if action == "snooze" else None
        if comment is not None and (not isinstance(comment, str) or len(comment) > 2000):
            raise ValueError("A comment has at most 2,000 characters.")
        result = act_many(_engine(), ids, action, user, comment, until=until, at=at)
    except (TransitionError, ValueError) as exc:
        return dbc.Alert(str(exc), color="warning", className="py-1 mb-0 small", id="alerts-bulk-error"), no_update, no_update
    audit.record(_engine(), f"alert.bulk_{action}", user_email=user, entity="alert",
                 detail={"via": "alert center", "ids": result["done"][:200], "count": len(result["done"]),
                         "skipped": result["skipped"], "comment": comment, "until": until, "rule": rule})
    n = len(result["done"])
    text = f"{fmt.count(n, 'alert')} {result['status']}" + (f"; {fmt.count(result['skipped'])} skipped (their state does not allow it)"
                                                              if result["skipped"] else "") + "."
    return dbc.Alert(text, color="success", className="py-1 mb-0 small", id="alerts-bulk-done", duration=8000), \
        (changed or 0) + 1, ""


@callback(Output("alerts-mute-rule", "options"), Input("alerts-tabs", "active_tab"), Input("alerts-changed", "data"))
def mute_rules(_tab, _changed):
    return [{"label": r, "value": r} for r in aq.known_rules(_engine())]


@callback(Output("alerts-mute-entity", "options"), Output("alerts-mute-entity", "value"),
          Input("alerts-mute-rule", "value"))
def mute_entities(rule):
    if not rule:
        return [], None
    return [{"label": f"{e} ({fmt.count(n)} open)", "value": e} for e, n in aq.rule_entities(_engine(), rule)], None


@callback(Output("alerts-mute-preview", "children"), Input("alerts-mute-rule", "value"),
          Input("alerts-mute-entity", "value"), Input("alerts-mute-hours", "value"))
def mute_preview(rule, entity, hours):
    if not rule and not entity:
        return "Choose a rule (and optionally one entity) to see what the silence covers."
    p = aq.silence_preview(_engine(), rule, entity, utcnow())
    what = f"{rule}" + (f" for {entity}" if entity else " (every entity)")
    return html.Span([f"Mutes new alerts of {what} for {hours} h: ", html.Strong(f"{p['last_7_days']:,}"),
                      " were raised in the last 7 days; ", html.Strong(f"{p['open']:,}"),
                      " are open now (they stay open: acknowledge or resolve them)."], id="alerts-mute-counts")


@callback(Output("alerts-mute-message", "children"), Output("alerts-changed", "data", allow_duplicate=True),
          Input("alerts-mute-add", "n_clicks"), State("alerts-mute-rule", "value"), State("alerts-mute-entity", "value"),
          State("alerts-mute-hours", "value"), State("alerts-mute-reason", "value"), State("alerts-changed", "data"),
          prevent_initial_call=True)
def mute(_n, rule, entity, hours, reason, changed):
    permissions.require(current_role(), "rules.edit")
    at, user = utcnow(), current_email()
    try:
        length = int(hours or 4)
        if not 1 <= length <= 24 * 90:
            raise RuleError("Choose how long from the list.")
        silence_id = add_silence(_engine(), rule, entity, at, at + timedelta(hours=length), reason, user, at=at)
    except (RuleError, ValueError) as exc:
        return html.Span(str(exc), className="text-danger", id="alerts-mute-error"), no_update
    audit.record(_engine(), "silence.add", user_email=user, entity="silence", entity_id=silence_id,
                 detail={"rule": rule, "metric": entity, "hours": length, "reason": reason, "via": "alert center"})
    return html.Span(f"Silenced {rule or entity} for {length} h.", className="text-success", id="alerts-mute-added"), \
        (changed or 0) + 1


clientside_callback(ClientsideFunction("alerts", "syncUrl"), Output("alerts-url", "data"), *FILTERS,
                    Input("alerts-filter-rule", "data"), Input("alerts-selected", "data"))


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
    return delivery_rows(aq.list_deliveries(_engine()))


def delivery_rows(df) -> list[dict]:
    """The delivery log's grid rows: machine values, times as iso_utc shown in the viewer's zone (UTC on hover)."""
    return [{**fmt.grid_times(row, "created_at", "next_attempt_at"), "row_id": str(row["id"])}
            for row in aq.to_json_rows(df)]


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
