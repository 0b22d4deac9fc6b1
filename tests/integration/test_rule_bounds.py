"""Detector rules as operators set them (issue #14 row 2): only the form's settings, numbers within bounds, from
the page or stored; a preview bounded in points and in previews at once."""
from __future__ import annotations

import json
import re
import threading

import numpy as np
import pandas as pd
import pytest

from app import create_app
from auth import accounts
from domain.alerting.lifecycle import RuleError
from domain.anomaly import DetectorConfig
from layouts.alerts.alert_rules import RULE_FIELDS
from models.base import get_engine
from read import rule_preview
from writes import rules


def test_every_form_field_has_bounds_and_nothing_else_is_settable():
    assert {(section, key) for section, key, *_ in RULE_FIELDS} == set(rules.RULE_SCHEMA)
    base = DetectorConfig()
    for bad, message in [({("baseline", "weeks"): 600}, "unknown setting baseline.weeks"),
                         ({("baseline", "weeks"): 100000}, "unknown setting"),
                         ({("robust_zscore", "routine_window_days"): 1e9}, "unknown setting"),
                         ({("robust_zscore", "threshold"): 1e12}, "at most 50"),
                         ({("robust_zscore", "sustained_points"): 10**6}, "at most 48"),
                         ({("week_over_week", "window_hours"): 24 * 365}, "at most 168"),
                         ({("consecutive_drops", "drops"): 10**5}, "at most 14"),
                         ({("robust_zscore", "threshold"): float("nan")}, "a number"),
                         ({("robust_zscore", "enabled"): "yes"}, "on or off"),
                         ({("__class__", "x"): 1}, "unknown setting")]:
        with pytest.raises(RuleError, match=message):
            rules.overrides_from(bad, base)
    assert rules.overrides_from({("robust_zscore", "threshold"): "7.5"}, base) == {"robust_zscore": {"threshold": 7.5}}


def test_saved_rules_are_checked_against_the_same_schema(settings):
    engine = get_engine(settings.db_url)
    for bad in ({"baseline": {"weeks": 600}}, {"robust_zscore": {"threshold": 1e9}}, {"holidays": "XX"},
                {"robust_zscore": "x"}, {"robust_zscore": {"threshold": 6, "routine_days": 0}}):
        with pytest.raises(RuleError):
            rules.save_metric_rule(engine, "sessions.booked", bad, "ops@example.com")
    rules.save_metric_rule(engine, "sessions.booked", {"robust_zscore": {"threshold": 6}}, "ops@example.com")


def test_a_forged_preview_naming_a_costly_setting_is_refused_with_a_message(settings):
    engine = get_engine(settings.db_url)
    accounts.create_user(engine, "ops@example.com", "ops", "long-enough-pw")
    client = create_app(settings).server.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    client.post("/login", data={"email": "ops@example.com", "password": "long-enough-pw", "csrf_token": token})
    field = {"type": "alerts-rule-field", "section": "baseline", "key": "weeks"}
    payload = {"output": "..alerts-rule-summary.children...alerts-rule-chart.figure...alerts-rule-message.children..",
               "outputs": [{"id": "alerts-rule-summary", "property": "children"},
                           {"id": "alerts-rule-chart", "property": "figure"},
                           {"id": "alerts-rule-message", "property": "children"}],
               "inputs": [{"id": "alerts-rule-preview", "property": "n_clicks", "value": 1},
                          {"id": "alerts-rule-save", "property": "n_clicks", "value": None}],
               "state": [{"id": "alerts-rule-metric", "property": "value", "value": "sessions.booked"},
                         [{"id": field, "property": "value", "value": 100000}]],
               "changedPropIds": ["alerts-rule-preview.n_clicks"]}
    response = client.post("/_dash-update-component", data=json.dumps(payload), content_type="application/json")
    assert response.status_code == 200
    assert "unknown setting baseline.weeks" in response.get_data(as_text=True)


def test_a_dense_series_is_previewed_on_coarser_means_within_the_point_budget():
    index = pd.date_range("2026-08-01", periods=100 * 24 * 60, freq="1min")  # 100 days of minutes: 144,000 points
    series = pd.Series(np.random.default_rng(1).normal(100, 5, len(index)), index=index, name="latency")
    bounded = rule_preview.bounded(series)
    assert len(bounded) <= rule_preview.MAX_POINTS and bounded.attrs["step_minutes"] == 5
    assert bounded.name == "latency" and bounded.mean() == pytest.approx(series.mean(), rel=1e-3)
    small = series.iloc[:1000]
    assert rule_preview.bounded(small) is small


def test_previews_at_once_are_limited_and_the_next_one_is_told_to_retry():
    entered, release = threading.Barrier(rule_preview.PREVIEWS_AT_ONCE + 1), threading.Event()

    def hold():
        with rule_preview.preview_slot():
            entered.wait()
            release.wait(10)
    threads = [threading.Thread(target=hold) for _ in range(rule_preview.PREVIEWS_AT_ONCE)]
    for t in threads:
        t.start()
    entered.wait()
    with pytest.raises(RuleError, match="try again"):
        with rule_preview.preview_slot():
            pass
    release.set()
    for t in threads:
        t.join()
    with rule_preview.preview_slot():  # free again
        pass
