"""Words and numbers as people read them: one place that turns machine values into labels.

The store and the API keep machine values (`paid_search`, 0.3846, naive UTC); pages and emails pass them
through here, so the same code reads the same everywhere. Times: the page shows them to the minute in the
viewer's time zone (the browser converts `local_time` spans, see assets/localtime.js) with the UTC time
on hover; the server-side text is the UTC fallback.
"""
from __future__ import annotations

import json
import math
from datetime import datetime

import pandas as pd
from dash import html

# Codes a person reads somewhere in the app -> what they mean. Unknown codes fall back to `humanize`.
LABELS: dict[str, str] = {
    # customer triggers (domain/customers/triggers.py)
    "calls_14d": "2+ support calls in 14 days", "first_session_low_rating": "Low first-session rating",
    "inactive_14d": "No session for 14 days", "goal_completed": "Goal completed", "day7_nudge": "Slow first week",
    "velocity_drop": "Sessions per week dropping", "inactive_21d": "Inactive 21+ days",
    # alert rules and types
    "supply.shortage": "Tutor shortage", "supply.capacity": "Capacity squeeze", "supply.surplus": "Tutor surplus",
    "tutor.first_session_decline": "Tutor's first-session success falling",
    "subject.first_session_low": "Low first-session success in a subject",
    "region.first_session_low": "Low first-session success in a region",
    "sessions.no_show_rate": "No-show rate", "sessions.cancellation_rate": "Cancellation rate",
    "sessions.avg_rating": "Average session rating", "bookings.rate": "Booking rate",
    "anomaly.robust_zscore": "Unusual metric value", "anomaly.detector": "Unusual metric value",
    "customer_risk": "Customer risk", "supply_demand": "Supply & demand", "tutor_performance": "Tutor performance",
    "anomaly": "Metric anomaly", "data_quality": "Data quality",
    # recommendation rules
    "recruit.raise_budget": "Raise recruiting budget", "recruit.cut_spend": "Cut recruiting spend",
    "subject.priority": "Priority subject", "onboarding.pause": "Pause onboarding",
    # segments, channels
    "sat_prep": "SAT prep", "act_prep": "ACT prep", "esl": "ESL",
    "k12": "K-12", "college": "College", "adult": "Adult learners", "test_prep": "Test prep",
    "organic": "Organic", "paid_search": "Paid search", "social": "Social", "referral": "Referral",
    "partner": "Partner", "email": "Email",
    # statuses and tiers
    "in_progress": "In progress", "no_show": "No-show", "at-risk": "At risk", "at_risk": "At risk",
    "critical": "Critical", "healthy": "Healthy", "thriving": "Thriving", "active": "Active", "paused": "Paused",
    "churned": "Churned", "onboarding": "Onboarding", "inactive": "Inactive", "completed": "Completed",
    "cancelled": "Cancelled", "rescheduled": "Rescheduled", "scheduled": "Scheduled", "acknowledged": "Acknowledged",
    "snoozed": "Snoozed", "resolved": "Resolved", "dismissed": "Dismissed", "implemented": "Implemented",
    "pending": "Pending", "expired": "Expired", "warning": "Warning", "info": "Info", "none": "None",
    "ok": "OK", "failed": "Failed", "running": "Running", "abandoned": "Abandoned",
}
# Codes that must never reach a page as they are (the browser tests look for them).
RAW_CODES = ("first_session_low_rating", "paid_search", "test_prep", "inactive_14d", "velocity_drop",
             "recruit.cut_spend", "recruit.raise_budget", "supply.shortage", "tutor.first_session_decline")


def humanize_list(codes, sep: str = ";") -> str:
    """A list of codes as one text in words: "algebra;sat_prep" -> "Algebra, SAT prep" (empty -> "—")."""
    parts = [] if _missing(codes) else [c.strip() for c in str(codes).split(sep) if c.strip()]
    return ", ".join(humanize(c) for c in parts) if parts else "—"


