"""Customer detail callbacks: draw the customer (on load and on data change), log a contact with its
follow-up, reassign the owner, and point "All customers" at the list as it was left."""
from __future__ import annotations

import dash_bootstrap_components as dbc
import pandas as pd
import plotly.graph_objects as go
from dash import ClientsideFunction, Input, Output, State, callback, clientside_callback, dcc, html, no_update

from auth import audit
from auth.permissions import NotAllowed
from infra.clock import utcnow
from read.queue import agents
from writes.contacts import default_follow_up
from writes.tasks import reassign
from ui import format as fmt
from ui.charts import MIN_POINTS, too_few
from ui.components import empty_state, section
from layouts.customers.customer_detail import CHANNEL_LABELS, OUTCOME_LABELS
from read import customers as cq
from writes import contacts
from domain.customers.health_config import TIER_LABELS, component_docs
from read.status import engine_for
from web_context import can, current_email, current_role, current_settings, require

TIER_COLORS = {"critical": "danger", "at-risk": "warning", "healthy": "success", "thriving": "primary"}
STATUS_COLORS = {"completed": "#198754", "no_show": "#dc3545", "cancelled": "#adb5bd"}
TRIGGER_COLORS = {"critical": "danger", "at-risk": "warning", "re-engagement": "info", "cross-sell": "success",
                  "nudge": "secondary"}




def _fact_value(value) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return fmt.number(value, 0 if float(value).is_integer() else 2)
    return fmt.humanize(value)


def header(d: dict) -> dbc.Card:
    s, c = d["score"], d["customer"] or {}
    facts = [("Segment", (s or c).get("segment")), ("Region", (s or c).get("region")),
             ("Channel", (s or c).get("acquisition_channel")), ("Signed up", fmt.day(c.get("signup_date"))),
             ("Goal", f"{c.get('goal') or '—'} ({fmt.humanize(c.get('goal_status')).lower()})"),
             ("Status", c.get("status", "—"))]
    if s is None:
        score_block = html.Div("Not scored yet: the scoring job has not run since this customer appeared, "
                               "or the customer has churned.", className="text-muted", id="customer-not-scored")
    else:
        score_block = html.Div([
            html.Div([html.Span(f"{s['score']:.1f}", className="customer-score me-2", id="customer-score"),
                      dbc.Badge(TIER_LABELS.get(s["tier"], s["tier"]), color=TIER_COLORS.get(s["tier"], "secondary"),
                                className="fs-6 align-top", id="customer-tier")]),
            html.Div([f"Priority {s['priority']} · scored ", fmt.when(s["computed_at"])], className="small text-muted"),
        ])
    return dbc.Card(dbc.CardBody(dbc.Row([
        dbc.Col([html.Div("Health score", className="small text-muted"), score_block], md=5),
        dbc.Col(dbc.Row([dbc.Col([html.Div(k, className="small text-muted"), html.Div(_fact_value(v))], xs=6, lg=4,
                                 className="mb-2") for k, v in facts]), md=7),
    ])), className="mb-3 shadow-sm")


def intervention(d: dict) -> dbc.Alert | None:
    s = d["score"]
    if not s or not s.get("intervention"):
        return None
    color = "danger" if s["priority"] <= 2 else "warning" if s["priority"] <= 3 else "info"
    return dbc.Alert([html.Div("Suggested next action", className="small fw-semibold"),
                      html.Div(s["intervention"], id="customer-intervention")], color=color, className="mb-3")


def triggers(d: dict) -> dbc.Card:
    if not d["triggers"]:
        body = html.P("No alert trigger fires for this customer.", className="text-muted mb-0")
    else:
        body = html.Ul([html.Li([
            dbc.Badge(t["severity"], color=TRIGGER_COLORS.get(t["severity"], "secondary"), className="me-2"),
            html.Strong(fmt.humanize(t["name"]), className="me-2", title=t["name"]),
            html.Span(t["why"], className="customer-trigger-why"),
            html.Div(f"Rule: {t['rule']}. Do: {t['intervention']}", className="small text-muted"),
        ], className="mb-2", id=f"customer-trigger-{t['name']}") for t in d["triggers"]], className="list-unstyled mb-0")
    return section("Triggers firing now", body, id="customer-triggers",
                   help_text="The contract's triggers as of the last scoring; each is a task on the customer.")


def _date_range(values: pd.Series) -> list:
    """An x range with room on both sides (one point alone otherwise gets a millisecond-wide axis)."""
    lo, hi = pd.to_datetime(values).min(), pd.to_datetime(values).max()
    pad = max((hi - lo) * 0.05, pd.Timedelta(days=2))
    return [lo - pad, hi + pad]


