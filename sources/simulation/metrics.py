"""Pushed/polled metric streams (`metric_points`) with daily/weekly rhythm, trend, noise, and
planted anomalies.

Counts are Poisson around a seasonal level (scaled with the marketplace size), rates live in
(0, 1) on a logit scale, latencies are log-normal with a heavy tail, gauges are bounded.
Most streams are hourly; app_error_rate and api_latency_p95_ms are every 5 minutes.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from sources.simulation.world.rhythms import DAY, HOUR, holiday_factor, utc_activity_profile

# name: (kind, level, diurnal amplitude or floor, noise, step seconds)
METRICS: dict[str, tuple[str, float, float, float, int]] = {
    "signup_page_visits": ("count", 900, 0.15, 0, HOUR),
    "web_sessions": ("count", 5200, 0.2, 0, HOUR),
    "mobile_active_users": ("count", 3800, 0.25, 0, HOUR),
    "search_to_book_conversion": ("rate", 0.12, 0.25, 0.06, HOUR),
    "support_ticket_volume": ("count", 35, 0.2, 0, HOUR),
    "app_error_rate": ("rate", 0.004, 0.15, 0.18, 300),
    "api_latency_p95_ms": ("latency", 420, 0.5, 0.08, 300),
    "api_latency_p50_ms": ("latency", 95, 0.3, 0.05, HOUR),
    "payment_failure_rate": ("rate", 0.021, 0.1, 0.12, HOUR),
    "payment_volume_usd": ("count", 5200, 0.1, 0, HOUR),
    "video_call_drop_rate": ("rate", 0.018, 0.3, 0.15, HOUR),
    "mobile_crash_rate": ("rate", 0.006, 0.1, 0.2, HOUR),
    "email_open_rate": ("rate", 0.24, 0.3, 0.08, HOUR),
    "email_click_rate": ("rate", 0.031, 0.3, 0.12, HOUR),
    "push_notification_ctr": ("rate", 0.045, 0.4, 0.12, HOUR),
    "tutor_app_logins": ("count", 420, 0.1, 0, HOUR),
    "chat_messages_sent": ("count", 2600, 0.1, 0, HOUR),
    "refund_requests": ("count", 2.2, 0.2, 0, HOUR),
    "page_load_time_ms": ("latency", 1350, 0.25, 0.07, HOUR),
    "db_cpu_utilization": ("gauge", 0.38, 0.2, 0.03, HOUR),
    "queue_backlog": ("count", 25, 0.3, 0, HOUR),
    "checkout_abandonment_rate": ("rate", 0.31, 0.1, 0.07, HOUR),
    "trial_to_paid_conversion": ("rate", 0.22, 0.0, 0.15, HOUR),
    "nps_responses": ("count", 6, 0.1, 0, HOUR),
    "live_chat_wait_time_s": ("latency", 75, 0.8, 0.15, HOUR),
    "sms_delivery_failure_rate": ("rate", 0.012, 0.0, 0.15, HOUR),
    "whiteboard_sync_errors": ("count", 9, 0.1, 0, HOUR),
    "login_failures": ("count", 60, 0.2, 0, HOUR),
}
NAMES = list(METRICS)
_PROFILE = utc_activity_profile()
_DOW = np.array([1.0, 1.02, 1.0, 0.98, 0.86, 0.74, 0.93])

# (metric, shape, where, hours, size): size is robust SDs for spikes, a multiplier otherwise
ANOMALIES = [
    ("app_error_rate", "spike", "recent", 0.5, 7.0),
    ("api_latency_p95_ms", "level_shift", "ongoing", 10, 1.6),
    ("search_to_book_conversion", "drop", "recent", 4, 0.45),
    ("support_ticket_volume", "spike", 0.3, 3, 7.0),
    ("payment_failure_rate", "level_shift", 0.45, 14, 2.2),
    ("mobile_active_users", "drop", 0.6, 3, 0.35),
    ("video_call_drop_rate", "spike", 0.75, 2, 6.0),
]


def values(name: str, ts: np.ndarray, rng: np.random.Generator, scale: float, ref: int) -> np.ndarray:
    """One stream's values at UTC seconds `ts`."""
    kind, level, amp, noise, step = METRICS[name]
    ts = np.asarray(ts, dtype=np.int64)
    hour = (ts // HOUR) % 24
    frac = (ts % HOUR) / HOUR
    prof = _PROFILE[hour] * (1 - frac) + _PROFILE[(hour + 1) % 24] * frac
    us = ts - 5 * HOUR  # weekly and holiday effects follow the US day
    dow = _DOW[(us // DAY + 3) % 7]
    hol = holiday_factor(us // DAY)
    trend = np.exp(0.1 * (ts - ref) / (365 * DAY))
    if kind == "count":
        lam = level * max(scale, 0.01) * step / HOUR * (amp + (1 - amp) * prof) * dow * hol * trend
        return rng.poisson(lam).astype(float)
    if kind == "rate":
        logit = np.log(level / (1 - level)) + amp * (prof - 1) + rng.normal(0, noise, ts.size)
        return np.round(1 / (1 + np.exp(-logit)), 5)
    if kind == "latency":
        tail = np.where(rng.random(ts.size) < 0.01, 1 + rng.pareto(2.5, ts.size), 1.0)
        return np.round(level * (1 + 0.3 * amp * (prof - 1)) * rng.lognormal(0, noise, ts.size) * tail, 1)
    return np.round(np.clip(level + amp * (prof - 1) * level + rng.normal(0, noise, ts.size), 0, 1), 4)


def history(seed: int, start: int, end: int, scale: float) -> tuple[pd.DataFrame, list[dict], list[str]]:
    """All streams over (start, end], the planted anomalies, and the streams left clean."""
    frames, incidents = [], []
    planted = {a[0] for a in ANOMALIES}
    span_days = (end - start) / DAY
    for i, name in enumerate(NAMES):
        step = METRICS[name][4]
        ts = np.arange((start // step + 1) * step, end + 1, step, dtype=np.int64)
        rng = np.random.default_rng([seed, 3, i])
        v = values(name, ts, rng, scale, end)
        for metric, shape, where, hours, size in ANOMALIES:
            if metric != name:
                continue
            inc = _plant(v, ts, step, shape, where, hours, size, end, span_days, rng, METRICS[name][0])
            if inc:
                incidents.append({"kind": "metric_anomaly", "metric": name, **inc})
        frames.append(pd.DataFrame({"metric": name, "ts": ts, "value": v}))
    clean = [n for n in NAMES if n not in {i["metric"] for i in incidents}]
    out = pd.concat(frames, ignore_index=True)
    out["ts"] = out["ts"].to_numpy().astype("datetime64[s]").astype("datetime64[us]")
    return out, incidents, clean


def _plant(v, ts, step, shape, where, hours, size, end, span_days, rng, kind) -> dict | None:
    length = max(1, int(round(hours * HOUR / step)))
    if where == "ongoing":
        first = ts.size - length
    elif where == "recent":
        lo = np.searchsorted(ts, end - 44 * HOUR)
        hi = np.searchsorted(ts, end - 6 * HOUR) - length
        first = int(rng.integers(lo, max(hi, lo + 1)))
    else:
        if span_days < 4 or (1 - where) * span_days < 2.5:
            return None
        first = int(where * ts.size)
    if shape == "drop":  # outages are noticed when people are around: move to a busy US hour
        while (ts[first] // HOUR) % 24 not in range(15, 23) and first + 1 < ts.size - length:
            first += 1
    first = int(np.clip(first, 0, ts.size - length))
    sl = slice(first, first + length)
    if shape == "spike":
        base = pd.Series(v).groupby((ts // step) % (7 * DAY // step)).transform("median").to_numpy()
        resid = v - base
        rsd = 1.4826 * np.median(np.abs(resid - np.median(resid))) or (np.std(v) or 1.0)
        v[sl] = v[sl] + size * rsd * rng.uniform(1.0, 1.15, length)
        detail = f"+{size:g} robust SD"
    else:
        v[sl] = v[sl] * size
        detail = f"x{size:g}"
    if kind in ("rate", "gauge"):
        v[sl] = np.clip(v[sl], 0, 1)
    v[sl] = np.round(v[sl], 5)
    start = pd.Timestamp(int(ts[first]), unit="s").to_pydatetime()
    stop = pd.Timestamp(int(ts[first + length - 1] + step), unit="s").to_pydatetime()
    return {"shape": shape, "start": start, "end": stop, "size": detail}


def live(seed: int, slot: int, t0: int, t1: int, scale: float, ref: int) -> pd.DataFrame:
    """Points of every stream in (t0, t1], deterministic for (seed, slot)."""
    frames = []
    for i, name in enumerate(NAMES):
        step = METRICS[name][4]
        ts = np.arange((t0 // step + 1) * step, t1 + 1, step, dtype=np.int64)
        if ts.size:
            v = values(name, ts, np.random.default_rng([seed, 4, i, slot]), scale, ref)
            frames.append(pd.DataFrame({"metric": name, "ts": ts, "value": v}))
    if not frames:
        return pd.DataFrame({"metric": pd.Series(dtype=str), "ts": pd.Series(dtype="datetime64[us]"),
                             "value": pd.Series(dtype=float)})
    out = pd.concat(frames, ignore_index=True)
    out["ts"] = out["ts"].to_numpy().astype("datetime64[s]").astype("datetime64[us]")
    return out
