"""Alert delivery end to end: a real SMTP server (aiosmtpd) and a loopback Slack webhook receive what
the notify job sends; nothing goes out twice; a failing server means a recorded failure and a retry."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import insert, select

from auth import accounts
from models.base import get_engine
from models.derived import AlertDelivery
from writes.alerts import sync_alerts
from domain.alerting.lifecycle import AlertSpec
from jobs.runner import run_job
from tests.support.smtp import SmtpServer, WebhookServer

T0 = datetime(2026, 11, 2, 9, 10)


def spec(key: str, severity: str = "critical", rule: str = "trigger.calls_14d", type: str = "customer_risk") -> AlertSpec:
    return AlertSpec(rule=rule, type=type, severity=severity, title=f"Customer {key}: 2+ support calls in 14 days",
                     message=f"{key} called support 3 times in 14 days", dedup_key=f"{rule}:{key}", entity_id=key,
                     current_value=3, expected_value="< 2", investigation=["Read the call notes", "Call the customer"],
                     link=f"/customers/{key}")


@pytest.fixture
def smtp():
    with SmtpServer() as server:
        yield server


@pytest.fixture
def slack():
    with WebhookServer() as hook:
        yield hook


def mail_settings(settings, smtp, **more):
    values = dict(mail_enabled=True, mail_server="127.0.0.1", mail_port=smtp.port, mail_sender="alerts@ops.example.com",
                  alert_recipients="ops:oncall@ops.example.com", public_url="https://ops.example.com", mail_timeout_s=5)
    values.update(more)
    return settings.model_copy(update=values)


def deliveries(settings) -> list:
    with get_engine(settings.db_url).connect() as conn:
        return conn.execute(select(AlertDelivery.__table__).order_by(AlertDelivery.id)).all()


def test_critical_email_at_once_digest_once_an_hour_slack_too_nothing_twice(any_settings, smtp, slack):
    settings = mail_settings(any_settings, smtp, slack_webhook_url=slack.url)
    engine = get_engine(settings.db_url)
    accounts.create_user(engine, "cs.agent@ops.example.com", "cs", "long-enough-pw")
    accounts.create_user(engine, "boss@ops.example.com", "admin", "long-enough-pw")
    sync_alerts(engine, "trigger.calls_14d", [spec("c1"), spec("c2")], at=T0)
    sync_alerts(engine, "trigger.lapsed", [spec(f"w{i}", "warning", rule="trigger.lapsed") for i in range(5)], at=T0,)
    sync_alerts(engine, "anomaly.robust_zscore", [spec("bookings", "warning", rule="anomaly.robust_zscore", type="anomaly")], at=T0)

    first = run_job("notify", settings, at=T0 + timedelta(minutes=1))
    assert first["sent"] == 2 and first["failed"] == 0  # one email and one Slack post, digests wait for 10:00
    assert len(smtp.messages) == 1
    mail = smtp.messages[0]
    assert mail.subject == ("[CRITICAL] 2 alerts from trigger.calls_14d: "
                            "Customer c1: 2+ support calls in 14 days and 1 more")
    assert sorted(mail.rcpt_tos) == ["boss@ops.example.com", "cs.agent@ops.example.com"]
    assert mail.message["From"] == "alerts@ops.example.com"
    for text in ("c1 called support 3 times", "Current: 3 · Expected: < 2", "- Read the call notes",
                 "https://ops.example.com/customers/c2", "https://ops.example.com/alerts?id="):
        assert text in mail.body
    assert len(slack.posts) == 1 and slack.posts[0]["text"].startswith("[CRITICAL] 2 alerts")
    assert slack.posts[0]["blocks"][1]["text"]["text"].count("Customer c") == 2

    again = run_job("notify", settings, at=T0 + timedelta(minutes=2))
    assert again == {"planned": 0, "sent": 0, "failed": 0, "gave_up": 0, "interrupted": 0}
    assert len(smtp.messages) == 1 and len(slack.posts) == 1

    hourly = run_job("notify", settings, at=datetime(2026, 11, 2, 10, 1))
    assert hourly["sent"] == 3  # cs digest, ops digest, Slack digest
    digests = {m.rcpt_tos[0]: m for m in smtp.messages[1:]}
    assert set(digests) == {"cs.agent@ops.example.com", "oncall@ops.example.com"}
    cs = digests["cs.agent@ops.example.com"]
    assert cs.subject == "Alert digest 2026-11-02 09:00–10:00 UTC (cs): 5 alerts from 1 rule"
    assert "== trigger.lapsed (customer_risk): 5 alerts (5 warning)" in cs.body and "... and 2 more" in cs.body
    assert "anomaly.robust_zscore" in digests["oncall@ops.example.com"].body
    assert "6 alerts from 2 rules" in slack.posts[1]["text"]

    for minute in (5, 40):
        assert run_job("notify", settings, at=datetime(2026, 11, 2, 10, minute))["sent"] == 0
    assert run_job("notify", settings, at=datetime(2026, 11, 2, 11, 1))["sent"] == 0
    assert len(smtp.messages) == 3 and len(slack.posts) == 2
    rows = deliveries(settings)
    assert [r.status for r in rows] == ["sent"] * 5 and len({r.dedup_key for r in rows}) == 5
    assert all(r.attempts == 1 and r.sent_at is not None for r in rows)


def test_smtp_down_is_recorded_then_retried_once_it_is_back(settings, smtp):
    settings = mail_settings(settings, smtp)
    engine = get_engine(settings.db_url)
    sync_alerts(engine, "anomaly.robust_zscore", [spec("bookings", rule="anomaly.robust_zscore", type="anomaly")], at=T0)
    smtp.stop()
    down = run_job("notify", settings, at=T0 + timedelta(minutes=1))
    assert down["failed"] == 1 and smtp.messages == []
    (row,) = deliveries(settings)
    assert row.status == "failed" and row.attempts == 1
    assert "ConnectionRefusedError" in row.last_error and f"127.0.0.1:{smtp.port}" in row.last_error
    assert row.next_attempt_at == T0 + timedelta(minutes=2)  # 1 minute backoff

    assert run_job("notify", settings, at=T0 + timedelta(minutes=1, seconds=30))["failed"] == 0  # not due yet
    assert deliveries(settings)[0].attempts == 1

    smtp.start()
    back = run_job("notify", settings, at=T0 + timedelta(minutes=2))
    assert back["sent"] == 1 and len(smtp.messages) == 1
    assert smtp.messages[0].subject.startswith("[CRITICAL]")
    (row,) = deliveries(settings)
    assert row.status == "sent" and row.attempts == 2 and "ConnectionRefusedError" in row.last_error
    assert run_job("notify", settings, at=T0 + timedelta(minutes=10))["sent"] == 0
    assert len(smtp.messages) == 1


def test_retries_back_off_and_give_up_visibly(settings, smtp):
    settings = mail_settings(settings, smtp, notify_max_attempts=3)
    engine = get_engine(settings.db_url)
    sync_alerts(engine, "anomaly.robust_zscore", [spec("bookings", rule="anomaly.robust_zscore", type="anomaly")], at=T0)
    smtp.stop()
    at, waits = T0 + timedelta(minutes=1), []
    for _ in range(3):
        run_job("notify", settings, at=at)
        row = deliveries(settings)[0]
        if row.next_attempt_at is None:
            break
        waits.append((row.next_attempt_at - at).total_seconds() / 60)
        at = row.next_attempt_at
    assert waits == [1, 2]
    assert row.status == "failed" and row.attempts == 3 and row.next_attempt_at is None
    smtp.start()
    assert run_job("notify", settings, at=at + timedelta(hours=1))["sent"] == 0  # given up, not lost: still listed
    assert smtp.messages == []


def test_slack_failure_is_recorded_without_the_secret_url(settings, slack):
    settings = settings.model_copy(update=dict(slack_webhook_url=slack.url))
    engine = get_engine(settings.db_url)
    sync_alerts(engine, "anomaly.robust_zscore", [spec("bookings", rule="anomaly.robust_zscore", type="anomaly")], at=T0)
    slack.status = 500
    assert run_job("notify", settings, at=T0 + timedelta(minutes=1))["failed"] == 1
    row = deliveries(settings)[0]
    assert "HTTP 500" in row.last_error and "secret" not in row.last_error
    slack.status = 200
    assert run_job("notify", settings, at=T0 + timedelta(minutes=3))["sent"] == 1 and len(slack.posts) == 1


def test_a_send_interrupted_by_a_crash_is_not_sent_again(settings, smtp):
    """At most once: a row left 'sending' may have gone out; it is closed as failed, not resent."""
    settings = mail_settings(settings, smtp)
    engine = get_engine(settings.db_url)
    with engine.begin() as conn:
        conn.execute(insert(AlertDelivery).values(
            dedup_key="email:immediate:x:1", channel="email", kind="immediate", recipients="oncall@ops.example.com",
            subject="s", body="b", alert_ids="1", status="sending", attempts=1, created_at=T0,
            next_attempt_at=T0 + timedelta(minutes=10)))
    assert run_job("notify", settings, at=T0 + timedelta(minutes=5))["interrupted"] == 0  # maybe still sending
    assert run_job("notify", settings, at=T0 + timedelta(minutes=11))["interrupted"] == 1
    row = deliveries(settings)[0]
    assert row.status == "failed" and row.next_attempt_at is None and "may or may not" in row.last_error
    run_job("notify", settings, at=T0 + timedelta(hours=2))
    assert smtp.messages == []
