"""Who is in the marketplace: customers (static attributes), tutors, weekly availability, campaigns.

Everything here is drawn once from the entity RNG; the activity engine (engine.py) moves them.
Arrays are numpy, indexed by internal position; ids are assigned when frames are built.
"""
from __future__ import annotations

import numpy as np

from domain.contract import CHANNELS, SEGMENTS, SUBJECTS
from sources.simulation.world.rhythms import DAY, HOUR, STATE_P, signup_season, state_offsets

S = {s: i for i, s in enumerate(SUBJECTS)}
SEG_P = np.array([0.45, 0.2, 0.15, 0.2])
CHAN_P = np.array([0.30, 0.24, 0.14, 0.14, 0.08, 0.10])
_MIX = {  # subject mix per segment
    "k12": dict(math=16, algebra=16, calculus=2, geometry=10, statistics=1, physics=5, chemistry=8, biology=8,
                english=9, writing=6, spanish=7, french=2, history=5, computer_science=3, sat_prep=1, act_prep=1),
    "college": dict(math=4, algebra=3, calculus=18, statistics=16, physics=10, chemistry=12, biology=8, english=3,
                    writing=8, spanish=5, french=2, history=3, computer_science=18),
    "adult": dict(math=6, algebra=4, calculus=2, statistics=10, physics=1, chemistry=1, biology=1, english=14,
                  writing=14, spanish=22, french=10, history=3, computer_science=12),
    "test_prep": dict(math=5, algebra=2, writing=1, sat_prep=58, act_prep=34),
}
SUBJECT_MIX = np.array([[_MIX[g].get(s, 0) for s in SUBJECTS] for g in SEGMENTS], dtype=float)
SUBJECT_MIX /= SUBJECT_MIX.sum(axis=1, keepdims=True)
DEMAND_SHARE = SEG_P @ SUBJECT_MIX  # share of customers (and roughly of sessions) per subject

_GOALS = {
    "math": ["raise my math grade to a B", "catch up on middle-school math", "pass the state math exam"],
    "algebra": ["pass Algebra I", "pass the Algebra II final", "get an A in algebra"],
    "calculus": ["pass AP Calculus", "pass Calculus I", "score a 5 on AP Calculus BC"],
    "geometry": ["pass geometry", "understand proofs in geometry"],
    "statistics": ["pass intro statistics", "learn statistics for work", "pass AP Statistics"],
    "physics": ["pass AP Physics 1", "pass college physics"],
    "chemistry": ["pass AP Chemistry", "pass organic chemistry", "raise my chemistry grade"],
    "biology": ["pass AP Biology", "prepare for the biology final"],
    "english": ["improve reading comprehension", "write better essays in English class", "pass AP English"],
    "writing": ["write a strong college essay", "improve business writing", "finish my thesis chapter"],
    "spanish": ["hold a conversation in Spanish", "pass Spanish II", "reach B1 Spanish"],
    "french": ["travel-ready French", "pass French I"],
    "history": ["pass AP US History", "prepare for the history final"],
    "computer_science": ["learn Python", "pass AP Computer Science A", "prepare for coding interviews"],
    "sat_prep": ["score 1400+ on the SAT", "raise my SAT math by 100 points", "score 1200 on the SAT"],
    "act_prep": ["score 30+ on the ACT", "raise my ACT composite by 4 points"],
}
GOAL_TEXTS = [g for s in SUBJECTS for g in _GOALS[s]]
_GOAL_START = np.cumsum([0] + [len(_GOALS[s]) for s in SUBJECTS])
_FIRST = ("Ava Ben Chloe Daniel Elena Farah Gabriel Hana Isaac Jada Kevin Lena Marco Nadia Omar Priya Quinn "
          "Rosa Samuel Tara Uma Victor Wen Ximena Yusuf Zoe Aaron Bianca Carlos Dana Emeka Fiona Grace Hector "
          "Ines Jamal Keiko Liam Maya Noah Olivia Pedro Rachel Sofia Theo Valeria Will Yara").split()
_LAST = ("Smith Johnson Garcia Brown Nguyen Patel Kim Lopez Williams Chen Davis Martinez Clark Lewis Walker "
         "Young Allen King Wright Scott Hill Green Adams Baker Nelson Carter Mitchell Perez Roberts Turner "
         "Phillips Campbell Parker Evans Edwards Collins Stewart Morris Rivera Cooper Reed Bailey Bell "
         "Gomez Kelly Howard Ward Cox Diaz Richardson Wood Watson Brooks Bennett Gray Hughes Price").split()


