"""The recommend job (issue 9): recruiting recommendations from supply, demand and first-session numbers.

Hourly, as of ``ctx.at``:

1. expires pending recommendations whose ``expires_at`` has passed;
2. computes the inputs of domain.recommendations: the coming week's coverage by subject (the supply job's
   computation, jobs.demand.supply.coverage_frames, on the latest forecast run), sessions booked in the
   last 7 days vs the 7 before, first-session success per subject over 28 days (domain.first_session),
   campaigns, and weekly available hours per tutor;
3. writes the candidates that ``select_new`` keeps: no duplicate of a pending recommendation (same
   dedup_key ``<rule>:<subject>``), none for a key implemented or dismissed within the last
   ``recommendation_ttl_h`` hours, at most ``recommendation_daily_cap`` created per rolling 24 hours
   (highest priority first); on ordinary data that is 5-10 a day;
4. bumps the data version topic ``recommendations``.
"""
from __future__ import annotations

import json
import time
from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine

from models.derived import Recommendation
from models.frames import insert_frame, read_frame
from models.source import Campaign
from domain.first_session import first_session_stats, first_sessions
from infra.jsonable import jsonable
from jobs.context import JobContext
from loaders.first_sessions import load_first_session_inputs
from infra.versions import bump_version
from jobs.demand.supply import coverage_frames
from loaders.bookings import held_counts
from domain.recommendations import RuleConfig, recommend, select_new, subject_balance, tutor_week_hours

TOPIC = "recommendations"
SUCCESS_DAYS = 28


def demand_trend(engine: Engine, at: datetime) -> pd.DataFrame:
    """DataFrame[subject, this_week, last_week]: bookings held (as hourly_demand counts demand) scheduled in
    [at - 7 d, at) and in the 7 days before."""
    this = held_counts(engine, at - timedelta(days=7), at).set_index("subject")["n"].rename("this_week")
    last = held_counts(engine, at - timedelta(days=14), at - timedelta(days=7)).set_index("subject")["n"].rename("last_week")
    out = pd.concat([this, last], axis=1).fillna(0).astype(int)
    out.index.name = "subject"
    return out.reset_index()


def subject_success(engine: Engine, at: datetime) -> pd.DataFrame:
    """DataFrame[subject, success_rate, rated]: first-session success over the SUCCESS_DAYS before ``at``."""
    since = at - timedelta(days=SUCCESS_DAYS)
    with engine.connect() as conn:
        sessions, customers = load_first_session_inputs(conn, until=at, since=since)
    stats = first_session_stats(first_sessions(sessions, customers), "subject", since, at)
    stats = stats[stats["rated_completed"] > 0]
    return pd.DataFrame({"subject": stats["key"], "success_rate": stats["success_rate"],
                         "rated": stats["rated_completed"]}).reset_index(drop=True)


def load_campaigns(engine: Engine) -> pd.DataFrame:
    with engine.connect() as conn:
        return read_frame(conn, select(Campaign.campaign_id, Campaign.subject, Campaign.channel, Campaign.daily_budget,
                                       Campaign.status, Campaign.cost_per_hire))


def candidates(engine: Engine, at: datetime, cfg: RuleConfig) -> tuple[list[dict], dict]:
    """The rules' recommendations as of ``at`` and the inputs' sizes (for the job summary)."""
    cov, _, run, inputs = coverage_frames(engine, at)
    balance = subject_balance(cov, cfg.min_open_demand)
    trend = demand_trend(engine, at)
    success = subject_success(engine, at)
    hours = tutor_week_hours(inputs["tutors"], inputs["availability"], pd.Timestamp(at).floor("h"))
    recs = recommend(balance, trend, success, load_campaigns(engine), hours, at, cfg)
    return recs, {"forecast_run": run["id"] if run else None, "subjects": len(balance)}


def run(ctx: JobContext) -> dict:
    settings, engine, at = ctx.settings, ctx.engine, ctx.at
    cfg = RuleConfig.from_settings(settings)
    started = time.perf_counter()
    recs, info = candidates(engine, at, cfg)
    compute_s = round(time.perf_counter() - started, 3)
    t = Recommendation.__table__
    with engine.begin() as conn:
        expired = conn.execute(update(t).where(t.c.status == "pending", t.c.expires_at <= at)
                               .values(status="expired")).rowcount
        pending = set(conn.execute(select(t.c.dedup_key).where(t.c.status == "pending")).scalars())
        cooling = set(conn.execute(select(t.c.dedup_key).where(
            t.c.status.in_(("implemented", "dismissed")),
            t.c.decided_at > at - timedelta(hours=settings.recommendation_ttl_h))).scalars())
        recent = conn.execute(select(func.count()).select_from(t).where(
            t.c.created_at > at - timedelta(hours=24), t.c.created_at <= at)).scalar() or 0
        chosen = select_new(recs, pending, cooling, recent, settings.recommendation_daily_cap)
        if chosen:
            rows = pd.DataFrame([{**{k: r[k] for k in ("dedup_key", "rule", "subject", "campaign_id", "action", "reason",
                                                       "expected_impact", "roi", "priority", "expires_at")},
                                  "status": "pending", "created_at": at,
                                  "details": json.dumps(jsonable(r["details"]))} for r in chosen])
            insert_frame(conn, t, rows)
        if chosen or expired:
            bump_version(conn, TOPIC)
    return {"at": pd.Timestamp(at).isoformat(), **info, "candidates": [r["dedup_key"] for r in recs],
            "created": [r["dedup_key"] for r in chosen], "expired": expired, "pending_before": len(pending),
            "created_last_24h_before": int(recent), "timings": {"total_s": round(time.perf_counter() - started, 3),
                                                                "compute_s": compute_s}}
