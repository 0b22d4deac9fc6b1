"""A real browser: a critical alert shows in the banner, is acknowledged in the alert center with a
comment, and is still acknowledged after a reload; a bad silence is refused with a message."""
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

TITLE = "Customer c-1001: 3 support calls in 14 days"


@pytest.fixture
def seeded(tmp_path):
    settings = make_settings(tmp_path, refresh_seconds=30)
    engine = upgrade(settings.db_url)
    sync_alerts(engine, "trigger.calls_14d", [AlertSpec(
        rule="trigger.calls_14d", type="customer_risk", severity="critical", title=TITLE,
        message="c-1001 called support 3 times in 14 days; 2 is the limit.", dedup_key="trigger.calls_14d:c-1001",
        entity_id="c-1001", current_value=3, expected_value="< 2",
        investigation=["Read the last three call notes", "Call the customer today"], link="/customers/c-1001")])
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
    duo.wait_for_contains_text("#alerts-detail-status", "acknowledged", timeout=10)
    assert not duo.find_element("#alerts-acknowledge").is_enabled()  # only what the state allows
    assert status_of(seeded) == "acknowledged"

    duo.driver.refresh()
    duo.wait_for_element("#alerts-grid", timeout=15)
    status_cell = "//div[contains(@class,'ag-row')]//div[@col-id='status']"
    WebDriverWait(duo.driver, 15).until(EC.text_to_be_present_in_element((By.XPATH, status_cell), "acknowledged"))
    click_row(duo, TITLE)
    duo.wait_for_contains_text("#alerts-detail-status", "acknowledged", timeout=10)
    history = duo.find_element("#alerts-detail-history").text
    assert "active → acknowledged" in history and "ops@example.com" in history and "Calling them now" in history
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
