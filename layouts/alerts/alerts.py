"""Alert center: triage. Tabs by state (needs action, acknowledged, snoozed, resolved, all), alerts
grouped by rule with counts (a group opens in the grid), severity first then newest, bulk acknowledge /
snooze / resolve with one comment, a silence chosen from the rules and entities with a preview of what
it mutes; the selected alert's context and actions; silences, detector rules, the delivery log.

The view is in the query string (status, type, severity, time, rule, id): `/alerts?id=N` opens alert N,
Back and a shared link show the same. Customer triggers are CS tasks (My queue), linked with a count."""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from layouts.alerts.alert_rules import rules_tab, silences_tab
from ui import format as fmt
from ui.components import grid, page_header, section
from domain.alerting.lifecycle import SEVERITIES, TYPES

SEVERITY_CLASSES = {"text-danger fw-semibold": "params.value === 'critical'",
                    "text-warning fw-semibold": "params.value === 'warning'", "text-info": "params.value === 'info'"}
ALERT_COLUMNS = [
    {"field": "severity", "headerName": "Severity", "cellClassRules": SEVERITY_CLASSES, "maxWidth": 120,
     "valueFormatter": fmt.GRID_LABEL},
    {"field": "status", "headerName": "Status", "maxWidth": 140, "valueFormatter": fmt.GRID_LABEL},
    {"field": "title", "headerName": "Alert", "minWidth": 220, "tooltipField": "title"},
    {"field": "type_label", "headerName": "Type", "minWidth": 140, "maxWidth": 170, "tooltipField": "type_label"},
    {"field": "rule_label", "headerName": "Rule", "minWidth": 160, "tooltipField": "rule"},
    {"field": "current_value", "headerName": "Current", "type": "numericColumn", "maxWidth": 120},
    {"field": "expected_value", "headerName": "Expected", "maxWidth": 140},
    {"field": "detected_at", "headerName": "Detected", **fmt.GRID_TIME_COLUMN,
     "tooltipField": "detected_utc"},
]
DELIVERY_COLUMNS = [
    {"field": "id", "headerName": "#", "maxWidth": 80},
    {"field": "created_at", "headerName": "Created", **fmt.GRID_TIME_COLUMN, "tooltipField": "created_at_utc"},
    {"field": "channel", "headerName": "Channel", "maxWidth": 110},
    {"field": "kind", "headerName": "Kind", "maxWidth": 120},
    {"field": "status", "headerName": "Status", "maxWidth": 110, "cellClassRules": {
        "text-danger fw-semibold": "params.value === 'failed'", "text-success": "params.value === 'sent'"}},
    {"field": "subject", "headerName": "Subject", "minWidth": 320, "tooltipField": "subject"},
    {"field": "recipients", "headerName": "To"},
    {"field": "attempts", "headerName": "Attempts", "type": "numericColumn", "maxWidth": 110},
    {"field": "next_attempt_at", "headerName": "Next attempt", **fmt.GRID_TIME_COLUMN,
     "tooltipField": "next_attempt_at_utc"},
    {"field": "last_error", "headerName": "Last error", "minWidth": 260, "tooltipField": "last_error"},
]
STATUS_OPTIONS = [{"label": "Needs action", "value": "active"}, {"label": "Acknowledged", "value": "acknowledged"},
                  {"label": "Snoozed", "value": "snoozed"}, {"label": "Resolved", "value": "resolved"},
                  {"label": "Dismissed", "value": "dismissed"}, {"label": "All", "value": "all"}]
STATUS_VALUES = [o["value"] for o in STATUS_OPTIONS] + ["open"]
BULK_ACTIONS = [("acknowledge", "Acknowledge", "primary"), ("snooze", "Snooze", "secondary"),
                ("resolve", "Resolve", "success")]
TIME_OPTIONS = [{"label": "Any time", "value": "all"}, {"label": "Last 24 hours", "value": "24"},
                {"label": "Last 7 days", "value": "168"}, {"label": "Last 30 days", "value": "720"},
                {"label": "Last 90 days", "value": "2160"}]
