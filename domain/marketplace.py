"""Marketplace health: the overview cards' numbers, computed from contract frames. Pure.

Each card: value, previous (the period it is compared with), trend (up/down/flat), status
(green/yellow/red by configurable thresholds), a 7-day sparkline, a link and a one-line why.
Definitions (also shown on the page):
- sessions_this_hour: bookings scheduled in the current clock hour, not cancelled; vs the same hour a week ago.
- sessions_today: bookings scheduled today (UTC), not cancelled, vs target = the mean of the same
  weekday over the previous 4 weeks (or SESSIONS_DAILY_TARGET when set); status by value / target.
- avg_rating_7d: mean rating of rated completed sessions started in the last 7 days; vs the 7 days before.
- tutor_utilization: session hours held (completed or no-show) in the last 7 days / weekly
  available hours of active tutors.
- csat_7d: share of rated sessions in the last 7 days rated 4 or 5.
- supply_balance: lowest supply/demand coverage of any subject in the next 24 h (from the supply job).
- customers_at_risk: customers in tier critical or at risk (from the scoring job).
- open_critical_alerts: active critical alerts.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

# card -> (direction, yellow, red): "high" means higher is better (red below `red`), "low" the opposite,
# "band" means a healthy range [yellow_low, yellow_high] with red outside [red_low, red_high].
DEFAULT_THRESHOLDS: dict[str, dict] = {
    "sessions_this_hour": {"direction": "high", "yellow": 0.8, "red": 0.6, "relative": True},
    "sessions_today": {"direction": "high", "yellow": 0.95, "red": 0.8, "relative": True},
    "avg_rating_7d": {"direction": "high", "yellow": 4.3, "red": 4.0},
    "tutor_utilization": {"direction": "band", "green": [0.25, 0.85], "yellow": [0.15, 0.95]},
    "csat_7d": {"direction": "high", "yellow": 0.85, "red": 0.75},
    "supply_balance": {"direction": "high", "yellow": 1.0, "red": 0.8},
    "customers_at_risk": {"direction": "low", "yellow": 0.15, "red": 0.25, "relative": True},
    "open_critical_alerts": {"direction": "low", "yellow": 1, "red": 5},
}

CARD_META = {
    "sessions_this_hour": ("Sessions this hour", "count", "/velocity"),
    "sessions_today": ("Sessions today vs target", "count", "/velocity"),
    "avg_rating_7d": ("Average rating (7 days)", "rating", "/tutors"),
    "tutor_utilization": ("Tutor utilization (7 days)", "percent", "/forecast"),
    "csat_7d": ("Customer satisfaction (7 days)", "percent", "/tutors"),
    "supply_balance": ("Supply/demand coverage (next 24 h)", "percent", "/forecast"),
    "customers_at_risk": ("Customers at risk", "count", "/customers"),
    "open_critical_alerts": ("Open critical alerts", "count", "/alerts"),
}


@dataclass
class OverviewInputs:
    """What the overview needs; the job loads these from the store (windows around `at`)."""
    sessions: pd.DataFrame       # contract sessions started in (at - 15 d, at]
    bookings: pd.DataFrame       # contract bookings scheduled in [at - 36 d, at + 1 d)
    tutors: pd.DataFrame         # contract tutors
    availability: pd.DataFrame   # contract tutor_availability
    at: datetime
    risk_now: int | None = None              # customers critical or at risk now
    risk_history: pd.DataFrame | None = None  # [day, at_risk] daily counts
    customers_scored: int | None = None
    open_critical: int | None = None
    coverage_24h: pd.DataFrame | None = None  # [subject, coverage] min coverage per subject next 24 h
    daily_target: float | None = None


def status_for(card: str, value, reference=None, thresholds: dict | None = None) -> str:
    """green / yellow / red / grey for a card value (relative cards divide by `reference`)."""
    rule = {**DEFAULT_THRESHOLDS, **(thresholds or {})}[card]
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "grey"
    x = value
    if rule.get("relative"):
        if not reference:
            return "grey"
        x = value / reference
    if rule["direction"] == "band":
        lo, hi = rule["green"]
        ylo, yhi = rule["yellow"]
        return "green" if lo <= x <= hi else ("yellow" if ylo <= x <= yhi else "red")
    if rule["direction"] == "high":
        return "green" if x >= rule["yellow"] else ("yellow" if x >= rule["red"] else "red")
    return "green" if x < rule["yellow"] else ("yellow" if x < rule["red"] else "red")


def trend(value, previous, tolerance: float = 0.02) -> str:
    if value is None or previous is None or pd.isna(value) or pd.isna(previous):
        return "flat"
    if previous == 0:
        return "up" if value > 0 else "flat"
    change = (value - previous) / abs(previous)
    return "up" if change > tolerance else ("down" if change < -tolerance else "flat")


def _held(bookings: pd.DataFrame) -> pd.DataFrame:
    return bookings[bookings["status"] != "cancelled"]


def _days(at: datetime, n: int = 7) -> list[pd.Timestamp]:
    today = pd.Timestamp(at).normalize()
    return [today - pd.Timedelta(days=i) for i in range(n - 1, -1, -1)]


def _rated(sessions: pd.DataFrame) -> pd.DataFrame:
    return sessions[(sessions["status"] == "completed") & sessions["rating"].notna()]


def _window(df: pd.DataFrame, col: str, start, end) -> pd.DataFrame:
    return df[(df[col] > start) & (df[col] <= end)]


def weekly_available_hours(tutors: pd.DataFrame, availability: pd.DataFrame) -> float:
    active = set(tutors.loc[tutors["status"] == "active", "tutor_id"])
    av = availability[availability["tutor_id"].isin(active)]
    return float((av["end_hour"] - av["start_hour"]).clip(lower=0).sum())


def _hours_held(sessions: pd.DataFrame) -> float:
    held = sessions[sessions["status"].isin(["completed", "no_show"])]
    return float(((held["end_time"] - held["start_time"]).dt.total_seconds() / 3600).clip(lower=0).sum())


def overview_metrics(inp: OverviewInputs, thresholds: dict | None = None) -> dict[str, dict]:
    at = pd.Timestamp(inp.at)
    s, b = inp.sessions, _held(inp.bookings)
    hour = at.floor("h")
    today = at.normalize()
    cards: dict[str, dict] = {}

    # sessions this hour vs same hour last week; sparkline: this hour on each of the last 7 days
    def in_hour(h):
        return int(((b["scheduled_time"] >= h) & (b["scheduled_time"] < h + pd.Timedelta(hours=1))).sum())
    now_h, prev_h = in_hour(hour), in_hour(hour - pd.Timedelta(days=7))
    spark_h = [(str((hour - pd.Timedelta(days=i)).date()), in_hour(hour - pd.Timedelta(days=i))) for i in range(6, -1, -1)]
    cards["sessions_this_hour"] = _card("sessions_this_hour", now_h, prev_h, spark_h, thresholds, reference=prev_h or None,
                                        why=f"{now_h} sessions booked for {hour:%H}:00–{hour:%H}:59 UTC; {prev_h} a week ago.")

    # today's volume vs target (mean of the same weekday over the previous 4 weeks)
    def day_count(d):
        return int(((b["scheduled_time"] >= d) & (b["scheduled_time"] < d + pd.Timedelta(days=1))).sum())
    today_n = day_count(today)
    history = [day_count(today - pd.Timedelta(days=7 * k)) for k in range(1, 5)]
    target = inp.daily_target or (float(np.mean(history)) if any(history) else None)
    spark_d = [(str(d.date()), day_count(d)) for d in _days(at)]
    cards["sessions_today"] = _card("sessions_today", today_n, history[0], spark_d, thresholds, reference=target,
                                    extra={"target": None if target is None else round(target, 1)},
                                    why=(f"{today_n} sessions booked for today; target {target:.0f} "
                                         f"({today_n / target:.0%} of target)." if target else f"{today_n} sessions booked for today; no target yet."))

    # rating and CSAT, 7 days vs the 7 before; sparkline daily
    rated = _rated(s)
    cur = _window(rated, "start_time", at - pd.Timedelta(days=7), at)
    prev = _window(rated, "start_time", at - pd.Timedelta(days=14), at - pd.Timedelta(days=7))

    def daily(fn):
        out = []
        for d in _days(at):
            part = rated[(rated["start_time"] >= d) & (rated["start_time"] < d + pd.Timedelta(days=1))]
            out.append((str(d.date()), None if part.empty else round(float(fn(part)), 3)))
        return out
    mean = lambda x: x["rating"].mean()  # noqa: E731
    csat = lambda x: (x["rating"] >= 4).mean()  # noqa: E731
    r_now, r_prev = (None if cur.empty else float(mean(cur))), (None if prev.empty else float(mean(prev)))
    cards["avg_rating_7d"] = _card("avg_rating_7d", r_now, r_prev, daily(mean), thresholds,
                                   why=f"Mean of {len(cur)} rated sessions in the last 7 days.")
    c_now, c_prev = (None if cur.empty else float(csat(cur))), (None if prev.empty else float(csat(prev)))
    cards["csat_7d"] = _card("csat_7d", c_now, c_prev, daily(csat), thresholds,
                             why=f"Share of {len(cur)} rated sessions in the last 7 days rated 4 or 5.")

    # utilization: hours held / weekly available hours of active tutors
    weekly = weekly_available_hours(inp.tutors, inp.availability)
    u_now = _hours_held(_window(s, "start_time", at - pd.Timedelta(days=7), at)) / weekly if weekly else None
    u_prev = _hours_held(_window(s, "start_time", at - pd.Timedelta(days=14), at - pd.Timedelta(days=7))) / weekly if weekly else None
    spark_u = [(str(d.date()), round(_hours_held(s[(s["start_time"] >= d) & (s["start_time"] < d + pd.Timedelta(days=1))]) / (weekly / 7), 3)
                if weekly else None) for d in _days(at)]
    cards["tutor_utilization"] = _card("tutor_utilization", u_now, u_prev, spark_u, thresholds,
                                       why=f"Session hours held in 7 days / {weekly:,.0f} weekly available hours of active tutors.")

    # supply balance: lowest coverage next 24 h
    if inp.coverage_24h is not None and not inp.coverage_24h.empty:
        worst = inp.coverage_24h.sort_values("coverage").iloc[0]
        short = int((inp.coverage_24h["coverage"] < 0.8).sum())
        cards["supply_balance"] = _card("supply_balance", float(worst["coverage"]), None, [], thresholds,
                                        extra={"subject": worst["subject"], "short_subjects": short},
                                        why=f"Lowest coverage: {worst['subject']} at {worst['coverage']:.0%}; {short} subject(s) below 80 %.")
    else:
        cards["supply_balance"] = _card("supply_balance", None, None, [], thresholds,
                                        why="No supply/demand forecast yet: run the forecast and supply jobs.")

    # customers at risk (from the scoring job)
    risk_prev, spark_r = None, []
    if inp.risk_history is not None and not inp.risk_history.empty:
        hist = inp.risk_history.sort_values("day")
        spark_r = [(str(pd.Timestamp(d).date()), int(n)) for d, n in zip(hist["day"], hist["at_risk"])][-7:]
        older = hist[pd.to_datetime(hist["day"]) < today]
        risk_prev = int(older["at_risk"].iloc[-1]) if not older.empty else None
    cards["customers_at_risk"] = _card("customers_at_risk", inp.risk_now, risk_prev, spark_r, thresholds,
                                       reference=inp.customers_scored,
                                       why=("Customers in tier critical or at risk." if inp.risk_now is not None
                                            else "Health scores not computed yet: run the score job."))
    cards["open_critical_alerts"] = _card("open_critical_alerts", inp.open_critical, None, [], thresholds,
                                          why="Active critical alerts not yet acknowledged.")
    return cards


def _card(key: str, value, previous, sparkline, thresholds, reference=None, extra=None, why: str = "") -> dict:
    label, unit, link = CARD_META[key]
    value = None if value is None or (isinstance(value, float) and np.isnan(value)) else value
    return {"key": key, "label": label, "unit": unit, "link": link, "value": value, "previous": previous,
            "trend": trend(value, previous), "status": status_for(key, value, reference, thresholds),
            "sparkline": sparkline, "why": why, **(extra or {})}
