"""The overview job: load the windows the cards need, compute them (domain.marketplace), store a snapshot."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy import delete, func, insert, select

from models.derived import Alert, HealthScore, HealthScoreHistory, OverviewSnapshot, SupplyDemand
from models.frames import read_frame
from models.source import Booking, Tutor, TutorAvailability, TutorSession
from jobs.context import JobContext
from infra.versions import bump_version
from domain.marketplace import OverviewInputs, overview_metrics

KEEP_SNAPSHOTS = 500
KEEP_DAYS = 120  # one snapshot a day beyond the newest KEEP_SNAPSHOTS
SESSION_WINDOW = timedelta(days=15)  # sessions the cards read: (at - 15 days, at]
BOOKING_BACK, BOOKING_AHEAD = timedelta(days=29), timedelta(days=1)  # bookings: [at - 29 days, at + 1 day)


def read_windows(engine, first: datetime, last: datetime) -> dict[str, pd.DataFrame]:
    """The rows the cards read for every time in [first, last] (sessions of the 15 days before, bookings from 29
    days before to a day after, tutors, availability): a backfill reads them once and cuts each day's
    windows in memory (cut_windows) instead of reading them once a day."""
    with engine.connect() as conn:
        sessions = read_frame(conn, select(TutorSession.start_time, TutorSession.end_time, TutorSession.rating,
                                           TutorSession.status)
                              .where(TutorSession.start_time > first - SESSION_WINDOW, TutorSession.start_time <= last),
                              parse_dates=["start_time", "end_time"])
        bookings = read_frame(conn, select(Booking.scheduled_time, Booking.status)
                              .where(Booking.scheduled_time >= first - BOOKING_BACK,
                                     Booking.scheduled_time < last + BOOKING_AHEAD), parse_dates=["scheduled_time"])
        tutors = read_frame(conn, select(Tutor.tutor_id, Tutor.status))
        availability = read_frame(conn, select(TutorAvailability.tutor_id, TutorAvailability.start_hour,
                                               TutorAvailability.end_hour))
    return {"sessions": sessions, "bookings": bookings, "tutors": tutors, "availability": availability}


def cut_windows(windows: dict[str, pd.DataFrame], at: datetime) -> dict[str, pd.DataFrame]:
    """read_windows' frames cut to what load_inputs reads as of `at`."""
    s, b, t = windows["sessions"], windows["bookings"], pd.Timestamp(at)
    return {**windows,
            "sessions": s[(s["start_time"] > t - SESSION_WINDOW) & (s["start_time"] <= t)].reset_index(drop=True),
            "bookings": b[(b["scheduled_time"] >= t - BOOKING_BACK)
                          & (b["scheduled_time"] < t + BOOKING_AHEAD)].reset_index(drop=True)}


def load_inputs(ctx: JobContext, windows: dict[str, pd.DataFrame] | None = None) -> OverviewInputs:
    """The cards' inputs as of ctx.at; `windows`: read_windows' frames covering ctx.at (else read here)."""
    at, engine = ctx.at, ctx.engine
    w = cut_windows(windows or read_windows(engine, at, at), at)
    sessions, bookings, tutors, availability = w["sessions"], w["bookings"], w["tutors"], w["availability"]
    with engine.connect() as conn:
        if ctx.live:
            tiers = dict(conn.execute(select(HealthScore.tier, func.count()).group_by(HealthScore.tier)).all())
        else:  # as of a past day (backfill): that day's stored tiers, not today's scores
            tiers = dict(conn.execute(select(HealthScoreHistory.tier, func.count())
                                      .where(HealthScoreHistory.day == pd.Timestamp(at).date())
                                      .group_by(HealthScoreHistory.tier)).all())
        history = read_frame(conn, select(HealthScoreHistory.day, func.count().label("at_risk"))
                             .where(HealthScoreHistory.tier.in_(["critical", "at-risk"]),
                                    HealthScoreHistory.day >= (at - timedelta(days=8)).date(),
                                    HealthScoreHistory.day <= pd.Timestamp(at).date())  # a past day: not after it
                             .group_by(HealthScoreHistory.day))
        open_critical = conn.execute(select(func.count()).select_from(Alert)
                                     .where(Alert.status == "active", Alert.severity == "critical")).scalar() \
            if ctx.live else None  # alert states of a past day are not kept
        latest = conn.execute(select(func.max(SupplyDemand.computed_at))).scalar()
        coverage = None
        if latest is not None:
            coverage = read_frame(conn, select(SupplyDemand.subject, func.min(SupplyDemand.coverage).label("coverage"))
                                  .where(SupplyDemand.region == "ALL", SupplyDemand.ts >= at,
                                         SupplyDemand.ts < at + timedelta(hours=24), SupplyDemand.coverage.is_not(None))
                                  .group_by(SupplyDemand.subject))
    scored = sum(tiers.values())
    return OverviewInputs(
        sessions=sessions, bookings=bookings, tutors=tutors, availability=availability, at=at,
        risk_now=(tiers.get("critical", 0) + tiers.get("at-risk", 0)) if scored else None,
        risk_history=history, customers_scored=scored or None,
        open_critical=None if open_critical is None else int(open_critical),
        coverage_24h=coverage, daily_target=ctx.settings.sessions_daily_target or None)


def run(ctx: JobContext, windows: dict[str, pd.DataFrame] | None = None) -> dict:
    """One snapshot as of ctx.at; `windows`: read_windows' frames covering ctx.at (the backfill's)."""
    inputs = load_inputs(ctx, windows)
    thresholds = json.loads(ctx.settings.kpi_thresholds) if ctx.settings.kpi_thresholds else None
    cards = overview_metrics(inputs, thresholds)
    payload = json.dumps({"at": ctx.at.isoformat(), "cards": cards}, default=_json_default)
    with ctx.engine.begin() as conn:
        conn.execute(insert(OverviewSnapshot).values(computed_at=ctx.at, payload=payload))
        prune(conn, ctx.at)
        bump_version(conn, "overview")
    return {"cards": {k: v["value"] for k, v in cards.items()}}


def prune(conn, at) -> int:
    """Keep the KEEP_SNAPSHOTS newest snapshots and, older than those, each day's last for KEEP_DAYS days (the
    cards' history the explorer draws)."""
    t = OverviewSnapshot
    newest = conn.execute(select(t.computed_at).order_by(t.computed_at.desc(), t.id.desc())
                          .offset(KEEP_SNAPSHOTS).limit(1)).scalar()
    if newest is None:
        return 0
    older = pd.DataFrame(conn.execute(select(t.id, t.computed_at).where(t.computed_at <= newest)).all(),
                         columns=["id", "computed_at"])
    older["computed_at"] = pd.to_datetime(older["computed_at"])
    recent = older[older["computed_at"] >= pd.Timestamp(at) - pd.Timedelta(days=KEEP_DAYS)]
    keep = set(recent.sort_values(["computed_at", "id"]).groupby(recent["computed_at"].dt.normalize())["id"].last())
    drop = [int(i) for i in older["id"] if int(i) not in keep]
    for start in range(0, len(drop), 500):
        conn.execute(delete(t).where(t.id.in_(drop[start:start + 500])))
    return len(drop)


def _json_default(value):
    if isinstance(value, (pd.Timestamp,)):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    return str(value)
