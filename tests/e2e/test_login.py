"""A real browser: anonymous users are sent to login, a wrong password is refused, the right one gets in."""
from __future__ import annotations

from tests.e2e.conftest import login, start


def test_anonymous_browser_is_sent_to_login_and_wrong_password_refused(dash_duo, app_under_test):
    start(dash_duo, app_under_test)
    dash_duo.driver.get(f"{dash_duo.server_url}/data-health")
    dash_duo.wait_for_element("#login-form", timeout=10)
    assert "/login" in dash_duo.driver.current_url
    login(dash_duo, password="not-the-password", next_path="/data-health")
    dash_duo.wait_for_contains_text("#login-error", "Wrong email or password", timeout=10)
    login(dash_duo, next_path="/data-health")
    dash_duo.wait_for_element("#data-health-source-count", timeout=15)
    assert dash_duo.driver.current_url.endswith("/data-health")