SNOOZE_OPTIONS = [{"label": "1 hour", "value": "60"}, {"label": "4 hours", "value": "240"},
                  {"label": "until tomorrow (24 h)", "value": "1440"}, {"label": "3 days", "value": "4320"},
                  {"label": "1 week", "value": "10080"}]
ACTION_BUTTONS = [("acknowledge", "Acknowledge", "primary", "bi-check2"), ("resolve", "Resolve", "success", "bi-check2-all"),
                  ("snooze", "Snooze", "secondary", "bi-alarm"), ("dismiss", "Dismiss", "outline-secondary", "bi-x-lg"),
                  ("reopen", "Reopen", "outline-danger", "bi-arrow-counterclockwise")]


def _filter(label: str, control) -> dbc.Col:
    return dbc.Col([dbc.Label(label, className="small text-muted mb-1"), control], xs=12, sm=6, lg=3)


def view_state(query: dict) -> dict:
    """The query string -> the alert centre's view (malformed values fall back to the defaults)."""
    def listed(key, allowed):
        return [v for v in str(query.get(key) or "").split(",") if v in allowed]
    status = query.get("status") if query.get("status") in STATUS_VALUES else "active"
    time = query.get("time") if query.get("time") in [o["value"] for o in TIME_OPTIONS] else "all"
    rule = str(query["rule"])[:64] if query.get("rule") else None
    selected = int(query["id"]) if str(query.get("id") or "").isdigit() and len(str(query["id"])) < 10 else None
    return {"status": status, "type": listed("type", TYPES), "severity": listed("severity", SEVERITIES),
            "time": time, "rule": rule, "id": selected}


def filters(state: dict) -> html.Div:
    return html.Div([
        dbc.RadioItems(id="alerts-filter-status", options=STATUS_OPTIONS, value=state["status"], inline=True,
                       className="btn-group mb-2 alerts-tabs", inputClassName="btn-check",
                       labelClassName="btn btn-outline-secondary btn-sm", labelCheckedClassName="active"),
        dbc.Row([
            _filter("Type", dcc.Dropdown(id="alerts-filter-type", options=list(TYPES), multi=True, value=state["type"],
                                         placeholder="All but customer risk (the CS worklist)")),
            _filter("Severity", dcc.Dropdown(id="alerts-filter-severity", options=list(SEVERITIES), multi=True,
                                             value=state["severity"], placeholder="All severities")),
            _filter("Detected", dbc.Select(id="alerts-filter-time", options=TIME_OPTIONS, value=state["time"])),
            dbc.Col(html.Div(id="alerts-worklist", className="small pt-lg-4"), xs=12, sm=6, lg=3),
        ], className="g-2 mb-3"),
    ])


def bulk_bar() -> html.Div:
    """One comment and one action for the selected alerts (or the whole group shown when none is selected)."""
    return html.Div([
        dbc.InputGroup([
            dbc.Input(id="alerts-bulk-comment", placeholder="Comment for all of them (optional)", maxLength=2000),
            *[dbc.Button(label, id=f"alerts-bulk-{action}", color=color, outline=action != "acknowledge")
              for action, label, color in BULK_ACTIONS],
        ], size="sm"),
        html.Small(id="alerts-bulk-scope", className="text-muted"),
        html.Div(id="alerts-bulk-message", className="mt-1"),
    ], className="mb-2")


def mute_card() -> dbc.Card:
    """A silence chosen from the rules and the entities they fire for, with a preview of what it mutes."""
    return section("Silence", [
        dcc.Dropdown(id="alerts-mute-rule", placeholder="Rule", className="mb-1"),
        dcc.Dropdown(id="alerts-mute-entity", placeholder="Every entity (or choose one)", className="mb-1"),
        dbc.Select(id="alerts-mute-hours", size="sm", value="4", className="mb-1",
                   options=[{"label": f"for {h} h", "value": str(h)} for h in (1, 4, 12, 24, 72, 168)]),
        dbc.Input(id="alerts-mute-reason", placeholder="Why (shown to everyone)", size="sm", maxLength=1000,
                  className="mb-1"),
        html.Div(id="alerts-mute-preview", className="small text-muted mb-1"),
        dbc.Button("Silence", id="alerts-mute-add", size="sm", color="warning"),
        html.Div(id="alerts-mute-message", className="small mt-1"),
    ], id="alerts-mute-card")


