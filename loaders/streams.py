"""Inputs of the derived metric streams and the detector rules in force: what the detect job runs on and
what the rule preview shows, read the same way for both."""
from __future__ import annotations

import json
from datetime import datetime

import pandas as pd
from sqlalchemy import or_, select
from sqlalchemy.engine import Engine

from domain.alerting.streams import STREAM_RULES
from domain.anomaly.config import MARKETPLACE_RULES
from models.derived import MetricRule
from models.frames import read_frame
from models.source import Booking, TutorSession


def stream_inputs(conn, start: datetime, until: datetime) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The sessions and bookings columns derive_streams needs, for [start, until): what the rule
    preview and the detect job both read, so a preview judges exactly the data the job will."""
    sessions = read_frame(conn, select(TutorSession.subject, TutorSession.start_time, TutorSession.rating,
                                       TutorSession.status)
                          .where(TutorSession.start_time >= start, TutorSession.start_time < until),
                          parse_dates=["start_time"])
    bookings = read_frame(conn, select(Booking.subject, Booking.created_at, Booking.scheduled_time, Booking.status)
                          .where(or_(Booking.created_at.between(start, until), Booking.scheduled_time.between(start, until))),
                          parse_dates=["created_at", "scheduled_time"])
    return sessions, bookings


def detector_rules(engine: Engine) -> dict[str, dict]:
    """metric or glob -> detector overrides in force: the marketplace's (anomaly.MARKETPLACE_RULES: US
    holidays), the derived streams' own (metric_streams.STREAM_RULES), with the operators' metric_rules
    on top (a stored key replaces a built-in one). The detect job runs exactly these."""
    return {**MARKETPLACE_RULES, **STREAM_RULES, **{k: v["settings"] for k, v in metric_rules(engine).items()}}


def metric_rules(engine: Engine) -> dict[str, dict]:
    """metric (or glob) -> stored detector overrides, with who saved them when."""
    with engine.connect() as conn:
        rows = conn.execute(select(MetricRule.metric, MetricRule.settings, MetricRule.updated_at,
                                   MetricRule.updated_by)).all()
    return {r.metric: {"settings": json.loads(r.settings or "{}"), "updated_at": r.updated_at, "updated_by": r.updated_by}
            for r in rows}
