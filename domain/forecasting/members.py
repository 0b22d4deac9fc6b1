"""The ensemble's members: seasonal profiles of the local hour of the week, some scaled by the recent level.

Every member is ``level x profile[hour of week]`` over a history whose holiday days are masked
(NaN), so last week's holiday is never copied into next week. A forecast hour on a holiday reads
the profile as ``(1 - alpha) x its own hour + alpha x the same hour on Sunday`` with ``alpha``
learned from the holidays in the history (``holiday_alpha``), so every member knows the calendar;
weekdays next to a holiday get a weight ``beta`` learned the same way (prior: an ordinary day).

Members (``SPECS``: name -> profile, weeks, trimmed, level window in hours, additive when negative):
- ``naive``: same hour last week (the week before when that hour is missing or a holiday);
- ``mean2w``: mean of the same hour over 2 weeks; ``trimmed6w``: 6 weeks without the extremes;
- ``level*``: a 4-week trimmed profile from before the last 6 h / 1 / 3 / 7 days, scaled by how
  those hours compared with it (``shift*``: moved by the difference, for series with a base level):
  they follow a level shift (weather, a shock, a growing subject) within hours, which multi-week
  means take weeks to follow;
- ``daykind*``: the same hour on days of the same kind (weekday / Saturday / Sunday) over 1-2 weeks,
  a smoother and more recent daily shape, alone or with a recent level;
- ``*smooth_shift``: the profile plus an exponentially smoothed, damped level (``smoothed_shift``);
- ``smooth4w*``: a day-kind shape over 4 weeks smoothed across neighbouring hours, times each weekday's
  own level (``smooth_profile``): less noise where an hour holds a few sessions.
The inner backtest weighs them per lead time; most get little weight on most series.
"""
from __future__ import annotations

import warnings

import numpy as np
from scipy.signal import lfilter

from domain.forecasting.calendar import SUNDAY

WEEK = 168
SPECS: dict[str, tuple[str, int, bool, int]] = {  # name -> (profile, weeks, trimmed, level hours)
    "naive": ("week", 1, False, 0), "mean2w": ("week", 2, False, 0), "trimmed6w": ("week", 6, True, 0),
    "level6h": ("week", 4, True, 6), "level1d": ("week", 4, True, 24), "level3d": ("week", 4, True, 72),
    "level7d": ("week", 4, True, 168),
    "daykind2w": ("daykind", 2, False, 0), "daykind_level6h": ("daykind", 2, False, 6),
    "daykind_level1d": ("daykind", 2, False, 24),
    "shift6h": ("week", 4, True, -6), "shift1d": ("week", 4, True, -24),
    "daykind_shift6h": ("daykind", 2, False, -6), "daykind_shift1d": ("daykind", 2, False, -24),
    "daykind1w_shift6h": ("daykind", 1, False, -6),
    "smooth_shift": ("week", 4, True, "ses"), "daykind_smooth_shift": ("daykind", 2, False, "ses"),
    "smooth4w": ("smooth", 4, False, 0), "smooth4w_level1d": ("smooth", 4, False, 24),
}
SES_ALPHAS = (0.01, 0.03, 0.1, 0.3)
SES_HOURS = 336  # the level is smoothed over the last two weeks
SES_DAMPING = 0.8  # per day: a deviation from the profile fades over the week (weather, a shock)
MEMBERS = tuple(SPECS)
LEVEL_PRIOR = 5.0  # pseudo-count (in y units) pulling a level ratio towards 1 on thin hours
LEVEL_CLIP = (0.25, 4.0)


