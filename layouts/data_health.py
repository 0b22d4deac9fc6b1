"""Data health: per source its last successful poll, lag, rows, failures; quarantined rows with reasons; job runs."""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from ui.components import grid, page_header, section

SOURCE_COLUMNS = [
    {"field": "source", "headerName": "Source", "minWidth": 200},
    {"field": "record", "headerName": "Record"},
    {"field": "status", "headerName": "Status", "cellClassRules": {
        "text-danger fw-semibold": "params.value === 'failing'", "text-warning fw-semibold": "params.value === 'stale'",
        "text-success": "params.value === 'ok'"}},
    {"field": "last_success", "headerName": "Last successful poll"},
    {"field": "lag", "headerName": "Data lag", "headerTooltip": "Time since the newest row's watermark"},
    {"field": "rows_total", "headerName": "Rows in store", "type": "numericColumn"},
    {"field": "last_poll", "headerName": "Last poll: ins / upd / same / quarantined"},
    {"field": "consecutive_failures", "headerName": "Failures", "type": "numericColumn"},
    {"field": "last_error", "headerName": "Last error", "minWidth": 260},
]
QUARANTINE_COLUMNS = [
    {"field": "source", "headerName": "Source"},
    {"field": "record", "headerName": "Record"},
    {"field": "kind", "headerName": "Reason", "minWidth": 320},
    {"field": "rows", "headerName": "Rows", "type": "numericColumn", "sort": "desc"},
    {"field": "example", "headerName": "Example", "minWidth": 320},
    {"field": "last_seen", "headerName": "Last seen"},
]
JOB_COLUMNS = [
    {"field": "job", "headerName": "Job"},
    {"field": "status", "headerName": "Status"},
    {"field": "started_at", "headerName": "Started"},
    {"field": "duration_s", "headerName": "Seconds", "type": "numericColumn"},
    {"field": "detail", "headerName": "Summary", "minWidth": 400},
]


def layout(**_query) -> html.Div:
    return html.Div([
        page_header("Data health", "Where every number comes from: sources, freshness, rejected rows, jobs."),
        dbc.Row(id="data-health-cards", className="g-3 mb-3"),
        section("Sources", grid("data-health-sources", SOURCE_COLUMNS, height="360px")),
        section("Quarantined rows", grid("data-health-quarantine", QUARANTINE_COLUMNS, height="320px"),
                help_text="Rows that failed validation are kept here with their reason; the rest of each batch landed."),
        section("Scheduled jobs", grid("data-health-jobs", JOB_COLUMNS, height="300px")),
    ])
