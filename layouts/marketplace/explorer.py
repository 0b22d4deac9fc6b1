"""Metric explorer: any metric stream or overview card's history over a chosen period, with zoom, the expected
range, the previous period for comparison and alerts drawn on the chart (Grafana-style, for ops)."""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from read import metrics
from read.status import engine_for
from ui.components import page_header
from web_context import current_settings

RANGES = {"24h": "Last 24 h", "7d": "Last 7 days", "30d": "Last 30 days", "custom": "Custom"}
RANGE_DAYS = {"24h": 1, "7d": 7, "30d": 30}


def layout(metric: str | None = None, range: str | None = None, start: str | None = None, end: str | None = None,
           compare: str | None = None, **_query) -> html.Div:
    chosen = range if range in RANGES else "7d"
    found = metrics.streams(engine_for(current_settings()))
    options = [{"label": f"{s['label']}  ({s['group']})", "value": s["value"]} for s in found]
    if metric not in {s["value"] for s in found}:
        metric = next((s["value"] for s in found if s["group"] == "Metric streams"), found[0]["value"] if found else None)
    controls = dbc.Row([
        dbc.Col(dcc.Dropdown(id="explorer-metric", value=metric, options=options, placeholder="Choose a metric…", clearable=False,
                             optionHeight=32), lg=4, md=12, className="mb-2"),
        dbc.Col(dbc.RadioItems(id="explorer-range", value=chosen, inline=True,
                               options=[{"label": v, "value": k} for k, v in RANGES.items()], className="btn-group flex-wrap",
                               inputClassName="btn-check", labelClassName="btn btn-outline-primary btn-sm text-nowrap",
                               labelCheckedClassName="active"), width="auto", className="mb-2"),
        dbc.Col(dcc.DatePickerRange(id="explorer-dates", start_date=start, end_date=end, display_format="D MMM YYYY",
                                    minimum_nights=0, disabled=chosen != "custom"), width="auto", className="mb-2"),
        dbc.Col(dbc.Checklist(id="explorer-compare", options=[{"label": "Compare with previous period", "value": "on"}],
                              value=["on"] if compare else [], switch=True), width="auto", className="mb-2 pt-1"),
    ], className="g-2 align-items-center")
    return html.Div([
        page_header("Metric explorer", "Any metric over any period: drag on the chart to zoom, double-click to reset."),
        controls,
        html.Div(id="explorer-summary", className="small text-muted mb-2"),
        dcc.Loading(dcc.Graph(id="explorer-chart", config={"displaylogo": False, "scrollZoom": False},
                              style={"height": "460px"}), type="dot"),
        html.Div(id="explorer-notes", className="small"),
    ])
