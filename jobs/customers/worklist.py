"""The worklist jobs: keep tasks and owners current between scorings, and the agents' morning email.

`run` (every few minutes): waiting tasks whose follow-up came reopen when their trigger still fires,
customers get owners (a new or deactivated agent rebalances the open work), summary counts; the
scoring job does the same right after each scoring. `morning` (hourly): from QUEUE_EMAIL_HOUR UTC,
once a day, each active CS agent with a queue gets it by email; the message is stored as a delivery
that the notify job sends (retries, never twice).
"""
from __future__ import annotations

from sqlalchemy import select

from auth import audit
from domain.alerting.notify import Delivery
from domain.customers.queue_email import render_queue_email
from jobs.context import JobContext
from jobs.notify import store
from loaders.worklist import queue_frame, revenue_at_risk
from models.derived import AlertDelivery
from writes.tasks import active_agents, update_worklist

QUEUE_EMAIL_HOUR = 7  # UTC; the first hourly run from then sends the day's email


def run(ctx: JobContext) -> dict:
    summary = update_worklist(ctx.engine, None, ctx.at)
    if summary.get("assigned") or summary.get("released"):
        audit.record(ctx.engine, "customer.assign.auto", entity="worklist",
                     detail={k: summary[k] for k in ("assigned", "released", "unowned")})
    return summary


def morning(ctx: JobContext, force: bool = False) -> dict:
    engine, at = ctx.engine, ctx.at
    if at.hour < QUEUE_EMAIL_HOUR and not force:
        return {"sent": 0, "why": f"before {QUEUE_EMAIL_HOUR}:00 UTC"}
    with engine.connect() as conn:
        agents = active_agents(conn)
        done = set(conn.execute(select(AlertDelivery.dedup_key).where(
            AlertDelivery.dedup_key.like(f"queue:%:{at:%Y-%m-%d}"))).scalars())
    revenue = revenue_at_risk(engine)
    plans = []
    for agent in agents:
        key = f"queue:{agent}:{at:%Y-%m-%d}"
        if key in done:
            continue
        queue = queue_frame(engine, agent, at, revenue)
        if queue.empty:
            continue
        subject, body = render_queue_email(agent, queue, at, ctx.settings.base_url())
        plans.append(Delivery("email", "queue", key, (agent,), subject, body, ()))
    return {"planned": store(engine, plans, at), "agents": len(agents)}