def goal_index(rng: np.random.Generator, subj: np.ndarray) -> np.ndarray:
    """A goal text (index into GOAL_TEXTS) matching each customer's subject."""
    counts = np.diff(_GOAL_START)[subj]
    return _GOAL_START[subj] + (rng.random(subj.size) * counts).astype(np.int64)


def customer_attributes(rng: np.random.Generator, signup_t: np.ndarray) -> dict[str, np.ndarray]:
    """Static attributes of customers who sign up at signup_t (UTC seconds)."""
    n = signup_t.size
    seg = rng.choice(len(SEGMENTS), n, p=SEG_P).astype(np.int8)
    cum = SUBJECT_MIX.cumsum(axis=1)[seg]
    subj = (rng.random(n)[:, None] > cum).sum(axis=1).clip(0, len(SUBJECTS) - 1).astype(np.int8)
    has_goal = rng.random(n) > 0.15
    return {
        "signup_t": signup_t.astype(np.int64),
        "seg": seg,
        "chan": rng.choice(len(CHANNELS), n, p=CHAN_P).astype(np.int8),
        "state": rng.choice(STATE_P.size, n, p=STATE_P).astype(np.int8),
        "subj": subj,
        "goal": np.where(has_goal, goal_index(rng, subj), -1).astype(np.int16),
        "goal_target": np.where(has_goal, rng.lognormal(np.log(14), 0.5, n).astype(int) + 3, 10**4).astype(np.int32),
        "goal_will": has_goal & (rng.random(n) < 0.7),
        "base_rate": rng.gamma(1.3, 1 / 1.3, n).astype(np.float32),   # mean 1, heavy spread
        "frailty": rng.normal(0, 0.7, n).astype(np.float32),           # unobserved churn proneness
        "lenient": rng.normal(0, 1, n).astype(np.float32),             # how kindly they rate
        "kind": np.zeros(n, dtype=np.int8),                             # 0 organic, 2 scripted, 3 cohort
    }


def signup_times(rng: np.random.Generator, n: int, start: int, end: int) -> np.ndarray:
    """n signup moments in (start, end], following seasonality, weekday and local evening activity."""
    first, last = start // DAY, (end - 1) // DAY
    days = np.arange(first, last + 1)
    w = signup_season(days) @ SEG_P
    w *= np.clip((np.minimum(end, (days + 1) * DAY) - np.maximum(start, days * DAY)) / DAY, 0, 1)
    day = rng.choice(days, n, p=w / w.sum())
    shape = np.array([1, .3, .1, .05, .05, .1, .3, .8, 1.2, 1.5, 1.6, 1.6, 1.7, 1.6, 1.6,
                      1.7, 1.9, 2.1, 2.3, 2.5, 2.4, 2, 1.5, 1])
    local_hour = rng.choice(24, n, p=shape / shape.sum())
    t = day * DAY + local_hour * HOUR + rng.integers(0, HOUR, n) + 5 * HOUR  # ~US evening in UTC
    return np.clip(t, start + 1, end)


def base_signups(rng: np.random.Generator, n: int, start: int) -> np.ndarray:
    """Signup moments of the customers already in the marketplace at `start` (tenure up to ~2.5 years)."""
    age = np.minimum(rng.exponential(260, n), 900) + rng.uniform(1, 20, n)
    return (start - age * DAY).astype(np.int64)


# --- tutors ----------------------------------------------------------------------------------------

