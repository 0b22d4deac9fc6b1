"""The CS agent's day in a real browser: sign in -> My queue (the agent's home) -> open the top customer ->
name and phone with click-to-call -> log a call with an outcome and a follow-up -> the customer leaves the
queue until the follow-up date -> the customers list keeps its filters and sort through a customer and Back."""
from __future__ import annotations

from datetime import timedelta

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select, update

from infra.clock import utcnow
from jobs.runner import run_job
from models.base import get_engine
from models.derived import ContactLog, CustomerTask
from models.schema import upgrade
from models.source import Customer
from read.queue import my_queue
from tests.conftest import make_settings
from tests.e2e.conftest import logged_in_app
from tests.e2e.test_customers_page import CRITICAL, click, grid_rows, marketplace, scores, wait_rows
from tests.support.store import load_frames
from auth import accounts

AGENT = ("agent@example.com", "agent-password-123")


@pytest.fixture
def store(tmp_path):
    settings = make_settings(tmp_path, refresh_seconds=30)
    engine = upgrade(settings.db_url)
    accounts.create_user(engine, AGENT[0], "cs", AGENT[1])
    load_frames(settings, marketplace(utcnow()))
    with engine.begin() as conn:  # the contact details the contract's optional fields carry
        for i, cid in enumerate(conn.execute(select(Customer.customer_id)).scalars()):
            conn.execute(update(Customer).where(Customer.customer_id == cid).values(
                name=f"Person {cid}", phone=f"+1 555 010 {i:04d}", email=f"{cid.lower()}@example.org"))
    run_job("score", settings)
    return settings


def queue_rows(duo) -> list[dict]:
    return grid_rows(duo, "queue-table")


