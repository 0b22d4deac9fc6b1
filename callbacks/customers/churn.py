"""Churn page callbacks: read what the churn jobs stored (read.churn) and draw it; "Retrain now"
runs the training job as a background callback with progress."""
from __future__ import annotations

import json

import dash_bootstrap_components as dbc
import numpy as np
import plotly.graph_objects as go
from dash import ClientsideFunction, Input, Output, callback, clientside_callback, ctx, dcc, html, no_update

from callbacks.job_button import follow_job
from ui import format as fmt
from ui.charts import MIN_POINTS, empty_figure
from ui.components import empty_state
from read import churn as churn_queries
from read import status as queries
from web_context import current_settings
from domain.churn.features import BY_NAME

GRID_ROWS = 500
WORKLIST = 50  # customers CS can call in a day or two
RED, GREEN, BLUE, GREY = "#dc3545", "#198754", "#0d6efd", "#6c757d"


def _pct(v, digits: int = 0) -> str:
    return fmt.percent(v, digits)


def _fig(fig: go.Figure, title: str, height: int = 300) -> go.Figure:
    fig.update_layout(title={"text": title, "font": {"size": 13}}, template="plotly_white", height=height,
                      margin={"l": 40, "r": 10, "t": 40, "b": 40}, showlegend=False)
    return fig


def _graph(id: str, fig: go.Figure) -> dcc.Graph:
    return dcc.Graph(id=id, figure=fig, config={"displayModeBar": False})


def _card(title: str, value: str, sub: str, id: str) -> dbc.Col:
    return dbc.Col(dbc.Card(dbc.CardBody([html.Div(title, className="text-muted small"),
                                          html.Div(value, className="fs-4 fw-semibold", id=id),
                                          html.Div(sub, className="small text-muted")]), className="shadow-sm"),
                   xs=6, md=3)


def _money(v) -> str:
    return fmt.money(v)


def _cards(df, card, money: dict) -> list:
    m = card["metrics"].get("holdout", {})
    base = m.get("base_rate", float("nan"))
    where = "holdout week" if card["metrics"].get("evaluated_on", "holdout") == "holdout" else "validation weeks"
    return [
        _card("Customers scored", f"{len(df):,}", f"model v{card['version']} ({card['kind']})", "churn-card-scored"),
        _card("Revenue at risk", _money(money["revenue_at_risk"]),
              f"of {_money(money['clv'])} expected over 12 months", "churn-card-revenue"),
        _card("Expected churners, 30 days", f"{df['probability'].sum():,.0f}",
              f"mean risk {_pct(df['probability'].mean(), 1)}", "churn-card-expected"),
        _card("Model quality", f"AUC {m.get('auc', float('nan')):.3f}",
              f"Brier {m.get('brier', float('nan')):.4f} (base rate's {base * (1 - base):.4f}) on the {where}",
              "churn-card-quality"),
    ]


def _history_note(card) -> dbc.Alert | None:
    m = card["metrics"]
    notes = []
    if m.get("short_history"):
        notes.append(f"Short history: the model was trained with {len(m.get('features', []))} of its inputs (the "
                     f"ones that need {m.get('lookback_days', 14)} days of look-back or less); "
                     f"{', '.join(BY_NAME[f].label.lower() for f in m.get('dropped_features', []) if f in BY_NAME)} "
                     "come in once 4 months of history are stored.")
    if m.get("evaluated_on") == "validation":
        notes.append("Too little history to test the model on a later week it never saw: the quality shown is on "
                     "the weeks it was calibrated on, so expect it to be a little worse in practice.")
    if not notes:
        return None
    return dbc.Alert([html.Div(n) for n in notes], color="warning", className="py-2 small", id="churn-short-history")


def _worklist(rows: list[dict]) -> list[dict]:
    out = []
    for i, r in enumerate(rows, 1):
        raising = [f["text"] for f in r["factors"] if f["contribution"] > 0][:3]
        out.append({"rank": i, "id": r["customer_id"], "customer_id": f"[{r['customer_id']}](/customers/{r['customer_id']})",
                    "revenue_at_risk": None if r["revenue_at_risk"] is None else round(r["revenue_at_risk"], 2),
                    "probability": round(r["probability"], 4),
                    "clv": None if r["clv"] is None else round(r["clv"], 2),
                    "factors": "; ".join(raising), "intervention": r["intervention"]})
    return out


