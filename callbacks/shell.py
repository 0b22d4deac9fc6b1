"""Shell callbacks: data-version ticker, freshness stamp, stale-data warning, alert banner, nav toggle."""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, html, no_update

from infra.clock import utcnow
from infra.versions import data_version
from ui.components import fmt_age
from read import status as queries
from web_context import current_settings
from models.base import store_unreachable


@callback(Output("shell-data-version", "data"), Input("shell-tick", "n_intervals"), State("shell-data-version", "data"))
def tick(_n, known):
    version = data_version(queries.engine_for(current_settings()))
    return version if version != known else no_update


@callback(Output("shell-freshness", "children"), Output("shell-stale-warning", "children"),
          Input("shell-data-version", "data"), Input("shell-refresh", "n_intervals"))
def freshness(_version, _n):
    settings = current_settings()
    try:
        fresh = queries.source_summary(queries.source_freshness(queries.engine_for(settings), settings.stale_after_s))
    except Exception as exc:
        if not store_unreachable(exc):
            raise
        return "Database unreachable", dbc.Alert(
            [html.I(className="bi bi-database-exclamation me-2"),
             "The database is unreachable: showing the last data loaded. Jobs retry and catch up when it is back. ",
             html.A("Health", href="/api/v1/health", className="alert-link")],
            color="danger", className="py-2", id="shell-db-down-alert")
    if fresh.empty:
        return "No data yet", dbc.Alert(["No source has been polled yet. ",
                                         html.A("See data health", href="/data-health")], color="info", className="py-2")
    newest = fresh["last_success_at"].max()
    stamp = f"Updated {fmt_age((utcnow() - newest).total_seconds())} ago" if newest == newest else "Never updated"
    stale = fresh[fresh["stale"]]
    if stale.empty:
        return stamp, None
    names = ", ".join(stale["source"])
    warning = dbc.Alert([html.I(className="bi bi-clock-history me-2"),
                         f"Data may be stale: {names} behind or failing. Showing the last data received. ",
                         html.A("Data health", href="/data-health", className="alert-link")],
                        color="warning", className="py-2", id="shell-stale-alert")
    return stamp, warning


@callback(Output("shell-alert-banner", "children"), Input("shell-data-version", "data"), Input("shell-refresh", "n_intervals"))
def alert_banner(_version, _n):
    counts = queries.open_alert_counts(queries.engine_for(current_settings()))
    critical, warning = counts.get("critical", 0), counts.get("warning", 0)
    customers = counts.get("customer_triggers", 0)
    if not critical and not warning:
        return None
    color = "danger" if critical else "warning"
    parts = []
    if critical:
        parts.append(f"{critical} critical")
    if warning:
        parts.append(f"{warning} warning")
    children = [html.I(className="bi bi-bell-fill me-2"), f"Open alerts: {' and '.join(parts)}. ",
                html.A("Open the alert center", href="/alerts", className="alert-link")]
    if customers:
        children += [f" · {customers:,} customers to contact in the ",
                     html.A("CS worklist", href="/queue", className="alert-link")]
    return dbc.Alert(children, color=color, className="py-2", id="shell-alert-banner-alert")


@callback(Output("shell-nav-collapse", "is_open"), Input("shell-nav-toggle", "n_clicks"), State("shell-nav-collapse", "is_open"),
          prevent_initial_call=True)
def toggle_nav(n, is_open):
    return not is_open