def make_tutors(rng: np.random.Generator, n: int, start: int, end: int) -> dict[str, np.ndarray]:
    """Tutors: hiring/leaving times, subjects (bitmask), region, latent quality and reliability."""
    share = DEMAND_SHARE / DEMAND_SHARE.sum()
    primary = rng.choice(len(SUBJECTS), n, p=share)
    mask = (1 << primary).astype(np.int64)
    related = RELATED
    for p_extra in (0.35, 0.12):
        extra = rng.random(n) < p_extra
        other = np.array([rng.choice(related[p]) for p in primary])
        mask = np.where(extra, mask | (1 << other), mask)
    in_window = rng.random(n) < 0.22
    hired = np.where(in_window, rng.uniform(start, end, n),
                     start - rng.uniform(20, 1100, n) * DAY).astype(np.int64)
    leaves = rng.random(n) < 0.13
    left = np.where(leaves, rng.uniform(np.maximum(hired + 45 * DAY, start - 120 * DAY), end + 60 * DAY),
                    np.iinfo(np.int64).max // 4).astype(np.int64)
    left = np.where(left > end, np.iinfo(np.int64).max // 4, left)
    names = np.array([f"{_FIRST[i]} {_LAST[j]}" for i, j in
                      zip(rng.integers(0, len(_FIRST), n), rng.integers(0, len(_LAST), n))], dtype=object)
    return {
        "hired_t": hired, "left_t": left, "mask": mask, "primary": primary.astype(np.int8),
        "state": rng.choice(STATE_P.size, n, p=STATE_P).astype(np.int8),
        "quality": rng.normal(0, 1, n).astype(np.float32),
        "unreliable": rng.normal(0, 1, n).astype(np.float32),
        "name": names,
    }


def _related() -> dict[int, list[int]]:
    groups = [["math", "algebra", "geometry", "calculus", "statistics", "sat_prep", "act_prep"],
              ["physics", "chemistry", "biology", "math"], ["english", "writing", "history", "sat_prep", "act_prep"],
              ["spanish", "french", "english"], ["computer_science", "math", "statistics"]]
    out: dict[int, list[int]] = {}
    for i, s in enumerate(SUBJECTS):
        near = {x for g in groups if s in g for x in g} - {s}
        out[i] = [S[x] for x in sorted(near)] or [S["math"]]
    return out


RELATED = _related()


def make_availability(rng: np.random.Generator, tutors: dict, at: int) -> np.ndarray:
    """Weekly recurring availability, bool [tutors, 168] in UTC hour of week, drawn in local time."""
    n = tutors["hired_t"].size
    off = state_offsets(at)[tutors["state"]]
    local = np.zeros((n, 7, 24), dtype=bool)
    kind = rng.choice(3, n, p=[0.72, 0.13, 0.15])  # evenings / daytime / weekends
    for i in range(n):
        if kind[i] == 1:
            days = rng.choice(5, rng.integers(2, 5), replace=False)
            for d in days:
                s = rng.integers(9, 13)
                local[i, d, s:s + rng.integers(3, 6)] = True
            local[i, rng.integers(0, 5), 16:20] = True
        else:
            k = rng.integers(1, 3) if kind[i] == 2 else rng.integers(2, 5)
            for d in rng.choice(5, k, replace=False, p=[0.23, 0.23, 0.22, 0.2, 0.12]):
                s = rng.integers(15, 19)
                local[i, d, s:s + rng.integers(2, 5)] = True
        if kind[i] == 2 or rng.random() < 0.3:
            s = rng.integers(8, 11)
            local[i, 5, s:s + rng.integers(3, 6)] = True
        if kind[i] == 2 or rng.random() < 0.45:
            s = rng.integers(15, 19)
            local[i, 6, s:s + rng.integers(2, 5)] = True
    flat = local.reshape(n, 168)
    # local hour-of-week h happens at UTC hour-of-week h - off
    idx = (np.arange(168)[None, :] - off[:, None]) % 168
    out = np.zeros((n, 168), dtype=bool)
    np.put_along_axis(out, idx, flat, axis=1)
    return out


# --- recruiting campaigns --------------------------------------------------------------------------

RECRUIT_CHANNELS = ("job_board", "linkedin", "university", "referral", "social")


def make_campaigns(rng: np.random.Generator, end: int, scale: float) -> dict[str, np.ndarray]:
    """1-3 recruiting campaigns per subject."""
    per = rng.integers(1, 4, len(SUBJECTS))
    subj = np.repeat(np.arange(len(SUBJECTS)), per)
    n = subj.size
    chan = np.array([rng.choice(len(RECRUIT_CHANNELS)) for _ in range(n)])
    hard = np.isin(subj, [S["calculus"], S["physics"], S["computer_science"], S["chemistry"]])
    budget = np.round(rng.lognormal(np.log(120), 0.5, n) * max(scale, 0.05) ** 0.5 * 10) / 10 + 20
    cph = np.round(rng.lognormal(np.log(320), 0.3, n) * np.where(hard, 1.6, 1.0), 2)
    return {
        "subj": subj, "chan": chan, "budget": budget, "cph": cph,
        "active": rng.random(n) < 0.75,
        "updated_t": (end - rng.uniform(0.5, 90, n) * DAY).astype(np.int64),
    }
