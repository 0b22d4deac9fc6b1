"""Alert emails as HTML through the real SMTP server (aiosmtpd): a plain-text alternative, the alerts as a
table with severity colours and links, and an anomaly's stream as an inline PNG the HTML points at."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import insert

from models.base import get_engine
from models.source import MetricPoint
from writes.alerts import sync_alerts
from domain.alerting.lifecycle import AlertSpec
from jobs.runner import run_job
from tests.integration.test_delivery import mail_settings, smtp  # noqa: F401  (the SMTP server fixture)

T0 = datetime(2026, 11, 2, 9, 10)


def _points(start: datetime, hours: int, spike_from: datetime) -> list[dict]:
    rng = np.random.default_rng(7)
    rows = []
    for i in range(hours * 12):
        ts = start + timedelta(minutes=5 * i)
        value = 100 + rng.normal(0, 3) + (80 if ts >= spike_from else 0)
        rows.append({"metric": "api_latency_p95_ms", "ts": ts, "value": float(value), "row_hash": i})
    return rows


def test_critical_anomaly_email_is_html_with_table_colours_links_and_inline_chart(settings, smtp):  # noqa: F811
    settings = mail_settings(settings, smtp)
    engine = get_engine(settings.db_url)
    start = T0 - timedelta(hours=2)
    with engine.begin() as conn:
        conn.execute(insert(MetricPoint), _points(T0 - timedelta(days=2), 50, start))
    sync_alerts(engine, "anomaly.detector", [AlertSpec(
        rule="anomaly.detector", type="anomaly", severity="critical", title="api_latency_p95_ms: 180 above the expected 100",
        message="p95 latency well above its usual level", dedup_key="anomaly:api_latency_p95_ms",
        entity_id="api_latency_p95_ms", current_value=180.2, expected_value="100", link="/explorer?metric=api_latency_p95_ms",
        details={"metric": "api_latency_p95_ms", "start": start.isoformat(), "end": T0.isoformat()})], at=T0)

    result = run_job("notify", settings, at=T0 + timedelta(minutes=1))
    from tests.integration.test_delivery import deliveries
    assert result["sent"] == 1, (result, [(d.status, d.last_error) for d in deliveries(settings)])
    mail = smtp.messages[0].message
    plain = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert "Current: 180 · Expected: 100" in plain or "Current: 180.2" in plain  # the text alternative is the old body
    assert "<table" in html and "Severity" in html and "Critical" in html
    assert "#dc3545" in html  # critical's colour on the row and the badge
    assert "https://ops.example.com/alerts?id=" in html and "https://ops.example.com/explorer?metric=api_latency_p95_ms" in html
    cid = re.search(r'src="cid:([^"]+)"', html).group(1)
    images = [p for p in mail.walk() if p.get_content_type() == "image/png"]
    assert len(images) == 1 and images[0]["Content-ID"] == f"<{cid}>"
    png = images[0].get_content()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 2000


def test_an_alert_without_a_stream_gets_the_table_and_no_image(settings, smtp):  # noqa: F811
    settings = mail_settings(settings, smtp)
    engine = get_engine(settings.db_url)
    sync_alerts(engine, "supply.shortage", [AlertSpec(
        rule="supply.shortage", type="supply_demand", severity="critical", title="Recruit spanish tutors: coverage 40 %",
        message="4.9 sessions short <b>tomorrow</b>", dedup_key="supply:spanish", entity_id="spanish",
        current_value=0.4, expected_value="≥ 80 %", link="/forecast?subject=spanish")], at=T0)
    sync_alerts(engine, "anomaly.detector", [], at=T0)
    settings = settings.model_copy(update={"alert_recipients": "recruiter:hire@ops.example.com;admin:boss@ops.example.com"})
    assert run_job("notify", settings, at=T0 + timedelta(minutes=1))["sent"] == 1
    mail = smtp.messages[0].message
    html = mail.get_body(("html",)).get_content()
    assert "Recruit spanish tutors" in html and "&lt;b&gt;tomorrow&lt;/b&gt;" in html  # alert text is escaped
    assert not [p for p in mail.walk() if p.get_content_type() == "image/png"]
    assert pd.notna(mail["Message-ID"])
