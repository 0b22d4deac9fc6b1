"""domain.forecasting: local time, holidays in every member, level shifts, unbiased means, calibrated bounds.

Every series here is generated with a fixed seed from a known expected value, so each test states
what the forecaster must get right against the truth, not against a stored output."""
import numpy as np
import pandas as pd
import pytest

from domain.forecasting import DemandForecaster
from domain.forecasting.calendar import country_timezone, is_holiday, resolve_tz, to_local
from domain.forecasting.members import holiday_alpha


def expected(ts: pd.DatetimeIndex, tz: str, level: float, country: str | None = "US") -> np.ndarray:
    """Local-time demand: weekday evening peak, flatter weekends, holidays like a Sunday."""
    local = to_local(ts, tz)
    hour, dow = local.hour.to_numpy(), local.day_of_week.to_numpy()
    sunday_like = (dow >= 5) | is_holiday(local, country)
    weekday = 0.05 + np.exp(-0.5 * ((hour - 18) / 2.0) ** 2) + 0.3 * np.exp(-0.5 * ((hour - 9) / 1.5) ** 2)
    weekend = 0.05 + 0.5 * np.exp(-0.5 * ((hour - 12) / 3.0) ** 2)
    return level * np.where(sunday_like, weekend, weekday)


def draw(start: str, days: int, tz: str, level: float, seed: int, country: str | None = "US") -> pd.DataFrame:
    ts = pd.date_range(start, periods=days * 24, freq="h")
    mu = expected(ts, tz, level, country)
    return pd.DataFrame({"ts": ts, "y": np.random.default_rng(seed).poisson(mu).astype(float), "mu": mu})


def test_calendar_zone_and_local_days():
    assert country_timezone("KR") == "Asia/Seoul" and country_timezone("GB") == "Europe/London"
    assert resolve_tz(None, "US") == "America/New_York" and resolve_tz("Asia/Seoul", "US") == "Asia/Seoul"
    # Buddha's Birthday 2018-05-22 starts at 15:00 UTC the day before in Seoul
    utc = pd.DatetimeIndex(["2018-05-21 14:00", "2018-05-21 15:00", "2018-05-22 14:00", "2018-05-22 15:00"])
    assert is_holiday(to_local(utc, "Asia/Seoul"), "KR").tolist() == [False, True, True, False]


def test_holiday_member_lowers_a_holiday():
    # 10 weeks up to the Friday before Memorial Day 2024 (Mon 27 May), which must look like a Sunday
    s = draw("2024-03-15 04:00", 70, "America/New_York", 30.0, seed=1)
    f = DemandForecaster(train_days=70, holidays="US").fit(s[["ts", "y"]])
    p = f.predict().set_index("ts")
    local = to_local(p.index, "America/New_York")
    memorial = p[local.normalize() == pd.Timestamp("2024-05-27")]
    tuesday = p[local.normalize() == pd.Timestamp("2024-05-28")]
    truth = expected(memorial.index, "America/New_York", 30.0)
    assert memorial["yhat"].sum() < 0.8 * tuesday["yhat"].sum()  # lower than an ordinary weekday
    assert memorial["yhat"].sum() == pytest.approx(truth.sum(), rel=0.25)
    plain = DemandForecaster(train_days=70, holidays=None).fit(s[["ts", "y"]]).predict().set_index("ts")
    assert np.abs(memorial["yhat"] - truth).sum() < 0.6 * np.abs(plain.loc[memorial.index, "yhat"] - truth).sum()


def test_holiday_alpha_learns_sunday_likeness():
    s = draw("2024-01-01", 84, "UTC", 40.0, seed=2)
    local = to_local(s["ts"], "UTC")
    how = (local.day_of_week * 24 + local.hour).to_numpy()
    hol = is_holiday(local, "US")
    assert holiday_alpha(s["y"].to_numpy(), how, hol, prior=0.0, strength=0.1) == pytest.approx(1.0, abs=0.25)
    ordinary = draw("2024-01-01", 84, "UTC", 40.0, seed=2, country=None)["y"].to_numpy()
    assert holiday_alpha(ordinary, how, hol, prior=1.0, strength=0.1) == pytest.approx(0.0, abs=0.25)


def test_daily_shape_read_in_local_time():
    # Seoul demand in UTC: the model must place the local evening peak at 09:00 UTC
    s = draw("2024-03-04", 56, "Asia/Seoul", 25.0, seed=3, country="KR")
    p = DemandForecaster(train_days=56, holidays="KR", tz="Asia/Seoul").fit(s[["ts", "y"]]).predict()
    truth = expected(pd.DatetimeIndex(p["ts"]), "Asia/Seoul", 25.0, "KR")
    assert np.abs(p["yhat"] - truth).sum() / truth.sum() < 0.2


def test_level_shift_followed_within_days():
    s = draw("2024-01-08", 63, "UTC", 20.0, seed=4, country=None)
    s.loc[s.index[-72:], "y"] = np.random.default_rng(5).poisson(2 * s["mu"].iloc[-72:]).astype(float)
    p = DemandForecaster(train_days=63, holidays=None, tz="UTC").fit(s[["ts", "y"]]).predict()
    truth = 2 * expected(pd.DatetimeIndex(p["ts"][:48]), "UTC", 20.0, None)
    assert p["yhat"][:48].sum() > 0.8 * truth.sum()  # the old level would give 0.5


def test_mean_is_unbiased_at_a_few_sessions_and_bounds_cover():
    sums, truths, inside = [], [], []
    for seed in range(4):
        s = draw("2024-01-08", 77, "America/New_York", 3.0, seed=10 + seed)
        hist, test = s.iloc[:-168], s.iloc[-168:]
        p = DemandForecaster(train_days=70, holidays="US").fit(hist[["ts", "y"]]).predict()
        assert ((p["yhat"] > 0) & (p["yhat"] < 0.5)).any()  # quiet hours are not rounded to zero
        sums.append(p["yhat"].sum())
        truths.append(test["mu"].sum())
        inside.append(((test["y"].to_numpy() >= p["yhat_lower"]) & (test["y"].to_numpy() <= p["yhat_upper"])).mean())
    assert sum(sums) == pytest.approx(sum(truths), rel=0.08)
    assert 0.85 <= np.mean(inside) <= 0.995
