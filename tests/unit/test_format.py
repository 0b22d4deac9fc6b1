"""ui/format.py: codes in words, percentages, separators, times to the minute; ui/charts' partial last point."""
from __future__ import annotations

from datetime import datetime

import pandas as pd

from ui import format as fmt
from ui.charts import sparkline


def test_codes_read_as_words_and_unknown_codes_are_humanized():
    assert fmt.humanize("first_session_low_rating") == "Low first-session rating"
    assert fmt.humanize("trigger.calls_14d") == "2+ support calls in 14 days"
    assert fmt.humanize("paid_search") == "Paid search" and fmt.humanize("test_prep") == "Test prep"
    assert fmt.humanize("recruit.cut_spend") == "Cut recruiting spend"
    assert fmt.humanize("some_new.code") == "Some new code"
    assert fmt.humanize(None) == "—" and fmt.humanize(float("nan")) == "—"
    assert all(fmt.humanize(code) != code for code in fmt.RAW_CODES)


def test_numbers_percentages_and_units():
    assert fmt.number(216022) == "216,022"
    assert fmt.percent(0.3846) == "38 %" and fmt.percent(0.3846, 1) == "38.5 %"
    assert fmt.value(0.52, "ratio") == "52 %"  # coverage reads as % like the forecast page
    assert fmt.value(4.256, "rating") == "4.26" and fmt.value(1234.0, "count") == "1,234"
    assert fmt.value(None, "percent") == "—" and fmt.points(-46.2) == "-46 pts"


def test_times_to_the_minute_in_utc_with_the_browser_hook():
    span = fmt.when(datetime(2026, 12, 6, 14, 5, 33, 204500))
    assert span.children == "2026-12-06 14:05 UTC" and span.title == "2026-12-06 14:05 UTC"
    assert "local-time" in span.className and span.to_plotly_json()["props"]["data-utc"] == "2026-12-06T14:05:33Z"
    assert fmt.ago(datetime(2026, 1, 1, 11, 0), datetime(2026, 1, 1, 12, 0)) == "60 min ago"


def test_the_sparklines_last_point_is_hollow_on_a_dashed_segment():
    graph = sparkline([("d1", 10), ("d2", 11), ("d3", 12), ("today", 3)], "#198754")
    full, partial = graph.figure["data"]
    assert list(full["y"]) == [10, 11, 12]  # the finished days
    assert list(partial["y"]) == [12, 3] and partial["line"]["dash"] == "dot" and partial["marker"]["symbol"] == "circle-open"
    assert sparkline([("d1", 1)], "#000") is None
    assert pd.isna(pd.NaT) and fmt.utc_text(pd.NaT) == "—"


def test_counts_money_and_durations_read_with_separators():
    assert fmt.count(3340) == "3,340" and fmt.count(3340, "alert") == "3,340 alerts"
    assert fmt.count(1, "alert") == "1 alert" and fmt.count(2, "first session") == "2 first sessions"
    assert fmt.money(154965.93) == "$154,966" and fmt.money(-1200) == "-$1,200" and fmt.money(None) == "—"
    assert fmt.value(-1200, "money") == "-$1,200"
    assert fmt.duration(65) == "1 min 5 s" and fmt.duration(42) == "42 s" and fmt.duration(3720) == "1 h 2 min"
    assert fmt.iso_utc(datetime(2026, 12, 6, 14, 5, 33)) == "2026-12-06T14:05:00Z" and fmt.iso_utc(None) is None


def test_my_queue_counts_and_rows_read_with_separators():
    """My queue said "3340 to contact" and "$1234" (no separators); the badges and rows go through ui/format."""
    from callbacks.customers.queue import count_badges, rows
    badges = count_badges({"due": 3340, "waiting": 1204}, 1500)
    texts = [b.children for b in badges.children]
    assert texts == ["3,340 to contact", "1,500 overdue", "1,204 waiting for a follow-up"]
    queue = pd.DataFrame([{"customer_id": "C1", "tasks": "calls_14d", "name": "A", "phone": None, "email": None,
                           "priority": 1, "intervention": "", "why": "2 calls", "due_at": datetime(2026, 12, 6),
                           "overdue": False, "revenue_at_risk": 12345.6, "churn_probability": 0.2,
                           "last_contacted_at": None},
                          {"customer_id": "C2", "tasks": "calls_14d", "name": None, "phone": None, "email": None,
                           "priority": 2, "intervention": "", "why": "", "due_at": datetime(2026, 12, 7),
                           "overdue": True, "revenue_at_risk": float("nan"), "churn_probability": 0.237,
                           "last_contacted_at": datetime(2026, 11, 30)}])
    out = rows(queue, personal=False)
    assert out[0]["risk"] == "$12,346" and out[1]["risk"] == "24 % churn"
    assert out[1]["due"] == "07 Dec · overdue" and out[1]["last_contact"] == "30 Nov" and out[0]["last_contact"] == "—"


