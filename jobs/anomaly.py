"""The anomaly job (issue 4): every five minutes, detect on every metric stream and keep one alert per incident.

Each run, as of ``ctx.at``:

1. loads metric_points of the last HISTORY (8 weeks: what the detector's calibrated bars learn a
   stream's tail from -- 14 days of a 5-minute stream, up to 1,500 points of an hourly one) for the metrics that have a point within ACTIVE of ``at`` (a stream that sent nothing
   new has no news), and derives the session/booking streams (domain.alerting.streams) from the
   last DERIVED_HISTORY of sessions and bookings, reading only the columns they need;
2. runs domain.anomaly.detect_streams with the rules in force -- MARKETPLACE_RULES (US
   holidays), then metric_streams.STREAM_RULES, then the operators' metric_rules, exactly what the
   alert center's rule preview applies -- keeping events whose end is within RECENT of their
   stream's newest point: each event is flagged by the first run that sees the data showing it,
   and old events are not raised again;
3. upserts the events into ``anomalies`` on (metric, method, start_ts); ``detected_at`` keeps the
   first run that flagged the event;
4. groups the stored events of one metric that overlap in time (within GROUP_GAP) into incidents
   and raises ONE alert per incident (rule ``anomaly.detector``, type anomaly, entity_id = metric,
   so a silence on the metric covers it), keyed ``anomaly:<metric>:<start>`` where start is the
   start of the incident's first-detected event, so the key does not move when a slower method
   (week_over_week, consecutive_drops) later joins with an earlier start. The message lists each
   method that fired with its why;
5. auto-resolves: an incident's alert resolves once its stream has data RESOLVE_AFTER (2 h) past
   the incident's last flagged point with nothing new flagged -- back to normal for two hours
   (two hourly points, 24 five-minute ones). A stream that stopped sending keeps its alert open:
   silence is not evidence of recovery.

Returns a summary with a one-line ``summary`` and the timings.
"""
from __future__ import annotations

import json
import time
from datetime import datetime, timedelta
from urllib.parse import quote

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from models.derived import Anomaly
from models.frames import read_frame
from models.source import MetricPoint
from writes.alerts import sync_alerts
from domain.alerting.lifecycle import AlertSpec
from domain.anomaly import detect_streams
from domain.anomaly.events import fmt, fmt_time
from jobs.context import JobContext
from loaders.streams import detector_rules, stream_inputs
from domain.alerting.streams import derive_streams

RULE = "anomaly.detector"
HISTORY = timedelta(weeks=8)
DERIVED_HISTORY = timedelta(weeks=6)
ACTIVE = timedelta(hours=2)          # metric_points streams with a point this recent are judged
RECENT = timedelta(minutes=15)       # events ending within this of their stream's newest point are kept
RESOLVE_AFTER = timedelta(hours=2)   # normal data this long after an incident resolves its alert
GROUP_GAP = timedelta(hours=1)       # events of one metric this close (or overlapping) are one incident
LOOKBACK = timedelta(days=14)        # stored events that can still belong to an open incident
SEVERITY_RANK = {"info": 0, "warning": 1, "critical": 2}


def rules_in_force(engine: Engine) -> dict[str, dict]:
    """metric or glob -> detector overrides: loaders.streams.detector_rules (MARKETPLACE_RULES, STREAM_RULES,
    then the stored metric_rules), the same dict the rule preview uses."""
    return detector_rules(engine)


def load_points(conn: Connection, at: datetime) -> tuple[pd.DataFrame, dict[str, datetime]]:
    """(metric_points of the active metrics over the last HISTORY, newest ts of every metric up to at)."""
    newest = dict(conn.execute(select(MetricPoint.metric, func.max(MetricPoint.ts))
                               .where(MetricPoint.ts <= at, MetricPoint.ts > at - LOOKBACK)
                               .group_by(MetricPoint.metric)).all())
    newest = {m: pd.Timestamp(t).to_pydatetime() for m, t in newest.items() if t is not None}
    active = sorted(m for m, t in newest.items() if t > at - ACTIVE)
    if not active:
        return pd.DataFrame({"metric": [], "ts": pd.Series(dtype="datetime64[ns]"), "value": []}), newest
    points = read_frame(conn, select(MetricPoint.metric, MetricPoint.ts, MetricPoint.value)
                        .where(MetricPoint.metric.in_(active), MetricPoint.ts > at - HISTORY, MetricPoint.ts <= at),
                        parse_dates=["ts"])
    return points, newest


