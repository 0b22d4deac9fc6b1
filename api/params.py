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
MAX_ID = 2**31 - 1  # ids are 32-bit integers in the store: a larger one names nothing (404), never a 500
ID = f"int(min=1, max={MAX_ID})"  # route converter, e.g. f"/alerts/<{ID}:alert_id>"
EARLIEST, LATEST = datetime(1970, 1, 1), datetime(2200, 1, 1)  # times outside are typos or probes


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


def parse_time(name: str, raw) -> datetime:
    """ISO 8601 date or time -> naive UTC, between 1970 and 2200; ValueError with a message otherwise
    (also for 0001-01-01T00:00:00+23:00, which has no UTC time)."""
    if not isinstance(raw, str) or len(raw) > MAX_PARAM_LENGTH:
        raise ValueError(f"{name} must be an ISO 8601 time, e.g. 2026-11-01T00:00:00Z")
    try:
        value = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
        value = value.astimezone(timezone.utc).replace(tzinfo=None) if value.tzinfo else value
    except (ValueError, OverflowError):
        raise ValueError(f"{name} must be an ISO 8601 time, e.g. 2026-11-01T00:00:00Z") from None
    if not EARLIEST <= value < LATEST:
        raise ValueError(f"{name} must be between {EARLIEST.year} and {LATEST.year}")
    return value


def time_param(name: str) -> datetime | None:
    """ISO 8601 time -> naive UTC."""
    raw = _raw(name)
    if raw is None:
        return None
    try:
        return parse_time(name, raw)
    except ValueError as exc:
        raise ParamError(name, str(exc)) from None


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
