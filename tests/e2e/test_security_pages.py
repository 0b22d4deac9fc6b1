"""In Chromium, with the security headers on: the pages work under the Content-Security-Policy (no violation
in the console), and signing out (link, then the confirming POST) ends the session."""
from __future__ import annotations

from tests.e2e.conftest import login, start


def test_pages_run_under_the_content_security_policy_and_sign_out_ends_the_session(dash_duo, app_under_test):
    start(dash_duo, app_under_test)
    login(dash_duo)
    dash_duo.wait_for_element("#shell-logout", timeout=15)
    violations = []
    for path in ("/", "/alerts", "/customers", "/forecast", "/data-health"):
        dash_duo.driver.get(f"{dash_duo.server_url}{path}")
        dash_duo.wait_for_element("#shell-logout", timeout=20)
        dash_duo.wait_for_element("#_pages_content > *", timeout=20)  # the page's own layout rendered
        logs = dash_duo.get_logs() or []
        violations += [e["message"] for e in logs if "Content Security Policy" in e.get("message", "")
                       or "Content-Security-Policy" in e.get("message", "")]
    assert violations == []
    dash_duo.find_element("#shell-logout").click()
    dash_duo.wait_for_element("#logout-submit", timeout=10).click()
    dash_duo.wait_for_element("#login-form", timeout=10)
    dash_duo.driver.get(f"{dash_duo.server_url}/alerts")
    dash_duo.wait_for_element("#login-form", timeout=10)  # signed out: the app sends us to sign in
