"""Customers: every customer's health score in an AG Grid fed block by block from the database
(infinite row model: sorting and filtering run in SQL, 100 rows per request), quick filters, the
"needs attention now" view, CSV export of the whole filtered set, and how the score is computed.

The view lives in the query string (`view_state`): quick filters, the grid's sort and filters and the
row last opened, so Back, the detail page's "All customers" link and a shared link show the same list;
a view can be saved by name (saved views are per user)."""
from __future__ import annotations

import json

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html

from ui import format as fmt
from ui.components import page_header
from domain.customers.health_config import COMPONENT_LABELS, COMPONENTS, TIER_LABELS, TIERS, component_docs, score_doc
from infra.versions import topic_version
from read.customers import CONTACTED, FOLLOW_UPS, health_config
from read.queue import agents
from read.status import engine_for
from read.views import list_views
from web_context import can, current_email, current_settings

BLOCK = 100
NUMBER = {"filter": "agNumberColumnFilter", "type": "numericColumn"}
TEXT = {"filter": "agTextColumnFilter"}
ONE_DECIMAL = {"function": "params.value == null ? '' : params.value.toFixed(1)"}
TIER_CLASSES = {f"customers-tier customers-tier-{t}": f"params.data && params.data.tier === '{t}'" for t in TIERS}
DAY = {"function": "params.value ? params.value.slice(0, 10) : ''"}
NAME_COLUMN = {"field": "name", "headerName": "Name", "width": 170, "pinned": "left", "tooltipField": "name", **TEXT}
COLUMNS = [
    {"field": "customer_id", "headerName": "Customer", "cellRenderer": "CustomerLink", "pinned": "left",
     "width": 120, **TEXT},
    {"field": "owner_email", "headerName": "Owner", "width": 170, **TEXT},
    {"field": "last_contacted_at", "headerName": "Last contacted", "width": 140, "valueFormatter": DAY,
     "filter": "agDateColumnFilter"},
    {"field": "next_follow_up_at", "headerName": "Next follow-up", "width": 140, "valueFormatter": DAY,
     "filter": "agDateColumnFilter"},
    {"field": "score", "headerName": "Score", "valueFormatter": ONE_DECIMAL, "cellClassRules": TIER_CLASSES,
     "width": 95, "headerTooltip": "Health score 0-100 (higher is healthier); the colour is its tier", **NUMBER},
    {"field": "tier", "headerName": "Tier", "width": 105, "cellClassRules": TIER_CLASSES, **TEXT,
     "filterParams": {"filterOptions": ["equals", "notEqual"]}},
    {"field": "priority", "headerName": "Priority", "width": 95, **NUMBER,
     "headerTooltip": "1 = call first .. 5 = no action; from the most urgent trigger or the tier"},
    {"field": "triggers", "headerName": "Triggers", "width": 200, "tooltipField": "triggers", **TEXT,
     "valueFormatter": fmt.GRID_CODES},
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
ATTENTION_HELP = ("Priority 1-2 (a trigger that needs a call) or a critical score, most urgent first; "
                  "customers contacted and waiting for their follow-up are left out.")
FOLLOW_UP_LABELS = {"due": "Follow-up due", "waiting": "Waiting for follow-up", "none": "No follow-up set"}
CONTACTED_LABELS = {"never": "Never contacted", "7d": "Contacted in 7 days", "30d": "Contacted in 30 days"}
LISTS = ("tier", "segment", "subject", "tutor", "channel", "owner")  # query keys holding comma lists
SINGLE = ("follow_up", "contacted", "sort", "filter", "row", "attention")


def view_state(query: dict) -> dict:
    """The query string -> the view (unknown keys and malformed values are ignored, never an error)."""
    state: dict = {k: [v for v in str(query.get(k) or "").split(",") if v][:50] for k in LISTS}
    state["attention"] = str(query.get("attention", "")) in ("1", "true")
    state["follow_up"] = query.get("follow_up") if query.get("follow_up") in FOLLOW_UPS else None
    state["contacted"] = query.get("contacted") if query.get("contacted") in CONTACTED else None
    col, _, direction = str(query.get("sort") or "").partition(":")
    state["sort"] = (col, direction) if col and direction in ("asc", "desc") else None
    try:
        model = json.loads(str(query.get("filter") or "{}"))
        state["filter"] = model if isinstance(model, dict) else {}
    except ValueError:
        state["filter"] = {}
    state["row"] = str(query.get("row"))[:64] if query.get("row") else None
    return state


def _dropdown(id: str, label: str, placeholder: str, options=None, value=None, multi: bool = True) -> dbc.Col:
    # options the page cannot know yet (filled by a callback) start with the chosen values, so they show
    options = options or [{"label": v, "value": v} for v in (value or [])]
    return dbc.Col([dbc.Label(label, html_for=id, className="small text-muted mb-1"),
                    dcc.Dropdown(id=id, options=options, multi=multi, placeholder=placeholder, value=value)],
                   xs=12, sm=6, lg=2)


def owner_options() -> list[dict]:
    me = current_email()
    people = agents(engine_for(current_settings()))
    return ([{"label": "Me", "value": me}] if me in people else []) + \
        [{"label": a, "value": a} for a in people if a != me] + [{"label": "Unassigned", "value": "none"}]


def filters(state: dict | None = None) -> html.Div:
    s = state or view_state({})
    return html.Div([dbc.Row([
        _dropdown("customers-tier", "Tier", "All tiers", [{"label": TIER_LABELS[t], "value": t} for t in TIERS],
                  s["tier"]),
        _dropdown("customers-segment", "Segment", "All segments", value=s["segment"]),
        _dropdown("customers-subject", "Subject", "All subjects", value=s["subject"]),
        _dropdown("customers-tutor", "Tutor", "All tutors (type to search)", value=s["tutor"]),
        _dropdown("customers-channel", "Acquisition channel", "All channels", value=s["channel"]),
        dbc.Col([dbc.Label("View", className="small text-muted mb-1 d-block"),
                 dbc.Switch(id="customers-attention", label="Needs attention now", value=s["attention"],
                            className="mt-1"),
                 html.Small(ATTENTION_HELP, className="text-muted d-block lh-sm")], xs=12, sm=6, lg=2),
    ], className="g-2 mb-2"), dbc.Row([
        _dropdown("customers-owner", "Owner", "Anyone", owner_options(), s["owner"]),
        _dropdown("customers-follow-up", "Follow-up", "Any", [{"label": v, "value": k} for k, v in FOLLOW_UP_LABELS.items()],
                  s["follow_up"], multi=False),
        _dropdown("customers-contacted", "Last contacted", "Any time or never",
                  [{"label": v, "value": k} for k, v in CONTACTED_LABELS.items()], s["contacted"], multi=False),
        dbc.Col(saved_views(), xs=12, lg=6),
    ], className="g-2 mb-2")])


def saved_views() -> html.Div:
    """Open one of the user's saved views, or save this one by name."""
    views = list_views(engine_for(current_settings()), current_email(), "customers")
    return html.Div([
        dbc.Label("Saved views", html_for="customers-views", className="small text-muted mb-1"),
        dbc.InputGroup([
            dbc.Select(id="customers-views", placeholder="Open a saved view",
                       options=[{"label": v["name"], "value": v["query"]} for v in views]),
            dbc.Input(id="customers-view-name", placeholder="Name this view", maxLength=80),
            dbc.Button("Save view", id="customers-view-save", color="secondary", outline=True),
        ], size="sm"),
        html.Div(id="customers-view-message", className="small"),
    ])


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


def columns(state: dict, personal: bool) -> list[dict]:
    """The grid's columns for this viewer (the name only with personal_data.view), the view's sort set."""
    cols = [NAME_COLUMN] + COLUMNS if personal else list(COLUMNS)
    sort = state.get("sort")
    return [{**c, "sort": sort[1]} if sort and c["field"] == sort[0] else c for c in cols]


def grid(state: dict | None = None, personal: bool = False) -> dag.AgGrid:
    state = state or view_state({})
    opened = json.dumps(state["row"]) if state["row"] else None
    rules = {"customers-row-opened": f"params.data && params.data.customer_id === {opened}"} if opened else {}
    return dag.AgGrid(
        id="customers-grid", rowModelType="infinite", columnDefs=columns(state, personal),
        filterModel=state["filter"], rowClassRules=rules,
        defaultColDef={"sortable": True, "resizable": True, "floatingFilter": True,
                       "filterParams": {"debounceMs": 400, "maxNumConditions": 1}},
        dashGridOptions={"cacheBlockSize": BLOCK, "maxBlocksInCache": 20, "infiniteInitialRowCount": BLOCK,
                         "maxConcurrentDatasourceRequests": 1, "blockLoadDebounceMillis": 50, "rowBuffer": 10,
                         "tooltipShowDelay": 300, "animateRows": False, "enableCellTextSelection": True,
                         "getRowId": {"function": "params.data.customer_id"}},
        style={"height": "620px"}, className="ag-theme-alpine customers-grid")


def layout(**query) -> html.Div:
    state = view_state(query)
    export = html.Div([
        dbc.Button([html.I(className="bi bi-download me-1"), "Export CSV"], id="customers-export", color="secondary",
                   outline=True, size="sm", disabled=not can("customers.export")),
        dcc.Download(id="customers-download"),
    ])
    return html.Div([
        page_header("Customers", "Health score, risk triggers and the next action for every customer. "
                                 "Click a customer to see why and to log outreach.", right=export),
        filters(state),
        html.Div([html.Span(id="customers-count", className="small text-muted"),
                  html.Span(id="customers-message", className="small text-danger ms-2")], className="mb-1"),
        grid(state, can("personal_data.view")),
        html.Div(legend(_config()), className="mt-3"),
        dcc.Store(id="customers-refetched"), dcc.Store(id="customers-refreshed"), dcc.Store(id="customers-opened"),
        dcc.Store(id="customers-search"), dcc.Store(id="customers-view-opened"),
        dcc.Store(id="customers-health-version", data=_health_version()),
    ])


def _health_version() -> int:
    return topic_version(engine_for(current_settings()), "health")


def _config():
    return health_config(current_settings().health_weights)
