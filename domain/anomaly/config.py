"""Detector settings: one dataclass per method, grouped in DetectorConfig.

Everything here is JSON-able so a per-metric rule can live in the `metric_rules` table
(`settings` column) as a nested dict of overrides, e.g.

    {"robust_zscore": {"threshold": 6}, "week_over_week": {"enabled": false}}

Unknown sections or keys raise ValueError: a typo in a rule must fail loudly, not be ignored.
Durations are plain numbers of hours so the JSON stays readable.
"""
from __future__ import annotations

import copy
import fnmatch
from dataclasses import asdict, dataclass, field, fields, is_dataclass
from typing import Any, Mapping

DIRECTIONS = ("both", "up", "down")


@dataclass
class Baseline:
    """How the expected value and its spread are built (shared by robust_zscore and sigma)."""
    level_days: float = 3.0        # the level is the trailing median over this many days
    weeks: int = 6                 # same hour-of-week in the last N weeks
    days: int = 7                  # same hour-of-day in the last N days
    min_cycles: int = 3            # cycles of history before a seasonal profile is trusted
    seasonal_mode: str = "auto"    # "additive", "multiplicative", or auto (multiplicative for positive series)
    select_days: float = 7.0       # profiles compete on their typical miss over this trailing window
    spread_days: int = 14          # residual spread: same hour-of-day in the last N days
    neighbour_minutes: float = 60  # ... pooled over +/- this
    min_history_points: int = 24   # nothing is flagged before this many observed points
    min_daytype_days: int = 2      # sub-daily data: nor before this many earlier days of the same kind
                                   # (weekday/weekend) hold data -- a first weekend is not news
    min_spread_pct: float = 1.0    # spread floor, % of the typical absolute level (flat series)
    min_spread: float = 0.0        # absolute spread floor (in the metric's units)
    count_floor: bool = True       # non-negative integer series: spread >= sqrt(expected) (Poisson)
    scale: str = "auto"            # "linear", "log", or auto: log for positive series whose misses are
                                   # right-skewed (latency, durations, small rates): spikes there are
                                   # multiplicative, and 3x over is as unusual as a third of
    skew_ratio: float = 1.5        # auto: log when the 99.9th percentile miss is this many times the 0.1th


@dataclass
class RobustZScore:
    """Robust z = (value - seasonal median) / (1.4826 x median miss); the default method."""
    enabled: bool = True
    threshold: float = 5.0             # one point this far out is an event
    sustained_threshold: float = 3.5   # ... or this far out for `sustained_points` in a row
    sustained_points: int = 3
    sustained_minutes: float = 30.0    # ... and covering at least this long (5-minute noise runs are not news)
    pair_threshold: float = 3.5        # ... or this far out for 2 points in a row covering 30+ minutes
    direction: str = "both"
    routine_days: float = 28.0         # isolated spikes recurring more often than this are routine:
                                       # the single-point bar rises 1.5x above them (0 = off) ...
    routine_window_days: float = 56.0  # ... judged over this much history (spiky: see pointwise.py)
    single_point: str = "linear"       # where one point may alert alone: "all"; "linear" (a stream judged on
                                       # the log scale -- latency, durations, small rates -- takes 2 in a row
                                       # beyond pair_threshold); "none"
    warmup_days: float = 14.0          # for the first days of history (two weekly cycles) the bars are ...
    warmup_factor: float = 2.0         # ... this much higher: only extreme deviations (no weekly shape known yet)
    calibrate: bool = True             # bars from the stream's own tail (tail.py) instead of the routine/spiky rules:
    false_alarms_per_week: float = 1.5 # ... the rate at which its own past would have crossed the bars
                                       # (lone point, 3- and 12-point means together; before grouping)
    calibration_days: float = 14.0     # ... judged over this much trailing history (observed points)


@dataclass
class Sigma:
    """Classic rule: |value - seasonal mean| > k * standard deviation of the same-phase history."""
    enabled: bool = False
    threshold: float = 2.0
    direction: str = "both"


@dataclass
class WeekOverWeek:
    """Trailing window vs the same window a week earlier and vs its median over compare_weeks weeks."""
    enabled: bool = True
    threshold_pct: float = 20.0
    window_hours: float = 24.0
    agg: str = "mean"                  # "mean" or "sum" (sum for counts, with min_volume)
    min_volume: float = 0.0            # the larger window aggregate must reach this
    min_zscore: float = 4.0            # the change must also be unusual for this metric (0 = off)
    compare_weeks: int = 3             # ... and must hold against the median of the last N weeks' window
    history_weeks: int = 8             # past window-over-window changes the z is measured against
    direction: str = "both"
    min_coverage: float = 0.8          # share of the window that must hold data


@dataclass
class ConsecutiveDrops:
    """N consecutive drops of a per-period aggregate (relative to the usual for that weekday)."""
    enabled: bool = True
    drops: int = 3
    period_hours: float = 24.0         # aggregate per day ...
    seasonal_weeks: int = 3            # ... divided by its median on the same weekday of the last N weeks (0 = raw)
    smooth_periods: int = 1            # optional trailing mean over this many periods
    min_step_pct: float = 1.0          # a drop smaller than this is noise, not a drop
    min_total_drop_pct: float = 10.0   # from before the first drop to the last
    min_zscore: float = 3.0            # the fall must be unusual against past falls of the same length (0 = off)
    history_weeks: int = 8
    agg: str = "mean"
    min_volume: float = 0.0
    min_coverage: float = 0.8


