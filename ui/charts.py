"""Shared charts: sparklines that mark the current partial period, a metric stream with its expected band,
flagged points and alert annotations, and the "too few points" placeholder used instead of an invented axis."""
from __future__ import annotations

import pandas as pd
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
    so a half-counted day never reads as a drop. A plain figure dict without a template: eight of them built
    as go.Figure took ~200 ms and 60 kB per overview refresh."""
    values = [(d, v) for d, v in points if v is not None]
    if len(values) < 2:
        return None
    xs, ys = [d for d, _ in values], [v for _, v in values]
    data = [{"type": "scatter", "x": xs[:-1] if partial_last else xs, "y": ys[:-1] if partial_last else ys,
             "mode": "lines", "line": {"width": 2, "color": color}, "hoverinfo": "x+y"}]
    if partial_last:
        data.append({"type": "scatter", "x": xs[-2:], "y": ys[-2:], "mode": "lines+markers",
                     "line": {"width": 1.5, "color": color, "dash": "dot"},
                     "marker": {"size": [0, 7], "symbol": "circle-open", "color": color, "line": {"width": 2}},
                     "hoverinfo": "skip"})
    layout = {"margin": {"l": 0, "r": 4, "t": 2, "b": 2}, "height": 40, "xaxis": {"visible": False},
              "yaxis": {"visible": False}, "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)",
              "showlegend": False}
    return dcc.Graph(figure={"data": data, "layout": layout}, config={"displayModeBar": False, "staticPlot": True},
                     style={"height": "40px"}, className="overview-sparkline")


def _ms(index: pd.DatetimeIndex) -> list[int]:
    """Epoch milliseconds (a date axis reads them; a third of the JSON of ISO strings)."""
    return (pd.DatetimeIndex(index).as_unit("ns").asi8 // 1_000_000).tolist()


def _values(values) -> list:
    return [None if v != v else round(float(v), 6) for v in values]


def _line(x, y, name: str, **style) -> dict:
    return {"type": "scatter", "mode": "lines", "x": _ms(x), "y": _values(y), "name": name, **style}


def stream_figure(actual: pd.Series, band: pd.DataFrame | None = None, flagged: pd.Series | None = None,
                  previous: pd.Series | None = None, annotations: list[dict] | None = None, height: int = 420,
                  title: str = "", percent: bool = False) -> dict:
    """A metric stream as a plain figure dict (no validation pass: 30 days of 5-minute points build in a few ms
    and draw as simplified SVG lines: faster than WebGL where the GPU is software): the actual line, the expected band (columns expected, lower, upper; hourly when the
    stream is finer, a range reads the same), flagged points in red, the previous period shifted onto this one,
    and alerts as dashed vertical markers ({ts, text, severity})."""
    data = []
    if band is not None and not band.empty:
        if len(band) > 2000:
            band = band.resample("1h").agg({"expected": "mean", "lower": "min", "upper": "max"}).dropna()
        data += [_line(band.index, band["upper"], "upper", line={"width": 0}, hoverinfo="skip", showlegend=False),
                 _line(band.index, band["lower"], "Expected range", line={"width": 0}, fill="tonexty",
                       fillcolor="rgba(13,110,253,0.12)", hoverinfo="skip"),
                 _line(band.index, band["expected"], "Expected", line={"width": 1, "color": "#6ea8fe", "dash": "dot"})]
    if previous is not None and len(previous):
        data.append(_line(previous.index, previous.to_numpy(), "Previous period", line={"width": 1.2, "color": "#adb5bd"}))
    data.append(_line(actual.index, actual.to_numpy(), "Actual", line={"width": 1.6, "color": "#0d6efd"}))
    if flagged is not None and len(flagged):
        data.append({**_line(flagged.index, flagged.to_numpy(), "Flagged"), "mode": "markers",
                     "marker": {"color": "#dc3545", "size": 6}})
    colors = {"critical": "#dc3545", "warning": "#fd7e14", "info": "#0dcaf0"}
    shapes, notes = [], []
    for note in annotations or []:
        x, color = _ms(pd.DatetimeIndex([note["ts"]]))[0], colors.get(note.get("severity"), GREY)
        shapes.append({"type": "line", "x0": x, "x1": x, "xref": "x", "y0": 0, "y1": 1, "yref": "paper",
                       "line": {"width": 1, "dash": "dash", "color": color}})
        notes.append({"x": x, "y": 1, "yref": "paper", "text": str(note["text"])[:40], "showarrow": False,
                      "font": {"size": 10, "color": color}, "xanchor": "left", "yanchor": "bottom",
                      "hovertext": str(note["text"])})
    layout = {"height": height, "margin": {"l": 50, "r": 20, "t": 36 if title else 24, "b": 40},
              "template": "plotly_white", "hovermode": "x unified", "legend": {"orientation": "h", "y": -0.15},
              "xaxis": {"type": "date", "gridcolor": "#eee"},
              "yaxis": {"gridcolor": "#eee", **({"tickformat": ".0%"} if percent else {})},
              "shapes": shapes, "annotations": notes, "uirevision": "keep-zoom",
              "plot_bgcolor": "white", "paper_bgcolor": "white"}
    if title:
        layout["title"] = {"text": title, "font": {"size": 13}}
    return {"data": data, "layout": layout}


def empty_figure(message: str) -> dict:
    """A blank chart area that says why it is blank."""
    return {"data": [], "layout": {"xaxis": {"visible": False}, "yaxis": {"visible": False}, "template": "plotly_white",
                                   "annotations": [{"text": message, "x": 0.5, "y": 0.5, "xref": "paper",
                                                    "yref": "paper", "showarrow": False, "font": {"color": GREY}}]}}
