"""The first-session job on a real store: rows per computation, the three alert rules, reruns, pruning,
the loader's equivalence with the pure service, and the synthetic marketplace's planted decline."""
from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
import pytest
from sqlalchemy import func, select

from models.base import get_engine
from models.derived import Alert, TutorPerformance
from models.ops import DataVersion
from domain.first_session import DIMENSIONS, PERFORMANCE_PERIODS, first_sessions
from domain.first_session import stored_windows
from jobs.first_session import EXTRA_PERIODS, KEEP_DAYS
from loaders.first_sessions import load_first_session_inputs
from jobs.runner import run_job
from tests.factories import customer, frame, session, tutor
from tests.support.store import load_frames

AT = datetime(2026, 5, 20, 12, 0)  # Wednesday noon
PREV_WEEK = AT - timedelta(days=8)  # Tue 12 May: prev_7d [May 6 12:00, May 13 12:00) and last_week
LAST_WEEK = AT - timedelta(days=2)  # Mon 18 May: last_7d [May 13 12:00, May 20 12:00) and this_week


class Scenario:
    """Customers with one first session each (plus the odd extra session), built row by row."""

    def __init__(self):
        self.customers, self.sessions, self.tutors = [], [], {}
        self.n = 0

    def first(self, tutor_id: str, start: datetime, rating: float | None, subject: str = "algebra",
              region: str = "CA", status: str = "completed") -> str:
        self.n += 1
        cid = f"c{self.n:04d}"
        self.tutors.setdefault(tutor_id, tutor(tutor_id, name=f"Tutor {tutor_id}", subjects=subject,
                                               updated_at=AT - timedelta(days=60)))
        self.customers.append(customer(cid, region=region, signup_date=(start - timedelta(days=1)).date(),
                                       updated_at=AT - timedelta(days=30)))
        self.sessions.append(session(cid, start_time=start, tutor_id=tutor_id, subject=subject, status=status,
                                     rating=rating if status == "completed" else None,
                                     updated_at=start + timedelta(hours=1)))
        return cid

    def many(self, tutor_id: str, start: datetime, ratings: list, **kw) -> None:
        for i, rating in enumerate(ratings):
            self.first(tutor_id, start + timedelta(hours=i), rating, **kw)

    def frames(self) -> dict:
        return {"customers": frame("customers", self.customers), "tutors": frame("tutors", list(self.tutors.values())),
                "sessions": frame("sessions", self.sessions)}


def alert_scenario() -> Scenario:
    sc = Scenario()
    sc.many("t-decl", PREV_WEEK, [5, 5, 5, 5, 5])        # 100 % ...
    sc.many("t-decl", LAST_WEEK, [5, 4, 2, 1, 3])        # ... to 40 %: -60 points, critical
    sc.many("t-small", PREV_WEEK, [5, 5, 5, 5])          # 100 % to 0 %, but only 4 rated a week: no alert
    sc.many("t-small", LAST_WEEK, [1, 1, 1, 1])
    sc.many("t-steady", PREV_WEEK, [5, 5, 5, 5, 2])      # 80 % both weeks
    sc.many("t-steady", LAST_WEEK, [5, 4, 4, 5, 1])
    sc.many("t-chem", AT - timedelta(days=20), [5, 2] * 5, subject="chemistry")   # 50 % < 60 %: subject alert
    sc.many("t-geo", AT - timedelta(days=15), [5, 4, 5, 5, 4, 5, 4, 5, 5, 2] * 3, subject="geometry",
            region="NY")                                                          # 90 % in NY
    sc.many("t-wy", AT - timedelta(days=18), [2] * 12 + [5] * 3, region="WY", subject="geometry")  # WY 20 %
    for month in (datetime(2025, 11, 3), datetime(2026, 2, 10), datetime(2026, 3, 10)):  # earlier quarters/months
        sc.many("t-old", month, [5, 4, 2], subject="geometry", region="NY")
    return sc


def rules(engine) -> dict[str, set]:
    with engine.connect() as conn:
        rows = conn.execute(select(Alert.rule, Alert.entity_id).where(Alert.status == "active")).all()
    out: dict[str, set] = {}
    for rule, entity in rows:
        out.setdefault(rule, set()).add(entity)
    return out


def count(engine, model, *where) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(model).where(*where)).scalar()


