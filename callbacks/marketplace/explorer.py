"""Metric explorer callbacks: the picker's streams, then one chart per choice (actual, expected range,
previous period, alerts as annotations)."""
from __future__ import annotations

from datetime import timedelta

import pandas as pd
from dash import Input, Output, callback, ctx, html, no_update

from infra.clock import utcnow
from layouts.marketplace.explorer import RANGE_DAYS, default_metric, parse_view, query_of, query_string
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


@callback(Output("explorer-url", "search"), Output("explorer-metric", "value"), Output("explorer-range", "value"),
          Output("explorer-dates", "start_date"), Output("explorer-dates", "end_date"), Output("explorer-compare", "value"),
          Output("explorer-url-note", "children"),
          Input("explorer-url", "search"), Input("explorer-metric", "value"), Input("explorer-range", "value"),
          Input("explorer-dates", "start_date"), Input("explorer-dates", "end_date"), Input("explorer-compare", "value"),
          prevent_initial_call=True)
def sync_url(search, metric, chosen, start, end, compare):
    """The view and the query string kept equal both ways (one callback, so the circle is allowed): a changed
    control writes the URL (a new history entry); a changed URL (Back, Forward) sets the controls."""
    shown = {"metric": metric, "range": chosen, "start": start, "end": end, "compare": bool(compare)}
    if ctx.triggered_id != "explorer-url":
        wanted = query_string(shown)
        return (no_update if wanted == (search or "") else wanted), *[no_update] * 5, None
    found = metrics.streams(_engine())
    view, notes = parse_view(query_of(search), {s["value"] for s in found}, default_metric(found))
    values = [view["metric"], view["range"], view["start"], view["end"], ["on"] if view["compare"] else []]
    current = [metric, chosen, start, end, ["on"] if compare else []]
    return (no_update, *[new if new != old else no_update for new, old in zip(values, current)],
            " ".join(notes) or None)


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
        fig = empty_figure(f"Not enough history in this period ({fmt.count(len(actual), 'point')}; needs {MIN_POINTS}).")
        return fig, [f"{fmt.count(len(actual), 'point')} between ", fmt.when(since), " and ", fmt.when(until), "."], None
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
    summary = [f"{fmt.count(len(actual), 'point')} from ", fmt.when(actual.index.min()), " to ",
               fmt.when(actual.index.max()), f" · latest {fmt.value(actual.iloc[-1], unit)} · "
               f"{fmt.count(len(notes), 'alert')} in this period"]
    links = [html.Li(html.A(n["text"], href=f"/alerts?id={n['alert_id']}")) for n in notes if n.get("alert_id")]
    return fig, summary, html.Ul(links, className="mb-0") if links else None
