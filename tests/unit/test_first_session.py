"""First-session success tracking on hand-made fixtures; every expected number is worked out by hand."""
from __future__ import annotations

import itertools
import math
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from domain.first_session import (
    first_session_stats, first_sessions, performance_table, period_windows, region_alerts, subject_alerts,
    tutor_declines, tutor_first_sessions,
)

AT = datetime(2024, 5, 15, 12, 0)  # a Wednesday
D = timedelta(days=1)
_ids = itertools.count(1)


def session(customer, start, status="completed", rating=None, tutor="t1", subject="math", sid=None) -> dict:
    sid = sid or f"s{next(_ids):05d}"
    return dict(session_id=sid, customer_id=customer, tutor_id=tutor, subject=subject, start_time=start,
                end_time=start + timedelta(hours=1), rating=rating, status=status, updated_at=start)


def sessions_frame(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["session_id", "customer_id", "tutor_id", "subject", "start_time",
                                     "end_time", "rating", "status", "updated_at"])
    df["rating"] = pd.to_numeric(df["rating"])
    return df


def cohort(start, successes=0, failures=0, unrated=0, no_shows=0, tutor="t1", subject="math", region=None):
    """Sessions and customers for new customers whose first session starts at ``start``.

    successes are rated 5, failures rated 2; each customer gets a unique id.
    """
    kinds = ([("completed", 5.0)] * successes + [("completed", 2.0)] * failures
             + [("completed", None)] * unrated + [("no_show", None)] * no_shows)
    rows, custs = [], []
    for status, rating in kinds:
        cid = f"c{next(_ids):05d}"
        rows.append(session(cid, start, status, rating, tutor, subject))
        custs.append(dict(customer_id=cid, segment="adult", region=region))
    return rows, custs


def build(*cohorts):
    rows = [r for c in cohorts for r in c[0]]
    custs = [r for c in cohorts for r in c[1]]
    return sessions_frame(rows), pd.DataFrame(custs, columns=["customer_id", "segment", "region"])


# ---------------------------------------------------------------- first_sessions

def _history() -> pd.DataFrame:
    t = datetime(2024, 5, 1, 10, 0)
    return sessions_frame([
        # c1: earliest session cancelled -> first is the next completed one, with its tutor
        session("c1", t, "cancelled", tutor="tA", sid="a1"),
        session("c1", t + D, "completed", 5, tutor="tB", sid="a2"),
        session("c1", t + 2 * D, "completed", 1, tutor="tA", sid="a3"),
        # c2: a no-show first counts, even though a good session follows
        session("c2", t, "no_show", tutor="tA", sid="b1"),
        session("c2", t + D, "completed", 5, tutor="tA", sid="b2"),
        # c3: completed but unrated
        session("c3", t, "completed", None, sid="c1"),
        # c4: only cancelled sessions -> no first session
        session("c4", t, "cancelled", sid="d1"),
        session("c4", t + D, "cancelled", sid="d2"),
        # c5: tie between a no-show and a completed session -> completed wins
        session("c5", t, "no_show", tutor="tA", sid="e1"),
        session("c5", t, "completed", 4, tutor="tB", sid="e2"),
        # c6: tie between two completed sessions -> lowest session_id wins
        session("c6", t, "completed", 2, tutor="tB", sid="f9"),
        session("c6", t, "completed", 5, tutor="tA", sid="f1"),
        # c7: tie between two no-shows -> lowest session_id
        session("c7", t, "no_show", tutor="tB", sid="g2"),
        session("c7", t, "no_show", tutor="tA", sid="g1"),
        # c8: rating exactly 3 fails, c9: rating 4 succeeds, c10: a (dirty) rated no-show never succeeds
        session("c8", t, "completed", 3, sid="h1"),
        session("c9", t, "completed", 4, sid="i1"),
        session("c10", t, "no_show", 5, sid="j1"),
    ])


