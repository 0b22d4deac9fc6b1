"""A real browser on the overview: every card has a value, and a source change shows without a reload."""
from __future__ import annotations

from datetime import timedelta

import pytest

from infra.clock import utcnow
from jobs.runner import run_job
from tests.factories import booking, customer, frame, session, tutor
from tests.support.store import load_frames

CARDS = ["sessions_this_hour", "sessions_today", "avg_rating_7d", "tutor_utilization",
         "csat_7d", "supply_balance", "customers_at_risk", "open_critical_alerts"]


def small_marketplace(now):
    hour = now.replace(minute=0, second=0, microsecond=0)
    customers = [customer(f"c{i}", signup_date=(now - timedelta(days=40)).date()) for i in range(1, 4)]
    sessions = [session(f"c{i % 3 + 1}", start_time=now - timedelta(days=d, hours=3), rating=4 + (d % 2), tutor_id="t1")
                for i, d in enumerate(range(1, 10))]
    bookings = [booking("c1", scheduled_time=hour + timedelta(minutes=5), tutor_id="t1", status="scheduled",
                        created_at=now - timedelta(days=1), updated_at=now - timedelta(days=1))]
    frames = {
        "customers": frame("customers", customers),
        "tutors": frame("tutors", [tutor("t1", status="active")]),
        "tutor_availability": frame("tutor_availability", [
            {"tutor_id": "t1", "weekday": d, "start_hour": 8, "end_hour": 20} for d in range(7)]),
        "sessions": frame("sessions", sessions),
        "bookings": frame("bookings", bookings),
    }
    return frames


@pytest.fixture
def app_settings(app_settings):
    now = utcnow()
    load_frames(app_settings, small_marketplace(now), name="rails-test")
    run_job("overview", app_settings)
    return app_settings


def test_overview_cards_show_values_and_follow_source_changes(logged_in, app_settings):
    dash_duo = logged_in
    for key in CARDS:
        dash_duo.wait_for_element(f"#overview-card-{key}", timeout=15)
    dash_duo.wait_for_text_to_equal("#overview-value-sessions_this_hour", "1", timeout=15)
    assert dash_duo.find_element("#overview-value-avg_rating_7d").text not in ("", "—")
    marker = dash_duo.driver.execute_script("window.__no_reload = 1; return window.__no_reload;")
    assert marker == 1

    # the source changes: two more bookings this hour arrive and are ingested; the job recomputes
    now = utcnow()
    hour = now.replace(minute=0, second=0, microsecond=0)
    more = [booking(f"c{i}", scheduled_time=hour + timedelta(minutes=10 + i), tutor_id="t1", status="scheduled",
                    created_at=now, updated_at=now) for i in (2, 3)]
    load_frames(app_settings, {"bookings": frame("bookings", more)}, name="rails-test")
    run_job("overview", app_settings)
    dash_duo.wait_for_text_to_equal("#overview-value-sessions_this_hour", "3", timeout=20)
    assert dash_duo.driver.execute_script("return window.__no_reload;") == 1  # same page: no reload happened
    assert dash_duo.get_logs() == []
