"""Forecast & supply callbacks: subject list, forecast chart, heatmap, accuracy, alerts, regions, and "Retrain now"
as a background callback with progress. Numbers come from read.forecast; nothing is fitted here."""
from __future__ import annotations

import dash_bootstrap_components as dbc
import numpy as np
import pandas as pd
import plotly.graph_objects as go
from dash import Input, Output, State, callback, dcc, html, no_update

from callbacks.job_button import follow_job
from ui import format as fmt
from ui.charts import MIN_POINTS, too_few
from ui.components import empty_state
from read import forecast as fq
from read import status as queries
from web_context import current_settings

BAND, MODEL, BASE, ACTUAL, SUPPLY = "rgba(13,110,253,0.15)", "#0d6efd", "#6c757d", "#212529", "#198754"
# coverage clipped to 0..2: red below 0.8, amber 0.8-1, light green 1-1.3, green above
COLORS = [[0, "#dc3545"], [0.4, "#dc3545"], [0.4, "#ffc107"], [0.5, "#ffc107"], [0.5, "#a3cfbb"],
          [0.65, "#a3cfbb"], [0.65, "#198754"], [1, "#198754"]]


def _engine():
    return queries.engine_for(current_settings())


def _graph(fig: go.Figure, id: str, height: int) -> dcc.Graph:
    fig.update_layout(height=height, margin=dict(l=40, r=10, t=10, b=40), plot_bgcolor="white",
                      legend=dict(orientation="h", y=-0.18), hovermode="x unified")
    return dcc.Graph(id=id, figure=fig, config={"displaylogo": False, "responsive": True})


@callback(Output("forecast-subject", "options"), Output("forecast-subject", "value"),
          Input("shell-data-version", "data"), State("forecast-subject", "value"), prevent_initial_call=True)
def subjects(_version, value):
    """The layout fills the list on load; this keeps it current when a new run adds a subject."""
    names, chosen = fq.subject_choice(_engine(), value)
    if not names:
        return [], value
    return [{"label": fmt.humanize(s), "value": s} for s in names], chosen


@callback(Output("forecast-subject", "value", allow_duplicate=True), Input("forecast-heatmap", "clickData"),
          prevent_initial_call=True)
def pick_from_heatmap(click):
    if not click or not click.get("points"):
        return no_update
    return click["points"][0]["y"]


def forecast_figure(view: dict, subject: str) -> go.Figure:
    fc, actual, past, run = view["forecast"], view["actual"], view["past"], view["run"]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=fc["ts"], y=fc["yhat_upper"], mode="lines", line=dict(width=0), showlegend=False,
                             hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=fc["ts"], y=fc["yhat_lower"], mode="lines", line=dict(width=0), fill="tonexty",
                             fillcolor=BAND, name="95 % interval (model)", hoverinfo="skip"))
    on_baseline = run["of_record"] == "baseline"
    fig.add_trace(go.Scatter(x=fc["ts"], y=fc["yhat"], mode="lines", name="Model forecast",
                             line=dict(color=MODEL, width=1.5 if on_baseline else 2.5, dash="dash" if on_baseline else None)))
    fig.add_trace(go.Scatter(x=fc["ts"], y=fc["baseline"], mode="lines",
                             name="Same hour last week" + (" (forecast of record)" if on_baseline else " (baseline)"),
                             line=dict(color=BASE, width=2.5 if on_baseline else 1.2, dash=None if on_baseline else "dot")))
    if "available_hours" in fc and fc["available_hours"].notna().any():
        fig.add_trace(go.Scatter(x=fc["ts"], y=fc["available_hours"], mode="lines", line=dict(color=SUPPLY, shape="hv"),
                                 name="Open tutor hours (supply)"))
    if len(actual):
        fig.add_trace(go.Scatter(x=actual["ts"], y=actual["y"], mode="lines", line=dict(color=ACTUAL, width=1.5),
                                 name="Actual sessions"))
    if len(past):
        fig.add_trace(go.Scatter(x=past["ts"], y=past["forecast"], mode="lines",
                                 line=dict(color=MODEL, width=1, dash="dot"), name="Forecast made a week earlier"))
    fig.add_vline(x=run["start"], line=dict(color="#adb5bd", dash="dash"))
    fig.update_yaxes(title=f"{subject}: sessions / tutor hours", rangemode="tozero", gridcolor="#eee")
    fig.update_xaxes(gridcolor="#f4f4f4")
    return fig


