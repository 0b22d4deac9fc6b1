"""Scripted customers: histories written so that, at T = end, each contract alert trigger fires
for known customers, and one tutor's first sessions go from good to bad in the last week.

They are ordinary customers in the data (ids are assigned by signup order with everyone else);
only `mp.incidents` knows them. Trigger customers have no unscripted bookings or calls before
`end` and a small constant churn hazard, so nothing random undoes their trigger.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sources.simulation.bookings import COMPLETED
from sources.simulation.engine import NEVER, ONBOARDING
from sources.simulation.world.entities import SUBJECT_MIX, customer_attributes, goal_index
from sources.simulation.world.rhythms import DAY, HOUR, state_offsets

TRIGGERS = ("calls_14d", "first_session_low_rating", "inactive_14d", "goal_completed", "day7_nudge",
            "velocity_drop", "inactive_21d")
PER_TRIGGER = 3
COHORT_PER_WEEK = 13
COHORT_SUCCESSES = (11, 5)  # first-session successes out of COHORT_PER_WEEK: previous week, last week


@dataclass
class Scripts:
    attrs: dict                                  # customer attribute arrays (customer_attributes shape)
    tutor: np.ndarray                            # initial tutor per scripted customer
    trigger: list                                # trigger name, or "cohort"
    goal_t: np.ndarray                           # goal completed at (NEVER if not)
    bookings: dict = field(default_factory=dict)  # cust (local), tutor, created, sched, status, rby, rating, ev
    calls: dict = field(default_factory=dict)     # cust (local), t, reason


def _days(k_list, lday_end, off, hour=18):
    """UTC seconds of local day (lday_end - k) at `hour` local, for each k."""
    k = np.asarray(k_list, dtype=np.int64)
    return (lday_end - k) * DAY + hour * HOUR - off * HOUR


def _histories(rng) -> list[tuple[str, int, list, list, list]]:
    """(trigger, signup k, session ks, ratings, call ks): k = local days before T."""
    out = []
    r45 = lambda n: list(rng.choice([3, 4, 5], n, p=[0.1, 0.45, 0.45]))  # noqa: E731
    for _ in range(PER_TRIGGER):
        s = int(rng.integers(50, 120))
        ks = list(range(s - 2, 3, -7))
        out.append(("calls_14d", s, ks, r45(len(ks)), [11, 5] + ([2] if rng.random() < 0.5 else [])))
        s = int(rng.integers(12, 35))
        ks = [s - 2] + ([s - 9] if s - 9 >= 1 else [])
        out.append(("first_session_low_rating", s, ks, [int(rng.choice([1, 2]))] + r45(len(ks) - 1), []))
        last = int(rng.integers(16, 20))
        out.append(("inactive_14d", int(rng.integers(70, 110)), [last + 7 * j for j in range(5)][::-1], r45(5), []))
        last = int(rng.integers(4, 21))
        out.append(("goal_completed", int(rng.integers(90, 140)), [last + 6 * j for j in range(10)][::-1],
                    r45(10), []))
        out.append(("day7_nudge", 10, [8, 2], r45(2), []))
        early = list(range(int(rng.integers(120, 160)) - 2, 57, -7))
        ks = early + [55, 52, 50, 47, 45, 42, 40, 37, 34, 31, 24, 12]
        out.append(("velocity_drop", early[0] + 2 if early else 120, ks, r45(len(ks)), []))
        last = int(rng.integers(25, 36))
        out.append(("inactive_21d", int(rng.integers(60, 100)), [last + 7 * j for j in range(4)][::-1], r45(4), []))
    return out


def _tutor_for(rng, tutors: dict, subj: int, since: int, end: int, avoid: set) -> int:
    teach = ((tutors["mask"] >> subj) & 1).astype(bool)
    steady = teach & (tutors["hired_t"] + ONBOARDING < since) & (tutors["left_t"] >= NEVER // 2)
    for pool in (steady & ~np.isin(np.arange(teach.size), list(avoid)), steady, teach):
        cand = np.flatnonzero(pool)
        if cand.size:
            return int(rng.choice(cand))
    return int(rng.integers(0, teach.size))


def plan(rng, tutors: dict, end: int, decline_tutor: int, avoid: set) -> Scripts:
    """Scripted trigger customers plus the declining tutor's first-session cohort."""
    hist = _histories(rng)
    n_cohort = 2 * COHORT_PER_WEEK
    n = len(hist) + n_cohort
    attrs = customer_attributes(rng, np.zeros(n, dtype=np.int64))
    off = state_offsets(end)[attrs["state"]]
    lday_end = (end + off * HOUR) // DAY
    tutor = np.zeros(n, dtype=np.int64)
    goal_t = np.full(n, NEVER, dtype=np.int64)
    trig: list[str] = []
    bk: dict[str, list] = {k: [] for k in ("cust", "tutor", "created", "sched", "status", "rating")}
    calls: dict[str, list] = {"cust": [], "t": [], "reason": []}
    for i, (name, signup_k, ks, rates, call_ks) in enumerate(hist):
        signup = int(_days([signup_k], lday_end[i], off[i], hour=int(rng.integers(9, 21)))[0])
        attrs["signup_t"][i] = signup + int(rng.integers(0, HOUR))
        tutor[i] = _tutor_for(rng, tutors, int(attrs["subj"][i]), signup, end, avoid)
        sched = _days(ks, lday_end[i], off[i], hour=int(rng.integers(16, 20)))
        created = np.maximum(sched - rng.integers(1, 5, sched.size) * DAY, attrs["signup_t"][i] + 600)
        bk["cust"] += [i] * sched.size
        bk["tutor"] += [tutor[i]] * sched.size
        bk["created"] += list(created)
        bk["sched"] += list(sched)
        bk["status"] += [COMPLETED] * sched.size
        bk["rating"] += list(np.asarray(rates, dtype=float))
        ct = _days(call_ks, lday_end[i], off[i], hour=11) + rng.integers(0, 4 * HOUR, len(call_ks))
        calls["cust"] += [i] * len(call_ks)
        calls["t"] += list(ct)
        calls["reason"] += list(rng.choice([0, 1, 2, 5], len(call_ks)))
        attrs["kind"][i] = 2
        attrs["goal_target"][i] = 10**4
        if name == "goal_completed":
            attrs["goal"][i] = goal_index(rng, attrs["subj"][i:i + 1])[0]
            goal_t[i] = int(sched[-1]) + HOUR
        trig.append(name)
    _cohort(rng, tutors, end, decline_tutor, attrs, tutor, bk, len(hist), trig)
    bookings = {k: np.asarray(v) for k, v in bk.items()}
    bookings["rby"] = np.zeros(bookings["cust"].size, dtype=np.int8)
    bookings["ev"] = bookings["sched"].copy()
    order = np.argsort(bookings["created"], kind="stable")
    bookings = {k: v[order] for k, v in bookings.items()}
    return Scripts(attrs, tutor, trig, goal_t, bookings, {k: np.asarray(v) for k, v in calls.items()})


