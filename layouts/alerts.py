"""Alert center: the alerts grid with filters, the selected alert's context and actions, silences,
detector rules with a 30-day preview, and the delivery log. `/alerts?id=N` opens alert N."""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from layouts.alert_rules import rules_tab, silences_tab
from ui.components import grid, page_header, section
from domain.alerting.lifecycle import SEVERITIES, TYPES

SEVERITY_CLASSES = {"text-danger fw-semibold": "params.value === 'critical'",
                    "text-warning fw-semibold": "params.value === 'warning'", "text-info": "params.value === 'info'"}
ALERT_COLUMNS = [
    {"field": "severity", "headerName": "Severity", "cellClassRules": SEVERITY_CLASSES, "maxWidth": 120},
    {"field": "status", "headerName": "Status", "maxWidth": 140},
    {"field": "title", "headerName": "Alert", "minWidth": 220, "tooltipField": "title"},
    {"field": "type", "headerName": "Type", "maxWidth": 160},
    {"field": "rule", "headerName": "Rule"},
    {"field": "current_value", "headerName": "Current", "type": "numericColumn", "maxWidth": 120},
    {"field": "expected_value", "headerName": "Expected", "maxWidth": 140},
    {"field": "detected_at", "headerName": "Detected (UTC)", "sort": "desc", "minWidth": 150},
]
DELIVERY_COLUMNS = [
    {"field": "id", "headerName": "#", "maxWidth": 80},
    {"field": "created_at", "headerName": "Created (UTC)"},
    {"field": "channel", "headerName": "Channel", "maxWidth": 110},
    {"field": "kind", "headerName": "Kind", "maxWidth": 120},
    {"field": "status", "headerName": "Status", "maxWidth": 110, "cellClassRules": {
        "text-danger fw-semibold": "params.value === 'failed'", "text-success": "params.value === 'sent'"}},
    {"field": "subject", "headerName": "Subject", "minWidth": 320, "tooltipField": "subject"},
    {"field": "recipients", "headerName": "To"},
    {"field": "attempts", "headerName": "Attempts", "type": "numericColumn", "maxWidth": 110},
    {"field": "next_attempt_at", "headerName": "Next attempt"},
    {"field": "last_error", "headerName": "Last error", "minWidth": 260, "tooltipField": "last_error"},
]
STATUS_OPTIONS = [{"label": "Open (active, acknowledged, snoozed)", "value": "open"},
                  {"label": "Active", "value": "active"}, {"label": "Acknowledged", "value": "acknowledged"},
                  {"label": "Snoozed", "value": "snoozed"}, {"label": "Resolved", "value": "resolved"},
                  {"label": "Dismissed", "value": "dismissed"}, {"label": "All", "value": "all"}]
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


def filters() -> dbc.Row:
    return dbc.Row([
        _filter("Status", dbc.Select(id="alerts-filter-status", options=STATUS_OPTIONS, value="open")),
        _filter("Type", dcc.Dropdown(id="alerts-filter-type", options=list(TYPES), multi=True, placeholder="All types")),
        _filter("Severity", dcc.Dropdown(id="alerts-filter-severity", options=list(SEVERITIES), multi=True,
                                         placeholder="All severities")),
        _filter("Detected", dbc.Select(id="alerts-filter-time", options=TIME_OPTIONS, value="all")),
    ], className="g-2 mb-3")


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


def list_tab() -> html.Div:
    return html.Div([
        filters(),
        dbc.Row([
            dbc.Col([html.Div(id="alerts-count", className="small text-muted mb-1"),
                     grid("alerts-grid", ALERT_COLUMNS, height="560px", getRowId="params.data.row_id",
                          dashGridOptions={"rowSelection": {"mode": "singleRow", "checkboxes": False,
                                                            "enableClickSelection": True},
                                           "tooltipShowDelay": 300})], lg=7),
            dbc.Col(section("Alert", [html.Div(id="alerts-detail"), html.Hr(), actions()], id="alerts-detail-card"), lg=5),
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


def layout(id: str | None = None, **_query) -> html.Div:
    selected = int(id) if id and str(id).isdigit() else None
    return html.Div([
        page_header("Alerts", "What the jobs raised, why, and what to check. Acknowledge, resolve, snooze or dismiss; "
                              "silence noisy rules; tune detector thresholds with a 30-day preview."),
        dcc.Store(id="alerts-selected", data=selected),
        dcc.Store(id="alerts-changed", data=0),
        dbc.Tabs([
            dbc.Tab(list_tab(), label="Alerts", tab_id="alerts-tab-list"),
            dbc.Tab(silences_tab(), label="Silences", tab_id="alerts-tab-silences"),
            dbc.Tab(rules_tab(), label="Detector rules", tab_id="alerts-tab-rules"),
            dbc.Tab(deliveries_tab(), label="Deliveries", tab_id="alerts-tab-deliveries"),
        ], id="alerts-tabs", active_tab="alerts-tab-list"),
    ])
