"""Browser fixtures: the app on a temp SQLite store served by dash[testing], a user, and a login helper.

Use: `def test_x(logged_in): dash_duo = logged_in; dash_duo.wait_for_text_to_equal(...)`.
`app_settings` can be overridden in a test module to seed data before the app starts.
"""
from __future__ import annotations

import pytest
from selenium.webdriver.chrome.options import Options

from auth import accounts
from models.base import get_engine
from models.schema import upgrade
from tests.conftest import make_settings

USER_EMAIL = "ops@example.com"
USER_PASSWORD = "correct-horse-battery"


def pytest_setup_options():
    options = Options()
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", "--window-size=1400,1000"):
        options.add_argument(flag)
    options.binary_location = "/usr/bin/chromium"
    return options


@pytest.fixture
def app_settings(tmp_path):
    """Settings of the app under test (schema created, one ops user). Override to seed data."""
    settings = make_settings(tmp_path, refresh_seconds=30)
    engine = upgrade(settings.db_url)
    accounts.create_user(engine, USER_EMAIL, "ops", USER_PASSWORD)
    return settings


@pytest.fixture
def app_under_test(app_settings):
    from app import create_app
    return create_app(app_settings)


def start(dash_duo, app) -> None:
    """Serve the app without dash_duo's wait for a Dash page at / (anonymous visitors get the login form)."""
    dash_duo.start_server(app, navigate=False)
    dash_duo._url = dash_duo.server.url  # server_url's setter would wait for #react-entry-point


def login(dash_duo, email: str = USER_EMAIL, password: str = USER_PASSWORD, next_path: str = "/"):
    """Fill the login form like a person would."""
    dash_duo.driver.get(f"{dash_duo.server_url}/login?next={next_path}")
    dash_duo.wait_for_element("#email", timeout=10).send_keys(email)
    dash_duo.find_element("#password").send_keys(password)
    dash_duo.find_element("#login-submit").click()


@pytest.fixture
def logged_in(dash_duo, app_under_test):
    """dash_duo with the app started and the ops user signed in on the home page."""
    start(dash_duo, app_under_test)
    login(dash_duo)
    dash_duo.wait_for_element("#shell-logout", timeout=15)
    return dash_duo


def logged_in_app(dash_duo, settings, email: str = USER_EMAIL, password: str = USER_PASSWORD, role: str = "ops"):
    """create_app(settings) served to the browser with `email` signed in (the user is created when missing).

    For tests that build their own settings: `dash_duo = logged_in_app(dash_duo, settings)`; then
    `dash_duo.wait_for_page(f"{dash_duo.server_url}/alerts")` and so on.
    """
    from app import create_app
    engine = upgrade(settings.db_url)
    if email not in {u["email"] for u in accounts.list_users(engine)}:
        accounts.create_user(engine, email, role, password)
    start(dash_duo, create_app(settings))
    login(dash_duo, email, password)
    dash_duo.wait_for_element("#shell-logout", timeout=15)
    return dash_duo


def engine_of(settings):
    return get_engine(settings.db_url)
