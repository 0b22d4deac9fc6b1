"""Recruiters' decisions on recommendations: implement or dismiss, first decision wins, audit-logged."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from auth import audit
from infra.clock import utcnow
from infra.versions import bump_version
from domain.recommendations import DECISIONS
from models.derived import Recommendation




class DecisionConflict(RuntimeError):
    """The recommendation is not pending any more (decided by someone else, or expired)."""


def decide_recommendation(engine: Engine, rec_id: int, action: str, user: str | None, reason: str | None = None,
                          via: str = "page", at: datetime | None = None) -> dict:
    """Implement or dismiss a pending recommendation, and write the decision to the audit log.

    ``action`` is "implement" or "dismiss" (ValueError otherwise; a reason is optional, <= 2000 characters).
    LookupError when there is no such recommendation; DecisionConflict when it is not pending (someone decided
    it first, or it expired). Returns {id, status, decided_at, decided_by, decision_reason}.
    """
    if action not in DECISIONS:
        raise ValueError(f"action must be one of {', '.join(DECISIONS)}")
    if reason is not None and not isinstance(reason, str):
        raise ValueError("reason must be text")
    reason = (reason or "").strip() or None
    if reason and len(reason) > 2000:
        raise ValueError("reason must be at most 2000 characters")
    at = at or utcnow()
    status = DECISIONS[action]
    with engine.begin() as conn:
        row = conn.execute(select(Recommendation.status, Recommendation.expires_at, Recommendation.subject,
                                  Recommendation.rule).where(Recommendation.id == rec_id)).first()
        if row is None:
            raise LookupError(f"no recommendation {rec_id}")
        expired = row.status == "pending" and row.expires_at <= at
        if expired:  # the recommend job would expire it at its next run: do it now, and say so
            conn.execute(update(Recommendation).where(Recommendation.id == rec_id, Recommendation.status == "pending")
                         .values(status="expired"))
            bump_version(conn, "recommendations")
            changed = 0
        else:  # only a pending row changes: two people deciding at once cannot both win
            changed = conn.execute(update(Recommendation).where(Recommendation.id == rec_id,
                                                                Recommendation.status == "pending")
                                   .values(status=status, decided_at=at, decided_by=user,
                                           decision_reason=reason)).rowcount
            if changed:
                bump_version(conn, "recommendations")
    if expired:
        raise DecisionConflict(f"recommendation {rec_id} expired at {row.expires_at:%Y-%m-%d %H:%M} UTC")
    if not changed:
        raise DecisionConflict(f"recommendation {rec_id} is already {row.status}")
    audit.record(engine, f"recommendation.{action}", user_email=user, entity="recommendation", entity_id=rec_id,
                 detail={"via": via, "status": status, "reason": reason, "subject": row.subject, "rule": row.rule})
    return {"id": rec_id, "status": status, "decided_at": at, "decided_by": user, "decision_reason": reason}
