"""Alerts: what a job raises (AlertSpec), the lifecycle rules, and grouping — pure, no database.

Every feature raises alerts the same way: build AlertSpecs for the conditions that hold now and
hand them to writes.alerts.sync_alerts(rule, specs). One open alert per dedup key; a
condition that clears resolves its alert when the rule says so.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime

TYPES = ("customer_risk", "tutor_performance", "supply_demand", "anomaly", "data_quality")
SEVERITIES = ("critical", "warning", "info")
OPEN_STATES = ("active", "acknowledged", "snoozed")
STATES = OPEN_STATES + ("resolved", "dismissed")

# action -> (states it may be taken from, state it leads to)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "acknowledge": (("active", "snoozed"), "acknowledged"),
    "resolve": (OPEN_STATES, "resolved"),
    "dismiss": (OPEN_STATES, "dismissed"),
    "snooze": (("active", "acknowledged", "snoozed"), "snoozed"),
    "reopen": (("resolved", "dismissed", "acknowledged", "snoozed"), "active"),
}


class TransitionError(ValueError):
    """An action that the alert's current state does not allow, with a message for the user."""


@dataclass
class AlertSpec:
    rule: str                      # e.g. "trigger.calls_14d", "anomaly.robust_zscore", "supply.shortage"
    type: str                      # one of TYPES
    severity: str                  # one of SEVERITIES
    title: str
    message: str                   # the why, with numbers
    dedup_key: str                 # the same condition -> the same key -> one open alert
    entity_id: str | None = None   # customer, tutor, subject, metric ...
    current_value: float | None = None
    expected_value: str | None = None  # value or range, as text ("≥ 0.80", "12–18")
    investigation: list[str] = field(default_factory=list)  # suggested steps
    link: str | None = None        # the view that shows it
    auto_resolve: bool = True
    details: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.type not in TYPES:
            raise ValueError(f"alert type {self.type!r} not in {TYPES}")
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity {self.severity!r} not in {SEVERITIES}")

    def to_dict(self) -> dict:
        return asdict(self)


def next_state(current: str, action: str) -> str:
    """The state an action leads to, or TransitionError saying why not."""
    if action not in TRANSITIONS:
        raise TransitionError(f"Unknown action {action!r}; use one of {', '.join(TRANSITIONS)}.")
    allowed, target = TRANSITIONS[action]
    if current not in allowed:
        raise TransitionError(f"Cannot {action} an alert that is {current}.")
    return target


def is_silenced(rule: str, entity_id: str | None, at: datetime, silences: list[dict]) -> bool:
    """True when a silence window covers this rule (or this metric/entity) at `at`."""
    for s in silences:
        if not (s["starts_at"] <= at < s["ends_at"]):
            continue
        if s.get("rule") and s["rule"] != rule and not rule.startswith(s["rule"] + "."):
            continue
        if s.get("metric") and s["metric"] != entity_id:
            continue
        return True
    return False


class RuleError(ValueError):
    """A silence or detector rule refused, with a message fit to show the user."""
