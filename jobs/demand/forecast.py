"""The forecast jobs (issue 9): sessions booked per hour per subject for the next 168 hours, and their scores.

``forecast`` (hourly) as of T = ctx.at floored to the hour:

1. counts demand per subject and hour over the ``forecast_train_days`` before T (``hourly_counts``: the
   definition of ``domain.forecasting.hourly_demand``, bookings held or to be held, not cancelled or
   rescheduled, counted in the database);
2. per subject uses the stored model (forecast_models, JSON) when it was trained before T, less than
   ``forecast_retrain_days`` ago and still reads: ``refresh`` with the latest hours (the members move,
   the weights and interval bounds stay), then ``predict``. Otherwise it fits a DemandForecaster on the
   history (seasonal and recent-level members in local time with the holiday calendar, weighted by an inner
   backtest; see domain/forecasting) and stores it;
2b. turns each hour's forecast into what is booked now plus what is still to come (``on_the_books``,
   domain/forecasting/pickup.py): never below the sessions already booked; where every tutor of the subject
   is booked the books are censored and the model's own forecast is the floor. The booking curve is learned
   at a train (and when the stored one is older than ``forecast_retrain_days``) and kept in the run detail
   (``pickup``), which the hourly runs reuse;
3. writes a ForecastRun and its DemandForecast rows for [T, T + 168 h): yhat (booked + pickup, an expected
   count), the 95 % interval and the seasonal-naive baseline ("same hour last week") beside it;
4. (before step 2, in fact) scores every earlier run whose 168 hours have all passed: forecast_accuracy per
   subject with MAPE (weighted, see domain/forecasting/metrics.py), sMAPE, interval coverage and the
   baseline's MAPE;
5. decides per subject the *forecast of record* (run detail ``subjects.<s>.of_record``): the model, unless
   its scored runs of the last ``forecast_judge_days`` have a MAPE no better than the baseline's; then the
   baseline, and the pages and the supply job use it and say why. (The forecaster itself already falls
   back to "same hour last week" when the ensemble loses in its inner validation: ``model`` says so.)
6. thins old demand_forecasts rows (every run for 8 days, then each day's first run) and bumps the data
   version topic ``forecast``.

``train-forecast`` (weekly) is the same with every model refitted; ``retrain-forecast`` ("Retrain now" on the
forecast page, through workers/door.py) runs it, then supply and recommend. Progress goes to the run's
job_runs row (infra/progress.py).
"""
from __future__ import annotations

import json
import logging
import time
from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy import delete, func, select
from sqlalchemy.engine import Engine

from models.bulk import bulk_insert
from models.derived import DemandForecast, ForecastAccuracy, ForecastModel, ForecastRun
from models.frames import insert_frame, read_frame
from models.source import Booking, Tutor, TutorAvailability
from domain.contract import SUBJECTS
from domain.forecasting import DemandForecaster, accuracy
from domain.forecasting.pickup import PROFILE_WEEKS, with_pickup
from domain.forecasting.series import NOT_DEMAND
from domain.supply import available_hours, bookings_as_of
from loaders.bookings import load_bookings
from loaders.forecasts import latest_run
from infra.progress import report, scaled
from jobs.context import JobContext
from infra.jsonable import jsonable
from infra.versions import bump_version

log = logging.getLogger(__name__)
TOPIC = "forecast"
HORIZON_H = 168
KEEP_ALL_DAYS = 8
PICKUP_DAYS = 28  # hours whose booking curve teaches the pickup


def subjects_for(settings, booked: list[str]) -> list[str]:
    """``forecast_subjects`` when set; else the contract's subjects plus any other subject booked."""
    if settings.forecast_subjects.strip():
        return sorted({s.strip() for s in settings.forecast_subjects.split(",") if s.strip()})
    return sorted(set(SUBJECTS) | {str(s) for s in booked if s})