def _note(run: dict, subject: str) -> dbc.Alert | None:
    if run["of_record"] == "baseline":
        return dbc.Alert([html.I(className="bi bi-exclamation-triangle me-2"), html.Strong("Baseline shown as the "
                          "forecast of record. "), f"For {subject}, {run['why']}. Supply, alerts and recommendations "
                          "use the baseline too."], color="warning", className="py-2", id="forecast-baseline-note")
    if run.get("model") == "seasonal_naive":
        return dbc.Alert([html.I(className="bi bi-info-circle me-2"), f"For {subject}, {run['why']}: the model line "
                          "is same-hour-last-week, not a fitted model."], color="info", className="py-2",
                         id="forecast-baseline-note")
    return None


def accuracy_figure(history: pd.DataFrame) -> go.Figure:
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=history["day"], y=history["mape"], mode="lines+markers", name="Model MAPE",
                             line=dict(color=MODEL)))
    fig.add_trace(go.Scatter(x=history["day"], y=history["baseline_mape"], mode="lines+markers",
                             name="Same hour last week MAPE", line=dict(color=BASE, dash="dot")))
    fig.add_trace(go.Scatter(x=history["day"], y=history["coverage"], mode="lines", name="Interval coverage (target 95 %)",
                             line=dict(color=SUPPLY, width=1), yaxis="y"))
    fig.update_yaxes(tickformat=".0%", rangemode="tozero", gridcolor="#eee")
    return fig


def accuracy_summary(history: pd.DataFrame, run: dict, subject: str) -> html.Div:
    """The numbers the forecast of record was chosen on (the run's ``live`` accuracy), so the verdict here and
    the forecast shown can never disagree."""
    live = run.get("live") or {}
    if history.empty or not live.get("runs"):
        return html.Span("No run has been scored yet: a run is scored once its 168 hours have passed.",
                         className="text-muted", id="forecast-accuracy-text")
    model, base = live["mape"], live["baseline_mape"]
    verdict = (html.Span(" The model beats the baseline.", className="text-success") if run["of_record"] == "model"
               else html.Span(" The model does not beat the baseline here: the baseline is the forecast of record.",
                              className="text-danger fw-semibold"))
    coverage = history.tail(14)["coverage"].mean()
    return html.Div([f"{subject}, {live['runs']} scored runs of the last weeks: model MAPE {model:.0%}, baseline "
                     f"{base:.0%}; interval coverage {coverage:.0%} (target 95 %).", verdict],
                    id="forecast-accuracy-text")


def alert_list(df: pd.DataFrame):
    if df.empty:
        return html.Span("No open supply alert for this subject.", className="text-muted")
    color = {"critical": "danger", "warning": "warning", "info": "info"}
    return html.Ul([html.Li([dbc.Badge(r.severity, color=color.get(r.severity, "secondary"), className="me-2"),
                             html.A(r.title, href=f"/alerts?id={r.id}"),
                             html.Div(r.message, className="small text-muted")], className="mb-2")
                    for r in df.itertuples()], className="list-unstyled mb-0", id="forecast-alert-list")


def run_header(run: dict) -> list:
    """"Forecast run #N from <time>; model trained <time>; forecast of record: ..." with the times to the minute in
    the viewer's zone (UTC on hover)."""
    trained = ["; model trained ", fmt.when(run["trained_at"])] if run.get("trained_at") else []
    return [f"Forecast run #{run['id']} from ", fmt.when(run["start"]), *trained,
            f"; forecast of record: {'baseline' if run['of_record'] == 'baseline' else 'model'} ({run['why']})."]


