"""Alert center tabs for what operators tune: silence windows, and per-metric detector rules with a
preview of how often a changed threshold would have fired over the last 30 days."""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from ui.components import grid, section
from domain.anomaly import DetectorConfig

SILENCE_COLUMNS = [
    {"field": "id", "headerName": "#", "maxWidth": 80},
    {"field": "rule", "headerName": "Rule"},
    {"field": "metric", "headerName": "Metric / entity"},
    {"field": "starts_at", "headerName": "From (UTC)"},
    {"field": "ends_at", "headerName": "Until (UTC)"},
    {"field": "reason", "headerName": "Why", "minWidth": 260, "tooltipField": "reason"},
    {"field": "created_by", "headerName": "By"},
]
EMPTY_FIGURE = {"data": [], "layout": {
    "height": 420, "xaxis": {"visible": False}, "yaxis": {"visible": False},
    "annotations": [{"text": "No preview yet", "showarrow": False, "font": {"size": 16, "color": "#6c757d"}}]}}
DIRECTIONS = [{"label": "up or down", "value": "both"}, {"label": "up only", "value": "up"},
              {"label": "down only", "value": "down"}]
# (detector section, setting, label, kind); kind: bool, float, int or direction
RULE_FIELDS = [
    ("robust_zscore", "enabled", "Robust z-score against the seasonal median (default method)", "bool"),
    ("robust_zscore", "threshold", "fires at |z| ≥", "float"),
    ("robust_zscore", "sustained_threshold", "or, sustained, at |z| ≥", "float"),
    ("robust_zscore", "sustained_points", "for this many points in a row", "int"),
    ("robust_zscore", "direction", "direction", "direction"),
    ("sigma", "enabled", "Classic: more than k standard deviations from the seasonal mean (noisy)", "bool"),
    ("sigma", "threshold", "k", "float"),
    ("sigma", "direction", "direction", "direction"),
    ("week_over_week", "enabled", "Week over week: trailing window vs the same window a week before", "bool"),
    ("week_over_week", "threshold_pct", "change ≥ %", "float"),
    ("week_over_week", "min_zscore", "and unusual for the metric: z ≥ (0 = off)", "float"),
    ("week_over_week", "window_hours", "window (hours)", "float"),
    ("week_over_week", "direction", "direction", "direction"),
    ("consecutive_drops", "enabled", "Consecutive drops of the 7-day trailing mean of daily values", "bool"),
    ("consecutive_drops", "drops", "drops in a row", "int"),
    ("consecutive_drops", "min_total_drop_pct", "total fall ≥ %", "float"),
]


def rule_fields() -> list[tuple[str, str, str, str]]:
    """RULE_FIELDS that the installed detector knows (a renamed setting drops out instead of breaking the page)."""
    config = DetectorConfig()
    return [f for f in RULE_FIELDS if hasattr(getattr(config, f[0], None), f[1])]


def field_id(section_name: str, key: str) -> dict:
    return {"type": "alerts-rule-field", "section": section_name, "key": key}


def _field(section_name: str, key: str, label: str, kind: str):
    fid = field_id(section_name, key)
    if kind == "bool":
        return dbc.Switch(id=fid, label=html.Span(label, className="fw-semibold"), value=False, className="mt-3 mb-1")
    if kind == "direction":
        control = dbc.Select(id=fid, options=DIRECTIONS, value="both", size="sm")
    else:
        control = dbc.Input(id=fid, type="number", size="sm", step="1" if kind == "int" else "any", min=0)
    return dbc.Row([dbc.Col(dbc.Label(label, className="small mb-0"), width=7), dbc.Col(control, width=5)],
                   className="ms-4 mb-1 align-items-center")


def silences_tab() -> html.Div:
    form = dbc.Row([
        dbc.Col([dbc.Label("Rule (or prefix, e.g. anomaly)", className="small"),
                 dbc.Input(id="alerts-silence-rule", list="alerts-silence-rule-options", maxLength=64),
                 html.Datalist(id="alerts-silence-rule-options")], md=3),
        dbc.Col([dbc.Label("Metric or entity", className="small"),
                 dbc.Input(id="alerts-silence-metric", list="alerts-silence-metric-options", maxLength=128),
                 html.Datalist(id="alerts-silence-metric-options")], md=3),
        dbc.Col([dbc.Label("Starts (UTC, empty = now)", className="small"),
                 dbc.Input(id="alerts-silence-start", type="datetime-local")], md=2),
        dbc.Col([dbc.Label("For (hours)", className="small"),
                 dbc.Input(id="alerts-silence-hours", type="number", min=0.25, max=2160, step="any", value=4)], md=1),
        dbc.Col([dbc.Label("Why", className="small"),
                 dbc.Input(id="alerts-silence-reason", maxLength=1000, placeholder="e.g. planned maintenance")], md=3),
    ], className="g-2")
    return html.Div([
        section("Add a silence window", [
            form, dbc.Button("Add silence", id="alerts-silence-add", color="primary", size="sm", className="mt-2"),
            html.Div(id="alerts-silence-message", className="mt-2")],
            help_text="New alerts of the rule (and its sub-rules) or about the metric are not raised while it lasts; "
                      "open alerts stay open."),
        section("Current and upcoming silences", [
            grid("alerts-silences", SILENCE_COLUMNS, height="300px", getRowId="params.data.row_id",
                 dashGridOptions={"rowSelection": {"mode": "singleRow", "checkboxes": False, "enableClickSelection": True}}),
            dbc.Button("End the selected silence now", id="alerts-silence-end", color="secondary", size="sm",
                       className="mt-2")]),
    ], className="pt-3")


def rules_tab() -> html.Div:
    settings_form = [_field(*f) for f in rule_fields()]
    return html.Div(dbc.Row([
        dbc.Col(section("Rule", [
            dbc.Label("Metric stream", className="small"),
            dcc.Dropdown(id="alerts-rule-metric", placeholder="Choose a metric", clearable=False),
            html.Div(id="alerts-rule-saved", className="small text-muted mt-1"),
            html.Div(settings_form, id="alerts-rule-form"),
            html.Div([dbc.Button([html.I(className="bi bi-eye me-1"), "Preview last 30 days"], id="alerts-rule-preview",
                                 color="secondary", size="sm", className="me-2"),
                      dbc.Button([html.I(className="bi bi-save me-1"), "Save rule"], id="alerts-rule-save",
                                 color="primary", size="sm")], className="mt-3"),
            html.Div(id="alerts-rule-message", className="mt-2"),
        ]), lg=5),
        dbc.Col(section("Preview", [
            html.Div(id="alerts-rule-summary", children=html.P(
                "Choose a metric, change thresholds, and preview how often the rule would have fired.",
                className="text-muted")),
            dcc.Loading(dcc.Graph(id="alerts-rule-chart", config={"displaylogo": False}, style={"height": "420px"},
                                  figure=EMPTY_FIGURE)),
        ]), lg=7),
    ], className="g-3"), className="pt-3")
