"""Tutors: first-session success by tutor (grid, red below 70 %, green top performers), drill-down, regions."""
from __future__ import annotations

import json

import dash_bootstrap_components as dbc
from dash import dcc, html

from ui import format as fmt
from ui.components import grid, page_header, section
from read.tutors import (DEFAULT_PERIOD, LOW_SUCCESS, PERIOD_LABELS, PERIODS, TOP_MIN_RATED,
                                    TOP_SUCCESS)

PCT = {"function": "params.value == null ? '' : Math.round(params.value * 100) + ' %'"}
# a rate on fewer than TOP_MIN_RATED rated sessions is shown with its n: "67 % (n=3)"
PCT_N = {"function": f"params.value == null ? '' : Math.round(params.value * 100) + ' %' + "
                     f"(params.data.rated_completed < {TOP_MIN_RATED} ? ' (n=' + params.data.rated_completed + ')' : '')"}
LABEL = {"function": "params.value == null ? '' : params.value.charAt(0).toUpperCase() + params.value.slice(1)"}
RATING = {"function": "params.value == null ? '' : params.value.toFixed(2)"}
POINTS = {"function": "params.value == null ? '' : (params.value > 0 ? '+' : '') + params.value.toFixed(0) + ' pts'"}
NUMBER = {"filter": "agNumberColumnFilter", "type": "numericColumn"}

TUTOR_COLUMNS = [
    {"field": "name", "headerName": "Tutor", "minWidth": 160, "pinned": "left", "tooltipField": "name"},
    {"field": "attention", "headerName": "Attention", "minWidth": 110, "sort": "asc",
     "valueFormatter": {"function": "['Open alert', 'Falling', 'Low success', ''][params.value] || ''"},
     "headerTooltip": "Default order: open alert, falling week over week, low success on 5+ rated, then the rest",
     "cellClassRules": {"text-danger fw-semibold": "params.value === 0", "text-warning fw-semibold": "params.value === 1"}},
    {"field": "tutor_id", "headerName": "ID", "minWidth": 90},
    {"field": "subjects", "headerName": "Subjects", "minWidth": 120, "tooltipField": "subjects",
     "headerTooltip": "Column filter: type a subject, e.g. algebra"},
    {"field": "region", "headerName": "Region", "minWidth": 85},
    {"field": "status", "headerName": "Status", "minWidth": 90, "valueFormatter": LABEL},
    {"field": "first_sessions", "headerName": "First sessions", "minWidth": 130, **NUMBER},
    {"field": "rated_completed", "headerName": "Rated", "minWidth": 80, **NUMBER,
     "headerTooltip": "Rated completed first sessions: the success rate's denominator"},
    {"field": "success_rate", "headerName": "Success rate", "minWidth": 125, "valueFormatter": PCT_N, **NUMBER,
     "headerTooltip": f"Completed with rating >= 4 / rated completed first sessions; grey with n below {TOP_MIN_RATED} rated"},
    {"field": "completion_rate", "headerName": "Completion", "minWidth": 115, "valueFormatter": PCT, **NUMBER},
    {"field": "avg_rating", "headerName": "Avg rating", "minWidth": 110, "valueFormatter": RATING, **NUMBER},
    {"field": "wow_trend", "headerName": "WoW trend", "minWidth": 115, "valueFormatter": POINTS, **NUMBER,
     "headerTooltip": "Success rate of the last 7 days minus the 7 days before, in points",
     "cellClassRules": {"text-danger fw-semibold": "params.value != null && params.value <= -10",
                        "text-success fw-semibold": "params.value != null && params.value >= 10"}},
]
SESSION_COLUMNS = [
    {"field": "start_time", "headerName": "Date", "sort": "desc", **fmt.GRID_TIME_COLUMN,
     "tooltipField": "start_utc"},
    {"field": "customer_id", "headerName": "Customer", "minWidth": 120},
    {"field": "subject", "headerName": "Subject"},
    {"field": "status", "headerName": "Status",
     "cellClassRules": {"text-danger": "params.value === 'No-show'"}},
    {"field": "rating", "headerName": "Rating", **NUMBER,
     "cellClassRules": {"text-danger fw-semibold": "params.value != null && params.value < 4"}},
    {"field": "outcome", "headerName": "Outcome"},
    {"field": "segment", "headerName": "Segment"},
    {"field": "region", "headerName": "Region"},
]
REGION_COLUMNS = [
    {"field": "key", "headerName": "Region (customer)", "minWidth": 150},
    {"field": "first_sessions", "headerName": "First sessions", "minWidth": 130, **NUMBER},
    {"field": "rated_completed", "headerName": "Rated", **NUMBER},
    {"field": "success_rate", "headerName": "Success rate", "minWidth": 125, "valueFormatter": PCT_N, **NUMBER,
     "cellClassRules": {"text-danger fw-semibold": f"params.value != null && params.value < {LOW_SUCCESS} && "
                                                   f"params.data.rated_completed >= {TOP_MIN_RATED}",
                        "text-muted": f"params.data.rated_completed < {TOP_MIN_RATED}"}},
    {"field": "rest_rate", "headerName": "Other regions", "valueFormatter": PCT, **NUMBER},
    {"field": "gap_points", "headerName": "Gap", "valueFormatter": POINTS, **NUMBER},
    {"field": "completion_rate", "headerName": "Completion", "valueFormatter": PCT, **NUMBER},
    {"field": "avg_rating", "headerName": "Avg rating", "valueFormatter": RATING, **NUMBER},
]
DEFINITIONS = (
    "A customer's first session is their earliest session that was completed or a no-show (cancelled ones never "
    "count); it belongs to its tutor. Success: completed with a rating of 4 or 5. Success rate = successes / rated "
    "completed first sessions; completion rate = completed / (completed + no-show); average rating over rated "
    f"completed first sessions. Red rows: success below {LOW_SUCCESS:.0%}. Green rows: {TOP_SUCCESS:.0%} or more "
    f"with at least {TOP_MIN_RATED} rated first sessions. WoW trend: success rate of the last 7 days minus the 7 "
    "days before, in points (the windows of the decline alert). The subject filter keeps tutors who teach the "
    "subject; their numbers cover all their first sessions. Numbers are recomputed hourly.")


