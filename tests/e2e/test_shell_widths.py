"""Every role's screens in a real browser at 1280, 1440 and 390 px: the navbar fits one line (collapsed behind
its toggler on a phone), each role sees its pages and lands on its home, the server refuses the others, the
grids' headers are not cut, no raw code reaches a page, and a half-typed dismiss reason survives a refresh."""
from __future__ import annotations

import time

import pytest
from dash.testing.wait import until
from selenium.webdriver.common.by import By

from auth import accounts
from jobs.runner import run_job
from models.schema import upgrade
from tests.conftest import make_settings
from tests.e2e.conftest import login, start
from tests.e2e.test_tutors_page import AT as TUTORS_AT, seed_frames as tutor_frames
from tests.support.forecast import AT, source_frames, write_forecast
from tests.support.store import load_frames
from ui.format import RAW_CODES

PASSWORD = "correct-horse-battery"
ROLES = ("admin", "ops", "cs", "recruiter")
PAGES = {"/": "#overview-card-sessions_today", "/tutors": "#tutors-grid .ag-row",
         "/recommendations": "#recs-feed .card", "/explorer": "#explorer-chart .main-svg",
         "/data-health": "#data-health-sources .ag-row"}
GRIDS_UNCUT = ("/tutors", "/data-health")  # pages whose grids must show every header in full


assert TUTORS_AT == AT  # one as-of time for both hand-made stores


@pytest.fixture
def app_settings(tmp_path):
    """The hand-made forecast store (tutors, sessions, campaigns) with supply, recommendations, first-session
    statistics and the overview computed at AT; one user per role."""
    settings = make_settings(tmp_path, refresh_seconds=30, recommendation_ttl_h=24 * 365 * 20)
    engine = upgrade(settings.db_url)
    for role in ROLES:
        accounts.create_user(engine, f"{role}@example.com", role, PASSWORD)
    load_frames(settings, source_frames())
    load_frames(settings, tutor_frames(), name="tutors")  # first sessions for the tutors page (same AT)
    write_forecast(settings)
    for job in ("supply", "recommend", "first-session", "overview"):
        run_job(job, settings, at=AT)
    return settings


def signed_in(dash_duo, app_under_test, role: str, width: int, path: str = "/"):
    start(dash_duo, app_under_test)
    dash_duo.driver.set_window_size(width, 900)
    login(dash_duo, f"{role}@example.com", PASSWORD, next_path=path)
    dash_duo.wait_for_element("#shell-navbar", timeout=15)
    return dash_duo


def nav_tops(dash_duo) -> list[int]:
    """The vertical position of every top-level navbar entry (equal when they share one line)."""
    return dash_duo.driver.execute_script(
        "return [...document.querySelectorAll('#shell-navbar .navbar-brand, #shell-nav > .nav-item, "
        "#shell-nav > .dropdown, #shell-logout')].filter(e => e.offsetParent).map(e => Math.round(e.getBoundingClientRect().top));")


def cut_headers(dash_duo) -> list[str]:
    """Grid header labels whose text does not fit their cell (the browser ellipsises them)."""
    return dash_duo.driver.execute_script(
        "return [...document.querySelectorAll('.ag-header-cell-text')].filter(e => e.offsetParent && "
        "e.scrollWidth > e.clientWidth + 1).map(e => e.textContent);")


def hidden_rows(dash_duo, grid: str) -> int:
    """How many pixels of a grid's rows lie below its visible body (scrolled out of sight)."""
    return dash_duo.driver.execute_script(
        "const v = document.querySelector(arguments[0] + ' .ag-body-viewport'); "
        "return v ? v.scrollHeight - v.clientHeight : -1;", grid)


@pytest.mark.parametrize("width", [1280, 1440])
def test_desktop_navbar_one_line_grids_uncut_and_no_raw_codes(dash_duo, app_under_test, width):
    dash_duo = signed_in(dash_duo, app_under_test, "ops", width)
    until(lambda: dash_duo.driver.current_url.rstrip("/") == dash_duo.server_url.rstrip("/"), timeout=10)  # ops: Overview
    dash_duo.wait_for_element("#overview-card-sessions_today", timeout=15)
    tops = nav_tops(dash_duo)
    assert len(tops) >= 6 and max(tops) - min(tops) <= 8, tops
    assert dash_duo.find_element("#shell-navbar").size["height"] < 70
    for path, ready in PAGES.items():
        dash_duo.driver.get(f"{dash_duo.server_url}{path}")
        dash_duo.wait_for_element(ready, timeout=20)
        if path in GRIDS_UNCUT:
            until(lambda: not cut_headers(dash_duo), timeout=5, msg=lambda: f"cut: {cut_headers(dash_duo)}")
        if path == "/data-health":  # every source row in sight: the grid grows with its rows, no inner scroll
            until(lambda: hidden_rows(dash_duo, "#data-health-sources") == 0, timeout=5,
                  msg=lambda: f"{hidden_rows(dash_duo, '#data-health-sources')} px of rows hidden")
        text = dash_duo.find_element("body").text
        assert not [code for code in RAW_CODES if code in text], (path, [c for c in RAW_CODES if c in text])
        assert max(nav_tops(dash_duo)) - min(nav_tops(dash_duo)) <= 8


