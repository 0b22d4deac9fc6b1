"""A real browser: a critical alert shows in the banner, is acknowledged in the alert center with a
comment, and is still acknowledged after a reload (in the Acknowledged tab); a bad silence is refused with a
message; the ops manager's triage: severity first, grouped by rule, a group acknowledged in bulk with one
comment, a rule silenced from the list with a preview; customer triggers are left to the CS worklist."""
from __future__ import annotations

import pytest
from selenium.common.exceptions import ElementClickInterceptedException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select

from models.base import get_engine
from models.derived import Alert, Silence
from models.schema import upgrade
from writes.alerts import sync_alerts
from domain.alerting.lifecycle import AlertSpec
from tests.conftest import make_settings
from tests.e2e.conftest import logged_in_app
from tests.e2e.test_customers_page import grid_rows
from ui.format import humanize

TITLE = "Tutor t-1001: 3 no-shows in 7 days"


@pytest.fixture
def seeded(tmp_path):
    settings = make_settings(tmp_path, refresh_seconds=30)
    engine = upgrade(settings.db_url)
    sync_alerts(engine, "tutor.no_shows", [AlertSpec(
        rule="tutor.no_shows", type="tutor_performance", severity="critical", title=TITLE,
        message="t-1001 missed 3 sessions in 7 days; 2 is the limit.", dedup_key="tutor.no_shows:t-1001",
        entity_id="t-1001", current_value=3, expected_value="< 2",
        investigation=["Read the last three session notes", "Call the customer today"], link="/tutors")])
    return settings


def status_of(settings) -> str:
    with get_engine(settings.db_url).connect() as conn:
        return conn.execute(select(Alert.status)).scalar_one()


def click(duo, selector: str) -> None:
    """Scroll the element to the middle of the window, then click; again while the page is still settling."""
    def attempt(driver):
        element = duo.find_element(selector)
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", element)
        if not (element.is_enabled() and element.is_displayed()):
            return False
        try:
            element.click()
        except (ElementClickInterceptedException, StaleElementReferenceException):
            return False
        return True
    WebDriverWait(duo.driver, 10, poll_frequency=0.2).until(attempt)


def click_row(duo, text: str) -> None:
    xpath = f"//div[contains(@class,'ag-row')]//div[@col-id='title' and normalize-space()='{text}']"
    WebDriverWait(duo.driver, 15).until(EC.element_to_be_clickable((By.XPATH, xpath))).click()


def test_banner_then_acknowledge_in_the_alert_center_survives_reload(dash_duo, seeded):
    duo = logged_in_app(dash_duo, seeded)
    duo.wait_for_contains_text("#shell-alert-banner-alert", "Open alerts: 1 critical", timeout=15)
    duo.find_element("#shell-alert-banner-alert a").click()  # "Open the alert center"
    duo.wait_for_element("#alerts-grid", timeout=15)
    assert duo.driver.current_url.endswith("/alerts")

    click_row(duo, TITLE)
    duo.wait_for_text_to_equal("#alerts-detail-title", TITLE, timeout=10)
    assert duo.find_element("#alerts-detail-current").text == "3"
    assert duo.find_element("#alerts-detail-expected").text == "< 2"
    assert "Call the customer today" in duo.find_element("#alerts-detail-steps").text
    duo.find_element("#alerts-comment").send_keys("Calling them now")
    click(duo, "#alerts-acknowledge")
    duo.wait_for_contains_text("#alerts-action-done", "is now acknowledged", timeout=10)
    duo.wait_for_contains_text("#alerts-detail-status", "Acknowledged", timeout=10)
    assert not duo.find_element("#alerts-acknowledge").is_enabled()  # only what the state allows
    assert status_of(seeded) == "acknowledged"

    duo.driver.refresh()
    duo.wait_for_element("#alerts-grid", timeout=15)
    duo.driver.find_element(By.XPATH, "//label[normalize-space()='Acknowledged']").click()
    status_cell = "//div[contains(@class,'ag-row')]//div[@col-id='status']"
    WebDriverWait(duo.driver, 15).until(EC.text_to_be_present_in_element((By.XPATH, status_cell), "Acknowledged"))
    click_row(duo, TITLE)
    duo.wait_for_contains_text("#alerts-detail-status", "Acknowledged", timeout=10)
    for part in ("active → acknowledged", "ops@example.com", "Calling them now"):  # the detail may redraw meanwhile
        duo.wait_for_contains_text("#alerts-detail-history", part, timeout=10)
    assert duo.find_elements("#shell-alert-banner-alert") == []  # nothing active left
    assert status_of(seeded) == "acknowledged"
    assert duo.get_logs() == []


