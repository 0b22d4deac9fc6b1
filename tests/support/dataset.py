"""A contract dataset for tests and benchmarks: the project's generator when it exists, else a small hand-built one.

`contract_frames(customers, days, seed)` returns {record: DataFrame with the contract's columns,
typed (ids str, datetimes naive UTC datetime64, numbers)}. The fallback keeps the marketplace's
ratios (per 50,000 customers a day: 3,000 sessions, 4,000 bookings, 500 calls; 1 tutor per 10
customers), is deterministic for a seed, and every row passes validation.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from domain.contract import CALL_REASONS, CHANNELS, RECORDS, SEGMENTS, SUBJECTS, US_STATES

try:  # another engineer's generator; preferred when present
    from sources.simulation import generate as _generate
except ImportError:  # pragma: no cover - depends on the tree
    _generate = None

HAVE_GENERATOR = _generate is not None
END = datetime(2026, 6, 1)  # fallback data ends here; fixed so runs are reproducible


def contract_frames(customers: int = 300, days: int = 30, seed: int = 1) -> dict[str, pd.DataFrame]:
    """Contract frames per record (customers, tutors, tutor_availability, sessions, bookings, inbound_calls, campaigns)."""
    if HAVE_GENERATOR:
        frames = dict(_generate(customers=customers, days=days, seed=seed).frames)
    else:
        frames = _hand_built(customers, days, seed)
    return {r: typed_frame(r, df) for r, df in frames.items() if r in RECORDS}


def typed_frame(record: str, df: pd.DataFrame) -> pd.DataFrame:
    """The contract's columns of `df`, datetimes parsed to naive UTC (e.g. a contract CSV read as text)."""
    out = df[RECORDS[record].columns].copy()
    for f in RECORDS[record].fields:
        if f.kind in ("date", "datetime") and not pd.api.types.is_datetime64_any_dtype(out[f.name]):
            out[f.name] = pd.to_datetime(out[f.name], utc=True, format="mixed").dt.tz_localize(None)
        elif f.kind in ("date", "datetime") and getattr(out[f.name].dt, "tz", None) is not None:
            out[f.name] = out[f.name].dt.tz_convert("UTC").dt.tz_localize(None)
    return out.reset_index(drop=True)


