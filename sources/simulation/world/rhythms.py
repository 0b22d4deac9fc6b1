"""Clocks and rhythms of the synthetic marketplace: time zones, hour-of-day and weekly shapes,
US holidays, test dates, subject seasonality.

Times inside the simulation are int64 seconds since the Unix epoch (UTC). Local hours come from
each US state's UTC offset, with daylight saving time where the state observes it.
"""
from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import numpy as np

from domain.contract import SEGMENTS, SUBJECTS, US_STATES

DAY = 86_400
HOUR = 3_600
EPOCH_DOW = 3  # 1970-01-01 was a Thursday (Monday = 0)

# 2020 census population, millions (PR included: its customers are US customers too)
_POP = {
    "CA": 39.5, "TX": 29.1, "FL": 21.5, "NY": 20.2, "PA": 13.0, "IL": 12.8, "OH": 11.8, "GA": 10.7,
    "NC": 10.4, "MI": 10.1, "NJ": 9.3, "VA": 8.6, "WA": 7.7, "AZ": 7.2, "MA": 7.0, "TN": 6.9,
    "IN": 6.8, "MD": 6.2, "MO": 6.2, "WI": 5.9, "CO": 5.8, "MN": 5.7, "SC": 5.1, "AL": 5.0,
    "LA": 4.7, "KY": 4.5, "OR": 4.2, "OK": 4.0, "CT": 3.6, "UT": 3.3, "IA": 3.2, "PR": 3.3,
    "NV": 3.1, "AR": 3.0, "MS": 3.0, "KS": 2.9, "NM": 2.1, "NE": 2.0, "ID": 1.8, "WV": 1.8,
    "HI": 1.5, "NH": 1.4, "ME": 1.4, "RI": 1.1, "MT": 1.1, "DE": 1.0, "SD": 0.9, "ND": 0.8,
    "AK": 0.7, "DC": 0.7, "VT": 0.6, "WY": 0.6,
}
_CENTRAL = "AL AR IL IA KS LA MN MS MO NE ND OK SD TN TX WI".split()
_MOUNTAIN = "AZ CO ID MT NM UT WY".split()
_PACIFIC = "CA NV OR WA".split()
_STD = {s: -5 for s in US_STATES}
_STD.update({s: -6 for s in _CENTRAL}, **{s: -7 for s in _MOUNTAIN}, **{s: -8 for s in _PACIFIC})
_STD.update(AK=-9, HI=-10, PR=-4)
_NO_DST = {"AZ", "HI", "PR"}

STATE_P = np.array([_POP[s] for s in US_STATES]) / sum(_POP[s] for s in US_STATES)
STATE_STD = np.array([_STD[s] for s in US_STATES], dtype=np.int64)
STATE_DST = np.array([s not in _NO_DST for s in US_STATES])


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """n-th (1-based; -1 = last) given weekday (Monday = 0) of a month."""
    if n > 0:
        d = date(year, month, 1)
        d += timedelta(days=(weekday - d.weekday()) % 7)
        return d + timedelta(weeks=n - 1)
    d = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    return d - timedelta(days=(d.weekday() - weekday) % 7)


def _epoch_s(d: date) -> int:
    return (d - date(1970, 1, 1)).days * DAY


