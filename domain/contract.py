"""The data contract (docs/DATA_CONTRACT.md) as data: records, fields, types, vocabularies, keys.

Adapters return DataFrames with exactly these columns; ingestion validates against them;
the store's source tables are named after them.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # "str", "datetime", "date", "int", "float"
    required: bool = True
    vocab: tuple[str, ...] | None = None
    future_ok: bool = False  # times: may lie in the future (a booking's scheduled_time); others may not
    personal: bool = False  # personal data: never logged, never echoed in a quarantine reason


@dataclass(frozen=True)
class Record:
    name: str
    fields: tuple[Field, ...]
    key: tuple[str, ...]
    watermark: str | None  # column polled by; None means a full snapshot each poll
    refs: dict[str, tuple[str, str]] = field(default_factory=dict)  # column -> (record, column)
    snapshot_of: str | None = None  # snapshot records: each poll is the whole truth for the parents it names

    @property
    def personal(self) -> frozenset[str]:
        return frozenset(f.name for f in self.fields if f.personal)

    @property
    def columns(self) -> list[str]:
        return [f.name for f in self.fields]

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)


DUPLICATE_RULE = ("A row whose id appears more than once in a batch: the newest updated_at wins, older versions "
                  "are dropped; rows tied at the newest updated_at with different content are all quarantined.")

SEGMENTS = ("k12", "college", "adult", "test_prep")
CHANNELS = ("organic", "paid_search", "social", "referral", "partner", "email")
US_STATES = (
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN", "IA",
    "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM",
    "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA",
    "WV", "WI", "WY", "PR",
)

RECORDS: dict[str, Record] = {
    "customers": Record(
        "customers",
        (
            Field("customer_id", "str"),
            Field("signup_date", "datetime"),  # a full timestamp: the time of day is kept
            Field("acquisition_channel", "str"),
            Field("segment", "str"),
            Field("region", "str", vocab=US_STATES),
            Field("goal", "str", required=False),
            Field("goal_status", "str", vocab=("none", "in_progress", "completed")),
            Field("goal_completed_at", "datetime", required=False),
            Field("status", "str", vocab=("active", "paused", "churned")),
            Field("churned_at", "datetime", required=False),
            Field("updated_at", "datetime"),
            Field("name", "str", required=False, personal=True),
            Field("email", "str", required=False, personal=True),
            Field("phone", "str", required=False, personal=True),
        ),
        key=("customer_id",),
        watermark="updated_at",
    ),
    "tutors": Record(
        "tutors",
        (
            Field("tutor_id", "str"),
            Field("name", "str"),
            Field("subjects", "str"),
            Field("region", "str", vocab=US_STATES),
            Field("status", "str", vocab=("active", "onboarding", "inactive")),
            Field("rating_avg", "float", required=False),
            Field("hired_at", "datetime"),
            Field("updated_at", "datetime"),
        ),
        key=("tutor_id",),
        watermark="updated_at",
    ),
    "tutor_availability": Record(
        "tutor_availability",
        (
            Field("tutor_id", "str"),
            Field("weekday", "int"),
            Field("start_hour", "int"),
            Field("end_hour", "int"),
        ),
        key=("tutor_id", "weekday", "start_hour"),
        watermark=None,
        refs={"tutor_id": ("tutors", "tutor_id")},
        snapshot_of="tutor_id",
    ),
    "sessions": Record(
        "sessions",
        (
            Field("session_id", "str"),
            Field("customer_id", "str"),
            Field("tutor_id", "str"),
            Field("subject", "str"),
            Field("start_time", "datetime"),
            Field("end_time", "datetime", future_ok=True),  # a running session's planned end
            Field("rating", "float", required=False),
            Field("status", "str", vocab=("completed", "cancelled", "no_show")),
            Field("updated_at", "datetime"),
            Field("price", "float", required=False),
        ),
        key=("session_id",),
        watermark="updated_at",
        refs={"customer_id": ("customers", "customer_id"), "tutor_id": ("tutors", "tutor_id")},
    ),
    "bookings": Record(
        "bookings",
        (
            Field("booking_id", "str"),
            Field("customer_id", "str"),
            Field("tutor_id", "str"),
            Field("subject", "str"),
            Field("scheduled_time", "datetime", future_ok=True),
            Field("created_at", "datetime"),
            Field("status", "str", vocab=("scheduled", "completed", "cancelled", "rescheduled", "no_show")),
            Field("rescheduled_by", "str", required=False, vocab=("tutor", "customer")),
            Field("updated_at", "datetime"),
        ),
        key=("booking_id",),
        watermark="updated_at",
        refs={"customer_id": ("customers", "customer_id"), "tutor_id": ("tutors", "tutor_id")},
    ),
    "inbound_calls": Record(
        "inbound_calls",
        (
            Field("call_id", "str"),
            Field("customer_id", "str"),
            Field("call_date", "datetime"),
            Field("duration_s", "int"),
            Field("reason_code", "str"),
        ),
        key=("call_id",),
        watermark="call_date",
        refs={"customer_id": ("customers", "customer_id")},
    ),
    "campaigns": Record(
        "campaigns",
        (
            Field("campaign_id", "str"),
            Field("subject", "str"),
            Field("channel", "str"),
            Field("daily_budget", "float"),
            Field("status", "str", vocab=("active", "paused")),
            Field("cost_per_hire", "float"),
            Field("updated_at", "datetime"),
        ),
        key=("campaign_id",),
        watermark="updated_at",
    ),
    "metric_points": Record(
        "metric_points",
        (
            Field("metric", "str"),
            Field("ts", "datetime"),
            Field("value", "float"),
        ),
        key=("metric", "ts"),
        watermark="ts",
    ),
}

# Order in which records are ingested, so references resolve.
INGEST_ORDER = (
    "customers", "tutors", "tutor_availability", "campaigns",
    "sessions", "bookings", "inbound_calls", "metric_points",
)

SUBJECTS = (
    "math", "algebra", "calculus", "geometry", "statistics", "physics", "chemistry", "biology",
    "english", "writing", "spanish", "french", "history", "computer_science", "sat_prep", "act_prep",
)
CALL_REASONS = ("billing", "scheduling", "tutor_quality", "technical", "cancellation", "general")
