"""What operators tune: silence windows and per-metric detector rules, with validation, and the
30-day preview of a rule before it is saved. Writes are validated here; callers audit-log them."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine

from models.derived import MetricRule, Silence
from domain.alerting.lifecycle import RuleError
from infra.clock import utcnow
from loaders.streams import detector_rules, metric_rules
from domain.anomaly import DetectorConfig
from domain.anomaly import config_for

EDIT_ROLES = ("admin", "ops")  # who may silence alerts and change detector rules
MAX_SILENCE = timedelta(days=90)


def can_edit(role: str | None) -> bool:
    return role in EDIT_ROLES


def add_silence(engine: Engine, rule: str | None, metric: str | None, starts_at: datetime, ends_at: datetime,
                reason: str | None, user_email: str | None, at: datetime | None = None) -> int:
    """A window in which new alerts of `rule` (or its sub-rules) and/or about `metric` are not raised."""
    at = at or utcnow()
    rule, metric, reason = (rule or "").strip() or None, (metric or "").strip() or None, (reason or "").strip() or None
    if not rule and not metric:
        raise RuleError("Name a rule or a metric to silence.")
    if rule and (len(rule) > 64 or any(c.isspace() for c in rule)):
        raise RuleError("A rule is one word of at most 64 characters, e.g. trigger.calls_14d or anomaly.")
    if metric and len(metric) > 128:
        raise RuleError("A metric name has at most 128 characters.")
    if ends_at <= starts_at:
        raise RuleError("The silence must end after it starts.")
    if ends_at <= at:
        raise RuleError("The silence must end in the future.")
    if ends_at - starts_at > MAX_SILENCE:
        raise RuleError(f"A silence lasts at most {MAX_SILENCE.days} days; add another one later if needed.")
    if not reason:
        raise RuleError("Say why (it is shown to everyone who wonders where the alerts went).")
    with engine.begin() as conn:
        return conn.execute(insert(Silence).values(rule=rule, metric=metric, starts_at=starts_at, ends_at=ends_at,
                                                   reason=reason[:1000], created_by=user_email)).inserted_primary_key[0]


def end_silence(engine: Engine, silence_id: int, at: datetime | None = None) -> None:
    at = at or utcnow()
    with engine.begin() as conn:
        done = conn.execute(update(Silence).where(Silence.id == silence_id, Silence.ends_at > at)
                            .values(ends_at=at)).rowcount
    if not done:
        raise RuleError(f"Silence {silence_id} does not exist or has already ended.")


def rule_configs(engine: Engine, metric: str):
    """(base, saved, stored): the config from glob rules and defaults only, the config in force for the
    metric (base plus its own rule), and the metric's own stored overrides."""
    rules = detector_rules(engine)
    own = metric_rules(engine).get(metric, {}).get("settings", {})
    rules.pop(metric, None)
    base = config_for(metric, rules)
    return base, _apply(base, own), own


def _apply(base, overrides: dict):
    try:
        return base.with_overrides(overrides)
    except (ValueError, TypeError) as exc:
        raise RuleError(str(exc)) from None


def overrides_from(values: dict[tuple[str, str], object], base) -> dict:
    """Form values {(section, key): value} -> the nested overrides that differ from `base`.

    Only differences are stored, so later improvements of the defaults reach untouched settings."""
    out: dict = {}
    for (section, key), value in values.items():
        current = getattr(getattr(base, section), key)
        if value is None or value == "":
            raise RuleError(f"{section}.{key} needs a value (numbers: 0 or more).")
        if isinstance(current, bool):
            value = bool(value)
        elif isinstance(current, (int, float)):
            if isinstance(value, str):
                try:
                    value = float(value)
                except ValueError:
                    raise RuleError(f"{section}.{key} must be a number.") from None
            if value < 0:
                raise RuleError(f"{section}.{key} cannot be negative.")
            if isinstance(current, int):
                if not float(value).is_integer():
                    raise RuleError(f"{section}.{key} must be a whole number.")
                value = int(value)
        if value != current:
            out.setdefault(section, {})[key] = value
    _apply(base, out)  # the detector's own checks (directions, minimums)
    return out


def save_metric_rule(engine: Engine, metric: str, overrides: dict, user_email: str | None,
                     at: datetime | None = None) -> None:
    """Store a metric's detector overrides in metric_rules (one row per metric or glob)."""
    at = at or utcnow()
    metric = (metric or "").strip()
    if not metric or len(metric) > 128:
        raise RuleError("Choose a metric.")
    _apply(DetectorConfig(), overrides)
    payload = json.dumps(overrides, sort_keys=True)
    with engine.begin() as conn:
        exists = conn.execute(select(MetricRule.metric).where(MetricRule.metric == metric)).first()
        values = dict(settings=payload, updated_at=at, updated_by=user_email)
        if exists:
            conn.execute(update(MetricRule).where(MetricRule.metric == metric).values(**values))
        else:
            conn.execute(insert(MetricRule).values(metric=metric, **values))


