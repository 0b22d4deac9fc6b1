"""Read side of intervention effectiveness: loads the contacts of the window and what matching needs,
then domain.customers.effectiveness compares contacted with comparable customers (cached per day's
health scores: the outcomes only move when scores, churn or contacts do)."""
from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy import select
from sqlalchemy.engine import Engine

from domain.customers.effectiveness import OUTCOME_DAYS, matched_pairs, summarize, window_start
from models.bulk import read_columns, text_times
from models.derived import ContactLog, CustomerTask, HealthScoreHistory
from models.source import Customer, TutorSession
from read.cache import cached_read


@cached_read(topic="health")
def intervention_effect(engine: Engine, at: datetime, agent: str | None = None, days: int = 120) -> pd.DataFrame:
    """domain.customers.effectiveness.EFFECT_COLUMNS for the contacts of the last `days` days
    (one agent's with `agent`), by channel and outcome. `at` is rounded by callers to the hour."""
    since = window_start(at, days)
    with engine.connect() as conn:
        stmt = select(ContactLog.customer_id, ContactLog.channel, ContactLog.outcome, ContactLog.user_email,
                      *text_times(conn, [ContactLog.contacted_at])).where(ContactLog.contacted_at >= since)
        contacts = read_columns(conn, stmt, ["contacted_at"])
        if contacts.empty:
            return summarize(contacts)
        mine = contacts if agent is None else contacts[contacts["user_email"] == agent]
        days_needed = sorted({d.date() for d in pd.to_datetime(mine["contacted_at"]).dt.normalize()})
        if not days_needed:
            return summarize(mine.iloc[0:0])
        history = read_columns(conn, select(HealthScoreHistory.customer_id, HealthScoreHistory.day,
                                            HealthScoreHistory.score).where(HealthScoreHistory.day.in_(days_needed)),
                               ["day"])
        tasks = read_columns(conn, select(CustomerTask.customer_id, CustomerTask.trigger,
                                          *text_times(conn, [CustomerTask.opened_at, CustomerTask.done_at])),
                             ["opened_at", "done_at"])
        customers = read_columns(conn, select(Customer.customer_id, *text_times(conn, [Customer.churned_at])),
                                 ["churned_at"])
        sessions = read_columns(conn, select(TutorSession.customer_id, *text_times(conn, [TutorSession.start_time]))
                                .where(TutorSession.status == "completed", TutorSession.start_time >= since),
                                ["start_time"])
    # every contact counts against "not yet contacted"; only the agent's are the treated ones
    pairs = matched_pairs(contacts, history, tasks, customers, sessions, at)
    if agent is not None:
        pairs = pairs[pairs["user_email"] == agent]
    return summarize(pairs)


__all__ = ["intervention_effect", "OUTCOME_DAYS"]
