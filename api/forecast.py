"""/forecast (a subject's latest hourly forecast with its supply) and /recommendations (+ implement/dismiss)."""
from __future__ import annotations

from flask import current_app, g, jsonify, request

from api.blueprint import bp
from api.params import ID, ParamError, choice_param, page_params, text_param
from auth.permissions import PERMISSIONS, can
from api.spec import api_doc
from read import forecast as fq
from writes import recommendations as decisions
from read import status as queries
from domain.contract import SUBJECTS
from infra.jsonable import frame_rows, jsonable
from loaders.forecasts import latest_run

MAX_LIMIT = 500
ROW_FIELDS = ["ts", "yhat", "yhat_lower", "yhat_upper", "baseline", "forecast", "source", "available_hours",
              "booked_hours", "coverage"]
REC_FIELDS = [c for c in fq.REC_COLUMNS]


def _engine():
    return queries.engine_for(current_app.extensions["settings"])


def _bad(message: str, status: int = 400):
    return jsonify(error=message), status


def _only(allowed: set[str]) -> None:
    unknown = sorted(set(request.args) - allowed)
    if unknown:
        raise ParamError(unknown[0], f"unknown parameter(s): {', '.join(unknown)}; use {', '.join(sorted(allowed))}")


@bp.get("/forecast")
@api_doc("A subject's latest demand forecast, next 168 h: yhat with its 95 % interval, the seasonal-naive baseline, "
         "the forecast of record (model or baseline, with why), open tutor hours and coverage per hour", params=[
             {"name": "subject", "required": True, "schema": {"type": "string", "minLength": 1, "maxLength": 100},
              "description": f"one of {', '.join(SUBJECTS)} (or any subject forecast)"}])
def forecast():
    engine = _engine()
    run = latest_run(engine)
    known = sorted(set(SUBJECTS) | set(fq.run_subjects(run)))
    _only({"subject"})
    subject = text_param("subject")
    if not subject:
        raise ParamError("subject", f"subject is required: one of {', '.join(known)}")
    if subject not in known:
        raise ParamError("subject", f"unknown subject; use one of {', '.join(known)}")
    if run is None:
        return jsonify(subject=subject, run=None, rows=[], message="no forecast yet: run the forecast job")
    view = fq.subject_view(engine, subject)
    history = fq.accuracy_history(engine, subject, days=14)
    accuracy = None
    if len(history):
        accuracy = {"days": 14, "runs": int(history["runs"].sum()),
                    "mape": float((history["mape"] * history["runs"]).sum() / history["runs"].sum()),
                    "baseline_mape": float((history["baseline_mape"] * history["runs"]).sum() / history["runs"].sum()),
                    "interval_coverage": float(history["coverage"].mean())}
    rows = view["forecast"].reindex(columns=ROW_FIELDS)
    return jsonify(jsonable({"subject": subject, "run": view["run"], "rows": rows.to_dict(orient="records"),
                                "accuracy": accuracy, "mape_definition": "weighted MAPE = sum|actual - forecast| / "
                                                                         "sum(actual)"}))


@bp.get("/recommendations")
@api_doc("Recruiting recommendations with action, reason, expected impact, ROI, priority and expiry; the acceptance "
         "rate (implemented / decided)", params=[
             {"name": "status", "schema": {"type": "string", "enum": list(fq.STATUS_CHOICES)},
              "description": "pending (default), decided, all, implemented, dismissed or expired"},
             {"name": "subject", "description": "one subject"},
             {"name": "limit", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}, "description": "default 100"},
             {"name": "offset", "schema": {"type": "integer", "minimum": 0, "maximum": 10_000_000}, "description": "default 0"}])
def recommendations():
    _only({"status", "subject", "limit", "offset"})
    statuses = fq.statuses_for(choice_param("status", fq.STATUS_CHOICES, "pending"))
    limit, offset = page_params(100, MAX_LIMIT)
    engine = _engine()
    df, total = fq.list_recommendations(engine, statuses, limit, offset, text_param("subject"))
    return jsonify(total=total, limit=limit, offset=offset, acceptance=jsonable(fq.acceptance(engine)),
                   recommendations=frame_rows(df[REC_FIELDS]))


@api_doc("Implement or dismiss a pending recommendation (409 when it is decided or expired; 403 unless admin, ops "
         "or recruiter); audit-logged",
         body={"type": "object", "properties": {"reason": {"type": "string", "maxLength": 2000}}})
def recommendation_decide(rec_id: int):
    verb = request.path.rsplit("/", 1)[1]
    body = request.get_json(silent=True) if request.data else {}
    if body is None or not isinstance(body, dict):
        return _bad("the body must be a JSON object")
    unknown = sorted(set(body) - {"reason"})
    if unknown:
        return _bad(f"unknown field(s): {', '.join(unknown)}")
    if not can(getattr(g.api_user, "role", None), "recommendation.decide"):
        return _bad(f"only {', '.join(PERMISSIONS['recommendation.decide'])} users may decide recommendations", 403)
    try:
        result = decisions.decide_recommendation(_engine(), rec_id, verb, g.api_user.email, body.get("reason"), via="api")
    except LookupError:
        return _bad(f"no recommendation {rec_id}", 404)
    except decisions.DecisionConflict as exc:
        return _bad(str(exc), 409)
    except ValueError as exc:
        return _bad(str(exc))
    return jsonify(jsonable(result))


for _verb in fq.DECISIONS:  # /recommendations/<id>/implement and /dismiss
    bp.add_url_rule(f"/recommendations/<{ID}:rec_id>/{_verb}", f"recommendation_{_verb}", recommendation_decide,
                    methods=["POST"])
