"""Tables that jobs write and pages read: scores, performance, forecasts, supply, alerts, recommendations, churn.

JSON-ish columns are Text holding JSON so that SQLite and PostgreSQL behave the same.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, Float, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class HealthScore(Base):
    """Latest health score per customer, with the columns the customers grid sorts and filters on."""
    __tablename__ = "health_scores"
    customer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    computed_at: Mapped[datetime] = mapped_column(DateTime)
    score: Mapped[float] = mapped_column(Float, index=True)
    tier: Mapped[str] = mapped_column(String(16), index=True)
    first_session_score: Mapped[float] = mapped_column(Float)
    velocity_score: Mapped[float] = mapped_column(Float)
    calls_score: Mapped[float] = mapped_column(Float)
    goal_score: Mapped[float] = mapped_column(Float)
    tutor_consistency_score: Mapped[float] = mapped_column(Float)
    velocity: Mapped[float | None] = mapped_column(Float)
    calls_14d: Mapped[int | None] = mapped_column(Integer)
    last_session_at: Mapped[datetime | None] = mapped_column(DateTime)
    triggers: Mapped[str | None] = mapped_column(String(255))  # comma-separated contract trigger names
    priority: Mapped[int | None] = mapped_column(Integer, index=True)  # 1 = call first
    intervention: Mapped[str | None] = mapped_column(String(255))
    segment: Mapped[str | None] = mapped_column(String(64), index=True)
    acquisition_channel: Mapped[str | None] = mapped_column(String(64), index=True)
    region: Mapped[str | None] = mapped_column(String(8))
    primary_subject: Mapped[str | None] = mapped_column(String(64), index=True)
    primary_tutor_id: Mapped[str | None] = mapped_column(String(64), index=True)
    churn_probability: Mapped[float | None] = mapped_column(Float)
    explanation: Mapped[str | None] = mapped_column(Text)  # JSON: per component raw facts and why


class HealthScoreHistory(Base):
    """One score per customer per day, so a customer's score can be charted over time."""
    __tablename__ = "health_score_history"
    customer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    score: Mapped[float] = mapped_column(Float)
    tier: Mapped[str] = mapped_column(String(16))
    # a day's tiers (the overview's at-risk card and its history, the backfill's past days) without a full scan
    __table_args__ = (Index("ix_health_score_history_day_tier", "day", "tier"),)


class ContactLog(Base):
    """Outreach a CS agent recorded, joined later to outcomes to measure intervention effect."""
    __tablename__ = "contact_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(String(64), index=True)
    contacted_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    user_email: Mapped[str] = mapped_column(String(255))
    channel: Mapped[str] = mapped_column(String(32))  # phone, email, sms, in_app
    outcome: Mapped[str] = mapped_column(String(64))  # reached, voicemail, no_answer, resolved, escalated
    note: Mapped[str | None] = mapped_column(Text)
    follow_up_at: Mapped[datetime | None] = mapped_column(DateTime)  # the customer's tasks wait until then


class CustomerTask(Base):
    """A trigger firing for a customer, as work: open -> waiting (contacted, until the follow-up) -> open
    again if the trigger still fires then, or done when it clears. One row per episode."""
    __tablename__ = "customer_tasks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(String(64))
    trigger: Mapped[str] = mapped_column(String(64))
    priority: Mapped[int] = mapped_column(Integer)  # 1 = call first
    severity: Mapped[str] = mapped_column(String(16))  # the contract's: critical, at-risk, re-engagement ...
    why: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))  # open, waiting, done
    opened_at: Mapped[datetime] = mapped_column(DateTime)
    due_at: Mapped[datetime] = mapped_column(DateTime)
    waiting_until: Mapped[datetime | None] = mapped_column(DateTime)
    done_at: Mapped[datetime | None] = mapped_column(DateTime)
    done_reason: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    __table_args__ = (Index("ix_customer_tasks_customer_status", "customer_id", "status"),
                      Index("ix_customer_tasks_status", "status"))


