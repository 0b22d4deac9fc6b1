"""My queue callbacks: the queue table (on load, on data change, on another agent chosen)."""
from __future__ import annotations

import dash_bootstrap_components as dbc
import pandas as pd
from dash import ClientsideFunction, Input, Output, callback, clientside_callback, dcc, html

from domain.customers.triggers import TRIGGERS
from infra.clock import utcnow
from layouts.queue import UNASSIGNED, effectiveness_section
from read.queue import my_queue, queue_counts
from read.status import engine_for
from ui.components import empty_state
from web_context import can, current_email, current_role, current_settings

SHOWN = 200
PRIORITY_COLORS = {1: "danger", 2: "warning", 3: "info", 4: "secondary", 5: "light"}


def _missing(v) -> bool:
    return v is None or (isinstance(v, float) and v != v) or v is pd.NaT


def reach(r, personal: bool) -> list:
    """tel: and mailto: links (personal data: only for roles that may see it)."""
    if not personal:
        return []
    out = []
    if not _missing(r.phone):
        out.append(html.A([html.I(className="bi bi-telephone me-1"), r.phone], href=f"tel:{r.phone}",
                          className="me-2 text-nowrap queue-phone"))
    if not _missing(r.email):
        out.append(html.A([html.I(className="bi bi-envelope me-1"), r.email], href=f"mailto:{r.email}",
                          className="text-nowrap"))
    return out


def risk(r) -> str:
    if not _missing(r.revenue_at_risk):
        return f"${r.revenue_at_risk:,.0f}"
    return "—" if _missing(r.churn_probability) else f"{r.churn_probability * 100:.0f} % churn"


def row(i: int, r, personal: bool, now) -> html.Tr:
    first = r.tasks.split(",")[0]
    action = TRIGGERS[first].intervention if first in TRIGGERS else (r.intervention or "")
    name = r.name if personal and not _missing(r.name) else None
    who = [html.Div(name or r.customer_id, className="fw-semibold"),
           html.Small(r.customer_id, className="text-muted")] if name else [html.Div(r.customer_id, className="fw-semibold")]
    due = pd.Timestamp(r.due_at)
    return html.Tr([
        html.Td(i),
        html.Td(dcc.Link(who, href=f"/customers/{r.customer_id}", className="queue-customer text-decoration-none",
                         id=f"queue-open-{i}")),
        html.Td(reach(r, personal), className="small"),
        html.Td(dbc.Badge(f"P{r.priority}", color=PRIORITY_COLORS.get(int(r.priority), "secondary"))),
        html.Td([html.Div(action), html.Small(r.why or "", className="text-muted")], className="small"),
        html.Td(html.Span(f"{due:%d %b}" + (" · overdue" if r.overdue else ""),
                          className="text-danger fw-semibold" if r.overdue else ""), className="small text-nowrap"),
        html.Td(risk(r), className="small text-nowrap"),
        html.Td("—" if _missing(r.last_contacted_at) else f"{pd.Timestamp(r.last_contacted_at):%d %b}",
                className="small text-nowrap"),
    ], id=f"queue-row-{r.customer_id}")


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
    queue = my_queue(engine, who, now)
    counts = queue_counts(engine, who, now)
    overdue = int(queue["overdue"].sum()) if len(queue) else 0
    badges = html.Div([dbc.Badge(f"{counts['due']} to contact", color="primary", className="me-1", id="queue-due"),
                       dbc.Badge(f"{overdue} overdue", color="danger" if overdue else "secondary", className="me-1"),
                       dbc.Badge(f"{counts['waiting']} waiting for a follow-up", color="secondary",
                                 id="queue-waiting")])
    if queue.empty:
        return empty_state("Nothing to do right now", "New tasks arrive when the scoring job finds a customer "
                                                      "who needs attention; follow-ups come back on their date.",
                           id="queue-empty"), badges
    personal = can("personal_data.view")
    head = html.Thead(html.Tr([html.Th(h) for h in ("#", "Customer", "Reach", "Priority", "What to do", "Due",
                                                     "At risk", "Last contact")]))
    body = html.Tbody([row(i, r, personal, now) for i, r in enumerate(queue.head(SHOWN).itertuples(), 1)])
    more = html.Small(f"Showing the first {SHOWN} of {len(queue):,}.", className="text-muted") \
        if len(queue) > SHOWN else None
    return html.Div([dbc.Table([head, body], hover=True, size="sm", responsive=True, id="queue-table",
                               className="align-middle"), more]), badges


# another agent's queue: the URL says whose, so Back and a shared link show the same
clientside_callback(ClientsideFunction("queue", "agent"), Output("queue-owner", "data"), Input("queue-agent", "value"),
                    prevent_initial_call=True)
