"""A hand-made marketplace for the supply/recommendation tests: tutors, availability, campaigns, and a
forecast run written straight into the store (so supply and recommend run without fitting a model).

Wednesday 20 May 2026 12:00 (AT). spanish: tutors S1 (CA) and S2 (NY), free every day 14:00-22:00 UTC.
math: M1 (CA) and M2 (TX), the same hours. Forecast: 1 session an hour in 14:00-22:00 for both subjects,
except spanish at 5 sessions in two slots: Wed 16:00-18:00 (4 h ahead: too late to recruit) and
Thu 18:00-20:00 (30 h ahead). There, 2 open tutor hours for 5 sessions: coverage 0.4, 3 sessions short an
hour, 12 in the week. Campaigns: spanish CP-S1 50 $/day at 250 $/hire; math CP-M1 40 $/day at 300 $/hire.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta

import pandas as pd

from models.base import get_engine
from models.derived import DemandForecast, ForecastRun
from models.frames import insert_frame
from tests.factories import frame, tutor

AT = datetime(2026, 5, 20, 12, 0)
NEAR = (datetime(2026, 5, 20, 16), datetime(2026, 5, 20, 18))
FAR = (datetime(2026, 5, 21, 18), datetime(2026, 5, 21, 20))


def source_frames() -> dict[str, pd.DataFrame]:
    tutors = [tutor(tid, name=f"Tutor {tid}", subjects=subject, region=region, updated_at=AT - timedelta(days=30))
              for tid, subject, region in (("S1", "spanish", "CA"), ("S2", "spanish", "NY"),
                                           ("M1", "math", "CA"), ("M2", "math", "TX"))]
    availability = frame("tutor_availability", [{"tutor_id": tid, "weekday": d, "start_hour": 14, "end_hour": 22}
                                                for tid in ("S1", "S2", "M1", "M2") for d in range(7)])
    campaigns = frame("campaigns", [
        {"campaign_id": "CP-S1", "subject": "spanish", "channel": "job_board", "daily_budget": 50.0,
         "status": "active", "cost_per_hire": 250.0, "updated_at": AT - timedelta(days=3)},
        {"campaign_id": "CP-M1", "subject": "math", "channel": "linkedin", "daily_budget": 40.0,
         "status": "active", "cost_per_hire": 300.0, "updated_at": AT - timedelta(days=3)},
    ])
    return {"tutors": frame("tutors", tutors), "tutor_availability": availability, "campaigns": campaigns}


def demand(subject: str, ts: pd.Timestamp) -> float:
    if not 14 <= ts.hour < 22:
        return 0.0
    if subject == "spanish" and any(a <= ts < b for a, b in (NEAR, FAR)):
        return 5.0
    return 1.0


def write_forecast(settings, at: datetime = AT, subjects=("spanish", "math"), of_record: dict | None = None) -> int:
    """A ForecastRun at ``at`` with 168 hourly rows per subject from ``demand`` (interval +-50 %, baseline =
    the same); returns its id."""
    engine = get_engine(settings.db_url)
    hours = pd.date_range(at, periods=168, freq="h")
    detail = {"mode": "test", "start": at.isoformat(), "subjects": {
        s: {"model": "ensemble", "of_record": (of_record or {}).get(s, "model"), "why": "hand-made",
            "fitted": True, "trained_at": at.isoformat(), "validation": {}, "live": None} for s in subjects}}
    with engine.begin() as conn:
        run_id = conn.execute(ForecastRun.__table__.insert().values(
            generated_at=at, model="hand-made", train_start=at - timedelta(days=90), train_end=at,
            detail=json.dumps(detail))).inserted_primary_key[0]
        rows = pd.DataFrame([{"run_id": run_id, "subject": s, "ts": ts, "yhat": demand(s, ts),
                              "yhat_lower": 0.5 * demand(s, ts), "yhat_upper": 1.5 * demand(s, ts),
                              "baseline": demand(s, ts)} for s in subjects for ts in hours])
        insert_frame(conn, DemandForecast.__table__, rows)
    return run_id
