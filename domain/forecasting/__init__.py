"""Demand forecasting: hourly sessions per subject, an ensemble model, baselines, backtests, metrics.

    from domain.forecasting import DemandForecaster, seasonal_naive, hourly_demand, backtest, accuracy

How the forecast job uses it (pure functions here; the job loads and writes the tables):
- weekly retrain, per subject: ``history = hourly_demand(bookings, at - 90 days, at, subjects=SUBJECTS)``;
  ``f = DemandForecaster().fit(history[history.subject == s][["ts", "y"]])``; store ``f.to_json()``
  in forecast_models (kind ``DemandForecaster.KIND``), ``f.validation_`` in forecast_runs.detail,
  and ``f.predict()`` rows (ts, yhat, yhat_lower, yhat_upper, baseline) in demand_forecasts.
- hourly refresh: ``DemandForecaster.from_json(model_json).refresh(latest hours).predict()``.
- later, when the hours have passed: ``accuracy(actual, yhat, lower, upper)`` for forecast_accuracy
  (``mape`` is the weighted MAPE defined in metrics.py) and ``accuracy(actual, baseline)["mape"]``
  as baseline_mape.
"""
from domain.forecasting.backtest import NotEnoughHistory, backtest, cutoff_times
from domain.forecasting.baselines import seasonal_median, seasonal_naive
from domain.forecasting.metrics import MAPE_DEFINITION, accuracy
from domain.forecasting.model import DemandForecaster
from domain.forecasting.series import hourly_demand, regular_hourly

__all__ = [
    "DemandForecaster", "seasonal_naive", "seasonal_median", "hourly_demand", "regular_hourly",
    "backtest", "cutoff_times", "accuracy", "NotEnoughHistory", "MAPE_DEFINITION",
]
