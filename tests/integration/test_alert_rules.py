"""Silence windows and detector rules in the store: validation, round trips, and the 30-day preview."""
from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import insert

from models.base import get_engine
from models.source import MetricPoint
from read import alerts as aq
from read import rule_preview
from writes import rules

pytest.importorskip("domain.anomaly")
from domain.anomaly import DetectorConfig  # noqa: E402
from loaders.streams import metric_rules

AT = datetime(2026, 11, 2, 12, 0)


def seed_metric(engine, name="sessions.booked", days=100, spikes=(), seed=3, at=AT):
    """An hourly daily-seasonal metric in metric_points up to `at`, with spikes (hours before `at`, size)."""
    idx = pd.date_range(at - timedelta(days=days), at, freq="h")
    rng = np.random.default_rng(seed)
    y = 100 + 30 * np.sin(np.arange(len(idx)) * 2 * np.pi / 24) + rng.normal(0, 4, len(idx))
    for hours_ago, size in spikes:
        y[-1 - hours_ago] += size
    with engine.begin() as conn:
        conn.execute(insert(MetricPoint), [{"metric": name, "ts": t.to_pydatetime(), "value": float(v), "row_hash": 0}
                                           for t, v in zip(idx, y)])


def test_silences_are_validated_listed_and_ended(settings):
    engine = get_engine(settings.db_url)
    cases = [
        (dict(rule="", metric=""), "Name a rule or a metric"),
        (dict(rule="two words"), "one word"),
        (dict(rule="anomaly", ends=AT - timedelta(hours=1)), "end after it starts"),
        (dict(rule="anomaly", starts=AT - timedelta(days=2), ends=AT - timedelta(days=1)), "end in the future"),
        (dict(rule="anomaly", ends=AT + timedelta(days=91)), "at most 90 days"),
        (dict(rule="anomaly", reason=" "), "Say why"),
    ]
    for case, message in cases:
        with pytest.raises(rules.RuleError, match=message):
            rules.add_silence(engine, case.get("rule"), case.get("metric"), case.get("starts", AT),
                              case.get("ends", AT + timedelta(hours=2)), case.get("reason", "maintenance"), "ops@x.com", at=AT)
    sid = rules.add_silence(engine, "anomaly", None, AT, AT + timedelta(hours=2), "maintenance", "ops@x.com", at=AT)
    listed = aq.list_silences(engine, AT)
    assert list(listed["id"]) == [sid] and listed["created_by"].iloc[0] == "ops@x.com"
    rules.end_silence(engine, sid, at=AT + timedelta(minutes=30))
    assert aq.list_silences(engine, AT + timedelta(minutes=31)).empty
    with pytest.raises(rules.RuleError, match="already ended"):
        rules.end_silence(engine, sid, at=AT + timedelta(hours=1))


def test_form_values_become_only_the_differences_and_bad_ones_are_refused():
    base = DetectorConfig()
    form = {("robust_zscore", "threshold"): 4, ("robust_zscore", "enabled"): True,
            ("week_over_week", "threshold_pct"): "20", ("consecutive_drops", "drops"): 4.0,
            ("sigma", "direction"): "up"}
    assert rules.overrides_from(form, base) == {"robust_zscore": {"threshold": 4}, "consecutive_drops": {"drops": 4},
                                                "sigma": {"direction": "up"}}
    for bad, message in [({("robust_zscore", "threshold"): None}, "needs a value"),
                         ({("robust_zscore", "threshold"): -1}, "cannot be negative"),
                         ({("consecutive_drops", "drops"): 2.5}, "whole number"),
                         ({("consecutive_drops", "drops"): 1}, "at least 2"),
                         ({("sigma", "direction"): "sideways"}, "direction must be one of")]:
        with pytest.raises(rules.RuleError, match=message):
            rules.overrides_from(bad, base)