def load_derived(conn: Connection, at: datetime, window_hours: int = 6) -> pd.DataFrame:
    """The metric_streams streams over the last DERIVED_HISTORY, from the columns they need."""
    since = at - DERIVED_HISTORY
    sessions, bookings = stream_inputs(conn, since - timedelta(hours=window_hours), at)
    if sessions.empty and bookings.empty:
        return pd.DataFrame({"metric": [], "ts": pd.Series(dtype="datetime64[ns]"), "value": []})
    return derive_streams(sessions, bookings, since, at, window=f"{window_hours}h")


def upsert_events(conn: Connection, events: pd.DataFrame, at: datetime) -> int:
    """Insert or refresh events on (metric, method, start_ts); detected_at keeps the first sighting."""
    if events.empty:
        return 0
    table = Anomaly.__table__
    rows = [{"metric": r.metric, "method": r.method, "start_ts": pd.Timestamp(r.start).to_pydatetime(),
             "end_ts": pd.Timestamp(r.end).to_pydatetime(), "peak_ts": pd.Timestamp(r.peak_ts).to_pydatetime(),
             "value": _num(r.value), "expected": _num(r.expected), "score": _num(r.score), "severity": r.severity,
             "why": r.why, "details": json.dumps(r.details, default=str), "detected_at": at, "updated_at": at}
            for r in events.itertuples(index=False)]
    insert = postgresql.insert(table) if conn.dialect.name == "postgresql" else sqlite.insert(table)
    stmt = insert.on_conflict_do_update(
        index_elements=[table.c.metric, table.c.method, table.c.start_ts],
        set_={c: insert.excluded[c] for c in ("end_ts", "peak_ts", "value", "expected", "score", "severity", "why",
                                                "details", "updated_at")})
    conn.execute(stmt, rows)
    return len(rows)


def _num(x) -> float | None:
    return None if x is None or not np.isfinite(x) else float(x)


def incidents(stored: pd.DataFrame) -> list[pd.DataFrame]:
    """Stored events (columns of Anomaly) grouped per metric: overlapping or within GROUP_GAP = one incident."""
    out = []
    for _, part in stored.sort_values(["metric", "start_ts"]).groupby("metric", sort=True):
        group, end = [], None
        for row in part.itertuples(index=False):
            if group and row.start_ts > end + GROUP_GAP:
                out.append(pd.DataFrame(group))
                group, end = [], None
            group.append(row._asdict())
            end = row.end_ts if end is None else max(end, row.end_ts)
        if group:
            out.append(pd.DataFrame(group))
    return out


def incident_spec(inc: pd.DataFrame, related: list[str]) -> AlertSpec:
    """One alert for one incident: every method that fired, with its why and numbers."""
    metric = str(inc["metric"].iloc[0])
    first = inc.sort_values(["detected_at", "start_ts"]).iloc[0]
    start, end = inc["start_ts"].min(), inc["end_ts"].max()
    worst = inc.assign(rank=inc["severity"].map(SEVERITY_RANK).fillna(0)).sort_values(
        ["rank", "score"], ascending=False).iloc[0]
    severity = str(worst["severity"] or "warning")
    methods = list(dict.fromkeys(inc.sort_values("start_ts")["method"]))
    value, expected = worst["value"], worst["expected"]
    word = "above" if expected is not None and np.isfinite(expected) and value > expected else "below"
    lines = [f"{metric}: anomaly since {fmt_time(start)} (last flagged {fmt_time(end)}), "
             f"{len(methods)} method{'s' if len(methods) > 1 else ''} fired: {', '.join(methods)}."]
    for r in inc.sort_values("start_ts").itertuples(index=False):
        lines.append(f"- {r.method} ({r.severity}): {r.why}")
    investigation = [
        f"Check deploys, config changes and incidents around {fmt_time(start)} UTC",
        f"Open the stream's chart and rule: /alerts?metric={quote(metric)}",
    ]
    if related:
        investigation.append("Compare with related streams: " + ", ".join(related[:6]))
    investigation.append("If this is expected (a campaign, a planned outage), silence the metric for its duration")
    return AlertSpec(
        rule=RULE, type="anomaly", severity=severity if severity in SEVERITY_RANK else "warning",
        title=f"{metric}: {fmt(value)} {word} the expected {fmt(expected)} ({', '.join(methods)})",
        message="\n".join(lines), dedup_key=f"anomaly:{metric}:{pd.Timestamp(first['start_ts']).isoformat()}",
        entity_id=metric, current_value=_num(value), expected_value=fmt(expected),
        investigation=investigation, link=f"/alerts?metric={quote(metric)}",
        details={"metric": metric, "start": pd.Timestamp(start).isoformat(), "end": pd.Timestamp(end).isoformat(),
                 "methods": methods, "events": int(len(inc)), "peak_ts": pd.Timestamp(worst["peak_ts"]).isoformat()
                 if pd.notna(worst["peak_ts"]) else None, "score": _num(worst["score"])})


