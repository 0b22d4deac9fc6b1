"""domain.forecasting: metrics, baselines, demand series, backtest folds, the ensemble forecaster."""
import math
from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from domain.forecasting import (
    DemandForecaster, NotEnoughHistory, accuracy, backtest, cutoff_times, hourly_demand, regular_hourly,
    seasonal_median, seasonal_naive,
)
from domain.forecasting.baselines import seasonal_trimmed_mean
from domain.forecasting.model import clip_outliers, select_weights


def weekly_series(days: int, seed: int = 0, level: float = 20.0, start: str = "2024-02-05") -> pd.DataFrame:
    """Hourly counts whose weekday and weekend days have different hourly shapes, Poisson noise."""
    rng = np.random.default_rng(seed)
    ts = pd.date_range(start, periods=days * 24, freq="h")
    hour, weekend = ts.hour.to_numpy(), ts.day_of_week.to_numpy() >= 5
    weekday_shape = 0.05 + np.exp(-0.5 * ((hour - 17) / 2.0) ** 2) + 0.4 * np.exp(-0.5 * ((hour - 8) / 1.5) ** 2)
    weekend_shape = 0.05 + 0.8 * np.exp(-0.5 * ((hour - 11) / 3.0) ** 2)
    mu = level * np.where(weekend, weekend_shape, weekday_shape)
    return pd.DataFrame({"ts": ts, "y": rng.poisson(mu).astype(float)})


class MedianModel:
    """A quick stand-in model for backtest mechanics (no Prophet fit)."""

    def fit(self, history):
        self.history = regular_hourly(history)
        return self

    def predict(self):
        p = seasonal_median(self.history, 24)
        return p.assign(yhat_lower=p["yhat"] * 0.5, yhat_upper=p["yhat"] * 1.5 + 1)


# -- metrics -------------------------------------------------------------------------------------
def test_accuracy_on_hand_numbers():
    m = accuracy(pd.Series([0, 2, 4]), pd.Series([1, 2, 2]), lower=pd.Series([0, 1, 3]), upper=pd.Series([2, 3, 3.5]),
                 insample=pd.Series([1, 3, 2, 4]), season=2)
    assert m["mape"] == pytest.approx(3 / 6)  # weighted: sum|e| / sum|y|, the zero hour is fine
    assert m["smape"] == pytest.approx((2 * 1 / 1 + 0 + 2 * 2 / 6) / 3)
    assert m["mase"] == pytest.approx(1.0)  # in-sample lag-2 naive error is 1
    assert m["coverage"] == pytest.approx(2 / 3)  # 4 is above 3.5


def test_accuracy_zero_hours():
    m = accuracy(pd.Series([0.0, 0.0]), pd.Series([0.0, 1.0]))
    assert math.isnan(m["mape"])  # nothing to weigh by
    assert m["smape"] == pytest.approx(1.0)  # 0/0 hour is perfect, 0 vs 1 is the maximum 2
    assert m["coverage"] is None and math.isnan(m["mase"])


# -- baselines and series ------------------------------------------------------------------------
def test_seasonal_naive_exact_values():
    hist = pd.DataFrame({"ts": pd.date_range("2024-01-01", periods=336, freq="h"), "y": np.arange(336.0)})
    out = seasonal_naive(hist, horizon_h=200)
    assert out["ts"].iloc[0] == pd.Timestamp("2024-01-15 00:00")
    assert out["yhat"].tolist() == list(np.arange(168.0, 336.0)) + list(np.arange(168.0, 200.0))
    hist.loc[335, "y"] = np.nan  # missing last hour: falls back to the week before
    assert seasonal_naive(hist, horizon_h=168)["yhat"].iloc[-1] == 167.0
    short = seasonal_naive(hist, horizon_h=3, season_h=24)
    assert short["yhat"].tolist() == [312.0, 313.0, 314.0]


def test_seasonal_median_ignores_one_odd_week():
    y = np.tile(np.arange(168.0), 4)
    y[168:336] = 1000.0  # one holiday-like week
    hist = pd.DataFrame({"ts": pd.date_range("2024-01-01", periods=len(y), freq="h"), "y": y})
    out = seasonal_median(hist, horizon_h=168, seasons=3)
    assert out["yhat"].tolist() == list(np.arange(168.0))


