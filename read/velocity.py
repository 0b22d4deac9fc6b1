"""Read side of the velocity & cohorts page: domain.customers.velocity on the store's customers and sessions.

The six views cost one to three seconds of CPU at 50,000 customers (loading half a million sessions
included), so `velocity_page` is cached per benchmark and keyed by the `health` data version: it is
recomputed once after each scoring run (every SCORE_INTERVAL_S), as of that run's time, so the page
and the customer scores describe the same moment; the first visit after a run pays for it.
"""
from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from models.bulk import read_columns, text_times
from models.derived import HealthScore
from models.source import Customer, TutorSession
from domain.customers import velocity as v
from read.cache import cached_read
from infra.clock import utcnow

BENCHMARK_RANGE = (0.25, 10.0)  # sessions/week a benchmark may take
COHORT_WEEKS = 12
COHORT_MONTHS = 6
TREND_WEEKS = 26


def check_benchmark(value) -> float:
    """A benchmark in sessions/week from user input; ValueError with a message when it is not usable."""
    lo, hi = BENCHMARK_RANGE
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"The benchmark must be a number of sessions per week between {lo:g} and {hi:g}.") from None
    if not lo <= number <= hi:
        raise ValueError(f"The benchmark must be between {lo:g} and {hi:g} sessions per week.")
    return round(number, 2)


def as_of(engine: Engine) -> datetime:
    """The time of the last scoring run (the page describes the same moment), or now when none ran."""
    with engine.connect() as conn:
        at = conn.execute(select(func.max(HealthScore.computed_at))).scalar()
    return pd.Timestamp(at).to_pydatetime() if at is not None else utcnow()


def load_frames(engine: Engine, at: datetime) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Customers (customer_id, signup_date, status, churned_at) and completed sessions up to `at`."""
    c, s = Customer, TutorSession
    with engine.connect() as conn:
        customers = read_columns(conn, select(c.customer_id, c.status, *text_times(conn, [c.signup_date, c.churned_at])),
                                 ["signup_date", "churned_at"])
        sessions = read_columns(conn, select(s.customer_id, s.status, *text_times(conn, [s.start_time]))
                                .where(s.status == "completed", s.start_time <= at), ["start_time"])
    return customers, sessions


@cached_read(topic="health")
def velocity_page(engine: Engine, benchmark: float = v.DEFAULT_BENCHMARK) -> dict:
    """Everything the page draws, as of the last scoring run.

    Keys: at, benchmark, customers (eligible now), median_velocity, share_at_benchmark (now), horizon
    (cohort views show signup months from here: the first whole month within the last COHORT_MONTHS and
    after the store's first session), and DataFrames cohorts (cohort_table, monthly cohorts, 12 weeks),
    nth (time_to_nth_session for the 2nd and 3rd session, per cohort), tiers (velocity_tiers with 30-day
    churn rate), retention (retention_curves, active), histogram (frequency_histogram, 28 days), trend
    (velocity_trend, 26 weeks).
    """
    at = as_of(engine)
    customers, sessions = load_frames(engine, at)
    now = v.velocity(customers, sessions, at)
    # Cohort views: the signup months that start within the last COHORT_MONTHS and after the store's
    # first session (earlier cohorts would look as if their early sessions never happened).
    first = sessions["start_time"].min() if len(sessions) else pd.Timestamp(at)
    start = max(first, pd.Timestamp(at) - pd.DateOffset(months=COHORT_MONTHS)).normalize()
    horizon = start if start.day == 1 else (start + pd.offsets.MonthBegin(1))

    def recent(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.loc[frame["cohort"] >= horizon].reset_index(drop=True)
    return {
        "at": at, "benchmark": benchmark, "customers": len(now), "horizon": horizon,
        "median_velocity": float(now["velocity"].median()) if len(now) else None,
        "share_at_benchmark": float((now["velocity"] >= benchmark).mean()) if len(now) else None,
        "cohorts": recent(v.cohort_table(customers, sessions, at, weeks=COHORT_WEEKS, benchmark=benchmark)),
        "nth": recent(v.time_to_nth_session(customers, sessions, at, n=(2, 3))),
        "tiers": v.velocity_tiers(customers, sessions, at),
        "retention": recent(v.retention_curves(customers, sessions, at, weeks=COHORT_WEEKS)),
        "histogram": v.frequency_histogram(customers, sessions, at),
        "trend": v.velocity_trend(customers, sessions, at, weeks=TREND_WEEKS, benchmark=benchmark),
    }