@callback(Output("forecast-chart-box", "children"), Output("forecast-asof", "children"),
          Output("forecast-note", "children"), Output("forecast-accuracy-box", "children"),
          Output("forecast-accuracy-summary", "children"), Output("forecast-alerts", "children"),
          Output("forecast-regions", "rowData"), Output("forecast-empty", "children"),
          Input("forecast-subject", "value"), Input("shell-data-version", "data"))
def draw(subject, _version):
    engine = _engine()
    if not subject:
        empty = empty_state("No forecast yet", "Run python manage.py run-jobs train-forecast forecast supply recommend "
                            "(the schedule runs them hourly), or press Retrain now.", id="forecast-empty-state")
        return None, "", None, None, "", None, [], empty
    view = fq.subject_view(engine, subject)
    if not view:
        return None, "", None, None, "", None, [], empty_state("No forecast yet")
    run = view["run"]
    asof, name = run_header(run), fmt.humanize(subject)
    history = fq.accuracy_history(engine, subject)
    chart = _graph(forecast_figure(view, name), "forecast-chart", 420)
    accuracy = (_graph(accuracy_figure(history), "forecast-accuracy", 260) if len(history) >= MIN_POINTS
                else too_few(len(history), "days of scored forecasts", id="forecast-accuracy-too-few") if len(history)
                else None)
    regions = fq.supply_summary(engine, by_region=True, subject=subject)
    rows = [{k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in r.items()}
            for r in regions.round(3).to_dict(orient="records")]
    return (chart, asof, _note(run, name), accuracy, accuracy_summary(history, run, name),
            alert_list(fq.supply_alerts(engine, subject)), rows, None)


@callback(Output("forecast-heatmap-box", "children"), Input("shell-data-version", "data"))
def heatmap(_version):
    m = fq.coverage_matrix(_engine())
    if not m["subjects"]:
        return html.Span("No supply computed yet (the supply job runs hourly after the forecast).", className="text-muted")
    return dcc.Graph(id="forecast-heatmap", figure=heatmap_figure(m), config={"displaylogo": False, "responsive": True})


def heatmap_figure(m: dict) -> go.Figure:
    """Coverage by subject (rows, the code kept as y for the click) and hour; the hover names the subject in words."""
    z = np.array([[np.nan if v is None else min(v, 2.0) for v in row] for row in m["z"]], dtype=float)
    text = [["" if v is None else fmt.percent(v) for v in row] for row in m["z"]]
    names = [[fmt.humanize(s)] * len(row) for s, row in zip(m["subjects"], m["z"])]
    fig = go.Figure(go.Heatmap(z=z, x=m["ts"], y=m["subjects"], zmin=0, zmax=2, colorscale=COLORS, text=text,
                               customdata=names,
                               hovertemplate="%{customdata}, %{x|%a %d %b %H:%M} UTC: coverage %{text}<extra></extra>",
                               colorbar=dict(tickvals=[0, 0.8, 1, 1.3, 2], ticktext=["0", "80 %", "100 %", "130 %", "≥ 200 %"])))
    fig.update_layout(height=max(260, 26 * len(m["subjects"]) + 80), margin=dict(l=120, r=10, t=10, b=40),
                      plot_bgcolor="white")
    fig.update_yaxes(autorange="reversed", tickvals=m["subjects"], ticktext=[fmt.humanize(s) for s in m["subjects"]])
    return fig


def _retrained_text(result: dict) -> str:
    train = result["train"]
    lost = train["baseline_of_record"]
    return (f"Retrained {len(train['fitted'])} subjects in {train['timings']['models_s']:.0f} s (run #{train['run_id']})"
            + (f"; baseline of record for {', '.join(lost)}" if lost else "") + "; supply and recommendations updated.")


follow_job("forecast", "retrain-forecast", "forecast.retrain", _retrained_text)
