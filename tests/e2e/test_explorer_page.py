"""The metric explorer in a real browser: the view (stream, range, dates, compare) lives in the URL, so a copied link
reopens it and Back/Forward step through the views; a bad query value falls back to the default with a note."""
from __future__ import annotations

from urllib.parse import parse_qs, urlparse

from dash.testing.wait import until
from selenium.webdriver.common.by import By

A, B = "overview.sessions_today", "overview.avg_rating_7d"  # overview-card streams exist in any store


def query(dash_duo) -> dict:
    return {k: v[0] for k, v in parse_qs(urlparse(dash_duo.driver.current_url).query).items()}


def checked_range(dash_duo) -> str:
    return dash_duo.driver.execute_script(
        "const e = document.querySelector('#explorer-range input:checked'); return e ? e.value : null;")


# Reads and clicks in one script each: the controls are redrawn when the URL changes, and an element found in one
# call can be gone by the next (a stale reference under load).
def compare_on(dash_duo) -> bool:
    return bool(dash_duo.driver.execute_script(
        "const e = document.querySelector('#explorer-compare input'); return e ? e.checked : false;"))


def shown_metric(dash_duo) -> str:
    return dash_duo.driver.execute_script(
        "const e = document.querySelector('#explorer-metric'); return e ? e.innerText : '';")


def click(dash_duo, selector: str) -> None:
    until(lambda: dash_duo.driver.execute_script(
        "const e = document.querySelector(arguments[0]); if (!e) return false; e.click(); return true;", selector),
        timeout=10, msg=selector)


def click_range(dash_duo, value: str) -> None:
    click(dash_duo, f"#explorer-range input[value='{value}'] + label")


def test_the_view_lives_in_the_url_and_back_restores_it(logged_in):
    dash_duo = logged_in
    dash_duo.driver.get(f"{dash_duo.server_url}/explorer?metric={B}&range=30d")
    dash_duo.wait_for_element("#explorer-chart .main-svg", timeout=20)
    until(lambda: checked_range(dash_duo) == "30d", timeout=10)
    assert "Average rating" in shown_metric(dash_duo) and not compare_on(dash_duo)
    assert not dash_duo.find_element("#explorer-url-note").text

    click_range(dash_duo, "24h")
    until(lambda: query(dash_duo).get("range") == "24h", timeout=10, msg=lambda: dash_duo.driver.current_url)
    assert query(dash_duo)["metric"] == B
    click(dash_duo, "#explorer-compare input")
    until(lambda: query(dash_duo).get("compare") == "1", timeout=10, msg=lambda: dash_duo.driver.current_url)

    dash_duo.driver.back()  # compare off again, still the last 24 h
    until(lambda: "compare" not in query(dash_duo) and not compare_on(dash_duo), timeout=10,
          msg=lambda: (dash_duo.driver.current_url, compare_on(dash_duo)))
    assert checked_range(dash_duo) == "24h"
    dash_duo.driver.back()  # the link as opened
    until(lambda: checked_range(dash_duo) == "30d", timeout=10, msg=lambda: dash_duo.driver.current_url)
    assert query(dash_duo) == {"metric": B, "range": "30d"}
    dash_duo.driver.forward()
    until(lambda: checked_range(dash_duo) == "24h", timeout=10, msg=lambda: dash_duo.driver.current_url)

    # a copied link with a custom period reopens it
    dash_duo.driver.get(f"{dash_duo.server_url}/explorer?metric={A}&range=custom&start=2026-11-01&end=2026-11-15"
                        "&compare=1")
    dash_duo.wait_for_element("#explorer-chart .main-svg", timeout=20)
    until(lambda: checked_range(dash_duo) == "custom" and compare_on(dash_duo), timeout=10)
    assert "Sessions today" in shown_metric(dash_duo)
    assert dash_duo.find_element("input#explorer-dates").get_attribute("value") == "1 Nov 2026"
    assert dash_duo.find_element("#explorer-dates-end-date").get_attribute("value") == "15 Nov 2026"
    severe = [e["message"] for e in dash_duo.get_logs() or [] if e.get("level") == "SEVERE"]
    assert not severe, "\n".join(m[:400] for m in severe)


def test_a_bad_query_value_shows_the_default_view_with_a_note(logged_in):
    dash_duo = logged_in
    dash_duo.driver.get(f"{dash_duo.server_url}/explorer?metric=no_such_stream&range=3y&start=soon")
    dash_duo.wait_for_element("#explorer-chart .main-svg", timeout=20)
    until(lambda: "Unknown metric" in dash_duo.find_element("#explorer-url-note").text, timeout=10)
    assert "Unknown time range" in dash_duo.find_element("#explorer-url-note").text
    assert checked_range(dash_duo) == "7d" and shown_metric(dash_duo)
    assert "Error" not in dash_duo.find_element("body").text
    assert not dash_duo.driver.find_elements(By.CSS_SELECTOR, ".dash-fe-error__title")
    # the view still works: a click writes a clean URL
    click_range(dash_duo, "30d")
    until(lambda: query(dash_duo).get("range") == "30d", timeout=10, msg=lambda: dash_duo.driver.current_url)
    assert query(dash_duo)["metric"] != "no_such_stream" and "start" not in query(dash_duo)
    until(lambda: not dash_duo.find_element("#explorer-url-note").text, timeout=10)
