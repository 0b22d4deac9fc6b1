"""The anomaly detector on hand-made series: what must fire fires once, at the right time, with its why."""
import json
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from domain.anomaly import DetectorConfig, detect_series, detect_streams, preview_rule, to_grid
from domain.anomaly.baseline import expectation

NOISE = 3.0


def seasonal(days: int = 42, freq: str = "1h", seed: int = 1, noise: float = NOISE, start: str = "2026-01-05") -> pd.Series:
    """A daily cycle with a strong evening peak (100 at night, 180 at 19:00) plus Gaussian noise."""
    rng = np.random.default_rng(seed)
    idx = pd.date_range(start, periods=int(pd.Timedelta(days=days) / pd.Timedelta(freq)), freq=freq)
    h = idx.hour.to_numpy() + idx.minute.to_numpy() / 60
    base = 100 + 80 * np.exp(-0.5 * ((h - 19) / 1.5) ** 2)
    return pd.Series(base + rng.normal(0, noise, len(idx)), idx)


def of(events, method="robust_zscore"):
    return [e for e in events if e.method == method]


def test_the_evening_peak_is_not_an_anomaly():
    assert detect_series(seasonal()) == []


def robust_sigma_at(s: pd.Series, ts: pd.Timestamp) -> tuple[float, float]:
    """(z of the point as it is, the detector's spread there): what "n robust sigmas" means."""
    grid = to_grid(s)
    ex = expectation(grid, DetectorConfig().baseline)
    i = grid.index.get_loc(ts)
    return (grid.values[i] - ex.expected[i]) / ex.spread[i], ex.spread[i]


def test_a_six_sigma_spike_is_one_event_at_its_time_with_the_numbers():
    s = seasonal()
    at = pd.Timestamp("2026-02-05 19:00")  # on top of the evening peak
    z0, spread = robust_sigma_at(s, at)
    s[at] += (6 - z0) * spread
    events = detect_series(s, metric="bookings.rate")
    assert len(events) == 1
    e = events[0]
    assert (e.method, e.metric) == ("robust_zscore", "bookings.rate")
    assert e.start == e.peak_ts == e.end == at
    assert e.value == pytest.approx(s[at])
    assert e.expected == pytest.approx(180, abs=3 * NOISE)
    assert e.details["z"] == pytest.approx(6, abs=0.01)
    assert "6.0 robust sigmas above the expected" in e.why
    assert f"{e.value:.0f}" in e.why and f"{e.expected:.0f}" in e.why
    assert "threshold 5.0" in e.why
    assert e.severity == "info" and e.score == pytest.approx(1.2, abs=0.01)


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_a_ten_noise_sigma_spike_is_found_whatever_the_noise(seed):
    s = seasonal(seed=seed)
    at = pd.Timestamp("2026-02-05 19:00")
    s[at] += 10 * NOISE
    assert [(e.method, e.start) for e in detect_series(s)] == [("robust_zscore", at)]


def test_a_level_shift_is_one_merged_event_not_dozens():
    s = seasonal()
    shift = pd.Timestamp("2026-02-02 00:00")
    s[s.index >= shift] += 15 * NOISE
    robust = of(detect_series(s))
    assert len(robust) == 1
    e = robust[0]
    assert e.start == shift
    assert e.end - e.start >= pd.Timedelta(hours=6)  # many flagged hours, one event
    assert e.details["points_flagged"] >= 6


def test_a_flat_series_with_one_change():
    idx = pd.date_range("2026-03-01", periods=24 * 20, freq="1h")
    change = pd.Timestamp("2026-03-15 06:00")
    gauge = pd.Series(np.where(idx >= change, 0.65, 0.5), idx)  # e.g. a utilisation gauge
    events = of(detect_series(gauge))
    assert len(events) == 1
    assert events[0].start == change
    assert events[0].value == 0.65 and events[0].expected == pytest.approx(0.5)
    # a flat count is judged against Poisson noise: 10 -> 13 is nothing, 10 -> 30 is an event
    assert of(detect_series(pd.Series(np.where(idx >= change, 13.0, 10.0), idx))) == []
    assert [e.start for e in of(detect_series(pd.Series(np.where(idx >= change, 30.0, 10.0), idx)))] == [change]


