"""Recommendation feed callbacks: cards for the chosen status, Implement / Dismiss (audit-logged with the user),
the acceptance rate and its history."""
from __future__ import annotations

from urllib.parse import quote

import dash_bootstrap_components as dbc
import pandas as pd
import plotly.graph_objects as go
from dash import ALL, Input, Output, State, callback, ctx, dcc, html, no_update

from ui.components import empty_state
from layouts.recommendations import RULE_LABELS
from read import forecast as fq
from writes import recommendations
from read import status as queries
from infra.clock import utcnow
from web_context import current_email, current_role, current_settings

PRIORITY_COLORS = {1: "danger", 2: "warning", 3: "primary", 4: "secondary", 5: "light"}
STATUS_COLORS = {"implemented": "success", "dismissed": "secondary", "expired": "light", "pending": "primary"}


def _engine():
    return queries.engine_for(current_settings())


def _left(delta: pd.Timedelta) -> str:
    hours = delta.total_seconds() / 3600
    if hours < 0:
        return "expired"
    return f"expires in {hours:.0f} h" if hours < 48 else f"expires in {hours / 24:.0f} d"


def _roi(roi) -> dbc.Badge:
    if roi is None or roi != roi:
        return dbc.Badge("ROI n/a (no spend)", color="light", text_color="dark", className="recs-roi")
    return dbc.Badge(f"ROI {roi:+.0%} first week", color="success" if roi > 0 else "danger", className="recs-roi")


def card(r, now: pd.Timestamp, can_decide: bool = True) -> dbc.Card:
    rid = int(r.id)
    subject_link = html.A(r.subject, href=f"/forecast?subject={quote(r.subject)}", className="fw-semibold",
                          title="Open the forecast for this subject") if r.subject else None
    status = r.status
    right = (html.Small(_left(pd.Timestamp(r.expires_at) - now), className="text-muted") if status == "pending"
             else dbc.Badge(status, color=STATUS_COLORS.get(status, "secondary"), className="recs-status",
                            text_color="dark" if status == "expired" else None))
    header = dbc.CardHeader(html.Div([
        dbc.Badge(f"P{int(r.priority)}", color=PRIORITY_COLORS.get(int(r.priority), "secondary"), className="me-2",
                  text_color="dark" if int(r.priority) == 5 else None, title="Priority: 1 = act first"),
        html.Span(RULE_LABELS.get(r.rule, r.rule), className="me-2"), subject_link,
        html.Span(right, className="ms-auto")], className="d-flex align-items-center"))
    body = dbc.CardBody([
        html.H5(r.action, className="card-title recs-action"),
        html.P(r.reason, className="mb-2 recs-reason-text"),
        html.P([html.Strong("Expected impact: "), r.expected_impact], className="mb-2 small"),
        html.Div([_roi(r.roi), html.Small(f"created {pd.Timestamp(r.created_at):%d %b %H:%M} UTC", className="text-muted ms-2")]),
    ])
    if status == "pending":
        footer = dbc.CardFooter(html.Div([
            dbc.Input(id={"type": "recs-reason", "index": rid}, placeholder="Reason or note (optional)", size="sm",
                      maxLength=2000, className="me-2"),
            dbc.Button([html.I(className="bi bi-check2 me-1"), "Implement"], id={"type": "recs-implement", "index": rid},
                       color="success", size="sm", className="me-2 text-nowrap", disabled=not can_decide),
            dbc.Button([html.I(className="bi bi-x-lg me-1"), "Dismiss"], id={"type": "recs-dismiss", "index": rid},
                       color="secondary", outline=True, size="sm", className="text-nowrap", disabled=not can_decide),
        ], className="d-flex align-items-center"))
    elif status in ("implemented", "dismissed"):
        reason = f" — “{r.decision_reason}”" if r.decision_reason else ""
        footer = dbc.CardFooter(html.Small(f"{status.capitalize()} by {r.decided_by or 'unknown'} on "
                                           f"{pd.Timestamp(r.decided_at):%d %b %Y %H:%M} UTC{reason}",
                                           className="text-muted recs-decision"))
    else:
        footer = dbc.CardFooter(html.Small(f"Expired {pd.Timestamp(r.expires_at):%d %b %Y %H:%M} UTC without a decision",
                                           className="text-muted"))
    return dbc.Card([header, body, footer], className="mb-3 shadow-sm recs-card", id=f"recs-card-{rid}")