def _cohort(rng, tutors, end, tutor_i, attrs, tutor, bk, first, trig) -> None:
    """New customers whose first session is with the declining tutor: two weeks of them."""
    subj = int(tutors["primary"][tutor_i])
    t_off = int(state_offsets(end)[tutors["state"][tutor_i]])
    for week in (0, 1):  # 0: (T-14d, T-7d], 1: (T-7d, T]
        lo, hi = end - (14 - 7 * week) * DAY, end - (7 - 7 * week) * DAY
        hours = np.arange(lo // HOUR + 2, hi // HOUR) * HOUR
        local = ((hours // HOUR) + t_off) % 24
        hours = hours[(local >= 15) & (local <= 21)]
        sched = np.sort(rng.choice(hours, COHORT_PER_WEEK, replace=False))
        good = np.zeros(COHORT_PER_WEEK, dtype=bool)
        good[rng.choice(COHORT_PER_WEEK, COHORT_SUCCESSES[week], replace=False)] = True
        rating = np.where(good, rng.choice([4, 5], COHORT_PER_WEEK, p=[0.4, 0.6]),
                          rng.choice([1, 2, 3], COHORT_PER_WEEK, p=[0.3, 0.3, 0.4])).astype(float)
        rows = np.arange(first + week * COHORT_PER_WEEK, first + (week + 1) * COHORT_PER_WEEK)
        signup = sched - (rng.uniform(1.2, 3.5, rows.size) * DAY).astype(np.int64)
        attrs["signup_t"][rows] = signup
        attrs["subj"][rows] = subj
        attrs["seg"][rows] = int(np.argmax(SUBJECT_MIX[:, subj]))
        attrs["kind"][rows] = 3
        attrs["goal"][rows] = np.where(attrs["goal"][rows] >= 0, goal_index(rng, attrs["subj"][rows]), -1)
        tutor[rows] = tutor_i
        bk["cust"] += list(rows)
        bk["tutor"] += [tutor_i] * rows.size
        bk["created"] += list(signup + rng.integers(300, 3600, rows.size))
        bk["sched"] += list(sched)
        bk["status"] += [COMPLETED] * rows.size
        bk["rating"] += list(rating)
        trig += ["cohort"] * rows.size
