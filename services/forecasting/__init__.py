"""Demand forecasting: hourly sessions per subject, an ensemble model, baselines, backtests, metrics.

    from services.forecasting import DemandForecaster, seasonal_naive, hourly_demand, backtest, accuracy
"""
from services.forecasting.backtest import NotEnoughHistory, backtest, cutoff_times
from services.forecasting.baselines import seasonal_median, seasonal_naive
from services.forecasting.metrics import MAPE_DEFINITION, accuracy
from services.forecasting.model import DemandForecaster
from services.forecasting.series import hourly_demand, regular_hourly

__all__ = [
    "DemandForecaster", "seasonal_naive", "seasonal_median", "hourly_demand", "regular_hourly",
    "backtest", "cutoff_times", "accuracy", "NotEnoughHistory", "MAPE_DEFINITION",
]
