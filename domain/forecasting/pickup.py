"""Demand as what is already on the books plus what is still to come (pickup, the booking curve of
revenue management).

An hour k hours ahead already holds some bookings; history says how many more arrive between
then and the hour, by lead time. Per lead k, pooled over subjects and hours::

    final(h) - on_books(h, k) = a_k x on_books(h, k) + b_k x profile(h)      (a_k, b_k >= 0)

``profile`` is the mean final demand of the same hour over the 4 weeks before (the history's
stand-in for the time-series forecast); ``a_k`` is how far the booking pace carries (a subject
booking up faster than usual keeps doing so), ``b_k`` the share of an ordinary hour still to come.
At forecast time ``total = booked + a_k x booked + b_k x yhat`` with the model's unconditional
``yhat``, never below what is booked. Why: the time-series model alone knows nothing of the books,
so a subject whose bookings ramp up (the planted shortage: demand twice its level) was forecast
below what it already held, and its open demand came out as zero.
"""
from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from domain.forecasting.series import NOT_DEMAND

LEADS = (0, 1, 3, 6, 12, 24, 36, 48, 72, 96, 120, 144, 168)
HOUR = pd.Timedelta(hours=1)
WEEK = 168
PROFILE_WEEKS = 4


def on_books_by_lead(bookings: pd.DataFrame, start: datetime, end: datetime,
                     leads: tuple[int, ...] = LEADS) -> pd.DataFrame:
    """Per (subject, hour) of [start, end): ``final`` (bookings held or to be held) and ``k<lead>``, the
    bookings on the books ``lead`` hours before the hour started (created by then, and not yet
    cancelled or moved). bookings: the contract's columns subject, scheduled_time, created_at,
    status, updated_at."""
    b = bookings[["subject", "scheduled_time", "created_at", "status", "updated_at"]]
    ts = pd.to_datetime(b["scheduled_time"]).dt.floor("h")
    keep = (ts >= pd.Timestamp(start)) & (ts < pd.Timestamp(end))
    b, ts = b[keep], ts[keep]
    held = ~b["status"].isin(NOT_DEMAND).to_numpy()
    created = ((ts - pd.to_datetime(b["created_at"])) / HOUR).to_numpy()
    gone = np.where(held, -np.inf, ((ts - pd.to_datetime(b["updated_at"])) / HOUR).to_numpy())
    cols = {"subject": b["subject"].to_numpy(), "ts": ts.to_numpy(), "final": held.astype(float)}
    for k in leads:
        cols[f"k{k}"] = ((created >= k) & (held | (gone < k))).astype(float)
    return pd.DataFrame(cols).groupby(["subject", "ts"], as_index=False).sum()


