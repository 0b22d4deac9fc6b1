"""Data health callbacks: read freshness, quarantine and job runs; format for the grids."""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Input, Output, callback, html

from ui import format as fmt
from ui.components import fmt_age
from read import status as queries
from read.status import quarantine_summary
from web_context import current_settings


def _card(title, value, color="secondary", id=None):
    return dbc.Col(dbc.Card(dbc.CardBody([html.Div(title, className="text-muted small"),
                                          html.Div(value, className=f"fs-4 fw-semibold text-{color}", id=id)]),
                            className="shadow-sm"), xs=6, md=3)


@callback(Output("data-health-cards", "children"), Output("data-health-sources", "rowData"),
          Output("data-health-quarantine", "rowData"), Output("data-health-jobs", "rowData"),
          Input("shell-data-version", "data"), Input("shell-refresh", "n_intervals"))
def refresh(_version, _n):
    settings = current_settings()
    engine = queries.engine_for(settings)
    fresh = queries.source_freshness(engine, settings.stale_after_s)
    rows = []
    for r in fresh.itertuples():
        status = "failing" if r.consecutive_failures else ("stale" if r.stale else "ok")
        rows.append({
            "source": r.source, "record": r.record, "status": status,
            "last_success": f"{fmt_age(r.poll_age_s)} ago" if r.last_success_at == r.last_success_at and r.last_success_at is not None else "never",
            "lag": fmt_age(r.lag_s), "rows_total": int(r.rows_total or 0),
            "last_poll": " / ".join(fmt.count(n) for n in (r.inserted, r.updated, r.unchanged, r.quarantined)),
            "consecutive_failures": int(r.consecutive_failures or 0), "last_error": r.last_error or ""})
    quarantine = quarantine_summary(engine)
    q_rows = quarantine.assign(last_seen=quarantine["last_seen"].map(fmt.iso_utc),
                               last_seen_utc=quarantine["last_seen"].map(fmt.utc_text)).to_dict("records")
    jobs = queries.last_job_runs(engine)
    j_rows = jobs.assign(started_at=jobs["started_at"].map(fmt.iso_utc), started_utc=jobs["started_at"].map(fmt.utc_text),
                         status=jobs["status"].map(fmt.humanize),
                         duration_s=jobs["duration_s"].round(2), summary=jobs["detail"].map(fmt.summary_text),
                         detail=jobs["detail"].fillna("")).to_dict("records")
    summary = queries.source_summary(fresh)
    n_sources = len(summary)
    n_stale = int(summary["stale"].sum()) if n_sources else 0
    cards = [
        _card("Sources", fmt.count(n_sources), id="data-health-source-count"),
        _card("Stale or failing", fmt.count(n_stale), "danger" if n_stale else "success", id="data-health-stale-count"),
        _card("Rows in store", fmt.count(fresh["rows_total"].sum() if len(fresh) else 0), id="data-health-row-count"),
        _card("Quarantined rows", fmt.count(quarantine["rows"].sum() if len(quarantine) else 0),
              "warning" if len(quarantine) else "success", id="data-health-quarantine-count"),
    ]
    return cards, rows, q_rows, j_rows