def test_seasonal_trimmed_mean_drops_highest_and_lowest():
    y = np.concatenate([np.full(168, v) for v in (1.0, 2.0, 3.0, 100.0, 5.0, 6.0)])
    y[5 * 168] = np.nan  # hour 0 missing in the last week
    hist = pd.DataFrame({"ts": pd.date_range("2024-01-01", periods=len(y), freq="h"), "y": y})
    out = seasonal_trimmed_mean(hist, horizon_h=2, seasons=6)["yhat"].tolist()
    assert out == [pytest.approx((2 + 3 + 5) / 3), pytest.approx((2 + 3 + 5 + 6) / 4)]
    assert seasonal_trimmed_mean(hist, horizon_h=1, seasons=2)["yhat"].tolist() == [5.0]  # < 3 values: plain mean


def test_regular_hourly_sums_and_marks_gaps():
    s = pd.DataFrame({"ts": pd.to_datetime(["2024-01-01 00:10", "2024-01-01 00:40", "2024-01-01 03:00"]), "y": [1, 2, 5]})
    out = regular_hourly(s)
    assert out["ts"].tolist() == list(pd.date_range("2024-01-01", periods=4, freq="h"))
    assert out["y"].iloc[0] == 3 and np.isnan(out["y"].iloc[1]) and out["y"].iloc[3] == 5
    assert regular_hourly(s, fill=0)["y"].tolist() == [3, 0, 0, 5]


def test_hourly_demand_counts_held_bookings_zero_filled():
    b = pd.DataFrame({
        "subject": ["math", "math", "math", "physics", "math"],
        "scheduled_time": pd.to_datetime(["2024-01-01 10:00", "2024-01-01 10:30", "2024-01-01 11:00",
                                          "2024-01-01 12:00", "2024-01-01 13:00"]),
        "status": ["scheduled", "completed", "cancelled", "no_show", "rescheduled"],
    })
    out = hourly_demand(b, datetime(2024, 1, 1, 10), datetime(2024, 1, 1, 14), subjects=["math", "physics", "biology"])
    assert list(out.columns) == ["subject", "ts", "y"]
    wide = out.pivot(index="ts", columns="subject", values="y")
    # the cancelled 11:00 booking is not demand, nor the rescheduled 13:00 one (its new time is a row of its own)
    assert wide["math"].tolist() == [2, 0, 0, 0]
    assert wide["physics"].tolist() == [0, 0, 1, 0]
    assert wide["biology"].tolist() == [0, 0, 0, 0]


# -- backtest ------------------------------------------------------------------------------------
def test_backtest_cutoffs_and_prediction_rows():
    s = weekly_series(40)
    summary, pred = backtest(s, horizon_h=24, train_days=21, cutoffs=5, model_factory=MedianModel)
    assert list(pred.columns) == ["cutoff", "timestamp", "actual", "predicted", "lower", "upper", "baseline"]
    assert len(pred) == 5 * 24 and pred["cutoff"].nunique() == 5
    cuts = sorted(pred["cutoff"].unique())
    assert pd.Timestamp(cuts[-1]) == s["ts"].iloc[-1] - pd.Timedelta(hours=24)
    assert all((pd.Timestamp(b) - pd.Timestamp(a)) == pd.Timedelta(hours=24) for a, b in zip(cuts, cuts[1:]))
    assert (pred["timestamp"] > pred["cutoff"]).all()
    assert set(summary["model"]) == {"mape", "smape", "mase", "coverage"}
    assert summary["seasonal_naive"]["coverage"] is None
    assert summary["cutoffs"] == 5 and summary["hours"] == 120 and "weighted" in summary["mape_definition"]
    assert summary["beats_baseline"] == (summary["model"]["mape"] < summary["seasonal_naive"]["mape"])


def test_backtest_too_short_says_what_fits():
    s = regular_hourly(weekly_series(40))
    with pytest.raises(NotEnoughHistory, match=r"960 hours .* needs 1008 hours.*--cutoffs 1 or --train-days 26"):
        cutoff_times(s, horizon_h=168, train_days=28, cutoffs=2)


# -- the forecaster ------------------------------------------------------------------------------
def test_select_weights_is_convex_and_picks_the_better_member():
    actual = np.arange(10.0)
    w = select_weights(actual, {"good": actual + 0.1, "bad": actual + 5, "nan": np.full(10, np.nan)}, 0.25)
    assert sum(w.values()) == pytest.approx(1) and w["good"] == 1.0 and w["nan"] == 0.0


