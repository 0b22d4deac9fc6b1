"""Forecast & supply: per subject the demand forecast (95 % band, baseline, actuals) against open tutor hours,
the week's coverage heatmap (subject x hour, red below 80 %), accuracy over time (model vs baseline), supply by
region and the open supply alerts; "Retrain now" refits the models in the background. `/forecast?subject=S`."""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from ui import format as fmt
from ui.components import grid, job_button, page_header, section
from web_context import can
from read import forecast as fq
from read.status import engine_for
from web_context import current_settings

PCT = {"function": "params.value == null ? '' : Math.round(params.value * 100) + ' %'"}
ONE = {"function": "params.value == null ? '' : params.value.toFixed(1)"}
NUMBER = {"filter": "agNumberColumnFilter", "type": "numericColumn"}
REGION_COLUMNS = [
    {"field": "subject", "headerName": "Subject", "minWidth": 130},
    {"field": "region", "headerName": "Region (tutors)", "maxWidth": 140},
    {"field": "forecast", "headerName": "Sessions forecast", "valueFormatter": ONE, **NUMBER},
    {"field": "available_hours", "headerName": "Open tutor hours", "valueFormatter": ONE, **NUMBER},
    {"field": "utilization", "headerName": "Booked share", "valueFormatter": PCT, **NUMBER,
     "headerTooltip": "Tutor hours already booked / all tutor hours of the week (utilization so far)"},
    {"field": "shortage_hours", "headerName": "Hours < 80 %", **NUMBER,
     "cellClassRules": {"text-danger fw-semibold": "params.value > 0"}},
    {"field": "surplus_hours", "headerName": "Hours > 130 %", **NUMBER},
    {"field": "min_coverage", "headerName": "Lowest coverage", "valueFormatter": PCT, **NUMBER,
     "cellClassRules": {"text-danger fw-semibold": "params.value != null && params.value < 0.8"}},
]
DEFINITIONS = (
    "Demand: sessions booked per hour (bookings held or to be held; cancelled and rescheduled ones are not demand). "
    "The model is an ensemble of seasonal profiles in the marketplace's local time, some following the recent level, "
    "that knows the holiday calendar; fitted on 90 days, retrained weekly and re-predicted hourly with the newest data. "
    "Each hour's forecast is the sessions already booked plus those still expected to be booked (learned from the "
    "booking curve), never below what is booked; the band is its 95 % interval, calibrated on the last 8 weeks. "
    "The baseline is \"same hour last week\". Supply: open "
    "tutor hours = weekly availability of active tutors teaching the subject minus hours already booked. Coverage = "
    "open tutor hours / open demand (forecast sessions not yet booked); below 80 % is a shortage, above 130 % a "
    "surplus; hours with less than a quarter of a session of open demand are not judged. MAPE is weighted: "
    "sum |actual - forecast| / sum actual, over a run's 168 hours once they have passed.")


def _box(id: str, height: int) -> html.Div:
    # figures are made by callbacks, so plotly.js loads only with data
    return dcc.Loading(html.Div(id=id, style={"minHeight": f"{height}px"}), type="dot")


def layout(subject: str | None = None, **_query) -> html.Div:
    # the list is filled here (one cached read) so the chart's callback starts with the page, not after a round trip
    names, subject = fq.subject_choice(engine_for(current_settings()), subject or None)
    retrain = job_button("forecast", can("forecast.retrain"), "Refit every subject's model now (takes about a minute)",
                         "Admins, ops and recruiters can retrain")
    picker = dcc.Dropdown(id="forecast-subject", value=subject, clearable=False, placeholder="Subject",
                          options=[{"label": fmt.humanize(s), "value": s} for s in names], style={"minWidth": "220px"})
    return html.Div([
        page_header("Forecast & supply", "Sessions booked per hour for the next 7 days against the tutors who can "
                    "take them.", right=html.Div([picker, retrain], className="d-flex gap-3 align-items-center")),
        html.Div(id="forecast-asof", className="text-muted small mb-2"),
        html.Div(id="forecast-empty"),
        html.Div(id="forecast-note"),
        section("Demand forecast and supply", _box("forecast-chart-box", 420), id="forecast-chart-section",
                help_text="past week: actual sessions; next 7 days: forecast with its 95 % band, and open tutor hours"),
        section("Coverage, subject x hour, next 7 days", _box("forecast-heatmap-box", 480),
                help_text="open tutor hours / open demand; red below 80 %, blank without demand; click a row"),
        dbc.Row([
            dbc.Col(section("Forecast accuracy", [html.Div(id="forecast-accuracy-summary", className="small mb-2"),
                                                   _box("forecast-accuracy-box", 260)],
                            help_text="weighted MAPE of scored runs, model vs same hour last week"), lg=6),
            dbc.Col(section("Open supply alerts", html.Div(id="forecast-alerts")), lg=6),
        ]),
        section("Supply by tutor region", grid("forecast-regions", REGION_COLUMNS, height="360px",
                                                 getRowId="params.data.subject + '/' + params.data.region"),
                help_text="demand split by the share of the subject's bookings each region's tutors held (28 days)"),
        html.Details([html.Summary("How these numbers are computed", className="small text-muted"),
                      html.P(DEFINITIONS, className="small text-muted mt-2", id="forecast-definitions")]),
    ])
