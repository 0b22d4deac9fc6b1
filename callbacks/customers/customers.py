"""Customers page callbacks: grid blocks from the database, quick-filter options, refetch on change, CSV export,
the view kept in the URL (assets/customers.js) and saved views."""
from __future__ import annotations

from dash import ClientsideFunction, Input, Output, State, callback, clientside_callback, dcc, html, no_update

from auth import audit
from read import customers as cq
from infra.clock import utcnow
from read.status import engine_for
from read.views import list_views
from infra.versions import topic_version
from web_context import can, current_email, current_settings, require
from writes.views import save_view

QUICK = [("customers-tier", "tier"), ("customers-segment", "segment"), ("customers-subject", "primary_subject"),
         ("customers-tutor", "primary_tutor_id"), ("customers-channel", "acquisition_channel")]
OWNER_ETC = [("customers-owner", "owner"), ("customers-follow-up", "follow_up"), ("customers-contacted", "contacted")]
QUICK_STATES = [State(id, "value") for id, _ in QUICK] + [State("customers-attention", "value")] + \
    [State(id, "value") for id, _ in OWNER_ETC]


def _quick(*values) -> dict:
    lists, attention, (owner, follow_up, contacted) = values[:len(QUICK)], values[len(QUICK)], values[len(QUICK) + 1:]
    return {key: list(v or []) for (_, key), v in zip(QUICK, lists)} | {
        "attention": bool(attention), "owner": list(owner or []), "follow_up": follow_up or None,
        "contacted": contacted or None}


def _redacted(filter_model) -> dict | None:
    """The filter model for the audit log, without what was typed into personal-data columns."""
    if not isinstance(filter_model, dict):
        return None
    return {k: ("[personal data]" if k in cq.PERSONAL else v) for k, v in filter_model.items()}


@callback(Output("customers-grid", "getRowsResponse"), Output("customers-count", "children"),
          Output("customers-message", "children"),
          Input("customers-grid", "getRowsRequest"), *QUICK_STATES, prevent_initial_call=True)
def rows(request, *quick):
    if not request:
        return no_update, no_update, no_update
    try:
        start, end = _row(request, "startRow", 0), _row(request, "endRow", 100)
        data, total = cq.customer_page(engine_for(current_settings()), request.get("sortModel"),
                                       request.get("filterModel"), start, end, _quick(*quick),
                                       personal=can("personal_data.view"))
    except (cq.QueryError, TypeError, ValueError, OverflowError) as exc:
        return {"rowData": [], "rowCount": 0}, "", str(exc)
    noun = "customer" if total == 1 else "customers"
    return {"rowData": data, "rowCount": total}, f"{total:,} {noun}", ""


def _row(request: dict, key: str, default: int) -> int:
    """A row index of the grid's request: a whole number from 0 to 10,000,000 (AG Grid never sends more)."""
    value = request.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value \
            or not 0 <= value <= 10_000_000 or int(value) != value:
        raise cq.QueryError(f"{key} must be a whole number from 0 to 10,000,000")
    return int(value)


@callback(Output("customers-health-version", "data"), Input("shell-data-version", "data"),
          State("customers-health-version", "data"), prevent_initial_call=True)
def health_version(_version, shown):
    """The grid reloads when the scores were rewritten, not at every ingest poll (which would reset it)."""
    version = topic_version(engine_for(current_settings()), "health")
    return no_update if version == shown else version


# the tutor filter offers the tutors matching what is typed (the first TUTOR_OPTIONS): all 5,000 tutors as options
# cost the page ~0.5 s of rendering and indexing at every load
LISTED = [(id, key) for id, key in QUICK[1:] if id != "customers-tutor"]
TUTOR_OPTIONS = 50


@callback(*[Output(id, "options") for id, _ in LISTED], Input("customers-health-version", "data"))
def options(_version):
    values = cq.distinct_values(engine_for(current_settings()), tuple(key for _, key in LISTED))
    return [[{"label": v, "value": v} for v in values[key]] for _, key in LISTED]


@callback(Output("customers-tutor", "options"), Input("customers-tutor", "search_value"),
          Input("customers-health-version", "data"), State("customers-tutor", "value"))
def tutor_options(search, _version, chosen):
    tutors = cq.distinct_values(engine_for(current_settings()), ("primary_tutor_id",))["primary_tutor_id"]
    text = str(search or "").strip().lower()
    found = [t for t in tutors if text in t.lower()][:TUTOR_OPTIONS]
    kept = [str(v) for v in chosen or [] if isinstance(v, (str, int))]  # the chosen ones stay listed
    return [{"label": t, "value": t} for t in dict.fromkeys(kept + found)]


clientside_callback(ClientsideFunction("customers", "refetch"), Output("customers-refetched", "data"),
                    *[Input(id, "value") for id, _ in QUICK], Input("customers-attention", "value"),
                    *[Input(id, "value") for id, _ in OWNER_ETC], prevent_initial_call=True)
# the view in the URL: quick filters and the grid's request (sort, filters) -> the query string
clientside_callback(ClientsideFunction("customers", "syncUrl"), Output("customers-search", "data"),
                    Input("customers-grid", "getRowsRequest"), *[Input(id, "value") for id, _ in QUICK],
                    Input("customers-attention", "value"), *[Input(id, "value") for id, _ in OWNER_ETC])
clientside_callback(ClientsideFunction("customers", "openView"), Output("customers-view-opened", "data"),
                    Input("customers-views", "value"), prevent_initial_call=True)
clientside_callback(ClientsideFunction("customers", "refresh"), Output("customers-refreshed", "data"),
                    Input("customers-health-version", "data"), prevent_initial_call=True)
clientside_callback(ClientsideFunction("customers", "open"), Output("customers-opened", "data"),
                    Input("customers-grid", "cellClicked"), prevent_initial_call=True)


@callback(Output("customers-download", "data"), Output("customers-message", "children", allow_duplicate=True),
          Input("customers-export", "n_clicks"), State("customers-grid", "getRowsRequest"), *QUICK_STATES,
          prevent_initial_call=True)
def export(_n, request, *quick):
    require("customers.export")
    request = request or {}
    try:
        text = cq.export_filtered(engine_for(current_settings()), request.get("sortModel"), request.get("filterModel"),
                                  _quick(*quick), personal=can("personal_data.view"))
    except cq.QueryError as exc:
        return no_update, str(exc)
    audit.record(engine_for(current_settings()), "customers.export", user_email=current_email(), entity="customers",
                 detail={"sortModel": request.get("sortModel"), "filterModel": _redacted(request.get("filterModel")),
                         "quick": _quick(*quick), "rows": text.count("\n") - 1})
    return dcc.send_string(text, f"customers-{utcnow():%Y%m%d-%H%M}.csv", type="text/csv"), ""


@callback(Output("customers-view-message", "children"), Output("customers-views", "options"),
          Input("customers-view-save", "n_clicks"), State("customers-view-name", "value"),
          State("customers-search", "data"), prevent_initial_call=True)
def save(_n, name, search):
    engine, user = engine_for(current_settings()), current_email()
    try:
        save_view(engine, user, "customers", name, search or "")
    except ValueError as exc:
        return html.Span(str(exc), className="text-danger", id="customers-view-error"), no_update
    views = list_views(engine, user, "customers")
    return html.Span(f"Saved “{' '.join((name or '').split())}”.", className="text-success", id="customers-view-saved"), \
        [{"label": v["name"], "value": v["query"]} for v in views]
