"""The supply job (issue 9): tutor supply against forecast demand for the coming week, and imbalance alerts.

As of T = ctx.at floored to the hour (hourly, after the forecast job):

1. demand: the latest forecast run's forecast of record (loaders.forecasts.record_forecast) for
   [T, T + 168 h); supply: domain.supply.available_hours from active tutors' weekly availability and the
   bookings already taken, by subject and by subject x tutor region; coverage = open tutor hours / open demand
   (domain.supply.coverage, DATA_CONTRACT "Supply/demand coverage"). Regional demand is the subject's
   forecast times the share of its bookings of the last 28 days held by tutors of that region, so both sides
   count the same tutors. Run for a past ``--at``, bookings are taken as they stood then (created by T; a
   booking cancelled or rescheduled later was still scheduled).
2. supply_demand is replaced by this computation: region "ALL" rows (every subject and hour) and regional
   rows (those with any supply or demand). Coverage is stored for judged hours only (see 3): NULL, like an
   hour without demand, where open demand is below ``supply_min_open_demand`` sessions.
3. alerts through sync_alerts (type supply_demand). Hours whose open demand is below
   ``supply_min_open_demand`` sessions are not judged (a fraction of a session at 4 a.m. is no shortage);
   a shortage window (domain.supply.shortages: consecutive hours below 80 % coverage) must miss at least
   ``shortage_min_missing`` sessions.
   - ``supply.shortage``, the recruiting alert: a subject short in a window starting >= ``shortage_lead_h``
     (12) hours ahead; critical below 60 % coverage, else warning; one alert per subject and window start
     day (dedup key), kept open (refreshed) while its window is still ahead, resolved when it has passed or
     cleared. Raised only while 12 h or more remain, so it always comes at least 12 hours early.
   - ``supply.capacity``: every shortage window of the week as a time slot (including the next 12 hours,
     too late to recruit for but not to open hours or move sessions); warning; key subject + start hour.
   - ``supply.surplus``: a subject with >= ``surplus_alert_min_hours`` hours in surplus windows (>= 6 h
     above 130 %), no shortage window and no judged hour below 80 % anywhere in the week
     (domain.supply.surpluses): a campaign adjustment (trim recruiting, promote those slots); info. So a
     subject never gets a shortage and a surplus alert in one run.
4. bumps the data version topic ``supply``.
"""
from __future__ import annotations

import time
from datetime import datetime, timedelta
from urllib.parse import quote

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.engine import Engine

from models.derived import Alert, SupplyDemand
from models.bulk import bulk_insert
from models.frames import read_frame
from models.source import Tutor, TutorAvailability
from writes.alerts import sync_alerts
from domain.alerting.lifecycle import OPEN_STATES, AlertSpec
from jobs.context import JobContext
from loaders.bookings import held_counts, load_bookings
from loaders.forecasts import latest_run, record_forecast
from infra.versions import bump_version
from domain.supply import SHORTAGE, SURPLUS, available_hours, bookings_as_of, coverage, shortages, surpluses

TOPIC = "supply"
HORIZON_H = 168
SHARE_DAYS = 28
RULES = ("supply.shortage", "supply.capacity", "supply.surplus")


def load_inputs(engine: Engine, at: datetime) -> dict[str, pd.DataFrame]:
    """Tutors, availability, the coming week's bookings as they stood at ``at`` and, per subject and tutor,
    the bookings held in the SHARE_DAYS before (for the regional split)."""
    start = pd.Timestamp(at).floor("h").to_pydatetime()
    with engine.connect() as conn:
        tutors = read_frame(conn, select(Tutor.tutor_id, Tutor.subjects, Tutor.region, Tutor.status))
        availability = read_frame(conn, select(TutorAvailability.tutor_id, TutorAvailability.weekday,
                                               TutorAvailability.start_hour, TutorAvailability.end_hour))
    bookings = load_bookings(engine, start, start + timedelta(hours=HORIZON_H),
                             ("booking_id", "tutor_id", "subject", "scheduled_time", "created_at", "status", "updated_at"))
    held = held_counts(engine, start - timedelta(days=SHARE_DAYS), start, ("subject", "tutor_id"))
    return {"tutors": tutors, "availability": availability, "bookings": bookings_as_of(bookings, at), "held": held}


