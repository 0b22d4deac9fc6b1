"""A CS agent in a real browser: log in, sort the customers by risk, filter to one segment, open a critical
customer, read why, log a contact (a bad one is refused with a message), export the filtered set as CSV
and check the file's rows against the store."""
from __future__ import annotations

import csv
import time
from datetime import timedelta
from pathlib import Path

import pytest
from selenium.common.exceptions import ElementClickInterceptedException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select

from models.base import get_engine
from models.derived import ContactLog, HealthScore
from models.schema import upgrade
from infra.clock import utcnow
from jobs.runner import run_job
from tests.conftest import make_settings
from tests.e2e.conftest import logged_in_app
from tests.factories import call, customer, frame, session, tutor
from tests.support.store import load_frames

CS = ("agent@example.com", "agent-password-123")
CRITICAL = "A-0001"


def marketplace(now) -> dict:
    """Adults: one critical (2 billing calls, a bad first session, idle 25 days), one at risk, two fine;
    k12 and college customers with weekly sessions."""
    d = timedelta(days=1)
    old = (now - 150 * d).date()
    customers = [customer(CRITICAL, signup_date=old, segment="adult", goal="conversational Spanish"),
                 customer("A-0002", signup_date=old, segment="adult"),
                 customer("A-0003", signup_date=old, segment="adult", acquisition_channel="referral"),
                 customer("A-0004", signup_date=(now - 20 * d).date(), segment="adult")]
    customers += [customer(f"K-{i:04d}", signup_date=old, segment="k12") for i in range(1, 7)]
    customers += [customer(f"C-{i:04d}", signup_date=old, segment="college") for i in range(1, 4)]
    sessions = [session(CRITICAL, now - 60 * d, rating=2, tutor_id="t1"),
                session(CRITICAL, now - 40 * d, rating=3, tutor_id="t2"),
                session(CRITICAL, now - 25 * d, rating=3, tutor_id="t3")]
    sessions += [session("A-0002", now - k * d, rating=4, tutor_id="t1") for k in (30, 18, 9)]
    for cid in ["A-0003", "A-0004"] + [c["customer_id"] for c in customers[4:]]:
        sessions += [session(cid, now - k * d, rating=5, tutor_id="t1") for k in range(1, 19, 3)]
    calls = [call(CRITICAL, now - 2 * d, reason_code="billing"), call(CRITICAL, now - 5 * d, reason_code="billing")]
    return {"customers": frame("customers", customers), "tutors": frame("tutors", [tutor(t) for t in ("t1", "t2", "t3")]),
            "sessions": frame("sessions", sessions), "inbound_calls": frame("inbound_calls", calls)}


@pytest.fixture
def store(tmp_path):
    settings = make_settings(tmp_path, refresh_seconds=30)
    upgrade(settings.db_url)
    load_frames(settings, marketplace(utcnow()))
    run_job("score", settings)
    return settings


def click(duo, selector: str) -> None:
    """Scroll the element to the middle of the window at once (the theme scrolls smoothly, which moves
    it under the pointer), then click; again while the page is still settling."""
    def attempt(driver):
        element = duo.find_element(selector)
        driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", element)
        if not (element.is_enabled() and element.is_displayed()):
            return False
        try:
            element.click()
        except (ElementClickInterceptedException, StaleElementReferenceException):
            return False
        return True
    WebDriverWait(duo.driver, 10, poll_frequency=0.2).until(attempt)


def grid_rows(duo, grid_id: str) -> list[dict]:
    """The rows an AG Grid has loaded, in display order (through its API); [] before it is drawn."""
    return duo.driver.execute_script("""
        const rows = []; let api;
        try { api = window.dash_ag_grid.getApi(arguments[0]); } catch (e) { return rows; }  // not rendered yet
        api.forEachNode(n => { if (n.data) rows.push(n.data); });
        return rows;""", grid_id)


def loaded_rows(duo) -> list[dict]:
    return grid_rows(duo, "customers-grid")


