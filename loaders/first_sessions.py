"""The sessions and customers that decide first sessions: read by the first-session job, the
recommendations job and the tutors read side."""
from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy import and_, func, select
from sqlalchemy.engine import Connection, Engine

from domain.first_session import COUNTED
from models.frames import read_frame
from models.source import Customer, TutorSession


def load_first_session_inputs(conn: Engine | Connection, until: datetime | None = None,
                              since: datetime | None = None,
                              tutor_id: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Sessions and customers that determine first sessions starting in ``[since, until)``.

    Only the sessions at each customer's earliest counted (completed/no_show) start before ``until``
    are read, for customers whose earliest start is >= ``since``; ties at that start are all kept,
    so ``first_sessions`` on the result equals ``first_sessions`` on the whole history restricted
    to that window. With ``tutor_id``, only customers who ever had a counted session with that
    tutor (a superset of the customers whose first session is theirs). Returns (sessions with
    customer_id, session_id, tutor_id, subject, start_time, status, rating; customers with
    customer_id, segment, region).
    """
    s = TutorSession.__table__
    counted = s.c.status.in_(COUNTED)
    scope = [counted] + ([s.c.start_time < until] if until is not None else [])
    if tutor_id is not None:  # few customers: walk ix_sessions_customer_start for just them
        customer = s.c.customer_id
        earliest = select(customer.label("customer_id"), func.min(s.c.start_time).label("t0")).where(
            *scope, customer.in_(select(s.c.customer_id).where(s.c.tutor_id == tutor_id, *scope)))
    else:
        # Every customer: one table scan with a hash/temp-tree group by. Wrapped in coalesce so that SQLite
        # cannot walk an index instead (the customer or start_time index costs a table lookup per session
        # for `status`: 4-8x slower at 540k sessions). PostgreSQL plans this the same either way.
        customer = func.coalesce(s.c.customer_id, s.c.customer_id)
        scope = [counted] + ([func.coalesce(s.c.start_time, s.c.start_time) < until] if until is not None else [])
        earliest = select(customer.label("customer_id"), func.min(s.c.start_time).label("t0")).where(*scope)
    earliest = earliest.group_by(customer)
    if since is not None:
        earliest = earliest.having(func.min(s.c.start_time) >= since)
    e = earliest.subquery()
    c = Customer.__table__
    stmt = (select(s.c.customer_id, s.c.session_id, s.c.tutor_id, s.c.subject, s.c.start_time, s.c.status,
                   s.c.rating, c.c.segment, c.c.region)
            .select_from(s.join(e, and_(s.c.customer_id == e.c.customer_id, s.c.start_time == e.c.t0))
                         .outerjoin(c, c.c.customer_id == s.c.customer_id))
            .where(counted))
    frame = read_frame(conn, stmt, parse_dates=["start_time"])
    frame["rating"] = pd.to_numeric(frame["rating"], errors="coerce")
    customers = frame.loc[frame["segment"].notna() | frame["region"].notna(), ["customer_id", "segment", "region"]]
    return frame.drop(columns=["segment", "region"]), customers.drop_duplicates("customer_id")
