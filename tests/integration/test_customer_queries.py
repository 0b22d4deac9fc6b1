"""The customers read side on SQLite and PostgreSQL: AG Grid sort/filter models translated to SQL,
paging, quick filters, hostile values kept as values, unknown columns refused, the CSV export of the
whole filtered set, one customer's detail and the contact log."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

import pandas as pd
import pytest
from sqlalchemy import func, insert, select

from models.base import get_engine
from models.derived import CustomerTask, Alert, HealthScore, HealthScoreHistory
from read import customers as cq
from writes import contacts
from read.customers import QueryError, QuickFilters
from domain.customers.health import tier_for
from jobs.runner import run_job
from tests.factories import call, customer, frame, session, tutor
from tests.support.store import load_frames

AT = datetime(2026, 5, 20, 12, 0)
SEGMENTS = ["k12", "college", "adult", "test_prep"]

def rows(n: int = 60) -> list[dict]:
    """n customers c00..: scores 1.5, 3.0, ... (never tied), segments and subjects in turn."""
    out = []
    for i in range(n):
        score = round(1.5 * (i + 1), 1)
        out.append({
            "customer_id": f"c{i:02d}", "computed_at": AT, "score": score, "tier": tier_for(score),
            "first_session_score": score, "velocity_score": 50.0, "calls_score": 100.0, "goal_score": 80.0,
            "tutor_consistency_score": 50.0, "velocity": (i % 5) / 2, "calls_14d": i % 3,
            "last_session_at": AT - timedelta(days=i) if i % 7 else None,
            "triggers": "inactive_14d,inactive_21d" if i % 10 == 0 else ("calls_14d" if i % 10 == 1 else ""),
            "priority": 1 if i % 10 == 1 else (2 if i % 10 == 0 else (2 if score <= 40 else 4 if score <= 70 else 5)),
            "intervention": "Call", "segment": SEGMENTS[i % 4], "acquisition_channel": "organic" if i % 2 else "referral",
            "region": "CA" if i < 30 else "NY", "primary_subject": "algebra" if i % 3 else "chemistry",
            "primary_tutor_id": f"t{i % 6}", "churn_probability": None, "explanation": "{}",
        })
    return out


@pytest.fixture
def engine(any_settings):
    engine = get_engine(any_settings.db_url)
    with engine.begin() as conn:
        conn.execute(insert(HealthScore), rows())
    return engine


def ids(result) -> list[str]:
    return [r["customer_id"] for r in result[0]]


def page(engine, sort=None, filters=None, start=0, end=100, quick=None):
    return cq.customer_page(engine, sort, filters, start, end, quick)


def test_sort_and_page_without_overlap(engine):
    everything = page(engine, [{"colId": "score", "sort": "desc"}])
    assert everything[1] == 60 and ids(everything) == [f"c{i:02d}" for i in range(59, -1, -1)]
    pages = [page(engine, [{"colId": "score", "sort": "desc"}], start=s, end=s + 25) for s in (0, 25, 50)]
    assert sum((ids(p) for p in pages), []) == ids(everything)
    assert all(p[1] == 60 for p in pages) and len(pages[2][0]) == 10
    default = page(engine)  # no sort: riskiest first
    assert ids(default)[:3] == ["c00", "c01", "c02"]
    by_segment = page(engine, [{"colId": "segment", "sort": "asc"}, {"colId": "score", "sort": "desc"}])
    assert ids(by_segment)[:2] == ["c58", "c54"]  # adult, highest score first
    nulls = page(engine, [{"colId": "last_session_at", "sort": "desc"}])
    assert all(r["last_session_at"] is None for r in nulls[0][-9:])  # never sold as the most recent


def test_rows_are_json_ready(engine):
    (row,) = page(engine, filters={"customer_id": {"filterType": "text", "type": "equals", "filter": "c03"}})[0]
    assert row["last_session_at"] == "2026-05-17 12:00" and row["churn_probability"] is None
    assert set(row) == set(cq.GRID_COLUMNS) - set(cq.PERSONAL)  # the name only for roles that may see it


@pytest.mark.parametrize("model, expected", [
    ({"segment": {"filterType": "text", "type": "equals", "filter": "K12"}}, 15),  # case-insensitive
    ({"segment": {"filterType": "text", "type": "contains", "filter": "prep"}}, 15),
    ({"segment": {"filterType": "text", "type": "notEqual", "filter": "adult"}}, 45),
    ({"customer_id": {"filterType": "text", "type": "startsWith", "filter": "c1"}}, 10),
    ({"triggers": {"filterType": "text", "type": "blank"}}, 48),
    ({"score": {"filterType": "number", "type": "lessThan", "filter": 15}}, 9),
    ({"score": {"filterType": "number", "type": "inRange", "filter": 30, "filterTo": 15}}, 11),
    ({"score": {"filterType": "number", "type": "greaterThanOrEqual", "filter": "84"}}, 5),
    ({"score": {"filterType": "number", "operator": "OR", "conditions": [
        {"filterType": "number", "type": "lessThan", "filter": 3},
        {"filterType": "number", "type": "greaterThan", "filter": 88}]}}, 3),
    ({"tier": {"filterType": "set", "values": ["critical", "thriving"]}}, 30),
    ({"last_session_at": {"filterType": "date", "type": "equals", "dateFrom": "2026-05-18 00:00:00"}}, 1),
    ({"last_session_at": {"filterType": "date", "type": "lessThan", "dateFrom": "2026-04-21"}}, 26),
    ({"segment": {"filterType": "text", "type": "equals", "filter": "k12"},
      "region": {"filterType": "text", "type": "equals", "filter": "ny"}}, 7),
    ({"segment": {"filterType": "text", "type": "contains", "filter": None}}, 60),  # still typing
])
def test_filter_model(engine, model, expected):
    rows_, total = page(engine, filters=model)
    assert total == expected == len(rows_)


def test_quick_filters_and_the_attention_view(engine):
    assert page(engine, quick={"tier": ["critical"]})[1] == 26
    assert page(engine, quick={"segment": "adult", "primary_subject": ["chemistry"]})[1] == 5
    assert page(engine, quick={"primary_tutor_id": ["t1", "t2"], "acquisition_channel": ["organic"]})[1] == 10
    assert page(engine, quick={"min_score": 30, "max_score": 45})[1] == 11
    attention = page(engine, quick=QuickFilters(attention=True))
    assert attention[1] == 32  # priority <= 2 or critical
    prios = [(r["priority"], r["score"]) for r in attention[0]]
    assert prios == sorted(prios) and prios[0][0] == 1
    # a trigger matches whole names only: inactive_21d, not a prefix
    assert page(engine, quick={"trigger": "inactive_21d"})[1] == 6
    assert page(engine, quick={"trigger": "calls_14d"})[1] == 6


@pytest.mark.parametrize("hostile", ["'; DROP TABLE health_scores; --", "%", "_", "k12' OR '1'='1", "\\", "c0%"])
def test_hostile_filter_values_are_just_values(engine, hostile):
    for op in ("contains", "equals", "startsWith"):
        assert page(engine, filters={"customer_id": {"filterType": "text", "type": op, "filter": hostile}})[1] == 0
    assert page(engine, quick={"segment": [hostile]})[1] == 0
    assert page(engine, filters={"segment": {"filterType": "text", "type": "contains", "filter": "_"}})[1] == 15  # test_prep
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(HealthScore)).scalar() == 60


@pytest.mark.parametrize("sort, filters, quick, message", [
    ([{"colId": "explanation", "sort": "asc"}], None, None, "cannot sort by 'explanation'"),
    ([{"colId": "score; DROP TABLE alerts", "sort": "asc"}], None, None, "cannot sort by"),
    ([{"colId": "score", "sort": "sideways"}], None, None, "asc or desc"),
    (None, {"password": {"filterType": "text", "type": "equals", "filter": "x"}}, None, "cannot filter on 'password'"),
    (None, {"score": {"filterType": "number", "type": "lessThan", "filter": "lots"}}, None, "not a number"),
    (None, {"score": {"filterType": "number", "type": "regex", "filter": 3}}, None, "unknown filter type"),
    (None, {"segment": {"filterType": "number", "type": "lessThan", "filter": 3}}, None, "not a number column"),
    (None, {"segment": {"filterType": "text", "type": "equals", "filter": {"$ne": 1}}}, None, "expected text"),
    (None, {"last_session_at": {"filterType": "date", "type": "lessThan", "dateFrom": "someday"}}, None, "not a date"),
    (None, None, {"tier": ["doomed"]}, "tier doomed unknown"),
    (None, None, {"trigger": "calls"}, "trigger calls unknown"),
    (None, None, {"colour": ["red"]}, "unknown filter"),
])
def test_unknown_columns_and_bad_values_are_refused(engine, sort, filters, quick, message):
    with pytest.raises(QueryError, match=message):
        page(engine, sort, filters, quick=quick)


def test_paging_bounds_are_checked(engine):
    for start, end in ((-1, 10), (10, 10), (0, 5000)):
        with pytest.raises(QueryError, match="at most 1,000"):
            page(engine, start=start, end=end)


def test_export_is_the_whole_filtered_set_sorted_like_the_grid(engine):
    text = cq.export_filtered(engine, [{"colId": "score", "sort": "desc"}],
                              {"region": {"filterType": "text", "type": "equals", "filter": "CA"}},
                              {"tier": ["critical", "at-risk"]})
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert [r["customer_id"] for r in parsed] == [f"c{i:02d}" for i in range(29, -1, -1)]
    assert list(parsed[0]) == [c for c in cq.GRID_COLUMNS if c not in cq.PERSONAL] and parsed[0]["tier"] == "at-risk"


def test_distinct_values_feed_the_dropdowns(engine):
    values = cq.distinct_values(engine)
    assert values["segment"] == sorted(SEGMENTS) and values["region"] == ["CA", "NY"]
    assert values["primary_tutor_id"] == [f"t{i}" for i in range(6)]


# --- one customer, scored by the real job ------------------------------------------------------

@pytest.fixture
def scored(any_settings):
    old = (AT - timedelta(days=90)).date()
    sessions = [session("c1", AT - timedelta(days=40), rating=2, tutor_id="t1")]
    sessions += [session("c1", AT - timedelta(days=d), rating=4, tutor_id="t1") for d in (30, 25)]
    load_frames(any_settings, {
        "customers": frame("customers", [customer("c1", signup_date=old), customer("c2", signup_date=old)]),
        "tutors": frame("tutors", [tutor("t1")]),
        "sessions": frame("sessions", sessions),
        "inbound_calls": frame("inbound_calls", [call("c1", AT - timedelta(days=d), reason_code="billing")
                                                 for d in (1, 3)]),
    })
    run_job("score", any_settings, at=AT - timedelta(days=1))
    run_job("score", any_settings, at=AT)
    return get_engine(any_settings.db_url)


def test_customer_detail_has_score_components_triggers_history_sessions_calls(scored):
    d = cq.customer_detail(scored, "c1")
    assert d["score"]["tier"] == "critical" and d["customer"]["segment"] == "k12"
    assert list(d["components"]) == ["first_session", "velocity", "calls", "goal", "tutor_consistency"]
    calls = d["components"]["calls"]
    assert calls["label"] == "Inbound-call frequency" and calls["weight"] == 0.2
    assert calls["facts"]["calls_14d"] == 2 and "support calls" in calls["why"]
    fired = {t["name"]: t for t in d["triggers"]}
    assert set(fired) == {"calls_14d", "first_session_low_rating", "inactive_21d", "inactive_14d"}
    assert fired["calls_14d"]["why"] == "2 inbound calls in the last 14 days (2 or more is critical)"
    assert fired["calls_14d"]["task_status"] == "open"
    assert len(d["history"]) == 2 and list(d["history"]["tier"]) == ["critical", "critical"]
    assert list(d["sessions"]["rating"]) == [2, 4, 4] and list(d["calls"]["reason_code"]) == ["billing", "billing"]
    assert d["contacts"].empty and len(d["tasks"]) == 4 and d["work"]["open_tasks"] == 4
    assert cq.customer_detail(scored, "nobody") is None


def test_contact_log_validates_and_records(scored):
    for kwargs, message in (({"channel": "pigeon"}, "how you contacted"), ({"outcome": "great"}, "the outcome"),
                            ({"note": "x" * 2001}, "keep it to 2,000"), ({"customer_id": "nobody"}, "no customer nobody")):
        args = {"customer_id": "c1", "channel": "phone", "outcome": "reached", "note": "ok", **kwargs}
        with pytest.raises(ValueError, match=message):
            contacts.add_contact(scored, user_email="cs@example.com", **args)
    first = contacts.add_contact(scored, "c1", "cs@example.com", "Phone", "voicemail", "  left a message  ",
                           at=AT + timedelta(minutes=1))
    second = contacts.add_contact(scored, "c1", "cs@example.com", "email", "reached", "x" * 2000, at=AT + timedelta(hours=1))
    logged = cq.customer_detail(scored, "c1")["contacts"]
    assert list(logged["id"]) == [second, first]
    assert list(logged["channel"]) == ["email", "phone"] and logged["note"].iloc[1] == "left a message"


def test_personal_data_only_for_roles_that_may_see_it(scored):
    from sqlalchemy import update
    from models.source import Customer
    with scored.begin() as conn:
        conn.execute(update(Customer).where(Customer.customer_id == "c1").values(
            name="Ada Lovelace", email="ada@example.org", phone="+1 555 0100"))
    shown = cq.customer_detail(scored, "c1", personal=True)["customer"]
    assert (shown["name"], shown["email"], shown["phone"]) == ("Ada Lovelace", "ada@example.org", "+1 555 0100")
    hidden = cq.customer_detail(scored, "c1")["customer"]
    assert not {"name", "email", "phone"} & set(hidden)
    rows, _ = cq.customer_page(scored, [{"colId": "name", "sort": "asc"}], None, 0, 10, personal=True)
    assert rows[0]["name"] == "Ada Lovelace" and rows[0]["owner_email"] is None
    named, total = cq.customer_page(scored, None, {"name": {"filterType": "text", "type": "contains", "filter": "ada"}},
                                    0, 10, personal=True)
    assert total == 1 and named[0]["customer_id"] == "c1"
    rows, _ = cq.customer_page(scored, None, None, 0, 10)
    assert "name" not in rows[0]
    for sort, filters in (([{"colId": "name", "sort": "asc"}], None),
                          (None, {"name": {"filterType": "text", "type": "contains", "filter": "a"}})):
        with pytest.raises(QueryError, match="cannot sort or filter on name"):
            cq.customer_page(scored, sort, filters, 0, 10)
    assert "Ada" not in cq.export_filtered(scored, None, None) and "Ada" in cq.export_filtered(scored, None, None,
                                                                                                personal=True)


def test_worklist_columns_and_filters(scored):
    from infra.clock import utcnow
    now = utcnow()  # the quick filters compare with the present
    contacts.add_contact(scored, "c1", "cs@example.com", "phone", "reached", at=now, follow_up=now + timedelta(days=2))
    rows, total = cq.customer_page(scored, [{"colId": "last_contacted_at", "sort": "desc"}], None, 0, 10)
    assert rows[0]["customer_id"] == "c1" and rows[0]["next_follow_up_at"].startswith(f"{now + timedelta(days=2):%Y-%m-%d}")
    assert total == 2
    waiting = cq.customer_page(scored, None, None, 0, 10, {"follow_up": "waiting"})
    never = cq.customer_page(scored, None, None, 0, 10, {"contacted": "never"})
    assert [r["customer_id"] for r in waiting[0]] == ["c1"] and [r["customer_id"] for r in never[0]] == ["c2"]
    assert "c1" not in {r["customer_id"] for r in cq.customer_page(scored, None, None, 0, 10, {"attention": True})[0]}
    with pytest.raises(QueryError, match="follow_up must be one of"):
        cq.customer_page(scored, None, None, 0, 10, {"follow_up": "someday"})


def test_velocity_page_data_and_benchmark_validation(scored):
    from read.velocity import check_benchmark, velocity_page
    data = velocity_page(scored, 2.0)
    assert data["customers"] == 2 and data["at"] == AT
    for key in ("cohorts", "nth", "tiers", "retention", "histogram", "trend"):
        assert isinstance(data[key], pd.DataFrame)
    assert data["trend"]["benchmark"].eq(2.0).all()
    assert check_benchmark("1.5") == 1.5
    for bad in ("fast", "0", "50", None):
        with pytest.raises(ValueError, match="benchmark"):
            check_benchmark(bad)


def test_history_is_kept_per_day(scored):
    with scored.connect() as conn:
        assert conn.execute(select(func.count()).select_from(HealthScoreHistory)).scalar() == 4
        # the fired triggers are tasks on the customers (the CS worklist), not alerts (c2 never had a session)
        assert conn.execute(select(func.count()).select_from(CustomerTask)).scalar() == 5
        assert conn.execute(select(func.count()).select_from(Alert).where(Alert.type == "customer_risk")).scalar() == 0
