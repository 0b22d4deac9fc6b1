"""Read side of the forecast, supply and recommendation features, for the pages, the API and the jobs.

No Dash or Flask: plain reads of forecast_runs, demand_forecasts, forecast_accuracy, supply_demand,
alerts and recommendations, (a recruiter's decision is written by writes/recommendations.py).
The *forecast of record* of a subject is the model's ``yhat`` unless the run's detail says the baseline
is (the model did not beat "same hour last week" on its scored runs; jobs/demand/forecast.py).
"""
from __future__ import annotations

import json
from datetime import timedelta

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from models.derived import Alert, DemandForecast, ForecastAccuracy, ForecastRun, Recommendation, SupplyDemand
from models.frames import read_frame
from models.source import Booking
from domain.alerting.lifecycle import OPEN_STATES
from read.cache import cached_read
from domain.forecasting import hourly_demand
from domain.recommendations import DECISIONS
from infra.clock import utcnow
from loaders.forecasts import latest_run, record_forecast, run_by_id

SHORTAGE, SURPLUS = 0.8, 1.3
REC_STATUSES = ("pending", "implemented", "dismissed", "expired")
STATUS_CHOICES = ("pending", "decided", "all") + REC_STATUSES[1:]
DECIDE_ROLES = ("admin", "ops", "recruiter")  # who may implement or dismiss (recruiting is theirs)
REC_COLUMNS = ["id", "rule", "subject", "campaign_id", "action", "reason", "expected_impact", "roi", "priority",
               "status", "created_at", "expires_at", "decided_at", "decided_by", "decision_reason", "details"]


# -- forecast runs ---------------------------------------------------------------------------------------


def run_subjects(run: dict | None) -> list[str]:
    return sorted(run["detail"].get("subjects", {})) if run else []


@cached_read
def subject_choice(engine: Engine, wanted: str | None = None) -> tuple[list[str], str | None]:
    """(subjects of the latest run, the one to show): ``wanted`` when forecast, else the subject with the most
    shortage hours this week, else the first."""
    names = run_subjects(latest_run(engine))
    if not names or wanted in names:
        return names, wanted if names else None
    summary = supply_summary.uncached(engine)
    short = summary[summary["shortage_hours"] > 0]
    return names, short["subject"].iloc[0] if len(short) else names[0]


@cached_read
def subject_view(engine: Engine, subject: str, days_back: int = 7) -> dict:
    """Everything the forecast chart of one subject shows, from the latest run.

    Returns {"run": {id, generated_at, start, model, of_record, why, validation, live}, "forecast":
    DataFrame[ts, yhat, yhat_lower, yhat_upper, baseline, forecast, source, available_hours, booked_hours,
    coverage], "actual": DataFrame[ts, y] (sessions per hour for ``days_back`` days before the run's start),
    "past": DataFrame[ts, forecast] (what the run closest to ``days_back`` days earlier forecast for those
    hours)} or {} without a run.
    """
    run = latest_run(engine)
    if run is None:
        return {}
    info = run["detail"].get("subjects", {}).get(subject)
    fc = record_forecast(engine, run, subject).drop(columns="subject")
    with engine.connect() as conn:
        supply = read_frame(conn, select(SupplyDemand.ts, SupplyDemand.available_hours, SupplyDemand.booked_hours,
                                         SupplyDemand.coverage)
                            .where(SupplyDemand.subject == subject, SupplyDemand.region == "ALL"), parse_dates=["ts"])
        start = run["start"] - timedelta(days=days_back)
        bookings = read_frame(conn, select(Booking.subject, Booking.scheduled_time, Booking.status)
                              .where(Booking.subject == subject, Booking.scheduled_time >= start,
                                     Booking.scheduled_time < run["start"]), parse_dates=["scheduled_time"])
        past_id = conn.execute(select(ForecastRun.id).where(ForecastRun.generated_at <= start + timedelta(hours=1),
                                                            ForecastRun.id.in_(select(DemandForecast.run_id).distinct()))
                               .order_by(ForecastRun.generated_at.desc()).limit(1)).scalar()
    actual = hourly_demand(bookings, start, run["start"], subjects=[subject])[["ts", "y"]]
    past = pd.DataFrame(columns=["ts", "forecast"])
    if past_id is not None:
        with engine.connect() as conn:
            past_run = run_by_id(conn, past_id)
        past = record_forecast(engine, past_run, subject)
        past = past.loc[(past["ts"] >= start) & (past["ts"] < run["start"]), ["ts", "forecast"]]
    fc = fc.merge(supply, on="ts", how="left")
    return {"run": {"id": run["id"], "generated_at": run["generated_at"], "start": run["start"],
                    "model": (info or {}).get("model"), "of_record": (info or {}).get("of_record", "model"),
                    "why": (info or {}).get("why"), "validation": (info or {}).get("validation"),
                    "live": (info or {}).get("live"), "trained_at": (info or {}).get("trained_at")},
            "forecast": fc, "actual": actual, "past": past}


