"""My queue callbacks: the queue (on load, on data change, on another agent chosen) and the effectiveness card.

The queue is an AG Grid fed with plain rows (one component; a table of Dash components took the
renderer 10-50 s at 200 rows on a busy machine); links and click-to-call are cell renderers
(assets/queue.js)."""
from __future__ import annotations

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
import pandas as pd
from dash import ClientsideFunction, Input, Output, callback, clientside_callback, html

from domain.customers.triggers import TRIGGERS
from infra.clock import utcnow
from layouts.customers.queue import UNASSIGNED, effectiveness_section
from read.queue import queue_view
from read.status import engine_for
from ui import format as fmt
from ui.components import empty_state
from web_context import can, current_email, current_role, current_settings

# A queue is worked from the top: past the first SHOWN customers the grid only cost seconds and megabytes (the
# unassigned queue holds ~33,000 at 50,000 customers); the badge says how many there are in all.
SHOWN = 500
PRIORITY_CLASSES = {"text-danger fw-semibold": "params.value <= 1", "text-warning fw-semibold": "params.value == 2"}
COLUMNS = [
    {"headerName": "#", "valueGetter": {"function": "params.node.rowIndex + 1"}, "width": 60, "sortable": False},
    {"field": "who", "headerName": "Customer", "cellRenderer": "QueueCustomer", "width": 210, "pinned": "left"},
    {"field": "phone", "headerName": "Reach", "cellRenderer": "QueueReach", "width": 220, "sortable": False},
    {"field": "priority", "headerName": "Priority", "width": 95, "cellClassRules": PRIORITY_CLASSES,
     "valueFormatter": {"function": "'P' + params.value"}},
    {"field": "action", "headerName": "What to do", "width": 330, "tooltipField": "why", "wrapText": False},
    {"field": "why", "headerName": "Why", "width": 260, "tooltipField": "why"},
    {"field": "due", "headerName": "Due", "width": 130,
     "cellClassRules": {"text-danger fw-semibold": "params.data && params.data.overdue"}},
    {"field": "risk", "headerName": "At risk", "width": 110},
    {"field": "last_contact", "headerName": "Last contact", "width": 120},
]


def _missing(v) -> bool:
    return v is None or v is pd.NaT or (isinstance(v, float) and v != v)


def _text(v) -> str | None:
    return None if _missing(v) else str(v)


def risk(r) -> str:
    if not _missing(r.revenue_at_risk):
        return fmt.money(r.revenue_at_risk)
    return "—" if _missing(r.churn_probability) else f"{fmt.percent(r.churn_probability)} churn"


def rows(queue: pd.DataFrame, personal: bool) -> list[dict]:
    """Plain JSON rows for the grid; contact details only for roles that may see personal data."""
    out = []
    for r in queue.itertuples():
        first = r.tasks.split(",")[0]
        name = _text(r.name) if personal else None
        out.append({
            "customer_id": r.customer_id, "who": name or r.customer_id, "name": name,
            "phone": _text(r.phone) if personal else None, "email": _text(r.email) if personal else None,
            "priority": int(r.priority), "action": TRIGGERS[first].intervention if first in TRIGGERS else (r.intervention or ""),
            "why": r.why or "", "due": fmt.short_day(r.due_at) + (" · overdue" if r.overdue else ""),
            "overdue": bool(r.overdue), "risk": risk(r),
            "last_contact": fmt.short_day(r.last_contacted_at),
        })
    return out


def queue_grid(data: list[dict]) -> dag.AgGrid:
    return dag.AgGrid(
        id="queue-table", rowData=data, columnDefs=COLUMNS,
        defaultColDef={"sortable": True, "resizable": True},
        dashGridOptions={"animateRows": False, "enableCellTextSelection": True, "tooltipShowDelay": 300,
                         "getRowId": {"function": "params.data.customer_id"}, "suppressCellFocus": True},
        style={"height": f"{min(620, 90 + 42 * len(data))}px"}, className="ag-theme-alpine queue-grid")


def count_badges(counts: dict, overdue: int, shown: int | None = None) -> html.Div:
    """"3,340 to contact · 12 overdue · 40 waiting for a follow-up" as badges; `shown`: only the most urgent
    this many are listed (the overdue count is then of those)."""
    more = f" (the {fmt.count(shown)} most urgent shown)" if shown is not None else ""
    return html.Div([dbc.Badge(f"{fmt.count(counts['due'])} to contact{more}", color="primary", className="me-1",
                               id="queue-due"),
                     dbc.Badge(f"{fmt.count(overdue)} overdue{' of these' if more else ''}",
                               color="danger" if overdue else "secondary", className="me-1"),
                     dbc.Badge(f"{fmt.count(counts['waiting'])} waiting for a follow-up", color="secondary",
                               id="queue-waiting")])


def _whose(owner: str | None) -> str | None:
    """The queue asked for: admin and ops may look at anyone's (None: the unassigned), an agent at its own."""
    if current_role() in ("admin", "ops"):
        return None if owner in (None, UNASSIGNED) else owner
    return current_email()


@callback(Output("queue-effect-box", "children"), Input("queue-owner", "data"))
def effect(owner):
    """Whether outreach works: the agent's own contacts, or everyone's for the unassigned view."""
    return effectiveness_section("queue-effect", _whose(owner))


@callback(Output("queue-table-wrap", "children"), Output("queue-counts", "children"),
          Input("queue-owner", "data"), Input("shell-data-version", "data"))
def draw(owner, _version):
    engine, now = engine_for(current_settings()), utcnow()
    who = _whose(owner)
    if who is None and current_role() not in ("admin", "ops"):
        return empty_state("Sign in as a customer-success agent to see your queue."), None
    queue, counts = queue_view(engine, who, now.replace(second=0, microsecond=0), SHOWN)
    overdue = int(queue["overdue"].sum()) if len(queue) else 0
    badges = count_badges(counts, overdue, shown=len(queue) if counts["due"] > len(queue) else None)
    if queue.empty:
        return empty_state("Nothing to do right now", "New tasks arrive when the scoring job finds a customer "
                                                      "who needs attention; follow-ups come back on their date.",
                           id="queue-empty"), badges
    return queue_grid(rows(queue, can("personal_data.view"))), badges


# another agent's queue: the URL says whose, so Back and a shared link show the same
clientside_callback(ClientsideFunction("queue", "agent"), Output("queue-owner", "data"), Input("queue-agent", "value"),
                    prevent_initial_call=True)
