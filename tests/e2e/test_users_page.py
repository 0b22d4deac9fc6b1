"""The users page in Chromium: an admin selects a user, resets their password (shown once) and revokes a token."""
from __future__ import annotations

from auth import accounts
from tests.e2e.conftest import engine_of, logged_in_app


def click(dash_duo, element) -> None:
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'}); arguments[0].click();", element)


def test_admin_resets_a_password_and_revokes_a_token_on_the_users_page(dash_duo, app_settings):
    engine = engine_of(app_settings)
    accounts.create_user(engine, "agent@example.com", "cs", "agent-password-1")
    accounts.create_token(engine, "agent@example.com")
    dash_duo = logged_in_app(dash_duo, app_settings, email="admin@example.com", password="admin-password-1",
                             role="admin")
    dash_duo.driver.get(f"{dash_duo.server_url}/admin")
    dash_duo.wait_for_contains_text("#admin-users", "agent@example.com", timeout=20)
    click(dash_duo, next(c for c in dash_duo.find_elements("#admin-users .ag-cell") if c.text == "agent@example.com"))
    click(dash_duo, dash_duo.find_element("#admin-reset-password"))
    secret = dash_duo.wait_for_element("#admin-secret", timeout=15).text
    assert len(secret) >= 12 and accounts.authenticate(engine, "agent@example.com", secret)
    dash_duo.wait_for_contains_text("#admin-tokens", "agent@example.com", timeout=15)
    click(dash_duo, next(c for c in dash_duo.find_elements("#admin-tokens .ag-cell") if c.text == "agent@example.com"))
    click(dash_duo, dash_duo.find_element("#admin-revoke-token"))
    dash_duo.wait_for_contains_text("#admin-token-message", "revoked", timeout=15)
    assert all(t["revoked"] for t in accounts.list_tokens(engine))
    assert not [e for e in dash_duo.get_logs() or [] if e.get("level") == "SEVERE"]
