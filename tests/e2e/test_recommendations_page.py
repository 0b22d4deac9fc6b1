"""Recommendations page in a real browser: a recruiter implements one recommendation and dismisses another with a
reason; the acceptance rate changes; both decisions survive a reload and are in the audit log. Also the forecast
page: chart, coverage heatmap and the shortage alert for the hand-made store; the warning when the baseline is
the forecast of record; Retrain now in the background."""
from __future__ import annotations

import json
from datetime import timedelta

import pandas as pd
import pytest
from dash.testing.wait import until
from selenium.webdriver.common.by import By
from sqlalchemy import select, update

from auth import accounts
from models.base import get_engine
from models.derived import ForecastAccuracy, ForecastRun
from models.frames import insert_frame
from models.ops import AuditLog
from models.schema import upgrade
from jobs.runner import run_job
from tests.conftest import make_settings
from tests.e2e.conftest import login, start
from tests.support.forecast import AT, source_frames, write_forecast
from tests.support.store import load_frames

RECRUITER, PASSWORD = "recruiter@example.com", "correct-horse-battery"


@pytest.fixture
def app_settings(tmp_path):
    """The hand-made store (tests/support/forecast.py) with supply and recommendations computed at AT; a TTL long
    enough that they are still pending today; one recruiter."""
    settings = make_settings(tmp_path, refresh_seconds=30, recommendation_ttl_h=24 * 365 * 20)
    engine = upgrade(settings.db_url)
    accounts.create_user(engine, RECRUITER, "recruiter", PASSWORD)
    load_frames(settings, source_frames())
    write_forecast(settings)
    run_job("supply", settings, at=AT)
    run_job("recommend", settings, at=AT)
    return settings


@pytest.fixture
def recruiter(dash_duo, app_under_test):
    start(dash_duo, app_under_test)
    login(dash_duo, RECRUITER, PASSWORD, next_path="/recommendations")
    dash_duo.wait_for_element("#shell-logout", timeout=15)
    return dash_duo


def card_ids(dash_duo) -> list[str]:
    return [e.get_attribute("id") for e in dash_duo.driver.find_elements(By.CSS_SELECTOR, "#recs-feed .recs-card")]


def card_with(dash_duo, text: str):
    for card in dash_duo.driver.find_elements(By.CSS_SELECTOR, "#recs-feed .recs-card"):
        if text in card.text:
            return card
    raise AssertionError(f"no card with {text!r}")


def test_implement_one_dismiss_another_rate_changes_and_survives_reload(recruiter, app_settings):
    dash_duo = recruiter
    dash_duo.wait_for_page(f"{dash_duo.server_url}/recommendations")
    until(lambda: len(card_ids(dash_duo)) == 2, timeout=15)
    dash_duo.wait_for_text_to_equal("#recs-acceptance-rate", "—", timeout=10)
    spanish = card_with(dash_duo, "Raise the spanish recruiting budget")
    assert "/week" in spanish.text and "P1" in spanish.text
    assert spanish.find_element(By.LINK_TEXT, "spanish").get_attribute("href").endswith("/forecast?subject=spanish")

    spanish.find_element(By.XPATH, ".//button[contains(., 'Implement')]").click()
    dash_duo.wait_for_text_to_equal("#recs-acceptance-rate", "100 %", timeout=10)
    until(lambda: len(card_ids(dash_duo)) == 1, timeout=10)  # the feed shows pending ones

    math = card_with(dash_duo, "Cut math recruiting spend")
    math.find_element(By.CSS_SELECTOR, "input").send_keys("hiring plan already agreed")
    math.find_element(By.XPATH, ".//button[contains(., 'Dismiss')]").click()
    dash_duo.wait_for_text_to_equal("#recs-acceptance-rate", "50 %", timeout=10)
    dash_duo.wait_for_element("#recs-empty", timeout=10)

    dash_duo.driver.refresh()
    dash_duo.wait_for_text_to_equal("#recs-acceptance-rate", "50 %", timeout=15)
    dash_duo.driver.find_element(By.XPATH, "//*[@id='recs-filter']//label[contains(., 'Decided')]").click()
    until(lambda: len(card_ids(dash_duo)) == 2, timeout=10)
    implemented = card_with(dash_duo, "spanish")
    dismissed = card_with(dash_duo, "math")
    assert "implemented" in implemented.text and f"Implemented by {RECRUITER}" in implemented.text
    assert "dismissed" in dismissed.text and "hiring plan already agreed" in dismissed.text
    assert "50 %" in dash_duo.find_element("#recs-acceptance-rate").text
    assert "1 implemented of 2 decided" in dash_duo.find_element("#recs-acceptance-detail").text
    dash_duo.wait_for_element("#recs-acceptance-chart", timeout=10)

    with get_engine(app_settings.db_url).connect() as conn:
        audit = conn.execute(select(AuditLog.action, AuditLog.user_email, AuditLog.detail)
                             .where(AuditLog.entity == "recommendation").order_by(AuditLog.id)).all()
    assert [(a.action, a.user_email) for a in audit] == [("recommendation.implement", RECRUITER),
                                                        ("recommendation.dismiss", RECRUITER)]
    assert json.loads(audit[1].detail)["reason"] == "hiring plan already agreed"
    assert not [e for e in dash_duo.get_logs() or [] if e.get("level") == "SEVERE"]


