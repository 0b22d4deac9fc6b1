"""Data health: per source its last successful poll, lag, rows, failures; quarantined rows with reasons; job runs."""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from domain.contract import DUPLICATE_RULE
from ui import format as fmt
from ui.components import grid, page_header, section

QUARANTINE_HELP = (
    "Rows that failed validation are kept here with their reason; the rest of each batch landed. "
    "Times more than the allowed clock skew (CLOCK_SKEW_S) after the poll are refused (a booking's "
    "scheduled_time may lie ahead). Values must fit the store's columns (length, no NUL bytes, ranges). "
    "A CSV line that cannot be read (ragged, bad quote, not UTF-8) is quarantined as file:line. " + DUPLICATE_RULE)
SOURCES_HELP = ("Every failure of a poll is recorded per record: the error, and how many polls in a row failed. "
                "One failing record does not stop the others; a record whose parent failed waits for the next poll.")

SOURCE_COLUMNS = [
    {"field": "source", "headerName": "Source", "minWidth": 120},
    {"field": "record", "headerName": "Record", "minWidth": 130},
    {"field": "status", "headerName": "Status", "valueFormatter": fmt.GRID_LABEL, "cellClassRules": {
        "text-danger fw-semibold": "params.value === 'failing'", "text-warning fw-semibold": "params.value === 'stale'",
        "text-success": "params.value === 'ok'"}},
    {"field": "last_success", "headerName": "Last good poll", "minWidth": 130},
    {"field": "lag", "headerName": "Data lag", "headerTooltip": "Time since the newest row's watermark"},
    {"field": "rows_total", "headerName": "Rows in store", "type": "numericColumn", "valueFormatter": fmt.GRID_COUNT,
     "minWidth": 130},
    {"field": "last_poll", "headerName": "Last poll", "minWidth": 170,
     "headerTooltip": "Rows of the last poll: inserted / updated / unchanged / quarantined"},
    {"field": "consecutive_failures", "headerName": "Failures", "type": "numericColumn", "valueFormatter": fmt.GRID_COUNT},
    {"field": "last_error", "headerName": "Last error", "minWidth": 260},
]
QUARANTINE_COLUMNS = [
    {"field": "source", "headerName": "Source"},
    {"field": "record", "headerName": "Record"},
    {"field": "kind", "headerName": "Reason", "minWidth": 320},
    {"field": "rows", "headerName": "Rows", "type": "numericColumn", "sort": "desc", "valueFormatter": fmt.GRID_COUNT},
    {"field": "example", "headerName": "Example", "minWidth": 320},
    {"field": "last_seen", "headerName": "Last seen", **fmt.GRID_TIME_COLUMN,
     "tooltipField": "last_seen_utc"},
]
JOB_COLUMNS = [
    {"field": "job", "headerName": "Job"},
    {"field": "status", "headerName": "Status"},
    {"field": "started_at", "headerName": "Started", **fmt.GRID_TIME_COLUMN,
     "tooltipField": "started_utc"},
    {"field": "duration_s", "headerName": "Seconds", "type": "numericColumn"},
    {"field": "summary", "headerName": "Summary", "minWidth": 400, "tooltipField": "detail",
     "headerTooltip": "The run's summary in words; hover for the full record"},
]


def layout(**_query) -> html.Div:
    return html.Div([
        page_header("Data health", "Where every number comes from: sources, freshness, rejected rows, jobs."),
        dbc.Row(id="data-health-cards", className="g-3 mb-3"),
        # as tall as its rows (one per source and record): a fixed height hid the last rows under wrapped headers
        section("Sources", grid("data-health-sources", SOURCE_COLUMNS, height=None,
                                dashGridOptions={"domLayout": "autoHeight", "pagination": False}),
                help_text=SOURCES_HELP),
        section("Quarantined rows", grid("data-health-quarantine", QUARANTINE_COLUMNS, height="320px"),
                help_text=QUARANTINE_HELP),
        section("Scheduled jobs", grid("data-health-jobs", JOB_COLUMNS, height="300px",
                                       dashGridOptions={"tooltipShowDelay": 300})),
    ])
