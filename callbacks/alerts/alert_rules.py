"""Alert center callbacks for silences and detector rules (preview over 30 days, save), audit-logged."""
from __future__ import annotations

from datetime import datetime, timedelta

import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import ALL, Input, Output, State, callback, ctx, html, no_update

from auth import audit
from layouts.alerts.alert_detail import when
from models.base import get_engine
from read import alerts as aq
from read import rule_preview
from writes import rules
from infra.clock import utcnow
from ui import format as fmt
from web_context import current_email, current_role, current_settings
from loaders.streams import metric_rules

METHOD_COLORS = {"robust_zscore": "#dc3545", "sigma": "#fd7e14", "week_over_week": "#6f42c1", "consecutive_drops": "#0d6efd"}


def _engine():
    return get_engine(current_settings().db_url)


def _msg(text: str, color: str = "warning", id: str | None = None) -> dbc.Alert:
    kwargs = {"id": id} if id else {}
    return dbc.Alert(text, color=color, className="py-2 mb-0", **kwargs)


def _refused() -> dbc.Alert | None:
    if rules.can_edit(current_role()):
        return None
    return _msg(f"Only {' and '.join(rules.EDIT_ROLES)} users can change silences and rules.", id="alerts-not-allowed")


# ---------------------------------------------------------------- silences

@callback(Output("alerts-silences", "rowData"), Output("alerts-silence-rule-options", "children"),
          Output("alerts-silence-metric-options", "children"),
          Input("alerts-tabs", "active_tab"), Input("alerts-silence-message", "children"))
def silences(tab, _message):
    if tab != "alerts-tab-silences":
        return no_update, no_update, no_update
    engine = _engine()
    df = aq.list_silences(engine, utcnow())
    rows = [{**r, "row_id": str(r["id"]), "starts_at": when(r["starts_at"]), "ends_at": when(r["ends_at"])}
            for r in aq.to_json_rows(df)]
    known = aq.known_rules(engine)
    prefixes = sorted({r.split(".")[0] for r in known})
    return (rows, [html.Option(value=r) for r in prefixes + known],
            [html.Option(value=m) for m in aq.metric_names(engine)])


def _start(value: str | None) -> datetime:
    if not value:
        return utcnow().replace(microsecond=0)
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise rules.RuleError("The start time is not a valid date and time.") from None


@callback(Output("alerts-silence-message", "children"), Input("alerts-silence-add", "n_clicks"),
          Input("alerts-silence-end", "n_clicks"),
          State("alerts-silence-rule", "value"), State("alerts-silence-metric", "value"),
          State("alerts-silence-start", "value"), State("alerts-silence-hours", "value"),
          State("alerts-silence-reason", "value"), State("alerts-silences", "selectedRows"), prevent_initial_call=True)
def change_silence(_add, _end, rule, metric, start, hours, reason, selected):
    refused = _refused()
    if refused:
        return refused
    engine, user = _engine(), current_email()
    try:
        if ctx.triggered_id == "alerts-silence-end":
            if not selected:
                return _msg("Select a silence first.")
            rules.end_silence(engine, int(selected[0]["id"]))
            audit.record(engine, "silence.end", user_email=user, entity="silence", entity_id=selected[0]["id"])
            return _msg(f"Silence {selected[0]['id']} ended.", "success")
        if hours is None or not 0 < float(hours) <= rules.MAX_SILENCE.total_seconds() / 3600:
            raise rules.RuleError(f"Hours must be a number between 0 and {rules.MAX_SILENCE.days * 24}.")
        starts = _start(start)
        silence_id = rules.add_silence(engine, rule, metric, starts, starts + timedelta(hours=float(hours)), reason, user)
    except rules.RuleError as exc:
        return _msg(str(exc), id="alerts-silence-error")
    audit.record(engine, "silence.add", user_email=user, entity="silence", entity_id=silence_id,
                 detail={"rule": rule, "metric": metric, "starts_at": starts, "hours": hours, "reason": reason})
    return _msg(f"Silence {silence_id} added.", "success", id="alerts-silence-added")


# ---------------------------------------------------------------- detector rules

@callback(Output("alerts-rule-metric", "options"), Input("alerts-tabs", "active_tab"), Input("alerts-rule-message", "children"))
def rule_metrics(tab, _message):
    if tab != "alerts-tab-rules":
        return no_update
    engine = _engine()
    return sorted(set(aq.metric_names(engine)) | set(aq.derived_stream_names(engine)) | set(metric_rules(engine)))


@callback(Output({"type": "alerts-rule-field", "section": ALL, "key": ALL}, "value"), Input("alerts-rule-metric", "value"),
          prevent_initial_call=True)