def test_the_cs_agents_day(dash_duo, store):
    engine = get_engine(store.db_url)
    queue = my_queue(engine, AGENT[0], utcnow())
    top = queue.iloc[0]
    assert top["customer_id"] == CRITICAL and top["priority"] == 1  # two calls and a bad first session

    # sign in: the agent lands on My queue, most urgent first, with a name and a number
    duo = logged_in_app(dash_duo, store, email=AGENT[0], password=AGENT[1], role="cs")
    duo.wait_for_element("#queue-table .ag-row", timeout=20)
    assert duo.driver.current_url.rstrip("/").endswith("/queue")
    shown = queue_rows(duo)
    assert [r["customer_id"] for r in shown] == queue["customer_id"].tolist()
    assert shown[0]["name"] == f"Person {CRITICAL}" and shown[0]["action"].startswith("Call today")
    first = " ".join(e.text for e in duo.find_elements(f"#queue-table .ag-row[row-id='{CRITICAL}']"))  # pinned + centre
    assert f"Person {CRITICAL}" in first and "+1 555" in first
    assert duo.find_element(f"#queue-table .ag-row[row-id='{CRITICAL}'] a.queue-phone").get_attribute(
        "href").startswith("tel:+1")

    # open the top customer: name, click-to-call, owner, the suggested action and the form together
    click(duo, f"#queue-table .ag-row[row-id='{CRITICAL}'] a.queue-customer")
    duo.wait_for_text_to_equal("#customer-name", f"Person {CRITICAL}", timeout=15)
    phone = duo.find_element("#customer-phone")
    assert phone.get_attribute("href").startswith("tel:+1") and phone.text.startswith("+1 555")
    assert duo.find_element("#customer-email").get_attribute("href") == f"mailto:{CRITICAL.lower()}@example.org"
    assert duo.find_element("#customer-owner-email").text == AGENT[0]
    assert duo.find_element("#customer-intervention").text.startswith("Call today")
    form_top = duo.find_element("#customer-contact-save").location["y"]
    assert form_top < 900  # above the fold of a 1000 px window

    # log the call: reached, follow up in two days
    duo.driver.find_element(By.CSS_SELECTOR, "#customer-contact-channel option[value='phone']").click()
    duo.driver.find_element(By.CSS_SELECTOR, "#customer-contact-outcome option[value='no_answer']").click()
    follow_up = (utcnow() + timedelta(days=1)).strftime("%Y-%m-%d")
    WebDriverWait(duo.driver, 10).until(
        lambda d: duo.find_element("#customer-contact-follow-up").get_attribute("value") == follow_up)
    duo.find_element("#customer-contact-note").send_keys("No answer; trying again tomorrow")
    click(duo, "#customer-contact-save")
    duo.wait_for_contains_text("#customer-contact-done", "out of the queue until then", timeout=10)
    duo.wait_for_contains_text("#customer-next-follow-up", (utcnow() + timedelta(days=1)).strftime("%d %b %Y"), timeout=10)
    with engine.connect() as conn:
        contact = conn.execute(select(ContactLog.outcome, ContactLog.follow_up_at, ContactLog.user_email)).one()
        statuses = set(conn.execute(select(CustomerTask.status).where(CustomerTask.customer_id == CRITICAL)).scalars())
    assert contact.outcome == "no_answer" and contact.user_email == AGENT[0]
    assert f"{contact.follow_up_at:%Y-%m-%d}" == follow_up and statuses == {"waiting"}

    # back to the queue: the customer is gone until the follow-up date, and counted as waiting
    duo.driver.back()
    duo.wait_for_contains_text("#queue-waiting", "1 waiting", timeout=15)
    WebDriverWait(duo.driver, 10).until(lambda d: CRITICAL not in {r["customer_id"] for r in queue_rows(duo)})
    assert duo.driver.current_url.rstrip("/").endswith("/queue")
    at_follow_up = utcnow() + timedelta(days=1, minutes=1)
    assert CRITICAL not in set(my_queue(engine, AGENT[0], utcnow())["customer_id"])
    run_job("worklist", store, at=at_follow_up)  # the follow-up comes, the calls still count: back in the queue
    assert my_queue(engine, AGENT[0], at_follow_up)["customer_id"].iloc[0] == CRITICAL

    # the customers list: filter, sort, open a customer, browser Back -> the same view
    adults = scores(engine, "adult")
    duo.wait_for_page(f"{duo.server_url}/customers")
    duo.select_dcc_dropdown("#customers-segment", "adult")
    duo.wait_for_text_to_equal("#customers-count", f"{len(adults)} customers", timeout=15)
    duo.find_element(".ag-header-cell[col-id='score'] .ag-header-cell-label").click()
    WebDriverWait(duo.driver, 10).until(EC.presence_of_element_located(
        (By.CSS_SELECTOR, ".ag-header-cell[col-id='score'][aria-sort='ascending']")))
    rows = wait_rows(duo, lambda r: len(r) == len(adults) and [x["score"] for x in r] == sorted(adults.values()))
    assert rows[0]["name"] == f"Person {rows[0]['customer_id']}"  # the name column, for a role that may see it
    opened = rows[1]["customer_id"]
    WebDriverWait(duo.driver, 10).until(lambda d: "sort=score" in d.current_url)
    duo.find_element(f".ag-row[row-id='{opened}'] a.customers-link").click()
    duo.wait_for_text_to_equal("#customer-title", f"Customer {opened}", timeout=15)
    duo.driver.back()
    duo.wait_for_text_to_equal("#customers-count", f"{len(adults)} customers", timeout=15)
    rows = wait_rows(duo, lambda r: len(r) == len(adults))
    assert [r["score"] for r in rows] == sorted(adults.values())
    assert "segment=adult" in duo.driver.current_url and f"row={opened}" in duo.driver.current_url
    WebDriverWait(duo.driver, 10).until(EC.presence_of_element_located(
        (By.CSS_SELECTOR, f".ag-row.customers-row-opened[row-id='{opened}']")))
    assert [o.text for o in duo.find_elements("#customers-segment .Select-value-label, #customers-segment "
                                              "[class*='multi-value'] [class*='label']")] in (["adult"], [])

    # save the view by name; it is listed for this user
    duo.find_element("#customers-view-name").send_keys("My adults")
    click(duo, "#customers-view-save")
    duo.wait_for_contains_text("#customers-view-saved", "My adults", timeout=10)
    assert duo.get_logs() == []