def test_forecast_page_shows_chart_heatmap_and_the_shortage(recruiter):
    dash_duo = recruiter
    dash_duo.wait_for_page(f"{dash_duo.server_url}/forecast?subject=spanish")
    dash_duo.wait_for_element("#forecast-chart .main-svg", timeout=20)
    dash_duo.wait_for_element("#forecast-heatmap .main-svg", timeout=20)
    until(lambda: "Recruit spanish tutors" in dash_duo.find_element("#forecast-alerts").text, timeout=10)
    assert "Forecast run #" in dash_duo.find_element("#forecast-asof").text
    assert "No run has been scored yet" in dash_duo.find_element("#forecast-accuracy-summary").text
    legend = dash_duo.find_element("#forecast-chart").text
    assert "Open tutor hours" in legend and "95 % interval" in legend and "Same hour last week" in legend


@pytest.fixture
def retrain_settings(app_settings, monkeypatch):
    """The same store, two subjects, 21 training days; the environment points at it as well, since the
    background callback runs in another process and reads its settings from there."""
    overrides = {"forecast_subjects": "spanish,math", "forecast_train_days": 21}
    for name, value in {"VAR_DIR": str(app_settings.var_dir), "DATABASE_URL": app_settings.db_url,
                        "FORECAST_SUBJECTS": "spanish,math", "FORECAST_TRAIN_DAYS": "21"}.items():
        monkeypatch.setenv(name, value)
    return app_settings.model_copy(update=overrides)


@pytest.mark.slow
def test_retrain_now_runs_in_the_background_and_the_page_follows(dash_duo, retrain_settings):
    from app import create_app
    start(dash_duo, create_app(retrain_settings))
    login(dash_duo, RECRUITER, PASSWORD, next_path="/forecast?subject=spanish")
    dash_duo.wait_for_element("#forecast-chart .main-svg", timeout=20)
    assert "Forecast run #1 " in dash_duo.find_element("#forecast-asof").text
    dash_duo.find_element("#forecast-retrain").click()
    until(lambda: "Retrained 2 subjects" in dash_duo.find_element("#forecast-retrain-status").text, timeout=240)
    until(lambda: "Forecast run #2 " in dash_duo.find_element("#forecast-asof").text, timeout=30)  # redrawn
    assert not dash_duo.find_element("#forecast-retrain").get_attribute("disabled")
    engine = get_engine(retrain_settings.db_url)
    with engine.connect() as conn:
        audit = conn.execute(select(AuditLog.action, AuditLog.user_email).where(AuditLog.entity == "forecast")).all()
    assert [(a.action, a.user_email) for a in audit] == [("forecast.retrain", RECRUITER)]


def test_forecast_page_says_so_when_the_baseline_is_the_forecast_of_record(dash_duo, app_settings):
    """A later run whose detail makes the baseline spanish's forecast of record (the model lost on 3 scored runs)."""
    later = AT + timedelta(hours=1)
    first = write_forecast(app_settings)
    run_id = write_forecast(app_settings, at=later, of_record={"spanish": "baseline"})
    engine = get_engine(app_settings.db_url)
    with engine.begin() as conn:
        conn.execute(update(ForecastRun).where(ForecastRun.id == run_id).values(detail=json.dumps({
            "start": later.isoformat(), "subjects": {
                "spanish": {"model": "ensemble", "of_record": "baseline", "why": "the model's MAPE over its last 3 "
                            "scored runs (62%) is not better than same-hour-last-week's (48%)",
                            "live": {"runs": 3, "mape": 0.62, "baseline_mape": 0.48}},
                "math": {"model": "ensemble", "of_record": "model", "why": "no scored run yet"}}})))
    insert_frame(engine, ForecastAccuracy.__table__, pd.DataFrame([
        {"run_id": first, "subject": "spanish", "evaluated_at": AT, "hours": 168, "mape": 0.62, "smape": 0.5,
         "coverage": 0.9, "baseline_mape": 0.48}]))
    from app import create_app
    start(dash_duo, create_app(app_settings))
    login(dash_duo, RECRUITER, PASSWORD, next_path="/forecast?subject=spanish")
    dash_duo.wait_for_element("#forecast-baseline-note", timeout=20)
    assert "Baseline shown as the forecast of record" in dash_duo.find_element("#forecast-baseline-note").text
    until(lambda: "does not beat the baseline" in dash_duo.find_element("#forecast-accuracy-text").text, timeout=10)
    assert "model MAPE 62%, baseline 48%" in dash_duo.find_element("#forecast-accuracy-text").text
    dash_duo.wait_for_contains_text("#forecast-chart", "(forecast of record)", timeout=15)  # plotly.js loads async
