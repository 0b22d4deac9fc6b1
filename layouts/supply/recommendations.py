"""Recommendations: the recruiting feed (action, the numbers behind it, expected impact, ROI, priority, expiry,
a link to the subject's forecast), Implement / Dismiss with an optional reason, and the acceptance rate over time."""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from ui.components import page_header, section
from domain.recommendations import __doc__ as RULES_DOC

FILTERS = [{"label": "Pending", "value": "pending"}, {"label": "Decided", "value": "decided"},
           {"label": "Expired", "value": "expired"}, {"label": "All", "value": "all"}]


def rules_text() -> list:
    """The rules and the ROI definition, from domain/recommendations.py's docstring."""
    body = RULES_DOC.split("Rules (thresholds", 1)[1]
    return [html.Pre("Rules (thresholds" + body, className="small text-muted mb-0", style={"whiteSpace": "pre-wrap"})]


def layout(status: str | None = None, **_query) -> html.Div:
    status = status if status in {f["value"] for f in FILTERS} else "pending"
    rate = html.Div([html.Div("Acceptance rate", className="small text-muted"),
                     html.Div("—", id="recs-acceptance-rate", className="h3 mb-0"),
                     html.Div(id="recs-acceptance-detail", className="small text-muted")], className="text-end")
    filters = dbc.RadioItems(id="recs-filter", value=status, inline=True, options=FILTERS, className="btn-group flex-wrap",
                             inputClassName="btn-check", labelClassName="btn btn-outline-primary btn-sm",
                             labelCheckedClassName="active")
    return html.Div([
        page_header("Recommendations", "Recruiting actions from supply, demand and first-session numbers, each with "
                    "its reason and return.", right=rate),
        html.Div([filters, html.Small(id="recs-count", className="text-muted ms-3")],
                 className="d-flex align-items-center flex-wrap gap-2 mb-3"),
        html.Div(id="recs-message"),
        dbc.Row([
            # no dcc.Loading here: its overlay hides the feed during every refresh and takes the focus from a
            # half-typed reason
            dbc.Col(html.Div(id="recs-feed"), lg=8),
            dbc.Col([section("Acceptance over time", html.Div(id="recs-acceptance-box", style={"minHeight": "220px"}),
                             help_text="implemented / (implemented + dismissed), cumulative by day of decision"),
                     section("How recommendations are made", html.Details([html.Summary("Rules and ROI",
                                                                                         className="small"),
                                                                            *rules_text()]))], lg=4),
        ]),
        dcc.Store(id="recs-changed", data=0),
        dcc.Store(id="recs-feed-shown", data=None),
    ])