def related_streams(metric: str, names: list[str], anomalous: set[str]) -> list[str]:
    """Streams to compare with: those anomalous at the same time first, then the same family (prefix)."""
    family = metric.split(".")[0] if "." in metric else "_".join(metric.split("_")[:2])
    same = [n for n in names if n != metric and n.startswith(family)]
    return list(dict.fromkeys([n for n in sorted(anomalous) if n != metric] + same))


def run(ctx: JobContext) -> dict:
    at, engine = ctx.at, ctx.engine
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    with engine.connect() as conn:
        points, newest = load_points(conn, at)
        derived = load_derived(conn, at)
    frames = [f for f in (points, derived) if len(f)]
    stream_points = pd.concat(frames, ignore_index=True) if frames else points
    for metric, ts in derived.groupby("metric")["ts"].max().items() if len(derived) else []:
        newest[str(metric)] = pd.Timestamp(ts).to_pydatetime()
    timings["load_s"] = round(time.perf_counter() - t0, 3)

    t0 = time.perf_counter()
    rules = rules_in_force(engine)
    events = detect_streams(stream_points, rules, at=at, recent=RECENT)
    timings["detect_s"] = round(time.perf_counter() - t0, 3)

    t0 = time.perf_counter()
    with engine.begin() as conn:
        written = upsert_events(conn, events, at)
        stored = read_frame(conn, select(Anomaly.metric, Anomaly.method, Anomaly.start_ts, Anomaly.end_ts,
                                         Anomaly.peak_ts, Anomaly.value, Anomaly.expected, Anomaly.score,
                                         Anomaly.severity, Anomaly.why, Anomaly.detected_at)
                            .where(Anomaly.end_ts >= at - LOOKBACK, Anomaly.start_ts <= at),
                            parse_dates=["start_ts", "end_ts", "peak_ts", "detected_at"])
    open_incidents = [inc for inc in incidents(stored) if _still_open(inc, newest)]
    anomalous = {str(inc["metric"].iloc[0]) for inc in open_incidents}
    names = sorted(set(newest))
    specs = [incident_spec(inc, related_streams(str(inc["metric"].iloc[0]), names, anomalous))
             for inc in open_incidents]
    alerts = sync_alerts(engine, RULE, specs, at)
    timings["alerts_s"] = round(time.perf_counter() - t0, 3)

    by_method = events["method"].value_counts().to_dict() if len(events) else {}
    streams = int(stream_points["metric"].nunique()) if len(stream_points) else 0
    summary = (f"{len(events)} new or updated anomal{'y' if len(events) == 1 else 'ies'} on "
               f"{events['metric'].nunique() if len(events) else 0} of {streams} streams"
               + (f" ({', '.join(f'{m} {n}' for m, n in sorted(by_method.items()))})" if by_method else "")
               + f"; {len(specs)} open incident{'s' if len(specs) != 1 else ''}; alerts raised {alerts['raised']},"
               f" resolved {alerts['resolved']}; {sum(timings.values()):.1f} s")
    return {"at": at.isoformat(), "summary": summary, "streams": streams, "events": written,
            "by_method": by_method, "open_incidents": len(specs), "alerts": alerts, "timings": timings}


def _still_open(inc: pd.DataFrame, newest: dict[str, datetime]) -> bool:
    """Open until the stream has data RESOLVE_AFTER past the incident's last flagged point."""
    metric = str(inc["metric"].iloc[0])
    last_flag = pd.Timestamp(inc["end_ts"].max())
    latest = newest.get(metric)
    return latest is None or pd.Timestamp(latest) - last_flag < RESOLVE_AFTER