def _worklist_summary(money: dict, shown: int) -> html.Div:
    if not money["revenue_at_risk"]:
        return html.Div("No revenue at risk: no scored customer has sessions in the last 90 days.",
                        className="text-muted", id="churn-worklist-share")
    return html.Div([
        html.Strong(f"These {shown} customers hold {_pct(money['top_share'], 0)} of all revenue at risk"),
        f" ({_money(money['top_revenue_at_risk'])} of {_money(money['revenue_at_risk'])} across "
        f"{money['customers']:,} customers). Call from the top; the full distribution is below.",
    ], id="churn-worklist-share")


def _histogram(df, threshold: float) -> go.Figure:
    # binned here: 50,000 raw probabilities would be a megabyte of JSON for the browser to bin
    p = df["probability"].to_numpy()
    edges = np.arange(0, min(1.0, p.max() + 0.02) + 1e-9, 0.01) if len(p) else np.array([0, 0.01])
    counts, edges = np.histogram(p, bins=edges)
    fig = go.Figure(go.Bar(x=edges[:-1] + 0.005, y=counts, width=0.0095, marker_color=BLUE,
                           customdata=np.column_stack([edges[:-1], edges[1:]]),
                           hovertemplate="%{customdata[0]:.0%}–%{customdata[1]:.0%}: %{y} customers<extra></extra>"))
    fig.add_vline(x=threshold, line_dash="dot", line_color=RED, annotation_text=f"threshold {_pct(threshold, 1)}",
                  annotation_position="top right")
    fig.update_xaxes(tickformat=".0%", title="predicted 30-day churn risk")
    fig.update_yaxes(title="customers")
    return _fig(fig, "Customers by predicted risk")


def _trend(df) -> go.Figure | dict:
    if len(df) < MIN_POINTS:  # one or two days are not a trend: say so instead of an invented axis
        return empty_figure(f"Not enough history to draw a trend yet ({fmt.count(len(df), 'day')} of scores; "
                            f"needs {MIN_POINTS}). The daily churn job adds one a day; a backfill adds past days.")
    fig = go.Figure()
    if len(df):
        fig.add_scatter(x=df["day"], y=df["mean_probability"], mode="lines+markers", name="mean risk",
                        line={"color": BLUE}, hovertemplate="%{x|%d %b}: mean %{y:.1%}<extra></extra>")
        fig.add_bar(x=df["day"], y=df["flagged"], name="flagged", yaxis="y2", marker_color="rgba(220,53,69,0.25)",
                    hovertemplate="%{x|%d %b}: %{y} flagged<extra></extra>")
        fig.update_layout(yaxis={"tickformat": ".1%", "title": "mean risk"},
                          yaxis2={"overlaying": "y", "side": "right", "title": "flagged", "showgrid": False})
    return _fig(fig, "Mean predicted risk and flagged customers per day")


def _by(df, title: str) -> go.Figure:
    df = df.sort_values("mean_probability")
    fig = go.Figure(go.Bar(x=df["mean_probability"], y=df["group"], orientation="h", marker_color=BLUE,
                           text=[f"{n:,}" for n in df["customers"]], textposition="outside",
                           customdata=df[["customers", "flagged_share"]],
                           hovertemplate="%{y}: mean risk %{x:.1%}, %{customdata[0]} customers, "
                                         "%{customdata[1]:.0%} flagged<extra></extra>"))
    fig.update_xaxes(tickformat=".0%")
    return _fig(fig, f"By {title.lower()}", height=max(220, 40 + 22 * len(df)))


def _funnel(df) -> go.Figure:
    fig = go.Figure(go.Funnel(y=df["label"], x=df["customers"], textinfo="value+percent initial+percent previous",
                              marker={"color": BLUE}))
    return _fig(fig, f"{int(df['customers'].iloc[0]):,} signups", height=320)


def _records(df, rounding: dict | None = None) -> list[dict]:
    return json.loads(df.round(rounding or {}).to_json(orient="records", date_format="iso"))


@callback(Output("churn-empty", "children"), Output("churn-content", "style"), Output("churn-asof", "children"),
          Output("churn-cards", "children"), Output("churn-history-note", "children"),
          Output("churn-worklist", "rowData"), Output("churn-worklist-summary", "children"),
          Output("churn-grid", "rowData"), Output("churn-hist-box", "children"),
          Output("churn-trend-box", "children"), Output("churn-by-acquisition_channel", "children"),
          Output("churn-by-primary_subject", "children"), Output("churn-by-tutor_consistency", "children"),
          Output("churn-by-velocity_segment", "children"), Output("churn-segments", "rowData"),
          Input("shell-data-version", "data"), Input("shell-refresh", "n_intervals"))