def wait_rows(duo, check, timeout: float = 15):
    WebDriverWait(duo.driver, timeout, poll_frequency=0.2).until(lambda _: check(loaded_rows(duo)))
    return loaded_rows(duo)


def scores(engine, segment=None) -> dict[str, float]:
    stmt = select(HealthScore.customer_id, HealthScore.score)
    if segment:
        stmt = stmt.where(HealthScore.segment == segment)
    with engine.connect() as conn:
        return dict(conn.execute(stmt).all())


def test_cs_agent_works_the_at_risk_list(dash_duo, store):
    engine = get_engine(store.db_url)
    duo = logged_in_app(dash_duo, store, email=CS[0], password=CS[1], role="cs")
    everyone = scores(engine)

    # the customers page from the navbar: every customer, riskiest first
    duo.wait_for_page(f"{duo.server_url}/customers")
    duo.wait_for_text_to_equal("#customers-count", f"{len(everyone)} customers", timeout=20)
    rows = wait_rows(duo, lambda r: len(r) == len(everyone))

    # sort by risk: the score column, lowest (riskiest) first
    duo.find_element(".ag-header-cell[col-id='score'] .ag-header-cell-label").click()
    WebDriverWait(duo.driver, 10).until(EC.presence_of_element_located(
        (By.CSS_SELECTOR, ".ag-header-cell[col-id='score'][aria-sort='ascending']")))
    rows = wait_rows(duo, lambda r: len(r) == len(everyone))
    assert [r["score"] for r in rows] == sorted(everyone.values())
    assert rows[0]["customer_id"] == CRITICAL and rows[0]["tier"] == "critical"

    # filter to one segment
    duo.select_dcc_dropdown("#customers-segment", "adult")
    adults = scores(engine, "adult")
    duo.wait_for_text_to_equal("#customers-count", f"{len(adults)} customers", timeout=15)
    rows = wait_rows(duo, lambda r: len(r) == len(adults) and all(x["segment"] == "adult" for x in r))
    assert [r["score"] for r in rows] == sorted(adults.values())  # still sorted by risk
    score_cell = duo.find_element(f".ag-row[row-id='{CRITICAL}'] .ag-cell[col-id='score']")
    assert "customers-tier-critical" in score_cell.get_attribute("class")

    # open the critical customer and read why
    duo.find_element(f".ag-row[row-id='{CRITICAL}'] a.customers-link").click()
    duo.wait_for_text_to_equal("#customer-title", f"Customer {CRITICAL}", timeout=15)
    assert duo.driver.current_url.endswith(f"/customers/{CRITICAL}")
    assert duo.find_element("#customer-tier").text == "Critical"
    assert duo.find_element("#customer-score").text == f"{everyone[CRITICAL]:.1f}"
    assert "2 inbound calls in the last 14 days" in duo.find_element("#customer-trigger-calls_14d").text
    assert "rated 2" in duo.find_element("#customer-trigger-first_session_low_rating").text
    assert "days since the last completed session" in duo.find_element("#customer-trigger-inactive_21d").text
    assert "support calls in the last 14 days" in duo.find_element("#customer-component-calls-why").text
    assert duo.find_element("#customer-intervention").text.startswith("Call today")
    assert "Billing" in duo.find_element("#customer-calls").text
    # one scoring run so far: a day of history is not a trend, and the page says so instead of drawing one dot
    assert "Not enough history" in duo.wait_for_element("#customer-history-too-few", timeout=10).text
    duo.wait_for_element("#customer-sessions-chart", timeout=10)

    # log a contact: refused without a channel, then recorded
    click(duo, "#customer-contact-save")
    duo.wait_for_contains_text("#customer-contact-error", "Choose how you contacted", timeout=10)
    duo.driver.find_element(By.CSS_SELECTOR, "#customer-contact-channel option[value='phone']").click()
    duo.driver.find_element(By.CSS_SELECTOR, "#customer-contact-outcome option[value='reached']").click()
    duo.find_element("#customer-contact-note").send_keys("Refund of the double charge agreed; next session booked")
    click(duo, "#customer-contact-save")
    duo.wait_for_contains_text("#customer-contact-done", "Logged: Phone, reached", timeout=10)
    duo.wait_for_contains_text("#customer-contacts-table", "Refund of the double charge agreed", timeout=10)
    duo.wait_for_contains_text("#customer-contacts-table", CS[0], timeout=10)  # read again if the table redraws
    with engine.connect() as conn:
        logged = conn.execute(select(ContactLog.customer_id, ContactLog.user_email, ContactLog.channel,
                                     ContactLog.outcome)).all()
    assert logged == [(CRITICAL, CS[0], "phone", "reached")]

    # "All customers" returns to the same view: the adults, sorted by risk, the customer opened highlighted
    click(duo, "#customer-back")
    duo.wait_for_text_to_equal("#customers-count", f"{len(adults)} customers", timeout=15)
    rows = wait_rows(duo, lambda r: len(r) == len(adults))
    assert [r["score"] for r in rows] == sorted(adults.values())
    assert "segment=adult" in duo.driver.current_url and "sort=score%3Aasc" in duo.driver.current_url
    WebDriverWait(duo.driver, 10).until(EC.presence_of_element_located(
        (By.CSS_SELECTOR, f".ag-row.customers-row-opened[row-id='{CRITICAL}']")))
    # export: the file holds exactly the filtered set
    # dash[testing] points Chrome's downloads at duo.download_path (prefs and, headless, CDP)
    folder = Path(duo.download_path)
    before = set(folder.glob("customers-*.csv"))
    click(duo, "#customers-export")
    exported = wait_for_download(folder, before)
    with exported.open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert {r["customer_id"] for r in rows} == set(adults)
    assert [float(r["score"]) for r in rows] == sorted(adults.values())
    assert {r["segment"] for r in rows} == {"adult"} and "intervention" in rows[0]
    assert duo.get_logs() == []


