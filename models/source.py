"""Replica of the contract's source records; table and column names are the contract's.

`row_hash` is a hash of the contract columns, so a re-ingest can tell unchanged rows from
updated ones without comparing every field in SQL. String sizes here are also the limits ingestion
checks values against (ingestion.limits), so SQLite and PostgreSQL accept and refuse the same rows.

Rows deleted at the source are removed from these tables by the id reconciliation
(ingestion.reconcile) and kept, with when and why, in `deleted_rows`: every query that counts
sessions or bookings stops counting them without having to remember a filter.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Float, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class Customer(Base):
    __tablename__ = "customers"
    customer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    signup_date: Mapped[datetime] = mapped_column(DateTime, index=True)  # full timestamp (contract)
    acquisition_channel: Mapped[str] = mapped_column(String(64), index=True)
    segment: Mapped[str] = mapped_column(String(64), index=True)
    region: Mapped[str] = mapped_column(String(8), index=True)
    goal: Mapped[str | None] = mapped_column(String(255))
    goal_status: Mapped[str] = mapped_column(String(16))
    goal_completed_at: Mapped[datetime | None] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(16), index=True)
    churned_at: Mapped[datetime | None] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    # the contact (personal data: shown to CS, ops and admins only, never logged)
    name: Mapped[str | None] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(32))
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
    price: Mapped[float | None] = mapped_column(Float)  # USD the customer paid; None: settings.revenue_per_session
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


class DeletedRow(Base):
    """A row removed from a source table because the source no longer has it: what it was, and when."""
    __tablename__ = "deleted_rows"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(255))
    record: Mapped[str] = mapped_column(String(64))
    row_key: Mapped[str] = mapped_column(String(255))
    payload: Mapped[str] = mapped_column(Text)  # the stored row, JSON, personal fields left out
    deleted_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    __table_args__ = (UniqueConstraint("record", "row_key", "deleted_at", name="uq_deleted_rows_row"),)


class ReconcileState(Base):
    """When a (source, record) last had its ids reconciled, and how many rows that found deleted."""
    __tablename__ = "reconcile_state"
    source: Mapped[str] = mapped_column(String(255), primary_key=True)
    record: Mapped[str] = mapped_column(String(64), primary_key=True)
    reconciled_at: Mapped[datetime] = mapped_column(DateTime)
    deleted: Mapped[int] = mapped_column(Integer, default=0)
    deleted_total: Mapped[int] = mapped_column(Integer, default=0)


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
