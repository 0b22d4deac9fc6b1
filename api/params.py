"""Query-parameter parsing for API routes: one way to read, validate and refuse input.

A refused value raises ParamError; the blueprint turns it into 400 JSON with the message and logs
the route and parameter name (never the value, which may be hostile or huge).
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone

from flask import jsonify, request

from api.blueprint import bp

log = logging.getLogger("api.params")
MAX_PARAM_LENGTH = 200


class ParamError(ValueError):
    """A query parameter the route cannot use; the message says which and what is allowed."""

    def __init__(self, name: str, message: str):
        super().__init__(message)
        self.name = name


@bp.errorhandler(ParamError)
def _refused(exc: ParamError):
    log.warning("refused API input: %s %s parameter %r: %s", request.method, request.path, exc.name, exc)
    return jsonify(error=str(exc), parameter=exc.name), 400


def _raw(name: str) -> str | None:
    raw = request.args.get(name)
    if raw is None or raw.strip() == "":
        return None
    if len(raw) > MAX_PARAM_LENGTH:
        raise ParamError(name, f"{name} is too long (at most {MAX_PARAM_LENGTH} characters)")
    return raw.strip()


def int_param(name: str, default: int | None, lo: int | None = None, hi: int | None = None) -> int | None:
    raw = _raw(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ParamError(name, f"{name} must be a whole number")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise ParamError(name, f"{name} must be between {lo} and {hi}")
    return value


def float_param(name: str, default: float | None, lo: float | None = None, hi: float | None = None) -> float | None:
    raw = _raw(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ParamError(name, f"{name} must be a number")
    if value != value or (lo is not None and value < lo) or (hi is not None and value > hi):
        raise ParamError(name, f"{name} must be between {lo} and {hi}")
    return value


def time_param(name: str) -> datetime | None:
    """ISO 8601 time -> naive UTC."""
    raw = _raw(name)
    if raw is None:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ParamError(name, f"{name} must be an ISO 8601 time, e.g. 2026-11-01T00:00:00Z")
    return value.astimezone(timezone.utc).replace(tzinfo=None) if value.tzinfo else value


def choice_param(name: str, choices, default: str | None = None) -> str | None:
    raw = _raw(name)
    if raw is None:
        return default
    if raw not in choices:
        raise ParamError(name, f"{name} must be one of {', '.join(sorted(choices))}")
    return raw


def text_param(name: str, max_length: int = 100) -> str | None:
    raw = _raw(name)
    if raw is not None and len(raw) > max_length:
        raise ParamError(name, f"{name} is too long (at most {max_length} characters)")
    return raw


def page_params(default_limit: int = 100, max_limit: int = 1000) -> tuple[int, int]:
    return int_param("limit", default_limit, 1, max_limit), int_param("offset", 0, 0, 10_000_000)