def test_a_bad_silence_is_refused_with_a_message_and_a_good_one_is_listed(dash_duo, seeded):
    duo = logged_in_app(dash_duo, seeded)
    duo.wait_for_page(f"{duo.server_url}/alerts")
    duo.find_element("#alerts-tabs a[href], #alerts-tabs .nav-link:nth-of-type(1)")  # tabs rendered
    duo.driver.find_element(By.XPATH, "//a[contains(@class,'nav-link') and normalize-space()='Silences']").click()
    duo.wait_for_element("#alerts-silence-add", timeout=10).click()
    duo.wait_for_contains_text("#alerts-silence-error", "Name a rule or a metric", timeout=10)
    duo.find_element("#alerts-silence-rule").send_keys("trigger.calls_14d")
    hours = duo.find_element("#alerts-silence-hours")
    hours.clear()
    hours.send_keys("5000")
    duo.find_element("#alerts-silence-add").click()
    duo.wait_for_contains_text("#alerts-silence-error", "Hours must be a number between", timeout=10)
    hours.clear()
    hours.send_keys("2")
    duo.find_element("#alerts-silence-add").click()
    duo.wait_for_contains_text("#alerts-silence-error", "Say why", timeout=10)
    duo.find_element("#alerts-silence-reason").send_keys("Phone system migration tonight")
    duo.find_element("#alerts-silence-add").click()
    duo.wait_for_contains_text("#alerts-silence-added", "added", timeout=10)
    cell = "//div[@id='alerts-silences']//div[contains(@class,'ag-row')]//div[@col-id='reason']"
    WebDriverWait(duo.driver, 10).until(EC.text_to_be_present_in_element((By.XPATH, cell), "Phone system migration"))
    with get_engine(seeded.db_url).connect() as conn:
        silence = conn.execute(select(Silence)).one()
    assert silence.rule == "trigger.calls_14d" and silence.created_by == "ops@example.com"
    assert duo.get_logs() == []


@pytest.fixture
def with_metric(seeded):
    from infra.clock import utcnow
    from tests.integration.test_alert_rules import seed_metric
    seed_metric(get_engine(seeded.db_url), "sessions.booked", days=60, spikes=[(24 * 3, 70), (24 * 12, 40)],
                at=utcnow().replace(minute=0, second=0, microsecond=0))  # the page previews up to now
    return seeded


def test_rule_preview_then_save(dash_duo, with_metric):
    from models.derived import MetricRule
    duo = logged_in_app(dash_duo, with_metric)
    duo.wait_for_page(f"{duo.server_url}/alerts")
    duo.driver.find_element(By.XPATH, "//a[contains(@class,'nav-link') and normalize-space()='Detector rules']").click()
    duo.wait_for_element("#alerts-rule-metric", timeout=10)
    duo.select_dcc_dropdown("#alerts-rule-metric", "sessions.booked")
    threshold = '[id*="alerts-rule-field"][id*="robust_zscore"][id*="\\"threshold\\""]'
    WebDriverWait(duo.driver, 10).until(lambda d: duo.find_element(threshold).get_attribute("value") == "5")
    duo.wait_for_contains_text("#alerts-rule-saved", "No own rule", timeout=10)
    click(duo, "#alerts-rule-preview")
    duo.wait_for_contains_text("#alerts-rule-counts", "would have fired", timeout=20)
    field = duo.find_element(threshold)
    field.clear()
    field.send_keys("-3")
    click(duo, "#alerts-rule-preview")
    # the browser refuses -3 below min=0 and sends no value; the page says what is wrong
    duo.wait_for_contains_text("#alerts-rule-error", "robust_zscore.threshold needs a value", timeout=10)
    field.clear()
    field.send_keys("40")
    click(duo, "#alerts-rule-save")
    duo.wait_for_contains_text("#alerts-rule-saved-ok", "saved", timeout=10)
    duo.wait_for_contains_text("#alerts-rule-saved", "ops@example.com", timeout=10)
    with get_engine(with_metric.db_url).connect() as conn:
        stored = conn.execute(select(MetricRule.metric, MetricRule.settings)).one()
    assert stored.metric == "sessions.booked" and '"threshold": 40' in stored.settings
    assert duo.get_logs() == []


def spec(rule: str, kind: str, severity: str, entity: str, title: str) -> AlertSpec:
    return AlertSpec(rule=rule, type=kind, severity=severity, title=title, message=title,
                     dedup_key=f"{rule}:{entity}", entity_id=entity)


