"""The pure parts of the explorer and tutor ordering: expected band from earlier weeks, flagged points,
attention order, and the HTML alert email."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from domain.alerting.email_html import chart_png, render_html
from read.metrics import expected_band, flagged_points
from read.tutors import by_attention


def test_expected_band_is_the_same_time_of_week_before():
    idx = pd.date_range("2026-01-05", periods=4 * 7 * 24, freq="h")
    base = np.tile(np.arange(24, dtype=float), 4 * 7)  # a daily shape repeated for four weeks
    series = pd.Series(base, index=idx)
    since = idx[3 * 7 * 24]
    band = expected_band(series, since)
    assert band.index.min() == since and len(band) == 7 * 24
    assert band["expected"].to_numpy() == pytest.approx(base[-7 * 24:])
    assert (band["lower"] <= band["expected"]).all() and (band["upper"] >= band["expected"]).all()


def test_flagged_points_are_those_inside_an_anomaly_window():
    s = pd.Series([1.0, 2, 30, 40, 3], index=pd.date_range("2026-01-01", periods=5, freq="h"))
    windows = pd.DataFrame({"start_ts": [s.index[2]], "end_ts": [s.index[3]]})
    assert list(flagged_points(s, windows)) == [30, 40]
    assert flagged_points(s, windows.iloc[:0]).empty


def test_tutors_by_attention_alert_then_falling_then_low_on_a_real_sample():
    grid = pd.DataFrame({
        "tutor_id": ["a", "b", "c", "d", "e"], "rated_completed": [20, 2, 12, 9, 30],
        "first_sessions": [20, 2, 12, 9, 30], "wow_trend": [0, -50, -20, np.nan, 5],
        "band": ["", "low", "", "low", ""]})
    out = by_attention(grid, alerting={"e"})
    assert list(out["tutor_id"]) == ["e", "c", "d", "a", "b"]  # b falls, but on 2 rated: not brought up
    assert list(out["small_sample"]) == [False, False, False, False, True]


def test_html_email_escapes_text_orders_by_severity_and_links():
    alerts = pd.DataFrame([
        {"id": 2, "severity": "warning", "title": "W", "type": "anomaly", "rule": "r", "current_value": 0.5,
         "expected_value": "1", "message": "<script>x</script>", "link": "/explorer?metric=m",
         "detected_at": pd.Timestamp("2026-01-01 10:00")},
        {"id": 1, "severity": "critical", "title": "C & co", "type": "supply_demand", "rule": "r", "current_value": 3,
         "expected_value": "≥ 80 %", "message": "m", "link": None, "detected_at": pd.Timestamp("2026-01-01 11:00")}])
    html = render_html("Subject", "Intro", alerts, "https://ops.example.com", charts={2: "cid2"})
    assert html.index("C &amp; co") < html.index(">W<")  # critical first
    assert "&lt;script&gt;" in html and "<script>" not in html
    assert 'src="cid:cid2"' in html and "https://ops.example.com/alerts?id=1" in html
    assert max(len(line) for line in html.splitlines()) < 998  # SMTP line limit
    png = chart_png(pd.Series(np.arange(50.0), index=pd.date_range("2026-01-01", periods=50, freq="h")),
                    "2026-01-02 10:00", "2026-01-02 12:00", expected=20)
    assert png[:4] == b"\x89PNG"