def test_first_session_per_customer_follows_the_contract():
    first = first_sessions(_history()).set_index("customer_id")
    assert sorted(first.index) == sorted(["c1", "c2", "c3", "c5", "c6", "c7", "c8", "c9", "c10"])  # no c4
    assert first.loc["c1", ["session_id", "tutor_id", "status"]].tolist() == ["a2", "tB", "completed"]
    assert first.loc["c2", ["session_id", "status"]].tolist() == ["b1", "no_show"]
    assert first.loc["c5", ["session_id", "tutor_id"]].tolist() == ["e2", "tB"]
    assert first.loc["c6", "session_id"] == "f1"
    assert first.loc["c7", "session_id"] == "g1"
    assert math.isnan(first.loc["c3", "rating"])
    success = first["success"].to_dict()
    assert success == {"c1": True, "c2": False, "c3": False, "c5": True, "c6": True, "c7": False,
                       "c8": False, "c9": True, "c10": False}
    assert first["success"].dtype == bool


def test_first_sessions_do_not_depend_on_row_order():
    history = _history()
    forward = first_sessions(history)
    for seed in (1, 2, 3):
        shuffled = history.sample(frac=1, random_state=seed)
        pd.testing.assert_frame_equal(first_sessions(shuffled), forward)


def test_segment_and_region_come_from_customers():
    customers = pd.DataFrame({"customer_id": ["c1", "c2"], "segment": ["k12", "adult"], "region": ["CA", "NY"],
                              "signup_date": ["2024-04-01", "2024-04-02"]})
    first = first_sessions(_history(), customers).set_index("customer_id")
    assert first.loc["c1", ["segment", "region"]].tolist() == ["k12", "CA"]
    assert first.loc["c2", ["segment", "region"]].tolist() == ["adult", "NY"]
    assert pd.isna(first.loc["c3", "segment"]) and pd.isna(first.loc["c3", "region"])  # not in customers
    without = first_sessions(_history())
    assert without["segment"].isna().all() and without["region"].isna().all()


def test_no_counted_sessions_gives_an_empty_frame_with_columns():
    only_cancelled = sessions_frame([session("c1", AT, "cancelled")])
    first = first_sessions(only_cancelled)
    assert first.empty
    assert list(first.columns) == ["customer_id", "session_id", "tutor_id", "subject", "start_time", "status",
                                   "rating", "success", "segment", "region"]


def test_string_and_timezone_aware_start_times_are_read_as_naive_utc():
    history = sessions_frame([session("c1", AT, "completed", 5, sid="x1"),
                              session("c1", AT - D, "no_show", sid="x2")])
    history["start_time"] = ["2024-05-15T12:00:00+02:00", "2024-05-14T12:00:00+00:00"]
    first = first_sessions(history)
    assert first.loc[0, "session_id"] == "x2"
    assert first.loc[0, "start_time"] == pd.Timestamp("2024-05-14 12:00")


# ---------------------------------------------------------------- first_session_stats

def _stats_fixture():
    t = datetime(2024, 5, 6, 9, 0)
    return build(
        # t1: 5 and 4 succeed, 3 fails, one unrated completed, two no-shows
        cohort(t, successes=1, tutor="t1", subject="math", region="CA"),
        ([session("cx1", t, "completed", 4, tutor="t1", subject="math")],
         [dict(customer_id="cx1", segment="k12", region="CA")]),
        ([session("cx2", t, "completed", 3, tutor="t1", subject="physics")],
         [dict(customer_id="cx2", segment="k12", region="NY")]),
        cohort(t, unrated=1, no_shows=2, tutor="t1", subject="physics", region="NY"),
        # t2: no-shows only -> success rate and average rating undefined
        cohort(t, no_shows=2, tutor="t2", subject="math", region="CA"),
        # t3: unrated completed only -> success rate undefined, completion rate 1
        cohort(t, unrated=1, tutor="t3", subject="math", region=None),
    )


def test_stats_by_tutor():
    sessions, customers = _stats_fixture()
    stats = first_session_stats(first_sessions(sessions, customers), "tutor").set_index("key")
    assert list(stats.index) == ["t1", "t2", "t3"]
    t1 = stats.loc["t1"]
    assert t1[["first_sessions", "completed", "no_show", "rated_completed", "successes"]].tolist() == [6, 4, 2, 3, 2]
    assert t1["success_rate"] == pytest.approx(2 / 3)
    assert t1["completion_rate"] == pytest.approx(4 / 6)
    assert t1["avg_rating"] == pytest.approx((5 + 4 + 3) / 3)
    t2 = stats.loc["t2"]
    assert t2[["first_sessions", "completed", "no_show", "rated_completed", "successes"]].tolist() == [2, 0, 2, 0, 0]
    assert math.isnan(t2["success_rate"]) and math.isnan(t2["avg_rating"])
    assert t2["completion_rate"] == 0.0
    t3 = stats.loc["t3"]
    assert math.isnan(t3["success_rate"]) and t3["completion_rate"] == 1.0