def test_missing_hours_duplicates_jitter_and_unsorted_rows():
    s = seasonal(seed=2)
    spike = pd.Timestamp("2026-02-07 04:00")
    s[spike] += 12 * NOISE
    rng = np.random.default_rng(5)
    keep = rng.random(len(s)) > 0.2
    keep[s.index.get_loc(spike)] = True
    keep[24 * 20:24 * 22] = False  # a two-day hole
    messy = s[keep]
    jitter = pd.to_timedelta(rng.integers(-240, 240, len(messy)), unit="s")
    messy.index = messy.index + jitter
    messy = pd.concat([messy, messy.iloc[:30]]).sample(frac=1.0, random_state=3)  # duplicates, shuffled
    events = of(detect_series(messy))
    assert len(events) == 1
    assert abs(pd.Timestamp(events[0].start) - spike) <= pd.Timedelta(minutes=5)


def test_five_minute_sampling():
    s = seasonal(days=21, freq="5min", seed=4)  # past the two-week warm-up
    start = pd.Timestamp("2026-01-22 10:00")
    window = (s.index >= start) & (s.index < start + pd.Timedelta(minutes=30))
    s[window] += 8 * NOISE
    events = of(detect_series(s))
    assert len(events) == 1
    assert events[0].start == start and events[0].end == start + pd.Timedelta(minutes=25)


@pytest.mark.parametrize("factor, fires", [(1.25, True), (1.15, False)])
def test_week_over_week_fires_at_25_percent_not_15(factor, fires):
    s = seasonal(days=42, noise=0.5)
    s[s.index >= pd.Timestamp("2026-02-09")] *= factor
    # the method alone: by default robust_zscore sees the jump first and the refractory period
    # keeps the same incident from paging twice (test_anomaly_calibrated.py)
    wow = of(detect_series(s, DetectorConfig.from_dict({"refractory_hours": 0})), "week_over_week")
    assert bool(wow) is fires
    if fires:
        assert len(wow) == 1
        assert wow[0].start >= pd.Timestamp("2026-02-09")
        assert "a week before (+2" in wow[0].why


@pytest.mark.parametrize("steps, fires", [(3, True), (2, False)])
def test_three_consecutive_daily_drops_fire_two_do_not(steps, fires):
    s = seasonal(days=49, noise=0.5)
    for k in range(steps):  # each of `steps` days 6 % below the one before, then it stays there
        s[s.index >= pd.Timestamp("2026-02-09") + pd.Timedelta(days=k)] *= 0.94
    drops = of(detect_series(s), "consecutive_drops")
    assert bool(drops) is fires
    if fires:
        assert len(drops) == 1
        assert drops[0].start == pd.Timestamp("2026-02-09")
        assert drops[0].end == pd.Timestamp("2026-02-11 23:00")  # flagged once the third day is complete
        assert "fell 3 periods in a row" in drops[0].why


def test_per_metric_overrides_turn_a_method_off_and_change_a_threshold():
    s = seasonal()
    s[pd.Timestamp("2026-02-05 03:00")] += 8 * NOISE
    points = pd.concat([pd.DataFrame({"metric": m, "ts": s.index, "value": s.to_numpy()}) for m in ("a", "b", "c.x")])
    rules = {"a": {"robust_zscore": {"enabled": False}}, "b": {"robust_zscore": {"threshold": 50}},
             "c.*": {"robust_zscore": {"threshold": 4.0, "routine_days": 0}}}
    found = detect_streams(points, rules)
    assert list(found["metric"]) == ["c.x"]
    assert set(found.columns) >= {"metric", "method", "start", "end", "peak_ts", "value", "expected", "score",
                                  "severity", "why"}
    assert "threshold 4.0" in found["why"].iloc[0]


