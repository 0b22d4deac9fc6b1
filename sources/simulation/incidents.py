"""Planted supply incidents: the declining tutor and the subject heading into a shortage, and the
availability top-up that keeps every other subject comfortably covered.

Coverage here follows domain/supply.py: available = tutor hours of active tutors teaching the
subject minus the hours they are already booked; open demand = expected sessions minus sessions
already booked; coverage = available / open demand (< 0.8 is a shortage).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sources.simulation.bookings import BOOK_RING, RESCHEDULED, SCHED
from sources.simulation.engine import NEVER, ONBOARDING
from sources.simulation.world.entities import DEMAND_SHARE, RELATED
from sources.simulation.world.rhythms import DAY, HOUR, hour_of_week, state_offsets

WINDOW_HOURS = 6
SHORTAGE_FILL = 0.55     # booked sessions kept in the window, as a share of expected sessions
HEADROOM = 1.6           # other subjects: open tutor hours >= HEADROOM x open demand (+1)


@dataclass
class ShortagePlan:
    subject: int
    start: int            # first shortage hour (UTC seconds)
    end: int              # exclusive
    departed: np.ndarray  # tutors leaving shortly before `end` of history


def choose_decline_tutor(rng, tutors: dict, end: int) -> int:
    top = np.argsort(-DEMAND_SHARE)[:6]
    steady = (tutors["left_t"] >= NEVER // 2) & (tutors["hired_t"] + ONBOARDING < end - 30 * DAY)
    good = tutors["quality"] >= np.quantile(tutors["quality"], 0.7)
    for pool in (steady & good & np.isin(tutors["primary"], top), steady & good, steady):
        cand = np.flatnonzero(pool)
        if cand.size:
            return int(rng.choice(cand))
    return 0


def choose_shortage(rng, tutors: dict, end: int, avoid_subject: int, avoid_tutor: int) -> ShortagePlan:
    """A busy subject and a few of its tutors leaving in the last days (the window itself is placed
    on the subject's busiest hours once history is known: see place_window)."""
    top = [int(s) for s in np.argsort(-DEMAND_SHARE)[:6] if s != avoid_subject][:4]
    subj = int(rng.choice(top))
    start = end + 12 * HOUR
    teach = ((tutors["mask"] >> subj) & 1).astype(bool)
    steady = teach & (tutors["left_t"] >= NEVER // 2) & (tutors["hired_t"] + ONBOARDING < end - 20 * DAY)
    steady[avoid_tutor] = False
    only = steady & (tutors["mask"] == (1 << subj))
    k = int(np.clip(round(0.06 * teach.sum()), 1, 5))
    pool = np.flatnonzero(only) if only.sum() >= k else np.flatnonzero(steady)
    gone = rng.choice(pool, min(k, pool.size), replace=False) if pool.size > 2 else np.empty(0, np.int64)
    tutors["left_t"][gone] = end - rng.integers(6 * HOUR, 3 * DAY, gone.size)
    return ShortagePlan(subj, int(start), int(start + WINDOW_HOURS * HOUR), np.asarray(gone, dtype=np.int64))


def expected_sessions(eng, end: int, days: int) -> np.ndarray:
    """Expected sessions per [subject, UTC hour of week] from the last weeks of history (the
    larger of the 2- and 4-week averages, +15 %): what a seasonal forecast would say."""
    idx = np.concatenate([i for i, _ in eng.sess_log]) if eng.sess_log else np.empty(0, np.int64)
    t, s = eng.b.sched[idx], eng.b.subj[idx].astype(np.int64)
    out = np.zeros((16, 168))
    for weeks in (2, 4):
        span = min(weeks * 7, days)
        m = t > end - span * DAY
        cnt = np.bincount(s[m] * 168 + hour_of_week(t[m]), minlength=16 * 168).reshape(16, 168)
        out = np.maximum(out, cnt / max(span / 7, 1 / 7))
    return out * 1.15


def place_window(plan: ShortagePlan, expected: np.ndarray, end: int) -> None:
    """The WINDOW_HOURS consecutive hours, starting 12-30 hours after end, with the most expected
    sessions of the subject."""
    starts = end + np.arange(12, 31) * HOUR
    hows = hour_of_week(starts[:, None] + np.arange(WINDOW_HOURS)[None, :] * HOUR)
    best = int(np.argmax(expected[plan.subject, hows].sum(axis=1)))
    plan.start = int(starts[best])
    plan.end = plan.start + WINDOW_HOURS * HOUR


def _scheduled(eng):
    p = eng.pending
    p = p[eng.b.status[p] == SCHED]
    return p


def shape_shortage(eng, rng, plan: ShortagePlan, expected: np.ndarray, end: int) -> list[dict]:
    """Make the window a shortage: trim or top up its bookings to SHORTAGE_FILL of expected
    sessions, then leave no open tutor hour of the subject in those hours."""
    b, s = eng.b, plan.subject
    teach = ((eng.t["mask"] >> s) & 1).astype(bool)
    active = eng.tutor_active(end)
    hours = []
    for h in range(plan.start, plan.end, HOUR):
        how = int(hour_of_week(np.array([h]))[0])
        exp = expected[s, how]
        keep = int(np.floor(SHORTAGE_FILL * exp))
        p = _scheduled(eng)
        mine = p[(b.subj[p] == s) & (b.sched[p] // HOUR == h // HOUR) & ~b.forced[p]]
        if mine.size > keep:  # tutors moved these lessons out of the window
            moved = rng.permutation(mine)[: mine.size - keep]
            when = end - rng.integers(HOUR, 20 * HOUR, moved.size)
            b.status[moved], b.out_status[moved] = RESCHEDULED, RESCHEDULED
            b.rby[moved], b.out_rby[moved] = 1, 1
            b.ev[moved] = b.updated[moved] = np.maximum(when, b.created[moved] + 60)
            eng.booked[b.tutor[moved], (h // HOUR) % BOOK_RING] = False
            eng.pending = eng.pending[~np.isin(eng.pending, moved)]
            ci = b.cust[moved]
            eng.new_bookings(rng, ci, b.tutor[moved], b.ev[moved],
                             eng.local_day(b.sched[moved], ci) + rng.integers(2, 5, moved.size), thin=False)
        elif mine.size < keep:  # a surge of bookings already taken
            _surge(eng, rng, s, h, how, keep - mine.size, end, teach & active)
        p = _scheduled(eng)
        busy = np.zeros(eng.n_tutors, dtype=bool)
        busy[b.tutor[p[b.sched[p] // HOUR == h // HOUR]]] = True
        eng.avail[teach & ~busy, how] = False
        booked = int(((b.subj[p] == s) & (b.sched[p] // HOUR == h // HOUR)).sum())
        tutor_hours = int((teach & active & eng.avail[:, how]).sum())
        hours.append({"ts": h, "expected": round(float(exp), 2), "booked": booked, "tutor_hours": tutor_hours})
    return hours


def _surge(eng, rng, s: int, h: int, how: int, k: int, end: int, eligible: np.ndarray) -> None:
    c = eng.c
    free = np.flatnonzero(eligible & ~eng.booked[:, (h // HOUR) % BOOK_RING])
    who = np.flatnonzero((c.subj == s) & (c.status == 0) & (c.n_resolved > 0) & (c.kind == 0))
    k = min(k, free.size, who.size)
    if k <= 0:
        return
    ti = rng.choice(free, k, replace=False)
    ci = rng.choice(who, k, replace=False)
    eng.avail[ti, how] = True
    eng.booked[ti, (h // HOUR) % BOOK_RING] = True
    created = end - rng.integers(HOUR, 48 * HOUR, k)
    sched = np.full(k, h, dtype=np.int64)
    status = np.ones(k, dtype=np.int8)
    eng.add_bookings(rng, ci, ti, created, sched, status, np.zeros(k, np.int8), ev=sched)


def ensure_supply(eng, rng, expected: np.ndarray, end: int, plan: ShortagePlan | None) -> None:
    """Top up weekly availability so that in each of the next 168 hours every subject (the planted
    shortage window excepted) has open tutor hours >= HEADROOM x open demand + 1, and tutor hours
    >= 2 x expected sessions."""
    t = eng.t
    teach = ((t["mask"][:, None] >> np.arange(16)[None, :]) & 1).astype(bool)
    active = eng.tutor_active(end)
    hours = end + np.arange(0, 169) * HOUR
    hows = hour_of_week(hours)
    p = _scheduled(eng)
    p = p[(eng.b.sched[p] >= hours[0]) & (eng.b.sched[p] <= hours[-1])]
    j = (eng.b.sched[p] - hours[0]) // HOUR
    busy = np.zeros((eng.n_tutors, hours.size), dtype=bool)
    busy[eng.b.tutor[p], j] = True
    booked = np.zeros((16, hours.size))
    np.add.at(booked, (eng.b.subj[p].astype(np.int64), j), 1)
    local = (hours[None, :] // HOUR + state_offsets(end)[t["state"]][:, None]) % 24
    sane = np.where((local >= 8) & (local <= 22), 1.0, 0.03)
    in_window = (hours >= plan.start) & (hours < plan.end) if plan else np.zeros(hours.size, bool)
    for _ in range(3):
        ta = (teach & active[:, None]).astype(np.float64)
        av = eng.avail[:, hows]
        open_h = ta.T @ (av & ~busy) + 0.0
        tutor_h = ta.T @ av
        dem = expected[:, hows]
        need = np.maximum(HEADROOM * np.maximum(dem - booked, 0) + (dem >= 0.05), 2.0 * dem - (tutor_h - open_h))
        short = np.ceil(need - open_h)
        if plan:
            short[plan.subject, in_window] = 0
        todo = np.argwhere(short > 0)
        if not todo.size:
            return
        for s, jj in todo:
            how = hows[jj]
            cand = teach[:, s] & active & ~eng.avail[:, how] & ~busy[:, jj]
            if plan and in_window[jj] and s != plan.subject:
                cand &= ~teach[:, plan.subject]
            ids = np.flatnonzero(cand)
            if ids.size < short[s, jj] and not (plan and s == plan.subject):  # others pick the subject up
                other = active & ~teach[:, s] & ~busy[:, jj]
                if plan and in_window[jj] and s != plan.subject:
                    other &= ~teach[:, plan.subject]
                extra = np.flatnonzero(other)
                near_subject = np.isin(t["primary"][extra], RELATED[s]).astype(float)
                extra = extra[np.argsort(-near_subject - rng.random(extra.size))]
                extra = extra[: int(short[s, jj]) - ids.size]
                t["mask"][extra] |= 1 << int(s)
                teach[extra, s] = True
                ids = np.concatenate([ids, extra])
            if not ids.size:
                continue
            near = eng.avail[ids, (how - 1) % 168] | eng.avail[ids, (how + 1) % 168]
            w = sane[ids, jj] * np.where(near, 4.0, 1.0) * rng.random(ids.size)
            add = ids[np.argsort(-w)[: int(short[s, jj])]]
            eng.avail[add, how] = True
