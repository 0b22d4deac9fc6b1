"""Small row factories for contract DataFrames, for hand-made test fixtures.

Each `<record>(...)` returns one row (a dict with every contract column of that record, sensible
defaults, overrides as keyword arguments); `frame(record, rows)` turns rows into a DataFrame with
exactly the contract's columns, typed like an adapter's output after ingestion (datetimes parsed,
ids as strings), and works for zero rows too. Times are naive UTC.

    at = T0
    customers = frame("customers", [customer("c1", signup_date=days_before(at, 30))])
    sessions = frame("sessions", [session("c1", start_time=days_before(at, 3), rating=5)])
"""
from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta

import pandas as pd

from domain.contract import RECORDS

T0 = datetime(2024, 6, 1, 12, 0)  # a Saturday noon, the default "now" of fixtures
_ids = itertools.count(1)


def _next(prefix: str) -> str:
    return f"{prefix}{next(_ids):06d}"


def days_before(at: datetime, days: float) -> datetime:
    return at - timedelta(days=days)


def customer(customer_id: str | None = None, **kw) -> dict:
    signup = kw.pop("signup_date", (T0 - timedelta(days=60)).date())  # a date (00:00) or a full timestamp
    row = {
        "customer_id": customer_id or _next("c"), "signup_date": signup, "acquisition_channel": "organic",
        "segment": "k12", "region": "CA", "goal": "pass algebra", "goal_status": "in_progress",
        "goal_completed_at": None, "status": "active", "churned_at": None, "updated_at": T0 - timedelta(days=1),
    }
    return _apply("customers", row, kw)


def session(customer_id: str = "c1", start_time: datetime | None = None, **kw) -> dict:
    start = start_time or T0 - timedelta(days=1)
    row = {
        "session_id": _next("s"), "customer_id": customer_id, "tutor_id": "t1", "subject": "algebra",
        "start_time": start, "end_time": start + timedelta(hours=1), "rating": None, "status": "completed",
        "updated_at": start + timedelta(hours=1),
    }
    return _apply("sessions", row, kw)


def call(customer_id: str = "c1", call_date: datetime | None = None, **kw) -> dict:
    row = {"call_id": _next("k"), "customer_id": customer_id, "call_date": call_date or T0 - timedelta(days=1),
           "duration_s": 300, "reason_code": "general"}
    return _apply("inbound_calls", row, kw)


def booking(customer_id: str = "c1", scheduled_time: datetime | None = None, **kw) -> dict:
    when = scheduled_time or T0 + timedelta(days=2)
    row = {
        "booking_id": _next("b"), "customer_id": customer_id, "tutor_id": "t1", "subject": "algebra",
        "scheduled_time": when, "created_at": min(when, T0) - timedelta(days=1), "status": "scheduled",
        "rescheduled_by": None, "updated_at": min(when, T0) - timedelta(days=1),
    }
    return _apply("bookings", row, kw)


def tutor(tutor_id: str | None = None, **kw) -> dict:
    row = {
        "tutor_id": tutor_id or _next("t"), "name": "Ada Tutor", "subjects": "algebra;math", "region": "CA",
        "status": "active", "rating_avg": 4.6, "hired_at": T0 - timedelta(days=365),
        "updated_at": T0 - timedelta(days=1),
    }
    return _apply("tutors", row, kw)


def _apply(record: str, row: dict, overrides: dict) -> dict:
    unknown = set(overrides) - set(RECORDS[record].columns)
    if unknown:
        raise TypeError(f"{record} has no field(s) {', '.join(sorted(unknown))}")
    row.update(overrides)
    return row


def frame(record: str, rows: list[dict] | tuple = ()) -> pd.DataFrame:
    """Rows as a DataFrame with exactly RECORDS[record].columns, typed (datetime/date -> datetime64)."""
    spec = RECORDS[record]
    df = pd.DataFrame(list(rows), columns=spec.columns)
    for f in spec.fields:
        if f.kind in ("datetime", "date"):
            df[f.name] = pd.to_datetime(df[f.name].map(_as_datetime), errors="coerce")
        elif f.kind == "float":
            df[f.name] = pd.to_numeric(df[f.name], errors="coerce").astype(float)
        elif f.kind == "int":
            df[f.name] = pd.to_numeric(df[f.name], errors="coerce").astype("Int64")
        else:
            df[f.name] = df[f.name].astype(object)
    return df


def _as_datetime(v):
    if isinstance(v, date) and not isinstance(v, datetime):
        return datetime(v.year, v.month, v.day)
    return v


def customers_df(*rows: dict) -> pd.DataFrame:
    return frame("customers", rows)


def sessions_df(*rows: dict) -> pd.DataFrame:
    return frame("sessions", rows)


def calls_df(*rows: dict) -> pd.DataFrame:
    return frame("inbound_calls", rows)


def bookings_df(*rows: dict) -> pd.DataFrame:
    return frame("bookings", rows)


def tutors_df(*rows: dict) -> pd.DataFrame:
    return frame("tutors", rows)
