"""Tutor supply against forecast demand: available hours, coverage, utilization, shortage windows.

Definitions (DATA_CONTRACT.md "Supply/demand coverage", made exact):

- A *tutor hour* is one hour of a weekly ``tutor_availability`` row (weekday 0 = Monday,
  ``end_hour`` exclusive; a row with end_hour < start_hour runs past midnight) of an ACTIVE tutor
  (``tutors.status == "active"``). Overlapping rows of one tutor count that hour once.
- A tutor hour counts toward every subject the tutor teaches (``tutors.subjects``, ';'-separated),
  as the contract defines availability per subject (``split="full"``, the default). So one tutor
  hour can appear under several subjects: per-subject supply must not be summed across subjects.
  ``split="equal"`` gives each of the tutor's n subjects 1/n of the hour instead, which does sum to
  the real number of tutor hours.
- ``booked_hours``: tutor hours (as above) already taken by a ``scheduled`` booking with that
  tutor at that hour; ``available_hours`` = tutor hours - booked_hours (what is still open).
- ``booked_sessions``: scheduled bookings of that subject at that hour (any tutor).
- ``coverage`` = available_hours / open demand, where open demand = max(forecast -
  booked_sessions, 0). The forecast counts every booked session, and booked sessions already hold
  their tutor hours, so subtracting them on one side only would count them twice; with nothing
  booked this is exactly the contract's available tutor hours / forecast sessions. Open demand
  of 0 gives coverage NaN (nothing to cover: neither shortage nor surplus). < 0.8 is a shortage.
"""
from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from domain.forecasting.series import NOT_DEMAND

SHORTAGE = 0.8
SURPLUS = 1.3


def _hours_of_week(availability: pd.DataFrame) -> pd.DataFrame:
    """availability rows -> DataFrame[tutor_id, how] (hour of week 0..167, Monday 00:00 = 0), unique."""
    av = availability[["tutor_id", "weekday", "start_hour", "end_hour"]].dropna()
    av = av[av["weekday"].between(0, 6) & av["start_hour"].between(0, 23) & av["end_hour"].between(0, 24)]
    length = (av["end_hour"].astype(int) - av["start_hour"].astype(int)) % 24
    length = length.where(~((av["start_hour"] == 0) & (av["end_hour"] == 24)), 24)
    rows = av.loc[av.index.repeat(length)]
    offset = rows.groupby(level=0).cumcount().to_numpy()
    how = (rows["weekday"].astype(int).to_numpy() * 24 + rows["start_hour"].astype(int).to_numpy() + offset) % 168
    return pd.DataFrame({"tutor_id": rows["tutor_id"].astype(str).to_numpy(), "how": how}).drop_duplicates()


def _tutor_subjects(tutors: pd.DataFrame, split: str) -> pd.DataFrame:
    """active tutors -> DataFrame[tutor_id, subject, region, weight]."""
    if split not in ("full", "equal"):
        raise ValueError(f"split must be 'full' or 'equal', not {split!r}")
    active = tutors[tutors["status"] == "active"]
    subjects = active["subjects"].fillna("").astype(str).str.split(";")
    t = pd.DataFrame({"tutor_id": active["tutor_id"].astype(str), "region": active["region"],
                      "subject": subjects}).explode("subject")
    t["subject"] = t["subject"].str.strip()
    t = t[t["subject"] != ""].drop_duplicates(["tutor_id", "subject"])
    t["weight"] = 1.0 if split == "full" else 1.0 / t.groupby("tutor_id")["subject"].transform("size")
    return t


def _grid(start: datetime, hours: int) -> pd.DataFrame:
    ts = pd.date_range(pd.Timestamp(start).floor("h"), periods=hours, freq="h")
    return pd.DataFrame({"ts": ts, "how": ts.day_of_week * 24 + ts.hour})