def acceptance_figure(history: pd.DataFrame) -> go.Figure:
    fig = go.Figure()
    fig.add_trace(go.Bar(x=history["day"], y=history["implemented"], name="implemented", marker_color="#198754"))
    fig.add_trace(go.Bar(x=history["day"], y=history["dismissed"], name="dismissed", marker_color="#adb5bd"))
    fig.add_trace(go.Scatter(x=history["day"], y=history["cumulative_rate"], name="acceptance rate", yaxis="y2",
                             mode="lines+markers", line=dict(color="#0d6efd")))
    fig.update_layout(barmode="stack", height=220, margin=dict(l=30, r=40, t=10, b=30), plot_bgcolor="white",
                      legend=dict(orientation="h", y=-0.25),
                      yaxis2=dict(overlaying="y", side="right", range=[0, 1], tickformat=".0%"))
    return fig


@callback(Output("recs-feed", "children"), Output("recs-count", "children"), Output("recs-acceptance-rate", "children"),
          Output("recs-acceptance-detail", "children"), Output("recs-acceptance-box", "children"),
          Input("recs-filter", "value"), Input("recs-changed", "data"), Input("shell-data-version", "data"))
def refresh(status, _changed, _version):
    engine = _engine()
    df, total = fq.list_recommendations(engine, fq.statuses_for(status), 100, 0)
    now = pd.Timestamp(utcnow())
    stats = fq.acceptance(engine)
    rate = "—" if stats["rate"] is None else f"{stats['rate']:.0%}"
    detail = (f"{stats['implemented']} implemented of {stats['decided']} decided · {stats['pending']} pending · "
              f"{stats['expired']} expired")
    history = fq.acceptance_history(engine)
    chart = (dcc.Graph(id="recs-acceptance-chart", figure=acceptance_figure(history), config={"displayModeBar": False})
             if len(history) else html.Span("No decision yet.", className="text-muted small"))
    if df.empty:
        hint = ("The recommend job runs hourly (python manage.py run-jobs recommend)." if status == "pending"
                else "Nothing here yet.")
        return empty_state(f"No {status} recommendations", hint, id="recs-empty"), "0 shown", rate, detail, chart
    shown = f"{len(df)} of {total} shown" if total > len(df) else f"{total} shown"
    can_decide = current_role() in fq.DECIDE_ROLES
    return [card(r, now, can_decide) for r in df.itertuples()], shown, rate, detail, chart


@callback(Output("recs-message", "children"), Output("recs-changed", "data"),
          Input({"type": "recs-implement", "index": ALL}, "n_clicks"),
          Input({"type": "recs-dismiss", "index": ALL}, "n_clicks"),
          State({"type": "recs-reason", "index": ALL}, "value"), State({"type": "recs-reason", "index": ALL}, "id"),
          State("recs-changed", "data"), prevent_initial_call=True)
def decide(_implement, _dismiss, reasons, reason_ids, changed):
    trigger = ctx.triggered_id
    if not trigger or not any(t["value"] for t in ctx.triggered):  # cards being drawn, not a click
        return no_update, no_update
    if current_role() not in fq.DECIDE_ROLES:
        return dbc.Alert(f"Only {', '.join(fq.DECIDE_ROLES)} users can decide recommendations.", color="warning",
                         className="py-2", id="recs-error"), no_update
    rec_id = int(trigger["index"])
    action = "implement" if trigger["type"] == "recs-implement" else "dismiss"
    reason = next((v for v, i in zip(reasons, reason_ids) if i["index"] == rec_id), None)
    try:
        recommendations.decide_recommendation(_engine(), rec_id, action, current_email(), reason, via="recommendations page")
    except (recommendations.DecisionConflict, LookupError, ValueError) as exc:
        return dbc.Alert(str(exc), color="warning", className="py-2", id="recs-error", duration=8000), (changed or 0) + 1
    done = "implemented" if action == "implement" else "dismissed"
    return (dbc.Alert(f"Recommendation {rec_id} {done}.", color="success", className="py-2", id="recs-done",
                      duration=5000), (changed or 0) + 1)
