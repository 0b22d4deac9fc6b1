"""Anomaly detection on metric streams: robust seasonal baselines, events with their why.

    from services.anomaly import detect_series, detect_streams, preview_rule, DetectorConfig, AnomalyEvent

Methods (each configurable per metric, see config.py):

robust_zscore (on by default) -- robust z = (value - expected) / spread, where expected is a
    level-adjusted seasonal median (same hour-of-week over the last 4 weeks once 3 weeks exist,
    else same hour-of-day over the last 7 days once 3 days exist, else a trailing median) and
    spread is 1.4826 x the MAD of past residuals at that hour-of-day (floored: 1 % of the level,
    sqrt(expected) for counts). For Gaussian noise 1.4826 x MAD equals the standard deviation, so
    the z is in "sigma" units -- but unlike a plain standard deviation it is not inflated by the
    outliers it is looking for. Fires at |z| >= 5, or |z| >= 3.5 for 3 points in a row (a level
    shift). Why 5 and not 2: 2 sigma fires on ~4.6 % of Gaussian points (a false event a day on an
    hourly metric); real metrics have heavier tails still. On top, the threshold is multiplied by
    how heavy the metric's own tail is (99th percentile of its past |z| / 2.58, never below 1), so
    a metric that spikes routinely needs a bigger spike to alert.
sigma (off by default) -- the literal "> 2 standard deviations against a seasonal baseline":
    mean and standard deviation of the same samples. Kept for operators who ask for it; expect
    noise: on a seasonal hourly metric it fires most days.
week_over_week (on) -- trailing 24 h (mean, or sum for counts with min_volume) vs the same 24 h a
    week before, > 20 %, and unusual for the metric (robust z >= 3 against the last 8 weeks of
    24 h-over-24 h changes), so a metric that routinely swings 30 % does not fire every day.
consecutive_drops (on) -- the 7-day trailing mean of daily aggregates falls 3 days in a row and
    >= 10 % in total; on raw hourly points or raw daily totals this fires on every weekend.

Nothing is flagged before 24 observed points; seasonal profiles need 3 cycles. Flags closer than
merge_gap_hours (default 3 h) merge into one event (start, end, peak value, expected, score =
statistic / threshold, severity critical >= 2, warning >= 1.25, else info). Everything is causal:
each point is judged on its past only, so `at` reproduces what the live job said.
"""
from services.anomaly.config import (
    Baseline, ConsecutiveDrops, DetectorConfig, METHODS, RobustZScore, Sigma, WeekOverWeek, config_for,
)
from services.anomaly.detect import detect_grid, detect_series, detect_streams, preview_rule
from services.anomaly.events import AnomalyEvent, EVENT_COLUMNS
from services.anomaly.prepare import BadRow, Grid, series_from_frame, to_grid

__all__ = [
    "AnomalyEvent", "BadRow", "Baseline", "ConsecutiveDrops", "DetectorConfig", "EVENT_COLUMNS", "Grid",
    "METHODS", "RobustZScore", "Sigma", "WeekOverWeek", "config_for", "detect_grid", "detect_series",
    "detect_streams", "preview_rule", "series_from_frame", "to_grid",
]
