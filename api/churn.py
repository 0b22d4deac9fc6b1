"""/churn: the active churn model's card and the customers most likely to churn, with their explanations."""
from __future__ import annotations


from flask import current_app, jsonify, request

from api.blueprint import bp
from api.params import float_param, int_param
from api.spec import api_doc
from infra.jsonable import jsonable
from read import churn as churn_queries
from read import status as queries

MAX_LIMIT = 1000


class ChurnParamError(ValueError):
    """A query parameter /churn cannot use; the message says which and what is allowed."""


@bp.errorhandler(ChurnParamError)
def _bad(exc):
    return jsonify(error=str(exc)), 400


def _model(card: dict | None) -> dict | None:
    if card is None:
        return None
    m = card["metrics"]
    hold = m.get("holdout", {})
    return {
        "version": card["version"], "kind": card["kind"], "trained_at": card["trained_at"],
        "train_start": card["train_start"], "train_end": card["train_end"], "threshold": card["threshold"],
        "horizon_days": m.get("horizon_days"),
        "holdout": {k: hold.get(k) for k in ("customers", "churners", "base_rate", "auc", "precision", "recall",
                                              "precision_at_recall_80", "brier", "ece", "calibration")},
        "holdout_at": (m.get("split", {}).get("holdout") or [None])[0],
        "evaluated_on": m.get("evaluated_on", "holdout"), "short_history": bool(m.get("short_history")),
        "dropped_features": m.get("dropped_features", []), "calibration_method": m.get("calibration_method"),
        "baselines": {k: {x: v.get(x) for x in ("auc", "precision_at_recall_80", "brier", "ece", "calibration")}
                      for k, v in m.get("baselines", {}).items()},
        "candidates": {k: {x: (v.get("validation") or v.get("holdout") or {}).get(x)
                           for x in ("auc", "precision", "recall", "brier", "ece")}
                       for k, v in m.get("candidates", {}).items()},
        "top_features": m.get("top_features", [])[:10],
    }


def _sort() -> str:
    raw = request.args.get("sort") or "probability"
    if raw not in churn_queries.SORTS:
        raise ChurnParamError(f"sort must be one of {', '.join(churn_queries.SORTS)}, not {raw!r}")
    return raw


@bp.get("/churn")
@api_doc("Churn risk: the active model's card (training window, holdout AUC / precision at recall 0.8 / Brier, "
         "calibration, baselines, top features), the revenue at risk in total, and customers by descending 30-day "
         "churn probability (or revenue at risk = probability x 12-month lifetime value, or lifetime value), each "
         "with its lifetime value, revenue at risk, top factors (signed log-odds contributions of model inputs), "
         "recent changes and recommended intervention", params=[
             {"name": "sort", "schema": {"type": "string", "enum": ["probability", "revenue_at_risk", "clv"]},
              "description": "order of the customers (default probability)"},
             {"name": "min_probability", "schema": {"type": "number", "minimum": 0, "maximum": 1},
              "description": "only customers at or above this probability (default 0)"},
             {"name": "limit", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}, "description": "default 100"},
             {"name": "offset", "schema": {"type": "integer", "minimum": 0, "maximum": 10_000_000}},
         ])
def churn():
    min_probability = float_param("min_probability", 0.0, 0.0, 1.0)
    limit, offset = int_param("limit", 100, 1, MAX_LIMIT), int_param("offset", 0, 0, 10_000_000)
    sort = _sort()
    engine = queries.engine_for(current_app.extensions["settings"])
    card = churn_queries.model_card(engine)
    total, rows = churn_queries.top_risk(engine, limit, offset, min_probability, sort)
    body = {"model": _model(card), "total": total, "limit": limit, "offset": offset, "sort": sort,
            "min_probability": min_probability, "revenue_at_risk": churn_queries.revenue_at_risk_summary(engine),
            "customers": rows}
    if card is None:
        body["message"] = "no churn model yet: run `python manage.py run-jobs train-churn`"
    return jsonify(jsonable(body))