def region_shares(held: pd.DataFrame, tutors: pd.DataFrame) -> pd.DataFrame:
    """held: DataFrame[subject, tutor_id, n] -> DataFrame[subject, region, share]: each tutor region's share of
    a subject's held bookings."""
    region = tutors.assign(tutor_id=tutors["tutor_id"].astype(str)).set_index("tutor_id")["region"]
    past = held.assign(region=held["tutor_id"].astype(str).map(region)).dropna(subset=["region"])
    counts = past.groupby(["subject", "region"])["n"].sum().reset_index()
    counts["share"] = counts["n"] / counts.groupby("subject")["n"].transform("sum")
    return counts[["subject", "region", "share"]]


def coverage_frames(engine: Engine, at: datetime) -> tuple[pd.DataFrame, pd.DataFrame, dict | None, dict]:
    """(coverage by subject, coverage by subject x region, the forecast run used, inputs) for [T, T + 168 h).

    Coverage frames have domain.supply.coverage's columns; the forecast is the run's forecast of record."""
    start = pd.Timestamp(at).floor("h").to_pydatetime()
    inputs = load_inputs(engine, at)
    run = latest_run(engine, at)
    fc = record_forecast(engine, run) if run else pd.DataFrame(columns=["subject", "ts", "forecast"])
    fc = fc[(fc["ts"] >= start) & (fc["ts"] < start + timedelta(hours=HORIZON_H))]
    fc = fc[["subject", "ts"]].assign(yhat=fc["forecast"].astype(float))
    t, av, upcoming = inputs["tutors"], inputs["availability"], inputs["bookings"]
    numbers = {"available_hours": float, "booked_hours": float, "booked_sessions": float}
    by_subject = available_hours(t, av, upcoming, start, HORIZON_H).astype(numbers)
    missing = sorted(set(fc["subject"]) - set(by_subject["subject"]))  # demand without any tutor
    if missing:
        grid = pd.MultiIndex.from_product([missing, pd.date_range(start, periods=HORIZON_H, freq="h")],
                                          names=["subject", "ts"]).to_frame(index=False)
        by_subject = pd.concat([by_subject, grid.assign(available_hours=0.0, booked_hours=0.0, booked_sessions=0.0)],
                               ignore_index=True)
    cov = coverage(by_subject, fc)
    by_region = available_hours(t, av, upcoming, start, HORIZON_H, by=("subject", "region")).astype(numbers)
    regional = fc.merge(region_shares(inputs["held"], t), on="subject")
    cov_region = coverage(by_region, regional.assign(yhat=regional["yhat"] * regional["share"]))
    return cov, cov_region, run, inputs


def judged(cov: pd.DataFrame, min_open_demand: float) -> pd.DataFrame:
    """Coverage with hours below ``min_open_demand`` open sessions set to NaN (not judged)."""
    return cov.assign(coverage=cov["coverage"].where(cov["open_demand"] >= min_open_demand))


def _store(engine: Engine, cov: pd.DataFrame, cov_region: pd.DataFrame, at: datetime, min_open_demand: float) -> int:
    """Replace supply_demand with this computation; coverage is stored for judged hours only (NULL below
    ``min_open_demand`` open sessions, as for an hour without demand), so every reader judges alike."""
    cols = ["computed_at", "subject", "region", "ts", "available_hours", "booked_hours", "forecast", "coverage"]
    region = cov_region[(cov_region["available_hours"] > 0) | (cov_region["booked_hours"] > 0)
                        | (cov_region["forecast"] > 0)]
    rows = pd.concat([judged(cov, min_open_demand).assign(region="ALL"), judged(region, min_open_demand)],
                     ignore_index=True).assign(computed_at=at)
    rows["coverage"] = rows["coverage"].replace([np.inf, -np.inf], np.nan)
    with engine.begin() as conn:
        conn.execute(SupplyDemand.__table__.delete())
        return bulk_insert(conn, SupplyDemand.__table__, rows[cols])


def _hour_rows(cov: pd.DataFrame, subject: str, start, end) -> list[dict]:
    h = cov[(cov["subject"] == subject) & (cov["ts"] >= start) & (cov["ts"] < end)]
    return [{"ts": r.ts.isoformat(), "forecast": round(float(r.forecast), 2), "open_demand": round(float(r.open_demand), 2),
             "available_hours": float(r.available_hours), "booked_sessions": float(r.booked_sessions),
             "coverage": None if pd.isna(r.coverage) else round(float(r.coverage), 3)} for r in h.itertuples()]


def _when(start: pd.Timestamp, end: pd.Timestamp) -> str:
    return f"{start:%a %d %b %H:%M}–{end:%H:%M} UTC"