@pytest.fixture
def busy(tmp_path):
    """Three supply warnings, two critical anomalies (older), one info (newest), a customer-risk alert of an
    earlier version, and one customer task in the CS worklist."""
    from datetime import timedelta
    import pandas as pd
    from infra.clock import utcnow
    from writes.tasks import update_worklist
    settings = make_settings(tmp_path, refresh_seconds=30)
    engine = upgrade(settings.db_url)
    now = utcnow()
    sync_alerts(engine, "anomaly.robust_zscore", [spec("anomaly.robust_zscore", "anomaly", "critical", m,
                                                       f"Unusual {m}") for m in ("sessions.booked", "bookings.rate")],
                at=now - timedelta(hours=5))
    sync_alerts(engine, "supply.shortage", [spec("supply.shortage", "supply_demand", "warning", s,
                                                 f"Tutor shortage in {s}") for s in ("math", "physics", "chemistry")],
                at=now - timedelta(hours=3))
    sync_alerts(engine, "tutor.rating", [spec("tutor.rating", "tutor_performance", "info", "t-9", "Tutor t-9 rating")],
                at=now - timedelta(hours=1))
    sync_alerts(engine, "trigger.calls_14d", [spec("trigger.calls_14d", "customer_risk", "critical", "c-1",
                                                   "Customer c-1: 2 calls")], at=now - timedelta(minutes=30))
    update_worklist(engine, pd.DataFrame({"customer_id": ["c-1"], "trigger": ["calls_14d"], "why": ["2 calls"]}), now)
    return settings


def alert_rows(duo) -> list[dict]:
    return grid_rows(duo, "alerts-grid")


def test_ops_manager_triages_the_alert_centre(dash_duo, busy):
    from models.derived import AlertEvent
    engine = get_engine(busy.db_url)
    duo = logged_in_app(dash_duo, busy)
    duo.wait_for_contains_text("#shell-alert-banner-alert", "Open alerts: 2 critical and 3 warning", timeout=15)
    duo.wait_for_page(f"{duo.server_url}/alerts")

    # needs action, severity first then newest; the customer trigger is the worklist's, counted in a link
    WebDriverWait(duo.driver, 15).until(lambda d: len(alert_rows(duo)) == 6)
    rows = alert_rows(duo)
    assert [r["severity"] for r in rows] == ["critical"] * 2 + ["warning"] * 3 + ["info"]
    assert "trigger.calls_14d" not in {r["rule"] for r in rows}
    duo.wait_for_contains_text("#alerts-worklist-link", "1 customers to contact", timeout=10)
    assert duo.find_element("#alerts-worklist-link").get_attribute("href").endswith("/queue")
    critical_in_banner = 2
    assert sum(r["severity"] == "critical" for r in rows) == critical_in_banner  # one definition

    # grouped by rule, worst first, with counts; a group opens in the grid and in the URL
    groups = duo.find_element("#alerts-groups").text
    labels = [humanize(rule) for rule in ("anomaly.robust_zscore", "supply.shortage", "tutor.rating")]  # in words
    assert groups.index(labels[0]) < groups.index(labels[1]) < groups.index(labels[2])
    assert "supply.shortage" not in groups
    click(duo, "[id*='supply.shortage']")
    WebDriverWait(duo.driver, 10).until(lambda d: {r["rule"] for r in alert_rows(duo)} == {"supply.shortage"})
    assert "rule=supply.shortage" in duo.driver.current_url

    # acknowledge the whole group with one comment
    duo.find_element("#alerts-bulk-comment").send_keys("Recruiting campaign started")
    click(duo, "#alerts-bulk-acknowledge")
    duo.wait_for_contains_text("#alerts-bulk-done", "3 alerts acknowledged", timeout=10)
    with engine.connect() as conn:
        acked = conn.execute(select(Alert.id, Alert.status).where(Alert.rule == "supply.shortage")).all()
        comments = conn.execute(select(AlertEvent.comment, AlertEvent.user_email).where(
            AlertEvent.alert_id.in_([a.id for a in acked]), AlertEvent.to_status == "acknowledged")).all()
    assert {a.status for a in acked} == {"acknowledged"}
    assert sorted(comments) == [("Recruiting campaign started", "ops@example.com")] * 3
    duo.wait_for_contains_text("#shell-alert-banner-alert", "Open alerts: 2 critical.", timeout=15)
    duo.driver.find_element(By.XPATH, "//label[normalize-space()='Acknowledged']").click()
    WebDriverWait(duo.driver, 10).until(lambda d: [r["status"] for r in alert_rows(duo)] == ["acknowledged"] * 3)
    assert "status=acknowledged" in duo.driver.current_url

    # silence a rule chosen from the list, with a preview of what it mutes
    duo.select_dcc_dropdown("#alerts-mute-rule", "anomaly.robust_zscore")
    duo.wait_for_contains_text("#alerts-mute-counts", "2 are open now", timeout=10)
    duo.find_element("#alerts-mute-reason").send_keys("Booking system migration")
    click(duo, "#alerts-mute-add")
    duo.wait_for_contains_text("#alerts-mute-added", "Silenced anomaly.robust_zscore", timeout=10)
    with engine.connect() as conn:
        silence = conn.execute(select(Silence)).one()
    assert (silence.rule, silence.metric, silence.created_by) == ("anomaly.robust_zscore", None, "ops@example.com")
    assert duo.get_logs() == []