def test_at_ignores_later_data_and_agrees_with_the_full_run():
    s = seasonal()
    spike = pd.Timestamp("2026-02-05 03:00")
    s[spike] += 8 * NOISE
    assert detect_series(s, at=spike - timedelta(hours=1)) == []
    as_of = detect_series(s, at=spike)
    full = detect_series(s)
    assert [e.start for e in as_of] == [e.start for e in full] == [spike]
    assert as_of[0].value == full[0].value and as_of[0].expected == pytest.approx(full[0].expected)


def test_detect_streams_recent_keeps_only_what_the_five_minute_job_needs():
    s = seasonal()
    spike = pd.Timestamp("2026-02-05 03:00")
    s[spike] += 8 * NOISE
    points = pd.DataFrame({"metric": "m", "ts": s.index, "value": s.to_numpy()})
    assert len(detect_streams(points, at=spike + timedelta(minutes=5), recent=timedelta(minutes=10))) == 1
    assert len(detect_streams(points, at=spike + timedelta(hours=2), recent=timedelta(minutes=10))) == 0
    assert detect_streams(points.iloc[:0]).empty


def test_the_literal_two_sigma_rule_is_there_and_noisy():
    s = seasonal()
    cfg = DetectorConfig.from_dict({"sigma": {"enabled": True}})
    sigma = of(detect_series(s, cfg), "sigma")
    assert len(sigma) > 5  # what "2 standard deviations" does on plain noise, over five weeks
    assert "standard deviations" in sigma[0].why
    assert of(detect_series(s, cfg)) == []


def test_config_round_trips_and_refuses_typos():
    cfg = DetectorConfig.from_dict({"week_over_week": {"threshold_pct": 30, "enabled": False}})
    assert cfg.week_over_week.threshold_pct == 30.0 and not cfg.week_over_week.enabled
    assert DetectorConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    with pytest.raises(ValueError, match="threshhold"):
        DetectorConfig.from_dict({"robust_zscore": {"threshhold": 3}})
    with pytest.raises(ValueError):
        DetectorConfig.from_dict({"robust_zscore": {"enabled": "yes"}})
    with pytest.raises(ValueError):
        DetectorConfig.from_dict({"nonsense": {}})


def test_events_serialise_and_preview_counts_them():
    s = seasonal()
    s[pd.Timestamp("2026-02-05 03:00")] += 10 * NOISE
    s[pd.Timestamp("2026-02-10 05:00")] -= 10 * NOISE
    event = detect_series(s)[0]
    d = json.loads(json.dumps(event.to_dict()))
    assert d["start"] == "2026-02-05T03:00:00" and d["method"] == "robust_zscore"
    preview = preview_rule(s, {"robust_zscore": {"threshold": 6}}, days=30)
    assert preview["by_method"]["robust_zscore"] == {"count": 2, "times": ["2026-02-05T03:00:00", "2026-02-10T05:00:00"]}
    assert preview["total"] == 2 and "sigma" not in preview["by_method"]
    assert preview_rule(s, {"robust_zscore": {"threshold": 6}}, days=2)["total"] == 0


def test_a_us_holiday_drop_is_not_an_anomaly_with_holidays_us_and_the_next_day_is_judged_on_normal_days():
    s = seasonal(days=56, start="2026-08-03")  # Labor Day: Monday 2026-09-07
    us_day = (s.index >= pd.Timestamp("2026-09-07 05:00")) & (s.index < pd.Timestamp("2026-09-08 05:00"))
    s[us_day] *= 0.4
    assert of(detect_series(s))  # without a calendar, a 60 % drop for a day is an anomaly
    assert detect_series(s, DetectorConfig.from_dict({"holidays": "US"})) == []
    later = s.copy()  # the same drop two days later is not forgiven
    later[us_day] /= 0.4
    later[(s.index >= pd.Timestamp("2026-09-09 05:00")) & (s.index < pd.Timestamp("2026-09-10 05:00"))] *= 0.4
    assert of(detect_series(later, DetectorConfig.from_dict({"holidays": "US"})))
    with pytest.raises(ValueError, match="country"):
        DetectorConfig.from_dict({"holidays": "Atlantis"})


