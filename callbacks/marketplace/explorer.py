"""Metric explorer callbacks: the picker's streams, then one chart per choice (actual, expected range,
previous period, alerts as annotations)."""
from __future__ import annotations

from datetime import timedelta

import pandas as pd
from dash import Input, Output, callback, html

from infra.clock import utcnow
from layouts.marketplace.explorer import RANGE_DAYS
from read import metrics
from read import status as queries
from ui import format as fmt
from ui.charts import MIN_POINTS, empty_figure, stream_figure
from web_context import current_settings


def _engine():
    return queries.engine_for(current_settings())


@callback(Output("explorer-dates", "disabled"), Input("explorer-range", "value"), prevent_initial_call=True)  # the layout sets it
def custom_dates(chosen):
    return chosen != "custom"


def window(chosen: str, start: str | None, end: str | None, now) -> tuple[pd.Timestamp, pd.Timestamp]:
    """[since, until] of the chosen range; a custom range runs from the start day to the end of the end day."""
    if chosen == "custom" and start:
        since = pd.Timestamp(start).normalize()
        until = (pd.Timestamp(end).normalize() if end else since) + pd.Timedelta(days=1) - pd.Timedelta(seconds=1)
        return since, min(until, pd.Timestamp(now))
    return pd.Timestamp(now) - pd.Timedelta(days=RANGE_DAYS.get(chosen, 7)), pd.Timestamp(now)


@callback(Output("explorer-chart", "figure"), Output("explorer-summary", "children"), Output("explorer-notes", "children"),
          Input("explorer-metric", "value"), Input("explorer-range", "value"), Input("explorer-dates", "start_date"),
          Input("explorer-dates", "end_date"), Input("explorer-compare", "value"), Input("shell-data-version", "data"))
def chart(stream, chosen, start, end, compare, _version):
    if not stream:
        return empty_figure("No metric stream yet."), "No metric stream yet.", None
    engine = _engine()
    since, until = window(chosen, start, end, utcnow())
    span = until - since
    history = metrics.series(engine, stream, since - timedelta(weeks=metrics.BAND_WEEKS), until)
    actual = history[history.index >= since]
    unit = metrics.unit_of(stream)
    if len(actual) < MIN_POINTS:
        fig = empty_figure(f"Not enough history in this period ({len(actual)} points; needs {MIN_POINTS}).")
        return fig, f"{len(actual)} point{'s' if len(actual) != 1 else ''} between {fmt.utc_text(since)} and {fmt.utc_text(until)}.", None
    previous = None
    if compare:
        before = metrics.series(engine, stream, since - span, since) if span > timedelta(weeks=metrics.BAND_WEEKS) \
            else history[(history.index >= since - span) & (history.index < since)]
        previous = before.copy()
        previous.index = previous.index + span
    band = metrics.expected_band(history, since)
    windows = metrics.anomaly_windows(engine, stream, since, until)
    notes = metrics.annotations(engine, stream, since, until)
    fig = stream_figure(actual, band, metrics.flagged_points(actual, windows), previous, notes,
                        percent=unit == "percent")
    summary = (f"{fmt.number(len(actual))} points from {fmt.utc_text(actual.index.min())} to "
               f"{fmt.utc_text(actual.index.max())} · latest {fmt.value(actual.iloc[-1], unit)} · "
               f"{len(notes)} alert{'s' if len(notes) != 1 else ''} in this period")
    links = [html.Li(html.A(n["text"], href=f"/alerts?id={n['alert_id']}")) for n in notes if n.get("alert_id")]
    return fig, summary, html.Ul(links, className="mb-0") if links else None