def test_stats_by_subject_segment_region():
    sessions, customers = _stats_fixture()
    first = first_sessions(sessions, customers)
    subject = first_session_stats(first, "subject").set_index("key")
    # math: 5 (s), 4 (s), t2's two no-shows, t3's unrated; physics: 3, unrated, two no-shows
    assert subject.loc["math", ["first_sessions", "completed", "no_show", "rated_completed", "successes"]].tolist() \
        == [5, 3, 2, 2, 2]
    assert subject.loc["math", "success_rate"] == 1.0
    assert subject.loc["physics", ["first_sessions", "completed", "no_show", "rated_completed", "successes"]].tolist() \
        == [4, 2, 2, 1, 0]
    assert subject.loc["physics", "success_rate"] == 0.0
    assert subject.loc["physics", "completion_rate"] == pytest.approx(0.5)
    segment = first_session_stats(first, "segment").set_index("key")
    assert segment["first_sessions"].to_dict() == {"adult": 7, "k12": 2}
    region = first_session_stats(first, "region").set_index("key")
    assert region["first_sessions"].to_dict() == {"CA": 4, "NY": 4, "unknown": 1}
    assert region.loc["CA", "success_rate"] == 1.0  # 5 and 4; t2's no-shows are not rated


def test_since_until_is_half_open_on_start_time():
    start = datetime(2024, 5, 1)
    sessions, customers = build(
        cohort(start - timedelta(seconds=1), successes=1),  # just before since: out
        cohort(start, successes=1),  # at since: in
        cohort(start + D, failures=1),  # inside: in
        cohort(start + 7 * D, successes=1),  # at until: out
    )
    first = first_sessions(sessions, customers)
    row = first_session_stats(first, "tutor", since=start, until=start + 7 * D).iloc[0]
    assert row[["first_sessions", "successes", "rated_completed"]].tolist() == [2, 1, 2]
    assert first_session_stats(first, "tutor", since="2024-05-01T00:00:00", until="2024-05-08T00:00:00") \
        .iloc[0]["first_sessions"] == 2
    assert first_session_stats(first, "tutor", since=start).iloc[0]["first_sessions"] == 3
    assert first_session_stats(first, "tutor", until=start).iloc[0]["first_sessions"] == 1
    assert first_session_stats(first, "tutor")["first_sessions"].sum() == 4


def test_empty_window_and_bad_dimension():
    sessions, customers = _stats_fixture()
    first = first_sessions(sessions, customers)
    empty = first_session_stats(first, "tutor", since=datetime(2030, 1, 1))
    assert empty.empty
    assert list(empty.columns) == ["key", "first_sessions", "completed", "no_show", "rated_completed", "successes",
                                   "success_rate", "completion_rate", "avg_rating"]
    with pytest.raises(ValueError):
        first_session_stats(first, "channel")


# ---------------------------------------------------------------- period_windows

def test_period_windows_midweek():
    w = period_windows(AT)
    assert w["this_week"] == (datetime(2024, 5, 13), AT)
    assert w["last_week"] == (datetime(2024, 5, 6), datetime(2024, 5, 13))
    assert w["last_month"] == (datetime(2024, 4, 1), datetime(2024, 5, 1))
    assert w["last_quarter"] == (datetime(2024, 1, 1), datetime(2024, 4, 1))
    assert w["last_7d"] == (datetime(2024, 5, 8, 12), AT)
    assert w["prev_7d"] == (datetime(2024, 5, 1, 12), datetime(2024, 5, 8, 12))


def test_period_windows_at_monday_midnight_and_year_start():
    monday = datetime(2024, 5, 13)
    w = period_windows(monday)
    assert w["this_week"] == (monday, monday)  # the new week has just begun and is empty
    assert w["last_week"] == (datetime(2024, 5, 6), monday)
    w = period_windows(datetime(2024, 1, 10, 8, 30))
    assert w["last_month"] == (datetime(2023, 12, 1), datetime(2024, 1, 1))
    assert w["last_quarter"] == (datetime(2023, 10, 1), datetime(2024, 1, 1))
    w = period_windows(datetime(2024, 4, 1))
    assert w["last_month"] == (datetime(2024, 3, 1), datetime(2024, 4, 1))
    assert w["last_quarter"] == (datetime(2024, 1, 1), datetime(2024, 4, 1))


