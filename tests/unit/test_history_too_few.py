"""Charts of a derived history say "not enough history" below ui.charts.MIN_POINTS instead of drawing an
invented axis (a day or two of churn risk, daily scores): the issue-16 finding of one dot spread over four days."""
from __future__ import annotations

import pandas as pd

from ui.charts import MIN_POINTS


def _days(n: int) -> pd.Series:
    return pd.Series(pd.date_range("2026-11-01", periods=n, freq="D"))


def test_churn_risk_over_time_says_too_few_days_then_draws():
    from callbacks.customers.churn import _trend
    few = _trend(pd.DataFrame({"day": _days(2), "mean_probability": [0.1, 0.2], "flagged": [3, 4]}))
    assert few["data"] == [] and "Not enough history" in few["layout"]["annotations"][0]["text"]
    assert "2 days" in few["layout"]["annotations"][0]["text"]
    enough = _trend(pd.DataFrame({"day": _days(MIN_POINTS), "mean_probability": [0.1] * MIN_POINTS,
                                  "flagged": [1] * MIN_POINTS}))
    assert len(enough.data) == 2  # the mean line and the flagged bars


def test_customer_score_history_says_too_few_days_then_draws():
    from callbacks.customers.customer_detail import history_chart
    few = history_chart({"history": pd.DataFrame({"day": _days(1).dt.date, "score": [61.9]})})
    assert few.id == "customer-history-too-few" and "Not enough history" in str(few.children)
    drawn = history_chart({"history": pd.DataFrame({"day": _days(MIN_POINTS).dt.date, "score": [60.0] * MIN_POINTS})})
    assert drawn.id == "customer-history-chart"