def refresh(_version, _n):
    engine = queries.engine_for(current_settings())
    card = churn_queries.model_card(engine)
    df = churn_queries.scored(engine)
    if card is None or df.empty:
        return (empty_state("No churn predictions yet",
                            "Run `python manage.py run-jobs train-churn` (weekly; it scores everyone at once) or "
                            "press Retrain now.", id="churn-empty-state"),
                {"display": "none"}, None, [], None, [], None, [], None, None, None, None, None, None, [])
    _, top = churn_queries.top_risk(engine, GRID_ROWS)
    _, worklist = churn_queries.top_risk(engine, WORKLIST, sort="revenue_at_risk")
    money = churn_queries.revenue_at_risk_summary(engine, WORKLIST)
    attrs = df.set_index("customer_id")
    rows = []
    for r in top:
        a = attrs.loc[r["customer_id"]] if r["customer_id"] in attrs.index else None
        first = next((f for f in r["factors"] if f["contribution"] > 0), None)
        rows.append({"customer_id": f"[{r['customer_id']}](/customers/{r['customer_id']})",
                     "id": r["customer_id"], "probability": round(r["probability"], 4),
                     "revenue_at_risk": r["revenue_at_risk"], "clv": r["clv"],
                     "segment": None if a is None else a["segment"],
                     "acquisition_channel": None if a is None else a["acquisition_channel"],
                     "primary_subject": None if a is None else a["primary_subject"],
                     "top_factor": first["text"] if first else "", "intervention": r["intervention"]})
    asof = (["Scored ", fmt.when(top[0]["predicted_at"]), f" by model v{card['version']} ({card['kind']}), trained "
             f"{fmt.day(card['trained_at'])} on {fmt.day(card['train_start'])} – {fmt.day(card['train_end'])}"]
            if top else "")
    by = [_graph(f"churn-by-graph-{d}", _by(churn_queries.risk_groups(engine, d), churn_queries.DIMENSIONS[d]))
          for d in ("acquisition_channel", "primary_subject", "tutor_consistency", "velocity_segment")]
    segments = churn_queries.segment_comparison(engine)
    return (None, {}, asof, _cards(df, card, money), _history_note(card), _worklist(worklist),
            _worklist_summary(money, len(worklist)), rows, _graph("churn-hist", _histogram(df, card["threshold"])),
            _graph("churn-trend", _trend(churn_queries.trend(engine))), *by,
            _records(segments, {"mean_probability": 4, "flagged_share": 4, "actual_churn_30d": 4,
                                "expected_churners": 1}) if len(segments) else [])


@callback(Output("churn-funnel-box", "children"), Output("churn-interventions", "children"),
          Output("churn-model-card", "children"),
          Input("shell-data-version", "data"), Input("churn-content", "style"))
def slower_sections(_version, _style):
    engine = queries.engine_for(current_settings())
    card = churn_queries.model_card(engine)
    if card is None:
        return None, None, None
    funnel = churn_queries.customer_funnel(engine)
    return (_graph("churn-funnel", _funnel(funnel)) if funnel["customers"].iloc[0] else
            html.P("No signups in the last 6 months.", className="text-muted"),
            _interventions(churn_queries.interventions(engine)), _model_card(card, churn_queries.model_versions(engine)))


def _interventions(r: dict) -> html.Div:
    rows = [html.Tr([html.Td(b["band"]), html.Td(f"{b['contacted']:,}"), html.Td(_pct(b["contacted_rate"], 1)),
                     html.Td(f"{b['controls']:,}"), html.Td(_pct(b["control_rate"], 1))]) for b in r["bands"]]
    table = dbc.Table([html.Thead(html.Tr([html.Th("Risk when contacted"), html.Th("Contacted"),
                                           html.Th("Churned within 30 d"), html.Th("Similar, not contacted"),
                                           html.Th("Churned within 30 d")])), html.Tbody(rows)],
                      size="sm", bordered=False, className="mb-2", id="churn-interventions-table", responsive=True)
    if r["enough"]:
        better = r["difference"] < 0
        verdict = html.P([
            f"Contacted at-risk customers churned at {_pct(r['contacted_rate'], 1)} vs {_pct(r['expected_rate'], 1)} "
            "expected from similar uncontacted customers: ",
            html.Strong(f"{abs(r['difference']) * 100:.1f} points {'lower' if better else 'higher'}",
                        className="text-success" if better else "text-danger"),
            ". Agents choose whom to call, so this is an association, not a controlled experiment."])
    else:
        verdict = dbc.Alert(r["note"], color="secondary", className="py-2 small", id="churn-interventions-small")
    extra = (f"{r['pending']} contact(s) in the last 30 days still waiting for their outcome; "
             f"{r['not_at_risk']} contacted below the at-risk band; {r['unmatched']} without a risk score that day.")
    return html.Div([verdict, table, html.Div(extra, className="small text-muted")])


