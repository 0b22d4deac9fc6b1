"""The Prophet member of the ensemble, fitted on log1p(y).

Why this shape (each piece kept because the backtests in benchmarks/forecast.py said so):
- log1p: hourly demand is multiplicative (a busy hour swings more than a quiet one) and the
  back-transform can never go below zero; expm1 of the fitted mean is a median-like forecast,
  which is what absolute-error metrics reward.
- daily seasonality conditioned on the kind of day (weekday / Saturday / Sunday-or-holiday):
  weekdays and weekends have different hourly shapes, which one shared daily curve averages away.
- holidays: one shared "holiday" effect for every date of the country's calendar, so a holiday
  in the training window teaches what a holiday in the forecast week looks like (a 90-day window
  rarely holds the same holiday twice), and holiday hours use the Sunday hourly shape.
- Prophet's default trend flexibility (changepoint prior 0.05, none in the last fifth of the
  window); a stiffer prior (0.01) with 8 daily harmonics did no better in the backtests than
  12 harmonics at 0.05.
- no sampling (uncertainty_samples=0): intervals come from the ensemble's validation errors.
"""
from __future__ import annotations

import logging
from functools import lru_cache

import numpy as np
import pandas as pd

logging.getLogger("cmdstanpy").disabled = True
logging.getLogger("prophet").setLevel(logging.WARNING)

DAY_KINDS = ("weekday", "saturday", "sunday")


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


def _holiday_frame(country: str | None, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame | None:
    if not country:
        return None
    dates = holiday_dates(country, start.year, end.year)
    return pd.DataFrame({"holiday": "holiday", "ds": list(dates), "lower_window": 0, "upper_window": 0})


def _features(ds: pd.Series, holidays: set) -> pd.DataFrame:
    """Day-kind columns for the conditional daily seasonalities."""
    dow = ds.dt.day_of_week
    is_holiday = ds.dt.normalize().isin(holidays)
    sunday_like = (dow == 6) | is_holiday
    return pd.DataFrame({
        "ds": ds.to_numpy(),
        "weekday": ((dow < 5) & ~is_holiday).to_numpy(),
        "saturday": ((dow == 5) & ~is_holiday).to_numpy(),
        "sunday": sunday_like.to_numpy(),
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

    def _holiday_set(self, start: pd.Timestamp, end: pd.Timestamp) -> set:
        if not self.holidays:
            return set()
        return set(holiday_dates(self.holidays, start.year, end.year))

    def fit(self, ts: pd.Series, y: np.ndarray, horizon_h: int) -> "ProphetMember":
        from prophet import Prophet
        ts = pd.Series(pd.to_datetime(ts)).reset_index(drop=True)
        # holidays a year past the horizon, so hourly refreshes of a stored model still see them
        end = ts.iloc[-1] + pd.Timedelta(hours=horizon_h) + pd.DateOffset(years=1)
        model = Prophet(
            growth="linear", yearly_seasonality=False, weekly_seasonality=False, daily_seasonality=False,
            holidays=_holiday_frame(self.holidays, ts.iloc[0], end),
            changepoint_prior_scale=self.changepoint_prior_scale, changepoint_range=0.8,
            uncertainty_samples=0,
        )
        if type(model.stan_backend).__name__ == "CmdStanPyBackend":
            model.stan_backend.__class__ = _array_backend_class()
        model.add_seasonality("weekly", period=7, fourier_order=self.weekly_order)
        for kind in DAY_KINDS:
            model.add_seasonality(f"daily_{kind}", period=1, fourier_order=self.daily_order, condition_name=kind)
        frame = _features(ts, self._holiday_set(ts.iloc[0], end))
        frame["y"] = np.log1p(np.clip(np.asarray(y, dtype=float), 0, None))
        frame = frame.dropna(subset=["y"])
        model.fit(frame, algorithm="LBFGS", seed=self.seed)
        self.model_ = model
        return self

    def predict(self, ts: pd.Series) -> np.ndarray:
        ts = pd.Series(pd.to_datetime(ts)).reset_index(drop=True)
        frame = _features(ts, self._holiday_set(ts.iloc[0], ts.iloc[-1]))
        out = self.model_.predict(frame)
        return np.clip(np.expm1(out["yhat"].to_numpy()), 0, None)

    def to_json(self) -> str:
        from prophet.serialize import model_to_json
        return model_to_json(self.model_)

    @classmethod
    def from_json(cls, text: str, **params) -> "ProphetMember":
        from prophet.serialize import model_from_json
        member = cls(**params)
        member.model_ = model_from_json(text)
        return member
