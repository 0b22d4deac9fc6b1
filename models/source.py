"""Replica of the contract's source records; table and column names are the contract's.

`row_hash` is a hash of the contract columns, so a re-ingest can tell unchanged rows from
updated ones without comparing every field in SQL.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, DateTime, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class Customer(Base):
    __tablename__ = "customers"
    customer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    signup_date: Mapped[date] = mapped_column(Date, index=True)
    acquisition_channel: Mapped[str] = mapped_column(String(64), index=True)
    segment: Mapped[str] = mapped_column(String(64), index=True)
    region: Mapped[str] = mapped_column(String(8), index=True)
    goal: Mapped[str | None] = mapped_column(String(255))
    goal_status: Mapped[str] = mapped_column(String(16))
    goal_completed_at: Mapped[datetime | None] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(16), index=True)
    churned_at: Mapped[datetime | None] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    row_hash: Mapped[int] = mapped_column(BigInteger)


class Tutor(Base):
    __tablename__ = "tutors"
    tutor_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    subjects: Mapped[str] = mapped_column(String(512))
    region: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16))
    rating_avg: Mapped[float | None] = mapped_column(Float)
    hired_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    row_hash: Mapped[int] = mapped_column(BigInteger)


class TutorAvailability(Base):
    __tablename__ = "tutor_availability"
    tutor_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    weekday: Mapped[int] = mapped_column(Integer, primary_key=True)
    start_hour: Mapped[int] = mapped_column(Integer, primary_key=True)
    end_hour: Mapped[int] = mapped_column(Integer)
    row_hash: Mapped[int] = mapped_column(BigInteger)


class TutorSession(Base):
    __tablename__ = "sessions"
    session_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(64))
    tutor_id: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(64))
    start_time: Mapped[datetime] = mapped_column(DateTime, index=True)
    end_time: Mapped[datetime] = mapped_column(DateTime)
    rating: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16))
    updated_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    row_hash: Mapped[int] = mapped_column(BigInteger)
    __table_args__ = (
        Index("ix_sessions_customer_start", "customer_id", "start_time"),
        Index("ix_sessions_tutor_start", "tutor_id", "start_time"),
    )


class Booking(Base):
    __tablename__ = "bookings"
    booking_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(64), index=True)
    tutor_id: Mapped[str] = mapped_column(String(64), index=True)
    subject: Mapped[str] = mapped_column(String(64))
    scheduled_time: Mapped[datetime] = mapped_column(DateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    status: Mapped[str] = mapped_column(String(16))
    rescheduled_by: Mapped[str | None] = mapped_column(String(16))
    updated_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    row_hash: Mapped[int] = mapped_column(BigInteger)


class InboundCall(Base):
    __tablename__ = "inbound_calls"
    call_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(64), index=True)
    call_date: Mapped[datetime] = mapped_column(DateTime, index=True)
    duration_s: Mapped[int] = mapped_column(Integer)
    reason_code: Mapped[str] = mapped_column(String(64))
    row_hash: Mapped[int] = mapped_column(BigInteger)


class Campaign(Base):
    __tablename__ = "campaigns"
    campaign_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    subject: Mapped[str] = mapped_column(String(64), index=True)
    channel: Mapped[str] = mapped_column(String(64))
    daily_budget: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16))
    cost_per_hire: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    row_hash: Mapped[int] = mapped_column(BigInteger)


class MetricPoint(Base):
    __tablename__ = "metric_points"
    metric: Mapped[str] = mapped_column(String(128), primary_key=True)
    ts: Mapped[datetime] = mapped_column(DateTime, primary_key=True)
    value: Mapped[float] = mapped_column(Float)
    row_hash: Mapped[int] = mapped_column(BigInteger)
    __table_args__ = (Index("ix_metric_points_ts", "ts"),)


SOURCE_TABLES = {
    "customers": Customer,
    "tutors": Tutor,
    "tutor_availability": TutorAvailability,
    "sessions": TutorSession,
    "bookings": Booking,
    "inbound_calls": InboundCall,
    "campaigns": Campaign,
    "metric_points": MetricPoint,
}