def wait_for_download(folder: Path, before: set, timeout: float = 20) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        new = [p for p in set(folder.glob("customers-*.csv")) - before if p.stat().st_size > 0]
        if new:
            return new[0]
        time.sleep(0.2)
    raise AssertionError(f"no CSV downloaded into {folder}")


def test_unknown_customer_and_the_velocity_page(dash_duo, store):
    duo = logged_in_app(dash_duo, store, email=CS[0], password=CS[1], role="cs")

    # new scores reach an open grid without a reload: a customer calls twice, the job runs
    duo.wait_for_page(f"{duo.server_url}/customers")
    wait_rows(duo, lambda r: any(x["customer_id"] == "K-0001" and x["triggers"] == "" for x in r))
    now = utcnow()
    load_frames(store, {"inbound_calls": frame("inbound_calls", [
        call("K-0001", now - timedelta(hours=h), reason_code="technical") for h in (1, 2)])})
    run_job("score", store)
    wait_rows(duo, lambda r: any(x["customer_id"] == "K-0001" and x["triggers"] == "calls_14d" for x in r),
              timeout=30)

    duo.wait_for_page(f"{duo.server_url}/customers/NOPE-1")
    duo.wait_for_contains_text("#customer-not-found", "No customer NOPE-1", timeout=15)
    assert not duo.find_element("#customer-contact-section").is_displayed()

    duo.wait_for_page(f"{duo.server_url}/velocity")
    duo.wait_for_text_to_equal("#velocity-card-customers", "13", timeout=20)
    for chart in ("cohorts", "nth", "tiers", "retention", "histogram", "trend"):
        duo.wait_for_element(f"#velocity-{chart} .main-svg", timeout=15)
    benchmark = duo.find_element("#velocity-benchmark")
    benchmark.clear()
    benchmark.send_keys("50\n")
    duo.wait_for_contains_text("#velocity-error", "The benchmark must be", timeout=10)  # out of range
    benchmark.clear()
    benchmark.send_keys("1\n")
    duo.wait_for_contains_text("#velocity-summary", "At or above 1/week", timeout=15)
    assert duo.find_elements("#velocity-error") == []
    assert duo.get_logs() == []