def layout(tutor: str | None = None, subject: str | None = None, region: str | None = None,
           period: str | None = None, **_query) -> html.Div:
    period = period if period in PERIODS else DEFAULT_PERIOD
    controls = html.Div([
        dbc.RadioItems(id="tutors-period", value=period, inline=True,
                       options=[{"label": PERIOD_LABELS[p], "value": p} for p in PERIODS],
                       className="btn-group flex-wrap", inputClassName="btn-check",
                       labelClassName="btn btn-outline-primary btn-sm", labelCheckedClassName="active"),
        dcc.Dropdown(id="tutors-subject", value=subject or None, placeholder="All subjects", clearable=True,
                     options=[{"label": fmt.humanize(subject), "value": subject}] if subject else [], style={"minWidth": "220px"}),
    ], className="d-flex gap-2 align-items-center flex-wrap")
    region_filter = {"key": {"filterType": "text", "type": "equals", "filter": region}} if region else {}
    content = html.Div([
        html.Div(id="tutors-asof", className="text-muted small mb-2"),
        dbc.Row(id="tutors-cards", className="g-3 mb-3"),
        section("Tutors", [
            html.Div([html.Span("■ ", className="tutors-legend-low"), f"success below {LOW_SUCCESS:.0%}  ",
                      html.Span("■ ", className="tutors-legend-top ms-3"),
                      f"top: ≥ {TOP_SUCCESS:.0%} with ≥ {TOP_MIN_RATED} rated  ·  grey: fewer than {TOP_MIN_RATED} rated (n shown)  ·  "
                      "open alerts and falling tutors first  ·  click a row for its first sessions"],
                     className="small text-muted mb-2"),
            # "showing 500 of 5,000" while the grid holds only the most urgent tutors (callbacks/supply/tutors.py)
            html.Div([html.Span(id="tutors-shown-text"),
                      dbc.Button("Show all", id="tutors-show-all-button", color="link", size="sm",
                                 className="p-0 ms-1 align-baseline")],
                     id="tutors-shown", className="small text-muted mb-2", style={"display": "none"}),
            grid("tutors-grid", TUTOR_COLUMNS, height="520px", getRowId="params.data.tutor_id",
                 dashGridOptions={"rowClassRules": {
                     "tutors-row-low": "params.data.band === 'low' && !params.data.small_sample",
                     "tutors-row-top": "params.data.band === 'top'",
                     "tutors-row-small": "params.data.small_sample",
                     "tutors-row-flash": f"params.data.tutor_id === {json.dumps(tutor or '')}"},
                     "tooltipShowDelay": 300},
                 **({"scrollTo": {"rowId": tutor, "rowPosition": "middle"}} if tutor else {})),
        ], help_text="First-session statistics per tutor for the selected period"),
        section("First sessions of the selected tutor", [
            html.Div(id="tutors-detail-title", className="mb-2",
                     children=html.Span("Click a tutor in the grid above.", className="text-muted")),
            dbc.Row([
                # The grid and the chart are created by the drill-down callback once a tutor is chosen: a third grid
                # and plotly.js (~4 MB) cost every page load ~0.3 s of rendering for an empty box.
                dbc.Col(html.Div(id="tutors-first-sessions-box", style={"height": "320px"}), lg=7),
                dbc.Col(html.Div(id="tutors-trend-box", style={"height": "320px"}), lg=5),
            ]),
        ], id="tutors-detail"),
        section("Success by region", grid("tutors-regions", REGION_COLUMNS, height="360px", filterModel=region_filter),
                help_text="The customer's region; the gap compares with all other regions pooled"),
    ], id="tutors-content")
    return html.Div([
        page_header("Tutors", "First-session success: who makes new customers stay.", right=controls),
        html.P(DEFINITIONS, className="small text-muted", id="tutors-definitions"),
        html.Div(id="tutors-empty"),
        content,
        dcc.Store(id="tutors-selected", data=tutor or None),
        dcc.Store(id="tutors-show-all", data=False),  # True once the user sorts, filters or asks for every tutor
        dcc.Store(id="tutors-url"),  # the view in the query string (assets/urlstate.js)
    ])