class CustomerWork(Base):
    """Per customer: owner and outreach summary, kept beside health_scores (which the scoring job
    rewrites) so the customers grid sorts and filters on them with one indexed join."""
    __tablename__ = "customer_work"
    customer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner_email: Mapped[str | None] = mapped_column(String(255), index=True)
    assigned_at: Mapped[datetime | None] = mapped_column(DateTime)
    assigned_by: Mapped[str | None] = mapped_column(String(255))  # None: the assignment job
    last_contacted_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    next_follow_up_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    open_tasks: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    waiting_tasks: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class SavedView(Base):
    """A named page view (its query string) saved by a user."""
    __tablename__ = "saved_views"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_email: Mapped[str] = mapped_column(String(255))
    page: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(80))
    query: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    __table_args__ = (UniqueConstraint("user_email", "page", "name", name="uq_saved_views_name"),)


class TutorPerformance(Base):
    """First-session statistics per computation, period and dimension (tutor, subject, segment, region)."""
    __tablename__ = "tutor_performance"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    computed_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    period: Mapped[str] = mapped_column(String(16))  # this_week, last_week, last_month, last_quarter
    period_start: Mapped[datetime] = mapped_column(DateTime)
    period_end: Mapped[datetime] = mapped_column(DateTime)
    dimension: Mapped[str] = mapped_column(String(16))  # tutor, subject, segment, region
    key: Mapped[str] = mapped_column(String(128))
    first_sessions: Mapped[int] = mapped_column(Integer)
    completed: Mapped[int] = mapped_column(Integer)
    no_show: Mapped[int] = mapped_column(Integer)
    rated_completed: Mapped[int] = mapped_column(Integer)
    successes: Mapped[int] = mapped_column(Integer)
    success_rate: Mapped[float | None] = mapped_column(Float)
    completion_rate: Mapped[float | None] = mapped_column(Float)
    avg_rating: Mapped[float | None] = mapped_column(Float)
    __table_args__ = (Index("ix_tutor_performance_lookup", "dimension", "period", "computed_at"),)


class ForecastRun(Base):
    __tablename__ = "forecast_runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    generated_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    model: Mapped[str] = mapped_column(String(64))
    train_start: Mapped[datetime | None] = mapped_column(DateTime)
    train_end: Mapped[datetime | None] = mapped_column(DateTime)
    detail: Mapped[str | None] = mapped_column(Text)  # JSON: settings, timings, backtest summary


class DemandForecast(Base):
    """Hourly forecast of sessions booked per subject, kept per run so accuracy can be scored later."""
    __tablename__ = "demand_forecasts"
    run_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject: Mapped[str] = mapped_column(String(64), primary_key=True)
    ts: Mapped[datetime] = mapped_column(DateTime, primary_key=True)
    yhat: Mapped[float] = mapped_column(Float)
    yhat_lower: Mapped[float] = mapped_column(Float)
    yhat_upper: Mapped[float] = mapped_column(Float)
    baseline: Mapped[float | None] = mapped_column(Float)
    __table_args__ = (Index("ix_demand_forecasts_subject_ts", "subject", "ts"),)


class ForecastModel(Base):
    """A fitted model per subject, stored as JSON (DemandForecaster.to_json), never pickle."""
    __tablename__ = "forecast_models"
    subject: Mapped[str] = mapped_column(String(64), primary_key=True)
    trained_at: Mapped[datetime] = mapped_column(DateTime)
    kind: Mapped[str] = mapped_column(String(32))
    model_json: Mapped[str] = mapped_column(Text)


class ForecastAccuracy(Base):
    __tablename__ = "forecast_accuracy"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(Integer, index=True)
    subject: Mapped[str] = mapped_column(String(64))
    evaluated_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    hours: Mapped[int] = mapped_column(Integer)
    mape: Mapped[float | None] = mapped_column(Float)
    smape: Mapped[float | None] = mapped_column(Float)
    coverage: Mapped[float | None] = mapped_column(Float)
    baseline_mape: Mapped[float | None] = mapped_column(Float)