def test_heavy_tailed_latency_is_judged_on_a_log_scale_and_its_routine_spikes_stay_quiet():
    rng = np.random.default_rng(4)
    idx = pd.date_range("2026-01-05", periods=24 * 60, freq="1h")
    tail = np.where(rng.random(len(idx)) < 0.01, 1 + rng.pareto(2.5, len(idx)), 1.0)
    latency = pd.Series(200 * rng.lognormal(0, 0.08, len(idx)) * tail, idx)
    # the bar comes from the stream's own tail: its routine spikes cross it at about the configured
    # false-alarm rate (1.5 a week by default, before grouping); at 0.3 only the once-in-months spike does
    late = lambda events: [e for e in of(events) if e.start >= pd.Timestamp("2026-02-01")]  # noqa: E731
    quiet = late(detect_series(latency))
    assert 1 <= len(quiet) <= 3
    rare = late(detect_series(latency, DetectorConfig.from_dict({"robust_zscore": {"false_alarms_per_week": 0.3}})))
    assert [e.start for e in rare] == [max(quiet, key=lambda e: e.details["z"]).start]
    outage = latency.copy()
    window = (idx >= pd.Timestamp("2026-02-25 10:00")) & (idx < pd.Timestamp("2026-02-25 13:00"))
    outage[window] *= 3
    found = [e for e in of(detect_series(outage)) if pd.Timestamp("2026-02-25") <= e.start < pd.Timestamp("2026-02-26")]
    assert [e.start for e in found] == [pd.Timestamp("2026-02-25 10:00")]
    assert found[0].details["scale"] == "log" and "log scale" in found[0].why
    assert found[0].value == pytest.approx(outage[pd.Timestamp(found[0].peak_ts)])  # reported in ms


LEGACY = {"robust_zscore": {"calibrate": False}}  # the fixed bars and their guards, before calibration


def test_two_hours_in_a_row_beyond_3_5_sigma_fire_one_alone_does_not():
    """Legacy rule (robust_zscore.calibrate false)."""
    s = seasonal()
    for ts in ("2026-02-05 03:00", "2026-02-05 04:00"):
        z0, spread = robust_sigma_at(s, pd.Timestamp(ts))
        s[pd.Timestamp(ts)] += (4.2 - z0) * spread
    found = of(detect_series(s, DetectorConfig.from_dict(LEGACY)))
    assert [(e.start, e.end) for e in found] == [(pd.Timestamp("2026-02-05 03:00"), pd.Timestamp("2026-02-05 04:00"))]
    assert "2 points in a row beyond 3.5" in found[0].why


# ---------------------------------------------------------------- precision rules (one test per rule)

def weekday_only(days: int = 28, seed: int = 5) -> pd.Series:
    """Office-hours usage counts: busy on weekdays, nearly idle at weekends (2026-01-05 is a Monday)."""
    rng = np.random.default_rng(seed)
    idx = pd.date_range("2026-01-05", periods=24 * days, freq="1h")
    wk = np.where(idx.day_of_week.to_numpy() >= 5, 0.08, 1.0)
    office = np.exp(-0.5 * ((idx.hour.to_numpy() - 13) / 3.5) ** 2)
    return pd.Series(rng.poisson(5 + 200 * wk * office).astype(float), idx)


def test_warm_up_a_streams_first_weekend_and_second_week_are_not_news():
    s = weekday_only()
    early = lambda events: [e for e in of(events) if e.start < pd.Timestamp("2026-01-19")]  # noqa: E731
    assert early(detect_series(s)) == []
    # without the warm-up rules the first weekends read as outages against the weekdays
    old = {"baseline": {"min_daytype_days": 0, "min_history_points": 36},
           "robust_zscore": {"warmup_days": 7, "warmup_factor": 1.5, "calibrate": False}}
    assert early(detect_series(s, DetectorConfig.from_dict(old)))