def history_chart(d: dict) -> dcc.Graph | html.P:
    h = d["history"]
    if h.empty:
        return html.P("No history yet: one point is kept per day from the first scoring.", className="text-muted")
    if len(h) < MIN_POINTS:
        return too_few(len(h), "daily scores", id="customer-history-too-few")
    fig = go.Figure(go.Scatter(x=pd.to_datetime(h["day"]), y=h["score"], mode="lines+markers", name="score",
                               line={"color": "#0d6efd"}, hovertemplate="%{x|%Y-%m-%d}: %{y:.1f}<extra></extra>"))
    bands = [dict(type="rect", xref="paper", x0=0, x1=1, y0=lo, y1=hi, fillcolor=color, line_width=0, layer="below")
             for lo, hi, color in ((0, 40.5, "rgba(220,53,69,0.08)"), (40.5, 70.5, "rgba(255,193,7,0.10)"),
                                   (70.5, 85.5, "rgba(25,135,84,0.08)"), (85.5, 100, "rgba(13,110,253,0.08)"))]
    fig.update_layout(shapes=bands, height=220, margin=dict(l=30, r=10, t=10, b=30), yaxis=dict(range=[0, 100], title=None),
                      xaxis=dict(range=_date_range(h["day"])),
                      showlegend=False, plot_bgcolor="white")
    return dcc.Graph(figure=fig, config={"displayModeBar": False}, id="customer-history-chart")


def component_cards(d: dict) -> dbc.Row:
    docs = component_docs(_config())
    cards = []
    for key, comp in d["components"].items():
        facts = html.Table(html.Tbody([html.Tr([html.Td(k.replace("_", " "), className="text-muted pe-2"),
                                                html.Td(_fact_value(v))]) for k, v in comp.get("facts", {}).items()]),
                           className="small mb-2")
        score = float(comp.get("score") or 0)
        cards.append(dbc.Col(dbc.Card(dbc.CardBody([
            html.Div([html.Span(comp["label"], className="fw-semibold"),
                      html.Span(f"{score:.0f}", className="ms-auto fw-semibold", id=f"customer-component-{key}-score")],
                     className="d-flex"),
            html.Div(f"weight {comp.get('weight', 0) * 100:g} %", className="small text-muted mb-1"),
            dbc.Progress(value=score, color="danger" if score < 41 else "warning" if score < 71 else "success",
                         className="mb-2"),
            html.P(comp.get("why", ""), className="small mb-2", id=f"customer-component-{key}-why"),
            facts,
            html.Details([html.Summary("Formula", className="small"), html.P(docs.get(key, ""), className="small text-muted")]),
        ]), className="h-100 shadow-sm customer-component"), md=6, xl=4, className="mb-3"))
    return dbc.Row(cards, id="customer-components")


def sessions_chart(d: dict):
    s = d["sessions"]
    if s.empty:
        return html.P("No sessions yet.", className="text-muted mb-0")
    s = s.assign(start_time=pd.to_datetime(s["start_time"]))
    fig = go.Figure()
    for status, color in STATUS_COLORS.items():
        part = s[s["status"] == status]
        if part.empty:
            continue
        y = part["rating"].astype(float).fillna(0)  # unrated, no-show and cancelled sessions sit on the axis
        text = [f"{r.subject} with {r.tutor_id}: {status}" + (f", rated {r.rating:g}" if r.rating == r.rating else "")
                for r in part.itertuples()]
        fig.add_trace(go.Scatter(x=part["start_time"], y=y, mode="markers", name=status.replace("_", "-"),
                                 marker={"color": color, "size": 9}, text=text,
                                 hovertemplate="%{x|%Y-%m-%d %H:%M}<br>%{text}<extra></extra>"))
    fig.update_layout(height=240, margin=dict(l=30, r=10, t=10, b=30), plot_bgcolor="white",
                      xaxis=dict(range=_date_range(s["start_time"])),
                      yaxis=dict(range=[-0.3, 5.3], title="rating", tickvals=[0, 1, 2, 3, 4, 5],
                                 ticktext=["none", "1", "2", "3", "4", "5"]),
                      legend=dict(orientation="h", y=1.12))
    counts = s["status"].value_counts()
    summary = " · ".join(f"{fmt.count(counts.get(k, 0))} {fmt.humanize(k).lower()}" for k in STATUS_COLORS)
    return html.Div([html.Div(f"{fmt.count(len(s), 'session')}: {summary}", className="small text-muted"),
                     dcc.Graph(figure=fig, config={"displayModeBar": False}, id="customer-sessions-chart")])


