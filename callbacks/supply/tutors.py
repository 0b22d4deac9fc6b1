"""Tutors page callbacks: read the newest first-session computation, format cards, grids and the trend."""
from __future__ import annotations

import json

import dash_bootstrap_components as dbc
import numpy as np
import plotly.graph_objects as go
from dash import (ClientsideFunction, Input, Output, State, callback, clientside_callback, ctx, dcc, html,
                  no_update)

from ui import format as fmt
from ui.charts import MIN_POINTS, too_few
from layouts.supply.tutors import SESSION_COLUMNS
from ui.components import empty_state, grid
from read import status as queries
from read import tutors as tutor_queries
from read.cache import cached_read
from web_context import current_settings


def _pct(value) -> str:
    return "–" if value is None else f"{value:.0%}"


def _rating(value) -> str:
    return "–" if value is None else f"{value:.2f}"


def _card(title: str, value: str, previous: str, id: str) -> dbc.Col:
    return dbc.Col(dbc.Card(dbc.CardBody([
        html.Div(title, className="text-muted small"),
        html.Div(value, className="fs-4 fw-semibold", id=id),
        html.Div(previous, className="small text-muted"),
    ]), className="shadow-sm"), xs=6, md=3)


def _cards(summary: dict) -> list:
    now, before, label = summary["current"], summary["previous"], summary["previous_label"]
    return [
        _card("First sessions", f"{now['first_sessions']:,}", f"{label}: {before['first_sessions']:,}",
              "tutors-card-first-sessions"),
        _card("Success rate", _pct(now["success_rate"]),
              f"{now['rated_completed']:,} rated · {label}: {_pct(before['success_rate'])}", "tutors-card-success"),
        _card("Completion rate", _pct(now["completion_rate"]), f"{label}: {_pct(before['completion_rate'])}",
              "tutors-card-completion"),
        _card("Average rating", _rating(now["avg_rating"]), f"{label}: {_rating(before['avg_rating'])}",
              "tutors-card-rating"),
    ]


# What the grids show (plus band for the row colours); rates rounded: 5,000 tutors stay a small payload.
GRID_FIELDS = ["tutor_id", "name", "subjects", "region", "status", "first_sessions", "rated_completed",
               "success_rate", "completion_rate", "avg_rating", "wow_trend", "band", "attention", "small_sample"]
ROUNDING = {"success_rate": 4, "completion_rate": 4, "avg_rating": 3, "wow_trend": 1, "rest_rate": 4, "gap_points": 1}


def _records(df) -> list[dict]:
    """Rows for AG Grid: NaN as null (pandas' C JSON writer is ~5x faster than to_dict at 5,000 rows)."""
    return json.loads(df.round({k: v for k, v in ROUNDING.items() if k in df.columns}).to_json(
        orient="records", date_format="iso"))


# The grid gets the FIRST_ROWS most urgent tutors (its default order) until the user sorts, filters or asks for all:
# every row costs the browser parsing and AG Grid's row set-up (~0.2 s of a load at 5,000 tutors, issue 16).
FIRST_ROWS = 500


def first_rows(rows: list[dict], limit: int, keep: str | None = None) -> list[dict]:
    """The first `limit` rows, plus the row of tutor `keep` (a deep link's ?tutor=) when it comes later."""
    head = rows[:limit]
    if keep and not any(r["tutor_id"] == keep for r in head):
        head += [r for r in rows[limit:] if r["tutor_id"] == keep]
    return head


@callback(Output("tutors-empty", "children"), Output("tutors-content", "style"), Output("tutors-asof", "children"),
          Output("tutors-cards", "children"), Output("tutors-grid", "rowData"), Output("tutors-regions", "rowData"),
          Output("tutors-subject", "options"), Output("tutors-shown", "style"), Output("tutors-shown-text", "children"),
          Input("tutors-period", "value"), Input("tutors-subject", "value"),
          Input("shell-data-version", "data"), Input("shell-refresh", "n_intervals"), Input("tutors-show-all", "data"),
          State("tutors-selected", "data"))
def refresh(period, subject, _version, _n, show_all, selected):
    engine = queries.engine_for(current_settings())
    summary = tutor_queries.summary(engine, period)
    hidden = {"display": "none"}
    if summary is None:
        return (empty_state("No first-session statistics yet",
                            "Run `python manage.py run-jobs first-session` (it also runs every hour).",
                            id="tutors-empty-state"),
                hidden, None, [], [], [], no_update, hidden, None)
    rows, regions, subjects = _grids(engine, period, subject or None)
    asof = [f"{tutor_queries.PERIOD_LABELS[period]}: first sessions from ", fmt.when(summary["start"]), " to ",
            fmt.when(summary["end"]), " · computed ", fmt.when(summary["computed_at"])]
    shown = rows if show_all else first_rows(rows, FIRST_ROWS, selected)
    partial = len(shown) < len(rows)
    note = (f"Showing the {fmt.count(len(shown))} most urgent of {fmt.count(len(rows), 'tutor')}; sort or filter "
            "the grid to search them all, or" if partial else None)
    return (None, {}, asof, _cards(summary), shown, regions, [{"label": fmt.humanize(s), "value": s} for s in subjects],
            {} if partial else hidden, note)


def _default_sort(columns: list[dict] | None) -> bool:
    """Whether the grid's column state sorts as it loads: by attention, ascending, or not at all."""
    sorts = [(c.get("colId"), c.get("sort")) for c in columns or [] if c.get("sort")]
    return sorts in ([], [("attention", "asc")])