def test_phone_menu_collapses_and_opens(dash_duo, app_under_test):
    dash_duo = signed_in(dash_duo, app_under_test, "ops", 390)
    dash_duo.wait_for_element("#overview-card-sessions_today", timeout=15)
    toggler = dash_duo.find_element("#shell-nav-toggle")
    assert toggler.is_displayed()
    assert not dash_duo.find_element("#nav-menu-marketplace").is_displayed()
    assert dash_duo.find_element("#shell-navbar").size["height"] < 70
    toggler.click()
    until(lambda: dash_duo.find_element("#nav-menu-marketplace").is_displayed(), timeout=5)
    until(lambda: dash_duo.find_element("#shell-logout").is_displayed(), timeout=5)
    width = dash_duo.driver.execute_script("return document.documentElement.scrollWidth")
    assert width <= 392  # nothing wider than the phone


@pytest.mark.parametrize("role, home, hidden, refused", [
    ("cs", ("/queue", "/customers"), "nav-admin", "/recommendations"),
    ("recruiter", ("/recommendations",), "nav-menu-customers", "/customers"),
    ("admin", ("",), None, None),
])
def test_each_role_lands_on_its_home_sees_its_pages_and_is_refused_the_others(
        dash_duo, app_under_test, role, home, hidden, refused):
    dash_duo = signed_in(dash_duo, app_under_test, role, 1440)
    until(lambda: dash_duo.driver.current_url.split(dash_duo.server_url, 1)[1].rstrip("/") in home,
          timeout=10, msg=lambda: dash_duo.driver.current_url)
    if hidden:
        assert not dash_duo.driver.find_elements(By.ID, hidden)
    if refused:
        dash_duo.driver.get(f"{dash_duo.server_url}{refused}")
        until(lambda: "not available" in dash_duo.find_element("body").text, timeout=10)
        assert not dash_duo.driver.find_elements(By.ID, "recs-feed") and not dash_duo.driver.find_elements(
            By.ID, "customers-grid")
    else:
        assert dash_duo.driver.find_elements(By.ID, "nav-admin")  # admins see Users


def test_http_refuses_a_page_the_role_may_not_see(app_settings):
    from app import create_app
    client = create_app(app_settings).server.test_client()
    response = client.post("/login", data={"email": "cs@example.com", "password": PASSWORD, "csrf_token": ""})
    if response.status_code == 400:  # CSRF on: read the token from the form like a browser
        import re
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        client.post("/login", data={"email": "cs@example.com", "password": PASSWORD, "csrf_token": token})
    assert client.get("/admin").status_code == 403
    assert client.get("/recommendations").status_code == 403
    home = client.get("/")
    assert home.status_code == 302 and home.headers["Location"].endswith(("/queue", "/customers"))  # CS's home
    assert client.get("/customers").status_code == 200


def test_a_half_typed_dismiss_reason_survives_live_refreshes(dash_duo, app_under_test, app_settings):
    dash_duo = signed_in(dash_duo, app_under_test, "recruiter", 1440, "/recommendations")
    until(lambda: len(dash_duo.driver.find_elements(By.CSS_SELECTOR, "#recs-feed .recs-card")) >= 1, timeout=15)
    box = dash_duo.driver.find_elements(By.CSS_SELECTOR, "#recs-feed .recs-card input")[0]
    box.click()
    box.send_keys("hiring plan already agr")
    version = dash_duo.driver.execute_script("return document.getElementById('recs-count').textContent")
    run_job("overview", app_settings, at=AT)  # data changes elsewhere: the version ticks, the feed's callback runs
    time.sleep(8)  # longer than the 5-second version tick: the page has seen the new data version
    assert box.get_attribute("value") == "hiring plan already agr"  # same element (not re-rendered), text kept
    assert dash_duo.driver.switch_to.active_element == box
    assert dash_duo.find_element("#recs-count").text == version