def humanize(code) -> str:
    """A code in words: its LABELS entry, else `snake_case.dotted` -> "Snake case dotted"."""
    if code is None or (isinstance(code, float) and math.isnan(code)):
        return "—"
    code = str(code)
    if code in LABELS:
        return LABELS[code]
    if code.startswith("trigger.") and code[8:] in LABELS:  # alert rules of customer triggers
        return LABELS[code[8:]]
    words = code.replace(".", " ").replace("_", " ").replace("-", " ").strip()
    return words[:1].upper() + words[1:] if words else code


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT


def number(value, digits: int = 0) -> str:
    """216022 -> "216,022"; 3.14159, 2 -> "3.14"."""
    if _missing(value):
        return "—"
    return f"{float(value):,.{digits}f}"


def percent(value, digits: int = 0) -> str:
    """A fraction as a percentage: 0.3846 -> "38 %". Coverage and rates are always shown this way."""
    if _missing(value):
        return "—"
    return f"{float(value) * 100:,.{digits}f} %"


def count(n, noun: str | None = None, plural: str | None = None) -> str:
    """A count with separators and its noun in the right number: 3340, "alert" -> "3,340 alerts"; 1 -> "1 alert"."""
    if _missing(n):
        return "—" if noun is None else f"— {plural or noun + 's'}"
    text = f"{int(n):,}"
    if noun is None:
        return text
    return f"{text} {noun if int(n) == 1 else (plural or noun + 's')}"


def money(value) -> str:
    """Dollars, whole: 154965.93 -> "$154,966"; negative -> "-$1,200"."""
    if _missing(value):
        return "—"
    v = float(value)
    return f"{'-' if v < 0 else ''}${abs(v):,.0f}"


def duration(seconds) -> str:
    """A call or job duration: 65 -> "1 min 5 s", 42 -> "42 s", 3720 -> "1 h 2 min"."""
    if _missing(seconds):
        return "—"
    s = int(round(float(seconds)))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60} s"
    return f"{s // 3600:,} h {s % 3600 // 60} min"


def points(value) -> str:
    """A difference of percentages in points: -46.2 -> "-46 pts"."""
    if _missing(value):
        return "—"
    return f"{float(value):+.0f} pts"


def value(value, unit: str | None) -> str:
    """A metric value in its unit: percent/ratio/coverage as %, rating 2 decimals, counts with separators."""
    if unit in ("percent", "ratio", "coverage", "fraction"):
        return percent(value)
    if unit == "rating":
        return number(value, 2)
    if unit == "money":
        return money(value)
    if _missing(value):
        return "—"
    v = float(value)
    return number(v, 0 if v.is_integer() or abs(v) >= 100 else 2)


def utc_text(when) -> str:
    """Naive UTC -> "2026-12-06 14:05 UTC" (to the minute)."""
    if _missing(when):
        return "—"
    return pd.Timestamp(when).strftime("%Y-%m-%d %H:%M UTC")


def when(value, id: str | None = None, className: str = "") -> html.Span:
    """A time to the minute in the viewer's zone (converted in the browser), the UTC time on hover."""
    if _missing(value):
        return html.Span("—")
    ts = pd.Timestamp(value)
    kwargs = {"id": id} if id else {}
    return html.Span(utc_text(ts), title=utc_text(ts), className=f"local-time {className}".strip(),
                     **{"data-utc": ts.strftime("%Y-%m-%dT%H:%M:%SZ")}, **kwargs)


def day(value) -> str:
    return "—" if _missing(value) else pd.Timestamp(value).strftime("%d %b %Y")


def short_day(value) -> str:
    """A date in the current year's lists: "06 Dec"."""
    return "—" if _missing(value) else pd.Timestamp(value).strftime("%d %b")


def iso_utc(value) -> str | None:
    """Naive UTC -> "2026-12-06T14:05:00Z" (what a grid's GRID_TIME column holds; sorts as text)."""
    return None if _missing(value) else pd.Timestamp(value).strftime("%Y-%m-%dT%H:%M:00Z")