def shortage_windows(cov: pd.DataFrame, at: datetime, min_open_demand: float, min_missing: float) -> pd.DataFrame:
    """Shortage windows of the week (domain.supply.shortages on judged hours) missing >= ``min_missing``
    sessions, with lead_h measured from ``at``."""
    start = pd.Timestamp(at).floor("h")
    w = shortages(judged(cov, min_open_demand), threshold=SHORTAGE, min_lead_h=0, at=start)
    w = w[w["missing_hours"] >= min_missing].copy()
    if w.empty:
        return w
    w["lead_h"] = (pd.to_datetime(w["start"]) - pd.Timestamp(at)) / pd.Timedelta(hours=1)
    return w.reset_index(drop=True)


def _open_keys(engine: Engine, rule: str) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(select(Alert.dedup_key).where(Alert.rule == rule, Alert.status.in_(OPEN_STATES))).scalars())


def shortage_specs(windows: pd.DataFrame, cov: pd.DataFrame, at: datetime, lead_h: float,
                   still_open: set[str]) -> list[AlertSpec]:
    """supply.shortage: one per subject and window start day (windows of a day merged)."""
    if windows.empty:
        return []
    w = windows.assign(day=windows["start"].dt.strftime("%Y-%m-%d"))
    w["key"] = "supply.shortage:" + w["subject"] + ":" + w["day"]
    specs = []
    for key, g in w.groupby("key", sort=True):
        g = g.sort_values("start")
        first = g.iloc[0]
        if first["lead_h"] < lead_h and key not in still_open:
            continue  # too late to recruit for: only the capacity warning covers it
        subject, low = first["subject"], float(g["min_coverage"].min())
        start, end = g["start"].min(), g["end"].max()
        forecast, open_hours, missing = float(g["forecast"].sum()), float(g["available_hours"].sum()), float(g["missing_hours"].sum())
        windows_text = "; ".join(_when(r.start, r.end) for r in g.itertuples())
        specs.append(AlertSpec(
            rule="supply.shortage", type="supply_demand", severity="critical" if low < 0.6 else "warning",
            title=f"Recruit {subject} tutors: coverage {low:.0%} from {start:%a %d %b %H:%M} UTC "
                  f"({first['lead_h']:.0f} h ahead)",
            message=(f"{subject} is short of tutors in {windows_text}: {forecast:.1f} sessions forecast, "
                     f"{open_hours:.0f} open tutor hours, {missing:.1f} sessions that no open tutor hour can take; "
                     f"lowest coverage {low:.0%} (a shortage is below {SHORTAGE:.0%}). Raised "
                     f"{first['lead_h']:.0f} hours ahead of the first short hour."),
            dedup_key=key, entity_id=subject, current_value=low, expected_value=f"≥ {SHORTAGE:.0%}",
            investigation=[
                f"Open the forecast page for {subject}: which hours, and is the forecast credible (accuracy)?",
                f"Check {subject}'s recruiting campaigns on the recommendations page: paused ones, budget",
                f"Ask active {subject} tutors to open hours in the short slots",
                "Look for tutors who left or went inactive recently",
            ],
            link=f"/forecast?subject={quote(subject)}",
            details={"windows": [{"start": r.start.isoformat(), "end": r.end.isoformat(), "hours": int(r.hours),
                                  "min_coverage": float(r.min_coverage), "missing": float(r.missing_hours),
                                  "lead_h": float(r.lead_h)} for r in g.itertuples()],
                     "start": start.isoformat(), "end": end.isoformat(), "lead_h": float(first["lead_h"]),
                     "forecast": forecast, "available_hours": open_hours, "missing": missing,
                     "hours": _hour_rows(cov, subject, start, end), "detected_for": pd.Timestamp(at).isoformat()}))
    return specs


def capacity_specs(windows: pd.DataFrame, cov: pd.DataFrame) -> list[AlertSpec]:
    specs = []
    for r in windows.itertuples():
        specs.append(AlertSpec(
            rule="supply.capacity", type="supply_demand", severity="warning",
            title=f"{r.subject}: {r.missing_hours:.1f} sessions without a tutor, {_when(r.start, r.end)}",
            message=(f"Predicted shortage in this slot: {r.forecast:.1f} {r.subject} sessions forecast, "
                     f"{r.available_hours:.0f} open tutor hours, coverage {r.min_coverage:.0%}–{r.max_coverage:.0%} "
                     f"over {int(r.hours)} h ({r.lead_h:.0f} h ahead)."),
            dedup_key=f"supply.capacity:{r.subject}:{r.start:%Y-%m-%dT%H}", entity_id=r.subject,
            current_value=float(r.min_coverage), expected_value=f"≥ {SHORTAGE:.0%}",
            investigation=["Ask tutors of the subject (or related subjects) to open hours in this slot",
                           "Offer customers booked here nearby slots with free tutors",
                           "Watch the slot's bookings until it starts"],
            link=f"/forecast?subject={quote(r.subject)}",
            details={"start": r.start.isoformat(), "end": r.end.isoformat(), "hours": _hour_rows(cov, r.subject, r.start, r.end),
                     "missing": float(r.missing_hours), "lead_h": float(r.lead_h)}))
    return specs