def _calibration(bins: list[dict], baselines: dict, where: str) -> go.Figure:
    """Reliability curve: mean predicted vs observed churn per equal-size bin, the model's and the baselines'."""
    fig = go.Figure()
    curves = [("model", bins, BLUE)] + [(k, v.get("calibration", []), c) for (k, v), c in zip(baselines.items(), (GREY, "#fd7e14"))]
    top = max([b["predicted"] for _, bs, _ in curves for b in bs] + [b["observed"] for _, bs, _ in curves for b in bs] + [0.05])
    fig.add_scatter(x=[0, top], y=[0, top], mode="lines", line={"dash": "dot", "color": GREY}, hoverinfo="skip")
    for name, bs, color in curves:
        fig.add_scatter(x=[b["predicted"] for b in bs], y=[b["observed"] for b in bs], mode="lines+markers", name=name,
                        marker={"color": color, "size": 8 if name == "model" else 5}, line={"color": color},
                        customdata=[b["customers"] for b in bs],
                        hovertemplate=name + ": predicted %{x:.1%}, observed %{y:.1%} (%{customdata} customers)<extra></extra>")
    fig.update_xaxes(tickformat=".0%", title="predicted (bin mean)")
    fig.update_yaxes(tickformat=".0%", title="observed churn")
    fig = _fig(fig, f"Reliability on the {where} (10 equal-size bins)", height=300)
    fig.update_layout(showlegend=len(curves) > 1, legend={"orientation": "h", "y": -0.25})
    return fig


def _quality_rows(m: dict) -> list:
    hold = m.get("holdout", {})
    rows = [("model" + f" ({m.get('kind')}, {m.get('calibration_method', 'platt')} calibrated)", hold)]
    rows += [(f"baseline: {k.replace('_', ' ')}", v) for k, v in m.get("baselines", {}).items()]
    base = hold.get("base_rate", float("nan"))
    out = [html.Tr([html.Td(name), html.Td(f"{h.get('auc', float('nan')):.3f}"),
                    html.Td(_pct(h.get("precision_at_recall_80"), 1)), html.Td(f"{h.get('brier', float('nan')):.4f}"),
                    html.Td(f"{h.get('ece', float('nan')):.4f}")]) for name, h in rows]
    out.append(html.Tr([html.Td("predicting the base rate for everyone"), html.Td("0.500"), html.Td(_pct(base, 1)),
                        html.Td(f"{base * (1 - base):.4f}"), html.Td("0")], className="text-muted"))
    return out


def _features(top: list[dict]) -> go.Figure:
    top = top[:12][::-1]
    fig = go.Figure(go.Bar(x=[t["mean_abs_contribution"] for t in top],
                           y=[BY_NAME[t["feature"]].label if t["feature"] in BY_NAME else t["feature"] for t in top],
                           orientation="h", marker_color=BLUE))
    fig.update_xaxes(title="mean |contribution| (log-odds)")
    return _fig(fig, "Top features", height=340)


