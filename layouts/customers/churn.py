"""Churn risk: who may leave in the next 30 days, why, what to do; where customers drop off; the model card."""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from ui.components import grid, job_button, page_header, section
from web_context import can

PCT = {"function": "params.value == null ? '' : (params.value * 100).toFixed(1) + ' %'"}
NUMBER = {"filter": "agNumberColumnFilter", "type": "numericColumn"}
USD = {"function": "params.value == null ? '' : '$' + Math.round(params.value).toLocaleString()"}
WORKLIST_COLUMNS = [
    {"field": "rank", "headerName": "#", "maxWidth": 70, **NUMBER},
    {"field": "customer_id", "headerName": "Customer", "minWidth": 120, "cellRenderer": "markdown"},
    {"field": "revenue_at_risk", "headerName": "Revenue at risk", "valueFormatter": USD, **NUMBER, "minWidth": 125, "sort": "desc",
     "headerTooltip": "Churn risk x 12-month value"},
    {"field": "probability", "headerName": "Churn risk (30 d)", "valueFormatter": PCT, **NUMBER, "minWidth": 120},
    {"field": "clv", "headerName": "12-month value", "valueFormatter": USD, **NUMBER,
     "headerTooltip": "Expected revenue over the next 12 months: their sessions per month x price x expected months with us"},
    {"field": "factors", "headerName": "Top factors", "minWidth": 320, "tooltipField": "factors", "wrapText": True,
     "autoHeight": True},
    {"field": "intervention", "headerName": "Next action", "minWidth": 280, "tooltipField": "intervention",
     "wrapText": True, "autoHeight": True},
]
RISK_COLUMNS = [
    {"field": "customer_id", "headerName": "Customer", "minWidth": 120, "pinned": "left",
     "cellRenderer": "markdown"},
    {"field": "probability", "headerName": "Churn risk (30 d)", "valueFormatter": PCT, **NUMBER, "sort": "desc",
     "cellClassRules": {"text-danger fw-semibold": "params.value >= 0.3"}},
    {"field": "revenue_at_risk", "headerName": "Revenue at risk", "valueFormatter": USD, **NUMBER},
    {"field": "clv", "headerName": "12-month value", "valueFormatter": USD, **NUMBER},
    {"field": "segment", "headerName": "Segment"},
    {"field": "acquisition_channel", "headerName": "Channel"},
    {"field": "primary_subject", "headerName": "Subject"},
    {"field": "top_factor", "headerName": "Biggest factor", "minWidth": 260, "tooltipField": "top_factor"},
    {"field": "intervention", "headerName": "Recommended action", "minWidth": 280, "tooltipField": "intervention"},
]
SEGMENT_COLUMNS = [
    {"field": "segment", "headerName": "Segment"},
    {"field": "customers", "headerName": "Customers", **NUMBER},
    {"field": "mean_probability", "headerName": "Mean predicted risk", "valueFormatter": PCT, **NUMBER},
    {"field": "flagged_share", "headerName": "Flagged", "valueFormatter": PCT, **NUMBER,
     "headerTooltip": "Share at or above the model's threshold"},
    {"field": "expected_churners", "headerName": "Expected churners (30 d)", **NUMBER,
     "valueFormatter": {"function": "params.value == null ? '' : params.value.toFixed(0)"}},
    {"field": "actual_churn_30d", "headerName": "Churned, last 30 days", "valueFormatter": PCT, **NUMBER,
     "headerTooltip": "Customers active 30 days ago who churned since"},
    {"field": "contacted", "headerName": "Contacted, last 30 days", **NUMBER},
]
ABOUT = (
    "Churn risk is the model's probability that a customer who is with us today churns within the next 30 days "
    "(churned_at in (now, now + 30 days], the data contract's label); probabilities are calibrated on recent "
    "weeks, so 30 % means about 30 in 100 such customers leave. A customer's 12-month value is the revenue they "
    "are expected to bring over the next year (their own sessions per month and price, and how long the risk "
    "says they stay); revenue at risk = risk x value, the order to call in. Factors are each model input's signed "
    "contribution in log-odds, relative to an average customer: red raises the risk, green lowers it. The "
    "threshold flags customers so that about 8 in 10 of those who will churn are flagged (chosen on past data); "
    "with churn this noisy that means many flagged customers stay, so use the risk to order the work, not as a verdict.")