def available_hours(tutors: pd.DataFrame, availability: pd.DataFrame, bookings: pd.DataFrame,
                    start: datetime, hours: int = 168, by: tuple[str, ...] = ("subject",),
                    split: str = "full") -> pd.DataFrame:
    """Tutor supply per hour for ``hours`` hours from ``start`` (floored to the hour).

    Inputs are the contract's tutors, tutor_availability and bookings frames. ``by`` is
    ("subject",) or ("subject", "region") (the tutor's region). Returns DataFrame[*by, ts,
    available_hours, booked_hours, booked_sessions], one row for every key and hour, as defined
    in the module docstring.
    """
    by = tuple(by)
    grid = _grid(start, hours)
    teach = _tutor_subjects(tutors, split)
    cap = _hours_of_week(availability).merge(grid, on="how")[["tutor_id", "ts"]]
    sched = bookings[bookings["status"] == "scheduled"].assign(
        ts=lambda b: pd.to_datetime(b["scheduled_time"]).dt.floor("h"), tutor_id=lambda b: b["tutor_id"].astype(str))
    sched = sched[sched["ts"].isin(grid["ts"])]
    busy = sched[["tutor_id", "ts"]].drop_duplicates().assign(booked=1.0)
    cap = cap.merge(busy, on=["tutor_id", "ts"], how="left").fillna({"booked": 0.0})
    cap = cap.merge(teach, on="tutor_id")
    cap["booked_w"] = cap["booked"] * cap["weight"]
    supply = cap.groupby([*by, "ts"]).agg(tutor_hours=("weight", "sum"), booked_hours=("booked_w", "sum"))

    if "region" in by:
        regions = tutors.assign(tutor_id=tutors["tutor_id"].astype(str)).set_index("tutor_id")["region"]
        sched = sched.assign(region=sched["tutor_id"].map(regions))
    booked_sessions = sched.groupby([*by, "ts"]).size().rename("booked_sessions")

    keys = teach[list(by)].drop_duplicates()
    keys = pd.concat([keys, sched[list(by)].dropna().drop_duplicates()]).drop_duplicates()
    full = keys.merge(grid[["ts"]], how="cross").set_index([*by, "ts"])
    out = full.join(supply).join(booked_sessions).fillna(0.0).reset_index()
    out["available_hours"] = out["tutor_hours"] - out["booked_hours"]
    out = out.sort_values([*by, "ts"], ignore_index=True)
    return out[[*by, "ts", "available_hours", "booked_hours", "booked_sessions"]]