def actions() -> html.Div:
    """The action bar under the detail; buttons are enabled by the alert's state (callbacks)."""
    buttons = [dbc.Button([html.I(className=f"bi {icon} me-1"), label], id=f"alerts-{action}", color=color, size="sm",
                          disabled=True, className="me-1 mb-1") for action, label, color, icon in ACTION_BUTTONS]
    return html.Div([
        dbc.Textarea(id="alerts-comment", placeholder="Comment (optional): what you found or did", maxLength=2000,
                     rows=2, className="mb-2"),
        html.Div([*buttons, dbc.Select(id="alerts-snooze-for", options=SNOOZE_OPTIONS, value="240", size="sm",
                                       style={"width": "auto"}, className="d-inline-block ms-1")],
                 className="d-flex flex-wrap align-items-center"),
        html.Div(id="alerts-action-message", className="mt-2"),
    ], id="alerts-actions")


def list_tab(state: dict) -> html.Div:
    return html.Div([
        filters(state),
        dbc.Row([
            dbc.Col([html.Div("By rule", className="small text-muted mb-1"),
                     html.Div(id="alerts-groups", className="alerts-groups mb-3"), mute_card()], lg=3),
            dbc.Col([bulk_bar(), html.Div(id="alerts-count", className="small text-muted mb-1"),
                     grid("alerts-grid", ALERT_COLUMNS, height="560px", getRowId="params.data.row_id",
                          dashGridOptions={"rowSelection": {"mode": "multiRow", "checkboxes": True,
                                                            "headerCheckbox": True, "enableClickSelection": False},
                                           "tooltipShowDelay": 300})], lg=5),
            dbc.Col(section("Alert", [html.Div(id="alerts-detail"), html.Hr(), actions()], id="alerts-detail-card"), lg=4),
        ], className="g-3"),
    ], className="pt-3")


def deliveries_tab() -> html.Div:
    return html.Div([
        section("Emails and Slack posts", [
            grid("alerts-deliveries", DELIVERY_COLUMNS, height="480px", getRowId="params.data.row_id",
                 dashGridOptions={"rowSelection": {"mode": "singleRow", "checkboxes": False, "enableClickSelection": True},
                                  "tooltipShowDelay": 300}),
            html.Div([dbc.Button("Send the selected failed delivery again", id="alerts-delivery-resend", size="sm",
                                 color="secondary", className="mt-2"),
                      html.Div(id="alerts-delivery-message", className="mt-2")]),
        ], help_text="Critical alerts go out at once, the rest in an hourly digest; failed sends are retried "
                     "with backoff and given up after a few attempts."),
    ], className="pt-3")


def layout(**query) -> html.Div:
    state = view_state(query)
    return html.Div([
        page_header("Alerts", "What the jobs raised, why, and what to check. Acknowledge, resolve, snooze or dismiss; "
                              "silence noisy rules; tune detector thresholds with a 30-day preview."),
        dcc.Store(id="alerts-selected", data=state["id"]),
        dcc.Store(id="alerts-filter-rule", data=state["rule"]), dcc.Store(id="alerts-url"),
        dcc.Store(id="alerts-changed", data=0),
        dbc.Tabs([
            dbc.Tab(list_tab(state), label="Alerts", tab_id="alerts-tab-list"),
            dbc.Tab(silences_tab(), label="Silences", tab_id="alerts-tab-silences"),
            dbc.Tab(rules_tab(), label="Detector rules", tab_id="alerts-tab-rules"),
            dbc.Tab(deliveries_tab(), label="Deliveries", tab_id="alerts-tab-deliveries"),
        ], id="alerts-tabs", active_tab="alerts-tab-list"),
    ])
