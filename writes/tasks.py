"""The CS worklist in the store: customer tasks from the triggers, owners, and the per-customer summary.

`update_worklist` is called by the scoring job (with the triggers it just evaluated) and by the
worklist job (every few minutes, so follow-ups that came due reopen and new agents get work). It
runs in one transaction: tasks are opened, refreshed, reopened or closed (domain.customers.worklist),
owners are kept or assigned (domain.customers.assignment) and `customer_work` is rewritten.
`reassign` is an owner change by hand; `wait_for_follow_up` is what logging a contact does to tasks.
"""
from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.engine import Connection, Engine

from auth.permissions import NotAllowed, can
from domain.customers.assignment import assign_owners
from domain.customers.triggers import TRIGGERS
from domain.customers.worklist import ACTIVE_STATES, plan_tasks
from infra.clock import utcnow
from infra.versions import bump_version
from models.bulk import bulk_insert, read_columns
from loaders.worklist import revenue_at_risk
from models.derived import CustomerTask, CustomerWork, HealthScore
from models.ops import User

TOPIC = "worklist"
WORK_COLUMNS = ["customer_id", "owner_email", "assigned_at", "assigned_by", "last_contacted_at",
                "next_follow_up_at", "open_tasks", "waiting_tasks"]


def firing_from_scores(conn: Connection) -> pd.DataFrame:
    """customer_id, trigger, why (None) for the triggers stored with the last scores."""
    rows = conn.execute(select(HealthScore.customer_id, HealthScore.triggers)
                        .where(HealthScore.triggers.is_not(None), HealthScore.triggers != "")).all()
    out = [(cid, t, None) for cid, names in rows for t in names.split(",") if t in TRIGGERS]
    return pd.DataFrame(out, columns=["customer_id", "trigger", "why"])


def active_agents(conn: Connection) -> list[str]:
    return sorted(conn.execute(select(User.email).where(User.role == "cs", User.active.is_(True))).scalars())


def update_worklist(engine: Engine, firing: pd.DataFrame | None = None, at: datetime | None = None,
                    by: str | None = None) -> dict[str, int]:
    """Tasks follow the triggers firing now (`firing`: customer_id, trigger, why; None: the stored
    scores' triggers), then every customer with an open or waiting task gets an owner."""
    at = at or utcnow()
    risk = revenue_at_risk(engine)
    t = CustomerTask.__table__
    with engine.begin() as conn:
        if firing is None:
            firing = firing_from_scores(conn)
        active = read_columns(conn, select(t.c.id, t.c.customer_id, t.c.trigger, t.c.status, t.c.waiting_until,
                                           t.c.why.label("stored_why"))
                              .where(t.c.status.in_(ACTIVE_STATES)), ["waiting_until"])
        plan = plan_tasks(active.drop(columns="stored_why"), firing, at)
        _write_plan(conn, plan, at, dict(zip(active["id"], active["stored_why"])))
        summary = {"opened": len(plan["new"]), "reopened": len(plan["reopen"]), "done": len(plan["cleared"])}
        summary.update(_rewrite_work(conn, risk, at, by))
        if any(summary.values()):
            bump_version(conn, TOPIC)
    return summary


def _write_plan(conn: Connection, plan: dict, at: datetime, stored_why: dict[int, str | None]) -> None:
    t = CustomerTask.__table__
    new = plan["new"]
    if len(new):
        why = new["why"].where(new["why"].notna(), new["trigger"].map(lambda n: TRIGGERS[n].rule))
        rows = pd.DataFrame({"customer_id": new["customer_id"], "trigger": new["trigger"], "priority": new["priority"],
                             "severity": new["severity"], "why": why, "status": "open", "opened_at": at,
                             "due_at": new["due_at"], "updated_at": at})
        bulk_insert(conn, t, rows)
    for ids, values in ((plan["reopen"], {"status": "open", "waiting_until": None, "updated_at": at}),
                        (plan["cleared"], {"status": "done", "done_at": at, "done_reason": "cleared",
                                           "updated_at": at})):
        for start in range(0, len(ids), 5000):
            conn.execute(update(t).where(t.c.id.in_(ids[start:start + 5000])).values(**values))
    # only the whys that changed, by primary key (an UPDATE ... FROM a staged table makes SQLite compare
    # every task with every staged row: 12 minutes at 50,000 customers)
    refresh = plan["refresh"].dropna(subset=["why"])
    changed = [{"task_id": int(i), "new_why": w} for i, w in zip(refresh["id"], refresh["why"]) if stored_why.get(i) != w]
    if changed:
        stmt = update(t).where(t.c.id == bindparam("task_id")).values(why=bindparam("new_why"))
        for start in range(0, len(changed), 5000):
            conn.execute(stmt, changed[start:start + 5000])