def test_monday_midnight_session_belongs_to_the_new_week():
    monday = datetime(2024, 5, 13)
    sessions, customers = build(cohort(monday, successes=1, tutor="new"),
                                cohort(monday - timedelta(minutes=1), failures=1, tutor="old"))
    table = performance_table(sessions, customers, monday + timedelta(hours=9))
    tutors = table[table["dimension"] == "tutor"]
    assert tutors[tutors["period"] == "this_week"]["key"].tolist() == ["new"]
    assert tutors[tutors["period"] == "last_week"]["key"].tolist() == ["old"]


# ---------------------------------------------------------------- performance_table

def test_performance_table_matches_the_model_and_counts_each_period():
    from models.derived import TutorPerformance

    sessions, customers = build(
        cohort(datetime(2024, 5, 14), successes=2, failures=1, tutor="t1", region="CA"),  # this week
        cohort(datetime(2024, 5, 7), successes=1, no_shows=1, tutor="t2", region="NY"),  # last week
        cohort(datetime(2024, 4, 20), failures=2, tutor="t1", region="CA"),  # last month
        cohort(datetime(2024, 2, 1), unrated=1, tutor="t3", region="TX"),  # last quarter
    )
    table = performance_table(sessions, customers, AT)
    model_columns = [c.name for c in TutorPerformance.__table__.columns if c.name != "id"]
    assert list(table.columns) == model_columns
    assert (table["computed_at"] == pd.Timestamp(AT)).all()
    assert set(table["period"]) == {"this_week", "last_week", "last_month", "last_quarter"}
    assert set(table["dimension"]) == {"tutor", "subject", "segment", "region"}

    def row(period, dimension, key):
        hit = table[(table["period"] == period) & (table["dimension"] == dimension) & (table["key"] == key)]
        assert len(hit) == 1
        return hit.iloc[0]

    r = row("this_week", "tutor", "t1")
    assert r[["first_sessions", "rated_completed", "successes"]].tolist() == [3, 3, 2]
    assert r["success_rate"] == pytest.approx(2 / 3)
    assert (r["period_start"], r["period_end"]) == (pd.Timestamp(2024, 5, 13), pd.Timestamp(AT))
    r = row("last_week", "region", "NY")
    assert r[["first_sessions", "completed", "no_show"]].tolist() == [2, 1, 1]
    assert r["completion_rate"] == 0.5
    r = row("last_month", "subject", "math")
    assert r[["first_sessions", "successes"]].tolist() == [2, 0]
    assert r["avg_rating"] == 2.0
    r = row("last_quarter", "segment", "adult")
    assert r["first_sessions"] == 1 and math.isnan(r["success_rate"]) and r["completion_rate"] == 1.0
    # each period x dimension has exactly the keys with first sessions in it
    assert len(table) == 4 * 4


# ---------------------------------------------------------------- tutor_declines

PREV = AT - 10 * D  # inside prev_7d [AT-14d, AT-7d)
NEW = AT - 2 * D  # inside last_7d [AT-7d, AT)


def test_tutor_decline_fires_at_21_points_not_at_19_or_20():
    sessions, customers = build(
        # 17/20 = 85% -> 16/25 = 64%: 21 points
        cohort(PREV, successes=17, failures=3, tutor="drop21"), cohort(NEW, successes=16, failures=9, tutor="drop21"),
        # 15/20 = 75% -> 14/25 = 56%: 19 points
        cohort(PREV, successes=15, failures=5, tutor="drop19"), cohort(NEW, successes=14, failures=11, tutor="drop19"),
        # 8/10 = 80% -> 6/10 = 60%: exactly 20 points (0.8 - 0.6 is 20.000000000000004 in floating point)
        cohort(PREV, successes=8, failures=2, tutor="drop20"), cohort(NEW, successes=6, failures=4, tutor="drop20"),
        # rising: 2/5 -> 5/5
        cohort(PREV, successes=2, failures=3, tutor="up"), cohort(NEW, successes=5, tutor="up"),
    )
    out = tutor_declines(first_sessions(sessions, customers), AT)
    assert list(out.columns) == ["tutor_id", "prev_rate", "new_rate", "drop_points", "prev_n", "new_n", "why"]
    assert out["tutor_id"].tolist() == ["drop21"]
    r = out.iloc[0]
    assert r["prev_rate"] == pytest.approx(0.85)
    assert r["new_rate"] == pytest.approx(0.64)
    assert r["drop_points"] == pytest.approx(21.0)
    assert (r["prev_n"], r["new_n"]) == (20, 25)
    assert "85%" in r["why"] and "64%" in r["why"] and "17/20" in r["why"] and "16/25" in r["why"]