def test_warm_up_second_week_needs_an_extreme_deviation():
    """Legacy rule (calibrate false); calibrated bars need no warm-up factor: a short history gives a
    bar near its own maximum."""
    legacy = DetectorConfig.from_dict(LEGACY)
    s = seasonal(days=28)
    window = (s.index >= pd.Timestamp("2026-01-14 03:00")) & (s.index < pd.Timestamp("2026-01-14 07:00"))
    s[window] += 6 * NOISE  # a 4-hour 6-sigma shift on day 9: a daily profile exists, a weekly one does not
    assert of(detect_series(s, legacy)) == []
    assert of(detect_series(s, legacy.with_overrides({"robust_zscore": {"warmup_days": 7}})))
    s[window] += 14 * NOISE  # 20 sigmas: extreme even before the weekly shape is known
    assert of(detect_series(s, legacy))


def test_small_counts_are_judged_on_their_exact_poisson_tail():
    rng = np.random.default_rng(6)
    idx = pd.date_range("2026-01-05", periods=24 * 42, freq="1h")
    quiet = pd.Series(rng.poisson(0.2, len(idx)).astype(float), idx)  # mostly 0: the hourly median is 0
    five = quiet.copy()
    five[pd.Timestamp("2026-02-05 03:00")] = 5  # about once in 270 hours at a rate of 1: not news
    assert of(detect_series(five)) == []
    fifteen = quiet.copy()
    fifteen[pd.Timestamp("2026-02-05 03:00")] = 15  # p ~ 1e-12 even at a rate of 1
    assert [e.start for e in of(detect_series(fifteen))] == [pd.Timestamp("2026-02-05 03:00")]


def test_consecutive_drops_a_high_coming_back_to_normal_is_not_a_decline():
    rng = np.random.default_rng(7)
    idx = pd.date_range("2026-01-05", periods=24 * 70, freq="1h")
    day = (idx - idx[0]).days.to_numpy()
    level = np.ones(len(idx))
    cfg = DetectorConfig.from_dict({"robust_zscore": {"enabled": False}, "week_over_week": {"enabled": False}})
    back = level.copy()
    for d, f in ((60, 1.12), (61, 1.08), (62, 1.04), (63, 1.00)):  # a high easing back to the usual
        back[day == d] = f
    s = pd.Series(100 * back + rng.normal(0, 0.3, len(idx)), idx)
    assert detect_series(s, cfg) == []
    down = level.copy()
    for d, f in ((61, 0.96), (62, 0.92), (63, 0.88)):  # the same steps, ending 12 % below the usual
        down[day == d] = f
    s = pd.Series(100 * down + rng.normal(0, 0.3, len(idx)), idx)
    assert [e.method for e in detect_series(s, cfg)] == ["consecutive_drops"]


def test_consecutive_drops_of_a_small_count_must_be_improbable_for_poisson_noise():
    idx = pd.date_range("2026-01-05", periods=24 * 70, freq="1h")
    day = (idx - idx[0]).days.to_numpy()
    y = np.ones(len(idx))  # a very regular 24 events a day: its past 3-day changes are all ~0
    y[(day % 5 == 0) & (idx.hour == 3)] = 2
    for d, total in ((61, 22), (62, 19), (63, 14)):  # 24 -> 14 a day: 42 % down, but 14 against 24 is
        y[(day == d) & (idx.hour < 24 - total)] = 0   # a 2 % Poisson tail (z 2.0), not an outage
    cfg = DetectorConfig.from_dict({"robust_zscore": {"enabled": False}, "week_over_week": {"enabled": False}})
    assert detect_series(pd.Series(y, idx), cfg) == []
    y[(day == 63)] = 0
    y[(day == 63) & (idx.hour < 5)] = 1  # 5 against 24: p ~ 1e-6
    assert [e.method for e in detect_series(pd.Series(y, idx), cfg)] == ["consecutive_drops"]


