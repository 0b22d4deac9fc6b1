"""Window methods: week_over_week and consecutive_drops, on the raw values.

week_over_week compares the trailing window with the same window a week before, and fires only
when the change also holds against the median of the same window over the last `compare_weeks`
weeks: last week's outage then does not come back this week as a "jump", and one odd week
does not make every comparison with it news.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from domain.anomaly.baseline import MAD_TO_SIGMA, lag_matrix, nanmedian_rows
from domain.anomaly.config import DetectorConfig
from domain.anomaly.events import AnomalyEvent, fmt, fmt_time, runs, severity
from domain.anomaly.prepare import Grid

LOG_SPREAD_FLOOR = 0.01  # 1 % : a perfectly regular metric still needs a real change
MIN_EVENTS = 20          # count metrics: fewer events than this in the larger window are not judged


def _window_label(hours: float) -> str:
    if hours % 24 == 0:
        days = int(hours // 24)
        return "24 h" if days == 1 else f"{days} days"
    return f"{hours:g} h"


def week_over_week(grid: Grid, config: DetectorConfig, metric: str,
                   reference: np.ndarray | None = None) -> list[AnomalyEvent]:
    """reference: the values past windows are taken from (default the values themselves); the
    detector passes them with flagged points blanked, so a reference window is the clean rest of
    it, and one that is mostly flagged (short of min_coverage) is skipped for the week before it."""
    cfg = config.week_over_week
    y = grid.values
    week = int(round(7 * grid.per_day))
    wp = grid.points(cfg.window_hours)
    if week < 1 or len(y) <= week + wp:
        return []
    need = max(1, int(np.ceil(cfg.min_coverage * wp)))
    cur = pd.Series(y).rolling(wp, min_periods=need).mean().to_numpy(dtype=float, copy=True)
    ref = cur if reference is None else \
        pd.Series(reference).rolling(wp, min_periods=need).mean().to_numpy(dtype=float, copy=True)
    if grid.scale == "log":  # a skewed metric: the geometric mean, which one tail spike cannot carry
        cur, ref = np.exp(cur), np.exp(ref)
    cw = max(1, cfg.compare_weeks)
    # one week more than compared: a contaminated week before is replaced by the one before it
    weeks_back = lag_matrix(ref, np.arange(1, cw + 2) * week)
    have = np.isfinite(weeks_back)
    back = np.where(have.any(axis=1), np.argmax(have, axis=1), 0)  # 0: a week before, 1: two weeks
    prev = weeks_back[np.arange(len(y)), back]
    weeks_back = np.where(back[:, None] > 0, weeks_back[:, 1:], weeks_back[:, :cw])
    typical_prev = nanmedian_rows(weeks_back)
    scale = wp if cfg.agg == "sum" else 1
    a, b, b_typ = cur * scale, prev * scale, typical_prev * scale
    counts = is_count(y) and grid.scale != "log"
    with np.errstate(all="ignore"):
        valid = np.isfinite(a) & np.isfinite(b) & (b > 0) & (a >= 0) & (b_typ > 0)
        valid &= np.fmax(np.abs(a), np.abs(b)) >= cfg.min_volume
        if counts:  # a handful of events cannot show a 20 % change: 3 -> 0 is not an outage
            valid &= np.fmax(cur, prev) * wp >= MIN_EVENTS
        change = np.where(valid, a / b - 1.0, np.nan)
        change_typ = np.where(valid, a / b_typ - 1.0, np.nan)
        half = 0.5 / wp if counts else 0.0  # continuity correction: half an event
        lr = np.where(valid, np.log(np.fmax(cur + half, 1e-3 * prev) / (prev + half)), np.nan)
    # the change must be unusual for this metric: robust z against past window-over-window changes
    k = max(1, int(round(cfg.history_weeks * week / wp)))
    hist = lag_matrix(lr, np.arange(1, k + 1) * wp)
    center = nanmedian_rows(hist)
    mad = MAD_TO_SIGMA * nanmedian_rows(np.abs(hist - center[:, None]))
    count = np.sum(np.isfinite(hist), axis=1)
    spread = np.fmax(mad, LOG_SPREAD_FLOOR)
    if counts:
        # counts: the log-ratio of two Poisson totals has at least this spread, however quiet
        # the rest of the week is (a weekend window holds far fewer events than a weekday one)
        with np.errstate(all="ignore"):
            spread = np.fmax(spread, np.sqrt(1.0 / np.fmax(cur * wp, 1) + 1.0 / np.fmax(prev * wp, 1)))
    # few past changes: a wider spread (as if from 14), so a short history is not over-confident
    spread = spread * np.sqrt(np.fmax(1.0, 14.0 / np.fmax(count, 1)))
    z = (lr - center) / spread
    enough = count >= min(7, k)  # a week of past changes before "unusual" means anything
    thr = cfg.threshold_pct / 100.0
    ch, cht = np.nan_to_num(change), np.nan_to_num(change_typ)
    flags = valid & enough & (np.abs(ch) >= thr) & (np.abs(cht) >= thr) & (np.sign(ch) == np.sign(cht))
    if cfg.min_zscore > 0:
        flags &= np.abs(np.nan_to_num(z)) >= cfg.min_zscore
    if cfg.direction == "up":
        flags &= ch > 0
    elif cfg.direction == "down":
        flags &= ch < 0
    label = _window_label(cfg.window_hours)
    agg_word = "total" if cfg.agg == "sum" else ("geometric mean" if grid.scale == "log" else "average")
    out = []
    for first, last in runs(flags, max(2, wp)):
        span = np.arange(first, last + 1)
        span = span[flags[span]]
        peak = int(span[np.argmax(np.abs(change[span]))])
        c, ct = float(change[peak]), float(change_typ[peak])
        score = min(abs(c), abs(ct)) / thr
        typical = float(np.expm1(spread[peak]))
        why = (f"{agg_word} over the {label} to {fmt_time(grid.index[peak])} was {fmt(a[peak])} vs {fmt(b[peak])} "
               f"over the same {label} {_weeks_before(int(back[peak]))} ({c:+.1%}, threshold {cfg.threshold_pct:g}%) and vs "
               f"{fmt(b_typ[peak])} typical for that {label} over the last {cfg.compare_weeks} weeks ({ct:+.1%})")
        if cfg.min_zscore > 0:
            why += (f"; unusual for this metric: its {label} week-over-week changes typically move "
                    f"about {typical:.1%} (robust z {float(z[peak]):+.1f}, needs {cfg.min_zscore:g})")
        if last > first:
            why += f"; held from {fmt_time(grid.index[first])} to {fmt_time(grid.index[last])}"
        details = {"change_pct": round(100 * c, 2), "change_vs_typical_pct": round(100 * ct, 2),
                   "window_hours": cfg.window_hours, "agg": cfg.agg, "current": float(a[peak]),
                   "week_before": float(b[peak]), "weeks_back": int(back[peak]) + 1, "typical": float(b_typ[peak]), "z": round(float(z[peak]), 2),
                   "threshold_pct": cfg.threshold_pct}
        out.append(AnomalyEvent(metric, "week_over_week", grid.index[first].to_pydatetime(),
                                grid.index[last].to_pydatetime(), grid.index[peak].to_pydatetime(),
                                float(a[peak]), float(b[peak]), round(score, 3), severity(score, config), why, details))
    return out


def _weeks_before(back: int) -> str:
    if back == 0:
        return "a week before"
    return f"{back + 1} weeks before (the week before held flagged points)"


def is_count(values: np.ndarray) -> bool:
    obs = values[np.isfinite(values)]
    return bool(len(obs)) and bool(np.all(obs >= 0)) and bool(np.all(obs == np.round(obs)))


def _poisson_low_z(observed: float, expected: float) -> float:
    """How unusually low a count total is under Poisson(expected), as a normal z (P(X <= observed))."""
    from scipy.stats import norm, poisson
    if not (np.isfinite(observed) and np.isfinite(expected)) or expected <= 0:
        return 0.0
    return float(norm.isf(poisson.cdf(np.floor(observed), expected)))


def consecutive_drops(grid: Grid, config: DetectorConfig, metric: str) -> list[AnomalyEvent]:
    """Consecutive drops of the per-period aggregate.

    Each period's aggregate (mean, or sum with agg="sum") is divided by its median on the same
    weekday over the last seasonal_weeks weeks, so Friday -> Saturday -> Sunday is not a "drop" on a
    metric that is always lower at weekends; a step of less than min_step_pct is not a drop; the
    fall from before the first drop to the last must reach min_total_drop_pct and be unusual for
    the metric (robust z against its past falls over the same number of periods).
    """
    cfg = config.consecutive_drops
    y = grid.values
    count_metric = is_count(y) and grid.scale != "log"
    period = pd.Timedelta(hours=cfg.period_hours)
    if period < grid.step or not len(y):
        return []
    per = max(1, int(round(period / grid.step)))
    # buckets aligned to midnight UTC when the period divides a day, else to the first point
    origin = grid.index[0].normalize() if (pd.Timedelta(days=1) % period) == pd.Timedelta(0) else grid.index[0]
    bucket = ((grid.index - origin) // period).to_numpy().astype(np.int64)
    nb = int(bucket[-1]) + 1
    ok = np.isfinite(y)
    sums = np.bincount(bucket[ok], weights=y[ok], minlength=nb)
    counts = np.bincount(bucket[ok], minlength=nb)
    slots = np.bincount(bucket, minlength=nb)
    complete = np.arange(nb) < nb - 1
    complete[-1] = slots[-1] >= per  # the period under way is not compared until it is over
    with np.errstate(all="ignore"):
        agg = np.where(complete & (counts >= cfg.min_coverage * per), sums / np.maximum(counts, 1), np.nan)
    if grid.scale == "log":
        agg = np.exp(agg)
    agg = agg * (per if cfg.agg == "sum" else 1)
    week = int(round(pd.Timedelta(days=7) / period))
    if cfg.seasonal_weeks > 0 and week >= 2:
        usual = nanmedian_rows(lag_matrix(agg, np.arange(1, cfg.seasonal_weeks + 1) * week))
        with np.errstate(all="ignore"):
            v = np.where(usual > 0, agg / usual, np.nan)
        relative = True
    else:
        v, relative = agg, False
    if cfg.smooth_periods > 1:
        v = pd.Series(v).rolling(cfg.smooth_periods, min_periods=cfg.smooth_periods).mean().to_numpy(dtype=float)
    with np.errstate(all="ignore"):
        step = v[1:] / v[:-1] - 1.0
    down = np.concatenate([[False], np.nan_to_num(step, nan=0.0) <= -cfg.min_step_pct / 100.0])
    down &= np.concatenate([[False], v[:-1] > 0])
    run = np.zeros(nb, dtype=np.int64)
    for i in range(1, nb):
        run[i] = run[i - 1] + 1 if down[i] else 0
    k = cfg.drops
    with np.errstate(all="ignore"):
        fall_k = np.log(v / np.concatenate([np.full(k, np.nan), v[:-k]])) if nb > k else np.full(nb, np.nan)
    hist = lag_matrix(fall_k, np.arange(1, max(1, cfg.history_weeks * week) + 1))
    center = nanmedian_rows(hist)
    count = np.sum(np.isfinite(hist), axis=1)
    with np.errstate(all="ignore"):
        spread = np.fmax(MAD_TO_SIGMA * nanmedian_rows(np.abs(hist - center[:, None])), LOG_SPREAD_FLOOR)
        spread = spread * np.sqrt(np.fmax(1.0, 14.0 / np.fmax(count, 1)))
        z = (fall_k - center) / spread
    flags = np.zeros(nb, dtype=bool)
    total = np.full(nb, np.nan)
    for i in np.flatnonzero(run >= k):
        before = v[i - run[i]]
        level = max(abs(agg[i - run[i]]), abs(agg[i])) if np.isfinite(agg[i - run[i]]) else 0.0
        if not (np.isfinite(before) and before > 0 and level >= cfg.min_volume):
            continue
        if count_metric and level * (1 if cfg.agg == "sum" else per) < MIN_EVENTS:
            continue
        total[i] = 1 - v[i] / before
        flags[i] = total[i] * 100 >= cfg.min_total_drop_pct
        if cfg.min_zscore > 0:
            flags[i] &= bool(count[i] >= 7 and z[i] <= -cfg.min_zscore)
        if relative:  # a decline ends below the usual: a high coming back to normal is not one
            flags[i] &= bool(v[i] <= 1 - cfg.min_total_drop_pct / 100.0)
        if count_metric and relative and cfg.min_zscore > 0:
            # counts: the last period must be improbably low for Poisson noise around the usual
            flags[i] &= bool(_poisson_low_z(agg[i] * (1 if cfg.agg == "sum" else per),
                                            usual[i] * (1 if cfg.agg == "sum" else per)) >= cfg.min_zscore)
    label = "daily" if cfg.period_hours == 24 else f"{cfg.period_hours:g}-hour"
    agg_word = "total" if cfg.agg == "sum" else ("geometric mean" if grid.scale == "log" else "average")
    out = []
    for _, last in runs(flags, 1):
        i = last
        first_b = i - int(run[i]) + 1
        raw_path = " -> ".join(fmt(x) for x in agg[first_b - 1:i + 1])
        fall = float(total[i])
        score = fall * 100 / cfg.min_total_drop_pct
        start_ts = origin + first_b * period
        end_ts = origin + (i + 1) * period - grid.step  # last grid point of the last period
        why = f"the {label} {agg_word} fell {int(run[i])} periods in a row: {raw_path}"
        if relative:
            rel_path = " -> ".join(f"{x:.0%}" for x in v[first_b - 1:i + 1])
            why += f" ({rel_path} of the usual for that weekday)"
        why += f"; {-fall:+.1%} in total (fires at {k} drops of >= {cfg.min_step_pct:g}% and {cfg.min_total_drop_pct:g}% total"
        if cfg.min_zscore > 0:
            why += f"; robust z of the fall {float(z[i]):+.1f} against past {k}-period changes, needs {cfg.min_zscore:g}"
        why += ")"
        details = {"drops": int(run[i]), "total_drop_pct": round(100 * fall, 2),
                   "path": [float(x) for x in agg[first_b - 1:i + 1]], "relative_to_weekday": relative,
                   "period_hours": cfg.period_hours, "z": round(float(z[i]), 2)}
        out.append(AnomalyEvent(metric, "consecutive_drops", start_ts.to_pydatetime(), end_ts.to_pydatetime(),
                                end_ts.to_pydatetime(), float(agg[i]), float(agg[first_b - 1]), round(score, 3),
                                severity(score, config), why, details))
    return out
