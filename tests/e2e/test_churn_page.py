"""Churn page in a real browser: cards, the worklist by revenue at risk, riskiest customers with their factors
and action, charts, model card with baselines;
the empty state; "Retrain now" trains a new model in the background with progress."""
from __future__ import annotations

import pytest
from dash.testing.wait import until

from auth import accounts
from models.schema import upgrade
from bootstrap.demo import load_demo
from jobs.runner import run_job
from tests.conftest import make_settings
from tests.e2e.conftest import USER_EMAIL, USER_PASSWORD


@pytest.fixture
def app_settings(tmp_path, request, monkeypatch):
    """A small synthetic store, scored, with a churn model (indirect False: no model yet). The environment
    points at it too: background callbacks run in another process and read their settings from there."""
    settings = make_settings(tmp_path, refresh_seconds=30)
    engine = upgrade(settings.db_url)
    accounts.create_user(engine, USER_EMAIL, "ops", USER_PASSWORD)
    monkeypatch.setenv("VAR_DIR", str(settings.var_dir))
    monkeypatch.setenv("DATABASE_URL", settings.db_url)
    load_demo(settings, customers=1500, days=180, seed=11)
    run_job("score", settings)
    if getattr(request, "param", True):
        run_job("train-churn", settings)
    return settings


def test_churn_page_shows_risk_factors_charts_and_model_card(logged_in):
    dash_duo = logged_in
    dash_duo.wait_for_page(f"{dash_duo.server_url}/churn")
    dash_duo.wait_for_element("#churn-card-scored", timeout=20)
    assert int(dash_duo.find_element("#churn-card-scored").text.replace(",", "")) > 1000
    dash_duo.wait_for_element("#churn-grid .ag-row", timeout=20)
    for graph in ("#churn-hist", "#churn-trend", "#churn-by-graph-acquisition_channel", "#churn-funnel",
                  "#churn-calibration", "#churn-features"):
        dash_duo.wait_for_element(graph, timeout=20)
    card = dash_duo.find_element("#churn-candidates").text
    assert "logistic" in card and "baseline: days since last session" in card and "base rate" in card
    # the worklist: top customers by revenue at risk, their factors and next action, and the share they hold
    dash_duo.wait_for_element("#churn-worklist .ag-row", timeout=20)
    assert "of all revenue at risk" in dash_duo.find_element("#churn-worklist-share").text
    first = dash_duo.find_element("#churn-worklist .ag-row[row-index='0'] .ag-cell[col-id='revenue_at_risk']").text
    second = dash_duo.find_element("#churn-worklist .ag-row[row-index='1'] .ag-cell[col-id='revenue_at_risk']").text
    assert first.startswith("$") and float(first[1:].replace(",", "")) >= float(second[1:].replace(",", ""))
    assert dash_duo.find_element("#churn-worklist .ag-row[row-index='0'] .ag-cell[col-id='intervention']").text.strip()
    assert dash_duo.find_element("#churn-worklist .ag-row[row-index='0'] .ag-cell[col-id='factors']").text.strip()
    assert "$" in dash_duo.find_element("#churn-card-revenue").text
    top = dash_duo.find_element("#churn-worklist .ag-row[row-index='0']").get_attribute("row-id")
    dash_duo.find_element("#churn-worklist .ag-row[row-index='0'] .ag-cell[col-id='probability']").click()
    until(lambda: len(dash_duo.find_elements("#churn-detail-factors li")) == 5, timeout=10)
    assert dash_duo.find_element("#churn-detail-intervention").text.strip()
    assert top in dash_duo.find_element("#churn-detail-title").text
    assert "risk of churning within 30 days" in dash_duo.find_element("#churn-detail-title").text
    assert "12-month value $" in dash_duo.find_element("#churn-detail-value").text
    riskiest = dash_duo.find_element("#churn-grid .ag-row[row-index='0'] .ag-cell[col-id='probability']")
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", riskiest)
    dash_duo.driver.execute_script("arguments[0].click()", riskiest)  # the full list selects too
    row_id = riskiest.find_element("xpath", "..").get_attribute("row-id")
    until(lambda: row_id in dash_duo.find_element("#churn-detail-title").text, timeout=10)
    assert dash_duo.get_logs() in ([], None)


@pytest.mark.parametrize("app_settings", [False], indirect=True)
def test_churn_page_without_a_model_says_what_to_do_and_retrains_in_the_background(logged_in):
    dash_duo = logged_in
    dash_duo.wait_for_page(f"{dash_duo.server_url}/churn")
    dash_duo.wait_for_element("#churn-empty-state", timeout=20)
    assert "train-churn" in dash_duo.find_element("#churn-empty-state").text
    dash_duo.find_element("#churn-retrain").click()
    until(lambda: "trained" in dash_duo.find_element("#churn-retrain-status").text, timeout=180)
    assert "Model v1" in dash_duo.find_element("#churn-retrain-status").text
    dash_duo.wait_for_element("#churn-card-scored", timeout=30)  # the page redraws on the new data version
