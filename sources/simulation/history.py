"""The history run: entities, scripted customers, the day-by-day engine loop, incident shaping."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from sources.simulation import incidents as inc
from sources.simulation.world.behaviour import daily_hazard
from sources.simulation.engine import NEVER, Engine
from sources.simulation.world.entities import (base_signups, customer_attributes, make_availability, make_campaigns,
                                          make_tutors, signup_times)
from sources.simulation.world.population import add_past, init_base
from sources.simulation.world.rhythms import DAY, hour_of_week, subject_season, test_dates
from sources.simulation.scripts import Scripts, plan

BASE_FRAC = 0.93          # customers already signed up when the window opens, per target customer
SIGNUP_RATE = 0.0023      # signups per day, per target customer


@dataclass
class Run:
    eng: Engine
    hazard: np.ndarray     # float32 [customers at end, days]
    scripts: Scripts
    first_scripted: int
    decline_tutor: int
    shortage: inc.ShortagePlan
    shortage_hours: list
    campaigns: dict
    signups_per_day: float


def simulate(customers: int, days: int, seed: int, start: int, end: int,
             progress: Callable[[str, float], None]) -> Run:
    rng = np.random.default_rng([seed, 0])
    n_base = int(round(customers * BASE_FRAC))
    n_new = int(rng.poisson(customers * SIGNUP_RATE * days))
    base = customer_attributes(rng, base_signups(rng, n_base, start))
    new = customer_attributes(rng, signup_times(rng, n_new, start, end))
    tutors = make_tutors(rng, max(12, int(round(customers / 10))), start, end)
    decline = inc.choose_decline_tutor(rng, tutors, end)
    shortage = inc.choose_shortage(rng, tutors, end, int(tutors["primary"][decline]), decline)
    scripts = plan(rng, tutors, end, decline, avoid=set(shortage.departed.tolist()) | {decline})
    attrs = {k: np.concatenate([base[k], new[k], scripts.attrs[k]]) for k in base}
    avail = make_availability(rng, tutors, end)
    fb = dict(scripts.bookings)
    avail[fb["tutor"], hour_of_week(fb["sched"])] = True
    campaigns = make_campaigns(rng, end, customers / 50_000)
    progress("entities", 0.05)

    ref_day = end // DAY
    eng = Engine(attrs, tutors, avail, start, lambda d: subject_season(d, ref_day))
    eng.decline = (decline, end - 7 * DAY, 2.2)
    sim = np.random.default_rng([seed, 1])
    init_base(eng, sim, np.arange(n_base), start)
    eng.warm_up(sim)
    first = n_base + n_new
    sidx = first + np.arange(len(scripts.trigger))
    eng.c.tutor[sidx] = scripts.tutor
    done = scripts.goal_t < NEVER
    eng.c.goal_status[sidx[done]] = 2
    eng.c.goal_t[sidx[done]] = scripts.goal_t[done]
    eng.c.updated[sidx] = np.maximum(eng.c.signup_t[sidx], np.where(done, scripts.goal_t, 0))
    fb["cust"] = fb["cust"] + first
    past = fb["sched"] <= start
    if past.any():
        add_past(eng, sim, *(fb[k][past] for k in ("cust", "tutor", "created", "sched", "status", "rby", "rating")))
    eng.forced = {k: v[~past] for k, v in fb.items()}
    eng._forced_pos = 0
    calls = {k: v for k, v in scripts.calls.items()}
    calls["cust"] = calls["cust"] + first
    order = np.argsort(calls["t"], kind="stable")
    calls = {k: v[order] for k, v in calls.items()}
    early = calls["t"] <= start
    eng.log_calls(sim, calls["cust"][early], calls["t"][early], calls["reason"][early], None)

    hazard = np.zeros((eng.c.n, days), dtype=np.float32)
    sat, act = test_dates(range(1969 + start // (365 * DAY), 1972 + end // (365 * DAY)))
    tests = np.concatenate([sat, act])
    for k in range(days):
        t0, t1 = start + k * DAY, start + (k + 1) * DAY
        month = int(str(np.datetime64(t0 // DAY, "D"))[5:7])
        after_test = bool(((t0 // DAY - tests >= 0) & (t0 // DAY - tests <= 10)).any())
        h = daily_hazard(eng.c, t0, month == 6, after_test)
        if k:
            gone = eng.c.status == 2
            h[gone] = hazard[gone, k - 1]
        hazard[:, k] = h
        eng.step(sim, t0, t1, h, k, scripted_churn=False)
        now = (calls["t"] > t0) & (calls["t"] <= t1)
        if now.any():
            eng.log_calls(sim, calls["cust"][now], calls["t"][now], calls["reason"][now], k)
        if k % 5 == 4 or k == days - 1:
            progress("simulating days", 0.05 + 0.75 * (k + 1) / days)

    expected = inc.expected_sessions(eng, end, days)
    inc.place_window(shortage, expected, end)
    hours = inc.shape_shortage(eng, sim, shortage, expected, end)
    inc.ensure_supply(eng, sim, expected, end, shortage)
    mine = np.flatnonzero(campaigns["subj"] == shortage.subject)
    campaigns["active"][mine[0]] = False  # recruiting for it was paused
    campaigns["updated_t"][mine[0]] = end - int(sim.integers(3, 10)) * DAY
    progress("planting incidents", 0.85)
    return Run(eng, hazard, scripts, first, decline, shortage, hours, campaigns, customers * SIGNUP_RATE)