def _nnls2(x1: np.ndarray, x2: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Least squares y ~ a x1 + b x2 with a, b >= 0 (two variables: try the corners)."""
    best, fit = (0.0, 0.0), float(np.sum(y ** 2))
    xx = np.vstack([x1, x2]).T
    cands = []
    if len(y):
        sol = np.linalg.lstsq(xx, y, rcond=None)[0]
        cands.append((float(sol[0]), float(sol[1])))
    for x, pos in ((x1, 0), (x2, 1)):
        d = float(np.sum(x ** 2))
        if d > 0:
            c = float(np.sum(x * y) / d)
            cands.append((c, 0.0) if pos == 0 else (0.0, c))
    for a, b in cands:
        if a >= 0 and b >= 0:
            err = float(np.sum((y - a * x1 - b * x2) ** 2))
            if err < fit:
                best, fit = (a, b), err
    return best


def fit_pickup(bookings: pd.DataFrame, at: datetime, days: int = 28, leads: tuple[int, ...] = LEADS) -> dict:
    """Learn ``{"leads", "a", "b", "booked_share"}`` from the hours of the ``days`` before ``at``.

    ``booked_share`` (held bookings on the books at each lead / final) is reported, not used: it
    is the booking curve a reader checks the coefficients against."""
    at = pd.Timestamp(at).floor("h")
    first = at - pd.Timedelta(days=days) - pd.Timedelta(weeks=PROFILE_WEEKS)
    grid = on_books_by_lead(bookings, first, at, leads)
    if grid.empty:
        return {"leads": list(leads), "a": [0.0] * len(leads), "b": [1.0] * len(leads), "booked_share": [0.0] * len(leads),
                "hours": 0}
    subjects = sorted(grid["subject"].unique())
    hours = pd.date_range(first, at, freq="h", inclusive="left")
    full = grid.set_index(["subject", "ts"]).reindex(pd.MultiIndex.from_product([subjects, hours]), fill_value=0.0)
    final = full["final"].to_numpy().reshape(len(subjects), len(hours))
    lagged = [np.roll(final, WEEK * j, axis=1) for j in range(1, PROFILE_WEEKS + 1)]
    profile = np.mean(lagged, axis=0)
    use = np.zeros(len(hours), dtype=bool)
    use[PROFILE_WEEKS * WEEK:] = True
    y_final = final[:, use].ravel()
    prof = profile[:, use].ravel()
    a, b, share = [], [], []
    for k in leads:
        on = full[f"k{k}"].to_numpy().reshape(len(subjects), len(hours))[:, use].ravel()
        ak, bk = _nnls2(on, prof, y_final - on)
        a.append(ak)
        b.append(bk)
        share.append(float(on.sum() / y_final.sum()) if y_final.sum() else 0.0)
    return {"leads": list(leads), "a": a, "b": b, "booked_share": share, "hours": int(use.sum() * len(subjects))}


def booked_now(bookings: pd.DataFrame, at: datetime, hours: int = 168) -> pd.DataFrame:
    """DataFrame[subject, ts, booked]: bookings on the books at ``at`` (created by then and not
    cancelled or moved by then) for each hour of [at, at + hours)."""
    at = pd.Timestamp(at).floor("h")
    b = bookings[pd.to_datetime(bookings["created_at"]) <= at]
    ts = pd.to_datetime(b["scheduled_time"]).dt.floor("h")
    still = ~b["status"].isin(NOT_DEMAND) | (pd.to_datetime(b["updated_at"]) > at)
    keep = still & (ts >= at) & (ts < at + hours * HOUR)
    return (b[keep].assign(ts=ts[keep]).groupby(["subject", "ts"]).size().rename("booked").astype(float)
            .reset_index())


def with_pickup(forecast: pd.DataFrame, bookings: pd.DataFrame, at: datetime, days: int = 28,
                open_hours: pd.DataFrame | None = None, coefs: dict | None = None) -> tuple[pd.DataFrame, dict]:
    """The unconditional forecast DataFrame[subject, ts, yhat, yhat_lower, yhat_upper, ...] turned into
    booked + pickup (``apply_pickup``) with coefficients learned from ``bookings`` (``fit_pickup``), or
    ``coefs`` learned before (the booking curve moves slowly: the hourly run reuses the weekly one's).
    ``open_hours`` DataFrame[subject, ts, available_hours] (domain.supply.available_hours) marks the
    hours whose tutors are all booked (see ``apply_pickup``)."""
    coefs = coefs or fit_pickup(bookings, at, days)
    hours = int(((pd.to_datetime(forecast["ts"]).max() - pd.Timestamp(at).floor("h")) / HOUR) + 1) if len(forecast) else 0
    return apply_pickup(forecast, booked_now(bookings, at, max(hours, 1)), at, coefs, open_hours), coefs


def apply_pickup(forecast: pd.DataFrame, booked: pd.DataFrame, at: datetime, coefs: dict,
                 open_hours: pd.DataFrame | None = None) -> pd.DataFrame:
    """forecast DataFrame[subject, ts, yhat, yhat_lower, yhat_upper, ...] (the unconditional model) +
    booked DataFrame[subject, ts, booked] (scheduled now) -> the same rows with ``yhat`` = booked +
    expected pickup, the bounds moved with it (the pickup's relative uncertainty is the model's),
    never below ``booked``; adds columns ``booked`` and ``unconditional`` (the model's own yhat).

    Where ``open_hours`` says no tutor hour is left open, the books are censored: customers who
    wanted the hour could not book it, so the pace says nothing and the demand is at least the
    model's unconstrained forecast (revenue management's "unconstraining")."""
    out = forecast.merge(booked[["subject", "ts", "booked"]], on=["subject", "ts"], how="left")
    out["booked"] = out["booked"].fillna(0.0)
    lead = ((pd.to_datetime(out["ts"]) - pd.Timestamp(at)) / HOUR).to_numpy().clip(0, None)
    a = np.interp(lead, coefs["leads"], coefs["a"])
    b = np.interp(lead, coefs["leads"], coefs["b"])
    yhat = out["yhat"].to_numpy(dtype=float)
    on = out["booked"].to_numpy(dtype=float)
    pickup = a * on + b * yhat
    with np.errstate(divide="ignore", invalid="ignore"):
        lo_ratio = np.where(yhat > 0, out["yhat_lower"].to_numpy() / yhat, 1.0)
        hi_ratio = np.where(yhat > 0, out["yhat_upper"].to_numpy() / yhat, 1.0)
    out["unconditional"] = yhat
    out["yhat"] = on + pickup
    out["yhat_lower"] = on + pickup * np.clip(lo_ratio, 0, 1)
    out["yhat_upper"] = on + pickup * np.maximum(hi_ratio, 1) + np.where(yhat > 0, 0.0, b * out["yhat_upper"])
    if open_hours is not None:
        full = out[["subject", "ts"]].merge(open_hours[["subject", "ts", "available_hours"]], on=["subject", "ts"],
                                            how="left")["available_hours"].fillna(0.0).to_numpy() <= 0
        for col, model in (("yhat", yhat), ("yhat_lower", forecast["yhat_lower"].to_numpy()),
                           ("yhat_upper", forecast["yhat_upper"].to_numpy())):
            out[col] = np.where(full, np.maximum(out[col].to_numpy(), model), out[col])
    return out
