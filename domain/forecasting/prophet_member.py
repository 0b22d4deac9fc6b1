"""The Prophet member of the ensemble, fitted on log1p(y).

Why this shape (each piece kept because the backtests in benchmarks/forecast.py said so):
- log1p: hourly demand is multiplicative (a busy hour swings more than a quiet one) and the
  back-transform can never go below zero; expm1 of the fitted mean is a median-like forecast,
  which is what absolute-error metrics reward.
- daily seasonality conditioned on the kind of day (weekday / Saturday / Sunday-or-holiday):
  weekdays and weekends have different hourly shapes, which one shared daily curve averages away.
  When the series is not in its users' local time (its quietest hour is after 06:00, as for US
  demand in UTC), a day runs from that quietest hour to the next (``day_start_``): US evenings run
  past midnight UTC, and splitting them there more than doubled Prophet's error on the
  synthetic marketplace (weighted MAPE 0.31 -> 0.13 on the all-subject series).
- holidays: one shared "holiday" effect for every date of the country's calendar, so a holiday
  in the training window teaches what a holiday in the forecast week looks like (a 90-day window
  rarely holds the same holiday twice), and holiday hours use the Sunday hourly shape.
- Prophet's default trend flexibility (changepoint prior 0.05, none in the last fifth of the
  window); a stiffer prior (0.01) with 8 daily harmonics did no better in the backtests than
  12 harmonics at 0.05.
- no sampling (uncertainty_samples=0): intervals come from the ensemble's validation errors.
"""
from __future__ import annotations

import json
import logging
from functools import lru_cache

import numpy as np
import pandas as pd

logging.getLogger("cmdstanpy").disabled = True
logging.getLogger("prophet").setLevel(logging.WARNING)

DAY_KINDS = ("weekday", "saturday", "sunday")
LOCAL_NIGHT_END = 6  # a quietest hour up to 06:00 means the series is in local time


def _array_backend_class():
    """Prophet's cmdstanpy backend, handing cmdstanpy numpy arrays instead of nested lists.

    Prophet 1.5's prepare_data turns the design matrix (2,160 x ~80 here) into Python lists,
    which stanio then walks value by value: about a second per fit, more than the optimisation
    itself. As arrays they take stanio's fast path. Same data, same fit; applied per model (the
    instance's class is swapped), not patched into the library.
    """
    from prophet.models import CmdStanPyBackend

    class ArrayBackend(CmdStanPyBackend):
        @staticmethod
        def prepare_data(init, data):
            out = {k: data[k] for k in ("T", "S", "K", "tau", "trend_indicator")}
            for k in ("y", "t", "cap", "t_change", "sigmas"):
                out[k] = np.asarray(data[k], dtype=float)
            for k in ("s_a", "s_m"):
                out[k] = np.asarray(data[k], dtype=int)
            out["X"] = np.asarray(data["X"], dtype=float)
            inits = {"k": init["k"], "m": init["m"], "sigma_obs": init["sigma_obs"],
                     "delta": np.asarray(init["delta"], dtype=float), "beta": np.asarray(init["beta"], dtype=float)}
            return inits, out

    return ArrayBackend


@lru_cache(maxsize=32)
def holiday_dates(country: str, first_year: int, last_year: int) -> tuple[pd.Timestamp, ...]:
    """Public holidays of ``country`` (ISO code, e.g. "US") from the ``holidays`` package."""
    import holidays as holidays_lib
    days = holidays_lib.country_holidays(country, years=range(first_year, last_year + 1))
    return tuple(sorted(pd.Timestamp(d) for d in days))


def holiday_set(country: str | None, ts: pd.Series) -> set:
    """The holiday dates of ``country`` around the span of ``ts`` (empty without a country)."""
    if not country:
        return set()
    return set(holiday_dates(country, ts.iloc[0].year - 1, ts.iloc[-1].year + 1))


