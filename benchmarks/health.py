"""Time score_health and evaluate_triggers at 50,000 customers (and 500,000 with --scale 10).

    .venv/bin/python benchmarks/health.py [--scale 10] [--source numpy|simulation] [--repeat 3]

Goal (DESIGN.md): both together < 5 s at 50,000 customers / ~540k sessions / ~90k calls on 2 cores,
< 60 s at 500,000. Inputs are built with seeded numpy (the default) or, with --source simulation,
by sources.simulation.generate (as of the end of its history). Prints numbers; asserts nothing.
"""
from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from domain.contract import CALL_REASONS, CHANNELS, SEGMENTS, SUBJECTS, US_STATES  # noqa: E402
from domain.customers.health import score_health  # noqa: E402
from domain.customers.triggers import evaluate_triggers  # noqa: E402

AT = datetime(2024, 7, 1, 12, 0)
DAY = np.timedelta64(1, "D")


def numpy_frames(customers: int, days: int = 180, seed: int = 42) -> dict[str, pd.DataFrame]:
    """Contract frames with about 10.8 sessions, 1.8 calls and 1 upcoming booking per customer."""
    rng = np.random.default_rng(seed)
    at = np.datetime64(AT, "ns")
    start = at - days * DAY
    n = customers
    cid = np.char.add("c", np.arange(n).astype(str)).astype(object)
    signup = (start + rng.integers(0, days, n) * DAY).astype("datetime64[D]")
    churned = rng.random(n) < 0.15
    churned_at = np.where(churned, signup + rng.integers(10, days, n) * DAY, np.datetime64("NaT"))
    goal_status = rng.choice(["none", "in_progress", "completed"], n, p=[0.2, 0.65, 0.15])
    cust = pd.DataFrame({
        "customer_id": cid, "signup_date": signup.astype("datetime64[ns]"),
        "acquisition_channel": rng.choice(CHANNELS, n), "segment": rng.choice(SEGMENTS, n),
        "region": rng.choice(US_STATES, n), "goal": "goal", "goal_status": goal_status,
        "goal_completed_at": np.where(goal_status == "completed", at - rng.integers(0, 60, n) * DAY,
                                      np.datetime64("NaT")),
        "status": np.where(churned & (churned_at <= at), "churned", "active"), "churned_at": churned_at,
        "updated_at": at,
    })
    rate = rng.gamma(2.0, 0.6, n)  # sessions per week, skewed
    per = rng.poisson(rate * np.minimum((at - signup.astype("datetime64[ns]")) / DAY, days) / 7)
    per = (per * (10.8 * n / max(per.sum(), 1))).astype(int)
    owner = np.repeat(np.arange(n), per)
    m = len(owner)
    age_ns = (at - signup.astype("datetime64[ns]")[owner]).astype("int64")
    st = signup.astype("datetime64[ns]")[owner] + (rng.random(m) * age_ns).astype("int64").astype("timedelta64[ns]")
    st = st + rng.integers(0, 45 * 86400, m).astype("timedelta64[s]")  # a few land after AT: must be ignored
    tutors = np.char.add("t", rng.integers(0, 5000, n).astype(str)).astype(object)
    other = np.char.add("t", rng.integers(0, 5000, m).astype(str)).astype(object)
    sess = pd.DataFrame({
        "session_id": np.char.add("s", np.arange(m).astype(str)).astype(object), "customer_id": cid[owner],
        "tutor_id": np.where(rng.random(m) < 0.8, tutors[owner], other), "subject": rng.choice(SUBJECTS, m),
        "start_time": st, "end_time": st + np.timedelta64(1, "h"),
        "rating": np.where(rng.random(m) < 0.7, rng.integers(1, 6, m).astype(float), np.nan),
        "status": rng.choice(["completed", "cancelled", "no_show"], m, p=[0.85, 0.1, 0.05]), "updated_at": st,
    })
    k = int(1.8 * n)
    kc = rng.integers(0, n, k)
    calls = pd.DataFrame({
        "call_id": np.char.add("k", np.arange(k).astype(str)).astype(object), "customer_id": cid[kc],
        "call_date": at - (rng.random(k) * days * 86400).astype("int64").astype("timedelta64[s]"),
        "duration_s": rng.integers(30, 1800, k), "reason_code": rng.choice(CALL_REASONS, k),
    })
    bc = rng.integers(0, n, n)
    when = at + rng.integers(1, 14 * 24, n).astype("timedelta64[h]")
    book = pd.DataFrame({
        "booking_id": np.char.add("b", np.arange(n).astype(str)).astype(object), "customer_id": cid[bc],
        "tutor_id": tutors[bc], "subject": rng.choice(SUBJECTS, n), "scheduled_time": when,
        "created_at": at - rng.integers(1, 96, n).astype("timedelta64[h]"), "status": "scheduled",
        "rescheduled_by": None, "updated_at": at,
    })
    return {"customers": cust, "sessions": sess, "inbound_calls": calls, "bookings": book}


