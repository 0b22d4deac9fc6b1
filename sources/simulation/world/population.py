"""The marketplace as it stands when the history window opens: the existing customer base's
tutors, habits and recent past (their first session is emitted as a row so first-session
analytics see every customer's real first session; the rest of their past is summarised in
the engine's state)."""
from __future__ import annotations

import numpy as np

from sources.simulation.bookings import CANCELLED, COMPLETED, NO_SHOW
from sources.simulation.engine import ONBOARDING, RATE_BASE
from sources.simulation.world.rhythms import DAY, HOUR, state_offsets


def add_past(eng, rng, ci, ti, created, sched, status, rby=None, rating=None) -> np.ndarray:
    """Bookings that already happened before the window: final rows, sessions logged, state updated."""
    n = ci.size
    rby = np.zeros(n, np.int8) if rby is None else rby
    idx = eng.b.add(n, cust=ci, tutor=ti, subj=eng.c.subj[ci], created=created, sched=sched, dur=60,
                    out_status=status, out_rby=rby, ev=sched, status=status, rby=rby, updated=sched,
                    frating=np.nan if rating is None else rating, forced=True)
    started = idx[np.isin(status, (COMPLETED, CANCELLED, NO_SHOW))]
    if started.size:
        eng.session_results(rng, started, None)
    return idx


def first_tutor(eng, rng, subj: np.ndarray, at: np.ndarray, prefer: np.ndarray) -> np.ndarray:
    """`prefer` when that tutor was already working at `at`, else a tutor of the subject who was."""
    t = eng.t
    ok = (prefer >= 0) & (t["hired_t"][np.maximum(prefer, 0)] + ONBOARDING <= at)
    out = prefer.copy()
    for s in np.unique(subj[~ok]):
        rows = np.flatnonzero(~ok & (subj == s))
        teach = np.flatnonzero((t["mask"] >> s) & 1)
        if not teach.size:
            continue
        order = teach[np.argsort(t["hired_t"][teach])]
        avail_from = t["hired_t"][order] + ONBOARDING
        k = np.searchsorted(avail_from, at[rows], side="right")
        pick = (rng.random(rows.size) * np.maximum(k, 1)).astype(np.int64)
        out[rows] = order[np.minimum(pick, order.size - 1)]
    return out


def init_base(eng, rng, idx: np.ndarray, start: int) -> None:
    """State of the customers already signed up at `start`."""
    c = eng.c
    n = idx.size
    if not n:
        return
    tenure = (start - c.signup_t[idx]) / DAY
    c.tutor[idx] = eng.assign(rng, c.subj[idx], start)
    c.eng[idx] = rng.normal(0, 0.5, n).astype(np.float32)
    off = state_offsets(start)[c.state[idx]]
    # their first session, a few days after signing up, at a local evening hour
    day = (c.signup_t[idx] + off * HOUR) // DAY + rng.integers(1, 5, n)
    t_first = day * DAY + rng.integers(16, 21, n) * HOUR - off * HOUR
    t_first = np.minimum(t_first, start - HOUR)
    ti = first_tutor(eng, rng, c.subj[idx].astype(np.int64), t_first, c.tutor[idx].astype(np.int64))
    status = np.where(rng.random(n) < 0.04, NO_SHOW, COMPLETED).astype(np.int8)
    created = np.maximum(t_first - rng.integers(1, 4, n) * DAY, c.signup_t[idx] + 300)
    created = np.minimum(created, t_first - HOUR)
    add_past(eng, rng, idx, ti, created, t_first, status)
    # recent habits: completed sessions per day over the last 56 days
    rate = RATE_BASE * 0.8 * c.base_rate[idx] * np.exp(c.eng[idx])
    pois = rng.poisson(rate[:, None], (n, 56)).astype(np.int8)
    pois[(start - (56 - np.arange(56))[None, :] * DAY) <= t_first[:, None]] = 0
    eng.ring[idx] = pois
    c.last28[idx] = pois[:, 28:].sum(axis=1)
    c.prev28[idx] = pois[:, :28].sum(axis=1)
    any_recent = pois.any(axis=1)
    last_day = 55 - np.argmax(pois[:, ::-1] > 0, axis=1)
    recent_t = start - (56 - last_day) * DAY + rng.integers(0, DAY - HOUR, n)
    older = np.maximum(start - rng.uniform(57, 400, n) * DAY, t_first)
    c.last_completed[idx] = np.where(any_recent, recent_t, np.where(status == COMPLETED, older, 0))
    c.n_completed[idx] += pois.sum(axis=1) + rng.poisson(rate * np.maximum(tenure - 56, 0) * 0.5)
    calls = rng.poisson(0.006, (n, 14)).astype(np.int8)
    eng.call_ring[idx] = calls
    c.calls14[idx] = calls.sum(axis=1)
    c.tutor_changes[idx] = np.minimum(rng.poisson(tenure / 250), 3)
    done = (c.goal_status[idx] == 1) & c.goal_will[idx] & (c.n_completed[idx] >= c.goal_target[idx])
    gi = idx[done]
    span = np.clip(tenure[done] - 5, 0, 150)
    c.goal_status[gi] = 2
    goal_t = np.maximum(start - (1 + rng.random(gi.size) * span) * DAY, t_first[done] + DAY)
    c.goal_t[gi] = np.minimum(goal_t, start - HOUR).astype(np.int64)
    paused = rng.random(n) < 0.03
    c.status[idx[paused]] = 1
    c.updated[idx] = np.maximum.reduce([c.signup_t[idx], np.where(c.goal_status[idx] == 2, c.goal_t[idx], 0),
                                        np.where(paused, start - rng.integers(1, 20, n) * DAY, 0)])