def _rewrite_work(conn: Connection, risk: pd.Series, at: datetime, by: str | None) -> dict[str, int]:
    """customer_work from the tasks: counts, next follow-up, owners kept or assigned, released when no
    task is left (a customer that no longer needs attention has no owner)."""
    t, w = CustomerTask.__table__, CustomerWork.__table__
    counts = read_columns(conn, select(t.c.customer_id, t.c.status, func.count().label("n"),
                                       func.min(t.c.priority).label("priority"),
                                       func.min(t.c.waiting_until).label("until"))
                          .where(t.c.status.in_(ACTIVE_STATES)).group_by(t.c.customer_id, t.c.status), ["until"])
    work = read_columns(conn, select(*(w.c[c] for c in WORK_COLUMNS)),
                        ["assigned_at", "last_contacted_at", "next_follow_up_at"])
    per = counts.pivot_table(index="customer_id", columns="status", values="n", aggfunc="sum", fill_value=0)
    per = per.reindex(columns=list(ACTIVE_STATES), fill_value=0)
    per["priority"] = counts.groupby("customer_id")["priority"].min()
    per["until"] = counts[counts["status"] == "waiting"].groupby("customer_id")["until"].min()
    needing = per.reset_index()
    needing["revenue_at_risk"] = needing["customer_id"].map(risk)
    owners = work[["customer_id", "owner_email"]].dropna()
    assigned = assign_owners(needing, owners, active_agents(conn), by=by)
    known = set(work["customer_id"])
    merged = work.set_index("customer_id").reindex(work["customer_id"].tolist()
                                                   + [c for c in needing["customer_id"] if c not in known])
    merged["open_tasks"] = per["open"].reindex(merged.index).fillna(0).astype(int)
    merged["waiting_tasks"] = per["waiting"].reindex(merged.index).fillna(0).astype(int)
    merged["next_follow_up_at"] = per["until"].reindex(merged.index)
    for col in ("assigned_at", "last_contacted_at", "next_follow_up_at"):  # microseconds: `at` has them
        merged[col] = pd.to_datetime(merged[col]).astype("datetime64[us]")
    owner = assigned.set_index("customer_id")
    new_owner = owner["owner_email"].reindex(merged.index)
    changed = new_owner.notna() & (new_owner != merged["owner_email"])
    merged.loc[changed, "assigned_at"] = at
    merged.loc[changed, "assigned_by"] = None
    released = new_owner.isna() & merged["owner_email"].notna()
    merged["owner_email"] = new_owner
    merged.loc[released, ["assigned_at", "assigned_by"]] = None
    # keep rows that still say something: an owner, tasks or a contact
    keep = merged["owner_email"].notna() | merged["last_contacted_at"].notna() | (merged["open_tasks"] > 0) \
        | (merged["waiting_tasks"] > 0)
    out = merged[keep].reset_index().rename(columns={"index": "customer_id"})[WORK_COLUMNS]
    out = out.astype({"owner_email": object, "assigned_by": object}).where(out.notna(), None)
    conn.execute(delete(w))
    bulk_insert(conn, w, out)
    return {"assigned": int(changed.sum()), "released": int(released.sum()),
            "unowned": int(needing["customer_id"].isin(assigned.loc[assigned["owner_email"].isna(), "customer_id"]).sum())}


def wait_for_follow_up(conn: Connection, customer_id: str, follow_up: datetime, contacted_at: datetime) -> int:
    """A contact was logged: the customer's open tasks wait until the follow-up; returns how many."""
    t, w = CustomerTask.__table__, CustomerWork.__table__
    moved = conn.execute(update(t).where(t.c.customer_id == customer_id, t.c.status.in_(ACTIVE_STATES))
                         .values(status="waiting", waiting_until=follow_up, updated_at=contacted_at)).rowcount
    values = {"last_contacted_at": contacted_at, "next_follow_up_at": follow_up, "open_tasks": 0}
    if moved:
        values["waiting_tasks"] = moved
    done = conn.execute(update(w).where(w.c.customer_id == customer_id).values(**values)).rowcount
    if not done:
        conn.execute(insert(w).values(customer_id=customer_id, **{"waiting_tasks": moved or 0, **values}))
    bump_version(conn, TOPIC)
    return moved or 0


def reassign(engine: Engine, customer_id: str, new_owner: str, by_email: str | None, by_role: str | None,
             at: datetime | None = None) -> str | None:
    """Hand a customer to another active CS agent (admin, ops, or its current owner); returns the old owner.
    NotAllowed when the role may not; ValueError with a message for a bad target."""
    at = at or utcnow()
    w = CustomerWork.__table__
    new_owner = (new_owner or "").strip().lower()
    with engine.begin() as conn:
        row = conn.execute(select(w.c.owner_email).where(w.c.customer_id == str(customer_id))).first()
        old = row.owner_email if row else None
        # who works customers (contact.log) may reassign; an agent only the customers it owns
        if not can(by_role, "contact.log") or (by_role not in ("admin", "ops") and old != by_email):
            raise NotAllowed("Only admin and ops users, or the customer's owner, may reassign a customer.")
        if new_owner not in active_agents(conn):
            raise ValueError("Choose an active customer-success agent.")
        if new_owner == old:
            return old
        values = {"owner_email": new_owner, "assigned_at": at, "assigned_by": by_email}
        if row is None:
            conn.execute(insert(w).values(customer_id=str(customer_id), **values))
        else:
            conn.execute(update(w).where(w.c.customer_id == str(customer_id)).values(**values))
        bump_version(conn, TOPIC)
    return old