def _hand_built(customers: int, days: int, seed: int) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    end = pd.Timestamp(END)
    start = end - pd.Timedelta(days=days)
    minutes = days * 24 * 60

    def moments(n: int, lo: pd.Timestamp, span_min: int) -> pd.Series:
        return pd.Series(lo + pd.to_timedelta(rng.integers(0, span_min, n), unit="min"))

    # customers
    n = customers
    signup = moments(n, start - pd.Timedelta(days=120), minutes + 120 * 1440).dt.floor("D")
    status = rng.choice(["active", "paused", "churned"], n, p=[0.8, 0.08, 0.12])
    goal_status = rng.choice(["none", "in_progress", "completed"], n, p=[0.3, 0.55, 0.15])
    later = signup + pd.to_timedelta(rng.integers(1, 90 * 1440, n), unit="min")
    later = later.where(later < end, end - pd.Timedelta(minutes=1))
    cust = pd.DataFrame({
        "customer_id": [f"cu{i:07d}" for i in range(n)],
        "signup_date": signup,
        "acquisition_channel": rng.choice(CHANNELS, n),
        "segment": rng.choice(SEGMENTS, n),
        "region": rng.choice(US_STATES[:51], n),
        "goal": np.where(goal_status == "none", None, rng.choice(["pass algebra", "sat 1400", "fluency"], n)),
        "goal_status": goal_status,
        "goal_completed_at": later.where(goal_status == "completed"),
        "status": status,
        "churned_at": later.where(status == "churned"),
        "updated_at": later,
    })

    # tutors and their weekly hours
    t = max(5, customers // 10)
    tutor_ids = np.array([f"tu{i:06d}" for i in range(t)])
    first = rng.integers(0, len(SUBJECTS), t)
    second = (first + rng.integers(1, len(SUBJECTS), t)) % len(SUBJECTS)
    subjects = np.where(rng.random(t) < 0.5, np.array(SUBJECTS)[first],
                        np.char.add(np.char.add(np.array(SUBJECTS)[first], ";"), np.array(SUBJECTS)[second]))
    hired = moments(t, start - pd.Timedelta(days=400), 400 * 1440)
    tutors = pd.DataFrame({
        "tutor_id": tutor_ids, "name": [f"Tutor {i}" for i in range(t)], "subjects": subjects,
        "region": rng.choice(US_STATES[:51], t),
        "status": rng.choice(["active", "onboarding", "inactive"], t, p=[0.85, 0.05, 0.1]),
        "rating_avg": np.where(rng.random(t) < 0.9, np.round(rng.uniform(3.0, 5.0, t), 2), np.nan),
        "hired_at": hired, "updated_at": hired + pd.Timedelta(days=1),
    })
    weekdays = np.argsort(rng.random((t, 7)), axis=1)[:, :3]  # three distinct weekdays per tutor
    start_hour = rng.integers(8, 20, (t, 3))
    avail = pd.DataFrame({
        "tutor_id": np.repeat(tutor_ids, 3), "weekday": weekdays.ravel(), "start_hour": start_hour.ravel(),
        "end_hour": (start_hour + rng.integers(1, 5, (t, 3))).ravel(),
    })

    # sessions, bookings, calls at the marketplace's daily rates
    def rate(per_day_at_50k: int) -> int:
        return max(10, int(per_day_at_50k * customers / 50_000 * days))

    s = rate(3000)
    s_start = moments(s, start, minutes).dt.floor("h")
    s_status = rng.choice(["completed", "cancelled", "no_show"], s, p=[0.85, 0.08, 0.07])
    rated = (s_status == "completed") & (rng.random(s) < 0.8)
    sessions = pd.DataFrame({
        "session_id": [f"se{i:08d}" for i in range(s)],
        "customer_id": cust["customer_id"].to_numpy()[rng.integers(0, n, s)],
        "tutor_id": tutor_ids[rng.integers(0, t, s)], "subject": rng.choice(SUBJECTS, s),
        "start_time": s_start, "end_time": s_start + pd.Timedelta(hours=1),
        "rating": np.where(rated, rng.choice([1, 2, 3, 4, 5], s, p=[0.03, 0.05, 0.12, 0.35, 0.45]), np.nan),
        "status": s_status, "updated_at": s_start + pd.Timedelta(minutes=65),
    })

    b = rate(4000)
    sched = moments(b, start, minutes + 14 * 1440).dt.floor("h")
    created = sched - pd.to_timedelta(rng.integers(60, 14 * 1440, b), unit="min")
    created = created.where(created < end, end - pd.Timedelta(minutes=5))
    past_status = rng.choice(["completed", "cancelled", "rescheduled", "no_show"], b, p=[0.8, 0.08, 0.06, 0.06])
    b_status = np.where(sched >= end, "scheduled", past_status)
    b_updated = sched.where(sched < end, created)
    bookings = pd.DataFrame({
        "booking_id": [f"bo{i:08d}" for i in range(b)],
        "customer_id": cust["customer_id"].to_numpy()[rng.integers(0, n, b)],
        "tutor_id": tutor_ids[rng.integers(0, t, b)], "subject": rng.choice(SUBJECTS, b),
        "scheduled_time": sched, "created_at": created, "status": b_status,
        "rescheduled_by": np.where(b_status == "rescheduled", rng.choice(["tutor", "customer"], b), None),
        "updated_at": b_updated,
    })

    c = rate(500)
    calls = pd.DataFrame({
        "call_id": [f"ca{i:08d}" for i in range(c)],
        "customer_id": cust["customer_id"].to_numpy()[rng.integers(0, n, c)],
        "call_date": moments(c, start, minutes), "duration_s": rng.integers(30, 3600, c),
        "reason_code": rng.choice(CALL_REASONS, c),
    })

    k = 40
    campaigns = pd.DataFrame({
        "campaign_id": [f"cm{i:04d}" for i in range(k)], "subject": rng.choice(SUBJECTS, k),
        "channel": rng.choice(["indeed", "linkedin", "referral", "university"], k),
        "daily_budget": np.round(rng.uniform(20, 500, k), 2),
        "status": rng.choice(["active", "paused"], k, p=[0.7, 0.3]),
        "cost_per_hire": np.round(rng.uniform(50, 900, k), 2), "updated_at": moments(k, start, minutes),
    })
    return {"customers": cust, "tutors": tutors, "tutor_availability": avail, "sessions": sessions,
            "bookings": bookings, "inbound_calls": calls, "campaigns": campaigns}


def more_rows(frames: dict[str, pd.DataFrame], hours: float = 1.0, seed: int = 7) -> dict[str, pd.DataFrame]:
    """About `hours` of new activity after the dataset's newest update: new sessions, bookings, calls,
    and a few customers updated, at the marketplace's daily rates. Same columns as `frames`.
    """
    rng = np.random.default_rng(seed)
    newest = max(df[RECORDS[r].watermark].max() for r, df in frames.items() if RECORDS[r].watermark)
    t0 = pd.Timestamp(newest) + pd.Timedelta(minutes=1)
    n_cust = len(frames["customers"])
    scale = n_cust / 50_000 * hours / 24

    # never later than the ingest's allowed clock skew past now: such rows are bad input (quarantined)
    room = int((pd.Timestamp.now(tz="UTC").tz_localize(None) + pd.Timedelta(minutes=30) - t0).total_seconds() // 60)
    span = max(1, min(int(hours * 60), room))

    def times(n):
        return pd.Series(t0 + pd.to_timedelta(rng.integers(0, span, n), unit="min"))

    out: dict[str, pd.DataFrame] = {}
    cust = frames["customers"].sample(max(1, int(2000 * scale)), random_state=seed).copy()
    cust["goal_status"] = "in_progress"
    cust["goal_completed_at"] = pd.NaT
    cust["updated_at"] = times(len(cust)).to_numpy()
    out["customers"] = cust
    for record, per_day, prefix in (("sessions", 3000, "sn"), ("bookings", 4000, "bn"), ("inbound_calls", 500, "cn")):
        base = frames[record]
        n = max(3, int(per_day * scale))
        new = base.sample(n, replace=True, random_state=seed).reset_index(drop=True)
        key = RECORDS[record].key[0]
        new[key] = [f"{prefix}{seed:03d}{i:07d}" for i in range(n)]
        shift = times(n) - new[RECORDS[record].watermark]  # move every time of the row together
        for col in [f.name for f in RECORDS[record].fields if f.kind == "datetime"]:
            new[col] = new[col] + shift
        out[record] = new
    return out
