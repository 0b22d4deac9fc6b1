"""Live mode: the marketplace keeps moving after `end`, one hour slot at a time.

Slot j covers (end + j h, end + (j+1) h] and draws from an RNG seeded with (seed, the slot's
hour since the epoch), after every earlier slot: any process advancing over the same interval
produces identical rows and ids. `advance(to)` returns the latest version of every row that
changed in (last, to], so many small steps give the same rows (by key, last wins) as one big one.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from domain.contract import RECORDS
from sources.simulation import frames as fr
from sources.simulation import metrics
from sources.simulation.world.entities import customer_attributes
from sources.simulation.world.rhythms import ACTIVITY, HOUR

NEW_CUSTOMER_HAZARD = 0.004
TIME_COL = {"customers": "updated_at", "bookings": "updated_at", "sessions": "updated_at",
            "inbound_calls": "call_date", "metric_points": "ts"}


class Live:
    def __init__(self, eng, hazard_end: np.ndarray, seed: int, end: int, scale: float, signups_per_day: float):
        self.eng = eng
        self.hazard = hazard_end.astype(np.float32).copy()
        self.seed, self.end, self.scale = seed, end, scale
        self.signups_per_day = signups_per_day
        self.slots: dict[int, dict[str, pd.DataFrame]] = {}
        self.generated = 0
        self.last = end

    def _slot(self, j: int) -> dict[str, pd.DataFrame]:
        eng = self.eng
        t0, t1 = self.end + j * HOUR, self.end + (j + 1) * HOUR
        hour = t1 // HOUR
        rng = np.random.default_rng([self.seed, 2, hour])
        eng.tracking = True
        eng.touched = {"b": [], "c": []}
        n_sess, n_calls = len(eng.sess_log), len(eng.call_log)
        # signups this hour, at the US evening-heavy app activity
        lam = self.signups_per_day / 24 * ACTIVITY[(hour - 6) % 24] / ACTIVITY.mean()
        k = int(rng.poisson(lam))
        if k:
            attrs = customer_attributes(rng, np.sort(t0 + 1 + rng.integers(0, HOUR - 1, k)))
            idx = eng.c.add(k, **attrs)
            eng.c.goal_status[idx] = (eng.c.goal[idx] >= 0).astype(np.int8)
            eng.c.updated[idx] = eng.c.signup_t[idx]
            eng.c.seq[idx] = eng.next_seq("c", k)
            self.hazard = np.concatenate([self.hazard, np.full(k, NEW_CUSTOMER_HAZARD, np.float32)])
        eng.step(rng, t0, t1, self.hazard, None, scripted_churn=True)
        touched_c = np.unique(np.concatenate(eng.touched["c"] or [np.empty(0, np.int64)]))
        touched_b = np.unique(np.concatenate(eng.touched["b"] or [np.empty(0, np.int64)]))
        eng.tracking = False
        return {
            "customers": fr.customers(eng, touched_c),
            "bookings": fr.bookings(eng, touched_b),
            "sessions": fr.sessions(eng, eng.sess_log[n_sess:]),
            "inbound_calls": fr.calls(eng, eng.call_log[n_calls:]),
            "metric_points": metrics.live(self.seed, int(hour), t0, t1, self.scale, self.end),
        }

    def advance(self, to: int) -> dict[str, pd.DataFrame]:
        """Rows changed in (last, to] (latest version per key); advances `last` to `to`."""
        out = {r: [] for r in TIME_COL}
        if to > self.last:
            need = -(-(to - self.end) // HOUR)  # slots up to the one holding `to`
            while self.generated < need:
                self.slots[self.generated] = self._slot(self.generated)
                self.generated += 1
            lo, hi = np.datetime64(self.last, "s"), np.datetime64(to, "s")
            first = (self.last - self.end) // HOUR
            for j in range(first, need):
                for r, df in self.slots[j].items():
                    col = df[TIME_COL[r]]
                    out[r].append(df[(col > lo) & (col <= hi)])
            for j in [j for j in self.slots if self.end + (j + 1) * HOUR <= to]:
                del self.slots[j]  # fully delivered
            self.last = to
        result = {}
        for r, parts in out.items():
            df = pd.concat(parts, ignore_index=True) if parts else _empty(r)
            df = df.sort_values(TIME_COL[r], kind="stable")
            result[r] = df.drop_duplicates(list(RECORDS[r].key), keep="last").reset_index(drop=True)
        return result


def _empty(record: str) -> pd.DataFrame:
    kinds = {"str": object, "date": "datetime64[us]", "datetime": "datetime64[us]", "int": "int64", "float": float}
    return pd.DataFrame({f.name: pd.Series(dtype=kinds[f.kind]) for f in RECORDS[record].fields})
