"""Delivery channels: one small function per channel, listed in CHANNELS.

    CHANNELS[channel](settings, message) -> None, raising ChannelError when the message did not go out.

`message` is a domain.alerting.notify.Delivery (or anything with channel, dedup_key, recipients,
subject, body; email also sends `html` as the alternative part and `images` [(content id, PNG)] inline). Email goes through Flask-Mail bound to a minimal Flask app built from Settings,
because the notify job runs outside the web app (Celery worker, embedded scheduler, CLI).
"""
from __future__ import annotations

import hashlib
import smtplib
from typing import Callable, Protocol

import requests
from flask import Flask
from flask_mail import Connection, Mail, Message

from config import Settings


class ChannelError(RuntimeError):
    """A message that did not go out; the text is safe to store and show (no secrets)."""


class Outgoing(Protocol):
    channel: str
    dedup_key: str
    recipients: tuple[str, ...]
    subject: str
    body: str


def mail_app(settings: Settings) -> Flask:
    """A bare Flask app carrying only the MAIL_* configuration; sending must not need the web app."""
    app = Flask("notify")
    app.config.update(
        MAIL_SERVER=settings.mail_server, MAIL_PORT=settings.mail_port, MAIL_USE_TLS=settings.mail_use_tls,
        MAIL_USERNAME=settings.mail_username or None, MAIL_PASSWORD=settings.mail_password or None,
        MAIL_DEFAULT_SENDER=settings.mail_sender,
        # Flask-Mail suppresses sending when TESTING; the switch that matters here is mail_enabled
        MAIL_SUPPRESS_SEND=not settings.mail_enabled, TESTING=settings.testing)
    return app


class _TimedConnection(Connection):
    """Flask-Mail's connection opens smtplib.SMTP without a timeout: a server that accepts and then
    stalls would hang the job forever. Same steps as Connection.configure_host, with a timeout."""

    timeout_s: float = 15.0

    def configure_host(self):
        mail = self.mail
        cls = smtplib.SMTP_SSL if mail.use_ssl else smtplib.SMTP
        host = cls(mail.server, mail.port, timeout=self.timeout_s)
        if mail.use_tls:
            host.starttls()
        if mail.username and mail.password:
            host.login(mail.username, mail.password)
        return host


def message_id(dedup_key: str, sender: str) -> str:
    """The same delivery always has the same Message-ID, so a mail system can drop a duplicate."""
    domain = sender.rpartition("@")[2] or "localhost"
    return f"<{hashlib.sha1(dedup_key.encode()).hexdigest()}@{domain}>"


def send_email(settings: Settings, message: Outgoing) -> None:
    if not settings.mail_enabled:
        raise ChannelError("email is switched off (MAIL_ENABLED=false)")
    if not message.recipients:
        raise ChannelError("no recipients")
    app = mail_app(settings)
    mail = Mail(app)
    msg = Message(subject=message.subject, recipients=list(message.recipients), body=message.body,
                  sender=settings.mail_sender, extra_headers={"X-Alert-Delivery": message.dedup_key},
                  html=getattr(message, "html", None))  # HTML alternative when the message has one
    for cid, png in getattr(message, "images", ()):  # inline charts the HTML shows as <img src="cid:...">
        msg.attach(f"{cid}.png", "image/png", png, "inline", headers={"Content-ID": f"<{cid}>"})
    msg.msgId = message_id(message.dedup_key, settings.mail_sender)
    connection = _TimedConnection(mail.state)
    connection.timeout_s = settings.mail_timeout_s
    with app.app_context():
        try:
            connection.host = connection.configure_host()
            connection.send(msg)
        except (smtplib.SMTPException, OSError) as exc:
            raise ChannelError(f"SMTP {settings.mail_server}:{settings.mail_port}: {type(exc).__name__}: {exc}") from exc
        finally:
            _quit(connection.host)


def _quit(host) -> None:
    """Close the session; once the server accepted the message, a failing QUIT is no failed send."""
    if host is None:
        return
    try:
        host.quit()
    except (smtplib.SMTPException, OSError):
        host.close()


def slack_payload(message: Outgoing) -> dict:
    """Incoming-webhook JSON: plain text for notifications, blocks for the message itself."""
    body = message.body if len(message.body) <= 2900 else message.body[:2880] + "\n… (truncated)"
    return {"text": message.subject,
            "blocks": [{"type": "header", "text": {"type": "plain_text", "text": message.subject[:150]}},
                       {"type": "section", "text": {"type": "mrkdwn", "text": body}}]}


def send_slack(settings: Settings, message: Outgoing) -> None:
    # The webhook URL is a secret: errors name the status, never the URL.
    if not settings.slack_webhook_url:
        raise ChannelError("no Slack webhook configured (SLACK_WEBHOOK_URL)")
    try:
        response = requests.post(settings.slack_webhook_url, json=slack_payload(message), timeout=10)
    except requests.RequestException as exc:
        raise ChannelError(f"Slack webhook unreachable: {type(exc).__name__}") from None
    if response.status_code != 200:
        raise ChannelError(f"Slack answered HTTP {response.status_code}: {response.text[:200]}")


CHANNELS: dict[str, Callable[[Settings, Outgoing], None]] = {"email": send_email, "slack": send_slack}


def enabled_channels(settings: Settings) -> dict[str, bool]:
    return {"email": bool(settings.mail_enabled), "slack": bool(settings.slack_webhook_url)}