def load_rule(metric):
    """The settings in force for the chosen metric (defaults, pattern rules, its own rule) into the form."""
    fields = [(o["id"]["section"], o["id"]["key"]) for o in ctx.outputs_list]
    if not metric:
        return [no_update] * len(fields)
    try:
        _base, saved, _own = rules.rule_configs(_engine(), metric)
    except rules.RuleError:
        return [no_update] * len(fields)  # saved_note says why
    return [getattr(getattr(saved, section), key) if (section, key) in rules.RULE_SCHEMA else no_update
            for section, key in fields]


@callback(Output("alerts-rule-saved", "children"), Input("alerts-rule-metric", "value"),
          Input("alerts-rule-message", "children"), prevent_initial_call=True)
def saved_note(metric, _message):
    if not metric:
        return None
    engine = _engine()
    stored = metric_rules(engine).get(metric)
    if not stored:
        return "No own rule: the defaults (and any matching pattern rule) apply."
    try:
        rules.rule_configs(engine, metric)
    except rules.RuleError as exc:
        return f"The stored rule is invalid and is not applied: {exc}"
    return (f"Own rule saved by {stored['updated_by'] or 'unknown'} at {when(stored['updated_at'])}: "
            f"{stored['settings'] or 'defaults'}")


def _form(ids_values) -> dict:
    return {(i["section"], i["key"]): v for i, v in ids_values}


def _figure(series, draft: dict) -> go.Figure:
    fig = go.Figure(go.Scatter(x=series.index, y=series.to_numpy(), mode="lines", name=series.name or "value",
                               line={"color": "#6c757d", "width": 1}))
    for method, color in METHOD_COLORS.items():
        events = [e for e in draft["events"] if e["method"] == method]
        if events:
            fig.add_trace(go.Scatter(x=[e["peak_ts"] for e in events], y=[e["value"] for e in events], mode="markers",
                                     name=f"{method} ({len(events)})", marker={"color": color, "size": 10, "symbol": "x"},
                                     text=[e["why"] for e in events], hovertemplate="%{x}<br>%{text}<extra></extra>"))
    fig.update_layout(height=420, margin={"l": 40, "r": 10, "t": 30, "b": 40}, legend={"orientation": "h", "y": -0.15},
                      title={"text": f"Last 30 days: {fmt.count(draft['total'], 'event')} with this draft", "font": {"size": 14}})
    return fig


def _counts(result: dict) -> str:
    parts = [f"{m} {fmt.count(v['count'])}" for m, v in result["by_method"].items()]
    return f"{fmt.count(result['total'])} ({', '.join(parts)})" if parts else fmt.count(result["total"])


@callback(Output("alerts-rule-summary", "children"), Output("alerts-rule-chart", "figure"),
          Output("alerts-rule-message", "children"),
          Input("alerts-rule-preview", "n_clicks"), Input("alerts-rule-save", "n_clicks"),
          State("alerts-rule-metric", "value"), State({"type": "alerts-rule-field", "section": ALL, "key": ALL}, "value"),
          prevent_initial_call=True)
def preview_or_save(_preview, _save, metric, values):
    if not metric or not isinstance(metric, str) or len(metric) > 128:
        return no_update, no_update, _msg("Choose a metric first.")
    ids = [s["id"] for s in ctx.states_list[1]]
    engine, at = _engine(), utcnow()
    try:
        base, saved, _own = rules.rule_configs(engine, metric)
        overrides = rules.overrides_from(_form(zip(ids, values)), base)
        if ctx.triggered_id == "alerts-rule-save":
            refused = _refused()
            if refused:
                return no_update, no_update, refused
            rules.save_metric_rule(engine, metric, overrides, current_email(), at=at)
            audit.record(engine, "metric_rule.save", user_email=current_email(), entity="metric_rule", entity_id=metric,
                         detail={"settings": overrides})
            return no_update, no_update, _msg(f"Rule for {metric} saved.", "success", id="alerts-rule-saved-ok")
        with rule_preview.preview_slot():
            series = rule_preview.load_series(engine, metric, 30, at)
            draft = rule_preview.preview(series, base.with_overrides(overrides), 30, at, metric)
            before = rule_preview.preview(series, saved, 30, at, metric)
    except rules.RuleError as exc:
        return no_update, no_update, _msg(str(exc), id="alerts-rule-error")
    window = series[series.index >= at - timedelta(days=30)]
    summary = html.Div([
        html.P([html.Strong(f"This draft would have fired {_counts(draft)} times"), " in the last 30 days; ",
                f"the rule in force would have fired {_counts(before)} times."], id="alerts-rule-counts"),
        html.Ul([html.Li(f"{e['start'][:16]} · {e['method']} · {e['severity']}: {e['why']}", className="small")
                 for e in draft["events"][:8]]),
        html.P(f"... and {fmt.count(len(draft['events']) - 8)} more", className="small text-muted") if len(draft["events"]) > 8 else None,
        html.P(f"A dense stream: previewed on {series.attrs['step_minutes']}-minute means.", className="small text-muted")
        if series.attrs.get("step_minutes") else None,
    ])
    return summary, _figure(window, draft), None
