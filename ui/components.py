"""Shared page pieces: page header, metric card, empty state, data table helpers."""
from __future__ import annotations

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html


def page_header(title: str, subtitle: str | None = None, right=None) -> html.Div:
    return html.Div(
        [html.Div([html.H1(title, className="h3 mb-0"),
                   html.P(subtitle, className="text-muted mb-0 small") if subtitle else None]),
         html.Div(right) if right is not None else None],
        className="d-flex justify-content-between align-items-end flex-wrap gap-2 mb-3")


def empty_state(message: str, hint: str | None = None, id: str | None = None) -> html.Div:
    """What a page shows when there is no data: what happened and what to do."""
    kwargs = {"id": id} if id else {}
    return html.Div([html.I(className="bi bi-inbox fs-1 text-muted"), html.H2(message, className="h5 mt-2"),
                     html.P(hint, className="text-muted") if hint else None],
                    className="text-center py-5 empty-state", **kwargs)


def error_state(message: str) -> dbc.Alert:
    return dbc.Alert([html.I(className="bi bi-exclamation-triangle me-2"), message], color="warning")


def section(title: str, children, id: str | None = None, help_text: str | None = None) -> dbc.Card:
    header = [html.Span(title, className="fw-semibold")]
    if help_text:
        header.append(html.Small(help_text, className="text-muted ms-2"))
    kwargs = {"id": id} if id else {}
    return dbc.Card([dbc.CardHeader(header), dbc.CardBody(children)], className="mb-3 shadow-sm", **kwargs)


def grid(id: str, columns: list[dict], rows=None, height: str | None = "480px", **kwargs) -> dag.AgGrid:
    """AG Grid with sorting, filtering and CSV export on (the library does them, not us). height None: as tall as
    its rows (pass dashGridOptions={"domLayout": "autoHeight"} with it)."""
    options = {"pagination": True, "paginationPageSize": 50, "animateRows": False,
               "enableCellTextSelection": True}
    options.update(kwargs.pop("dashGridOptions", {}))
    return dag.AgGrid(
        id=id, columnDefs=columns, rowData=rows or [],
        defaultColDef={"sortable": True, "filter": True, "resizable": True, "floatingFilter": True, "minWidth": 90,
                       "wrapHeaderText": True, "autoHeaderHeight": True},  # a narrow column wraps its header, never cuts it
        dashGridOptions=options, columnSize="responsiveSizeToFit", style={"height": height} if height else {},
        csvExportParams={"fileName": f"{id}.csv"}, className="ag-theme-alpine", **kwargs)


def fmt_age(seconds) -> str:
    """Human age: 45 s, 12 min, 3 h, 2 d."""
    if seconds is None or seconds != seconds:
        return "never"
    seconds = max(0, float(seconds))
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} d"


def refresh_store() -> dcc.Store:
    return dcc.Store(id="shell-data-version")


def job_button(prefix: str, allowed: bool, title: str, refused_title: str, label: str = "Retrain now") -> html.Div:
    """A button that starts a job, its progress bar and status line (callbacks/job_button.follow_job)."""
    return html.Div([
        dbc.Button([html.I(className="bi bi-arrow-repeat me-1"), label], id=f"{prefix}-retrain", size="sm",
                   color="primary", outline=True, disabled=not allowed, title=title if allowed else refused_title),
        dbc.Progress(id=f"{prefix}-retrain-progress", value=0, striped=True, animated=True,
                     style={"display": "none", "width": "220px", "height": "20px"}, className="ms-2"),
        html.Small(id=f"{prefix}-retrain-status", className="text-muted ms-2"),
        dcc.Store(id=f"{prefix}-retrain-run"),
        dcc.Interval(id=f"{prefix}-retrain-poll", interval=1000, disabled=True),
    ], className="d-flex align-items-center")