def _quiet(func, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an hour missing in every week -> NaN
        return func(*args, **kw)


def week_matrix(y: np.ndarray, how: np.ndarray, end: int, weeks: int) -> np.ndarray:
    """(weeks, 168) values of the ``weeks`` weeks of hours before position ``end``, newest first,
    placed by local hour of the week (NaN where absent)."""
    m = np.full((weeks, WEEK), np.nan)
    start = max(0, end - weeks * WEEK)
    idx = np.arange(start, end)
    m[(end - 1 - idx) // WEEK, how[start:end]] = y[start:end]
    return m


def profile(y: np.ndarray, how: np.ndarray, end: int, weeks: int, trimmed: bool) -> np.ndarray:
    """Per local hour of the week: the mean over ``weeks`` weeks before ``end`` (without the highest
    and lowest value when ``trimmed`` and at least 3 are known); for one week, the newest known."""
    m = week_matrix(y, how, end, max(weeks, 3) if weeks == 1 else weeks)
    if weeks == 1:
        out = m[0].copy()
        for row in m[1:]:
            out = np.where(np.isnan(out), row, out)
        return out
    if not trimmed:
        return _quiet(np.nanmean, m, axis=0)
    n = np.sum(~np.isnan(m), axis=0)
    cut = np.nansum(m, axis=0) - _quiet(np.nanmin, m, axis=0) - _quiet(np.nanmax, m, axis=0)
    return np.where(n >= 3, cut / np.maximum(n - 2, 1), _quiet(np.nanmean, m, axis=0))


def daykind_profile(y: np.ndarray, how: np.ndarray, end: int, weeks: int) -> np.ndarray:
    """Per local hour of the week: the mean of the same hour over the last ``weeks`` weeks' days of the
    same kind (Monday-Friday, Saturday, Sunday): five times the data of a weekday's own hour, so a
    smoother and more recent daily shape (what drifts with the season, as load does)."""
    m = week_matrix(y, how, end, weeks)
    out = np.empty(WEEK)
    for days in ((0, 1, 2, 3, 4), (5,), (SUNDAY,)):
        shape = _quiet(np.nanmean, np.concatenate([m[:, d * 24:(d + 1) * 24] for d in days]), axis=0)
        for d in days:
            out[d * 24:(d + 1) * 24] = shape
    return out


def smooth_profile(y: np.ndarray, how: np.ndarray, end: int, weeks: int) -> np.ndarray:
    """A low-noise profile for thin series: the day-kind shape over ``weeks`` weeks, each hour averaged
    with its neighbours (1-2-1), times each weekday's own level over twice as many weeks."""
    base = daykind_profile(y, how, end, weeks)
    day = base.reshape(7, 24)
    smooth = (np.roll(day, 1, axis=1) + 2 * day + np.roll(day, -1, axis=1)) / 4
    m = week_matrix(y, how, end, 2 * weeks).reshape(2 * weeks, 7, 24)
    own = _quiet(np.nanmean, _quiet(np.nanmean, m, axis=0), axis=1)
    pooled = _quiet(np.nanmean, day, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        factor = np.where(pooled > 0, own / pooled, 1.0)
    return (smooth * np.nan_to_num(factor, nan=1.0)[:, None]).ravel()


def level_ratio(y: np.ndarray, how: np.ndarray, prof: np.ndarray, hours: int) -> float:
    """sum(y) / sum(profile) over the last ``hours`` (known hours only), shrunk towards 1."""
    recent = slice(len(y) - hours, len(y))
    a, p = y[recent], prof[how[recent]]
    ok = ~(np.isnan(a) | np.isnan(p))
    r = (a[ok].sum() + LEVEL_PRIOR) / (p[ok].sum() + LEVEL_PRIOR)
    return float(np.clip(r, *LEVEL_CLIP))


def level_shift(y: np.ndarray, how: np.ndarray, prof: np.ndarray, hours: int) -> float:
    """mean(y - profile) over the last ``hours`` (known hours only)."""
    recent = slice(len(y) - hours, len(y))
    d = y[recent] - prof[how[recent]]
    return float(np.nanmean(d)) if np.any(~np.isnan(d)) else 0.0


def smoothed_shift(y: np.ndarray, how: np.ndarray, how_f: np.ndarray, hol_w: np.ndarray, kind: str, weeks: int,
                   trimmed: bool, lead: np.ndarray) -> np.ndarray:
    """Profile (from before the last two weeks) + a level: the exponentially smoothed difference between
    the last two weeks and the profile (alpha with the least one-step error), fading by SES_DAMPING a
    day ahead. The additive, damped cousin of ``level*`` (an MSTL-like trend on deseasonalised data)."""
    base = max(len(y) - SES_HOURS, 0)
    prof = profile(y, how, base, weeks, trimmed) if kind == "week" else daykind_profile(y, how, base, weeks)
    d = y[base:] - prof[how[base:]]
    d = d[~np.isnan(d)]
    if not len(d):
        return _read(prof, how_f, hol_w)
    best = (np.inf, 0.0)
    for a in SES_ALPHAS:
        # level_t = (1 - a) level_{t-1} + a d_t, started at the first day's mean; the error of each step
        # is d_t against the level before it
        level, _ = lfilter([a], [1, -(1 - a)], d, zi=[(1 - a) * d[:24].mean()])
        before = np.r_[d[:24].mean(), level[:-1]]
        best = min(best, (float(np.sum((d - before) ** 2)), float(level[-1])))
    fade = SES_DAMPING ** (lead / 24)
    return _shifted(_read(prof, how_f, hol_w), best[1] * fade)


def _shifted(base: np.ndarray, shift) -> np.ndarray:
    """base + shift, the shift bounded by the base itself (between 0 and twice the base): a level moving
    the busy hours must not put demand into hours that never had any (a night hour of a count series)."""
    return base + np.clip(shift, -base, base)


def _read(prof: np.ndarray, how_f: np.ndarray, hol_w: np.ndarray) -> np.ndarray:
    """The profile at the forecast hours; a holiday hour blends in Sunday's same hour by ``hol_w``."""
    own = prof[how_f]
    sunday = prof[SUNDAY * 24 + how_f % 24]
    own = np.where(np.isnan(own), sunday, own)
    return own + hol_w * (np.where(np.isnan(sunday), own, sunday) - own)


def forecasts(y: np.ndarray, how: np.ndarray, how_f: np.ndarray, hol_w: np.ndarray,
              members: tuple[str, ...] = MEMBERS, lead: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Each member's forecast for future hours (local hour of week ``how_f``, holiday weight ``hol_w``:
    alpha on holiday hours, 0 elsewhere) from history ``y`` (holidays masked as NaN) at ``how``; ``lead``:
    hours after the last history hour (default 1, 2, ...)."""
    lead = np.arange(1, len(how_f) + 1) if lead is None else np.asarray(lead)
    out = {}
    for name in members:
        kind, weeks, trimmed, hours = SPECS[name]
        if hours == "ses":
            out[name] = smoothed_shift(y, how, how_f, hol_w, kind, weeks, trimmed, lead)
            continue
        end = len(y) - abs(hours)
        prof = (profile(y, how, end, weeks, trimmed) if kind == "week" else daykind_profile(y, how, end, weeks)
                if kind == "daykind" else smooth_profile(y, how, end, weeks))
        if hours < 0:  # additive: a level that moves the whole profile (load has a base it adds to)
            out[name] = _shifted(_read(prof, how_f, hol_w), level_shift(y, how, prof, -hours))
            continue
        level = level_ratio(y, how, prof, hours) if hours else 1.0
        out[name] = level * _read(prof, how_f, hol_w)
    return out


def shift_size(y: np.ndarray, how: np.ndarray, hours: int = 72) -> float:
    """|log| of the last ``hours``' level against the 4-week profile before them (0 = no shift)."""
    prof = profile(y, how, len(y) - hours, 4, True)
    return abs(float(np.log(level_ratio(y, how, prof, hours))))


def usual_shift(y: np.ndarray, how: np.ndarray, hours: int = 72, quantile: float = 0.95) -> float:
    """The ``quantile`` of ``shift_size`` over the daily origins of the history: how far the level
    usually moves in ``hours``, so that only an unusual move counts as a shift."""
    ends = range(5 * WEEK, len(y) + 1, 24)
    sizes = [shift_size(y[:e], how[:e], hours) for e in ends]
    return float(np.quantile(sizes, quantile)) if sizes else float("inf")


def holiday_alpha(y: np.ndarray, how: np.ndarray, hol: np.ndarray, prior: float = 1.0, strength: float = 1.0) -> float:
    """How Sunday-like the history's holidays were: 0 = an ordinary day, 1 = a Sunday.

    Per holiday hour, the same hour 1-2 weeks either side is the ordinary day and the Sunday of
    those weeks the Sunday; alpha is the least-squares blend, shrunk to ``prior`` (Sunday-like,
    which is what public holidays mostly are) with the weight of ``strength`` holiday days."""
    masked = np.where(hol, np.nan, y)
    idx = np.flatnonzero(hol & (how // 24 != SUNDAY))
    if not len(idx):
        return prior
    n = len(y)

    def around(pos: np.ndarray, lags: tuple[int, ...]) -> np.ndarray:
        cols = [np.where((pos + k >= 0) & (pos + k < n), masked[np.clip(pos + k, 0, n - 1)], np.nan) for k in lags]
        return _quiet(np.nanmean, np.vstack(cols), axis=0)

    lags = (-2 * WEEK, -WEEK, WEEK, 2 * WEEK)
    ordinary = around(idx, lags)
    sunday = around(idx + (SUNDAY * 24 + how[idx] % 24 - how[idx]), (0,) + lags)
    d, e = sunday - ordinary, y[idx] - ordinary
    ok = ~(np.isnan(d) | np.isnan(e))
    if not ok.any() or np.sum(d[ok] ** 2) == 0:
        return prior
    est = float(np.sum(d[ok] * e[ok]) / np.sum(d[ok] ** 2))
    days = ok.sum() / 24
    return float(np.clip((days * est + strength * prior) / (days + strength), 0.0, 1.5))
