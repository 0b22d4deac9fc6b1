"""/tutors (tutor grid rows with first-session statistics) and /first-sessions (statistics by dimension)."""
from __future__ import annotations

import math
from datetime import datetime

from flask import current_app, jsonify, request

from api.blueprint import bp
from api.params import int_param, parse_time
from api.spec import api_doc
from read import status as queries
from read import tutors as tutor_queries
from domain.first_session import DIMENSIONS

TUTOR_STATUSES = ("active", "onboarding", "inactive")
SORTABLE = ("tutor_id", "name", "first_sessions", "rated_completed", "success_rate", "completion_rate",
            "avg_rating", "wow_trend")
MAX_LIMIT = 1000


class ParamError(ValueError):
    """A query parameter the route cannot use; the message says which and what is allowed."""


def _engine():
    return queries.engine_for(current_app.extensions["settings"])


def _choice(name: str, allowed, default: str | None = None) -> str | None:
    raw = request.args.get(name) or default
    if raw is not None and raw not in allowed:
        raise ParamError(f"{name} must be one of {', '.join(allowed)}, not {raw!r}")
    return raw


def _time(name: str) -> datetime | None:
    """ISO 8601 date or time -> naive UTC (offsets converted), 1970-2200."""
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        return parse_time(name, raw)
    except ValueError as exc:
        raise ParamError(f"{exc} (e.g. 2026-05-01 or 2026-05-01T00:00:00Z)") from None


def _clean(value):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if hasattr(value, "item"):
        return _clean(value.item())
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


@bp.errorhandler(ParamError)
def _bad(exc):
    return jsonify(error=str(exc)), 400


@bp.get("/tutors")
@api_doc("Tutors with first-session statistics for a period of the newest computation (rates are fractions, "
         "wow_trend in points)", params=[
             {"name": "period", "schema": {"type": "string", "enum": list(tutor_queries.PERIODS)},
              "description": f"default {tutor_queries.DEFAULT_PERIOD}"},
             {"name": "subject", "description": "tutors who teach this subject"},
             {"name": "region", "description": "tutor's region (US state code)"},
             {"name": "status", "schema": {"type": "string", "enum": list(TUTOR_STATUSES)}},
             {"name": "min_first_sessions", "schema": {"type": "integer", "minimum": 0, "maximum": 1_000_000}},
             {"name": "sort", "description": f"one of {', '.join(SORTABLE)}; prefix - for descending; empty values last"},
             {"name": "limit", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}},
             {"name": "offset", "schema": {"type": "integer", "minimum": 0, "maximum": 10_000_000}},
         ])
def list_tutors():
    period = _choice("period", tutor_queries.PERIODS, tutor_queries.DEFAULT_PERIOD)
    status = _choice("status", TUTOR_STATUSES)
    sort = request.args.get("sort") or "tutor_id"
    if sort.lstrip("-") not in SORTABLE:
        raise ParamError(f"sort must be one of {', '.join(SORTABLE)} (prefix - for descending), not {sort!r}")
    min_fs = int_param("min_first_sessions", 0, 0, 1_000_000)
    limit, offset = int_param("limit", 100, 1, MAX_LIMIT), int_param("offset", 0, 0, 10_000_000)
    engine = _engine()
    grid = tutor_queries.tutor_grid(engine, period, subject=request.args.get("subject") or None,
                                    region=request.args.get("region") or None, status=status,
                                    min_first_sessions=min_fs)
    field = sort.lstrip("-")
    grid = grid.sort_values([field, "tutor_id"], ascending=[not sort.startswith("-"), True], na_position="last",
                            kind="stable")
    page = grid.iloc[offset:offset + limit]
    computed_at = tutor_queries.latest_computed_at(engine)
    return jsonify(period=period, computed_at=_clean(computed_at), total=len(grid), limit=limit, offset=offset,
                   rows=[{k: _clean(v) for k, v in row.items()} for row in page.to_dict("records")])


@bp.get("/first-sessions")
@api_doc("First-session statistics grouped by tutor, subject, segment or region, for first sessions starting "
         "in [since, until) (all time when omitted)", params=[
             {"name": "by", "schema": {"type": "string", "enum": list(DIMENSIONS)}, "required": True},
             {"name": "since", "schema": {"type": "string", "format": "date-time"}, "description": "inclusive"},
             {"name": "until", "schema": {"type": "string", "format": "date-time"}, "description": "exclusive"},
         ])
def first_session_stats():
    if not request.args.get("by"):
        raise ParamError(f"by is required: one of {', '.join(DIMENSIONS)}")
    by = _choice("by", tuple(DIMENSIONS))
    since, until = _time("since"), _time("until")
    if since is not None and until is not None and since >= until:
        raise ParamError("since must be before until")
    rows = tutor_queries.first_session_api(_engine(), by, since, until)
    return jsonify(by=by, since=_clean(since), until=_clean(until),
                   rows=[{k: _clean(v) for k, v in r.items()} for r in rows])
