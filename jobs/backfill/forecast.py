"""Forecast-accuracy history for past days: one forecast as the hourly forecast job would have made it at each past
day's last hour T, scored on the 168 hours after it, as the job scores its runs once they have passed.

Only what was known at T goes into a forecast: the demand history is the job's own hourly counts
(jobs.demand.forecast: held_per_hour / zero_filled, read once) cut to the hours before T; models are fitted as the
weekly train-forecast does, once per ``forecast_retrain_days`` block, on the history before the block's first T,
and refreshed with the newer hours on the other days of the block (the hourly job's ``refresh``); what is on the
books comes from ``on_the_books`` as of T (bookings as they stood at T, the booking curve learned at the block's
first T; the bookings, tutors and availability read once for every day). Only days whose 168 hours have all passed
are made (a later day could not be scored yet), and only days with no forecast run yet.

A backfilled run is a forecast_runs row with model ``loaders.forecasts.BACKFILL_MODEL`` (no hourly rows: they
would only be thinned away) and its forecast_accuracy rows, evaluated at T + 168 h: the forecast page's accuracy
history and the forecast of record's judgement (live_accuracy) read them like any scored run; the latest run a
page or a job reads is never one of them.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy.engine import Engine

from domain.forecasting import DemandForecaster
from domain.forecasting.pickup import PROFILE_WEEKS
from infra.jsonable import jsonable
from jobs.demand import forecast as fc
from loaders.forecasts import BACKFILL_MODEL
from models.derived import ForecastAccuracy, ForecastRun
from models.frames import insert_frame


def scorable(days: list[datetime], at: datetime) -> list[datetime]:
    """The as-of times among `days` whose forecast's 168 hours have all passed at `at`."""
    return [d for d in days if pd.Timestamp(d).floor("h") + pd.Timedelta(hours=fc.HORIZON_H) <= pd.Timestamp(at)]


def _forecast(models: dict, demand: pd.DataFrame, start: pd.Timestamp, t: pd.Timestamp, fit: bool,
              settings) -> tuple[list[pd.DataFrame], dict, dict]:
    """Each subject's forecast from hour t on history [start, t): fitted anew when `fit`, else the block's model
    refreshed (models is updated in place). Returns (frames, detail per subject, skipped)."""
    frames, detail, skipped = [], {}, {}
    past = demand[(demand["ts"] >= start) & (demand["ts"] < t)]
    for subject, history in past.groupby("subject"):
        try:
            if fit or subject not in models:
                models[subject] = DemandForecaster(horizon_h=fc.HORIZON_H, train_days=settings.forecast_train_days,
                                                   **fc.calendar_params(settings)).fit(history[["ts", "y"]])
            else:
                models[subject].refresh(history[["ts", "y"]])
            pred = models[subject].predict(start=t)
        except ValueError as exc:  # e.g. less than two weeks of history at t
            models.pop(subject, None)
            skipped[subject] = str(exc)
            continue
        frames.append(pred.assign(subject=subject))
        validation = getattr(models[subject], "validation_", None) or {}
        detail[subject] = {"model": validation.get("model", "ensemble"), "fitted": fit}
    return frames, detail, skipped


def fill(engine: Engine, settings, days: list[datetime], on_day=None) -> dict:
    """forecast_accuracy for the as-of times `days` (each a past day's end, oldest first, all scorable and with
    no run yet). on_day(at) is called after each day (progress). Returns {"days", "runs", "rows", "fits",
    "skipped"}."""
    summary = {"days": 0, "runs": 0, "rows": 0, "fits": 0, "skipped": {}}
    if not days:
        return summary
    hours = [pd.Timestamp(d).floor("h") for d in days]
    first = fc.first_booking(engine)
    train = pd.Timedelta(days=settings.forecast_train_days)
    since = max(hours[0] - train, pd.Timestamp(first)) if first is not None else hours[0] - train
    end = hours[-1] + pd.Timedelta(hours=fc.HORIZON_H)
    counts = fc.held_per_hour(engine, since, end)
    demand = fc.zero_filled(counts, since, end, fc.subjects_for(settings, list(counts["subject"].unique())))
    actual = demand.set_index(["subject", "ts"])["y"]
    read = fc.books(engine, hours[0] - pd.Timedelta(days=fc.PICKUP_DAYS, weeks=PROFILE_WEEKS), end)  # once
    block = pd.Timedelta(days=max(settings.forecast_retrain_days, 1))
    models, block_start, pickup = {}, None, None
    for at, t in zip(days, hours):
        fit = block_start is None or t - block_start >= block
        if fit:
            block_start, models, pickup = t, {}, None
            summary["fits"] += 1
        start = max(t - train, since)
        frames, detail, skipped = _forecast(models, demand, start, t, fit, settings)
        summary["skipped"].update(skipped)
        if frames:
            rows, pickup = fc.on_the_books(engine, pd.concat(frames, ignore_index=True), t.to_pydatetime(),
                                           fc.PICKUP_DAYS, pickup, read)
            summary["rows"] += _write(engine, rows, t, start, detail, skipped, pickup, actual, block_start)
            summary["runs"] += 1
        summary["days"] += 1
        if on_day:
            on_day(at)
    return summary


def _write(engine: Engine, rows: pd.DataFrame, t: pd.Timestamp, start: pd.Timestamp, detail: dict, skipped: dict,
           pickup: dict | None, actual: pd.Series, trained_at: pd.Timestamp) -> int:
    """The run and its accuracy rows, in one transaction (a forecast job scoring at the same time sees both or
    neither)."""
    info = {"mode": "backfill", "horizon_h": fc.HORIZON_H, "start": t, "trained_at": trained_at,
            "subjects": detail, "skipped": skipped, "pickup": pickup}
    with engine.begin() as conn:
        run_id = conn.execute(ForecastRun.__table__.insert().values(
            generated_at=t.to_pydatetime(), model=BACKFILL_MODEL, train_start=start.to_pydatetime(),
            train_end=t.to_pydatetime(), detail=json.dumps(jsonable(info)))).inserted_primary_key[0]
        scored = fc.accuracy_rows(rows, actual, run_id, (t + timedelta(hours=fc.HORIZON_H)).to_pydatetime())
        if scored:
            insert_frame(conn, ForecastAccuracy.__table__, pd.DataFrame(scored))
    return len(scored)
