"""The embedded scheduler: long jobs run in their own lane; due jobs run in schedule order, once per interval."""
from __future__ import annotations

from workers import embedded
from workers.embedded import EmbeddedScheduler


def test_lanes_keep_long_jobs_away_from_frequent_ones(tmp_path):
    from tests.conftest import make_settings
    scheduler = EmbeddedScheduler(make_settings(tmp_path), schedule={"ingest": 15, "notify": 60, "forecast": 3600,
                                                                     "train-churn": 604800})
    assert scheduler.lanes() == {"fast": ["ingest", "notify"], "slow": ["forecast", "train-churn"]}


def test_due_jobs_run_once_per_interval(tmp_path, monkeypatch):
    from tests.conftest import make_settings
    ran = []
    monkeypatch.setattr(embedded, "run_job", lambda name, settings: ran.append(name))
    scheduler = EmbeddedScheduler(make_settings(tmp_path), schedule={"ingest": 15, "overview": 15, "forecast": 3600})
    assert scheduler.run_due() == ["ingest", "overview", "forecast"]
    assert scheduler.run_due() == []  # nothing is due again yet
    assert ran == ["ingest", "overview", "forecast"]
