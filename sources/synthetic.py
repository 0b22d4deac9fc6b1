"""The synthetic marketplace as a source: generated history plus, when live, the rows of the
marketplace moving on since (sources.simulation).

The history ends at an anchor time kept in `var_dir/synthetic.json`, written the first time it is
needed, so the `demo` command and the app process generate the same history and the live rows
continue it. Generation is lazy (first fetch) and cached on the instance.
"""
from __future__ import annotations

import json
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import pandas as pd

from domain.contract import RECORDS

ANCHOR_FILE = "synthetic.json"


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _state(var_dir: Path) -> dict:
    try:
        return json.loads((Path(var_dir) / ANCHOR_FILE).read_text())
    except (FileNotFoundError, ValueError, json.JSONDecodeError):
        return {}


def anchor_time(var_dir: Path) -> datetime:
    """The history's end: read from var_dir/synthetic.json, or now (floored to the hour) written there."""
    state = _state(var_dir)
    try:
        return datetime.fromisoformat(state["anchor"])
    except (KeyError, ValueError, TypeError):
        pass
    anchor = _now().replace(minute=0, second=0, microsecond=0)
    _write_state(var_dir, {**state, "anchor": anchor.isoformat()})
    return anchor


def _write_state(var_dir: Path, state: dict) -> None:
    path = Path(var_dir) / ANCHOR_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(state))


class SyntheticAdapter:
    """Adapter over sources.simulation.generate(customers, days, seed, end=anchor)."""

    name = "synthetic"
    records = tuple(RECORDS)

    def __init__(self, customers: int = 5000, days: int = 180, seed: int = 42, anchor: datetime | None = None,
                 live: bool = True, clock: Callable[[], datetime] = _now):
        self.customers, self.days, self.seed = customers, days, seed
        self.anchor = anchor
        self.live = live
        self._clock = clock
        self._mp = None
        self._live_rows: dict[str, pd.DataFrame] = {}
        self._lock = threading.RLock()

    @classmethod
    def from_settings(cls, settings) -> "SyntheticAdapter":
        return cls.create(settings)

    @classmethod
    def create(cls, settings, customers: int | None = None, days: int | None = None, seed: int | None = None,
               live: bool | None = None) -> "SyntheticAdapter":
        """From settings (demo_customers, demo_days, demo_seed, live_synthetic, var_dir), with overrides.

        The size and seed the store was loaded with (by `demo`, which passes them explicitly) are
        kept in var_dir/synthetic.json beside the anchor, so the app regenerates that same
        marketplace even when its own DEMO_* settings differ.
        """
        anchor = anchor_time(settings.var_dir)
        state = _state(settings.var_dir)
        explicit = customers is not None or days is not None or seed is not None
        customers = customers or (None if explicit else state.get("customers")) or settings.demo_customers
        days = days or (None if explicit else state.get("days")) or settings.demo_days
        seed = seed if seed is not None else (state.get("seed") if not explicit and "seed" in state else settings.demo_seed)
        if explicit:
            _write_state(settings.var_dir, {**state, "anchor": anchor.isoformat(), "customers": customers,
                                            "days": days, "seed": seed})
        return cls(customers, days, seed, anchor, settings.live_synthetic if live is None else live)

    def marketplace(self, progress: Callable[[str, float], None] | None = None):
        """The generated marketplace (generated on first use)."""
        with self._lock:
            if self._mp is None:
                from sources.simulation import generate
                self._mp = generate(customers=self.customers, days=self.days, seed=self.seed,
                                    end=self.anchor, progress=progress)
            return self._mp

    def check(self) -> None:
        """Always reachable."""

    def fetch(self, record: str, since: datetime | None) -> pd.DataFrame:
        """Rows of `record` whose watermark column is >= since (all rows when since is None or the
        record has no watermark): history, then live rows (which replace older versions)."""
        if record not in RECORDS:
            raise ValueError(f"unknown record {record!r}")
        with self._lock:
            mp = self.marketplace()
            if self.live:
                self._advance(mp)
            hist = mp.frames[record]
            live = self._live_rows.get(record)
        wm = RECORDS[record].watermark
        if since is not None and wm is not None:
            since = pd.Timestamp(since)
            if since.tzinfo is not None:
                since = since.tz_convert("UTC").tz_localize(None)
            hist = hist[hist[wm] >= since]
            if live is not None:
                live = live[live[wm] >= since]
        if live is None or live.empty:
            return hist.reset_index(drop=True)
        key = list(RECORDS[record].key)
        if len(key) == 1:
            hist = hist[~hist[key[0]].isin(live[key[0]])]
        return pd.concat([hist, live], ignore_index=True)

    def _advance(self, mp) -> None:
        now = self._clock()
        if now <= mp.end:
            return
        for record, rows in mp.advance(now).items():
            if rows.empty:
                continue
            old = self._live_rows.get(record)
            merged = rows if old is None else pd.concat([old, rows], ignore_index=True)
            self._live_rows[record] = merged.drop_duplicates(list(RECORDS[record].key), keep="last")