def test_clip_outliers_clips_spike_not_level_shift():
    s = weekly_series(42, level=30)
    y = s["y"].to_numpy().copy()
    y[24 * 35:] *= 2  # a lasting level shift in the last week
    y[24 * 10 + 17] = 2000  # one spike
    out = clip_outliers(s["ts"], y, 5.0)
    assert out[24 * 10 + 17] < 200
    assert np.mean(out[24 * 35:] == y[24 * 35:]) > 0.97
    assert np.mean(out == y) > 0.99


def test_forecast_never_negative_and_serialises(tmp_path):
    s = weekly_series(35, seed=3, level=2.0)  # mostly zero hours
    f = DemandForecaster(train_days=35, seed=0).fit(s)
    p = f.predict()
    assert list(p.columns) == ["ts", "yhat", "yhat_lower", "yhat_upper", "baseline"]
    assert len(p) == 168 and p["ts"].iloc[0] == s["ts"].iloc[-1] + pd.Timedelta(hours=1)
    assert (p[["yhat", "yhat_lower", "yhat_upper"]] >= 0).all().all()
    assert (p["yhat_lower"] <= p["yhat"]).all() and (p["yhat"] <= p["yhat_upper"]).all()
    assert p["baseline"].tolist() == s["y"].iloc[-168:].tolist()  # the plain same-hour-last-week
    # the expected count: quiet hours keep their fractions of a session (sums over hours stay unbiased)
    assert ((p["yhat"] > 0) & (p["yhat"] < 0.5)).any()
    text = f.to_json()
    assert "pickle" not in text
    g = DemandForecaster.from_json(text)
    pd.testing.assert_frame_equal(g.predict(), p)
    assert g.weights_ == f.weights_ and g.validation_ == f.validation_
    later = g.predict(start=p["ts"].iloc[5])
    assert np.allclose(later["yhat"].iloc[:10], p["yhat"].iloc[5:15])
    with pytest.raises(ValueError, match="inside the history"):
        g.predict(start=s["ts"].iloc[-1])


def test_no_zero_snapping_for_measurements():
    s = weekly_series(35, seed=5, level=2.0).assign(y=lambda d: d["y"] * 0.1 + 0.01)  # not counts
    f = DemandForecaster(train_days=35, members=("naive", "mean2w")).fit(s)
    p = f.predict()
    assert not f.counts_ and ((p["yhat"] > 0) & (p["yhat"] < 0.5)).any()


def test_refresh_moves_baselines_to_new_hours():
    s = weekly_series(35, seed=4)
    f = DemandForecaster(train_days=28, members=("naive", "mean2w")).fit(s.iloc[:-24])
    f.refresh(s.iloc[-48:])
    p = f.predict()
    assert p["ts"].iloc[0] == s["ts"].iloc[-1] + pd.Timedelta(hours=1)
    assert p["baseline"].tolist() == s["y"].iloc[-168:].tolist()


def test_falls_back_to_seasonal_naive_when_it_cannot_beat_it():
    # an exactly repeating week: "same hour last week" is perfect and nothing can beat it
    week = np.tile(np.r_[np.zeros(8), np.arange(1.0, 17.0)], 7) * np.repeat([1, 1, 1, 1, 1, 3, 3], 24)
    s = pd.DataFrame({"ts": pd.date_range("2024-02-05", periods=168 * 6, freq="h"), "y": np.tile(week, 6)})
    f = DemandForecaster(train_days=42, holidays=None, tz="UTC").fit(s)  # a UTC week, no holidays
    assert f.validation_["seasonal_naive_mape"] == 0 and f.validation_["ensemble_mape"] >= 0
    assert not f.validation_["beats_baseline"] and f.validation_["model"] == "seasonal_naive"
    assert all(w == {m: float(m == "naive") for m in f.members} for w in f.weights_)
    p = f.predict()
    assert np.allclose(p["yhat"], week) and np.allclose(p["yhat_lower"], week)  # exact, and no error seen


def test_needs_two_weeks():
    with pytest.raises(ValueError, match="two weeks"):
        DemandForecaster().fit(weekly_series(10))


@pytest.mark.slow
def test_beats_seasonal_naive_on_weekday_weekend_shapes():
    s = weekly_series(70, seed=7, level=15.0)
    summary, pred = backtest(s, horizon_h=168, train_days=42, cutoffs=4)
    assert len(pred) == 4 * 168
    assert summary["beats_baseline"]
    assert summary["model"]["mape"] < 0.9 * summary["seasonal_naive"]["mape"]
    assert 0.85 <= summary["model"]["coverage"] <= 1.0
