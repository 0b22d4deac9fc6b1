"""The contact log: an agent's outreach to a customer, checked and recorded; the customer's tasks then
wait until the follow-up date (writes/tasks.py)."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import insert, select
from sqlalchemy.engine import Engine

from domain.customers.worklist import FOLLOW_UP_DAYS, check_follow_up
from infra.clock import utcnow
from models.derived import ContactLog, HealthScore
from models.source import Customer
from writes.tasks import wait_for_follow_up

CONTACT_CHANNELS = ("phone", "email", "sms", "in_app")
CONTACT_OUTCOMES = ("reached", "voicemail", "no_answer", "resolved", "escalated")
NOTE_MAX = 2000


def default_follow_up(outcome: str | None, at: datetime) -> datetime:
    """The follow-up the form proposes: sooner after no answer, later once resolved (start of that day)."""
    day = (at + timedelta(days=FOLLOW_UP_DAYS.get(outcome or "", 7))).replace(hour=0, minute=0, second=0,
                                                                              microsecond=0)
    return day


def add_contact(engine: Engine, customer_id: str, user_email: str | None, channel: str, outcome: str,
                note: str | None = None, at: datetime | None = None, follow_up: datetime | None = None) -> int:
    """Record an outreach; returns its id. ValueError with a message for the user on bad input.

    The customer's open tasks wait until `follow_up` (default: by outcome, see FOLLOW_UP_DAYS)."""
    at = at or utcnow()
    channel = (channel or "").strip().lower()
    outcome = (outcome or "").strip().lower()
    if channel not in CONTACT_CHANNELS:
        raise ValueError(f"Choose how you contacted the customer: {', '.join(CONTACT_CHANNELS)}.")
    if outcome not in CONTACT_OUTCOMES:
        raise ValueError(f"Choose the outcome: {', '.join(CONTACT_OUTCOMES)}.")
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise ValueError(f"The note is {len(note):,} characters; keep it to {NOTE_MAX:,}.")
    follow_up = check_follow_up(follow_up or default_follow_up(outcome, at), at)
    cid = str(customer_id)
    with engine.begin() as conn:
        known = conn.execute(select(Customer.customer_id).where(Customer.customer_id == cid)).first() or \
            conn.execute(select(HealthScore.customer_id).where(HealthScore.customer_id == cid)).first()
        if known is None:
            raise ValueError(f"There is no customer {cid}.")
        contact_id = conn.execute(insert(ContactLog).values(
            customer_id=cid, contacted_at=at, user_email=user_email, channel=channel, outcome=outcome,
            note=note or None, follow_up_at=follow_up)).inserted_primary_key[0]
        wait_for_follow_up(conn, cid, follow_up, at)
    return contact_id