def latency(seed: int = 9, days: int = 42) -> pd.Series:
    rng = np.random.default_rng(seed)
    idx = pd.date_range("2026-01-05", periods=24 * days, freq="1h")
    return pd.Series(200 * rng.lognormal(0, 0.1, len(idx)) * (1 + 0.3 * np.sin(2 * np.pi * idx.hour / 24)), idx)


def test_one_reading_of_a_log_scale_metric_does_not_alert_two_in_a_row_do():
    """Legacy rule (calibrate false). With calibrated bars a lone 3x reading alerts: it is far beyond
    this stream's own tail."""
    s = latency()
    at = pd.Timestamp("2026-02-05 03:00")
    s[at] *= 3  # ~11 log sigmas, one hour
    assert [e.start for e in of(detect_series(s))] == [at]
    legacy = DetectorConfig.from_dict(LEGACY)
    assert of(detect_series(s, legacy)) == []
    assert [e.start for e in of(detect_series(s, legacy.with_overrides({"robust_zscore": {"single_point": "all"}})))] == [at]
    s[at + pd.Timedelta(hours=1)] *= 3
    found = of(detect_series(s, legacy))
    assert [(e.start, e.end) for e in found] == [(at, at + pd.Timedelta(hours=1))]
    assert found[0].details["scale"] == "log" and "two in a row do" in found[0].why
    with pytest.raises(ValueError, match="single_point"):
        DetectorConfig.from_dict({"robust_zscore": {"single_point": "sometimes"}})


def test_us_holiday_eves_are_holidays_but_an_incident_under_way_before_one_is_kept():
    from domain.anomaly.calendar import holiday_days
    days = holiday_days("US", 2026, 2026)
    from datetime import date
    assert days[date(2026, 11, 25)] == "Thanksgiving Eve"
    assert days[date(2026, 12, 31)] == "New Year's Eve" and days[date(2026, 12, 24)] == "Christmas Eve"
    s = seasonal(days=56, start="2026-10-05")
    eve = (s.index >= pd.Timestamp("2026-11-25 05:00")) & (s.index < pd.Timestamp("2026-11-26 05:00"))
    s[eve] *= 0.6
    assert detect_series(s, DetectorConfig.from_dict({"holidays": "US"})) == []
    incident = seasonal(days=56, start="2026-10-05")
    started = (incident.index >= pd.Timestamp("2026-11-25 01:00")) & (incident.index < pd.Timestamp("2026-11-26 05:00"))
    incident[started] *= 0.6  # began four hours before the eve
    assert [e.start for e in of(detect_series(incident, DetectorConfig.from_dict({"holidays": "US"})))] == \
        [pd.Timestamp("2026-11-25 01:00")]


def test_week_over_week_does_not_compare_against_a_flagged_week():
    """Two weekly incidents in a row (days 43 and 50, x1.8 for 36 h): the second is still a jump
    against the last clean week, and the quiet week after it is not a 'drop' against an incident."""
    s = seasonal(days=70, noise=3.0, seed=3)
    t0 = s.index[0]
    for day in (43, 50):
        m = (s.index >= t0 + pd.Timedelta(days=day, hours=6)) & (s.index < t0 + pd.Timedelta(days=day + 1, hours=18))
        s[m] *= 1.8
    wow = of(detect_series(s), "week_over_week")
    second = t0 + pd.Timedelta(days=50)
    assert [e for e in wow if second <= e.start < second + pd.Timedelta(days=2)]
    hit = [e for e in wow if second <= e.start < second + pd.Timedelta(days=2)][0]
    assert hit.details["weeks_back"] == 2 and "2 weeks before (the week before held flagged points)" in hit.why
    assert not [e for e in wow if e.start >= second + pd.Timedelta(days=5)]
