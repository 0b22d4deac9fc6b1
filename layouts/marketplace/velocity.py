"""Velocity & cohorts: how often customers take sessions, by signup cohort and over time, against a benchmark."""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from ui.components import page_header, section
from read.velocity import BENCHMARK_RANGE
from web_context import current_settings

CHARTS = [
    ("cohorts", "Sessions per week by signup cohort",
     "Completed sessions per customer in each week after signup (churned customers count as 0)"),
    ("nth", "Time to 2nd and 3rd session", "Median days from signup, per signup month; hover for the share who got there"),
    ("tiers", "Velocity tiers and churn", "Customers per tier now; churn rate: share of each tier 30 days ago "
                                          "that churned since"),
    ("retention", "Cohort retention", "Share of each signup month with a completed session in week k after signup"),
    ("histogram", "Session frequency", "Customers by completed sessions in the last 28 days"),
    ("trend", "Velocity trend", "Median velocity (sessions/week over 28 days) of customers 28+ days old, week by week"),
]
DEFINITIONS = (
    "Velocity = completed sessions in the trailing 28 days / 4 (sessions per week). Cohorts group customers by signup "
    "month; week k after signup is days 7k to 7k+6 from the signup date, counted only once it has fully passed. "
    "Numbers are as of the last health scoring run.")


def layout(**_query) -> html.Div:
    lo, hi = BENCHMARK_RANGE
    benchmark = html.Div([
        dbc.Label("Benchmark (sessions/week)", html_for="velocity-benchmark", className="small text-muted mb-0 me-2"),
        dbc.Input(id="velocity-benchmark", type="number", min=lo, max=hi, step=0.25, debounce=True,
                  value=current_settings().velocity_benchmark, size="sm", style={"width": "7rem"}),
    ], className="d-flex align-items-center")
    return html.Div([
        page_header("Velocity & cohorts", "Session frequency by signup cohort, time to the 2nd and 3rd session, "
                                          "velocity tiers and their churn, retention and trend.", right=benchmark),
        html.Div(id="velocity-message"),
        dcc.Store(id="velocity-drawn"),
        dcc.Loading(html.Div([
            html.Div(id="velocity-summary", className="mb-3"),
            dbc.Row([dbc.Col(section(title, dcc.Graph(id=f"velocity-{key}", config={"displayModeBar": False},
                                                      style={"height": "320px"}), help_text=help_),
                             lg=6) for key, title, help_ in CHARTS], className="g-3"),
        ]), type="dot", delay_show=300),
        html.P(DEFINITIONS, className="small text-muted mt-2"),
    ])
