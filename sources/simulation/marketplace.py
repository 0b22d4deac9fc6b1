"""`generate(...)` -> `Marketplace`: the synthetic marketplace's history, its planted incidents,
the generator's own churn probabilities, and live mode."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable

import numpy as np
import pandas as pd

from sources.simulation import frames as fr
from sources.simulation import metrics, verify
from sources.simulation.history import Run, simulate
from sources.simulation.live import Live
from sources.simulation.world.rhythms import DAY
from domain.contract import SUBJECTS


def _seconds(when: datetime) -> int:
    ts = pd.Timestamp(when)
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return int(np.floor(ts.timestamp()))


def _naive(t: int) -> datetime:
    return datetime(1970, 1, 1) + timedelta(seconds=int(t))


@dataclass
class Marketplace:
    """A generated marketplace.

    frames: one DataFrame per contract record (domain.contract.RECORDS), exactly its columns.
    incidents: planted incidents (dicts with `kind`: tutor_decline, shortage, metric_anomaly, trigger).
    clean_metrics: metric_points streams without a planted anomaly.
    start, end: the history window (naive UTC; end is on the hour); seed.
    """
    frames: dict[str, pd.DataFrame]
    incidents: list[dict]
    clean_metrics: list[str]
    start: datetime
    end: datetime
    seed: int
    _run: Run = field(repr=False)
    _live: Live = field(repr=False)

    def true_churn_probability(self, at: datetime, frailty: bool = True) -> pd.Series:
        """The generator's own P(churn in (at, at + 30 days]) per eligible customer.

        Eligible: signed up by `at` (signup_date <= at) and not churned at `at`. Computed from the
        realised daily hazard path: 1 - exp(-integral of the hazard over (at, at+30d]). That path
        already reflects what happened after `at` (later sessions, ratings, calls), so this is an
        upper bound on what any model seeing only the past can achieve. After a customer churns
        their hazard is held at its last value; past `end` the last day's hazard is carried
        forward. `at` should lie in [start, end]. Index customer_id, name p_churn_30d.
        frailty=False: the same without each customer's unobserved frailty (its factor taken out of the
        hazard): the most a model could reach from what the data shows (benchmarks/churn_heldout.py).
        """
        run = self._run
        eng, h = run.eng, run.hazard
        n = h.shape[0]
        if not frailty:
            h = h.astype(np.float64) * np.exp(-eng.c.frailty[:n].astype(np.float64))[:, None]
        at_s = _seconds(at)
        start = _seconds(self.start)
        c = eng.c
        sig = c.signup_t[:n]  # signup_date is a full timestamp (contract)
        ok = np.flatnonzero((sig <= at_s) & (c.churned_t[:n] > at_s))
        p0 = (at_s - start) / DAY
        p1 = p0 + 30
        ks = np.arange(int(np.floor(p0)), int(np.ceil(p1)))
        w = np.minimum(ks + 1, p1) - np.maximum(ks, p0)
        cols = np.clip(ks, 0, h.shape[1] - 1)
        cum = h[ok][:, cols].astype(np.float64) @ w
        prob = -np.expm1(-cum)
        out = pd.Series(prob, index=pd.Index(fr.cust_ids(eng, ok), name="customer_id"), name="p_churn_30d")
        return out.sort_index()

    @property
    def tutor_quality(self) -> pd.Series:
        """The generator's latent tutor quality (standard normal; drives ratings). Not in the data:
        for tests and benchmarks that check ratings follow quality."""
        eng = self._run.eng
        return pd.Series(eng.t["quality"].astype(float), index=pd.Index(eng.tutor_ids, name="tutor_id"),
                         name="quality").sort_index()

    def advance(self, to: datetime) -> dict[str, pd.DataFrame]:
        """Live mode: rows new or changed in (last advanced time or end, to] — new bookings, sessions
        whose time came, calls, metric points, customer updates — latest version per key.
        Deterministic: any process advancing over the same interval gets identical rows and ids."""
        return self._live.advance(_seconds(to))


def generate(customers: int = 5000, days: int = 180, seed: int = 42, end: datetime | None = None,
             progress: Callable[[str, float], None] | None = None) -> Marketplace:
    """A synthetic tutoring marketplace: `customers` roughly active at `end` (default: now, naive
    UTC, floored to the hour), `days` of history, deterministic for `seed`."""
    report = progress or (lambda step, fraction: None)
    if end is None:
        end = datetime.now(timezone.utc).replace(tzinfo=None)
    end_s = _seconds(end) // 3600 * 3600
    start_s = end_s - days * DAY
    scale = customers / 50_000
    run = simulate(customers, days, seed, start_s, end_s, report)
    eng = run.eng
    fr.assign_ids(eng, eng.t)
    sessions = fr.sessions(eng, eng.sess_log)
    frames = {
        "customers": fr.customers(eng, np.argsort(eng.c.seq, kind="stable")),
        "tutors": fr.tutors(eng, end_s, sessions),
        "tutor_availability": fr.availability(eng, end_s),
        "sessions": sessions,
        "bookings": fr.bookings(eng, np.argsort(eng.b.seq, kind="stable")),
        "inbound_calls": fr.calls(eng, eng.call_log),
        "campaigns": fr.campaigns(run.campaigns),
    }
    report("building frames", 0.9)
    points, anomalies, clean = metrics.history(seed, start_s, end_s, scale)
    frames["metric_points"] = points
    report("metric streams", 0.95)
    incidents = _incidents(run, frames, _naive(end_s)) + anomalies
    live = Live(eng, run.hazard[:, -1], seed, end_s, scale, run.signups_per_day)
    report("done", 1.0)
    return Marketplace(frames, incidents, clean, _naive(start_s), _naive(end_s), seed, run, live)


def _incidents(run: Run, frames: dict, end: datetime) -> list[dict]:
    eng = run.eng
    tutor_id = str(eng.tutor_ids[run.decline_tutor])
    out = [{"kind": "tutor_decline", "tutor_id": tutor_id, "week_start": end - timedelta(days=7),
            **verify.tutor_weeks(frames["sessions"], tutor_id, end)}]
    plan = run.shortage
    campaign = frames["campaigns"]
    paused = campaign[(campaign["subject"] == _subject(plan.subject)) & (campaign["status"] == "paused")]
    out.append({"kind": "shortage", "subject": _subject(plan.subject), "start": _naive(plan.start),
                "end": _naive(plan.end), "departed_tutors": [str(x) for x in eng.tutor_ids[plan.departed]],
                "paused_campaigns": paused["campaign_id"].tolist(),
                "hours": [{**h, "ts": _naive(h["ts"])} for h in run.shortage_hours]})
    ids = fr.cust_ids(eng, run.first_scripted + np.arange(len(run.scripts.trigger)))
    scripted: dict[str, list] = {}
    for name, cid in zip(run.scripts.trigger, ids):
        scripted.setdefault(name, []).append(str(cid))
    return out + verify.trigger_incidents(frames, end, scripted)


def _subject(i: int) -> str:
    return SUBJECTS[i]
