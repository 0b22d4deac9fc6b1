"""Calibrated bars, gap-tolerant judgement and one alert per incident, on series the tests generate."""
import numpy as np
import pandas as pd
import pytest

from domain.anomaly import DetectorConfig, detect_series
from domain.anomaly.tail import calibrated_flags, refractory, tail_bar

LEGACY = DetectorConfig.from_dict({"robust_zscore": {"calibrate": False}})


def daily(days: int, freq: str, seed: int, noise: float = 3.0, start: str = "2026-01-05") -> pd.Series:
    rng = np.random.default_rng(seed)
    idx = pd.date_range(start, periods=int(pd.Timedelta(days=days) / pd.Timedelta(freq)), freq=freq)
    h = idx.hour.to_numpy() + idx.minute.to_numpy() / 60
    return pd.Series(100 + 40 * np.sin(2 * np.pi * (h - 6) / 24) + rng.normal(0, noise, len(idx)), idx)


def robust(events):
    return [e for e in events if e.method == "robust_zscore"]


def test_a_gappy_sensor_with_a_third_of_its_slots_is_judged_and_its_spike_found():
    """A road sensor: 5-minute slots, about 30 % filled at random, jittered times."""
    rng = np.random.default_rng(11)
    s = daily(21, "5min", seed=11)
    keep = rng.random(len(s)) < 0.3
    spike = s.index[np.flatnonzero(keep)[int(0.8 * keep.sum())]]
    s[spike] += 25 * 3.0
    gappy = s[keep]
    gappy.index = gappy.index + pd.to_timedelta(rng.integers(-10, 10, len(gappy)), unit="s")
    found = robust(detect_series(gappy))
    assert len(found) == 1
    # the grid step is the median spacing (10 minutes here): the event names the first real reading
    # of the slot that holds the spike, a row that exists
    assert pd.Timedelta(0) <= spike - pd.Timestamp(found[0].start) <= pd.Timedelta(minutes=11)
    assert pd.Timestamp(found[0].start) in gappy.index


def test_a_spiky_streams_routine_spikes_stay_quiet_but_one_far_beyond_them_alerts():
    """Hourly counts with a routine burst 2 % of the hours (x3): the legacy 'spiky' label silenced
    every lone point, the incident too; the calibrated bar sits above the routine bursts only."""
    rng = np.random.default_rng(12)
    idx = pd.date_range("2026-01-05", periods=24 * 90, freq="1h")
    base = 200 + 80 * np.sin(2 * np.pi * idx.hour.to_numpy() / 24)
    burst = np.where(rng.random(len(idx)) < 0.02, 3.0, 1.0)
    counts = pd.Series(rng.poisson(base * burst).astype(float), idx)
    late = lambda events: [e for e in robust(events) if e.start >= pd.Timestamp("2026-03-01")]  # noqa: E731
    routine = late(detect_series(counts))
    assert len(routine) <= 3  # about 0.5 a week over 5 weeks, though 2 % of hours burst
    huge = counts.copy()
    at = pd.Timestamp("2026-03-20 04:00")
    huge[at] = 30 * base[idx.get_loc(at)]
    covers = lambda events: [e for e in late(events) if e.start <= at <= e.end]  # noqa: E731
    assert len(covers(detect_series(huge))) == 1
    assert covers(detect_series(huge, LEGACY)) == []


def test_a_smooth_seasonal_stream_without_an_incident_never_alerts():
    s = daily(35, "5min", seed=13)
    assert detect_series(s) == []


def test_one_incident_pages_once_however_many_times_it_flares_up():
    s = daily(28, "5min", seed=14)
    t1 = pd.Timestamp("2026-01-25 10:00")
    for t in (t1, t1 + pd.Timedelta(hours=6), t1 + pd.Timedelta(hours=12)):
        s[(s.index >= t) & (s.index < t + pd.Timedelta(minutes=30))] += 30
    assert [e.start for e in detect_series(s)] == [t1]
    apart = [e.start for e in detect_series(s, DetectorConfig.from_dict({"refractory_hours": 0}))]
    assert apart[:2] == [t1, t1 + pd.Timedelta(hours=6)]


def test_refractory_counts_from_the_end_of_the_last_kept_event():
    t = pd.Timestamp("2026-01-01")
    h = lambda x: t + pd.Timedelta(hours=x)  # noqa: E731
    spans = [(h(0), h(10)), (h(20), h(21)), (h(35), h(36)), (h(70), h(70))]
    assert refractory(spans, 24) == [True, False, True, True]
    assert refractory(spans, 0) == [True, True, True, True]


def test_the_bar_sits_where_the_streams_own_tail_puts_the_target_rate():
    rng = np.random.default_rng(15)
    light = rng.exponential(1.0, 20_000)
    bar = tail_bar(light, 1e-3, 20_000, 20_000, 100)[-1]
    assert bar == pytest.approx(np.log(1e3), rel=0.1)  # exponential: P(X > x) = exp(-x)
    heavy = rng.pareto(3.0, 20_000)  # P(X > x) = (1 + x)^-3
    assert tail_bar(heavy, 1e-3, 20_000, 20_000, 100)[-1] == pytest.approx(10 ** (3 / 3) - 1, rel=0.25)
    assert np.isinf(tail_bar(light[:50], 1e-3, 1000, 10, 100)).all()  # too little history: no bar


def test_a_lower_false_alarm_rate_raises_the_bar_and_gaps_do_not_break_a_run():
    rng = np.random.default_rng(16)
    idx = pd.date_range("2026-01-01", periods=6000, freq="5min")
    z = rng.normal(0, 1, len(idx))
    z[np.arange(len(idx)) % 3 == 1] = np.nan  # a third of the slots missing
    run = np.arange(5000, 5036)
    z[run] = np.where(np.isnan(z[run]), np.nan, 3.8)  # an hour of moderate same-sign misses, with gaps
    flags, bar, scale = calibrated_flags(z, idx, 0.5, 14, 5.0)
    assert flags[run].any() and not flags[:4900].any() and scale[run].max() > 1  # caught as a run
    # without a floor the bars are the calibrated ones: a tenth of the rate, a higher bar
    _, loose, _ = calibrated_flags(z, idx, 0.5, 14, 0.0)
    _, strict, _ = calibrated_flags(z, idx, 0.05, 14, 0.0)
    seen = np.isfinite(loose[4000:4900])
    assert seen.any() and (strict[4000:4900][seen] > loose[4000:4900][seen]).all()
    assert (loose[4000:4900][seen] < 5.0).all()  # Gaussian noise: below the floor, which holds