def held_per_hour(engine: Engine, start: datetime, end: datetime) -> pd.DataFrame:
    """Bookings held or to be held (not NOT_DEMAND) per subject and hour of scheduled_time in [floor(start), end),
    counted in the database: DataFrame[subject, ts, y], only the hours that have any."""
    start = pd.Timestamp(start).floor("h")
    if engine.dialect.name == "postgresql":
        hour = func.date_trunc("hour", Booking.scheduled_time)
    else:  # SQLite stores "YYYY-MM-DD HH:MM:SS.ffffff": the first 13 characters are the hour (cheaper than strftime)
        hour = func.substr(Booking.scheduled_time, 1, 13)
    with engine.connect() as conn:
        rows = conn.execute(select(Booking.subject, hour.label("ts"), func.count())
                            .where(Booking.scheduled_time >= start, Booking.scheduled_time < end,
                                   Booking.status.not_in(NOT_DEMAND))
                            .group_by(Booking.subject, "ts")).all()  # by label: PostgreSQL would see two date_truncs
    counts = pd.DataFrame(rows, columns=["subject", "ts", "y"])
    ts = counts["ts"].astype(str)
    counts["ts"] = pd.to_datetime(ts.where(ts.str.len() > 13, ts + ":00:00"))
    return counts


def zero_filled(counts: pd.DataFrame, start: datetime, end: datetime, subjects: list[str]) -> pd.DataFrame:
    """held_per_hour's counts on the full grid: one row per subject and hour in [floor(start), end), 0 where none."""
    hours = pd.date_range(pd.Timestamp(start).floor("h"), pd.Timestamp(end), freq="h", inclusive="left")
    index = pd.MultiIndex.from_product([sorted(subjects), hours], names=["subject", "ts"])
    out = counts.groupby(["subject", "ts"])["y"].sum().reindex(index, fill_value=0).rename("y").reset_index()
    out["y"] = out["y"].astype(float)
    return out


def hourly_counts(engine: Engine, start: datetime, end: datetime, subjects: list[str] | None = None) -> pd.DataFrame:
    """``hourly_demand`` computed in the database: DataFrame[subject, ts, y] for every subject (``subjects``, or
    those booked) and hour in [floor(start), end), zero-filled. Same definition (NOT_DEMAND statuses are not
    demand; the hour of scheduled_time), a few thousand rows back instead of every booking."""
    counts = held_per_hour(engine, start, end)
    return zero_filled(counts, start, end, subjects if subjects is not None else list(counts["subject"].unique()))


def first_booking(engine: Engine) -> datetime | None:
    with engine.connect() as conn:
        value = conn.execute(select(func.min(Booking.scheduled_time))).scalar()
    return None if value is None else pd.Timestamp(value).floor("h").to_pydatetime()


# -- models -------------------------------------------------------------------------------------------
def _stored_models(engine: Engine) -> dict[str, dict]:
    with engine.connect() as conn:
        rows = conn.execute(select(ForecastModel.subject, ForecastModel.trained_at, ForecastModel.kind,
                                   ForecastModel.model_json)).all()
    return {r.subject: {"trained_at": r.trained_at, "kind": r.kind, "json": r.model_json} for r in rows}


def _usable(stored: dict | None, at: datetime, retrain_days: int) -> DemandForecaster | None:
    """The stored model when it may forecast from ``at``: trained before it, recently, and still readable."""
    if stored is None or stored["kind"] != DemandForecaster.KIND or stored["trained_at"] > at:
        return None
    if at - stored["trained_at"] >= timedelta(days=retrain_days):
        return None
    try:
        model = DemandForecaster.from_json(stored["json"])
    except (ValueError, KeyError, TypeError) as exc:  # an older format: refit
        log.info("stored forecaster unreadable (%s); refitting", exc)
        return None
    return model if model.ts_end_ < pd.Timestamp(at) else None


def _validation(model: DemandForecaster) -> dict:
    v = getattr(model, "validation_", {}) or {}
    keep = ("method", "hours", "mape", "selected", "ensemble_mape", "seasonal_naive_mape", "beats_baseline", "model")
    return jsonable({k: v[k] for k in keep if k in v})


# -- accuracy ---------------------------------------------------------------------------------------------
def live_accuracy(engine: Engine, at: datetime, days: int) -> dict[str, dict]:
    """Per subject: mean MAPE of the model and of the baseline over runs scored for the ``days`` before ``at``."""
    with engine.connect() as conn:
        df = read_frame(conn, select(ForecastAccuracy.subject, ForecastAccuracy.mape, ForecastAccuracy.baseline_mape)
                        .join(ForecastRun, ForecastRun.id == ForecastAccuracy.run_id)
                        .where(ForecastRun.generated_at >= at - timedelta(days=days + 7),
                               ForecastAccuracy.evaluated_at <= at,
                               ForecastAccuracy.mape.is_not(None), ForecastAccuracy.baseline_mape.is_not(None)))
    if df.empty:
        return {}
    g = df.groupby("subject").agg(runs=("mape", "size"), mape=("mape", "mean"), baseline_mape=("baseline_mape", "mean"))
    return {s: {"runs": int(r.runs), "mape": float(r.mape), "baseline_mape": float(r.baseline_mape)}
            for s, r in g.iterrows()}


