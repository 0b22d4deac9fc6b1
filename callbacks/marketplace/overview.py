"""Overview callbacks: read the newest snapshot and draw the cards (value, trend, status, sparkline, links).

A refresh compares each card with what the page shows (overview-shown) and redraws only the changed ones;
a card whose value changed flashes for a moment (assets/shell.css `overview-changed`).
"""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, callback, dcc, html, no_update

from callbacks.job_button import follow_job
from domain.marketplace import __doc__ as DEFINITIONS
from layouts.marketplace.explorer import explorer_href
from layouts.marketplace.overview import CARD_ORDER
from read import status as queries
from ui import format as fmt
from ui.charts import sparkline
from ui.components import empty_state
from web_context import current_settings

STATUS_COLOR = {"green": "success", "yellow": "warning", "red": "danger", "grey": "secondary"}
STATUS_LABEL = {"green": "good", "yellow": "watch", "red": "act now", "grey": "no data"}
ARROWS = {"up": "bi-arrow-up-right", "down": "bi-arrow-down-right", "flat": "bi-arrow-right"}
LINE_COLORS = {"success": "#198754", "warning": "#cc9a06", "danger": "#dc3545"}


def card(c: dict, changed: bool = False) -> dbc.Card:
    color = STATUS_COLOR[c["status"]]
    detail = []
    if c.get("previous") is not None:
        detail.append(html.Span([html.I(className=f"bi {ARROWS[c['trend']]} me-1"),
                                 f"vs {fmt.value(c['previous'], c['unit'])}"], className="small text-muted"))
    if c.get("target") is not None:
        detail.append(html.Span(f" · target {fmt.number(c['target'])}", className="small text-muted"))
    spark = sparkline(c.get("sparkline") or [], LINE_COLORS.get(color, "#6c757d"))
    return dbc.Card(dbc.CardBody([
        html.Div([html.A(c["label"], href=c["link"], className="small text-muted text-decoration-none stretched-link"),
                  html.Span(className=f"badge rounded-pill bg-{color} ms-auto", children=STATUS_LABEL[c["status"]])],
                 className="d-flex align-items-center"),
        html.Div(fmt.value(c["value"], c["unit"]), className=f"display-6 fw-semibold text-{color}",
                 id=f"overview-value-{c['key']}"),
        html.Div(detail),
        spark,
        html.Div("last point: today so far" if spark else "", className="overview-partial-note text-muted"),
        html.Div(c.get("why", ""), className="small text-muted mt-1"),
        html.A([html.I(className="bi bi-activity me-1"), "History"], href=explorer_href(f"overview.{c['key']}"),
               className="small overview-history-link position-relative", style={"zIndex": 2},
               id=f"overview-history-{c['key']}"),
    ]), className=f"h-100 shadow-sm border-{color} overview-card{' overview-changed' if changed else ''}",
        id=f"overview-card-{c['key']}")


def _shown(c: dict) -> list:
    """What a card shows, to tell whether a refresh changed it."""
    return [c.get("value"), c.get("previous"), c.get("status"), c.get("target"), c.get("why"), c.get("sparkline")]


@callback(Output({"type": "overview-slot", "key": ALL}, "children"), Output("overview-shown", "data"),
          Output("overview-computed-at", "children"), Output("overview-empty", "children"),
          Input("shell-data-version", "data"), Input("shell-refresh", "n_intervals"), Input("overview-refresh", "n_clicks"),
          State("overview-shown", "data"))
def refresh(_version, _n, _clicks, shown):
    snapshot = queries.overview_snapshot(queries.engine_for(current_settings()))
    if not snapshot:
        return ([None] * len(CARD_ORDER), {}, "",
                empty_state("No marketplace data yet", "Load the demo (python manage.py demo) or connect a source, "
                            "then run python manage.py run-jobs overview.", id="overview-empty-state"))
    cards, shown = snapshot["cards"], shown or {}
    slots, now_shown = [], {}
    for key in CARD_ORDER:
        c = cards.get(key)
        now_shown[key] = _shown(c) if c else None
        if now_shown[key] == shown.get(key):
            slots.append(no_update)  # unchanged: leave the card (and anything it holds) alone
        else:
            changed = key in shown and c is not None and (shown[key] or [None])[0] != c.get("value")
            slots.append(card(c, changed) if c else None)
    return slots, now_shown, ["Computed ", fmt.when(snapshot["computed_at"])], None


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


follow_job("overview-backfill", "backfill", "history.backfill",
           lambda d: f"History filled for {d.get('days', 0)} days ({d.get('from')} to {d.get('to')}).")
