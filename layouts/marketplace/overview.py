"""Overview: the marketplace's health at a glance, refreshed live.

Each card has its own slot, so a refresh redraws only the cards whose numbers changed (and flashes them).
"""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from ui.components import job_button, page_header
from web_context import can

CARD_ORDER = ["sessions_this_hour", "sessions_today", "avg_rating_7d", "tutor_utilization",
              "csat_7d", "supply_balance", "customers_at_risk", "open_critical_alerts"]


def layout(**_query) -> html.Div:
    refresh = dbc.Button([html.I(className="bi bi-arrow-clockwise me-1"), "Refresh"], id="overview-refresh",
                         color="secondary", outline=True, size="sm")
    slots = [dbc.Col(id={"type": "overview-slot", "key": key}, xs=12, sm=6, xl=3, className="mb-3")
             for key in CARD_ORDER]
    return html.Div([
        page_header("Marketplace overview", "Live health of sessions, tutors, customers and supply.",
                    right=html.Div([html.Small(id="overview-computed-at", className="text-muted me-2"), refresh])),
        html.Div(id="overview-empty"),
        dbc.Row(slots, id="overview-cards"),
        dcc.Store(id="overview-shown", data={}),
        html.Div([html.Small("Trends need history: compute the past weeks' health scores, tutor trends and card "
                             "history from the data already in the store.", className="text-muted me-2"),
                  job_button("overview-backfill", can("history.backfill"), "Compute the past 12 weeks in the background",
                             "Only admin and ops users may start the backfill", label="Backfill history")],
                 className="d-flex align-items-center flex-wrap gap-2 mt-2", id="overview-backfill-box"),
        html.Details([html.Summary("How these numbers are computed", className="small text-muted"),
                      html.Div(id="overview-definitions", className="small text-muted mt-2")], className="mt-3"),
    ])
