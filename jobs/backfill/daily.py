"""The daily histories of the backfill: health scores, the tutor first-session trend and the overview cards as
of a past day's end (jobs/backfill runs them day by day, oldest first)."""
from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy import select

from domain.first_session import first_sessions, stored_windows
from jobs import first_session
from jobs.customers import health
from loaders.first_sessions import load_first_session_inputs
from models.bulk import read_columns, text_times
from models.derived import TutorPerformance
from models.frames import insert_frame
from models.source import Booking, InboundCall

TREND_PERIODS = ("last_7d", "prev_7d")  # the tutor trend reads last_7d; the WoW column compares it with prev_7d


def health_inputs(engine, days: list[datetime]):
    """A function at -> the scoring job's inputs as of `at` (health.load_inputs' frames), cut in memory from one
    read covering every day: the store is read once instead of once a day."""
    first, last = days[0], days[-1]
    k, b = InboundCall, Booking
    with engine.connect() as conn:
        base = health.load_inputs(conn, last)  # customers, and sessions up to the last day
        calls = read_columns(conn, select(k.customer_id, k.reason_code, *text_times(conn, [k.call_date]))
                             .where(k.call_date > first - timedelta(days=health.CALL_DAYS), k.call_date <= last),
                             ["call_date"])
        bookings = read_columns(conn, select(b.customer_id, b.tutor_id, b.subject, b.status,
                                             *text_times(conn, [b.scheduled_time, b.created_at]))
                                .where(b.scheduled_time > first, b.created_at <= last), ["scheduled_time", "created_at"])
    sessions = base["sessions"]

    def at_day(at: datetime) -> dict[str, pd.DataFrame]:
        at_ts = pd.Timestamp(at)
        return {"customers": base["customers"],
                "sessions": sessions[sessions["start_time"] <= at_ts].reset_index(drop=True),
                "inbound_calls": calls[(calls["call_date"] > at_ts - pd.Timedelta(days=health.CALL_DAYS))
                                       & (calls["call_date"] <= at_ts)].reset_index(drop=True),
                "bookings": bookings[(bookings["scheduled_time"] > at_ts)
                                     & (bookings["created_at"] <= at_ts)].reset_index(drop=True)}
    return at_day


def first_session_trend(engine, days: list[datetime]):
    """A function at -> writes the rolling 7-day first-session rows as of `at` (what the tutor trend draws).
    The first sessions of every day's two weeks are read once (load_first_session_inputs up to the last day,
    from the first day's window): a customer's earliest session before the last day is also the earliest
    before any earlier day it precedes, so each day's read is the rows with a start in [its window, at)."""
    since = stored_windows(days[0])["prev_7d"][0]
    with engine.connect() as conn:
        sessions, customers = load_first_session_inputs(conn, until=days[-1], since=since)

    def at_day(at: datetime) -> None:
        lo = pd.Timestamp(stored_windows(at)["prev_7d"][0])
        cut = sessions[(sessions["start_time"] >= lo) & (sessions["start_time"] < pd.Timestamp(at))]
        rows = first_session.period_rows(first_sessions(cut.reset_index(drop=True), customers), at, TREND_PERIODS)
        with engine.begin() as conn:
            insert_frame(conn, TutorPerformance.__table__, rows)
    return at_day
