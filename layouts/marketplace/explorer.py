"""Metric explorer: any metric stream or overview card's history over a chosen period, with zoom, the expected
range, the previous period for comparison and alerts drawn on the chart (Grafana-style, for ops).

The view lives in the URL (`?metric=...&range=7d|24h|30d|custom&start=YYYY-MM-DD&end=YYYY-MM-DD&compare=1`): a
copied link reopens it and Back returns to the previous one (callbacks/marketplace/explorer.sync_url). A value
the page does not know falls back to the default with a short note."""
from __future__ import annotations

from datetime import date
from urllib.parse import parse_qsl, urlencode

import dash_bootstrap_components as dbc
from dash import dcc, html

from read import metrics
from read.status import engine_for
from ui.components import page_header
from web_context import current_settings

RANGES = {"24h": "Last 24 h", "7d": "Last 7 days", "30d": "Last 30 days", "custom": "Custom"}
RANGE_DAYS = {"24h": 1, "7d": 7, "30d": 30}
DEFAULT_RANGE = "7d"
ON = ("1", "on", "true", "yes")


def explorer_href(metric: str, range: str | None = None, start=None, end=None) -> str:
    """The explorer's link for one stream (and period): what overview cards and anomaly alerts point at."""
    view = {"metric": metric, "range": range, "start": start, "end": end, "compare": False}
    return "/explorer" + query_string(view)


def default_metric(streams: list[dict]) -> str | None:
    return next((s["value"] for s in streams if s["group"] == "Metric streams"), streams[0]["value"] if streams else None)


def _day(text) -> str | None:
    """ "2026-11-03" (or a longer ISO time) -> "2026-11-03"; None for anything that is not a date."""
    try:
        return date.fromisoformat(str(text)[:10]).isoformat()
    except (TypeError, ValueError):
        return None


def parse_view(query: dict, known: set[str], fallback_metric: str | None) -> tuple[dict, list[str]]:
    """The view a query string asks for, and a note per value that could not be used (the default is used instead).

    query: {"metric", "range", "start", "end", "compare"} as strings (missing keys are defaults).
    Returns ({"metric", "range", "start", "end", "compare": bool}, notes)."""
    notes = []
    metric = query.get("metric") or None
    if metric is not None and metric not in known:
        notes.append(f"Unknown metric “{metric[:60]}”: showing the default one.")
        metric = None
    chosen = query.get("range") or DEFAULT_RANGE
    if chosen not in RANGES:
        notes.append(f"Unknown time range “{chosen[:20]}”: showing the last 7 days.")
        chosen = DEFAULT_RANGE
    start, end = query.get("start"), query.get("end")
    start_day, end_day = _day(start) if start else None, _day(end) if end else None
    if chosen == "custom":  # with no start yet the chart shows the last 7 days until one is picked
        if (start and not start_day) or (end and not end_day) or (end_day and not start_day):
            notes.append("The custom dates could not be read (YYYY-MM-DD): showing the last 7 days.")
            chosen, start_day, end_day = DEFAULT_RANGE, None, None
        elif end_day and end_day < start_day:
            start_day, end_day = end_day, start_day
    else:
        start_day = end_day = None
    compare = str(query.get("compare") or "").lower() in ON
    return {"metric": metric or fallback_metric, "range": chosen, "start": start_day, "end": end_day,
            "compare": compare}, notes


def query_string(view: dict) -> str:
    """The view as "?metric=...&range=..." (defaults left out; dates only for a custom range)."""
    pairs = [("metric", view.get("metric"))]
    if view.get("range") and view["range"] != DEFAULT_RANGE:
        pairs.append(("range", view["range"]))
    if view.get("range") == "custom":
        pairs += [("start", _day(view.get("start"))), ("end", _day(view.get("end")))]
    if view.get("compare"):
        pairs.append(("compare", "1"))
    pairs = [(k, v) for k, v in pairs if v]
    return "?" + urlencode(pairs) if pairs else ""


def query_of(search: str | None) -> dict:
    return dict(parse_qsl((search or "").lstrip("?")))


def layout(**query) -> html.Div:
    found = metrics.streams(engine_for(current_settings()))
    view, notes = parse_view({k: query.get(k) for k in ("metric", "range", "start", "end", "compare")},
                             {s["value"] for s in found}, default_metric(found))
    options = [{"label": f"{s['label']}  ({s['group']})", "value": s["value"]} for s in found]
    custom = view["range"] == "custom"
    controls = dbc.Row([
        dbc.Col(dcc.Dropdown(id="explorer-metric", value=view["metric"], options=options, placeholder="Choose a metric…",
                             clearable=False, optionHeight=32), lg=4, md=12, className="mb-2"),
        dbc.Col(dbc.RadioItems(id="explorer-range", value=view["range"], inline=True,
                               options=[{"label": v, "value": k} for k, v in RANGES.items()], className="btn-group flex-wrap",
                               inputClassName="btn-check", labelClassName="btn btn-outline-primary btn-sm text-nowrap",
                               labelCheckedClassName="active"), width="auto", className="mb-2"),
        dbc.Col(dcc.DatePickerRange(id="explorer-dates", start_date=view["start"], end_date=view["end"],
                                    display_format="D MMM YYYY", minimum_nights=0, disabled=not custom),
                width="auto", className="mb-2"),
        dbc.Col(dbc.Checklist(id="explorer-compare", options=[{"label": "Compare with previous period", "value": "on"}],
                              value=["on"] if view["compare"] else [], switch=True), width="auto", className="mb-2 pt-1"),
    ], className="g-2 align-items-center")
    return html.Div([
        dcc.Location(id="explorer-url", refresh=False),  # the view in the query string (pushState, no reload)
        page_header("Metric explorer", "Any metric over any period: drag on the chart to zoom, double-click to reset."),
        controls,
        html.Div(" ".join(notes) or None, id="explorer-url-note", className="small text-warning mb-1"),
        html.Div(id="explorer-summary", className="small text-muted mb-2"),
        dcc.Loading(dcc.Graph(id="explorer-chart", config={"displaylogo": False, "scrollZoom": False},
                              style={"height": "460px"}), type="dot"),
        html.Div(id="explorer-notes", className="small"),
    ])