def test_lists_of_codes_and_grid_times_read_as_words_and_local_minutes():
    assert fmt.humanize_list("algebra;sat_prep") == "Algebra, SAT prep" and fmt.humanize_list(None) == "—"
    assert fmt.humanize_list(" ; ") == "—" and fmt.humanize_list("esl") == "ESL"
    row = fmt.grid_times({"id": 3, "at": "2026-12-06 14:05:33", "done": None}, "at", "done")
    assert row == {"id": 3, "at": "2026-12-06T14:05:00Z", "at_utc": "2026-12-06 14:05 UTC", "done": None,
                   "done_utc": "—"}


def _is_local_time_column(columns: list[dict], field: str) -> bool:
    column = next(c for c in columns if c["field"] == field)
    return column.get("valueFormatter") == fmt.GRID_TIME and column.get("tooltipField") == f"{field}_utc" \
        and "UTC" not in column["headerName"]


def test_alert_deliveries_show_created_in_the_viewers_zone_with_utc_on_hover():
    """The Deliveries tab showed "Created (UTC)" as raw "2026-12-06T14:05:33.204500"."""
    from callbacks.alerts.alerts import delivery_rows
    from layouts.alerts.alerts import DELIVERY_COLUMNS
    df = pd.DataFrame([{"id": 7, "channel": "email", "kind": "digest", "status": "failed", "subject": "s",
                        "recipients": "ops@x.test", "attempts": 2, "last_error": "refused", "alert_ids": "1,2",
                        "created_at": pd.Timestamp("2026-12-06 14:05:33.2045"), "next_attempt_at": pd.NaT,
                        "sent_at": pd.NaT}])
    row = delivery_rows(df)[0]
    assert row["created_at"] == "2026-12-06T14:05:00Z" and row["created_at_utc"] == "2026-12-06 14:05 UTC"
    assert row["next_attempt_at"] is None and row["row_id"] == "7" and row["status"] == "failed"  # machine values
    assert _is_local_time_column(DELIVERY_COLUMNS, "created_at") and _is_local_time_column(DELIVERY_COLUMNS,
                                                                                            "next_attempt_at")


def test_the_audit_log_when_column_is_a_local_time_with_utc_on_hover():
    """The Users page's audit log showed "When" as raw UTC text "2026-12-06 14:05:33"."""
    from callbacks.admin.admin import audit_rows
    from layouts.admin.admin import AUDIT_COLUMNS
    rows = audit_rows([{"at": "2026-12-06 14:05:33", "user_email": "a@x.test", "action": "user.create",
                        "entity": "user", "entity_id": "b@x.test", "detail": None}])
    assert rows[0]["at"] == "2026-12-06T14:05:00Z" and rows[0]["at_utc"] == "2026-12-06 14:05 UTC"
    assert rows[0]["action"] == "user.create"
    assert _is_local_time_column(AUDIT_COLUMNS, "at")


def test_the_forecast_header_shows_its_times_in_the_viewers_zone():
    """It read "Forecast run #4 from Sun 06 Dec 2026 14:00 UTC; model trained 2026-12-06 13:58 UTC; ..."."""
    from callbacks.supply.forecast import run_header
    parts = run_header({"id": 4, "start": pd.Timestamp("2026-12-06 14:00"), "trained_at": "2026-12-06T13:58:41",
                        "of_record": "model", "why": "the model beats the baseline"})
    spans = [p for p in parts if not isinstance(p, str)]
    assert [s.to_plotly_json()["props"]["data-utc"] for s in spans] == ["2026-12-06T14:00:00Z", "2026-12-06T13:58:41Z"]
    assert [s.title for s in spans] == ["2026-12-06 14:00 UTC", "2026-12-06 13:58 UTC"]
    text = "".join(p for p in parts if isinstance(p, str))
    assert text.startswith("Forecast run #4 from ") and "UTC" not in text and "forecast of record: model" in text
    assert len([p for p in run_header({"id": 1, "start": pd.Timestamp("2026-12-06"), "of_record": "baseline",
                                       "why": "w"}) if not isinstance(p, str)]) == 1  # no training time, no span


def test_tutor_subjects_and_the_heatmap_hover_name_subjects_in_words():
    from callbacks.supply.forecast import heatmap_figure
    from callbacks.supply.tutors import GRID_FIELDS, tutor_rows
    table = pd.DataFrame([{f: None for f in GRID_FIELDS} | {"tutor_id": "t1", "subjects": "algebra;sat_prep"},
                          {f: None for f in GRID_FIELDS} | {"tutor_id": "t2", "subjects": None}])
    assert [r["subjects"] for r in tutor_rows(table)] == ["Algebra, SAT prep", "—"]
    fig = heatmap_figure({"subjects": ["sat_prep", "esl"], "ts": [pd.Timestamp("2026-12-06 14:00")],
                          "z": [[0.5], [None]], "computed_at": None})
    trace = fig.data[0]
    assert list(trace.y) == ["sat_prep", "esl"]  # the code stays the value a click picks
    assert [list(r) for r in trace.customdata] == [["SAT prep"], ["ESL"]] and "%{customdata}" in trace.hovertemplate
    assert "%{y}" not in trace.hovertemplate and trace.text[0][0] == "50 %"