def of_record(validation: dict, live: dict | None) -> tuple[str, str]:
    """("model" | "baseline", why) for one subject; see the module docstring, step 5."""
    if live and live["runs"] and live["mape"] >= live["baseline_mape"]:
        return "baseline", (f"the model's MAPE over its last {live['runs']} scored runs ({live['mape']:.0%}) is not "
                            f"better than same-hour-last-week's ({live['baseline_mape']:.0%}): the baseline is shown "
                            f"as the forecast of record")
    if validation.get("model") == "seasonal_naive":
        return "model", ("the ensemble could not beat same-hour-last-week in its inner validation, so it forecasts "
                         "with that baseline alone")
    if live and live["runs"]:
        return "model", (f"model MAPE {live['mape']:.0%} vs baseline {live['baseline_mape']:.0%} over "
                         f"{live['runs']} scored runs")
    ens, naive = validation.get("ensemble_mape"), validation.get("seasonal_naive_mape")
    if ens is not None and naive is not None:
        return "model", f"no scored run yet; inner validation MAPE {ens:.0%} vs baseline {naive:.0%}"
    return "model", "no scored run yet"


def score_runs(engine: Engine, demand: pd.DataFrame, at: datetime, since: datetime) -> int:
    """forecast_accuracy rows for runs whose 168 hours all lie in [since, at) and that are not scored yet.

    demand: DataFrame[subject, ts, y] of actual sessions per hour covering [since, at)."""
    scored = select(ForecastAccuracy.run_id).distinct()
    with engine.connect() as conn:
        runs = conn.execute(select(ForecastRun.id, ForecastRun.generated_at)
                            .where(ForecastRun.generated_at >= since, ForecastRun.generated_at <= at - timedelta(hours=HORIZON_H),
                                   ForecastRun.id.not_in(scored))).all()
    actual = demand.set_index(["subject", "ts"])["y"]
    rows = []
    for run_id, generated_at in runs:
        with engine.connect() as conn:
            fc = read_frame(conn, select(DemandForecast).where(DemandForecast.run_id == run_id), parse_dates=["ts"])
        if fc.empty or fc["ts"].max() >= pd.Timestamp(at):
            continue
        rows += accuracy_rows(fc, actual, run_id, at)
    if rows:
        insert_frame(engine, ForecastAccuracy.__table__, pd.DataFrame(rows))
    return len(rows)


def accuracy_rows(fc: pd.DataFrame, actual: pd.Series, run_id: int, evaluated_at: datetime) -> list[dict]:
    """forecast_accuracy rows of one run: fc DataFrame[subject, ts, yhat, yhat_lower, yhat_upper, baseline] (its
    hours), actual the sessions per (subject, ts) (a Series on that MultiIndex); subjects with no actual left out."""
    fc = fc.assign(actual=actual.reindex(pd.MultiIndex.from_frame(fc[["subject", "ts"]])).to_numpy())
    rows = []
    for subject, g in fc.groupby("subject"):
        if g["actual"].isna().all():
            continue
        m = accuracy(g["actual"], g["yhat"], g["yhat_lower"], g["yhat_upper"])
        base = accuracy(g["actual"], g["baseline"])["mape"]
        rows.append({"run_id": run_id, "subject": subject, "evaluated_at": evaluated_at,
                     "hours": int(g["actual"].notna().sum()), "mape": jsonable(m["mape"]), "smape": jsonable(m["smape"]),
                     "coverage": jsonable(m["coverage"]), "baseline_mape": jsonable(base)})
    return rows


def thin(conn, at: datetime, keep_days: int) -> int:
    """Delete demand_forecasts rows older than KEEP_ALL_DAYS except each UTC day's first run; none past keep_days."""
    t = DemandForecast.__table__
    old = at - timedelta(days=KEEP_ALL_DAYS)
    runs = conn.execute(select(ForecastRun.id, ForecastRun.generated_at)
                        .where(ForecastRun.generated_at < old,
                               ForecastRun.id.in_(select(t.c.run_id).distinct()))).all()
    keep = {}
    for run_id, generated_at in sorted(runs, key=lambda r: r[1]):
        if generated_at >= at - timedelta(days=keep_days):
            keep.setdefault(generated_at.date(), run_id)
    drop = [r[0] for r in runs if r[0] not in set(keep.values())]
    deleted = 0
    for start in range(0, len(drop), 500):
        deleted += conn.execute(delete(t).where(t.c.run_id.in_(drop[start:start + 500]))).rowcount
    return deleted


