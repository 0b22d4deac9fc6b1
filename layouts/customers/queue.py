"""My queue: the customers a CS agent should contact now, most urgent first, with how to reach them,
and whether outreach works (`effectiveness_section`, a card the churn page includes too).

The default home of CS users (`CS_HOME`; the shell's role-based redirect reads it). Admin and ops
choose whose queue to look at (`/queue?agent=...`, "unassigned" for customers without an owner)."""
from __future__ import annotations

import dash_bootstrap_components as dbc
import pandas as pd
from dash import dcc, html

from domain.customers.effectiveness import OUTCOME_DAYS
from infra.clock import utcnow
from read.effectiveness import intervention_effect
from read.queue import agents
from read.status import engine_for
from ui import format as fmt
from ui.components import page_header, section
from web_context import current_email, current_role, current_settings

CS_HOME = "/queue"
UNASSIGNED = "unassigned"


# --- intervention effectiveness: contacted vs comparable customers ------------------------------

GROUP_LABELS = {"all": "All contacts", "channel": "Channel", "outcome": "Outcome"}
HELP = (f"Customers contacted vs comparable customers not yet contacted (same score band and open triggers on "
        f"the day of contact), over the {OUTCOME_DAYS} days after. 95 % intervals; observational, not an experiment.")


def _interval(lo, hi, scale: float, unit: str) -> str:
    if lo is None or pd.isna(lo):
        return ""
    return f" [{lo * scale:+.1f}, {hi * scale:+.1f}]{unit}"


def effect_table(df: pd.DataFrame, id: str) -> html.Div:
    if df.empty or int(df["contacted"].fillna(0).sum()) == 0:
        return html.P(f"No contact is {OUTCOME_DAYS} days old yet with a comparable customer: the comparison "
                      "appears once outcomes are known.", className="text-muted small mb-0", id=f"{id}-empty")
    rows = []
    for r in df.itertuples():
        label = GROUP_LABELS["all"] if r.group == "all" else f"{GROUP_LABELS.get(r.group, r.group)}: {r.value}"
        if not r.contacted:
            rows.append(html.Tr([html.Td(label), html.Td("0"), html.Td(f"{fmt.count(r.unmatched)} without a match", colSpan=3)]))
            continue
        rows.append(html.Tr([
            html.Td(label), html.Td(f"{r.contacted:,} vs {r.comparable:,}"),
            html.Td(f"{fmt.percent(r.churn_contacted, 1)} vs {fmt.percent(r.churn_comparable, 1)}"),
            html.Td(f"{r.churn_diff * 100:+.1f} pp" + _interval(r.churn_low, r.churn_high, 100, " pp")),
            html.Td(f"{r.velocity_contacted:.2f} vs {r.velocity_comparable:.2f}/wk · {r.velocity_diff:+.2f}"
                    + _interval(r.velocity_low, r.velocity_high, 1, "")),
        ]))
    head = html.Thead(html.Tr([html.Th(h) for h in ("", "Contacted vs comparable", f"{OUTCOME_DAYS}-day churn",
                                                     "Difference (95 % CI)", "Sessions/week after")]))
    return dbc.Table([head, html.Tbody(rows)], size="sm", className="small mb-0", id=f"{id}-table", responsive=True)


def effectiveness_section(id: str = "effectiveness", agent: str | None = None) -> dbc.Card:
    """The card; `agent` limits the contacted customers to one agent's."""
    at = utcnow().replace(minute=0, second=0, microsecond=0)
    df = intervention_effect(engine_for(current_settings()), at, agent)
    title = "Does outreach work?" + (" (your contacts)" if agent else "")
    return section(title, effect_table(df, id), id=id, help_text=HELP)


def agent_choice(selected: str | None) -> dbc.Col | None:
    """Whose queue: admin and ops choose any agent's or the unassigned customers'; an agent sees its own."""
    if current_role() not in ("admin", "ops"):
        return None
    options = [{"label": a, "value": a} for a in agents(engine_for(current_settings()))]
    options.append({"label": "Unassigned customers", "value": UNASSIGNED})
    return dbc.Col([dbc.Label("Queue of", html_for="queue-agent", className="small text-muted mb-1"),
                    dcc.Dropdown(id="queue-agent", options=options, value=selected, clearable=False)], md=4)


def layout(agent: str | None = None, **_query) -> html.Div:
    role = current_role()
    mine = current_email()
    if role in ("admin", "ops"):
        known = set(agents(engine_for(current_settings()))) | {UNASSIGNED}
        selected = agent if agent in known else (mine if mine in known else UNASSIGNED)
    else:
        selected = mine
    choice = agent_choice(selected)
    return html.Div([
        page_header("My queue", "The customers to contact now, most urgent first (priority, then revenue at risk). "
                                "Log the call on the customer's page: it leaves the queue until the follow-up date."),
        dbc.Row([c for c in [choice, dbc.Col(html.Div(id="queue-counts", className="pt-md-4"))] if c is not None],
                className="g-2 mb-2"),
        dcc.Store(id="queue-owner", data=selected),
        html.Div(id="queue-table-wrap"),
        # drawn by a callback once the queue is on screen: the comparison reads months of contacts and sessions
        dcc.Loading(html.Div(id="queue-effect-box"), type="dot", delay_show=300),
    ])
