"""/alerts: list with filters, one alert with its history, and the lifecycle actions (audit-logged)."""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app, g, jsonify, request

from api.blueprint import bp
from api.params import ID, parse_time
from api.spec import api_doc
from auth import audit
from auth.permissions import PERMISSIONS, can
from models.base import get_engine
from read import alerts as aq
from writes.alerts import act
from domain.alerting.lifecycle import SEVERITIES, TYPES, TransitionError
from infra.clock import utcnow
from infra.jsonable import jsonable

MAX_LIMIT = 500
MAX_SNOOZE_MINUTES = 60 * 24 * 30
ACTIONS = {"ack": "acknowledge", "resolve": "resolve", "snooze": "snooze", "dismiss": "dismiss", "reopen": "reopen"}


class BadRequest(ValueError):
    pass


def _engine():
    return get_engine(current_app.extensions["settings"].db_url)


def _bad(message: str, status: int = 400):
    return jsonify(error=message), status


def _time(name: str, value) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        return parse_time(name, value)
    except ValueError as exc:
        raise BadRequest(str(exc)) from None


def _int(name: str, value, default: int, lo: int, hi: int) -> int:
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise BadRequest(f"{name} must be a whole number") from None
    if not lo <= number <= hi:
        raise BadRequest(f"{name} must be between {lo} and {hi}")
    return number


def _list(value) -> list[str]:
    return [v for v in (value or "").split(",") if v.strip()]


@bp.get("/alerts")
@api_doc("Alerts, newest first, with filters", params=[
    {"name": "status", "schema": {"type": "string", "enum": list(aq.STATUS_CHOICES)}, "description": "open (default), all, or one state"},
    {"name": "type", "description": f"comma-separated: {', '.join(TYPES)}"},
    {"name": "severity", "description": f"comma-separated: {', '.join(SEVERITIES)}"},
    {"name": "since", "schema": {"type": "string", "format": "date-time"}, "description": "detected at or after (ISO)"},
    {"name": "until", "schema": {"type": "string", "format": "date-time"}, "description": "detected before (ISO)"},
    {"name": "limit", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}, "description": "default 100"},
    {"name": "offset", "schema": {"type": "integer", "minimum": 0, "maximum": 10_000_000}, "description": "default 0"},
])
def alerts_list():
    args = request.args
    unknown = sorted(set(args) - {"status", "type", "severity", "since", "until", "limit", "offset"})
    try:
        if unknown:
            raise BadRequest(f"unknown parameter(s): {', '.join(unknown)}")
        statuses = aq.statuses_for(args.get("status"))
        since, until = _time("since", args.get("since")), _time("until", args.get("until"))
        if since and until and until <= since:
            raise BadRequest("until must be after since")
        limit = _int("limit", args.get("limit"), 100, 1, MAX_LIMIT)
        offset = _int("offset", args.get("offset"), 0, 0, 10_000_000)
        df, total = aq.list_alerts(_engine(), statuses, _list(args.get("type")), _list(args.get("severity")),
                                   since, until, limit, offset)
    except ValueError as exc:  # BadRequest and the query's own vocabulary checks
        return _bad(str(exc))
    return jsonify(total=total, limit=limit, offset=offset, alerts=aq.to_json_rows(df))


@bp.get(f"/alerts/<{ID}:alert_id>")
@api_doc("One alert: context, suggested steps, link, state history and deliveries")
def alert_get(alert_id: int):
    alert = aq.alert_detail(_engine(), alert_id)
    if alert is None:
        return _bad(f"no alert {alert_id}", 404)
    return jsonify(jsonable(alert))


def _snooze_until(body: dict, at: datetime) -> datetime:
    if body.get("until") not in (None, "") and body.get("minutes") not in (None, ""):
        raise BadRequest("give either until or minutes, not both")
    if body.get("until") not in (None, ""):
        until = _time("until", body["until"])
        if until <= at:
            raise BadRequest("until must be in the future")
        if until - at > timedelta(minutes=MAX_SNOOZE_MINUTES):
            raise BadRequest("a snooze lasts at most 30 days")
        return until
    if isinstance(body.get("minutes"), bool):
        raise BadRequest("minutes must be a whole number")
    minutes = _int("minutes", body.get("minutes"), 0, 1, MAX_SNOOZE_MINUTES)
    if not minutes:
        raise BadRequest("snooze needs until (ISO time) or minutes")
    return at + timedelta(minutes=minutes)


@api_doc("Acknowledge, resolve, snooze, dismiss or reopen an alert (409 when its state does not allow it)",
         body={"type": "object", "properties": {
             "comment": {"type": "string", "maxLength": 2000},
             "until": {"type": "string", "format": "date-time", "description": "snooze: until this time"},
             "minutes": {"type": "integer", "minimum": 1, "maximum": MAX_SNOOZE_MINUTES, "description": "snooze: for this long"}}})
def alert_act(alert_id: int):
    verb = request.path.rsplit("/", 1)[1]
    if not can(getattr(g.api_user, "role", None), "alert.act"):
        return _bad(f"only {', '.join(PERMISSIONS['alert.act'])} users may act on alerts", 403)
    body = request.get_json(silent=True) if request.data else {}
    if body is None or not isinstance(body, dict):
        return _bad("the body must be a JSON object")
    at = utcnow()
    try:
        comment = body.get("comment")
        if comment is not None and (not isinstance(comment, str) or len(comment) > 2000):
            raise BadRequest("comment must be text of at most 2000 characters")
        until = _snooze_until(body, at) if verb == "snooze" else None
        if verb != "snooze" and ("until" in body or "minutes" in body):
            raise BadRequest("until and minutes are for snooze only")
    except BadRequest as exc:
        return _bad(str(exc))
    engine = _engine()
    user = g.api_user.email
    try:
        new = act(engine, alert_id, ACTIONS[verb], user, comment, until=until, at=at)
    except LookupError:
        return _bad(f"no alert {alert_id}", 404)
    except TransitionError as exc:
        return _bad(str(exc), 409)
    audit.record(engine, f"alert.{ACTIONS[verb]}", user_email=user, entity="alert", entity_id=alert_id,
                 detail={"via": "api", "status": new, "comment": comment, "until": until})
    return jsonify(id=alert_id, status=new, snoozed_until=jsonable(until))


for _verb in ACTIONS:  # one documented route per action: /alerts/<id>/ack, /resolve, /snooze, /dismiss, /reopen
    bp.add_url_rule(f"/alerts/<{ID}:alert_id>/{_verb}", f"alert_{_verb}", alert_act, methods=["POST"])
