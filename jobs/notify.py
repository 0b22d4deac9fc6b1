"""notify job: plan messages for new alerts, store them, send what is due, retry failures with backoff.

A delivery row moves pending -> sending -> sent, or -> failed with next_attempt_at set (a retry is
due then) or NULL (given up after notify_max_attempts; still listed in the alert center).

At most once, by choice. A row is marked 'sending' (and the attempt counted) in its own committed
transaction before the channel is called, and 'sent' after. If the process dies in between, we
cannot know whether the SMTP server or Slack took the message; sending it again could double it,
and "nothing is sent twice" is the promise. So a 'sending' row older than SENDING_STALE is closed
as failed with an error saying the outcome is unknown, and is not retried by itself; an operator
can send it again from the alert center. Failures we do observe (an exception from the channel)
are retried: those messages certainly did not go out. Email carries a Message-ID derived from the
dedup key, so even a manual resend is recognisable as the same message.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.engine import Engine

from domain.alerting.email_html import chart_png, render_html
from models.derived import Alert, AlertDelivery, Silence
from models.source import MetricPoint
from models.frames import read_frame
from models.ops import User
from infra.channels import CHANNELS, enabled_channels
from jobs.context import JobContext
from infra.clock import utcnow
from domain.alerting.notify import (
    ALERT_COLUMNS, Delivery, covered, merge_recipients, next_attempt_at, parse_recipients, plan_deliveries, users_by_role,
)

SENDING_STALE = timedelta(minutes=10)  # far longer than one send (SMTP and Slack time out after seconds)


def run(ctx: JobContext) -> dict:
    settings, engine, at = ctx.settings, ctx.engine, ctx.at
    summary = {"planned": 0, "sent": 0, "failed": 0, "gave_up": 0, "interrupted": close_stale(engine, at)}
    on = enabled_channels(settings)
    if any(on.values()):
        alerts = load_alerts(engine, at - timedelta(hours=settings.notify_lookback_hours), at)
        already = covered(load_deliveries(engine, alerts["detected_at"].min() if len(alerts) else at))
        recipients = _recipients(engine, settings.alert_recipients)
        plans = plan_deliveries(alerts, recipients, at, already, routes=settings.alert_routes, email=on["email"],
                                slack=on["slack"], base_url=settings.base_url(), silences=_silences(engine, at))
        summary["planned"] = store(engine, plans, at)
    for outcome in send_due(ctx):
        summary[outcome] += 1
    return summary


def load_alerts(engine: Engine, since: datetime, until: datetime) -> pd.DataFrame:
    """Active alerts detected in [since, until], columns ALERT_COLUMNS."""
    cols = [getattr(Alert, c) for c in ALERT_COLUMNS]
    stmt = select(*cols).where(Alert.status == "active", Alert.detected_at >= since, Alert.detected_at <= until)
    return read_frame(engine, stmt, parse_dates=["detected_at"])


def load_deliveries(engine: Engine, since) -> pd.DataFrame:
    """Deliveries that may cover alerts detected since `since` (a delivery is created after its alerts)."""
    stmt = select(AlertDelivery.channel, AlertDelivery.kind, AlertDelivery.dedup_key, AlertDelivery.alert_ids)
    return read_frame(engine, stmt.where(AlertDelivery.created_at >= pd.Timestamp(since).to_pydatetime()))


def _recipients(engine: Engine, configured: str) -> dict[str, list[str]]:
    users = read_frame(engine, select(User.email, User.role, User.active))
    return merge_recipients(parse_recipients(configured), users_by_role(users))


def _silences(engine: Engine, at: datetime) -> list[dict]:
    with engine.connect() as conn:
        rows = conn.execute(select(Silence.rule, Silence.metric, Silence.starts_at, Silence.ends_at)
                            .where(Silence.ends_at > at, Silence.starts_at <= at)).all()
    return [dict(r._mapping) for r in rows]


def store(engine: Engine, plans: list[Delivery], at: datetime) -> int:
    """Insert planned deliveries as pending; a dedup_key already stored is skipped, never sent twice."""
    if not plans:
        return 0
    with engine.begin() as conn:
        existing = set(conn.execute(select(AlertDelivery.dedup_key).where(
            AlertDelivery.dedup_key.in_([p.dedup_key for p in plans]))).scalars())
        rows = [dict(dedup_key=p.dedup_key, channel=p.channel, kind=p.kind, recipients=",".join(p.recipients),
                     subject=p.subject, body=p.body, alert_ids=",".join(map(str, p.alert_ids)), status="pending",
                     attempts=0, created_at=at, next_attempt_at=at)
                for p in plans if p.dedup_key not in existing]
        if rows:
            conn.execute(insert(AlertDelivery), rows)
    return len(rows)


def close_stale(engine: Engine, at: datetime) -> int:
    """'sending' rows whose worker died mid-send: failed, outcome unknown, not retried (see module doc)."""
    with engine.begin() as conn:
        return conn.execute(update(AlertDelivery).where(
            AlertDelivery.status == "sending", AlertDelivery.next_attempt_at <= at).values(
            status="failed", next_attempt_at=None,
            last_error="interrupted while sending: the message may or may not have gone out, so it is not "
                       "retried automatically (send it again from the alert center if it is missing)")).rowcount


def due(engine: Engine, at: datetime) -> list:
    """Pending rows and failed rows whose retry time has come, oldest first."""
    with engine.connect() as conn:
        return conn.execute(select(AlertDelivery.__table__).where(
            or_(AlertDelivery.status == "pending",
                and_(AlertDelivery.status == "failed", AlertDelivery.next_attempt_at.is_not(None))),
            AlertDelivery.next_attempt_at <= at).order_by(AlertDelivery.id)).all()


def send_due(ctx: JobContext):
    """Send every due delivery once; yields 'sent', 'failed' (will retry) or 'gave_up' per row."""
    settings, engine, at = ctx.settings, ctx.engine, ctx.at
    for d in due(engine, at):
        attempts = (d.attempts or 0) + 1
        with engine.begin() as conn:  # claim: only one sender gets past this per row and attempt
            claimed = conn.execute(update(AlertDelivery).where(
                AlertDelivery.id == d.id, AlertDelivery.status == d.status, AlertDelivery.attempts == d.attempts).values(
                status="sending", attempts=attempts, next_attempt_at=at + SENDING_STALE)).rowcount
        if not claimed:
            continue
        message = Delivery(d.channel, d.kind, d.dedup_key, tuple(r for r in d.recipients.split(",") if r),
                           d.subject, d.body, tuple(int(i) for i in d.alert_ids.split(",") if i))
        if d.channel == "email":
            message = with_html(engine, message, settings.base_url())
        try:
            send = CHANNELS.get(d.channel)
            if send is None:
                raise RuntimeError(f"unknown channel {d.channel!r}")
            send(settings, message)
        except Exception as exc:  # every failure is recorded on the row, whatever raised it
            retry = next_attempt_at(attempts, at, settings.notify_backoff_s, settings.notify_max_attempts)
            with engine.begin() as conn:
                conn.execute(update(AlertDelivery).where(AlertDelivery.id == d.id).values(
                    status="failed", last_error=f"attempt {attempts}: {exc}"[:2000], next_attempt_at=retry))
            yield "failed" if retry else "gave_up"
            continue
        with engine.begin() as conn:
            conn.execute(update(AlertDelivery).where(AlertDelivery.id == d.id).values(
                status="sent", sent_at=utcnow(), next_attempt_at=None))
        yield "sent"




@dataclass(frozen=True)
class HtmlDelivery:
    """A Delivery with its HTML alternative and inline chart images (infra/channels.send_email sends both)."""
    channel: str
    kind: str
    dedup_key: str
    recipients: tuple[str, ...]
    subject: str
    body: str
    alert_ids: tuple[int, ...]
    html: str
    images: tuple[tuple[str, bytes], ...]


HTML_COLUMNS = ["id", "severity", "title", "type", "rule", "current_value", "expected_value", "message", "link",
                "detected_at", "details"]


def with_html(engine: Engine, message: Delivery, base_url: str, max_charts: int = 3) -> HtmlDelivery:
    """The message's alerts as an HTML table (rendered at send time from the alerts it carries), with a chart of
    the stream around each anomaly (at most `max_charts`); the stored plain text stays the alternative."""
    stmt = select(*[getattr(Alert, c) for c in HTML_COLUMNS]).where(Alert.id.in_(message.alert_ids))
    alerts = read_frame(engine, stmt, parse_dates=["detected_at"])
    charts, images = {}, []
    for a in alerts[alerts["type"] == "anomaly"].head(max_charts).itertuples():
        png = _anomaly_png(engine, json.loads(a.details or "{}"))
        if png:
            cid = f"alert-{int(a.id)}-chart"
            charts[int(a.id)] = cid
            images.append((cid, png))
    intro = message.body.split("\n", 1)[0]
    html = render_html(message.subject, intro, alerts.drop(columns="details"), base_url, charts)
    return HtmlDelivery(message.channel, message.kind, message.dedup_key, message.recipients, message.subject,
                        message.body, message.alert_ids, html, tuple(images))


def _anomaly_png(engine: Engine, details: dict) -> bytes | None:
    """The stream two days before the anomaly to a few hours after it, as a small PNG (None without data)."""
    metric, start, end = details.get("metric"), details.get("start"), details.get("end")
    if not (metric and start and end):
        return None
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    stmt = (select(MetricPoint.ts, MetricPoint.value).where(
        MetricPoint.metric == metric, MetricPoint.ts >= (start - timedelta(days=2)).to_pydatetime(),
        MetricPoint.ts <= (end + timedelta(hours=6)).to_pydatetime()).order_by(MetricPoint.ts))
    points = read_frame(engine, stmt, parse_dates=["ts"])
    if len(points) < 3:
        return None
    return chart_png(pd.Series(points["value"].to_numpy(dtype=float), index=pd.DatetimeIndex(points["ts"])), start, end)