def test_job_writes_every_dimension_and_period_and_raises_the_three_rules(any_settings):
    engine = get_engine(any_settings.db_url)
    load_frames(any_settings, alert_scenario().frames())
    summary = run_job("first-session", any_settings, at=AT)

    assert summary["declining_tutors"] == ["t-decl"]
    assert rules(engine) == {"tutor.first_session_decline": {"t-decl"}, "subject.first_session_low": {"chemistry"},
                             "region.first_session_low": {"WY"}}
    with engine.connect() as conn:
        alert = conn.execute(select(Alert).where(Alert.entity_id == "t-decl")).one()
        perf = pd.DataFrame(conn.execute(select(TutorPerformance)).mappings().all())
        version = conn.execute(select(DataVersion.version).where(DataVersion.topic == "tutor_performance")).scalar()
    assert alert.type == "tutor_performance" and alert.severity == "critical"
    assert alert.current_value == pytest.approx(0.4)
    assert "100% (5/5" in alert.message and "40% (2/5" in alert.message and "60.0 points" in alert.message
    assert alert.link == "/tutors?tutor=t-decl" and "Pause new-customer matching" in alert.investigation
    assert alert.expected_value.startswith("≥ 80%")
    assert version == 1

    for period in PERFORMANCE_PERIODS + EXTRA_PERIODS:
        assert set(perf.loc[perf["period"] == period, "dimension"]) == set(DIMENSIONS), period
    last7 = perf[(perf["period"] == "last_7d") & (perf["dimension"] == "tutor")].set_index("key")
    assert last7.loc["t-decl", ["first_sessions", "rated_completed", "successes"]].tolist() == [5, 5, 2]
    assert last7.loc["t-decl", "success_rate"] == pytest.approx(0.4)
    assert last7.loc["t-decl", "avg_rating"] == pytest.approx(3.0)
    this_week = perf[(perf["period"] == "this_week") & (perf["dimension"] == "subject")]  # Mon 18 May .. AT
    assert this_week["first_sessions"].sum() == 14  # the last-7-days cohorts of t-decl, t-small, t-steady
    quarter = perf[(perf["period"] == "last_quarter") & (perf["dimension"] == "region")]
    assert quarter[["key", "first_sessions", "successes"]].values.tolist() == [["NY", 6, 4]]
    assert (perf["computed_at"] == AT).all()


def test_rerun_replaces_its_rows_keeps_alerts_and_clears_resolve(any_settings):
    engine = get_engine(any_settings.db_url)
    load_frames(any_settings, alert_scenario().frames())
    run_job("first-session", any_settings, at=AT)
    rows, alerts = count(engine, TutorPerformance), count(engine, Alert)
    summary = run_job("first-session", any_settings, at=AT)
    assert summary["rows_replaced"] == rows
    assert count(engine, TutorPerformance) == rows and count(engine, Alert) == alerts
    assert summary["alerts"]["tutor.first_session_decline"]["refreshed"] == 1
    assert summary["alerts"]["tutor.first_session_decline"]["raised"] == 0

    later = run_job("first-session", any_settings, at=AT + timedelta(days=8))  # both weeks empty for t-decl now
    assert later["alerts"]["tutor.first_session_decline"]["resolved"] == 1
    assert "tutor.first_session_decline" not in rules(engine)
    assert count(engine, TutorPerformance) > rows  # a second computation

    backfill = run_job("first-session", any_settings, at=AT - timedelta(hours=1))  # behind the newest computation
    assert backfill["alerts"].startswith("left alone") and backfill["rows_written"] > 0
    assert "tutor.first_session_decline" not in rules(engine)  # the past's decline is not raised again


def test_decline_rule_settings_are_honoured(settings):
    engine = get_engine(settings.db_url)
    load_frames(settings, alert_scenario().frames())
    strict = settings.model_copy(update={"tutor_decline_min_first_sessions": 4, "tutor_decline_points": 70,
                                         "subject_success_threshold": 0.4})
    summary = run_job("first-session", strict, at=AT)
    assert summary["declining_tutors"] == ["t-small"]  # -100 points with 4 rated; t-decl's -60 is under 70
    assert summary["low_subjects"] == []
    with engine.connect() as conn:
        # critical from twice the configured drop: 100 points < 2 x 70
        assert conn.execute(select(Alert.severity).where(Alert.entity_id == "t-small")).scalar() == "warning"


