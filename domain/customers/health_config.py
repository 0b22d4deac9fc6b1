"""Weights and thresholds of the customer health score, and the plain-words formula of each component.

The contract (DATA_CONTRACT.md, "Health score") fixes the five components and their default weights;
how each component maps raw facts to 0-100 is ours, and every number used for that lives here so
that it can be tuned without touching the scoring code. `component_docs(config)` renders the formulas
for the page that shows a score; `COMPONENT_DOCS` is that text for the default config.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Mapping

COMPONENTS: tuple[str, ...] = ("first_session", "velocity", "calls", "goal", "tutor_consistency")
COMPONENT_LABELS: dict[str, str] = {
    "first_session": "First-session success",
    "velocity": "Session velocity",
    "calls": "Inbound-call frequency",
    "goal": "Goal completion status",
    "tutor_consistency": "Tutor consistency",
}
DEFAULT_WEIGHTS: Mapping[str, float] = MappingProxyType(
    {"first_session": 0.30, "velocity": 0.25, "calls": 0.20, "goal": 0.15, "tutor_consistency": 0.10}
)
TIERS: tuple[str, ...] = ("critical", "at-risk", "healthy", "thriving")
TIER_LABELS: dict[str, str] = {
    "critical": "Critical", "at-risk": "At risk", "healthy": "Healthy", "thriving": "Thriving",
}

_SCORE_FIELDS = (
    "fs_success", "fs_ok", "fs_low", "fs_unrated", "fs_no_show", "fs_none_new", "fs_none_waiting",
    "fs_none_late", "fs_none_booked", "new_customer_velocity_floor", "goal_completed_recent", "goal_completed",
    "goal_in_progress", "goal_none", "tutor_neutral",
)


@dataclass(frozen=True)
class HealthConfig:
    """Everything tunable about the health score. Invalid values raise ValueError on construction.

    Component scores (`fs_*`, `goal_*`, `tutor_neutral`, `new_customer_velocity_floor`) are points on
    the 0-100 scale; penalties are points taken off per call; tier bounds are the highest whole score
    of each tier (critical 0-40, at-risk 41-70, healthy 71-85, thriving 86-100 by default).
    """
    weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    # first-session success
    fs_success_rating: float = 4.0  # rating >= this is a success (contract)
    fs_ok_rating: float = 3.0  # rating >= this (and below success) is "ok"; below is low (contract trigger)
    fs_success: float = 100.0
    fs_ok: float = 50.0
    fs_low: float = 10.0
    fs_unrated: float = 70.0
    fs_no_show: float = 20.0
    fs_none_new: float = 60.0  # no first session yet, signed up < fs_wait_days ago
    fs_none_waiting: float = 40.0  # no first session yet, fs_wait_days .. fs_late_days-1 days
    fs_none_late: float = 20.0  # no first session yet, fs_late_days+ days
    fs_none_booked: float = 70.0  # no first session yet but one is booked: at least this
    fs_wait_days: int = 7
    fs_late_days: int = 14
    # session velocity
    # (sessions/week, score) points joined by straight lines; the last point's pace is the target
    velocity_points: tuple[tuple[float, float], ...] = ((0.0, 0.0), (1.0, 75.0), (2.0, 100.0))
    new_customer_days: int = 14  # younger customers are measured over their tenure and get the floor
    new_customer_velocity_floor: float = 60.0
    # inbound calls
    call_penalty_14d: float = 25.0
    call_penalty_30d: float = 10.0  # per call 15-30 days ago
    heavy_reasons: tuple[str, ...] = ("billing", "cancellation")
    heavy_multiplier: float = 1.5
    # goal
    # A reached goal is a fork: customers set a new one or leave (the goal_completed trigger says
    # cross-sell), so a fresh completion scores below a goal in progress.
    goal_in_progress: float = 80.0
    goal_completed_recent: float = 40.0  # completed within goal_recent_days
    goal_completed: float = 70.0  # completed longer ago and still a customer
    goal_recent_days: int = 30
    goal_none: float = 50.0
    # tutor consistency
    tutor_recent_sessions: int = 10
    tutor_min_sessions: int = 2
    tutor_neutral: float = 50.0
    # tiers: highest whole score in critical, at-risk, healthy (the rest is thriving)
    tier_bounds: tuple[int, int, int] = (40, 70, 85)

    def __post_init__(self) -> None:
        weights = dict(self.weights)
        if set(weights) != set(COMPONENTS):
            raise ValueError(
                f"weights must have exactly the components {', '.join(COMPONENTS)}; got {', '.join(sorted(weights))}"
            )
        bad = {k: v for k, v in weights.items() if not (isinstance(v, (int, float)) and 0 <= v <= 1)}
        if bad:
            raise ValueError(f"each weight must be a number between 0 and 1; got {bad}")
        total = math.fsum(weights.values())
        if not math.isclose(total, 1.0, abs_tol=1e-6):
            raise ValueError(f"weights must sum to 1; they sum to {total:.6g}")
        object.__setattr__(self, "weights", MappingProxyType({c: float(weights[c]) for c in COMPONENTS}))
        for name in _SCORE_FIELDS:
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and 0 <= value <= 100):
                raise ValueError(f"{name} must be a score between 0 and 100; got {value!r}")
        if not 0 < self.fs_ok_rating <= self.fs_success_rating:
            raise ValueError("need 0 < fs_ok_rating <= fs_success_rating")
        if not 0 < self.fs_wait_days <= self.fs_late_days:
            raise ValueError("need 0 < fs_wait_days <= fs_late_days")
        points = tuple((float(x), float(y)) for x, y in self.velocity_points)
        xs, ys = [x for x, _ in points], [y for _, y in points]
        if (len(points) < 2 or xs[0] != 0 or any(b <= a for a, b in zip(xs, xs[1:]))
                or any(b < a for a, b in zip(ys, ys[1:])) or not all(0 <= y <= 100 for y in ys)):
            raise ValueError("velocity_points must be 2+ (sessions/week, score) points starting at 0 sessions/week, "
                             f"pace increasing, scores 0-100 and not decreasing; got {self.velocity_points}")
        object.__setattr__(self, "velocity_points", points)
        if self.goal_recent_days < 0:
            raise ValueError("goal_recent_days must be >= 0")
        if self.new_customer_days < 0:
            raise ValueError("new_customer_days must be >= 0")
        if self.call_penalty_14d < 0 or self.call_penalty_30d < 0 or self.heavy_multiplier < 1:
            raise ValueError("call penalties must be >= 0 and heavy_multiplier >= 1")
        if not 1 <= self.tutor_recent_sessions <= 1000 or not 1 <= self.tutor_min_sessions <= self.tutor_recent_sessions:
            raise ValueError("need 1 <= tutor_recent_sessions <= 1000 and 1 <= tutor_min_sessions <= tutor_recent_sessions")
        lo, mid, hi = self.tier_bounds
        if not 0 <= lo < mid < hi < 100:
            raise ValueError(f"tier_bounds must be increasing whole scores within 0..99; got {self.tier_bounds}")
        object.__setattr__(self, "heavy_reasons", tuple(self.heavy_reasons))

    @property
    def velocity_target(self) -> float:
        """The pace (sessions/week) that earns the top velocity score."""
        return self.velocity_points[-1][0]


def component_docs(config: HealthConfig | None = None) -> dict[str, str]:
    """Formula of each of the five components (keys of COMPONENTS) in plain words, with the config's numbers."""
    c = config or HealthConfig()
    w = {k: f"{v * 100:g} %" for k, v in c.weights.items()}
    return {
        "first_session": (
            f"Weight {w['first_session']}. Looks at the customer's first session (earliest completed or "
            f"no-show session). Completed and rated {c.fs_success_rating:g}+ = {c.fs_success:g}; rated "
            f"{c.fs_ok_rating:g} to below {c.fs_success_rating:g} = {c.fs_ok:g}; rated below {c.fs_ok_rating:g} = "
            f"{c.fs_low:g}; completed but not rated = {c.fs_unrated:g}; no-show = {c.fs_no_show:g}. No first "
            f"session yet: {c.fs_none_new:g} up to day {c.fs_wait_days - 1} after signup, {c.fs_none_waiting:g} "
            f"from day {c.fs_wait_days} to day {c.fs_late_days - 1}, {c.fs_none_late:g} from day {c.fs_late_days} on; "
            f"at least {c.fs_none_booked:g} when a session is already booked."
        ),
        "velocity": (
            f"Weight {w['velocity']}. Completed sessions per week over the last 28 days (customers younger than "
            f"28 days: over the days since signup, at least 7), scored on straight lines between "
            f"{', '.join(f'{x:g}/week = {y:g}' for x, y in c.velocity_points)} (faster still counts as "
            f"{c.velocity_points[-1][1]:g}). Customers younger than {c.new_customer_days} days get at least "
            f"{c.new_customer_velocity_floor:g}: too early to judge."
        ),
        "calls": (
            f"Weight {w['calls']}. 100 minus {c.call_penalty_14d:g} points per inbound support call in the last "
            f"14 days and {c.call_penalty_30d:g} points per call 15 to 30 days ago; calls about "
            f"{' or '.join(c.heavy_reasons) or 'nothing'} count {c.heavy_multiplier:g} times. Never below 0."
        ),
        "goal": (
            f"Weight {w['goal']}. Goal in progress = {c.goal_in_progress:g}; goal completed in the last "
            f"{c.goal_recent_days} days = {c.goal_completed_recent:g} (a fork: customers who reach their goal "
            f"often leave unless they set a new one, so cross-sell now); completed earlier and still here = "
            f"{c.goal_completed:g}; no goal set = {c.goal_none:g}. A goal completed after the scoring time "
            f"counts as in progress."
        ),
        "tutor_consistency": (
            f"Weight {w['tutor_consistency']}. Share of the customer's last {c.tutor_recent_sessions} completed "
            f"sessions that were with their most frequent tutor, times 100. With fewer than "
            f"{c.tutor_min_sessions} completed sessions it is {c.tutor_neutral:g} (not enough to judge)."
        ),
    }