def surplus_specs(cov: pd.DataFrame, short_subjects: set[str], at: datetime, min_open_demand: float,
                  min_hours: int) -> list[AlertSpec]:
    w = surpluses(judged(cov, min_open_demand), threshold=SURPLUS, min_hours=6, at=pd.Timestamp(at).floor("h"))
    specs = []
    for subject, g in w.groupby("subject"):
        hours = int(g["hours"].sum())
        if subject in short_subjects or hours < min_hours:
            continue
        specs.append(AlertSpec(
            rule="supply.surplus", type="supply_demand", severity="info",
            title=f"{subject}: surplus tutor capacity in {hours} h of the coming week — adjust campaigns",
            message=(f"{subject} has {len(g)} windows of 6+ hours above {SURPLUS:.0%} coverage ({hours} h in all; "
                     f"{g['available_hours'].sum():.0f} open tutor hours for {g['forecast'].sum():.1f} sessions) and no "
                     f"shortage: recruiting spend can be trimmed, or these slots promoted to customers."),
            dedup_key=f"supply.surplus:{subject}", entity_id=subject, current_value=float(g["mean_coverage"].mean()),
            expected_value=f"≤ {SURPLUS:.0%}",
            investigation=["See the recommendations page for a spend change with its ROI",
                           "Promote the surplus slots (customer campaign) before cutting recruiting"],
            link=f"/forecast?subject={quote(subject)}",
            details={"windows": [{"start": r.start.isoformat(), "end": r.end.isoformat(), "hours": int(r.hours),
                                  "mean_coverage": float(r.mean_coverage)} for r in g.itertuples()],
                     "surplus_hours": hours}))
    return specs


def run(ctx: JobContext) -> dict:
    settings, engine, at = ctx.settings, ctx.engine, ctx.at
    timings, started = {}, time.perf_counter()
    cov, cov_region, run_info, _ = coverage_frames(engine, at)
    timings["compute_s"] = round(time.perf_counter() - started, 3)

    started = time.perf_counter()
    written = _store(engine, cov, cov_region, at, settings.supply_min_open_demand)
    timings["write_s"] = round(time.perf_counter() - started, 3)

    started = time.perf_counter()
    windows = shortage_windows(cov, at, settings.supply_min_open_demand, settings.shortage_min_missing)
    open_keys = _open_keys(engine, "supply.shortage")
    recruiting = shortage_specs(windows, cov, at, settings.shortage_lead_h, open_keys)
    alerts = {
        "supply.shortage": sync_alerts(engine, "supply.shortage", recruiting, at),
        "supply.capacity": sync_alerts(engine, "supply.capacity", capacity_specs(windows, cov), at),
        "supply.surplus": sync_alerts(engine, "supply.surplus",
                                      surplus_specs(cov, set(windows["subject"]), at, settings.supply_min_open_demand,
                                                    settings.surplus_alert_min_hours), at),
    }
    with engine.begin() as conn:
        bump_version(conn, TOPIC)
    timings["alerts_s"] = round(time.perf_counter() - started, 3)
    region_windows = shortage_windows(cov_region, at, settings.supply_min_open_demand, settings.shortage_min_missing)
    return {"at": pd.Timestamp(at).isoformat(), "forecast_run": run_info["id"] if run_info else None,
            "rows_written": written, "subjects": int(cov["subject"].nunique()),
            "shortages": [{"subject": r.subject, "start": r.start.isoformat(), "end": r.end.isoformat(),
                           "min_coverage": float(r.min_coverage), "missing": float(r.missing_hours),
                           "lead_h": float(r.lead_h)} for r in windows.itertuples()],
            "regional_shortages": [{"subject": r.subject, "region": r.region, "start": r.start.isoformat(),
                                    "missing": float(r.missing_hours)} for r in region_windows.itertuples()],
            "recruiting_alerts": [s.dedup_key for s in recruiting], "alerts": alerts, "timings": timings}