# -- the job ---------------------------------------------------------------------------------------------
def calendar_params(settings) -> dict:
    """The marketplace's time zone and holiday calendar for the forecaster (config: marketplace_tz, _holidays)."""
    country = (settings.marketplace_holidays or "").strip()
    return {"tz": settings.marketplace_tz or None, "holidays": None if country.lower() in ("", "none") else country.upper()}


def books(engine: Engine, first: datetime, end: datetime) -> dict[str, pd.DataFrame]:
    """What on_the_books reads: bookings scheduled in [first, end) (its columns), tutors, their availability."""
    cols = ("booking_id", "subject", "tutor_id", "scheduled_time", "created_at", "status", "updated_at")
    with engine.connect() as conn:
        return {"bookings": load_bookings(engine, first, end, cols),
                "tutors": read_frame(conn, select(Tutor.tutor_id, Tutor.subjects, Tutor.region, Tutor.status)),
                "availability": read_frame(conn, select(TutorAvailability.tutor_id, TutorAvailability.weekday,
                                                        TutorAvailability.start_hour, TutorAvailability.end_hour))}


def on_the_books(engine: Engine, forecast: pd.DataFrame, at: datetime, days: int,
                 coefs: dict | None = None, read: dict[str, pd.DataFrame] | None = None) -> tuple[pd.DataFrame, dict]:
    """The models' forecast -> what is booked now + what is still to come (domain.forecasting.pickup): the
    booking curve ``coefs`` when given, else learned from the ``days`` before ``at`` (and stamped
    ``fitted_at``); hours whose tutors are all booked are unconstrained. ``read``: books() covering the
    bookings needed, read beforehand for many times (the backfill), else read here."""
    first, end = at if coefs else at - timedelta(days=days, weeks=PROFILE_WEEKS), at + timedelta(hours=HORIZON_H)
    read = read or books(engine, first, end)
    b = read["bookings"]
    bookings = bookings_as_of(b[(b["scheduled_time"] >= first) & (b["scheduled_time"] < end)], at)
    supply = available_hours(read["tutors"], read["availability"], bookings, at, HORIZON_H)
    out, used = with_pickup(forecast, bookings, at, days, open_hours=supply, coefs=coefs)
    return out, used if coefs else {**used, "fitted_at": pd.Timestamp(at).isoformat()}


def stored_pickup(engine: Engine, at: datetime, max_age_days: int) -> dict | None:
    """The booking curve of the latest run when it was learned less than ``max_age_days`` before ``at``."""
    run = latest_run(engine, at)
    coefs = (run or {}).get("detail", {}).get("pickup") or {}
    fitted = coefs.get("fitted_at")
    if not fitted or not {"leads", "a", "b"} <= set(coefs):
        return None
    age = pd.Timestamp(at) - pd.Timestamp(fitted)
    return coefs if pd.Timedelta(0) <= age < pd.Timedelta(days=max_age_days) else None