def _years(t: np.ndarray) -> range:
    t = np.asarray(t, dtype=np.int64)
    lo = int(np.min(t)) if t.size else 0
    hi = int(np.max(t)) if t.size else 0
    return range(1970 + lo // (365 * DAY) - 1, 1970 + hi // (365 * DAY) + 2)


def dst_active(t: np.ndarray) -> np.ndarray:
    """US daylight saving time in effect at UTC seconds t (2nd Sunday of March to 1st Sunday of November)."""
    t = np.asarray(t, dtype=np.int64)
    out = np.zeros(t.shape, dtype=bool)
    for y in _years(t):
        on = _epoch_s(_nth_weekday(y, 3, 6, 2)) + 7 * HOUR
        off = _epoch_s(_nth_weekday(y, 11, 6, 1)) + 6 * HOUR
        out |= (t >= on) & (t < off)
    return out


def state_offsets(t: int) -> np.ndarray:
    """UTC offset in hours of every state (contract.US_STATES order) at UTC second t."""
    return STATE_STD + (STATE_DST & bool(dst_active(np.array([t]))[0])).astype(np.int64)


def hour_of_week(t: np.ndarray) -> np.ndarray:
    """UTC hour of week (Monday 00:00 = 0) of UTC seconds t."""
    return (np.asarray(t, dtype=np.int64) // HOUR + EPOCH_DOW * 24) % 168


def day_of_week(day_number: np.ndarray) -> np.ndarray:
    """Weekday (Monday = 0) of a day number (days since the epoch)."""
    return (np.asarray(day_number, dtype=np.int64) + EPOCH_DOW) % 7


# --- hour-of-day shapes (local time) -----------------------------------------------------------

def _curve(points: dict[int, float]) -> np.ndarray:
    hours = sorted(points)
    return np.interp(np.arange(24), hours, [points[h] for h in hours])


_WEEKDAY = {
    "k12": _curve({0: 0, 6: 0, 7: 0.05, 13: 0.05, 15: 0.5, 16: 1.0, 19: 1.0, 20: 0.8, 21: 0.35, 22: 0.05, 23: 0}),
    "college": _curve({0: 0.1, 1: 0, 8: 0, 10: 0.3, 15: 0.35, 17: 0.55, 19: 1.0, 21: 1.0, 22: 0.7, 23: 0.35}),
    "adult": _curve({0: 0, 6: 0, 7: 0.2, 9: 0.1, 12: 0.35, 13: 0.2, 17: 0.4, 19: 1.0, 21: 0.9, 22: 0.4, 23: 0.05}),
    "test_prep": _curve({0: 0, 7: 0, 8: 0.03, 14: 0.05, 16: 0.6, 17: 0.9, 19: 1.0, 21: 0.75, 22: 0.2, 23: 0}),
}
_SATURDAY = _curve({0: 0, 7: 0, 8: 0.3, 9: 0.8, 12: 0.85, 14: 0.5, 17: 0.35, 20: 0.25, 22: 0.05, 23: 0})
_SUNDAY = _curve({0: 0, 8: 0, 10: 0.4, 13: 0.5, 15: 0.6, 17: 0.9, 19: 1.25, 20: 1.2, 21: 0.7, 22: 0.2, 23: 0})
_FRIDAY_EVENING = _curve({0: 1, 16: 1, 18: 0.7, 20: 0.45, 23: 0.4})

# PREF[segment, weekday, local hour]: relative chance a session is booked at that local hour
PREF = np.zeros((len(SEGMENTS), 7, 24))
for _i, _seg in enumerate(SEGMENTS):
    for _d in range(5):
        PREF[_i, _d] = _WEEKDAY[_seg] * (_FRIDAY_EVENING if _d == 4 else 1.0)
    PREF[_i, 5] = _SATURDAY * (1.4 if _seg == "test_prep" else 1.0)
    PREF[_i, 6] = _SUNDAY
# relative session volume by weekday of the session (Mon..Sun): Friday/Saturday quiet, Sunday evening busy
DOW_W = np.array([1.15, 1.15, 1.1, 1.05, 0.5, 0.42, 1.0])
# when people use the app (bookings, signups): local hour shape
ACTIVITY = _curve({0: 0.15, 2: 0.03, 5: 0.02, 7: 0.3, 9: 0.5, 12: 0.6, 15: 0.7, 18: 0.9, 20: 1.0, 22: 0.6, 23: 0.3})
# when people phone support: local business hours
CALL_HOURS = _curve({0: 0, 7: 0, 8: 0.5, 10: 1.0, 13: 0.9, 15: 1.0, 17: 0.8, 19: 0.4, 20: 0.1, 21: 0})


def utc_activity_profile() -> np.ndarray:
    """Population-weighted app activity by UTC hour (24 values, mean 1): the shape of pushed metrics."""
    out = np.zeros(24)
    for p, off in zip(STATE_P, STATE_STD + 1):
        out += p * np.roll(ACTIVITY, int(off))  # local hour h happens at UTC hour h - off
    return out / out.mean()


# --- calendar: holidays, test dates, seasonality ------------------------------------------------

def _holidays(year: int) -> dict[date, float]:
    h = {
        date(year, 1, 1): 0.35, date(year, 7, 4): 0.35, date(year, 12, 24): 0.4, date(year, 12, 25): 0.25,
        date(year, 12, 26): 0.6, date(year, 12, 31): 0.5,
        _nth_weekday(year, 9, 0, 1): 0.45,   # Labor Day
        _nth_weekday(year, 5, 0, -1): 0.5,   # Memorial Day
    }
    thanksgiving = _nth_weekday(year, 11, 3, 4)
    h[thanksgiving] = 0.3
    h[thanksgiving + timedelta(days=1)] = 0.55
    h[thanksgiving - timedelta(days=1)] = 0.8
    return h


@lru_cache(maxsize=64)
def _holiday_table(first_year: int, last_year: int) -> tuple[np.ndarray, np.ndarray]:
    h = {(d - date(1970, 1, 1)).days: f for y in range(first_year, last_year + 1) for d, f in _holidays(y).items()}
    keys = np.array(sorted(h), dtype=np.int64)
    return keys, np.array([h[k] for k in keys.tolist()])


def holiday_factor(day_numbers: np.ndarray) -> np.ndarray:
    """Demand multiplier (1 on ordinary days) for local day numbers (days since the epoch)."""
    d = np.asarray(day_numbers, dtype=np.int64)
    if not d.size:
        return np.ones(d.shape)
    years = _years(d * DAY)
    keys, vals = _holiday_table(years.start, years.stop)
    pos = np.searchsorted(keys, d).clip(0, keys.size - 1)
    return np.where(keys[pos] == d, vals[pos], 1.0)


def test_dates(years: range) -> tuple[np.ndarray, np.ndarray]:
    """Approximate SAT and ACT national test days as day numbers."""
    sat, act = [], []
    for y in years:
        sat += [_nth_weekday(y, m, 5, 1) for m in (3, 5, 6, 10, 11, 12)] + [_nth_weekday(y, 8, 5, -1)]
        act += [_nth_weekday(y, m, 5, 2) for m in (2, 4, 6, 7, 9, 10, 12)]
    to_num = lambda ds: np.array(sorted((d - date(1970, 1, 1)).days for d in ds))  # noqa: E731
    return to_num(sat), to_num(act)


def _test_prep_curve(days: np.ndarray, tests: np.ndarray) -> np.ndarray:
    """Demand rises over the 5 weeks before a test date and collapses right after it."""
    gap = tests[None, :] - days[:, None]  # days until each test
    ramp = np.where((gap >= 0) & (gap <= 35), 1.0 - gap / 35.0, 0.0).max(axis=1)
    after = ((gap < 0) & (gap >= -10)).any(axis=1)
    return (0.55 + 1.1 * ramp) * np.where(after, 0.55, 1.0)


_ACADEMIC = [(1, 0.7), (8, 1.0), (120, 1.05), (128, 1.15), (140, 1.1), (152, 0.9), (166, 0.6),
             (222, 0.6), (236, 0.9), (255, 1.2), (290, 1.05), (332, 1.1), (340, 1.2), (350, 1.05),
             (356, 0.6), (366, 0.7)]
# how strongly each subject follows the school year, and its yearly growth
_SCHOOL = {"spanish": 0.35, "french": 0.35, "computer_science": 0.5, "writing": 0.7, "statistics": 0.8}
_GROWTH = {"computer_science": 0.25, "statistics": 0.12, "french": -0.1, "spanish": 0.02, "history": -0.04}


def subject_season(day_numbers: np.ndarray, ref_day: int) -> np.ndarray:
    """Demand multiplier per day and subject, [len(days), len(SUBJECTS)], trend 1.0 at ref_day."""
    d = np.asarray(day_numbers, dtype=np.int64)
    doy = (d * DAY).astype("datetime64[s]").astype("datetime64[D]")
    doy = (doy - doy.astype("datetime64[Y]")).astype(np.int64) + 1
    school = np.interp(doy, [p[0] for p in _ACADEMIC], [p[1] for p in _ACADEMIC])
    sat, act = test_dates(_years(d * DAY))
    years = (d - ref_day) / 365.25
    out = np.empty((d.size, len(SUBJECTS)))
    for j, s in enumerate(SUBJECTS):
        if s == "sat_prep":
            base = _test_prep_curve(d, sat)
        elif s == "act_prep":
            base = _test_prep_curve(d, act)
        else:
            k = _SCHOOL.get(s, 1.0)
            base = 1.0 + k * (school - 1.0)
        out[:, j] = base * np.exp(_GROWTH.get(s, 0.05) * years)
    return out


def signup_season(day_numbers: np.ndarray) -> np.ndarray:
    """Signup multiplier per day and segment, [len(days), len(SEGMENTS)]."""
    d = np.asarray(day_numbers, dtype=np.int64)
    doy = (d * DAY).astype("datetime64[s]").astype("datetime64[D]")
    doy = (doy - doy.astype("datetime64[Y]")).astype(np.int64) + 1
    school = np.interp(doy, [p[0] for p in _ACADEMIC], [p[1] for p in _ACADEMIC])
    back_to_school = np.interp(doy, [1, 200, 225, 245, 275, 366], [1, 1, 1.3, 1.7, 1.0, 1])
    january = np.interp(doy, [1, 5, 30, 45, 366], [1.2, 1.5, 1.2, 1.0, 1.0])
    sat, act = test_dates(_years(d * DAY))
    tp = 0.5 * (_test_prep_curve(d, sat) + _test_prep_curve(d, act))
    dow = np.array([1.15, 1.1, 1.05, 1.0, 0.85, 0.75, 1.1])[day_of_week(d)]
    out = np.stack([school * back_to_school, school * back_to_school * january, january, tp], axis=1)
    return out * dow[:, None] * holiday_factor(d)[:, None]