def simulation_frames(customers: int, days: int = 180, seed: int = 42) -> tuple[dict[str, pd.DataFrame], datetime]:
    """The project's generator (sources.simulation), scored as of the end of its history."""
    from sources.simulation import generate
    mp = generate(customers=customers, days=days, seed=seed)
    return mp.frames, mp.end


def timed(fn, repeat: int) -> tuple[float, float, object]:
    """Best wall-clock and best CPU seconds over `repeat` runs (CPU time is what an idle core would
    need; on a shared machine wall time includes waiting for the CPU)."""
    wall, cpu, out = float("inf"), float("inf"), None
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        wall, cpu = min(wall, time.perf_counter() - w0), min(cpu, time.process_time() - c0)
    return wall, cpu, out


def run(customers: int, source: str, repeat: int, at: datetime | None) -> None:
    t0 = time.perf_counter()
    if source == "simulation":
        frames, end = simulation_frames(customers)
    else:
        frames, end = numpy_frames(customers), AT
    when = at or end
    print(f"{customers:,} customers, {len(frames['sessions']):,} sessions, {len(frames['inbound_calls']):,} calls, "
          f"{len(frames.get('bookings', [])):,} bookings (built in {time.perf_counter() - t0:.1f} s, as of {when})")
    args = (frames["customers"], frames["sessions"], frames["inbound_calls"], when)
    w_score, c_score, scores = timed(lambda: score_health(*args, bookings=frames.get("bookings")), repeat)
    w_trig, c_trig, trig = timed(lambda: evaluate_triggers(*args), repeat)
    goal = "< 5" if customers <= 50_000 else "< 60"
    print(f"  score_health       {w_score:6.2f} s wall  {c_score:6.2f} s CPU  ({len(scores):,} rows)")
    print(f"  evaluate_triggers  {w_trig:6.2f} s wall  {c_trig:6.2f} s CPU  ({len(trig):,} rows)")
    print(f"  total              {w_score + w_trig:6.2f} s wall  {c_score + c_trig:6.2f} s CPU  (goal {goal} s)")
    print("  tiers:", scores["tier"].value_counts().to_dict())
    print("  triggers:", trig["trigger"].value_counts().to_dict())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--customers", type=int, default=50_000)
    p.add_argument("--scale", type=int, default=1, help="also run at customers x scale (e.g. 10 for 500,000)")
    p.add_argument("--source", choices=["numpy", "simulation"], default="numpy")
    p.add_argument("--repeat", type=int, default=1, help="report the best of N runs")
    p.add_argument("--at", type=datetime.fromisoformat, default=None)
    a = p.parse_args()
    run(a.customers, a.source, a.repeat, a.at)
    if a.scale > 1:
        run(a.customers * a.scale, a.source, 1, a.at)


if __name__ == "__main__":
    main()