class SupplyDemand(Base):
    """Available tutor hours vs forecast sessions per subject (and region) and hour for the coming week."""
    __tablename__ = "supply_demand"
    computed_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    subject: Mapped[str] = mapped_column(String(64), primary_key=True)
    region: Mapped[str] = mapped_column(String(8), primary_key=True)  # "ALL" for the subject total
    ts: Mapped[datetime] = mapped_column(DateTime, primary_key=True)
    available_hours: Mapped[float] = mapped_column(Float)
    booked_hours: Mapped[float] = mapped_column(Float)
    forecast: Mapped[float] = mapped_column(Float)
    coverage: Mapped[float | None] = mapped_column(Float)


class Alert(Base):
    __tablename__ = "alerts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dedup_key: Mapped[str] = mapped_column(String(255), index=True)
    rule: Mapped[str] = mapped_column(String(64), index=True)
    type: Mapped[str] = mapped_column(String(32), index=True)  # customer_risk, tutor_performance, supply_demand, anomaly
    severity: Mapped[str] = mapped_column(String(16), index=True)  # critical, warning, info
    status: Mapped[str] = mapped_column(String(16), index=True)  # active, acknowledged, resolved, dismissed, snoozed
    title: Mapped[str] = mapped_column(String(255))
    message: Mapped[str] = mapped_column(Text)
    entity_id: Mapped[str | None] = mapped_column(String(128), index=True)
    current_value: Mapped[float | None] = mapped_column(Float)
    expected_value: Mapped[str | None] = mapped_column(String(128))  # value or range, as text
    investigation: Mapped[str | None] = mapped_column(Text)  # suggested steps, one per line
    link: Mapped[str | None] = mapped_column(String(255))
    auto_resolve: Mapped[bool] = mapped_column(Boolean, default=True)
    detected_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime)
    snoozed_until: Mapped[datetime | None] = mapped_column(DateTime)
    details: Mapped[str | None] = mapped_column(Text)  # JSON
    # lists are "newest first" = detected_at DESC, id DESC: one job run raises thousands of alerts with the
    # same detected_at, and without id in the index the newest page sorts them all (0.3 s at 500,000)
    __table_args__ = (Index("ix_alerts_status_severity", "status", "severity"),
                      Index("ix_alerts_detected_at_id", "detected_at", "id"))


class AlertEvent(Base):
    """State history of an alert: who changed what, when, and why."""
    __tablename__ = "alert_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[int] = mapped_column(Integer, index=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    user_email: Mapped[str | None] = mapped_column(String(255))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str | None] = mapped_column(Text)


class AlertDelivery(Base):
    """Each message to a channel: retried with backoff, never sent twice (unique dedup key)."""
    __tablename__ = "alert_deliveries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dedup_key: Mapped[str] = mapped_column(String(255), unique=True)
    channel: Mapped[str] = mapped_column(String(16))  # email, slack
    kind: Mapped[str] = mapped_column(String(16))  # immediate, digest
    recipients: Mapped[str] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)
    alert_ids: Mapped[str] = mapped_column(Text)  # comma-separated
    status: Mapped[str] = mapped_column(String(16), index=True)  # pending, sent, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)


class Silence(Base):
    __tablename__ = "silences"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    rule: Mapped[str | None] = mapped_column(String(64))
    metric: Mapped[str | None] = mapped_column(String(128))
    starts_at: Mapped[datetime] = mapped_column(DateTime)
    ends_at: Mapped[datetime] = mapped_column(DateTime)
    reason: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(255))


class MetricRule(Base):
    """Per-metric detector settings that operators tune (thresholds, enabled methods)."""
    __tablename__ = "metric_rules"
    metric: Mapped[str] = mapped_column(String(128), primary_key=True)
    settings: Mapped[str] = mapped_column(Text)  # JSON
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    updated_by: Mapped[str | None] = mapped_column(String(255))


