"""Overview callbacks: read the newest snapshot and draw the cards (value, trend, status, sparkline, link)."""
from __future__ import annotations

import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import Input, Output, callback, dcc, html

from ui.components import empty_state
from layouts.overview import CARD_ORDER
from read import status as queries
from domain.marketplace import __doc__ as DEFINITIONS
from web_context import current_settings

STATUS_COLOR = {"green": "success", "yellow": "warning", "red": "danger", "grey": "secondary"}
STATUS_LABEL = {"green": "good", "yellow": "watch", "red": "act now", "grey": "no data"}
ARROWS = {"up": "bi-arrow-up-right", "down": "bi-arrow-down-right", "flat": "bi-arrow-right"}


def fmt(value, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "percent":
        return f"{value:.0%}"
    if unit == "rating":
        return f"{value:.2f}"
    if unit == "ratio":
        return f"{value:.2f}"
    return f"{value:,.0f}"


def sparkline(points: list, color: str) -> dcc.Graph | None:
    values = [(d, v) for d, v in points if v is not None]
    if len(values) < 2:
        return None
    fig = go.Figure(go.Scatter(x=[d for d, _ in values], y=[v for _, v in values], mode="lines",
                               line={"width": 2, "color": color}, hoverinfo="x+y"))
    fig.update_layout(margin=dict(l=0, r=0, t=0, b=0), height=40, xaxis_visible=False, yaxis_visible=False,
                      paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)", showlegend=False)
    return dcc.Graph(figure=fig, config={"displayModeBar": False, "staticPlot": True}, style={"height": "40px"})


def card(c: dict) -> dbc.Col:
    color = STATUS_COLOR[c["status"]]
    line_color = {"success": "#198754", "warning": "#cc9a06", "danger": "#dc3545"}.get(color, "#6c757d")
    detail = []
    if c.get("previous") is not None:
        detail.append(html.Span([html.I(className=f"bi {ARROWS[c['trend']]} me-1"),
                                 f"vs {fmt(c['previous'], c['unit'])}"], className="small text-muted"))
    if c.get("target") is not None:
        detail.append(html.Span(f" · target {c['target']:,.0f}", className="small text-muted"))
    return dbc.Col(html.A(dbc.Card(dbc.CardBody([
        html.Div([html.Span(c["label"], className="small text-muted"),
                  html.Span(className=f"badge rounded-pill bg-{color} ms-auto", children=STATUS_LABEL[c["status"]])],
                 className="d-flex align-items-center"),
        html.Div(fmt(c["value"], c["unit"]), className=f"display-6 fw-semibold text-{color}",
                 id=f"overview-value-{c['key']}"),
        html.Div(detail),
        sparkline(c.get("sparkline") or [], line_color),
        html.Div(c.get("why", ""), className="small text-muted mt-1"),
    ]), className=f"h-100 shadow-sm border-{color} overview-card", id=f"overview-card-{c['key']}"),
        href=c["link"], className="text-decoration-none text-reset"), xs=12, sm=6, xl=3, className="mb-3")


@callback(Output("overview-cards", "children"), Output("overview-computed-at", "children"),
          Input("shell-data-version", "data"), Input("shell-refresh", "n_intervals"), Input("overview-refresh", "n_clicks"))
def refresh(_version, _n, _clicks):
    snapshot = queries.overview_snapshot(queries.engine_for(current_settings()))
    if not snapshot:
        return empty_state("No marketplace data yet",
                           "Load the demo (python manage.py demo) or connect a source, then run "
                           "python manage.py run-jobs overview.", id="overview-empty"), ""
    cards = snapshot["cards"]
    row = dbc.Row([card(cards[k]) for k in CARD_ORDER if k in cards])
    return row, f"Computed {snapshot['computed_at'][:19].replace('T', ' ')} UTC"


@callback(Output("overview-definitions", "children"), Input("overview-refresh", "n_clicks"))
def definitions(_n):
    lines = [ln.strip("- ").strip() for ln in DEFINITIONS.split("Definitions (also shown on the page):")[1].strip().splitlines()]
    items, current = [], ""
    for ln in lines:
        if not ln:
            continue
        if ":" in ln.split(" ")[0]:
            if current:
                items.append(current)
            current = ln
        else:
            current += " " + ln
    items.append(current)
    return html.Ul([html.Li(i) for i in items])
