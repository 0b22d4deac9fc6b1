"""derive_streams on a tiny hand-made marketplace, values computed by hand."""
import numpy as np
import pandas as pd
import pytest

from domain.alerting.streams import STREAM_RULES, derive_streams
from domain.anomaly import DetectorConfig, config_for

T = pd.Timestamp


def bookings() -> pd.DataFrame:
    rows = [  # booking_id, subject, scheduled_time, created_at, status
        ("b1", "math", "2026-01-01 10:30", "2026-01-01 08:10", "cancelled"),
        ("b2", "math", "2026-01-01 10:45", "2026-01-01 08:50", "completed"),
        ("b3", "physics", "2026-01-01 11:10", "2026-01-01 09:05", "completed"),
        ("b4", "math", "2026-01-01 12:00", "2026-01-01 13:00", "scheduled"),   # created after the last full hour
        ("b5", "physics", "2026-01-01 11:50", "2026-01-01 10:59", "rescheduled"),
    ]
    frame = pd.DataFrame(rows, columns=["booking_id", "subject", "scheduled_time", "created_at", "status"])
    frame["scheduled_time"] = pd.to_datetime(frame["scheduled_time"])
    frame["created_at"] = pd.to_datetime(frame["created_at"])
    return frame.assign(customer_id="c1", tutor_id="t1", rescheduled_by=None, updated_at=T("2026-01-02"))


def sessions() -> pd.DataFrame:
    rows = [  # session_id, subject, start_time, rating, status
        ("s1", "math", "2026-01-01 10:45", 5.0, "completed"),
        ("s2", "physics", "2026-01-01 11:10", 4.0, "completed"),
        ("s3", "math", "2026-01-01 11:30", np.nan, "no_show"),
        ("s4", "math", "2026-01-01 11:40", 2.0, "cancelled"),   # neither attended nor rated
        ("s5", "math", "2026-01-01 12:15", np.nan, "completed"),  # completed, not rated
    ]
    frame = pd.DataFrame(rows, columns=["session_id", "subject", "start_time", "rating", "status"])
    frame["start_time"] = pd.to_datetime(frame["start_time"])
    return frame.assign(customer_id="c1", tutor_id="t1", end_time=frame["start_time"] + pd.Timedelta(hours=1),
                        updated_at=T("2026-01-02"))


@pytest.fixture
def streams():
    out = derive_streams(sessions(), bookings(), T("2026-01-01 08:00"), T("2026-01-01 13:30"),
                         window="2h", min_count=1)
    return {(m, ts): v for m, ts, v in out.itertuples(index=False)}


def test_booking_rate_counts_creations_per_complete_hour(streams):
    assert [streams[("bookings.rate", T(f"2026-01-01 {h:02d}:00"))] for h in range(8, 13)] == [2, 1, 1, 0, 0]
    assert streams[("bookings.rate.math", T("2026-01-01 08:00"))] == 2
    assert streams[("bookings.rate.physics", T("2026-01-01 10:00"))] == 1
    assert ("bookings.rate", T("2026-01-01 13:00")) not in streams  # 13:00-14:00 is not over at 13:30


def test_cancellation_rate_over_the_trailing_window(streams):
    # window ending 12:00 = scheduled in [10:00, 12:00): b1 cancelled, b2, b3, b5 -> 1/4
    assert streams[("sessions.cancellation_rate", T("2026-01-01 11:00"))] == pytest.approx(1 / 4)
    assert streams[("sessions.cancellation_rate.math", T("2026-01-01 11:00"))] == pytest.approx(1 / 2)
    assert streams[("sessions.cancellation_rate.physics", T("2026-01-01 11:00"))] == 0
    # window ending 13:00 = [11:00, 13:00): b3, b5, b4 -> 0/3
    assert streams[("sessions.cancellation_rate", T("2026-01-01 12:00"))] == 0


def test_no_show_rate_and_average_rating(streams):
    # sessions starting in [10:00, 12:00): s1 completed, s2 completed, s3 no-show (s4 cancelled: not attended)
    assert streams[("sessions.no_show_rate", T("2026-01-01 11:00"))] == pytest.approx(1 / 3)
    assert streams[("sessions.no_show_rate.math", T("2026-01-01 11:00"))] == pytest.approx(1 / 2)
    # completed and rated: s1 (5), s2 (4); s4's rating does not count, it was cancelled
    assert streams[("sessions.avg_rating", T("2026-01-01 11:00"))] == pytest.approx(4.5)
    assert streams[("sessions.avg_rating.physics", T("2026-01-01 11:00"))] == pytest.approx(4.0)
    # [11:00, 13:00): s2 rated 4; s5 completed but unrated
    assert streams[("sessions.avg_rating", T("2026-01-01 12:00"))] == pytest.approx(4.0)


def test_tiny_denominators_give_no_point_at_all():
    out = derive_streams(sessions(), bookings(), T("2026-01-01 08:00"), T("2026-01-01 13:30"), window="2h", min_count=3)
    got = {(m, ts): v for m, ts, v in out.itertuples(index=False)}
    assert got[("sessions.cancellation_rate", T("2026-01-01 11:00"))] == pytest.approx(1 / 4)  # 4 bookings >= 3
    assert ("sessions.cancellation_rate.math", T("2026-01-01 11:00")) not in got            # 2 < 3
    assert not out["value"].isna().any()


def test_every_stream_overall_and_per_subject_in_the_metric_points_shape():
    out = derive_streams(sessions(), bookings(), T("2026-01-01 08:00"), T("2026-01-01 13:30"))
    assert list(out.columns) == ["metric", "ts", "value"]
    names = set(out["metric"])
    assert {"bookings.rate", "bookings.rate.math", "bookings.rate.physics"} <= names
    assert all(n.split(".")[0] in ("bookings", "sessions") for n in names)
    assert out["value"].dtype == float
    empty = derive_streams(sessions(), bookings(), T("2026-01-01 08:00"), T("2026-01-01 08:30"))
    assert empty.empty and list(empty.columns) == ["metric", "ts", "value"]


def test_stream_rules_are_valid_detector_overrides():
    counts = config_for("bookings.rate.math", STREAM_RULES, DetectorConfig())
    assert counts.week_over_week.agg == "sum" and counts.week_over_week.min_volume == 50
    assert config_for("sessions.avg_rating", STREAM_RULES).baseline.min_spread == 0.05
    assert config_for("something.else", STREAM_RULES) == DetectorConfig()