def test_saved_rules_round_trip_on_top_of_pattern_rules(any_settings):
    engine = get_engine(any_settings.db_url)
    rules.save_metric_rule(engine, "sessions.*", {"robust_zscore": {"threshold": 6}}, "ops@x.com", at=AT)
    base, saved, own = rules.rule_configs(engine, "sessions.booked")
    assert base.robust_zscore.threshold == 6 and own == {}
    # the form shows 6 (the pattern); an operator sets 5 for this metric: stored, because it differs from the pattern
    overrides = rules.overrides_from({("robust_zscore", "threshold"): 5}, base)
    assert overrides == {"robust_zscore": {"threshold": 5}}
    rules.save_metric_rule(engine, "sessions.booked", overrides, "ops@x.com", at=AT)
    rules.save_metric_rule(engine, "sessions.booked", {"robust_zscore": {"threshold": 5.5}}, "lead@x.com", at=AT)
    _base, saved, own = rules.rule_configs(engine, "sessions.booked")
    assert saved.robust_zscore.threshold == 5.5 and own == {"robust_zscore": {"threshold": 5.5}}
    assert metric_rules(engine)["sessions.booked"]["updated_by"] == "lead@x.com"
    with pytest.raises(rules.RuleError, match="unknown"):
        rules.save_metric_rule(engine, "sessions.booked", {"robust_zscor": {}}, "ops@x.com")


def test_preview_counts_what_a_threshold_would_have_fired_over_30_days(settings):
    engine = get_engine(settings.db_url)
    seed_metric(engine, spikes=[(24 * 3, 60), (24 * 10, 35), (24 * 50, 80)])  # the last one is outside the 30 days
    series = rule_preview.load_series(engine, "sessions.booked", 30, AT)
    assert series.index.min() >= AT - timedelta(days=100) and series.index.max() == AT
    default = rule_preview.preview(series, DetectorConfig(), 30, AT, "sessions.booked")
    loose = rule_preview.preview(series, DetectorConfig.from_dict({"robust_zscore": {"threshold": 3, "routine_days": 0}}),
                          30, AT, "sessions.booked")
    strict = rule_preview.preview(series, DetectorConfig.from_dict({"robust_zscore": {"threshold": 40}}), 30, AT, "sessions.booked")
    assert default["days"] == 30 and default["by_method"]["robust_zscore"]["count"] >= 1
    assert loose["total"] >= default["total"] >= strict["total"]
    assert strict["by_method"]["robust_zscore"]["count"] == 0
    assert all(pd.Timestamp(e["end"]) >= AT - timedelta(days=30) for e in default["events"])
    with pytest.raises(rules.RuleError, match="No data for nothing.here"):
        rule_preview.load_series(engine, "nothing.here", 30, AT)


def test_streams_derived_from_bookings_are_listed_and_previewed_with_their_built_in_rules(settings):
    from tests.factories import booking, bookings_df, customer, customers_df, tutor, tutors_df
    from tests.support.store import load_frames
    engine = get_engine(settings.db_url)
    rng = np.random.default_rng(5)
    hours = pd.date_range(AT - timedelta(days=45), AT - timedelta(hours=1), freq="h")
    rows = []
    for h in hours:
        n = rng.poisson(6) + (60 if h == AT - timedelta(days=4, hours=6) else 0)  # one burst 4 days ago
        rows += [booking(f"c{i % 40}", scheduled_time=h.to_pydatetime() + timedelta(days=2), subject="math",
                         created_at=h.to_pydatetime() + timedelta(minutes=5), updated_at=h.to_pydatetime())
                 for i in range(n)]
    load_frames(settings, {"customers": customers_df(*(customer(f"c{i}") for i in range(40))),
                           "tutors": tutors_df(tutor("t1")), "bookings": bookings_df(*rows)})
    names = aq.derived_stream_names(engine)
    assert {"bookings.rate", "bookings.rate.math", "sessions.no_show_rate.math"} <= set(names)
    base, saved, own = rules.rule_configs(engine, "bookings.rate.math")
    assert own == {} and saved.week_over_week.agg == "sum"  # metric_streams.STREAM_RULES applies
    series = rule_preview.load_series(engine, "bookings.rate.math", 30, AT)
    assert series.index.max() == AT - timedelta(hours=1) and series.sum() == pytest.approx(len(rows), rel=0.35)
    result = rule_preview.preview(series, saved, 30, AT, "bookings.rate.math")
    assert any(pd.Timestamp(e["peak_ts"]) == AT - timedelta(days=4, hours=6) for e in result["events"])
