"""The selected alert in the alert center: what, how far off, why, what to check, where to look, its history."""
from __future__ import annotations

import json

import dash_bootstrap_components as dbc
import pandas as pd
from dash import dcc, html

from datetime import timedelta

from layouts.marketplace.explorer import explorer_href
from read import metrics
from read.status import engine_for
from ui import format as fmt
from ui.charts import MIN_POINTS, stream_figure, too_few
from ui.components import empty_state
from web_context import current_settings

SEVERITY_COLORS = {"critical": "danger", "warning": "warning", "info": "info"}
STATUS_COLORS = {"active": "danger", "acknowledged": "primary", "snoozed": "secondary", "resolved": "success",
                 "dismissed": "light"}


def when(value) -> str:
    return fmt.utc_text(value)


def number(value) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "n/a"
    value = float(value)
    return f"{value:,.0f}" if value.is_integer() else f"{value:,.4g}"


def current_text(alert: dict) -> str:
    """The current value in the unit the expected value speaks: 0.3846 next to "Expected >= 65 %" reads 38 %."""
    value, expected = alert.get("current_value"), str(alert.get("expected_value") or "")
    if "%" in expected and value is not None and value == value and abs(float(value)) <= 1.5:
        return fmt.percent(value)
    return number(value)


def anomaly_chart(alert: dict):
    """An anomaly alert's stream around the event: actual, expected range, flagged points."""
    details = alert.get("details") or {}
    metric = details.get("metric") or alert.get("entity_id")
    if alert.get("type") != "anomaly" or not metric:
        return None
    start = pd.Timestamp(details.get("start") or alert["detected_at"])
    end = pd.Timestamp(details.get("end") or alert.get("last_seen_at") or alert["detected_at"])
    since, until = start - timedelta(days=2), end + timedelta(hours=6)
    engine = engine_for(current_settings())
    history = metrics.series(engine, metric, since - timedelta(weeks=metrics.BAND_WEEKS), until)
    actual = history[history.index >= since]
    if len(actual) < MIN_POINTS:
        return too_few(len(actual), "points of this stream", id="alerts-detail-too-few")
    windows = metrics.anomaly_windows(engine, metric, since, until)
    fig = stream_figure(actual, metrics.expected_band(history, since), metrics.flagged_points(actual, windows),
                        height=260)
    return html.Div([dcc.Graph(figure=fig, config={"displayModeBar": False}, id="alerts-detail-chart"),
                     dcc.Link([html.I(className="bi bi-activity me-1"), "Open in the metric explorer"],
                              href=explorer_href(metric, "custom", since, until), id="alerts-detail-explorer")],
                    className="mb-2")


def _fact(label: str, value, id: str | None = None) -> dbc.Col:
    kwargs = {"id": id} if id else {}
    return dbc.Col(html.Div([html.Div(label, className="small text-muted"),
                             html.Div(value, className="fs-5 fw-semibold", **kwargs)]), xs=6)


def _history(events: list[dict]) -> html.Table:
    rows = [html.Tr([html.Td(fmt.when(e["at"]), className="text-nowrap"), html.Td(e.get("user_email") or "system"),
                     html.Td(f"{e.get('from_status') or '—'} → {e['to_status']}"), html.Td(e.get("comment") or "")])
            for e in events]
    return dbc.Table([html.Thead(html.Tr([html.Th("When"), html.Th("Who"), html.Th("Change"), html.Th("Comment")])),
                      html.Tbody(rows)], size="sm", className="small mb-0", id="alerts-detail-history")


def _details(details: dict) -> html.Div | None:
    if not details:
        return None
    items = [html.Tr([html.Th(fmt.humanize(k), className="fw-normal text-muted"),
                      html.Td(v if isinstance(v, (str, int, float)) else json.dumps(v, default=str))])
             for k, v in details.items()]
    return html.Details([html.Summary("Details", className="small"),
                         dbc.Table(html.Tbody(items), size="sm", className="small mt-1")], className="mb-2")


def _deliveries(deliveries: list[dict]) -> html.Div | None:
    if not deliveries:
        return None
    lines = [html.Li(f"{d['channel']} {d['kind']}: {d['status']}" + (f" at {when(d['sent_at'])}" if d.get("sent_at") else "")
                     + (f" (attempts {d['attempts']}; {d['last_error']})" if d["status"] == "failed" else ""))
             for d in deliveries]
    return html.Div([html.Div("Notifications", className="small text-muted"), html.Ul(lines, className="small mb-2")])


def _link(link: str):
    label = [html.I(className="bi bi-box-arrow-up-right me-1"), "Open the view that shows it"]
    if link.startswith("/"):
        return dcc.Link(label, href=link, id="alerts-detail-link")
    return html.A(label, href=link, target="_blank", rel="noopener", id="alerts-detail-link")


def detail_view(alert: dict | None) -> html.Div:
    """The detail panel for one alert as returned by read.alerts.alert_detail."""
    if alert is None:
        return empty_state("Select an alert", "Click a row to see its context, suggested steps and history.",
                           id="alerts-detail-empty")
    steps = alert.get("investigation") or []
    link = alert.get("link")
    snoozed = f" until {when(alert['snoozed_until'])}" if alert["status"] == "snoozed" and alert.get("snoozed_until") else ""
    return html.Div([
        html.Div([dbc.Badge(fmt.humanize(alert["severity"]), color=SEVERITY_COLORS.get(alert["severity"], "secondary"), className="me-1"),
                  dbc.Badge(fmt.humanize(alert["status"]) + snoozed, color=STATUS_COLORS.get(alert["status"], "secondary"),
                            text_color="dark" if alert["status"] == "dismissed" else None, className="me-1",
                            id="alerts-detail-status"),
                  dbc.Badge(fmt.humanize(alert["type"]), color="light", text_color="dark")], className="mb-2"),
        html.H2(alert["title"], className="h5", id="alerts-detail-title"),
        html.Div([f"{fmt.humanize(alert['rule'])} · {alert.get('entity_id') or ''} · detected ",
                  fmt.when(alert["detected_at"]), " · last seen ", fmt.when(alert.get("last_seen_at"))],
                 className="small text-muted mb-2", title=f"rule {alert['rule']}"),
        dbc.Row([_fact("Current", current_text(alert), id="alerts-detail-current"),
                 _fact("Expected", alert.get("expected_value") or "n/a", id="alerts-detail-expected")], className="mb-2"),
        html.Div([html.Div("Why", className="small text-muted"), html.P(alert["message"], id="alerts-detail-message")]),
        html.Div([html.Div("Suggested investigation", className="small text-muted"),
                  html.Ol([html.Li(s) for s in steps], className="mb-2", id="alerts-detail-steps")]) if steps else None,
        anomaly_chart(alert),
        html.Div(_link(link), className="mb-2") if link else None,
        _details(alert.get("details") or {}),
        _deliveries(alert.get("deliveries") or []),
        html.Div("State history", className="small text-muted"),
        _history(alert.get("history") or []),
    ])