def coverage(supply: pd.DataFrame, forecast: pd.DataFrame) -> pd.DataFrame:
    """supply (from ``available_hours``) + forecast DataFrame[subject, (region,) ts, yhat] ->
    supply columns + forecast, open_demand, coverage (see the module docstring).

    The forecast's key columns decide the join: a supply frame by region needs a forecast by
    region (regional supply against national demand would mean nothing).
    """
    fc = forecast.rename(columns={"yhat": "forecast"})
    keys = [c for c in ("subject", "region") if c in supply.columns]
    missing = [k for k in keys if k not in fc.columns]
    if missing:
        raise ValueError(f"supply is by {keys} but the forecast has no {missing} column")
    out = supply.merge(fc[[*keys, "ts", "forecast"]], on=[*keys, "ts"], how="left")
    out["forecast"] = out["forecast"].fillna(0.0).clip(lower=0)
    booked = out["booked_sessions"] if "booked_sessions" in out else 0.0
    out["open_demand"] = (out["forecast"] - booked).clip(lower=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["coverage"] = np.where(out["open_demand"] > 0, out["available_hours"] / out["open_demand"], np.nan)
    return out


def utilization(sessions: pd.DataFrame, availability: pd.DataFrame, tutors: pd.DataFrame,
                start: datetime, end: datetime, by: str = "tutor_id") -> pd.DataFrame:
    """Session hours held / available tutor hours over [start, end), per tutor or per subject.

    Session hours: sessions not cancelled (completed and no_show both took the tutor's hour),
    end_time - start_time clipped to the window. Available hours: tutor hours of active tutors as
    in the module docstring, over every hour of the window (per subject: counted fully per subject).
    Returns DataFrame[<by>, available_hours, session_hours, utilization] (NaN with no availability).
    """
    if by not in ("tutor_id", "subject"):
        raise ValueError("by must be 'tutor_id' or 'subject'")
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    grid = _grid(start, int((end.floor("h") - start.floor("h")) / pd.Timedelta(hours=1)))
    per_how = grid.groupby("how").size().rename("n").reset_index()
    cap = _hours_of_week(availability).merge(per_how, on="how")
    teach = _tutor_subjects(tutors, "full")
    cap = cap[cap["tutor_id"].isin(teach["tutor_id"])]
    if by == "subject":
        cap = cap.merge(teach[["tutor_id", "subject"]], on="tutor_id")
    avail = cap.groupby(by)["n"].sum().rename("available_hours")

    s = sessions[sessions["status"] != "cancelled"]
    s_start = pd.to_datetime(s["start_time"]).clip(lower=start)
    s_end = pd.to_datetime(s["end_time"]).clip(upper=end)
    dur = ((s_end - s_start) / pd.Timedelta(hours=1)).clip(lower=0)
    held = dur.groupby(s[by].astype(str)).sum().rename("session_hours")

    out = pd.concat([avail, held], axis=1).fillna(0.0)
    out.index.name = by
    with np.errstate(divide="ignore", invalid="ignore"):
        out["utilization"] = np.where(out["available_hours"] > 0, out["session_hours"] / out["available_hours"], np.nan)
    return out.reset_index()


def _windows(cov: pd.DataFrame, flag: pd.Series, min_hours: int, at, min_lead_h: float) -> pd.DataFrame:
    keys = [c for c in ("subject", "region") if c in cov.columns]
    cols = [*keys, "start", "end", "hours", "min_coverage", "max_coverage", "mean_coverage",
            "forecast", "available_hours", "missing_hours", "lead_h"]
    df = cov.assign(_flag=flag.to_numpy()).sort_values([*keys, "ts"])
    at = pd.Timestamp(at) if at is not None else df["ts"].min()
    step = df.groupby(keys)["ts"].diff() != pd.Timedelta(hours=1)
    run_id = (step | (df["_flag"] != df.groupby(keys)["_flag"].shift())).cumsum()
    df = df[df["_flag"]].assign(_run=run_id[df["_flag"]])
    if df.empty:
        return pd.DataFrame(columns=cols)
    target = df["open_demand"] if "open_demand" in df else df["forecast"]
    df = df.assign(_missing=(target - df["available_hours"]).clip(lower=0))
    g = df.groupby([*keys, "_run"])
    out = g.agg(start=("ts", "min"), last=("ts", "max"), hours=("ts", "size"),
                min_coverage=("coverage", "min"), max_coverage=("coverage", "max"),
                mean_coverage=("coverage", "mean"), forecast=("forecast", "sum"),
                available_hours=("available_hours", "sum"), missing_hours=("_missing", "sum")).reset_index()
    out["end"] = out["last"] + pd.Timedelta(hours=1)
    out["lead_h"] = (out["start"] - at) / pd.Timedelta(hours=1)
    out = out[(out["hours"] >= min_hours) & (out["lead_h"] >= min_lead_h)]
    return out[cols].reset_index(drop=True)


def shortages(coverage_df: pd.DataFrame, threshold: float = SHORTAGE, min_lead_h: float = 12,
              at: datetime | None = None, min_hours: int = 1) -> pd.DataFrame:
    """Runs of consecutive hours with coverage < ``threshold`` per subject (and region).

    Returns DataFrame[subject, (region,) start, end (exclusive), hours, min_coverage, max_coverage,
    mean_coverage, forecast (sessions summed), available_hours, missing_hours (open demand not
    covered, summed: tutor hours to add), lead_h (hours from ``at``, default the first hour)].
    Windows starting less than ``min_lead_h`` hours after ``at`` are left out (too late to
    recruit or reschedule for); pass 0 to keep them. Hours without open demand never count.
    """
    flag = coverage_df["coverage"].lt(threshold)  # NaN (no demand) compares False
    return _windows(coverage_df, flag, min_hours, at, min_lead_h)


def surpluses(coverage_df: pd.DataFrame, threshold: float = SURPLUS, min_hours: int = 6,
              at: datetime | None = None, min_lead_h: float = 0, shortage: float | None = SHORTAGE) -> pd.DataFrame:
    """Runs of at least ``min_hours`` consecutive hours with coverage > ``threshold`` (more tutors
    open than demand needs: a cue to pause recruiting or promote the subject). Same columns as
    ``shortages``. Hours without open demand never count. A subject (and region) with any hour
    below ``shortage`` in the frame has no surplus: cutting its recruiting would deepen that
    shortage, so the two verdicts can never disagree for one subject in one run."""
    flag = coverage_df["coverage"].gt(threshold)
    if shortage is not None:
        keys = [c for c in ("subject", "region") if c in coverage_df.columns]
        short = coverage_df["coverage"].lt(shortage).groupby([coverage_df[k] for k in keys]).transform("any")
        flag &= ~short
    return _windows(coverage_df, flag, min_hours, at, min_lead_h)


def bookings_as_of(bookings: pd.DataFrame, at: datetime) -> pd.DataFrame:
    """Bookings as they stood at ``at``: created by then; a future booking that was held, or whose later
    cancellation/reschedule came after ``at``, counts as scheduled. Columns: the contract's bookings."""
    b = bookings[bookings["created_at"] <= at].copy()
    future = b["scheduled_time"] >= pd.Timestamp(at).floor("h")
    changed_later = b["status"].isin(NOT_DEMAND) & (b["updated_at"] > at)
    b.loc[future & (~b["status"].isin(NOT_DEMAND) | changed_later), "status"] = "scheduled"
    return b
