"""The audit log: who did what, when. Every user action and every refused login lands here."""
from __future__ import annotations

import json

from sqlalchemy import func, insert, select
from sqlalchemy.engine import Engine

from models.ops import AuditLog
from infra.clock import utcnow


def record(engine: Engine, action: str, user_email: str | None = None, entity: str | None = None,
           entity_id: str | None = None, detail: dict | None = None) -> None:
    with engine.begin() as conn:
        conn.execute(insert(AuditLog).values(at=utcnow(), user_email=user_email, action=action, entity=entity,
                                             entity_id=None if entity_id is None else str(entity_id),
                                             detail=json.dumps(detail, default=str) if detail else None))


def recent_count(engine: Engine, action: str, since, user_email: str | None = None, entity_id: str | None = None) -> int:
    stmt = select(func.count()).select_from(AuditLog).where(AuditLog.action == action, AuditLog.at >= since)
    if user_email is not None:
        stmt = stmt.where(AuditLog.user_email == user_email)
    if entity_id is not None:
        stmt = stmt.where(AuditLog.entity_id == entity_id)
    with engine.connect() as conn:
        return conn.execute(stmt).scalar() or 0
