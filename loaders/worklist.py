"""Store reads of the CS worklist shared by the queue page (read/queue.py) and the morning email job:
an agent's queue, and the customers' contact details when the store has them.

The contact columns (name, email, phone) are optional in the contract and arrive with a migration of
their own; `contact_columns` asks the store which of them exist so that pages degrade to ids alone.
"""
from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy import and_, inspect, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from models.bulk import read_columns, text_times
from models.derived import ChurnPrediction, CustomerTask, CustomerWork, HealthScore
from models.source import Customer

CONTACT_FIELDS = ("name", "email", "phone")
QUEUE_COLUMNS = ["customer_id", "name", "phone", "email", "priority", "tasks", "why", "due_at", "overdue", "score",
                 "tier", "intervention", "churn_probability", "revenue_at_risk", "last_contacted_at", "segment"]
_known: dict[str, tuple[str, ...]] = {}


def contact_columns(engine: Engine) -> tuple[str, ...]:
    """The contact fields the store's customers table has (asked once per store)."""
    key = str(engine.url)
    if key not in _known:
        have = {c["name"] for c in inspect(engine).get_columns("customers")}
        found = tuple(f for f in CONTACT_FIELDS if f in have and hasattr(Customer, f))
        if len(found) < len(CONTACT_FIELDS):
            return found  # not remembered: the migration may come while the app runs
        _known[key] = found
    return _known[key]


def contacts(engine: Engine, customer_ids: list[str]) -> pd.DataFrame:
    """customer_id + the contact fields the store has, for these customers (None where unknown)."""
    fields = contact_columns(engine)
    out = pd.DataFrame({"customer_id": pd.Series(customer_ids, dtype=object)})
    if fields and customer_ids:
        rows = []
        with engine.connect() as conn:
            for start in range(0, len(customer_ids), 900):
                chunk = customer_ids[start:start + 900]
                rows += map(tuple, conn.execute(select(Customer.customer_id, *(getattr(Customer, f) for f in fields))
                                                .where(Customer.customer_id.in_(chunk))))  # tuples: pandas probes Rows slowly
        out = out.merge(pd.DataFrame(rows, columns=["customer_id", *fields]), on="customer_id", how="left")
    for f in CONTACT_FIELDS:
        if f not in out:
            out[f] = None
    return out.astype(object).where(out.notna(), None)


def revenue_at_risk(engine: Engine) -> pd.Series:
    """customer_id -> revenue at risk (the churn job's, when it writes one), else the churn probability."""
    column = getattr(ChurnPrediction, "revenue_at_risk", None)
    if column is not None:
        try:
            with engine.connect() as conn:
                rows = conn.execute(select(ChurnPrediction.customer_id, column)).tuples().all()
            return pd.Series(dict(rows), dtype=float)
        except DBAPIError:
            pass  # the column is not in this store yet
    with engine.connect() as conn:
        rows = conn.execute(select(HealthScore.customer_id, HealthScore.churn_probability)).tuples().all()
    return pd.Series(dict(rows), dtype=float)


def due_condition(at: datetime):
    """A task is in the queue when open, or waiting with its follow-up come (before the job reopens it)."""
    t = CustomerTask
    return or_(t.status == "open", and_(t.status == "waiting", t.waiting_until <= at))


def queue_frame(engine: Engine, owner: str | None, at: datetime, revenue: pd.Series | None = None,
                limit: int | None = None) -> pd.DataFrame:
    """The customers `owner` (None: nobody, the unassigned) should work now, most urgent first.

    One row per customer (QUEUE_COLUMNS): its most urgent task's priority and why, every due task's
    trigger (`tasks`), the earliest due date; ordered by priority, then revenue at risk (`revenue`:
    customer_id -> amount; the churn probability without it), then score. With `limit`, only the first
    `limit` customers (their tasks and contact details are then read for those alone)."""
    t, w, h = CustomerTask, CustomerWork, HealthScore
    owned = w.owner_email == owner if owner else w.owner_email.is_(None)
    with engine.connect() as conn:
        # the bulk read (times as stored text, parsed in one pass): pandas probing 50,000 Rows and the driver's
        # per-row datetimes took seconds
        due_at, contacted = text_times(conn, [t.due_at, w.last_contacted_at])
        stmt = (select(t.customer_id, t.trigger, t.priority, t.why, due_at, h.score, h.tier, h.intervention,
                       h.churn_probability, h.segment, contacted)
                .join(w, w.customer_id == t.customer_id).outerjoin(h, h.customer_id == t.customer_id)
                .where(owned, due_condition(at)))
        tasks = read_columns(conn, stmt, ["due_at", "last_contacted_at"])
    tasks = tasks.astype({"priority": "int64", "score": "float64", "churn_probability": "float64"})
    if tasks.empty:
        return pd.DataFrame(columns=QUEUE_COLUMNS)
    tasks = tasks.sort_values(["customer_id", "priority", "due_at"], kind="stable")
    by_customer = tasks.groupby("customer_id", sort=False)
    out = by_customer.first().assign(due_at=by_customer["due_at"].min()).reset_index()
    out["due_at"] = pd.to_datetime(out["due_at"])
    out["overdue"] = out["due_at"] < pd.Timestamp(at)
    rev = out["customer_id"].map(revenue) if revenue is not None and len(revenue) else pd.Series(float("nan"), index=out.index)
    out["revenue_at_risk"] = pd.to_numeric(rev, errors="coerce")
    key = out["revenue_at_risk"].fillna(out["churn_probability"]).fillna(0)
    out = out.assign(_key=-key).sort_values(["priority", "_key", "score", "customer_id"], na_position="last")
    if limit is not None:
        out = out.head(limit)
        tasks = tasks[tasks["customer_id"].isin(out["customer_id"])]
    # every due task's trigger, most urgent first: a grouped sum of "trigger," strings (a join per group took seconds)
    listed = (tasks["trigger"].astype(str) + ",").groupby(tasks["customer_id"], sort=False).sum().str[:-1]
    out["tasks"] = out["customer_id"].map(listed)
    out = out.merge(contacts(engine, out["customer_id"].tolist()), on="customer_id", how="left")
    return out[QUEUE_COLUMNS].reset_index(drop=True)
