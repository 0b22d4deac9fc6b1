"""The synthetic source adapter: anchor persistence, watermark filtering, live rows."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from config import Settings
from sources import Adapter, get_adapter
from sources.synthetic import SyntheticAdapter, anchor_time
from domain.contract import RECORDS

ANCHOR = datetime(2025, 3, 10, 15)


def _settings(tmp_path, **kw) -> Settings:
    values = dict(var_dir=tmp_path, testing=True, demo_customers=300, demo_days=30, demo_seed=5, live_synthetic=False)
    values.update(kw)
    return Settings(**values)


def test_anchor_is_written_once_and_reused(tmp_path):
    s = _settings(tmp_path)
    a = SyntheticAdapter.from_settings(s)
    saved = json.loads((tmp_path / "synthetic.json").read_text())["anchor"]
    b = get_adapter("synthetic", s)
    assert a.anchor == b.anchor == datetime.fromisoformat(saved) == anchor_time(tmp_path)
    assert a.anchor.minute == 0 and a.anchor.second == 0
    assert (a.customers, a.days, a.seed, a.live) == (300, 30, 5, False)
    c = SyntheticAdapter.create(s, customers=200, days=20, seed=9, live=True)
    assert (c.customers, c.days, c.seed, c.live, c.anchor) == (200, 20, 9, True, a.anchor)


def test_fetch_filters_by_watermark(tmp_path):
    ad = SyntheticAdapter(customers=300, days=30, seed=5, anchor=ANCHOR, live=False)
    assert isinstance(ad, Adapter) and ad.name == "synthetic" and set(ad.records) == set(RECORDS)
    ad.check()
    since = ANCHOR - timedelta(days=3)
    for record, rec in RECORDS.items():
        full = ad.fetch(record, None)
        assert list(full.columns) == rec.columns and len(full) > 0
        part = ad.fetch(record, since)
        if rec.watermark is None:
            assert len(part) == len(full)
        else:
            assert (part[rec.watermark] >= since).all()
            assert len(part) == int((full[rec.watermark] >= since).sum())
    assert ad.marketplace() is ad.marketplace()  # generated once
    with pytest.raises(ValueError):
        ad.fetch("nonsense", None)


def test_live_fetch_adds_and_replaces_rows(tmp_path):
    now = [ANCHOR + timedelta(hours=2)]
    ad = SyntheticAdapter(customers=300, days=30, seed=5, anchor=ANCHOR, live=True, clock=lambda: now[0])
    history = ad.marketplace().frames["bookings"]
    first = ad.fetch("bookings", None)
    assert not first["booking_id"].duplicated().any()
    now[0] = ANCHOR + timedelta(hours=30)
    later = ad.fetch("bookings", None)
    assert len(later) > len(history)
    assert not later["booking_id"].duplicated().any()
    changed = later.merge(history, on="booking_id", suffixes=("", "_h"))
    changed = changed[changed["updated_at"] != changed["updated_at_h"]]
    assert len(changed) > 0 and (changed["updated_at"] > ANCHOR).all()  # live versions replaced history ones
    recent = ad.fetch("bookings", ANCHOR + timedelta(hours=1))
    assert (recent["updated_at"] >= ANCHOR + timedelta(hours=1)).all() and len(recent) > 0
    sessions = ad.fetch("sessions", ANCHOR)
    assert (sessions["start_time"] > ANCHOR).any()
    assert ad.fetch("metric_points", ANCHOR)["ts"].max() <= now[0]
    again = ad.fetch("bookings", None)
    assert again.equals(later)  # same clock, same rows


def test_app_regenerates_the_marketplace_the_demo_loaded(tmp_path):
    """`demo --customers N` then the app on other DEMO_* settings: the adapter keeps the demo's size and seed."""
    from tests.conftest import make_settings
    from sources.synthetic import SyntheticAdapter
    settings = make_settings(tmp_path, demo_customers=5000, demo_days=180, demo_seed=42)
    loaded = SyntheticAdapter.create(settings, customers=300, days=30, seed=7, live=False)
    later = SyntheticAdapter.create(settings)
    assert (later.customers, later.days, later.seed, later.anchor) == (300, 30, 7, loaded.anchor)
