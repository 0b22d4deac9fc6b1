"""Recommendation feed callbacks: cards for the chosen status, Implement / Dismiss (audit-logged with the user),
the acceptance rate and its history."""
from __future__ import annotations

from urllib.parse import quote

import dash_bootstrap_components as dbc
import pandas as pd
import plotly.graph_objects as go
from dash import ALL, Input, Output, State, callback, ctx, dcc, html, no_update

from ui import format as fmt
from ui.components import empty_state
from read import forecast as fq
from writes import recommendations
from read import status as queries
from infra.clock import utcnow
from auth.permissions import PERMISSIONS
from web_context import can, current_email, current_settings

PRIORITY_COLORS = {1: "danger", 2: "warning", 3: "primary", 4: "secondary", 5: "light"}
STATUS_COLORS = {"implemented": "success", "dismissed": "secondary", "expired": "light", "pending": "primary"}


def _engine():
    return queries.engine_for(current_settings())


def _left(delta: pd.Timedelta) -> str:
    hours = delta.total_seconds() / 3600
    if hours < 0:
        return "expired"
    return f"expires in {hours:.0f} h" if hours < 48 else f"expires in {hours / 24:.0f} d"


def weekly_value(r) -> float:
    """Dollars a week at stake: revenue won or protected, or the spend saved by a cut."""
    roi = (r.details or {}).get("roi") or {}
    if r.rule == "recruit.cut_spend":
        return float(roi.get("spend_week") or 0)
    return float(roi.get("revenue") or 0)


def _roi(r) -> dbc.Badge:
    """What the money does, in words: a saving, a first-week return (hires keep serving after it), or no spend."""
    roi = (r.details or {}).get("roi") or {}
    spend, revenue = roi.get("spend_week"), roi.get("revenue")
    if r.rule == "recruit.cut_spend" and spend:
        return dbc.Badge(f"Saves {fmt.value(spend, 'money')}/week", color="success", className="recs-roi")
    if r.roi is None or r.roi != r.roi or not spend:
        return dbc.Badge("No spend needed", color="light", text_color="dark", className="recs-roi")
    text = f"{fmt.value(spend, 'money')}/week for {fmt.value(revenue, 'money')} of sessions in week 1"
    return dbc.Badge(text, color="success" if r.roi > 0 else "info", className="recs-roi",
                     title=f"First-week return {r.roi:+.0%}: new tutors keep serving after the first week")


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
        html.Span(fmt.humanize(r.rule), className="me-2"), subject_link,
        html.Span(right, className="ms-auto")], className="d-flex align-items-center"))
    body = dbc.CardBody([
        html.H5(r.action, className="card-title recs-action"),
        html.P(r.reason, className="mb-2 recs-reason-text"),
        html.P([html.Strong("Expected impact: "), r.expected_impact], className="mb-2 small"),
        html.Div([_roi(r), html.Small(["created ", fmt.when(r.created_at)], className="text-muted ms-2")]),
    ])
    if status == "pending":
        footer = dbc.CardFooter(html.Div([
            dbc.Input(id={"type": "recs-reason", "index": rid}, placeholder="Reason or note (optional)", size="sm",
                      maxLength=2000, className="me-2", persistence=True, persistence_type="session"),
            dbc.Button([html.I(className="bi bi-check2 me-1"), "Implement"], id={"type": "recs-implement", "index": rid},
                       color="success", size="sm", className="me-2 text-nowrap", disabled=not can_decide),
            dbc.Button([html.I(className="bi bi-x-lg me-1"), "Dismiss"], id={"type": "recs-dismiss", "index": rid},
                       color="secondary", outline=True, size="sm", className="text-nowrap", disabled=not can_decide),
        ], className="d-flex align-items-center"))
    elif status in ("implemented", "dismissed"):
        reason = f" — “{r.decision_reason}”" if r.decision_reason else ""
        footer = dbc.CardFooter(html.Small([f"{status.capitalize()} by {r.decided_by or 'unknown'} on ",
                                            fmt.when(r.decided_at), reason], className="text-muted recs-decision"))
    else:
        footer = dbc.CardFooter(html.Small(["Expired ", fmt.when(r.expires_at), " without a decision"],
                                           className="text-muted"))
    return dbc.Card([header, body, footer], className="mb-3 shadow-sm recs-card", id=f"recs-card-{rid}")


GROUP_WORDS = {"recruit.cut_spend": "Cut recruiting spend in {n} subjects",
               "recruit.raise_budget": "Raise recruiting budget in {n} subjects",
               "subject.priority": "Make {n} subjects a priority", "onboarding.pause": "Pause onboarding in {n} subjects"}


