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


def test_counts_money_and_durations_read_with_separators():
    assert fmt.count(3340) == "3,340" and fmt.count(3340, "alert") == "3,340 alerts"
    assert fmt.count(1, "alert") == "1 alert" and fmt.count(2, "first session") == "2 first sessions"
    assert fmt.money(154965.93) == "$154,966" and fmt.money(-1200) == "-$1,200" and fmt.money(None) == "—"
    assert fmt.value(-1200, "money") == "-$1,200"
    assert fmt.duration(65) == "1 min 5 s" and fmt.duration(42) == "42 s" and fmt.duration(3720) == "1 h 2 min"
    assert fmt.iso_utc(datetime(2026, 12, 6, 14, 5, 33)) == "2026-12-06T14:05:00Z" and fmt.iso_utc(None) is None


def test_my_queue_counts_and_rows_read_with_separators():
    """My queue said "3340 to contact" and "$1234" (no separators); the badges and rows go through ui/format."""
    from callbacks.customers.queue import count_badges, rows
    badges = count_badges({"due": 3340, "waiting": 1204}, 1500)
    texts = [b.children for b in badges.children]
    assert texts == ["3,340 to contact", "1,500 overdue", "1,204 waiting for a follow-up"]
    queue = pd.DataFrame([{"customer_id": "C1", "tasks": "calls_14d", "name": "A", "phone": None, "email": None,
                           "priority": 1, "intervention": "", "why": "2 calls", "due_at": datetime(2026, 12, 6),
                           "overdue": False, "revenue_at_risk": 12345.6, "churn_probability": 0.2,
                           "last_contacted_at": None},
                          {"customer_id": "C2", "tasks": "calls_14d", "name": None, "phone": None, "email": None,
                           "priority": 2, "intervention": "", "why": "", "due_at": datetime(2026, 12, 7),
                           "overdue": True, "revenue_at_risk": float("nan"), "churn_probability": 0.237,
                           "last_contacted_at": datetime(2026, 11, 30)}])
    out = rows(queue, personal=False)
    assert out[0]["risk"] == "$12,346" and out[1]["risk"] == "24 % churn"
    assert out[1]["due"] == "07 Dec · overdue" and out[1]["last_contact"] == "30 Nov" and out[0]["last_contact"] == "—"
