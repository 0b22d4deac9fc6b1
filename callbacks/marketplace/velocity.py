"""Velocity & cohorts callbacks: validate the benchmark, read the (cached) page data, draw six charts."""
from __future__ import annotations

import dash_bootstrap_components as dbc
import numpy as np
import pandas as pd
import plotly.graph_objects as go
from dash import Input, Output, State, callback, html, no_update

from read.status import engine_for
from ui import format as fmt
from read.velocity import check_benchmark, velocity_page
from web_context import current_settings

BENCH = dict(line_dash="dash", line_color="#dc3545", line_width=1.5)
LAYOUT = dict(margin=dict(l=45, r=15, t=10, b=40), plot_bgcolor="white", height=320,
              legend=dict(orientation="h", y=-0.2, font=dict(size=10)), hovermode="closest")


def _month(ts) -> str:
    return pd.Timestamp(ts).strftime("%b %Y")


def cohorts_figure(df: pd.DataFrame, benchmark: float) -> go.Figure:
    fig = go.Figure()
    for cohort, part in df.groupby("cohort"):
        fig.add_trace(go.Scatter(x=part["week"], y=part["sessions_per_customer"], mode="lines+markers",
                                 name=_month(cohort), customdata=part["customers"],
                                 hovertemplate="week %{x}: %{y:.2f} sessions/customer (%{customdata} customers)"))
    fig.add_hline(y=benchmark, annotation_text=f"benchmark {benchmark:g}/week", **BENCH)
    return fig.update_layout(**LAYOUT, xaxis_title="week after signup", yaxis_title="sessions per customer")


def nth_figure(df: pd.DataFrame) -> go.Figure:
    fig = go.Figure()
    for nth, part in df.groupby("n"):
        fig.add_trace(go.Bar(x=[_month(c) for c in part["cohort"]], y=part["median_days"],
                             name=f"{nth}{'nd' if nth == 2 else 'rd'} session",
                             customdata=np.c_[part["share_reached"] * 100, part["p25_days"], part["p75_days"]],
                             hovertemplate="median %{y:.1f} days (p25 %{customdata[1]:.1f}, p75 %{customdata[2]:.1f}); "
                                           "%{customdata[0]:.0f} % got there<extra></extra>"))
    return fig.update_layout(**LAYOUT, barmode="group", yaxis_title="median days from signup")


def tiers_figure(df: pd.DataFrame) -> go.Figure:
    fig = go.Figure(go.Bar(x=df["tier"], y=df["customers"], name="customers now", marker_color="#6ea8fe",
                           hovertemplate="%{x}/week: %{y:,} customers<extra></extra>"))
    fig.add_trace(go.Scatter(x=df["tier"], y=df["churn_rate"] * 100, name="churn rate 30 d (%)", yaxis="y2",
                             mode="lines+markers", marker_color="#dc3545",
                             hovertemplate="%{y:.1f} % churned<extra></extra>"))
    return fig.update_layout(**LAYOUT, xaxis_title="sessions/week", yaxis_title="customers",
                             yaxis2=dict(overlaying="y", side="right", title="churn", rangemode="tozero",
                                         ticksuffix=" %", tickformat=".1f", showgrid=False))


def retention_figure(df: pd.DataFrame) -> go.Figure:
    fig = go.Figure()
    for cohort, part in df.groupby("cohort"):
        fig.add_trace(go.Scatter(x=part["week"], y=part["retention"] * 100, mode="lines", name=_month(cohort),
                                 hovertemplate="week %{x}: %{y:.0f} % active<extra></extra>"))
    return fig.update_layout(**LAYOUT, xaxis_title="week after signup", yaxis_title="% with a session",
                             yaxis_range=[0, 100])


def histogram_figure(df: pd.DataFrame, benchmark: float) -> go.Figure:
    fig = go.Figure(go.Bar(x=df["label"], y=df["customers"], marker_color="#6ea8fe",
                           customdata=df["share"] * 100,
                           hovertemplate="%{x} sessions: %{y:,} (%{customdata:.1f} %)<extra></extra>"))
    target = min(benchmark * 4, len(df) - 1)
    fig.add_vline(x=target, annotation_text=f"benchmark ({benchmark * 4:g} in 28 days)", **BENCH)
    return fig.update_layout(**LAYOUT, xaxis_title="completed sessions in the last 28 days", yaxis_title="customers")