def grid_times(row: dict, *fields: str) -> dict:
    """A grid row with each time field as an iso_utc value (GRID_TIME shows it in the viewer's zone) and its UTC
    text in `<field>_utc` (the column's tooltipField): `{"at": "2026-12-06 14:05:33"}` -> `{"at":
    "2026-12-06T14:05:00Z", "at_utc": "2026-12-06 14:05 UTC"}`."""
    return {**row, **{f: iso_utc(row.get(f)) for f in fields}, **{f"{f}_utc": utc_text(row.get(f)) for f in fields}}


# AG Grid value formatters (run in the browser) for the same formats in grids; the row data keeps machine values.
GRID_COUNT = {"function": "params.value == null ? '' : Number(params.value).toLocaleString('en-US', "
                          "{maximumFractionDigits: 0})"}
GRID_PERCENT = {"function": "params.value == null ? '' : Math.round(params.value * 100) + ' %'"}
GRID_LABEL = {"function": "params.value == null ? '' : (params.value.length <= 2 ? params.value.toUpperCase() : "
                          "params.value.charAt(0).toUpperCase() + params.value.slice(1).replace(/_/g, ' '))"}
GRID_MONEY = {"function": "params.value == null ? '' : (params.value < 0 ? '-$' : '$') + "
                          "Math.round(Math.abs(params.value)).toLocaleString('en-US')"}
# an iso_utc value shown to the minute in the viewer's time zone; give the column a tooltipField with utc_text
# a list of codes ("inactive_14d,calls_14d") in words, through LABELS
GRID_CODES = {"function": "codeLabels(params.value, " + json.dumps(LABELS) + ")"}  # assets/gridformats.js
GRID_TIME = {"function": "localTime(params.value)"}  # assets/gridformats.js
GRID_TIME_COLUMN = {"valueFormatter": GRID_TIME, "cellDataType": "text", "minWidth": 160}  # text: no date inference


def ago(moment: datetime | None, now: datetime) -> str:
    """"12 min ago" for a past time."""
    if _missing(moment):
        return "never"
    seconds = max(0.0, (pd.Timestamp(now) - pd.Timestamp(moment)).total_seconds())
    for limit, size, unit in ((90, 1, "s"), (5400, 60, "min"), (172800, 3600, "h")):
        if seconds < limit:
            return f"{seconds / size:.0f} {unit} ago"
    return f"{seconds / 86400:.0f} d ago"


SUMMARY_SKIP = {"at", "timings", "progress", "step", "error_type"}


def summary_text(detail: str | dict | None, limit: int = 180) -> str:
    """A job's JSON summary as a line people read: "Customers scored 5,132 · History rows 5,132 · Tiers: healthy
    3,010, at risk 1,200"; nested lists and timings are left to the full text on hover."""
    if not detail:
        return ""
    try:
        data = json.loads(detail) if isinstance(detail, str) else dict(detail)
    except (ValueError, TypeError):
        return str(detail)[:limit]
    parts = []
    for key, val in data.items():
        if key in SUMMARY_SKIP or val is None or val == {} or val == []:
            continue
        label = humanize(key)
        if isinstance(val, bool):
            parts.append(f"{label}: {'yes' if val else 'no'}")
        elif isinstance(val, (int, float)):
            parts.append(f"{label} {number(val, 0 if float(val).is_integer() else 2)}")
        elif isinstance(val, str):
            parts.append(f"{label}: {val[:60]}")
        elif isinstance(val, dict) and all(isinstance(v, (int, float)) for v in val.values()):
            parts.append(f"{label}: " + ", ".join(f"{humanize(k).lower()} {number(v)}" for k, v in list(val.items())[:4]))
        elif isinstance(val, list):
            parts.append(f"{label}: {len(val)}")
    text = " · ".join(parts)
    return text if len(text) <= limit else text[:limit - 1] + "…"