@dataclass
class DetectorConfig:
    baseline: Baseline = field(default_factory=Baseline)
    robust_zscore: RobustZScore = field(default_factory=RobustZScore)
    sigma: Sigma = field(default_factory=Sigma)
    week_over_week: WeekOverWeek = field(default_factory=WeekOverWeek)
    consecutive_drops: ConsecutiveDrops = field(default_factory=ConsecutiveDrops)
    merge_gap_hours: float = 3.0       # flags this close together are one event
    refractory_hours: float = 24.0     # an event starting this soon after the last one (any method) is the same
                                       # incident unfolding: not raised again (0 = off)
    holidays: str = "none"             # a country code ("US"): holidays are left out of the baselines and
                                       # events mostly on one are not raised (see calendar.py)
    holiday_timezones: str = "America/New_York,America/Los_Angeles"  # the local day spans these zones
    severity_critical: float = 2.0     # score / threshold at which an event is critical
    severity_warning: float = 1.25     # ... warning; below it, info

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> "DetectorConfig":
        return cls().with_overrides(data)

    def with_overrides(self, data: Mapping[str, Any] | None) -> "DetectorConfig":
        """A copy with a nested dict of overrides applied (the `metric_rules.settings` JSON)."""
        out = copy.deepcopy(self)
        for key, value in (data or {}).items():
            if key not in _FIELD_NAMES[type(self)]:
                raise ValueError(f"unknown detector setting {key!r}; known: {', '.join(_FIELD_NAMES[type(self)])}")
            current = getattr(out, key)
            if is_dataclass(current):
                if not isinstance(value, Mapping):
                    raise ValueError(f"detector setting {key!r} takes a dict of {', '.join(_FIELD_NAMES[type(current)])}")
                for sub, v in value.items():
                    if sub not in _FIELD_NAMES[type(current)]:
                        raise ValueError(f"unknown setting {key}.{sub}; known: {', '.join(_FIELD_NAMES[type(current)])}")
                    setattr(current, sub, _coerce(getattr(current, sub), v, f"{key}.{sub}"))
            else:
                setattr(out, key, _coerce(current, value, key))
        out.validate()
        return out

    def validate(self) -> None:
        for section in (self.robust_zscore, self.sigma, self.week_over_week):
            if section.direction not in DIRECTIONS:
                raise ValueError(f"direction must be one of {DIRECTIONS}, not {section.direction!r}")
        if self.robust_zscore.single_point not in ("all", "linear", "none"):
            raise ValueError("robust_zscore.single_point must be all, linear or none")
        for section in (self.week_over_week, self.consecutive_drops):
            if section.agg not in ("mean", "sum"):
                raise ValueError(f"agg must be 'mean' or 'sum', not {section.agg!r}")
        if self.baseline.seasonal_mode not in ("auto", "additive", "multiplicative"):
            raise ValueError("baseline.seasonal_mode must be auto, additive or multiplicative")
        if self.baseline.scale not in ("auto", "linear", "log"):
            raise ValueError("baseline.scale must be auto, linear or log")
        from domain.anomaly.calendar import check
        check(self.holidays, self.holiday_timezones)
        if self.consecutive_drops.drops < 2:
            raise ValueError("consecutive_drops.drops must be at least 2")
        if self.week_over_week.window_hours <= 0 or self.consecutive_drops.period_hours <= 0:
            raise ValueError("window_hours and period_hours must be positive")

    def methods(self) -> list[str]:
        return [m for m in METHODS if getattr(self, m).enabled]


METHODS = ("robust_zscore", "sigma", "week_over_week", "consecutive_drops")

# What this marketplace's detector job (and the alert center's rule preview) applies under the
# built-in stream rules and the operators' stored ones: a US business, so US holidays are expected
# departures on every stream. The library default stays "none": a CPU or latency series fed to
# `manage.py detect` has no reason to forgive a holiday.
# It also pages at a third of the library's false-alarm budget: `detect` on a lone series defaults to
# catching incidents early (NAB-style scoring rewards it), while 90+ streams paging one operator need
# fewer; on the synthetic marketplace this cuts events from 75 to 49 with all 7 incidents still found.
MARKETPLACE_RULES: dict[str, dict[str, Any]] = {"*": {"holidays": "US", "robust_zscore": {"false_alarms_per_week": 0.5}}}

_FIELD_NAMES = {
    cls: [f.name for f in fields(cls)]
    for cls in (DetectorConfig, Baseline, RobustZScore, Sigma, WeekOverWeek, ConsecutiveDrops)
}


def _coerce(current: Any, value: Any, name: str) -> Any:
    """Keep the type of the default, so JSON `5` works for a float and `"true"` is refused."""
    if isinstance(current, bool):
        if not isinstance(value, bool):
            raise ValueError(f"{name} must be true or false, not {value!r}")
        return value
    if isinstance(current, (int, float)):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{name} must be a number, not {value!r}")
        if isinstance(current, float):
            return float(value)
        if not float(value).is_integer():
            raise ValueError(f"{name} must be a whole number, not {value!r}")
        return int(value)
    if isinstance(current, str):
        if not isinstance(value, str):
            raise ValueError(f"{name} must be a string, not {value!r}")
        return value
    return value


def config_for(metric: str, rules: Mapping[str, Mapping[str, Any]] | None,
               base: DetectorConfig | None = None) -> DetectorConfig:
    """The config for one metric: base, then matching glob rules (least specific first), then the exact rule.

    `rules` maps a metric name or a glob ("sessions.avg_rating.*", "*") to an override dict.
    """
    config = base or DetectorConfig()
    if not rules:
        return config
    globs = [p for p in rules if p != metric and any(c in p for c in "*?[") and fnmatch.fnmatchcase(metric, p)]
    globs.sort(key=lambda p: len(p.replace("*", "").replace("?", "")))
    for pattern in globs:
        config = config.with_overrides(rules[pattern])
    if metric in rules:
        config = config.with_overrides(rules[metric])
    return config