class Anomaly(Base):
    """A detected anomaly event (consecutive flags merged), the evidence behind an anomaly alert."""
    __tablename__ = "anomalies"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    metric: Mapped[str] = mapped_column(String(128), index=True)
    method: Mapped[str] = mapped_column(String(32))
    start_ts: Mapped[datetime] = mapped_column(DateTime, index=True)
    end_ts: Mapped[datetime] = mapped_column(DateTime)
    value: Mapped[float] = mapped_column(Float)
    expected: Mapped[float | None] = mapped_column(Float)
    why: Mapped[str] = mapped_column(Text)
    detected_at: Mapped[datetime] = mapped_column(DateTime)  # first flagged by the job (kept on updates)
    peak_ts: Mapped[datetime | None] = mapped_column(DateTime)
    score: Mapped[float | None] = mapped_column(Float)  # statistic / threshold
    severity: Mapped[str | None] = mapped_column(String(16))
    details: Mapped[str | None] = mapped_column(Text)  # JSON
    updated_at: Mapped[datetime | None] = mapped_column(DateTime)
    __table_args__ = (Index("ux_anomalies_metric_method_start", "metric", "method", "start_ts", unique=True),)


class Recommendation(Base):
    __tablename__ = "recommendations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dedup_key: Mapped[str] = mapped_column(String(255), index=True)
    rule: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str | None] = mapped_column(String(64), index=True)
    campaign_id: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(255))
    reason: Mapped[str] = mapped_column(Text)
    expected_impact: Mapped[str] = mapped_column(Text)
    roi: Mapped[float | None] = mapped_column(Float)
    priority: Mapped[int] = mapped_column(Integer)  # 1 (highest) to 5
    status: Mapped[str] = mapped_column(String(16), index=True)  # pending, implemented, dismissed, expired
    created_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    decided_by: Mapped[str | None] = mapped_column(String(255))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    details: Mapped[str | None] = mapped_column(Text)  # JSON: the numbers behind it


class ChurnModelRecord(Base):
    __tablename__ = "churn_models"
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    trained_at: Mapped[datetime] = mapped_column(DateTime)
    kind: Mapped[str] = mapped_column(String(64))
    train_start: Mapped[datetime] = mapped_column(DateTime)
    train_end: Mapped[datetime] = mapped_column(DateTime)
    threshold: Mapped[float] = mapped_column(Float)
    metrics: Mapped[str] = mapped_column(Text)  # JSON: holdout precision, recall, AUC, calibration
    model_blob: Mapped[bytes] = mapped_column(LargeBinary)  # joblib of the fitted sklearn pipeline
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class ChurnPrediction(Base):
    __tablename__ = "churn_predictions"
    customer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    model_version: Mapped[int] = mapped_column(Integer)
    predicted_at: Mapped[datetime] = mapped_column(DateTime)
    probability: Mapped[float] = mapped_column(Float, index=True)
    predicted: Mapped[bool] = mapped_column(Boolean)
    factors: Mapped[str] = mapped_column(Text)  # JSON: [{feature, label, value, contribution}]
    intervention: Mapped[str | None] = mapped_column(String(255))
    # domain.churn.value: expected revenue over 12 months and probability x that (the worklist's order)
    sessions_per_month: Mapped[float | None] = mapped_column(Float)
    clv: Mapped[float | None] = mapped_column(Float)
    revenue_at_risk: Mapped[float | None] = mapped_column(Float, index=True)


class ChurnPredictionHistory(Base):
    """Daily risk per customer kept for the risk trend and for joining contacts to outcomes."""
    __tablename__ = "churn_prediction_history"
    customer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    probability: Mapped[float] = mapped_column(Float)
    model_version: Mapped[int] = mapped_column(Integer)
    __table_args__ = (Index("ix_churn_prediction_history_day", "day"),)  # the risk trend's days


class OverviewSnapshot(Base):
    """The overview cards as computed by the overview job (JSON), newest last; pages and API read the newest."""
    __tablename__ = "overview_snapshots"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    computed_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    payload: Mapped[str] = mapped_column(Text)