def test_old_computations_are_thinned(settings):
    engine = get_engine(settings.db_url)
    load_frames(settings, alert_scenario().frames())
    stamps = [AT - timedelta(days=KEEP_DAYS + 5), AT - timedelta(days=10, hours=6), AT - timedelta(days=10, hours=2),
              AT - timedelta(hours=30), AT - timedelta(hours=29), AT]
    for at in stamps:
        run_job("first-session", settings, at=at)
    with engine.connect() as conn:
        kept = sorted(pd.Timestamp(v) for v in conn.execute(select(TutorPerformance.computed_at).distinct()).scalars())
    assert kept == [pd.Timestamp(v) for v in stamps[2:]]  # too old: gone; same day: only the last; recent: all


def test_loader_gives_the_service_s_first_sessions(any_settings):
    """Ties, cancelled sessions, later sessions and sessions after `until`: same first sessions as the service
    applied to the whole history."""
    sc = alert_scenario()
    t0 = AT - timedelta(days=5)
    sc.sessions += [
        session("c0001", start_time=PREV_WEEK - timedelta(days=1), tutor_id="t-x", status="cancelled",
                updated_at=AT - timedelta(days=20)),                                         # cancelled: ignored
        session("c0001", start_time=PREV_WEEK + timedelta(days=1), tutor_id="t-x", rating=1,
                updated_at=AT - timedelta(days=8)),                                          # later: ignored
    ]
    sc.customers.append(customer("c-tie", updated_at=AT - timedelta(days=3)))
    sc.sessions += [session("c-tie", start_time=t0, tutor_id="t-a", status="no_show", updated_at=t0),
                    session("c-tie", start_time=t0, tutor_id="t-b", rating=5, updated_at=t0)]  # completed wins
    sc.customers.append(customer("c-late", updated_at=AT - timedelta(days=3)))
    sc.sessions.append(session("c-late", start_time=AT + timedelta(hours=1), tutor_id="t-a", rating=5,
                               updated_at=AT + timedelta(hours=2)))                          # after `until`
    for tutor_id in ("t-x", "t-a", "t-b"):
        sc.tutors[tutor_id] = tutor(tutor_id, updated_at=AT - timedelta(days=60))
    frames = sc.frames()
    load_frames(any_settings, frames)
    engine = get_engine(any_settings.db_url)
    since = min(start for start, _ in stored_windows(AT).values())
    with engine.connect() as conn:
        loaded = first_sessions(*load_first_session_inputs(conn, until=AT, since=since))
        for_a = first_sessions(*load_first_session_inputs(conn, until=AT, tutor_id="t-a"))
    expected = first_sessions(frames["sessions"][frames["sessions"]["start_time"] < AT], frames["customers"])
    expected = expected[expected["start_time"] >= since].reset_index(drop=True)
    cols = ["customer_id", "session_id", "tutor_id", "status", "rating", "success", "segment", "region"]
    pd.testing.assert_frame_equal(loaded[cols].astype(object), expected[cols].astype(object), check_dtype=False)
    assert loaded.set_index("customer_id").loc["c-tie", "tutor_id"] == "t-b"
    assert "c-late" not in set(loaded["customer_id"])
    assert set(for_a.loc[for_a["tutor_id"] == "t-a", "customer_id"]) == set()  # the tie went to t-b


@pytest.mark.slow
def test_synthetic_marketplace_planted_decline_raises_exactly_its_alert(settings):
    from sources.simulation import generate
    mp = generate(customers=2000, days=60, seed=3, end=AT)
    planted = [i["tutor_id"] for i in mp.incidents if i["kind"] == "tutor_decline"]
    assert len(planted) == 1
    load_frames(settings, {r: mp.frames[r] for r in ("customers", "tutors", "sessions")}, name="synthetic")
    engine = get_engine(settings.db_url)

    summary = run_job("first-session", settings, at=mp.end)
    assert summary["declining_tutors"] == planted
    assert rules(engine).get("tutor.first_session_decline") == set(planted)
    with engine.connect() as conn:
        alert = conn.execute(select(Alert).where(Alert.rule == "tutor.first_session_decline")).one()
        dims = conn.execute(select(TutorPerformance.period, TutorPerformance.dimension).distinct()).all()
    assert alert.link == f"/tutors?tutor={planted[0]}"
    assert {(p, d) for p in PERFORMANCE_PERIODS for d in DIMENSIONS} <= set(dims)

    run_job("first-session", settings, at=mp.end)
    assert count(engine, Alert, Alert.rule == "tutor.first_session_decline") == 1
