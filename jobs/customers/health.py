"""The health scoring job (issue 5): score every customer, keep a daily history, raise the seven triggers.

Each run, as of ``ctx.at``:

1. loads customers, their sessions and bookings known at ``at`` and the inbound calls of the last 30
   days (the only ones the score and the triggers read), needed columns only;
2. ``domain.customers.health.score_health`` (weights and thresholds from ``settings.health_weights``) and
   ``domain.customers.triggers.evaluate_triggers``, computed as ``score_prepared`` and ``triggers_from_facts`` on one
   shared ``prepare``/``trigger_facts`` (the same results, the common half done once);
3. replaces ``health_scores`` (keeping ``churn_probability`` that the churn job wrote) and upserts
   today's row per customer into ``health_score_history`` (one per customer per day: a rerun
   the same day overwrites it);
4. turns the triggers into customer tasks (``writes.tasks.update_worklist``): one open task per
   customer and trigger, owned by a CS agent, done when the condition clears; tasks waiting for a
   follow-up reopen then if it still holds. They are the CS worklist ("My queue"), not alerts: the
   trigger alerts earlier versions raised (rules ``trigger.<name>``) are resolved by the first run;
5. bumps the data version topic ``health`` so open pages redraw.
"""
from __future__ import annotations

import time
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Iterator

import pandas as pd
from sqlalchemy import delete, select
from sqlalchemy.engine import Connection

from models.bulk import bulk_insert, read_columns, text_times, upsert_staged
from models.derived import HealthScore, HealthScoreHistory
from models.source import Booking, Customer, InboundCall, TutorSession
from writes.alerts import sync_alerts
from writes.tasks import update_worklist
from domain.customers.health import HEALTH_COLUMNS, score_prepared
from domain.customers.health_config import parse_health_config
from jobs.context import JobContext
from infra.versions import bump_version
from domain.customers.triggers import prepare, trigger_facts, triggers_from_facts

TOPIC = "health"
CALL_DAYS = 30  # the calls component looks back 30 days, calls_14d 14
def load_inputs(conn: Connection, at: datetime) -> dict[str, pd.DataFrame]:
    """The score's inputs known at ``at``: customers, completed and no-show sessions (start_time <= at),
    inbound_calls of the last CALL_DAYS days, bookings created by ``at`` for a session after it.
    Contract column names, only the columns the score and the triggers read."""
    c, s, k, b = Customer, TutorSession, InboundCall, Booking
    customers = read_columns(
        conn, select(c.customer_id, c.acquisition_channel, c.segment, c.region, c.goal, c.goal_status, c.status,
                     *text_times(conn, [c.signup_date, c.goal_completed_at, c.churned_at])),
        ["signup_date", "goal_completed_at", "churned_at"])
    # cancelled sessions count for nothing in the score or the triggers (only completed and no-show do)
    sessions = read_columns(
        conn, select(s.session_id, s.customer_id, s.tutor_id, s.subject, s.rating, s.status,
                     *text_times(conn, [s.start_time]))
        .where(s.start_time <= at, s.status.in_(["completed", "no_show"])), ["start_time"])
    sessions["rating"] = pd.to_numeric(sessions["rating"], errors="coerce")
    calls = read_columns(
        conn, select(k.customer_id, k.reason_code, *text_times(conn, [k.call_date]))
        .where(k.call_date > at - timedelta(days=CALL_DAYS), k.call_date <= at), ["call_date"])
    bookings = read_columns(
        conn, select(b.customer_id, b.tutor_id, b.subject, b.status, *text_times(conn, [b.scheduled_time, b.created_at]))
        .where(b.scheduled_time > at, b.created_at <= at), ["scheduled_time", "created_at"])
    return {"customers": customers, "sessions": sessions, "inbound_calls": calls, "bookings": bookings}


def _keep_churn(conn: Connection, scores: pd.DataFrame) -> pd.DataFrame:
    """Carry churn_probability over from the rows being replaced (the churn job owns that column)."""
    t = HealthScore.__table__
    kept = conn.execute(select(t.c.customer_id, t.c.churn_probability).where(t.c.churn_probability.is_not(None))).all()
    if kept:
        probability = dict(kept)
        scores["churn_probability"] = scores["customer_id"].map(probability).astype(float)
    return scores


def write_history(conn: Connection, scores: pd.DataFrame, day) -> int:
    """Upsert (customer_id, day) -> score, tier: one row per customer per day, the day's last run wins."""
    if scores.empty:
        return 0
    rows = pd.DataFrame({"customer_id": scores["customer_id"], "day": pd.Timestamp(day), "score": scores["score"],
                         "tier": scores["tier"]})
    return upsert_staged(conn, HealthScoreHistory.__table__, rows, ["customer_id", "day"])


def vacuum_scores(engine) -> None:
    """PostgreSQL: replacing every row leaves as many dead ones; without a vacuum the grid's counts and
    scans walk them all until autovacuum comes by (a 50,000-row table read as 150,000 after two runs)."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql(f"VACUUM (ANALYZE) {HealthScore.__tablename__}")  # our own table name


class _Timer:
    """Wall and CPU seconds per step (the CPU figure stays meaningful on a busy shared machine)."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        wall, cpu = time.perf_counter(), time.process_time()
        yield
        self.timings[f"{name}_s"] = round(time.perf_counter() - wall, 3)
        self.timings[f"{name}_cpu_s"] = round(time.process_time() - cpu, 3)


def run(ctx: JobContext) -> dict:
    at, engine = ctx.at, ctx.engine
    config = parse_health_config(ctx.settings.health_weights)
    timer = _Timer()
    with timer.step("load"), engine.connect() as conn:
        inputs = load_inputs(conn, at)
    with timer.step("score"):
        # score_health and evaluate_triggers, sharing one cut of the inputs and one set of trigger facts
        prep = prepare(inputs["customers"], inputs["sessions"], inputs["inbound_calls"], at, inputs["bookings"])
        facts = trigger_facts(prep)
        scores = score_prepared(prep, facts, config)
        triggers = triggers_from_facts(facts, prep.at)
    # one transaction: pages read the previous scores until the new ones are complete
    with timer.step("write"), engine.begin() as conn:
        scores = _keep_churn(conn, scores)
        conn.execute(delete(HealthScore.__table__))
        bulk_insert(conn, HealthScore.__table__, scores[HEALTH_COLUMNS])
        history = write_history(conn, scores, pd.Timestamp(at).date())
        bump_version(conn, TOPIC)
    if engine.dialect.name == "postgresql":
        with timer.step("vacuum"):
            vacuum_scores(engine)
    with timer.step("worklist"):
        worklist = update_worklist(engine, triggers[["customer_id", "trigger", "why"]], at)
        retired = sync_alerts(engine, "trigger.", [], at, rule_prefix=True)["resolved"]
    return {
        "at": at.isoformat(), "customers_scored": len(scores), "history_rows": history,
        "tiers": {str(k): int(v) for k, v in scores["tier"].value_counts().items()},
        "triggers": {str(k): int(v) for k, v in triggers["trigger"].value_counts().items()},
        "worklist": worklist, "trigger_alerts_retired": retired, "timings": timer.timings,
    }
