"""Read side of one customer (the detail page and the API): the source record, score, components,
triggers with their tasks, owner and outreach, history, sessions, calls, contacts. No Dash, no Flask.

Personal data (name, email, phone) is in the record only when the caller says the viewer may see it
and the store has it (loaders.worklist.contact_columns)."""
from __future__ import annotations

import json

import pandas as pd
from sqlalchemy import select
from sqlalchemy.engine import Engine

from domain.customers.health_config import COMPONENT_LABELS, COMPONENTS
from domain.customers.triggers import TRIGGERS
from loaders.worklist import CONTACT_FIELDS, contact_columns
from models.derived import ContactLog, CustomerTask, CustomerWork, HealthScore, HealthScoreHistory
from models.source import Customer, InboundCall, TutorSession

T = HealthScore.__table__
RECORD_COLUMNS = [c.name for c in Customer.__table__.columns if c.name not in CONTACT_FIELDS + ("row_hash",)]


def _frame(conn, stmt) -> pd.DataFrame:
    result = conn.execute(stmt)
    return pd.DataFrame(result.all(), columns=list(result.keys()))


def customer_detail(engine: Engine, customer_id: str, personal: bool = False) -> dict | None:
    """Everything the detail page and the API show about one customer; None when unknown.

    Keys: customer (source record or None; name, email, phone with `personal`), score (health_scores
    row or None), components (per component: label, score, weight, facts, why), triggers ([{name,
    severity, rule, why, intervention, task_status}] firing at the last scoring), work (owner, last
    contact, next follow-up; {} when none), tasks, history, sessions, calls, contacts (DataFrames,
    oldest first for history and sessions, newest first for calls and contacts)."""
    cid = str(customer_id)
    fields = contact_columns(engine) if personal else ()
    c = Customer.__table__
    with engine.connect() as conn:
        cust = conn.execute(select(*(c.c[k] for k in RECORD_COLUMNS + list(fields)))
                            .where(c.c.customer_id == cid)).first()
        score = conn.execute(select(T).where(T.c.customer_id == cid)).first()
        if cust is None and score is None:
            return None
        history = _frame(conn, select(HealthScoreHistory.day, HealthScoreHistory.score, HealthScoreHistory.tier)
                         .where(HealthScoreHistory.customer_id == cid).order_by(HealthScoreHistory.day))
        sessions = _frame(conn, select(TutorSession.session_id, TutorSession.start_time, TutorSession.tutor_id,
                                       TutorSession.subject, TutorSession.status, TutorSession.rating)
                          .where(TutorSession.customer_id == cid).order_by(TutorSession.start_time))
        calls = _frame(conn, select(InboundCall.call_id, InboundCall.call_date, InboundCall.duration_s,
                                    InboundCall.reason_code)
                       .where(InboundCall.customer_id == cid).order_by(InboundCall.call_date.desc()))
        contacts = _frame(conn, select(ContactLog.id, ContactLog.contacted_at, ContactLog.user_email, ContactLog.channel,
                                       ContactLog.outcome, ContactLog.note, ContactLog.follow_up_at)
                          .where(ContactLog.customer_id == cid).order_by(ContactLog.contacted_at.desc(),
                                                                         ContactLog.id.desc()))
        tasks = _frame(conn, select(CustomerTask.id, CustomerTask.trigger, CustomerTask.priority, CustomerTask.status,
                                    CustomerTask.why, CustomerTask.opened_at, CustomerTask.due_at,
                                    CustomerTask.waiting_until)
                       .where(CustomerTask.customer_id == cid, CustomerTask.status != "done")
                       .order_by(CustomerTask.priority, CustomerTask.id))
        work = conn.execute(select(CustomerWork.__table__).where(CustomerWork.customer_id == cid)).first()
    sessions["rating"] = pd.to_numeric(sessions["rating"], errors="coerce")
    score = dict(score._mapping) if score is not None else None
    return {
        "customer_id": cid, "customer": dict(cust._mapping) if cust is not None else None, "score": score,
        "components": components(score), "triggers": fired_triggers(score, tasks), "tasks": tasks,
        "work": dict(work._mapping) if work is not None else {},
        "history": history, "sessions": sessions, "calls": calls, "contacts": contacts,
    }


def components(score: dict | None) -> dict[str, dict]:
    """Per component (COMPONENTS order): label, score, weight, facts, why, from the stored explanation."""
    if not score or not score.get("explanation"):
        return {}
    try:
        parsed = json.loads(score["explanation"])
    except ValueError:
        return {}
    return {k: {"label": COMPONENT_LABELS[k], **parsed[k]} for k in COMPONENTS if k in parsed}


def fired_triggers(score: dict | None, tasks: pd.DataFrame) -> list[dict]:
    """The contract triggers firing at the last scoring, with the why and state of their task."""
    names = [t for t in (score or {}).get("triggers", "").split(",") if t in TRIGGERS] if score else []
    by_trigger = {r.trigger: r for r in tasks.itertuples()} if len(tasks) else {}
    out = []
    for name in names:
        task, trig = by_trigger.get(name), TRIGGERS[name]
        out.append({"name": name, "severity": trig.severity, "rule": trig.rule,
                    "why": (task.why if task is not None and task.why else trig.rule),
                    "intervention": trig.intervention, "task_status": task.status if task is not None else None})
    return out