def test_tutor_decline_needs_the_minimum_rated_count_in_both_weeks():
    sessions, customers = build(
        # 5/5 -> 0/4 rated: 100 points, but only 4 rated this week (unrated and no-shows do not count)
        cohort(PREV, successes=5, tutor="few"), cohort(NEW, failures=4, unrated=3, no_shows=2, tutor="few"),
        # 4/4 rated last week -> 0/5: too few last week
        cohort(PREV, successes=4, unrated=2, tutor="few_prev"), cohort(NEW, failures=5, tutor="few_prev"),
        # exactly the minimum in both: 5/5 -> 0/5 fires
        cohort(PREV, successes=5, tutor="enough"), cohort(NEW, failures=5, tutor="enough"),
    )
    first = first_sessions(sessions, customers)
    out = tutor_declines(first, AT)
    assert out["tutor_id"].tolist() == ["enough"]
    assert out.iloc[0]["drop_points"] == pytest.approx(100.0)
    assert tutor_declines(first, AT, min_first_sessions=4)["tutor_id"].tolist() == ["enough", "few", "few_prev"]


def test_tutor_decline_windows_are_the_two_weeks_before_at():
    sessions, customers = build(
        cohort(AT - 14 * D, successes=5, tutor="t"),  # first instant of prev_7d: in
        cohort(AT - 7 * D, failures=5, tutor="t"),  # first instant of last_7d: in
        cohort(AT, successes=50, tutor="t"),  # at `at`: not yet counted
        cohort(AT - 14 * D - timedelta(seconds=1), failures=50, tutor="t"),  # before prev_7d
    )
    out = tutor_declines(first_sessions(sessions, customers), AT)
    assert out[["tutor_id", "prev_n", "new_n"]].values.tolist() == [["t", 5, 5]]
    assert out.iloc[0]["drop_points"] == pytest.approx(100.0)


# ---------------------------------------------------------------- subject_alerts

def test_subject_below_60_percent_fires_at_60_does_not():
    sessions, customers = build(
        cohort(AT - 3 * D, successes=11, failures=9, subject="math"),  # 55% of 20: fires
        cohort(AT - 3 * D, successes=6, failures=4, no_shows=5, unrated=5, subject="physics"),  # 60% of 10: no
        cohort(AT - 3 * D, successes=4, failures=5, unrated=4, subject="chemistry"),  # 44% but only 9 rated: no
        cohort(AT - 29 * D, failures=20, subject="english"),  # outside the 28 days
        cohort(AT - 27 * D, successes=9, failures=1, subject="english"),  # 90%: no
        cohort(AT - 28 * D, successes=3, failures=7, subject="biology"),  # first instant of the window: 30%
    )
    out = subject_alerts(first_sessions(sessions, customers), AT)
    assert list(out.columns) == ["subject", "success_rate", "n", "why"]
    assert out["subject"].tolist() == ["biology", "math"]  # lowest rate first
    math_row = out.set_index("subject").loc["math"]
    assert math_row["success_rate"] == pytest.approx(0.55)
    assert math_row["n"] == 20
    assert "55%" in math_row["why"] and "11/20" in math_row["why"] and "60%" in math_row["why"]


def test_subject_alerts_empty_when_nothing_qualifies():
    out = subject_alerts(first_sessions(sessions_frame([session("c1", AT - D, "completed", 1)])), AT)
    assert out.empty and list(out.columns) == ["subject", "success_rate", "n", "why"]


# ---------------------------------------------------------------- region_alerts

