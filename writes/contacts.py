"""The contact log: an agent's outreach to a customer, checked and recorded."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.engine import Engine

from infra.clock import utcnow
from models.derived import ContactLog, HealthScore
from models.source import Customer

CONTACT_CHANNELS = ("phone", "email", "sms", "in_app")
CONTACT_OUTCOMES = ("reached", "voicemail", "no_answer", "resolved", "escalated")
NOTE_MAX = 2000


def add_contact(engine: Engine, customer_id: str, user_email: str | None, channel: str, outcome: str,
                note: str | None = None, at: datetime | None = None) -> int:
    """Record an outreach; returns its id. ValueError with a message for the user on bad input."""
    channel = (channel or "").strip().lower()
    outcome = (outcome or "").strip().lower()
    if channel not in CONTACT_CHANNELS:
        raise ValueError(f"Choose how you contacted the customer: {', '.join(CONTACT_CHANNELS)}.")
    if outcome not in CONTACT_OUTCOMES:
        raise ValueError(f"Choose the outcome: {', '.join(CONTACT_OUTCOMES)}.")
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise ValueError(f"The note is {len(note):,} characters; keep it to {NOTE_MAX:,}.")
    cid = str(customer_id)
    with engine.begin() as conn:
        known = conn.execute(select(Customer.customer_id).where(Customer.customer_id == cid)).first() or \
            conn.execute(select(HealthScore.customer_id).where(HealthScore.customer_id == cid)).first()
        if known is None:
            raise ValueError(f"There is no customer {cid}.")
        return conn.execute(insert(ContactLog).values(
            customer_id=cid, contacted_at=at or utcnow(), user_email=user_email, channel=channel, outcome=outcome,
            note=note or None)).inserted_primary_key[0]