def forecast_all(ctx: JobContext, force_train: bool = False) -> dict:
    settings, engine = ctx.settings, ctx.engine
    at = pd.Timestamp(ctx.at).floor("h").to_pydatetime()
    timings, started = {}, time.perf_counter()
    train_start = at - timedelta(days=settings.forecast_train_days)
    first = first_booking(engine)
    history_start = max(train_start, first) if first is not None else train_start
    counts = held_per_hour(engine, history_start, at)
    subjects = subjects_for(settings, list(counts["subject"].unique()))
    demand = zero_filled(counts, history_start, at, subjects)
    timings["load_s"] = round(time.perf_counter() - started, 3)
    report(0.02, f"loaded {int(demand['y'].sum()):,} sessions of demand")

    started = time.perf_counter()
    scored = score_runs(engine, demand, at, since=history_start)  # first, so today's decision sees the scores
    timings["score_s"] = round(time.perf_counter() - started, 3)
    stored = _stored_models(engine)
    live = live_accuracy(engine, at, settings.forecast_judge_days)
    frames, detail, new_models, skipped = [], {}, [], {}
    fit_s = 0.0
    for i, subject in enumerate(subjects):
        history = demand.loc[demand["subject"] == subject, ["ts", "y"]]
        t0 = time.perf_counter()
        model = None if force_train else _usable(stored.get(subject), at, settings.forecast_retrain_days)
        fitted = model is None
        try:
            if fitted:
                report(0.05 + 0.85 * i / len(subjects), f"fitting {subject} ({i + 1}/{len(subjects)})")
                model = DemandForecaster(horizon_h=HORIZON_H, train_days=settings.forecast_train_days,
                                         **calendar_params(settings)).fit(history)
                prior = stored.get(subject)
                if prior is None or prior["trained_at"] <= at:
                    new_models.append({"subject": subject, "trained_at": at, "kind": DemandForecaster.KIND,
                                       "model_json": model.to_json()})
                trained_at = at
            else:
                model.refresh(history)
                trained_at = stored[subject]["trained_at"]
            pred = model.predict(start=at)
        except ValueError as exc:  # e.g. less than two weeks of history
            skipped[subject] = str(exc)
            continue
        fit_s += time.perf_counter() - t0
        frames.append(pred.assign(subject=subject))
        validation = _validation(model)
        record, why = of_record(validation, live.get(subject))
        detail[subject] = {"model": validation.get("model", "ensemble"), "of_record": record, "why": why,
                           "fitted": fitted, "trained_at": trained_at, "validation": validation,
                           "live": live.get(subject)}
    timings["models_s"] = round(fit_s, 3)
    report(0.9, "adding what is on the books")

    started = time.perf_counter()
    rows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["subject", "ts", "yhat", "yhat_lower", "yhat_upper", "baseline"])
    pickup = None
    if len(rows):
        reuse = None if force_train else stored_pickup(engine, at, settings.forecast_retrain_days)
        rows, pickup = on_the_books(engine, rows, at, PICKUP_DAYS, reuse)
    timings["pickup_s"] = round(time.perf_counter() - started, 3)
    report(0.92, "writing the forecast")

    started = time.perf_counter()
    with engine.begin() as conn:
        if new_models:
            conn.execute(delete(ForecastModel).where(ForecastModel.subject.in_([m["subject"] for m in new_models])))
            conn.execute(ForecastModel.__table__.insert(), new_models)
        run_id = conn.execute(ForecastRun.__table__.insert().values(
            generated_at=ctx.at, model=DemandForecaster.KIND, train_start=history_start, train_end=at,
            detail=json.dumps(jsonable({"mode": "train" if force_train else "refresh", "horizon_h": HORIZON_H,
                                     "start": at, "subjects": detail, "skipped": skipped,
                                     "pickup": pickup})))).inserted_primary_key[0]
        rows = rows.assign(run_id=run_id)[["run_id", "subject", "ts", "yhat", "yhat_lower", "yhat_upper", "baseline"]]
        bulk_insert(conn, DemandForecast.__table__, rows)
        thinned = thin(conn, at, settings.forecast_keep_days)
        bump_version(conn, TOPIC)
    timings["write_s"] = round(time.perf_counter() - started, 3)
    report(1.0, "done")
    return {"at": at.isoformat(), "run_id": run_id, "subjects": len(detail), "fitted": sorted(m["subject"] for m in new_models),
            "refitted_without_storing": sorted(s for s, d in detail.items() if d["fitted"]
                                               and s not in {m["subject"] for m in new_models}),
            "skipped": skipped, "baseline_of_record": sorted(s for s, d in detail.items() if d["of_record"] == "baseline"),
            "rows": len(rows), "runs_scored": scored, "rows_thinned": thinned, "timings": timings}


def run(ctx: JobContext) -> dict:
    """``forecast``: hourly refresh (stored models re-predicted with the latest data; stale ones refitted)."""
    return forecast_all(ctx, force_train=False)


def train(ctx: JobContext) -> dict:
    """``train-forecast``: weekly full retrain of every subject's model."""
    return forecast_all(ctx, force_train=True)


def retrain(ctx: JobContext) -> dict:
    """``retrain-forecast`` ("Retrain now" on the forecast page): train-forecast, then supply and recommend so
    coverage, alerts and recommendations follow the new models; each is its own recorded run."""
    from jobs.runner import run_job  # the runner imports the job table, which names this module
    with scaled(0.0, 0.9):
        summary = run_job("train-forecast", ctx.settings)
    report(0.92, "supply and alerts")
    supply = run_job("supply", ctx.settings)
    report(0.97, "recommendations")
    recommend = run_job("recommend", ctx.settings)
    report(1.0, "done")
    return {"train": summary, "supply": supply, "recommend": recommend}
