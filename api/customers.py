"""/customers (health scores with sort, filters, limit/offset) and /customers/<id> (one customer's score,
components with their why, triggers firing now, next action)."""
from __future__ import annotations

import math

from flask import current_app, jsonify, request

from api.blueprint import bp
from api.params import ParamError, choice_param, float_param, page_params, text_param
from api.spec import api_doc
from read import customers as cq
from read import status as queries
from domain.customers.health_config import TIERS
from domain.customers.triggers import TRIGGERS

LIST_FILTERS = ("tier", "segment", "acquisition_channel", "region", "primary_subject", "primary_tutor_id")
PARAMS = set(LIST_FILTERS) | {"sort", "min_score", "max_score", "trigger", "attention", "limit", "offset"}


def _engine():
    return queries.engine_for(current_app.extensions["settings"])


def _values(name: str) -> list[str]:
    raw = text_param(name, max_length=200)
    values = [v.strip() for v in (raw or "").split(",") if v.strip()]
    if name == "tier":
        bad = [v for v in values if v not in TIERS]
        if bad:
            raise ParamError(name, f"tier must be among {', '.join(TIERS)}")
    return values


def _sort() -> list[dict]:
    raw = text_param("sort", max_length=200)
    out = []
    for part in (raw or "").split(","):
        if not part.strip():
            continue
        col, _, direction = part.strip().partition(":")
        direction = direction or "asc"
        if col not in cq.GRID_COLUMNS:
            raise ParamError("sort", f"sort must be a column among {', '.join(cq.GRID_COLUMNS)}, "
                                     "optionally with :asc or :desc")
        if direction not in ("asc", "desc"):
            raise ParamError("sort", "sort direction must be asc or desc, e.g. sort=score:desc")
        out.append({"colId": col, "sort": direction})
    return out


def _clean(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


@bp.get("/customers")
@api_doc("Customers with their health score, tier, triggers and next action; sort, filters, paging", params=[
    {"name": "sort", "description": "column[:asc|desc], comma-separated; default score ascending (riskiest first)"},
    *[{"name": f, "description": "comma-separated values"} for f in LIST_FILTERS],
    {"name": "min_score", "schema": {"type": "number", "minimum": 0, "maximum": 100}},
    {"name": "max_score", "schema": {"type": "number", "minimum": 0, "maximum": 100}},
    {"name": "trigger", "schema": {"type": "string", "enum": list(TRIGGERS)}, "description": "firing now"},
    {"name": "attention", "schema": {"type": "string", "enum": ["true", "false", "1", "0"]},
     "description": "priority <= 2 or critical, most urgent first"},
    {"name": "limit", "schema": {"type": "integer", "minimum": 1, "maximum": 1000}, "description": "default 100"},
    {"name": "offset", "schema": {"type": "integer", "minimum": 0, "maximum": 10_000_000}, "description": "default 0"},
])
def customers_list():
    unknown = sorted(set(request.args) - PARAMS)
    if unknown:
        raise ParamError(unknown[0], f"unknown parameter(s): {', '.join(unknown)}")
    limit, offset = page_params(100, 1000)
    quick = {f: _values(f) for f in LIST_FILTERS}
    quick["trigger"] = choice_param("trigger", tuple(TRIGGERS))
    quick["min_score"] = float_param("min_score", None, 0, 100)
    quick["max_score"] = float_param("max_score", None, 0, 100)
    quick["attention"] = choice_param("attention", ("true", "false", "1", "0"), "false") in ("true", "1")
    try:
        rows, total = cq.customer_page(_engine(), _sort(), None, offset, offset + limit, quick)
    except cq.QueryError as exc:
        return jsonify(error=str(exc)), 400
    return jsonify(total=total, limit=limit, offset=offset,
                   customers=[{k: _clean(v) for k, v in r.items()} for r in rows])


@bp.get("/customers/<customer_id>")
@api_doc("One customer: health_score, tier, components (score, weight, facts, why), triggers firing now, "
         "intervention, priority, velocity, last_session_at, churn_probability",
         path={"customer_id": {"type": "string", "minLength": 1, "maxLength": 64}})
def customer_get(customer_id: str):
    if len(customer_id) > 64:
        return jsonify(error="customer id is too long"), 400
    d = cq.customer_detail(_engine(), customer_id)
    if d is None:
        return jsonify(error=f"no customer {customer_id}"), 404
    s = d["score"] or {}
    return jsonify({
        "customer_id": d["customer_id"], "scored": bool(s), "computed_at": _clean(s.get("computed_at")),
        "health_score": _clean(s.get("score")), "tier": s.get("tier"),
        "components": {k: {key: c.get(key) for key in ("label", "score", "weight", "facts", "why")}
                       for k, c in d["components"].items()},
        "triggers": [t["name"] for t in d["triggers"]],
        "trigger_details": [{k: t[k] for k in ("name", "severity", "rule", "why", "intervention")} for t in d["triggers"]],
        "intervention": s.get("intervention"), "priority": s.get("priority"),
        "velocity": _clean(s.get("velocity")), "calls_14d": s.get("calls_14d"),
        "last_session_at": _clean(s.get("last_session_at")), "churn_probability": _clean(s.get("churn_probability")),
        "segment": s.get("segment") or (d["customer"] or {}).get("segment"),
        "acquisition_channel": s.get("acquisition_channel") or (d["customer"] or {}).get("acquisition_channel"),
        "region": s.get("region") or (d["customer"] or {}).get("region"),
        "primary_subject": s.get("primary_subject"), "primary_tutor_id": s.get("primary_tutor_id"),
    })