def score_doc(config: HealthConfig | None = None) -> str:
    """How the five components add up to the score and how the score maps to a tier, in plain words."""
    c = config or HealthConfig()
    lo, mid, hi = c.tier_bounds
    return (
        f"Health score = sum of weight x component score, 0 to 100, shown to one decimal. For the tier it is "
        f"rounded to a whole number (halves round up): critical 0-{lo}, at risk {lo + 1}-{mid}, "
        f"healthy {mid + 1}-{hi}, thriving {hi + 1}-100."
    )


COMPONENT_DOCS: dict[str, str] = component_docs()
SCORE_DOC: str = score_doc()


def parse_health_config(raw: str | None) -> HealthConfig:
    """HealthConfig from the HEALTH_WEIGHTS setting: JSON of HealthConfig fields to override, e.g.
    ``{"weights": {"first_session": 0.3, ...}, "tier_bounds": [40, 70, 85]}``; a plain mapping of the
    five components is taken as the weights. Empty: the defaults. Bad JSON or values: ValueError."""
    raw = (raw or "").strip()
    if not raw:
        return HealthConfig()
    try:
        overrides = json.loads(raw)
    except ValueError as exc:
        raise ValueError(f"HEALTH_WEIGHTS is not valid JSON: {exc}") from None
    if not isinstance(overrides, dict):
        raise ValueError("HEALTH_WEIGHTS must be a JSON object")
    known = {f.name for f in fields(HealthConfig)}
    if overrides and set(overrides) <= set(COMPONENTS):
        overrides = {"weights": overrides}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ValueError(f"HEALTH_WEIGHTS has unknown key(s) {', '.join(unknown)}; use {', '.join(sorted(known))}")
    tupled = {k: (tuple(tuple(x) if isinstance(x, list) else x for x in v) if isinstance(v, list) else v)
              for k, v in overrides.items()}
    try:
        return HealthConfig(**tupled)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"HEALTH_WEIGHTS: {exc}") from None
