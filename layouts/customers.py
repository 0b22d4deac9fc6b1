"""Customers: every customer's health score in an AG Grid fed block by block from the database
(infinite row model: sorting and filtering run in SQL, 100 rows per request), quick filters, the
"needs attention now" view, CSV export of the whole filtered set, and how the score is computed."""
from __future__ import annotations

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html

from ui.components import page_header
from domain.customers.health_config import COMPONENT_LABELS, COMPONENTS, TIER_LABELS, TIERS, component_docs, score_doc
from infra.versions import topic_version
from read.customers import health_config
from read.status import engine_for
from web_context import current_settings

BLOCK = 100
NUMBER = {"filter": "agNumberColumnFilter", "type": "numericColumn"}
TEXT = {"filter": "agTextColumnFilter"}
ONE_DECIMAL = {"function": "params.value == null ? '' : params.value.toFixed(1)"}
TIER_CLASSES = {f"customers-tier customers-tier-{t}": f"params.data && params.data.tier === '{t}'" for t in TIERS}
COLUMNS = [
    {"field": "customer_id", "headerName": "Customer", "cellRenderer": "CustomerLink", "pinned": "left",
     "width": 120, **TEXT},
    {"field": "score", "headerName": "Score", "valueFormatter": ONE_DECIMAL, "cellClassRules": TIER_CLASSES,
     "width": 95, "headerTooltip": "Health score 0-100 (higher is healthier); the colour is its tier", **NUMBER},
    {"field": "tier", "headerName": "Tier", "width": 105, "cellClassRules": TIER_CLASSES, **TEXT,
     "filterParams": {"filterOptions": ["equals", "notEqual"]}},
    {"field": "priority", "headerName": "Priority", "width": 95, **NUMBER,
     "headerTooltip": "1 = call first .. 5 = no action; from the most urgent trigger or the tier"},
    {"field": "triggers", "headerName": "Triggers", "width": 200, "tooltipField": "triggers", **TEXT},
    {"field": "intervention", "headerName": "Suggested action", "width": 330, "tooltipField": "intervention", **TEXT},
    {"field": "segment", "headerName": "Segment", "width": 110, **TEXT},
    {"field": "primary_subject", "headerName": "Subject", "width": 120, **TEXT},
    {"field": "primary_tutor_id", "headerName": "Tutor", "width": 105, **TEXT},
    {"field": "acquisition_channel", "headerName": "Channel", "width": 120, **TEXT},
    {"field": "region", "headerName": "Region", "width": 90, **TEXT},
    {"field": "velocity", "headerName": "Sessions/week", "width": 125, "valueFormatter": ONE_DECIMAL, **NUMBER,
     "headerTooltip": "Completed sessions in the last 28 days / 4"},
    {"field": "calls_14d", "headerName": "Calls 14d", "width": 100, **NUMBER},
    {"field": "last_session_at", "headerName": "Last session (UTC)", "width": 165, "filter": "agDateColumnFilter"},
    {"field": "churn_probability", "headerName": "Churn risk", "width": 105, **NUMBER,
     "valueFormatter": {"function": "params.value == null ? '' : Math.round(params.value * 100) + ' %'"}},
    *[{"field": f"{k}_score", "headerName": COMPONENT_LABELS[k], "width": 150, "valueFormatter": ONE_DECIMAL,
       **NUMBER} for k in COMPONENTS],
]
ATTENTION_HELP = "Priority 1-2 (a trigger that needs a call) or a critical score, most urgent first."


def _dropdown(id: str, label: str, placeholder: str, options=None) -> dbc.Col:
    return dbc.Col([dbc.Label(label, html_for=id, className="small text-muted mb-1"),
                    dcc.Dropdown(id=id, options=options or [], multi=True, placeholder=placeholder)], xs=12, sm=6, lg=2)


def filters() -> dbc.Row:
    return dbc.Row([
        _dropdown("customers-tier", "Tier", "All tiers", [{"label": TIER_LABELS[t], "value": t} for t in TIERS]),
        _dropdown("customers-segment", "Segment", "All segments"),
        _dropdown("customers-subject", "Subject", "All subjects"),
        _dropdown("customers-tutor", "Tutor", "All tutors"),
        _dropdown("customers-channel", "Acquisition channel", "All channels"),
        dbc.Col([dbc.Label("View", className="small text-muted mb-1 d-block"),
                 dbc.Switch(id="customers-attention", label="Needs attention now", value=False,
                            className="mt-1"),
                 html.Small(ATTENTION_HELP, className="text-muted d-block lh-sm")], xs=12, sm=6, lg=2),
    ], className="g-2 mb-2")


def legend(config=None) -> html.Details:
    docs = component_docs(config)
    return html.Details([
        html.Summary("How the health score is computed", className="small"),
        html.Div([html.P(score_doc(config), className="mb-1"),
                  html.Ul([html.Li([html.Strong(COMPONENT_LABELS[k] + ": "), docs[k]]) for k in COMPONENTS],
                          className="mb-1"),
                  html.P(["Tiers: ", *[html.Span(TIER_LABELS[t], className=f"customers-tier customers-tier-{t} me-1")
                                       for t in TIERS]], className="mb-0")],
                 className="small text-muted mt-2", id="customers-legend-body"),
    ], className="mb-3", id="customers-legend")


def grid() -> dag.AgGrid:
    return dag.AgGrid(
        id="customers-grid", rowModelType="infinite", columnDefs=COLUMNS,
        defaultColDef={"sortable": True, "resizable": True, "floatingFilter": True,
                       "filterParams": {"debounceMs": 400, "maxNumConditions": 1}},
        dashGridOptions={"cacheBlockSize": BLOCK, "maxBlocksInCache": 20, "infiniteInitialRowCount": BLOCK,
                         "maxConcurrentDatasourceRequests": 1, "blockLoadDebounceMillis": 50, "rowBuffer": 10,
                         "tooltipShowDelay": 300, "animateRows": False, "enableCellTextSelection": True,
                         "getRowId": {"function": "params.data.customer_id"}},
        style={"height": "620px"}, className="ag-theme-alpine customers-grid")


def layout(**_query) -> html.Div:
    export = html.Div([
        dbc.Button([html.I(className="bi bi-download me-1"), "Export CSV"], id="customers-export", color="secondary",
                   outline=True, size="sm"),
        dcc.Download(id="customers-download"),
    ])
    return html.Div([
        page_header("Customers", "Health score, risk triggers and the next action for every customer. "
                                 "Click a customer to see why and to log outreach.", right=export),
        filters(),
        html.Div([html.Span(id="customers-count", className="small text-muted"),
                  html.Span(id="customers-message", className="small text-danger ms-2")], className="mb-1"),
        grid(),
        html.Div(legend(_config()), className="mt-3"),
        dcc.Store(id="customers-refetched"), dcc.Store(id="customers-refreshed"), dcc.Store(id="customers-opened"),
        dcc.Store(id="customers-health-version", data=_health_version()),
    ])


def _health_version() -> int:
    return topic_version(engine_for(current_settings()), "health")


def _config():
    return health_config(current_settings().health_weights)