def trend_figure(df: pd.DataFrame, benchmark: float) -> go.Figure:
    fig = go.Figure([
        go.Scatter(x=df["week_end"], y=df["p75_velocity"], line_width=0, showlegend=False, hoverinfo="skip"),
        go.Scatter(x=df["week_end"], y=df["p25_velocity"], fill="tonexty", fillcolor="rgba(13,110,253,0.12)",
                   line_width=0, name="p25-p75", hoverinfo="skip"),
        go.Scatter(x=df["week_end"], y=df["median_velocity"], name="median", line_color="#0d6efd",
                   hovertemplate="%{x|%Y-%m-%d}: median %{y:.2f}/week<extra></extra>"),
        go.Scatter(x=df["week_end"], y=df["mean_velocity"], name="mean", line=dict(color="#6c757d", dash="dot"),
                   hovertemplate="mean %{y:.2f}/week<extra></extra>"),
        go.Scatter(x=df["week_end"], y=df["share_at_benchmark"] * 100, name="% at benchmark", yaxis="y2",
                   line_color="#198754", hovertemplate="%{y:.1f} % at or above the benchmark<extra></extra>"),
    ])
    fig.add_hline(y=benchmark, annotation_text=f"benchmark {benchmark:g}", **BENCH)
    return fig.update_layout(**LAYOUT, yaxis_title="sessions/week", yaxis2=dict(
        overlaying="y", side="right", title="at benchmark", rangemode="tozero", ticksuffix=" %", tickformat=".1f",
        showgrid=False))


def summary(data: dict) -> dbc.Row:
    def card(label, value, id, size="fs-4"):
        return dbc.Col(dbc.Card(dbc.CardBody([html.Div(label, className="small text-muted"),
                                              html.Div(value, className=f"{size} fw-semibold text-break", id=id)]),
                                className="shadow-sm h-100"), xs=6, md=3)
    share = data["share_at_benchmark"]
    median = data["median_velocity"]
    return dbc.Row([
        card("Active customers", fmt.count(data["customers"]), "velocity-card-customers"),
        card("Median velocity", "—" if median is None else f"{median:.2f}/week", "velocity-card-median"),
        card(f"At or above {data['benchmark']:g}/week", fmt.percent(share, 1), "velocity-card-share"),
        card("As of", fmt.when(data["at"]), "velocity-card-at", "fs-6"),  # a time is longer than a number
    ], className="g-2")


@callback(Output("velocity-message", "children"), Output("velocity-summary", "children"),
          Output("velocity-cohorts", "figure"), Output("velocity-nth", "figure"), Output("velocity-tiers", "figure"),
          Output("velocity-retention", "figure"), Output("velocity-histogram", "figure"),
          Output("velocity-trend", "figure"), Output("velocity-drawn", "data"),
          Input("velocity-benchmark", "value"), Input("shell-data-version", "data"), State("velocity-drawn", "data"))
def draw(benchmark, _version, drawn):
    try:
        benchmark = check_benchmark(benchmark)
    except ValueError as exc:
        return dbc.Alert(str(exc), color="warning", className="py-2", id="velocity-error"), *[no_update] * 8
    data = velocity_page(engine_for(current_settings()), benchmark)
    key = f"{pd.Timestamp(data['at']).isoformat()}|{benchmark}"
    if key == drawn:  # new data elsewhere (an ingest poll), same numbers here: keep the charts as they are
        return (None, *[no_update] * 8)
    return (None, summary(data), cohorts_figure(data["cohorts"], benchmark), nth_figure(data["nth"]),
            tiers_figure(data["tiers"]), retention_figure(data["retention"]),
            histogram_figure(data["histogram"], benchmark), trend_figure(data["trend"], benchmark), key)