def _model_card(card: dict, versions: list[dict]) -> html.Div:
    m = card["metrics"]
    hold, split = m.get("holdout", {}), m.get("split", {})
    where = "holdout week" if m.get("evaluated_on", "holdout") == "holdout" else "validation weeks"
    header = html.Thead(html.Tr([html.Th(x) for x in ("", "AUC", "P@R80", "Brier", "ECE")]))
    candidates = "; ".join(f"{k} validation AUC {(c.get('validation') or c.get('holdout') or {}).get('auc', float('nan')):.3f}"
                           + (" (kept)" if k == card["kind"] else "") for k, c in m.get("candidates", {}).items())
    train = split.get("train", ["?"])
    facts = html.Ul([
        html.Li(f"Label: churned within {m.get('horizon_days', 30)} days of the snapshot (data contract)."),
        html.Li(f"Trained on every weekly snapshot whose outcome was known: {len(train)} weeks {train[0][:10]} … "
                f"{train[-1][:10]}; calibrated and thresholded on {', '.join(t[:10] for t in split.get('validation', []))}"
                f" ({candidates})."),
        html.Li(f"Measured on the {where} {(split.get('holdout') or split.get('validation') or ['?'])[-1][:10]}: "
                f"{hold.get('customers', 0):,} customers, {hold.get('churners', 0):,} churned "
                f"({_pct(hold.get('base_rate'), 1)}), by the same recipe run 30 days earlier."
                if where == "holdout week" else f"Measured on the {where}: too little history for a later test week."),
        html.Li(f"Threshold {card['threshold']:.4f}: precision {_pct(hold.get('precision'), 1)} at recall "
                f"{_pct(hold.get('recall'), 1)}. P@R80 = the best precision at recall 80 % on those weeks themselves. "
                "Brier: mean squared error of the probabilities (lower is better)."),
    ], className="small")
    older = html.Div("Versions: " + ", ".join(
        f"v{v['version']} {v['kind']} AUC {v['auc']:.3f}{' (active)' if v['active'] else ''}"
        for v in versions if v.get("auc") is not None), className="small text-muted")
    return html.Div([
        facts,
        dbc.Table([header, html.Tbody(_quality_rows(m))], size="sm", className="mb-3", id="churn-candidates"),
        dbc.Row([dbc.Col(_graph("churn-calibration", _calibration(hold.get("calibration", []), m.get("baselines", {}),
                                                                  where)), lg=6),
                 dbc.Col(_graph("churn-features", _features(m.get("top_features", []))), lg=6)]),
        older,
    ])


@callback(Output("churn-selected", "data"), Input("churn-grid", "cellClicked"), Input("churn-worklist", "cellClicked"),
          prevent_initial_call=True)
def select(cell, worklist_cell):
    picked = worklist_cell if ctx.triggered_id == "churn-worklist" else cell
    return (picked or {}).get("rowId") or no_update


@callback(Output("churn-detail", "children"), Input("churn-selected", "data"), Input("shell-data-version", "data"))
def detail(customer_id, _version):
    if not customer_id:
        return html.Span("Click a customer in the worklist (or the full list below) for the factors behind the "
                         "risk, recent changes and what to do.", className="text-muted")
    engine = queries.engine_for(current_settings())
    found = churn_queries.customer_prediction(engine, customer_id)
    if found is None:
        return html.Span(f"No prediction for {customer_id}.", className="text-muted")
    items = [html.Li([html.Span(f"{'+' if f['contribution'] > 0 else '−'}{abs(f['contribution']):.2f} ",
                                className="fw-semibold " + ("text-danger" if f["contribution"] > 0 else "text-success")),
                      f["text"]]) for f in found["factors"]]
    changes = [html.Li(c["text"]) for c in found["changes"]] or [html.Li("No notable change recently.")]
    return html.Div([
        html.Div([html.A(customer_id, href=f"/customers/{customer_id}", className="fw-semibold"),
                  html.Span(f" · {_pct(found['probability'], 1)} risk of churning within 30 days")],
                 id="churn-detail-title"),
        html.Div(f"12-month value {_money(found['clv'])} ({(found['sessions_per_month'] or 0):.1f} sessions a month); "
                 f"revenue at risk {_money(found['revenue_at_risk'])}", className="text-muted", id="churn-detail-value"),
        html.Div("Top factors (log-odds vs an average customer)", className="text-muted mt-2"),
        html.Ul(items, className="mb-2", id="churn-detail-factors"),
        html.Div("Recent changes", className="text-muted"),
        html.Ul(changes, className="mb-2"),
        dbc.Alert([html.I(className="bi bi-telephone me-1"), found["intervention"] or ""], color="info",
                  className="py-2", id="churn-detail-intervention"),
    ])


def _trained_text(summary: dict) -> str:
    if "skipped" in summary:
        return f"Not trained: {summary['skipped']}"
    hold = summary["holdout"]
    return (f"Model v{summary['version']} ({summary['kind']}) trained: holdout AUC {hold['auc']:.3f}, precision "
            f"{_pct(hold['precision'])} at recall {_pct(hold['recall'])}; {summary['scored']:,} customers rescored.")


follow_job("churn", "train-churn", "churn.retrain", _trained_text)


# the customer opened in the query string: Back, a bookmark and a shared link open the same one
clientside_callback(ClientsideFunction("urlstate", "churn"), Output("churn-url", "data"), Input("churn-selected", "data"))