def calls_table(d: dict):
    c = d["calls"]
    if c.empty:
        return html.P("No inbound support calls.", className="text-muted mb-0")
    rows = [html.Tr([html.Td(fmt.when(r.call_date)), html.Td(fmt.humanize(r.reason_code), title=r.reason_code),
                     html.Td(fmt.duration(r.duration_s))]) for r in c.head(50).itertuples()]
    return dbc.Table([html.Thead(html.Tr([html.Th("When"), html.Th("Reason"), html.Th("Duration")])),
                      html.Tbody(rows)], size="sm", className="small mb-0", id="customer-calls")


def contacts_table(contacts: pd.DataFrame):
    if contacts.empty:
        return html.P("No outreach logged yet.", className="text-muted small mb-0", id="customer-contacts-empty")
    rows = [html.Tr([html.Td(fmt.when(r.contacted_at)), html.Td(r.user_email or "—"),
                     html.Td(CHANNEL_LABELS.get(r.channel, r.channel)), html.Td(OUTCOME_LABELS.get(r.outcome, r.outcome)),
                     html.Td(r.note or "", style={"whiteSpace": "pre-wrap"})]) for r in contacts.itertuples()]
    return dbc.Table([html.Thead(html.Tr([html.Th("When"), html.Th("Who"), html.Th("Channel"), html.Th("Outcome"),
                                          html.Th("Note")])), html.Tbody(rows)],
                     size="sm", className="small mb-0", id="customer-contacts-table")


def identity_card(d: dict, personal: bool) -> dbc.Card:
    """Who the customer is and how to reach them (tel: and mailto: links); personal data only if allowed."""
    c = d["customer"] or {}
    lines = [html.H1(f"Customer {d['customer_id']}", className="h5 mb-1", id="customer-title")]
    if personal:
        name, phone, email = c.get("name"), c.get("phone"), c.get("email")
        lines.append(html.Div(name or "No name on file", className="fs-4 fw-semibold" if name else "text-muted",
                              id="customer-name"))
        lines.append(html.Div(html.A([html.I(className="bi bi-telephone me-1"), phone], href=f"tel:{phone}",
                                     id="customer-phone", className="btn btn-success btn-sm mt-1 me-1")
                              if phone else html.Span("No phone on file", className="text-muted small me-2")))
        lines.append(html.Div(html.A([html.I(className="bi bi-envelope me-1"), email], href=f"mailto:{email}",
                                     id="customer-email", className="small") if email else
                              html.Span("No email on file", className="text-muted small")))
    return dbc.Card(dbc.CardBody(lines), className="mb-2 shadow-sm", id="customer-identity-card")


def owner_card(work: dict, choices: list[str] | None) -> dbc.Card:
    """The owner, the last contact and next follow-up; reassign for admin, ops and the owner (`choices`)."""
    owner = work.get("owner_email")
    facts = [html.Div([html.Span("Owner ", className="text-muted"),
                       html.Strong(owner or "nobody yet", id="customer-owner-email")]),
             html.Div([html.Span("Last contacted ", className="text-muted"), fmt.when(work.get("last_contacted_at"))]),
             html.Div([html.Span("Next follow-up ", className="text-muted"),
                       html.Span(fmt.day(work.get("next_follow_up_at")), id="customer-next-follow-up")])]
    if choices:
        facts.append(dbc.InputGroup([
            dbc.Select(id="customer-owner-choice", options=[{"label": a, "value": a} for a in choices], value=owner),
            dbc.Button("Reassign", id="customer-owner-save", color="secondary", outline=True)], size="sm",
            className="mt-2"))
        facts.append(html.Div(id="customer-owner-message", className="mt-1"))
    return dbc.Card(dbc.CardBody(facts, className="small"), className="mb-2 shadow-sm")


def action_card(d: dict, suggestion) -> html.Div:
    """The suggested action and the open tasks behind it (due dates; waiting ones until their follow-up)."""
    tasks = d["tasks"]
    items = [html.Li([dbc.Badge(f"P{r.priority}", color="danger" if r.priority <= 2 else "secondary", className="me-1"),
                      html.Span(r.why or r.trigger),
                      html.Small(f" · due {fmt.short_day(r.due_at)}" if r.status == "open" else
                                 f" · waiting until {fmt.short_day(r.waiting_until)}", className="text-muted")],
                     className="mb-1", id=f"customer-task-{r.trigger}") for r in tasks.itertuples()]
    body = html.Ul(items, className="list-unstyled small mb-0", id="customer-tasks") if items else \
        html.P("No open task for this customer.", className="text-muted small mb-0", id="customer-tasks-none")
    return html.Div([suggestion or html.Div(), section("Tasks", body)])


def _config():
    return cq.health_config(current_settings().health_weights)


def not_found(customer_id) -> html.Div:
    return empty_state(f"No customer {customer_id}",
                       "Check the id, or find the customer on the customers page.", id="customer-not-found")


