"""Read side of the CS worklist: an agent's queue, counts, owners and agents (no Dash, no Flask)."""
from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from loaders.worklist import due_condition, queue_frame, revenue_at_risk
from models.derived import CustomerTask, CustomerWork
from models.ops import User
from read.cache import cached_read


def my_queue(engine: Engine, owner: str | None, at: datetime, limit: int | None = None) -> pd.DataFrame:
    """The customers `owner` works now, most urgent first (loaders.worklist.QUEUE_COLUMNS); the first `limit`."""
    return queue_frame(engine, owner, at, _revenue(engine), limit)


@cached_read
def queue_view(engine: Engine, owner: str | None, minute: datetime, limit: int) -> tuple[pd.DataFrame, dict[str, int]]:
    """`my_queue` (the first `limit`) and `queue_counts` as of `minute` (the page passes now to the minute), cached
    per data version: a contact logged, a task reopened or a new scoring changes the version and the queue."""
    return my_queue(engine, owner, minute, limit), queue_counts(engine, owner, minute)


@cached_read
def _revenue(engine: Engine) -> pd.Series:
    """customer_id -> revenue at risk (50,000 rows at the seed's volume: read once per data version)."""
    return revenue_at_risk(engine)


def queue_counts(engine: Engine, owner: str | None, at: datetime) -> dict[str, int]:
    """due: customers with a task to do now; waiting: customers contacted, waiting for their follow-up."""
    t, w = CustomerTask, CustomerWork
    owned = w.owner_email == owner if owner else w.owner_email.is_(None)
    with engine.connect() as conn:
        due = conn.execute(select(func.count(func.distinct(t.customer_id))).join(w, w.customer_id == t.customer_id)
                           .where(owned, due_condition(at))).scalar() or 0
        waiting = conn.execute(select(func.count()).select_from(w).where(
            owned, w.waiting_tasks > 0, w.next_follow_up_at > at)).scalar() or 0
    return {"due": int(due), "waiting": int(waiting)}


def open_task_count(engine: Engine, at: datetime) -> int:
    """Customers with a task to do now, whoever owns them (the alert centre's link to the worklist)."""
    with engine.connect() as conn:
        return int(conn.execute(select(func.count(func.distinct(CustomerTask.customer_id)))
                                .where(due_condition(at))).scalar() or 0)


def agents(engine: Engine) -> list[str]:
    """Active customer-success agents (owners to choose from)."""
    with engine.connect() as conn:
        return sorted(conn.execute(select(User.email).where(User.role == "cs", User.active.is_(True))).scalars())


def work_of(engine: Engine, customer_id: str) -> dict:
    """The customer's owner, last contact, next follow-up and task counts ({} when none)."""
    w = CustomerWork.__table__
    with engine.connect() as conn:
        row = conn.execute(select(w).where(w.c.customer_id == str(customer_id))).first()
    return dict(row._mapping) if row else {}


def tasks_of(engine: Engine, customer_id: str) -> pd.DataFrame:
    """The customer's tasks, open and waiting first, then the 20 newest done."""
    t = CustomerTask.__table__
    with engine.connect() as conn:
        result = conn.execute(select(t.c.id, t.c.trigger, t.c.priority, t.c.status, t.c.why, t.c.opened_at,
                                     t.c.due_at, t.c.waiting_until, t.c.done_at, t.c.done_reason)
                              .where(t.c.customer_id == str(customer_id)).order_by(t.c.id.desc()).limit(60))
        df = pd.DataFrame(result.all(), columns=list(result.keys()))
    order = df["status"].map({"open": 0, "waiting": 1, "done": 2}) if len(df) else df.get("status")
    if len(df):
        df = df.assign(_o=order).sort_values(["_o", "priority"], kind="stable").drop(columns="_o")
        df = pd.concat([df[df["status"] != "done"], df[df["status"] == "done"].head(20)])
    return df.reset_index(drop=True)