def feed(df: pd.DataFrame, now: pd.Timestamp, can_decide: bool) -> list:
    """Cards grouped by action, groups and cards sorted by priority then weekly value: one group card that
    opens to its subjects when an action repeats ("Cut recruiting spend in 8 subjects")."""
    df = df.assign(_value=[weekly_value(r) for r in df.itertuples()])
    df = df.sort_values(["priority", "_value"], ascending=[True, False], kind="stable")
    groups = sorted(df.groupby("rule", sort=False), key=lambda g: (g[1]["priority"].min(), -g[1]["_value"].sum()))
    out = []
    for rule, rows in groups:
        cards = [card(r, now, can_decide) for r in rows.itertuples()]
        if len(cards) == 1:
            out += cards
            continue
        top = int(rows["priority"].min())
        title = GROUP_WORDS.get(rule, fmt.humanize(rule) + " ({n})").format(n=len(rows))
        subjects = ", ".join(fmt.humanize(s) for s in rows["subject"].dropna().head(6)) + (" …" if len(rows) > 6 else "")
        out.append(html.Details([
            html.Summary(html.Div([
                dbc.Badge(f"P{top}", color=PRIORITY_COLORS.get(top, "secondary"), className="me-2",
                          text_color="dark" if top == 5 else None),
                html.Span(title, className="fw-semibold me-2 recs-group-title"),
                html.Small(subjects, className="text-muted text-truncate"),
                html.Small(f"{fmt.value(rows['_value'].sum(), 'money')}/week" if rows["_value"].sum() else
                           f"{fmt.count(len(rows))} pending", className="ms-auto ps-2 text-nowrap")],
                className="d-flex align-items-center flex-grow-1"), className="card-header recs-group-summary"),
            html.Div(cards, className="p-2")], className="card mb-3 shadow-sm recs-group",
            id=f"recs-group-{rule.replace('.', '-')}"))
    return out


def signature(df: pd.DataFrame, status: str, can_decide: bool) -> list:
    """What the feed shows: when unchanged, a refresh leaves the feed (and anything typed in it) alone."""
    return [status, can_decide] + [[int(r.id), r.status] for r in df.itertuples()]


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
          Output("recs-feed-shown", "data"),
          Input("recs-filter", "value"), Input("recs-changed", "data"), Input("shell-data-version", "data"),
          State("recs-feed-shown", "data"))
def refresh(status, _changed, _version, feed_shown):
    engine = _engine()
    df, total = fq.list_recommendations(engine, fq.statuses_for(status), 100, 0)
    now = pd.Timestamp(utcnow())
    stats = fq.acceptance(engine)
    rate = fmt.percent(stats["rate"])
    detail = (f"{fmt.count(stats['implemented'])} implemented of {fmt.count(stats['decided'])} decided · "
              f"{fmt.count(stats['pending'])} pending · {fmt.count(stats['expired'])} expired")
    history = fq.acceptance_history(engine)
    chart = (dcc.Graph(id="recs-acceptance-chart", figure=acceptance_figure(history), config={"displayModeBar": False})
             if len(history) else html.Span("No decision yet.", className="text-muted small"))
    if df.empty:
        hint = ("The recommend job runs hourly (python manage.py run-jobs recommend)." if status == "pending"
                else "Nothing here yet.")
        return empty_state(f"No {status} recommendations", hint, id="recs-empty"), "0 shown", rate, detail, chart, []
    shown = f"{fmt.count(len(df))} of {fmt.count(total)} shown" if total > len(df) else f"{fmt.count(total)} shown"
    can_decide = can("recommendation.decide")
    sig = signature(df, status, can_decide)
    if sig == feed_shown:  # nothing new: never redraw under someone typing a reason or about to click
        return no_update, shown, rate, detail, chart, no_update
    return feed(df, now, can_decide), shown, rate, detail, chart, sig


@callback(Output("recs-message", "children"), Output("recs-changed", "data"),
          Input({"type": "recs-implement", "index": ALL}, "n_clicks"),
          Input({"type": "recs-dismiss", "index": ALL}, "n_clicks"),
          State({"type": "recs-reason", "index": ALL}, "value"), State({"type": "recs-reason", "index": ALL}, "id"),
          State("recs-changed", "data"), prevent_initial_call=True)
def decide(_implement, _dismiss, reasons, reason_ids, changed):
    trigger = ctx.triggered_id
    if not trigger or not any(t["value"] for t in ctx.triggered):  # cards being drawn, not a click
        return no_update, no_update
    if not can("recommendation.decide"):
        return dbc.Alert(f"Only {', '.join(PERMISSIONS['recommendation.decide'])} users can decide recommendations.",
                         color="warning", className="py-2", id="recs-error"), no_update
    rec_id = int(trigger["index"])
    if not 0 < rec_id < 2**31:
        return dbc.Alert(f"No recommendation {rec_id}.", color="warning", className="py-2", id="recs-error"), no_update
    action = "implement" if trigger["type"] == "recs-implement" else "dismiss"
    reason = next((v for v, i in zip(reasons, reason_ids) if i["index"] == rec_id), None)
    try:
        recommendations.decide_recommendation(_engine(), rec_id, action, current_email(), reason, via="recommendations page")
    except (recommendations.DecisionConflict, LookupError, ValueError) as exc:
        return dbc.Alert(str(exc), color="warning", className="py-2", id="recs-error", duration=8000), (changed or 0) + 1
    done = "implemented" if action == "implement" else "dismissed"
    return (dbc.Alert(f"Recommendation {rec_id} {done}.", color="success", className="py-2", id="recs-done",
                      duration=5000), (changed or 0) + 1)