def _features(ds: pd.Series, holidays: set, day_start: int) -> pd.DataFrame:
    """Day-kind and holiday columns. A "day" starts at ``day_start`` o'clock (the quietest hour),
    so that late-evening demand stays with the evening it belongs to: in UTC, US evenings run past
    midnight, and a Friday night is not a Saturday."""
    day = (ds - pd.Timedelta(hours=day_start)).dt.normalize()
    dow = day.dt.day_of_week
    is_holiday = day.isin(holidays)
    return pd.DataFrame({
        "ds": ds.to_numpy(),
        "weekday": ((dow < 5) & ~is_holiday).to_numpy(),
        "saturday": ((dow == 5) & ~is_holiday).to_numpy(),
        "sunday": ((dow == 6) | is_holiday).to_numpy(),
        "holiday": is_holiday.to_numpy(dtype=float),
    })


class ProphetMember:
    """Prophet on log1p(y) with day-kind daily seasonalities and a shared holiday effect."""

    def __init__(self, holidays: str | None = "US", daily_order: int = 12, weekly_order: int = 3,
                 changepoint_prior_scale: float = 0.05, seed: int = 0):
        self.holidays = holidays
        self.daily_order = daily_order
        self.weekly_order = weekly_order
        self.changepoint_prior_scale = changepoint_prior_scale
        self.seed = seed
        self.model_ = None

    def fit(self, ts: pd.Series, y: np.ndarray, horizon_h: int) -> "ProphetMember":
        from prophet import Prophet
        ts = pd.Series(pd.to_datetime(ts)).reset_index(drop=True)
        y = np.clip(np.asarray(y, dtype=float), 0, None)
        quietest = int(pd.Series(y).groupby(ts.dt.hour.to_numpy()).mean().idxmin())
        # Series in their users' local time are quietest in the small hours: keep calendar days
        # there (backtests on local-time series were worse with the boundary moved to 4 am).
        self.day_start_ = 0 if quietest <= LOCAL_NIGHT_END else quietest
        model = Prophet(
            growth="linear", yearly_seasonality=False, weekly_seasonality=False, daily_seasonality=False,
            changepoint_prior_scale=self.changepoint_prior_scale, changepoint_range=0.8,
            uncertainty_samples=0,
        )
        if type(model.stan_backend).__name__ == "CmdStanPyBackend":
            model.stan_backend.__class__ = _array_backend_class()
        model.add_seasonality("weekly", period=7, fourier_order=self.weekly_order)
        for kind in DAY_KINDS:
            model.add_seasonality(f"daily_{kind}", period=1, fourier_order=self.daily_order, condition_name=kind)
        # one effect shared by every holiday (a regressor, so that it follows the shifted day)
        model.add_regressor("holiday", prior_scale=10.0, standardize=False)
        frame = _features(ts, holiday_set(self.holidays, ts), self.day_start_)
        frame["y"] = np.log1p(y)
        frame = frame.dropna(subset=["y"])
        model.fit(frame, algorithm="LBFGS", seed=self.seed)
        self.model_ = model
        return self

    def predict(self, ts: pd.Series) -> np.ndarray:
        ts = pd.Series(pd.to_datetime(ts)).reset_index(drop=True)
        frame = _features(ts, holiday_set(self.holidays, ts), self.day_start_)
        out = self.model_.predict(frame)
        return np.clip(np.expm1(out["yhat"].to_numpy()), 0, None)

    def to_json(self) -> str:
        """The fitted Prophet (prophet.serialize.model_to_json) and the day boundary, as JSON."""
        from prophet.serialize import model_to_json
        return json.dumps({"day_start": self.day_start_, "prophet": model_to_json(self.model_)})

    @classmethod
    def from_json(cls, text: str, **params) -> "ProphetMember":
        from prophet.serialize import model_from_json
        data = json.loads(text)
        member = cls(**params)
        member.day_start_ = int(data["day_start"])
        member.model_ = model_from_json(data["prophet"])
        return member
