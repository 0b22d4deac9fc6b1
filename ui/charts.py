"""Shared charts: sparklines that mark the current partial period, a metric stream with its expected band,
flagged points and alert annotations, and the "too few points" placeholder used instead of an invented axis."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from dash import dcc, html

MIN_POINTS = 3  # fewer than this is not a trend: say so instead of drawing an axis
GREY = "#6c757d"


def too_few(points: int, what: str = "points", id: str | None = None) -> html.Div:
    """What a chart says when history is too short to draw (the backfill or time will fill it)."""
    kwargs = {"id": id} if id else {}
    return html.Div([html.I(className="bi bi-hourglass-split me-1"),
                     f"Not enough history to draw a trend yet ({points} {what}; needs {MIN_POINTS})."],
                    className="small text-muted chart-too-few py-2", **kwargs)


def sparkline(points: list, color: str, partial_last: bool = True) -> dcc.Graph | None:
    """Daily values as a small line; the last point, a period still running, is hollow on a dashed segment
    so a half-counted day never reads as a drop."""
    values = [(d, v) for d, v in points if v is not None]
    if len(values) < 2:
        return None
    xs, ys = [d for d, _ in values], [v for _, v in values]
    done = -1 if partial_last else len(xs)
    fig = go.Figure(go.Scatter(x=xs[:done] if partial_last else xs, y=ys[:done] if partial_last else ys,
                               mode="lines", line={"width": 2, "color": color}, hoverinfo="x+y"))
    if partial_last:
        fig.add_scatter(x=xs[-2:], y=ys[-2:], mode="lines+markers", line={"width": 1.5, "color": color, "dash": "dot"},
                        marker={"size": [0, 7], "symbol": "circle-open", "color": color, "line": {"width": 2}},
                        hoverinfo="skip")
    fig.update_layout(margin=dict(l=0, r=4, t=2, b=2), height=40, xaxis_visible=False, yaxis_visible=False,
                      paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)", showlegend=False)
    return dcc.Graph(figure=fig, config={"displayModeBar": False, "staticPlot": True}, style={"height": "40px"},
                     className="overview-sparkline")


def stream_figure(actual: pd.Series, band: pd.DataFrame | None = None, flagged: pd.Series | None = None,
                  previous: pd.Series | None = None, annotations: list[dict] | None = None, height: int = 420,
                  title: str = "") -> go.Figure:
    """A metric stream (WebGL, so 30 days of 5-minute points draw at once): the actual line, the expected band
    (columns expected, lower, upper on the same index), flagged points in red, the previous period shifted onto
    this one, and alerts as vertical markers ({ts, text, severity})."""
    fig = go.Figure()
    if band is not None and not band.empty:
        fig.add_trace(go.Scattergl(x=band.index, y=band["upper"], mode="lines", line={"width": 0},
                                   hoverinfo="skip", showlegend=False))
        fig.add_trace(go.Scattergl(x=band.index, y=band["lower"], mode="lines", line={"width": 0}, fill="tonexty",
                                   fillcolor="rgba(13,110,253,0.12)", name="Expected range", hoverinfo="skip"))
        fig.add_trace(go.Scattergl(x=band.index, y=band["expected"], mode="lines", name="Expected",
                                   line={"width": 1, "color": "#6ea8fe", "dash": "dot"}))
    if previous is not None and len(previous):
        fig.add_trace(go.Scattergl(x=previous.index, y=previous.to_numpy(), mode="lines", name="Previous period",
                                   line={"width": 1.2, "color": "#adb5bd"}))
    fig.add_trace(go.Scattergl(x=actual.index, y=actual.to_numpy(), mode="lines", name="Actual",
                               line={"width": 1.6, "color": "#0d6efd"}))
    if flagged is not None and len(flagged):
        fig.add_trace(go.Scattergl(x=flagged.index, y=flagged.to_numpy(), mode="markers", name="Flagged",
                                   marker={"color": "#dc3545", "size": 6}))
    colors = {"critical": "#dc3545", "warning": "#fd7e14", "info": "#0dcaf0"}
    for note in annotations or []:
        fig.add_vline(x=pd.Timestamp(note["ts"]).to_pydatetime().timestamp() * 1000, line_width=1, line_dash="dash",
                      line_color=colors.get(note.get("severity"), GREY))
        fig.add_annotation(x=pd.Timestamp(note["ts"]), y=1, yref="paper", text=note["text"][:40], showarrow=False,
                           font={"size": 10, "color": colors.get(note.get("severity"), GREY)}, xanchor="left",
                           yanchor="bottom", hovertext=note["text"])
    fig.update_layout(height=height, margin=dict(l=50, r=20, t=36 if title else 24, b=40), template="plotly_white",
                      hovermode="x unified", title={"text": title, "font": {"size": 13}} if title else None,
                      legend={"orientation": "h", "y": -0.15}, uirevision="keep-zoom")
    return fig