def _graph_box(id: str, height: int = 300) -> html.Div:
    # charts are created by callbacks (plotly.js loads once data is there)
    return html.Div(id=id, style={"minHeight": f"{height}px"})


def layout(customer: str | None = None, **_query) -> html.Div:
    retrain = job_button("churn", can("churn.retrain"), "Refit the churn model now", "Admins and ops can retrain")
    content = html.Div([
        html.Div(id="churn-asof", className="text-muted small mb-2"),
        dbc.Row(id="churn-cards", className="g-3 mb-3"),
        html.Div(id="churn-history-note"),
        section("Whom to call first", [
            html.Div(id="churn-worklist-summary", className="small mb-2"),
            dbc.Row([
                dbc.Col(grid("churn-worklist", WORKLIST_COLUMNS, height="520px", getRowId="params.data.id",
                             dashGridOptions={"tooltipShowDelay": 300, "pagination": False}), lg=8),
                dbc.Col(html.Div(id="churn-detail", className="small"), lg=4),
            ]),
        ], help_text="customers with the most revenue at risk (churn risk x 12-month value), their biggest "
                     "risk factors and the next action", id="churn-worklist-section"),
        section("Full distribution: customers by churn risk", [
            html.Div("Click a customer for the factors behind the risk, recent changes and what to do (shown next "
                     "to the worklist above).", className="small text-muted mb-2"),
            grid("churn-grid", RISK_COLUMNS, height="440px", getRowId="params.data.id",
                 dashGridOptions={"tooltipShowDelay": 300}),
        ], help_text="the 500 riskiest customers scored by the daily churn job"),
        dbc.Row([
            dbc.Col(section("Risk distribution", _graph_box("churn-hist-box")), lg=6),
            dbc.Col(section("Risk over time", _graph_box("churn-trend-box")), lg=6),
        ]),
        section("Churn risk by group", dbc.Row([
            dbc.Col(_graph_box("churn-by-acquisition_channel", 260), lg=6),
            dbc.Col(_graph_box("churn-by-primary_subject", 260), lg=6),
            dbc.Col(_graph_box("churn-by-tutor_consistency", 260), lg=6),
            dbc.Col(_graph_box("churn-by-velocity_segment", 260), lg=6),
        ]), help_text="mean predicted 30-day risk of today's customers; bar labels: customers in the group"),
        dbc.Row([
            dbc.Col(section("Where customers drop off", _graph_box("churn-funnel-box"),
                            help_text="signups of the last 6 months at least 30 days ago; each stage needs the ones before"),
                    lg=6),
            dbc.Col(section("Segments compared", grid("churn-segments", SEGMENT_COLUMNS, height="260px",
                                                     dashGridOptions={"pagination": False})), lg=6),
        ]),
        section("Does contacting at-risk customers help?", html.Div(id="churn-interventions"),
                help_text="contact log joined to what happened in the 30 days after, against uncontacted customers "
                          "of the same risk on the same day"),
        section("Model card", html.Div(id="churn-model-card"), id="churn-model-section"),
    ], id="churn-content")
    return html.Div([
        page_header("Churn risk", "Who may leave in the next 30 days, why, and what to do about it.", right=retrain),
        html.P(ABOUT, className="small text-muted", id="churn-about"),
        html.Div(id="churn-empty"),
        content,
        dcc.Store(id="churn-selected", data=customer or None),
        dcc.Store(id="churn-url"),  # the view in the query string (assets/urlstate.js)
    ])