@callback(Output("tutors-show-all", "data"), Input("tutors-show-all-button", "n_clicks"),
          Input("tutors-grid", "columnState"), Input("tutors-grid", "filterModel"), State("tutors-show-all", "data"),
          prevent_initial_call=True)
def show_all(clicks, columns, filters, already):
    """Every tutor once the user asks, sorts by another column or filters: a sort or a search over the first rows
    alone would miss tutors."""
    if already:
        return no_update
    wanted = bool(clicks) if ctx.triggered_id == "tutors-show-all-button" else \
        bool(filters) or not _default_sort(columns)
    return True if wanted else no_update


@cached_read
def _grids(engine, period: str, subject: str | None) -> tuple[list[dict], list[dict], list[str]]:
    """The tutors grid's rows (by attention), the regions grid's rows and every subject: ~300 ms of pandas and
    1.3 MB of rows at 5,000 tutors, made once per data version (the key) instead of at every page load."""
    table = tutor_queries.tutor_grid(engine, period)
    shown = tutor_queries.by_attention(tutor_queries.filter_grid(table, subject=subject),
                                       tutor_queries.alerting_tutors(engine))
    return (tutor_rows(shown), _records(tutor_queries.region_table(engine, period)),
            tutor_queries.subjects_of(table))


def tutor_rows(table) -> list[dict]:
    """The tutors grid's rows: machine values but the subjects in words ("algebra;sat_prep" -> "Algebra, SAT prep",
    which the column's text filter matches as typed)."""
    return _records(table[GRID_FIELDS].assign(subjects=table["subjects"].map(fmt.humanize_list)))


@callback(Output("tutors-selected", "data"), Input("tutors-grid", "cellClicked"), State("tutors-selected", "data"),
          prevent_initial_call=True)
def select(cell, current):
    tutor_id = (cell or {}).get("rowId")
    return tutor_id if tutor_id and tutor_id != current else no_update


def _trend_figure(trend) -> go.Figure:
    fig = go.Figure()
    rated = trend[trend["rated_completed"] > 0]
    if not len(rated):
        fig.add_annotation(text="No rated first sessions in any stored 7-day window", showarrow=False,
                           x=0.5, y=0.5, xref="paper", yref="paper", font={"color": "#6c757d"})
        fig.update_xaxes(visible=False)
    else:
        trend = rated
        fig.add_scatter(x=trend["computed_at"], y=trend["success_rate"], mode="lines+markers", name="success",
                        customdata=trend[["successes", "rated_completed"]],
                        hovertemplate="%{x|%d %b %H:%M}: %{y:.0%} (%{customdata[0]}/%{customdata[1]} rated)"
                                      "<extra></extra>")
    fig.add_hline(y=tutor_queries.LOW_SUCCESS, line_dash="dot", line_color="#dc3545",
                  annotation_text=f"{tutor_queries.LOW_SUCCESS:.0%}", annotation_position="bottom right")
    fig.update_layout(title={"text": "Success rate, rolling 7 days, per computation", "font": {"size": 13}},
                      margin={"l": 40, "r": 10, "t": 40, "b": 30}, yaxis={"tickformat": ".0%", "range": [0, 1.05]},
                      template="plotly_white", showlegend=False)
    return fig


@callback(Output("tutors-detail-title", "children"), Output("tutors-first-sessions-box", "children"),
          Output("tutors-trend-box", "children"),
          Input("tutors-selected", "data"), Input("tutors-period", "value"), Input("shell-data-version", "data"))
def detail(tutor_id, period, _version):
    if not tutor_id:
        return html.Span("Click a tutor in the grid above.", className="text-muted"), None, None
    engine = queries.engine_for(current_settings())
    found = tutor_queries.tutor_detail(engine, tutor_id, period)
    info, rows = found["tutor"] or {}, found["sessions"]
    outcome = np.select([rows["success"].astype(bool), rows["status"] == "no_show", rows["rating"].isna()],
                        ["success", "no-show", "unrated"], "rated below 4")
    rows = rows.assign(start_time=rows["start_time"].map(fmt.iso_utc), start_utc=rows["start_time"].map(fmt.utc_text),
                       outcome=outcome,
                       status=rows["status"].map(fmt.humanize), segment=rows["segment"].map(fmt.humanize))
    title = html.Div([
        html.Span(info.get("name", tutor_id), className="fw-semibold", id="tutors-detail-name"),
        html.Span(f" · {tutor_id} · {fmt.humanize_list(info.get('subjects'))} · {info.get('region', '')} · {fmt.humanize(info.get('status'))}",
                  className="text-muted"),
        html.Div([f"{fmt.count(len(rows), 'first session')} in {tutor_queries.PERIOD_LABELS[period].lower()} (",
                  fmt.when(found["start"]), " – ", fmt.when(found["end"]), "), newest first"], className="small"),
    ])
    trend = tutor_queries.tutor_trend(engine, tutor_id)
    days = trend["computed_at"].dt.floor("h").nunique() if len(trend) else 0
    graph = (dcc.Graph(id="tutors-trend", figure=_trend_figure(trend), config={"displayModeBar": False},
                       style={"height": "320px"}) if days >= MIN_POINTS
             else too_few(days, "computations of the rolling 7-day rate", id="tutors-trend-too-few"))
    return title, grid("tutors-first-sessions", SESSION_COLUMNS, _records(rows), height="320px"), graph


# the view in the query string: Back, a bookmark and a shared link open the same tutor, subject and period
clientside_callback(ClientsideFunction("urlstate", "tutors"), Output("tutors-url", "data"),
                    Input("tutors-period", "value"), Input("tutors-subject", "value"), Input("tutors-selected", "data"))
