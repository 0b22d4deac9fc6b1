"""What operators tune: silence windows and per-metric detector rules, with validation, and the
30-day preview of a rule before it is saved. Writes are validated here; callers audit-log them."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine

from models.derived import MetricRule, Silence
from domain.alerting.lifecycle import RuleError
from auth.permissions import PERMISSIONS, can
from infra.clock import utcnow
from loaders.streams import detector_rules, metric_rules
from domain.anomaly import DetectorConfig
from domain.anomaly import config_for

EDIT_ROLES = PERMISSIONS["rules.edit"]  # who may silence alerts and change detector rules
MAX_SILENCE = timedelta(days=90)
DIRECTIONS = ("both", "up", "down")
# The schema of what an operator may set, from the page or anywhere else: exactly the rule form's fields,
# numbers within bounds. A preview costs time and memory in proportion to some settings (a baseline over
# 600 weeks took 2 GB); those are not operators' to tune, and the ones that are stay in sane ranges.
# (section, key) -> "bool", "direction" or (type, lowest, highest)
RULE_SCHEMA: dict[tuple[str, str], object] = {
    ("robust_zscore", "enabled"): "bool",
    ("robust_zscore", "threshold"): (float, 1.0, 50.0),
    ("robust_zscore", "sustained_threshold"): (float, 1.0, 50.0),
    ("robust_zscore", "sustained_points"): (int, 1, 48),
    ("robust_zscore", "direction"): "direction",
    ("sigma", "enabled"): "bool",
    ("sigma", "threshold"): (float, 0.5, 50.0),
    ("sigma", "direction"): "direction",
    ("week_over_week", "enabled"): "bool",
    ("week_over_week", "threshold_pct"): (float, 1.0, 1000.0),
    ("week_over_week", "min_zscore"): (float, 0.0, 50.0),
    ("week_over_week", "window_hours"): (float, 1.0, 168.0),
    ("week_over_week", "direction"): "direction",
    ("consecutive_drops", "enabled"): "bool",
    ("consecutive_drops", "drops"): (int, 2, 14),
    ("consecutive_drops", "min_total_drop_pct"): (float, 0.0, 100.0),
}


def can_edit(role: str | None) -> bool:
    return can(role, "rules.edit")


def checked_value(section: str, key: str, value):
    """`value` for setting section.key as the schema allows it (form strings read as numbers); RuleError else."""
    name = f"{section}.{key}"
    kind = RULE_SCHEMA.get((section, key))
    if kind is None:
        raise RuleError(f"unknown setting {name}: only the form's settings can be changed")
    if value is None or value == "":
        raise RuleError(f"{name} needs a value (numbers: 0 or more).")
    if kind == "bool":
        if not isinstance(value, bool):
            raise RuleError(f"{name} must be on or off.")
        return value
    if kind == "direction":
        if value not in DIRECTIONS:
            raise RuleError(f"{name}: direction must be one of {', '.join(DIRECTIONS)}.")
        return value
    typ, lo, hi = kind
    if isinstance(value, bool):
        raise RuleError(f"{name} must be a number.")
    if isinstance(value, str):
        try:
            value = float(value.strip()[:40])
        except ValueError:
            raise RuleError(f"{name} must be a number.") from None
    if not isinstance(value, (int, float)) or value != value:
        raise RuleError(f"{name} must be a number.")
    if value < 0:
        raise RuleError(f"{name} cannot be negative.")
    if typ is int and not float(value).is_integer():
        raise RuleError(f"{name} must be a whole number.")
    if not lo <= value <= hi:
        raise RuleError(f"{name} must be at least {lo:g} and at most {hi:g}.")
    return typ(value)


def validate_overrides(overrides) -> dict:
    """A stored or submitted rule {section: {key: value}} checked against RULE_SCHEMA; RuleError otherwise."""
    if not isinstance(overrides, dict):
        raise RuleError("A rule is a set of the form's settings.")
    out: dict = {}
    sections = {section for section, _ in RULE_SCHEMA}
    for section, values in overrides.items():
        if section not in sections or not isinstance(values, dict):
            raise RuleError(f"unknown setting {str(section)[:40]}: only the form's settings can be changed")
        for key, value in values.items():
            out.setdefault(section, {})[key] = checked_value(str(section), str(key), value)
    return out


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
    """Form values {(section, key): value} -> the nested overrides that differ from `base`, each checked
    against RULE_SCHEMA (a forged request naming another setting is refused).

    Only differences are stored, so later improvements of the defaults reach untouched settings."""
    out: dict = {}
    for (section, key), value in values.items():
        value = checked_value(str(section), str(key), value)
        if value != getattr(getattr(base, section), key):
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
    overrides = validate_overrides(overrides)
    _apply(DetectorConfig(), overrides)
    payload = json.dumps(overrides, sort_keys=True)
    with engine.begin() as conn:
        exists = conn.execute(select(MetricRule.metric).where(MetricRule.metric == metric)).first()
        values = dict(settings=payload, updated_at=at, updated_by=user_email)
        if exists:
            conn.execute(update(MetricRule).where(MetricRule.metric == metric).values(**values))
        else:
            conn.execute(insert(MetricRule).values(metric=metric, **values))