def test_region_markedly_below_the_rest_fires():
    when = AT - 5 * D
    sessions, customers = build(
        cohort(when, successes=6, failures=14, region="CA"),  # 30% of 20
        cohort(when, successes=32, failures=8, region="NY"),  # 80% of 40
        cohort(when, successes=32, failures=8, region="TX"),  # 80% of 40
        cohort(when, failures=30, region=None),  # unknown region: neither judged nor part of the rest
    )
    out = region_alerts(first_sessions(sessions, customers), AT)
    assert out["region"].tolist() == ["CA"]
    r = out.iloc[0]
    # rest = NY + TX = 64/80 = 80%; pooled p = 70/100 = 0.7
    # z = (0.8 - 0.3) / sqrt(0.7 * 0.3 * (1/20 + 1/80)) = 0.5 / sqrt(0.013125) = 4.3644
    # one-sided p = 0.5 * erfc(4.3644 / sqrt 2) = 6.375e-6 < 0.01 / 3 regions judged
    assert r["success_rate"] == pytest.approx(0.30)
    assert r["rest_rate"] == pytest.approx(0.80)
    assert (r["n"], r["rest_n"]) == (20, 80)
    assert r["p_value"] == pytest.approx(6.3748e-6, rel=1e-3)
    assert "30%" in r["why"] and "80%" in r["why"] and "0.01/3" in r["why"]


def test_region_gap_without_significance_or_significance_without_gap_does_not_fire():
    when = AT - 5 * D
    # 50% of 10 vs 70% of 90: 20 points below, but z = 0.2 / sqrt(0.68*0.32*(1/10+1/90)) = 1.286, p = 0.099
    small = build(cohort(when, successes=5, failures=5, region="WA"),
                  cohort(when, successes=63, failures=27, region="OR"))
    assert region_alerts(first_sessions(*small), AT).empty
    # 60% of 1000 vs 70% of 1000: z = 4.69, p = 1.4e-6, but only 10 points below
    large = build(cohort(when, successes=600, failures=400, region="TX"),
                  cohort(when, successes=700, failures=300, region="CA"))
    assert region_alerts(first_sessions(*large), AT).empty
    assert region_alerts(first_sessions(*large), AT, min_gap_points=10)["region"].tolist() == ["TX"]


def test_region_threshold_is_bonferroni_corrected():
    when = AT - 5 * D
    # 25% of 12 vs 75% of 12: pooled 0.5, z = 0.5 / sqrt(0.25 * 2/12) = sqrt(6) = 2.449, p = 0.00715
    # two regions judged -> level 0.01 / 2 = 0.005: no alert; at alpha 0.02 the level is 0.01: alert
    sessions, customers = build(cohort(when, successes=3, failures=9, region="AZ"),
                                cohort(when, successes=9, failures=3, region="NM"))
    first = first_sessions(sessions, customers)
    assert region_alerts(first, AT).empty
    out = region_alerts(first, AT, alpha=0.02)
    assert out["region"].tolist() == ["AZ"]
    assert out.iloc[0]["p_value"] == pytest.approx(0.5 * math.erfc(math.sqrt(6) / math.sqrt(2)))
    assert out.iloc[0]["p_value"] == pytest.approx(0.00715, abs=1e-5)


def test_region_needs_the_minimum_rated_count():
    when = AT - 5 * D
    sessions, customers = build(cohort(when, failures=9, unrated=5, region="VT"),  # 0% but only 9 rated
                                cohort(when, successes=90, region="NY"))
    assert region_alerts(first_sessions(sessions, customers), AT).empty


# ---------------------------------------------------------------- tutor_first_sessions

def test_tutor_drill_down_newest_first():
    sessions, customers = build(cohort(AT - 3 * D, successes=1, tutor="t1"), cohort(AT - D, failures=1, tutor="t1"),
                                cohort(AT - 2 * D, successes=1, tutor="t2"))
    first = first_sessions(sessions, customers)
    rows = tutor_first_sessions(first, "t1")
    assert rows["start_time"].tolist() == [pd.Timestamp(AT - D), pd.Timestamp(AT - 3 * D)]
    assert rows["success"].tolist() == [False, True]
    assert list(rows.columns) == list(first.columns)
    assert len(tutor_first_sessions(first, "t1", since=AT - 2 * D)) == 1
    assert tutor_first_sessions(first, "nobody").empty
    assert np.array_equal(tutor_first_sessions(first, "t2")["rating"].to_numpy(), np.array([5.0]))