@callback(Output("customer-content", "children"), Output("customer-contacts", "children"),
          Output("customer-contact-section", "style"), Output("customer-identity", "children"),
          Output("customer-owner", "children"), Output("customer-action", "children"),
          Input("customer-id", "data"), Input("customer-contact-saved", "data"), Input("shell-data-version", "data"))
def draw(customer_id, _saved, _version):
    engine = engine_for(current_settings())
    d = cq.customer_detail(engine, customer_id, personal=can("personal_data.view")) if customer_id else None
    if d is None:
        return not_found(customer_id or ""), None, {"display": "none"}, None, None, None
    owner = d["work"].get("owner_email")
    may_reassign = current_role() in ("admin", "ops") or (can("contact.log") and owner == current_email())
    content = html.Div([
        header(d),
        dbc.Row([dbc.Col(section("Score history", history_chart(d), help_text="One point per day"), lg=5),
                 dbc.Col(triggers(d), lg=7)], className="g-3"),
        html.H2("Score components", className="h5 mt-2"),
        component_cards(d),
        dbc.Row([dbc.Col(section("Sessions", sessions_chart(d), help_text="Rating over time, by status"), lg=7),
                 dbc.Col(section("Inbound calls", calls_table(d), help_text="Newest first, with reason codes"), lg=5)],
                className="g-3"),
    ])
    return (content, contacts_table(d["contacts"]), {}, identity_card(d, can("personal_data.view")),
            owner_card(d["work"], agents(engine) if may_reassign else None), action_card(d, intervention(d)))


@callback(Output("customer-contact-message", "children"), Output("customer-contact-saved", "data"),
          Output("customer-contact-note", "value"),
          Input("customer-contact-save", "n_clicks"), State("customer-id", "data"),
          State("customer-contact-channel", "value"), State("customer-contact-outcome", "value"),
          State("customer-contact-note", "value"), State("customer-contact-saved", "data"),
          State("customer-contact-follow-up", "value"), prevent_initial_call=True)
def log_contact(_n, customer_id, channel, outcome, note, saved, follow_up):
    require("contact.log")
    engine, user = engine_for(current_settings()), current_email()
    try:
        day = _day(follow_up)
        contact_id = contacts.add_contact(engine, customer_id, user, channel, outcome, note, follow_up=day)
    except ValueError as exc:
        return dbc.Alert(str(exc), color="warning", className="py-2 mb-0", id="customer-contact-error"), no_update, no_update
    audit.record(engine, "customer.contact", user_email=user, entity="customer", entity_id=customer_id,
                 detail={"contact_id": contact_id, "channel": channel, "outcome": outcome, "follow_up": day})
    done = f"Logged: {CHANNEL_LABELS.get(channel, channel)}, {OUTCOME_LABELS.get(outcome, outcome).lower()}. " \
           f"Follow up on {day:%a %d %b}: the customer is out of the queue until then."
    return dbc.Alert(done, color="success", className="py-2 mb-0", id="customer-contact-done", duration=6000), \
        (saved or 0) + 1, ""


def _day(value):
    """The follow-up date field (YYYY-MM-DD) -> midnight UTC of that day; ValueError with a message."""
    if not value:
        raise ValueError("Choose when to follow up.")
    try:
        return pd.Timestamp(str(value)[:10]).to_pydatetime().replace(tzinfo=None)
    except (TypeError, ValueError):
        raise ValueError("The follow-up date is not a date.") from None


@callback(Output("customer-contact-follow-up", "value"), Input("customer-contact-outcome", "value"),
          prevent_initial_call=True)
def follow_up_for(outcome):
    """The follow-up the outcome suggests (tomorrow after no answer, a week after reaching them ...)."""
    return f"{default_follow_up(outcome, utcnow()):%Y-%m-%d}"


@callback(Output("customer-owner-message", "children"), Output("customer-contact-saved", "data", allow_duplicate=True),
          Input("customer-owner-save", "n_clicks"), State("customer-owner-choice", "value"), State("customer-id", "data"),
          State("customer-contact-saved", "data"), prevent_initial_call=True)
def change_owner(_n, new_owner, customer_id, saved):
    engine, user = engine_for(current_settings()), current_email()
    try:
        old = reassign(engine, customer_id, new_owner, user, current_role())
    except (NotAllowed, ValueError) as exc:
        return dbc.Alert(str(exc), color="warning", className="py-1 mb-0 small", id="customer-owner-error"), no_update
    audit.record(engine, "customer.reassign", user_email=user, entity="customer", entity_id=customer_id,
                 detail={"from": old, "to": new_owner})
    return dbc.Alert(f"Now owned by {new_owner}.", color="success", className="py-1 mb-0 small", duration=5000,
                     id="customer-owner-done"), (saved or 0) + 1


clientside_callback(ClientsideFunction("customers", "backHref"), Output("customer-back", "href"),
                    Input("customer-id", "data"))
