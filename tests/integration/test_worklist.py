"""The CS worklist on a real store (SQLite and PostgreSQL): triggers become owned tasks, balanced across
active agents and kept by their owner; a logged contact moves the customer's tasks to waiting and out
of the queue until the follow-up, when they reopen if the trigger still fires; reassigning by hand is
refused to an agent who does not own the customer; the morning email lists the queue."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from auth import accounts
from auth.permissions import NotAllowed
from jobs.runner import run_job
from models.base import get_engine
from models.derived import AlertDelivery, CustomerTask, CustomerWork
from read.queue import my_queue, queue_counts
from tests.factories import call, customer, frame, session, tutor
from tests.support.store import load_frames
from writes.contacts import add_contact
from writes.tasks import reassign, update_worklist

AT = datetime(2026, 5, 20, 12, 0)
D = timedelta(days=1)
OLD = (AT - 120 * D).date()
AGENTS = ("ann@example.com", "bob@example.com")


def marketplace(n_callers: int = 6) -> dict:
    """n customers with 2 calls in 14 days (calls_14d, priority 1) and regular sessions; one quiet customer."""
    ids = [f"c-{i}" for i in range(n_callers)]
    customers = [customer(c, signup_date=OLD) for c in ids + ["c-fine"]]
    sessions = [session(c, AT - d * D, rating=5, tutor_id="t1") for c in ids + ["c-fine"] for d in range(2, 60, 4)]
    calls = [call(c, AT - k * D) for c in ids for k in (1, 3)]
    return {"customers": frame("customers", customers), "tutors": frame("tutors", [tutor("t1")]),
            "sessions": frame("sessions", sessions), "inbound_calls": frame("inbound_calls", calls)}


@pytest.fixture
def store(any_settings):
    engine = get_engine(any_settings.db_url)
    for email in AGENTS:
        accounts.create_user(engine, email, "cs", "password-123456")
    accounts.create_user(engine, "ops@example.com", "ops", "password-123456")
    load_frames(any_settings, marketplace())
    run_job("score", any_settings, at=AT)
    return any_settings


def owners(engine) -> dict[str, str]:
    with engine.connect() as conn:
        return dict(conn.execute(select(CustomerWork.customer_id, CustomerWork.owner_email)
                                 .where(CustomerWork.owner_email.is_not(None))).all())


def test_tasks_are_owned_balanced_and_kept(store):
    engine = get_engine(store.db_url)
    owned = owners(engine)
    assert set(owned) == {f"c-{i}" for i in range(6)}  # c-fine needs nothing, has no owner
    assert sorted(list(owned.values()).count(a) for a in AGENTS) == [3, 3]
    # a third agent arrives: existing customers stay with their owners; new work goes to the least loaded
    accounts.create_user(engine, "cat@example.com", "cs", "password-123456")
    run_job("worklist", store, at=AT + timedelta(minutes=5))
    assert owners(engine) == owned
    # an agent leaves: their customers are shared between the others
    accounts.set_active(engine, AGENTS[0], False)
    run_job("worklist", store, at=AT + timedelta(minutes=10))
    now = owners(engine)
    assert AGENTS[0] not in now.values() and set(now) == set(owned)
    assert all(now[c] == owned[c] for c in owned if owned[c] == AGENTS[1])
    assert sorted(list(now.values()).count(a) for a in (AGENTS[1], "cat@example.com")) == [3, 3]


def test_a_contact_parks_the_tasks_until_the_follow_up_then_they_reopen(store):
    engine = get_engine(store.db_url)
    agent = owners(engine)["c-0"]
    before = my_queue(engine, agent, AT)
    assert "c-0" in set(before["customer_id"]) and before["priority"].tolist() == sorted(before["priority"])
    with pytest.raises(ValueError, match="follow-up must be in the future"):
        add_contact(engine, "c-0", agent, "phone", "reached", at=AT, follow_up=AT - D)
    add_contact(engine, "c-0", agent, "phone", "reached", "Billing fixed", at=AT, follow_up=AT + 3 * D)
    assert "c-0" not in set(my_queue(engine, agent, AT)["customer_id"])
    assert queue_counts(engine, agent, AT)["waiting"] == 1
    with engine.connect() as conn:
        work = conn.execute(select(CustomerWork).where(CustomerWork.customer_id == "c-0")).one()
        assert (work.last_contacted_at, work.next_follow_up_at, work.owner_email) == (AT, AT + 3 * D, agent)
    # the score reruns the next day: still waiting, still owned
    run_job("score", store, at=AT + D)
    assert "c-0" not in set(my_queue(engine, agent, AT + D)["customer_id"])
    assert owners(engine)["c-0"] == agent
    # the follow-up comes; the calls are still inside 14 days: the task is open again
    summary = run_job("worklist", store, at=AT + 3 * D + timedelta(minutes=1))
    assert summary["reopened"] >= 1
    assert "c-0" in set(my_queue(engine, agent, AT + 3 * D + timedelta(minutes=1))["customer_id"])
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(CustomerTask).where(
            CustomerTask.customer_id == "c-0", CustomerTask.status == "open")).scalar() == 1


def test_reassign_by_hand(store):
    engine = get_engine(store.db_url)
    owned = owners(engine)
    cid = next(c for c, o in owned.items() if o == AGENTS[0])
    with pytest.raises(NotAllowed):
        reassign(engine, cid, AGENTS[1], AGENTS[1], "cs")  # not theirs
    with pytest.raises(ValueError, match="active customer-success agent"):
        reassign(engine, cid, "ops@example.com", "ops@example.com", "ops")
    assert reassign(engine, cid, AGENTS[1], AGENTS[0], "cs") == AGENTS[0]  # the owner hands it over
    assert owners(engine)[cid] == AGENTS[1]
    update_worklist(engine, None, AT + timedelta(minutes=1))  # stable: the job keeps the hand-made choice
    assert owners(engine)[cid] == AGENTS[1]


def test_morning_email_lists_the_queue_once_a_day(store):
    engine = get_engine(store.db_url)
    early = run_job("queue-email", store, at=AT.replace(hour=5))
    assert early.get("planned", 0) == 0
    first = run_job("queue-email", store, at=AT)
    again = run_job("queue-email", store, at=AT + timedelta(hours=1))
    assert first["planned"] == 2 and again["planned"] == 0
    with engine.connect() as conn:
        rows = conn.execute(select(AlertDelivery.recipients, AlertDelivery.subject, AlertDelivery.body,
                                   AlertDelivery.kind)).all()
    assert {r.recipients for r in rows} == set(AGENTS) and {r.kind for r in rows} == {"queue"}
    body = next(r.body for r in rows if r.recipients == AGENTS[0])
    mine = [c for c, o in owners(engine).items() if o == AGENTS[0]]
    assert all(f"({c})" in body for c in mine) and "Call today" in body and "/queue" in body