# -- supply ----------------------------------------------------------------------------------------------
@cached_read
def coverage_matrix(engine: Engine) -> dict:
    """Coverage of the stored week, subject x hour (region ALL): {"subjects", "ts", "z" (list of rows, None where
    there is no open demand), "computed_at"}."""
    with engine.connect() as conn:
        df = read_frame(conn, select(SupplyDemand.subject, SupplyDemand.ts, SupplyDemand.coverage,
                                     SupplyDemand.computed_at).where(SupplyDemand.region == "ALL"),
                        parse_dates=["ts", "computed_at"])
    if df.empty:
        return {"subjects": [], "ts": [], "z": [], "computed_at": None}
    m = df.pivot_table(index="subject", columns="ts", values="coverage", aggfunc="first", dropna=False)
    m = m.reindex(columns=sorted(df["ts"].unique()))
    z = [[None if pd.isna(v) else round(float(v), 3) for v in row] for row in m.to_numpy()]
    return {"subjects": list(m.index), "ts": [pd.Timestamp(t) for t in m.columns], "z": z,
            "computed_at": df["computed_at"].max()}


@cached_read
def supply_summary(engine: Engine, by_region: bool = False, subject: str | None = None) -> pd.DataFrame:
    """Per subject (and tutor region) over the stored week: hours, forecast sessions, open tutor hours, booked
    tutor hours, utilization (booked / (booked + open) tutor hours), shortage hours (coverage < 0.8), surplus
    hours (coverage > 1.3) and the lowest coverage."""
    region = SupplyDemand.region != "ALL" if by_region else SupplyDemand.region == "ALL"
    stmt = select(SupplyDemand.subject, SupplyDemand.region, SupplyDemand.ts, SupplyDemand.available_hours,
                  SupplyDemand.booked_hours, SupplyDemand.forecast, SupplyDemand.coverage).where(region)
    if subject:
        stmt = stmt.where(SupplyDemand.subject == subject)
    with engine.connect() as conn:
        df = read_frame(conn, stmt)
    cols = ["subject", "region", "forecast", "available_hours", "booked_hours", "utilization", "shortage_hours",
            "surplus_hours", "min_coverage"]
    if df.empty:
        return pd.DataFrame(columns=cols)
    df["short"] = (df["coverage"] < SHORTAGE).astype(int)
    df["surplus"] = (df["coverage"] > SURPLUS).astype(int)
    out = df.groupby(["subject", "region"], as_index=False).agg(
        forecast=("forecast", "sum"), available_hours=("available_hours", "sum"), booked_hours=("booked_hours", "sum"),
        shortage_hours=("short", "sum"), surplus_hours=("surplus", "sum"), min_coverage=("coverage", "min"))
    total = out["booked_hours"] + out["available_hours"]
    out["utilization"] = np.where(total > 0, out["booked_hours"] / total.where(total > 0, 1), np.nan)
    return out[cols].sort_values(["shortage_hours", "subject", "region"], ascending=[False, True, True],
                                 ignore_index=True)


def supply_alerts(engine: Engine, subject: str | None = None) -> pd.DataFrame:
    """Open supply/demand alerts (recruiting, capacity, surplus), most severe first."""
    stmt = select(Alert.id, Alert.rule, Alert.severity, Alert.title, Alert.message, Alert.entity_id,
                  Alert.detected_at, Alert.details).where(Alert.type == "supply_demand", Alert.status.in_(OPEN_STATES))
    if subject:
        stmt = stmt.where(Alert.entity_id == subject)
    with engine.connect() as conn:
        df = read_frame(conn, stmt, parse_dates=["detected_at"])
    order = {"critical": 0, "warning": 1, "info": 2}
    return df.assign(_o=df["severity"].map(order)).sort_values(["_o", "detected_at"]).drop(columns="_o")


