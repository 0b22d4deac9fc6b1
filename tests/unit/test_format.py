"""ui/format.py: codes in words, percentages, separators, times to the minute; ui/charts' partial last point."""
from __future__ import annotations

from datetime import datetime

import pandas as pd

from ui import format as fmt
from ui.charts import sparkline


def test_codes_read_as_words_and_unknown_codes_are_humanized():
    assert fmt.humanize("first_session_low_rating") == "Low first-session rating"
    assert fmt.humanize("trigger.calls_14d") == "2+ support calls in 14 days"
    assert fmt.humanize("paid_search") == "Paid search" and fmt.humanize("test_prep") == "Test prep"
    assert fmt.humanize("recruit.cut_spend") == "Cut recruiting spend"
    assert fmt.humanize("some_new.code") == "Some new code"
    assert fmt.humanize(None) == "—" and fmt.humanize(float("nan")) == "—"
    assert all(fmt.humanize(code) != code for code in fmt.RAW_CODES)


def test_numbers_percentages_and_units():
    assert fmt.number(216022) == "216,022"
    assert fmt.percent(0.3846) == "38 %" and fmt.percent(0.3846, 1) == "38.5 %"
    assert fmt.value(0.52, "ratio") == "52 %"  # coverage reads as % like the forecast page
    assert fmt.value(4.256, "rating") == "4.26" and fmt.value(1234.0, "count") == "1,234"
    assert fmt.value(None, "percent") == "—" and fmt.points(-46.2) == "-46 pts"


def test_times_to_the_minute_in_utc_with_the_browser_hook():
    span = fmt.when(datetime(2026, 12, 6, 14, 5, 33, 204500))
    assert span.children == "2026-12-06 14:05 UTC" and span.title == "2026-12-06 14:05 UTC"
    assert "local-time" in span.className and span.to_plotly_json()["props"]["data-utc"] == "2026-12-06T14:05:33Z"
    assert fmt.ago(datetime(2026, 1, 1, 11, 0), datetime(2026, 1, 1, 12, 0)) == "60 min ago"


def test_the_sparklines_last_point_is_hollow_on_a_dashed_segment():
    graph = sparkline([("d1", 10), ("d2", 11), ("d3", 12), ("today", 3)], "#198754")
    full, partial = graph.figure["data"]
    assert list(full["y"]) == [10, 11, 12]  # the finished days
    assert list(partial["y"]) == [12, 3] and partial["line"]["dash"] == "dot" and partial["marker"]["symbol"] == "circle-open"
    assert sparkline([("d1", 1)], "#000") is None
    assert pd.isna(pd.NaT) and fmt.utc_text(pd.NaT) == "—"