# -- accuracy --------------------------------------------------------------------------------------------
@cached_read
def accuracy_history(engine: Engine, subject: str | None = None, days: int = 90) -> pd.DataFrame:
    """Scored runs per day: DataFrame[day, subject, runs, mape, baseline_mape, coverage, hours] (means over the
    runs generated that day, for the ``days`` before the latest run; MAPE is the weighted MAPE of
    domain/forecasting/metrics.py)."""
    with engine.connect() as conn:
        newest = conn.execute(select(func.max(ForecastRun.generated_at))).scalar() or utcnow()
    stmt = (select(ForecastRun.generated_at, ForecastAccuracy.subject, ForecastAccuracy.mape,
                   ForecastAccuracy.baseline_mape, ForecastAccuracy.coverage, ForecastAccuracy.hours)
            .join(ForecastRun, ForecastRun.id == ForecastAccuracy.run_id)
            .where(ForecastRun.generated_at >= newest - timedelta(days=days + 7)))
    if subject:
        stmt = stmt.where(ForecastAccuracy.subject == subject)
    with engine.connect() as conn:
        df = read_frame(conn, stmt, parse_dates=["generated_at"])
    cols = ["day", "subject", "runs", "mape", "baseline_mape", "coverage", "hours"]
    if df.empty:
        return pd.DataFrame(columns=cols)
    df["day"] = df["generated_at"].dt.normalize()
    out = df.groupby(["day", "subject"], as_index=False).agg(
        runs=("mape", "size"), mape=("mape", "mean"), baseline_mape=("baseline_mape", "mean"),
        coverage=("coverage", "mean"), hours=("hours", "sum"))
    return out[cols].sort_values(["subject", "day"], ignore_index=True)


# -- recommendations -------------------------------------------------------------------------------------
def statuses_for(choice: str | None) -> tuple[str, ...]:
    """"pending" (default), "decided" (implemented or dismissed), "all", or one status; ValueError otherwise."""
    choice = (choice or "pending").strip().lower()
    if choice == "all":
        return REC_STATUSES
    if choice == "decided":
        return ("implemented", "dismissed")
    if choice in REC_STATUSES:
        return (choice,)
    raise ValueError(f"status must be one of {', '.join(STATUS_CHOICES)}")


@cached_read
def list_recommendations(engine: Engine, statuses: tuple[str, ...] = ("pending",), limit: int = 100,
                         offset: int = 0, subject: str | None = None) -> tuple[pd.DataFrame, int]:
    """Recommendations in the given statuses (REC_COLUMNS, details parsed), pending ones by priority then
    newest, decided ones newest decision first; and how many match in all."""
    conds = [Recommendation.status.in_(statuses)]
    if subject:
        conds.append(Recommendation.subject == subject)
    order = ([Recommendation.priority, Recommendation.created_at.desc()] if statuses == ("pending",)
             else [func.coalesce(Recommendation.decided_at, Recommendation.created_at).desc()])
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(Recommendation).where(*conds)).scalar() or 0
        df = read_frame(conn, select(*(getattr(Recommendation, c) for c in REC_COLUMNS)).where(*conds)
                        .order_by(*order, Recommendation.id.desc()).limit(limit).offset(offset),
                        parse_dates=["created_at", "expires_at", "decided_at"])
    df["details"] = df["details"].map(lambda d: json.loads(d) if d else {})
    return df, int(total)


@cached_read
def acceptance(engine: Engine) -> dict:
    """Counts by status and the acceptance rate = implemented / (implemented + dismissed) (None before any decision)."""
    with engine.connect() as conn:
        counts = dict(conn.execute(select(Recommendation.status, func.count()).group_by(Recommendation.status)).all())
    out = {s: int(counts.get(s, 0)) for s in REC_STATUSES}
    decided = out["implemented"] + out["dismissed"]
    out["decided"] = decided
    out["rate"] = out["implemented"] / decided if decided else None
    return out


@cached_read
def acceptance_history(engine: Engine, days: int = 90) -> pd.DataFrame:
    """Per day of decision: DataFrame[day, implemented, dismissed, rate (that day), cumulative_rate (all decisions
    up to and including that day)]."""
    with engine.connect() as conn:
        df = read_frame(conn, select(Recommendation.decided_at, Recommendation.status)
                        .where(Recommendation.status.in_(tuple(DECISIONS.values())),
                               Recommendation.decided_at.is_not(None)), parse_dates=["decided_at"])
    cols = ["day", "implemented", "dismissed", "rate", "cumulative_rate"]
    if df.empty:
        return pd.DataFrame(columns=cols)
    df["day"] = df["decided_at"].dt.normalize()
    out = pd.crosstab(df["day"], df["status"]).reindex(columns=["implemented", "dismissed"], fill_value=0).reset_index()
    out["rate"] = out["implemented"] / (out["implemented"] + out["dismissed"])
    out["cumulative_rate"] = out["implemented"].cumsum() / (out["implemented"] + out["dismissed"]).cumsum()
    out = out[out["day"] >= pd.Timestamp(utcnow()).normalize() - pd.Timedelta(days=days)]
    return out[cols].reset_index(drop=True)


