"""/api/v1/tutors and /api/v1/first-sessions on a small hand-made store: auth, hand-computed numbers,
filters, sorting, paging, windows, and 400s with a message."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from app import create_app
from auth import accounts
from models.base import get_engine
from jobs.runner import run_job
from tests.factories import customer, frame, session, tutor
from tests.support.store import load_frames

AT = datetime(2026, 5, 20, 12, 0)  # Wednesday; last week = Mon 11 .. Mon 18 May
TUE = datetime(2026, 5, 12, 9, 0)
# customer -> (tutor, subject, status, rating, segment, region, start)
FIRSTS = {
    "c1": ("t1", "algebra", "completed", 5, "k12", "CA", TUE),
    "c2": ("t1", "algebra", "completed", 3, "k12", "CA", TUE + timedelta(hours=1)),
    "c3": ("t1", "physics", "no_show", None, "adult", "NY", TUE + timedelta(hours=2)),
    "c4": ("t2", "chemistry", "completed", None, "adult", "NY", TUE + timedelta(hours=3)),
    "c5": ("t2", "chemistry", "completed", 4, "college", "NY", TUE + timedelta(hours=4)),
    "c6": ("t1", "algebra", "completed", 4, "k12", "CA", datetime(2026, 5, 13, 14, 0)),
}
# t1: 4 first sessions (c1 c2 c3 c6), 3 completed, 1 no-show, 3 rated, 2 successes, avg (5+3+4)/3
# t2: 2 first sessions (c4 c5), 2 completed, 1 rated, 1 success


def store_frames() -> dict:
    tutors = [tutor("t1", name="Ann Alvarez", subjects="algebra;physics", region="CA"),
              tutor("t2", name="Ben Brooks", subjects="chemistry", region="NY"),
              tutor("t3", name="Cy Cole", subjects="algebra", region="TX", status="inactive")]
    customers, sessions = [], []
    for cid, (tid, subject, status, rating, segment, region, start) in FIRSTS.items():
        customers.append(customer(cid, segment=segment, region=region, updated_at=AT - timedelta(days=20)))
        sessions.append(session(cid, start_time=start, tutor_id=tid, subject=subject, status=status, rating=rating,
                                updated_at=start + timedelta(hours=1)))
    sessions.append(session("c1", start_time=datetime(2026, 5, 19, 9), tutor_id="t2", subject="chemistry",
                            rating=1, updated_at=datetime(2026, 5, 19, 10)))       # not a first session
    sessions.append(session("c6", start_time=TUE, tutor_id="t2", status="cancelled",
                            updated_at=TUE + timedelta(hours=1)))                   # cancelled: never first
    return {"customers": frame("customers", customers), "tutors": frame("tutors", tutors),
            "sessions": frame("sessions", sessions)}


@pytest.fixture
def client(settings):
    engine = get_engine(settings.db_url)
    accounts.create_user(engine, "api@example.com", "ops", "long-enough-pw")
    load_frames(settings, store_frames())
    run_job("first-session", settings, at=AT)
    return create_app(settings).server.test_client()


@pytest.fixture
def get(client, settings):
    token = accounts.create_token(get_engine(settings.db_url), "api@example.com")

    def call(path, **params):
        return client.get(f"/api/v1{path}", query_string=params, headers={"Authorization": f"Bearer {token}"})
    return call


def by_key(rows, key="key"):
    return {r[key]: r for r in rows}


def test_both_routes_need_a_token(client):
    for path in ("/api/v1/tutors", "/api/v1/first-sessions?by=tutor"):
        assert client.get(path).status_code == 401
        assert client.get(path, headers={"Authorization": "Bearer wrong"}).status_code == 401


def test_first_sessions_by_tutor_segment_region_hand_computed(get):
    body = get("/first-sessions", by="tutor").get_json()
    assert body["by"] == "tutor" and body["since"] is None
    rows = by_key(body["rows"])
    assert set(rows) == {"t1", "t2"}
    t1 = rows["t1"]
    assert [t1[k] for k in ("first_sessions", "completed", "no_show", "rated_completed", "successes")] == [4, 3, 1, 3, 2]
    assert t1["success_rate"] == pytest.approx(2 / 3) and t1["completion_rate"] == pytest.approx(0.75)
    assert t1["avg_rating"] == pytest.approx(4.0)
    assert rows["t2"]["success_rate"] == pytest.approx(1.0) and rows["t2"]["rated_completed"] == 1

    segments = by_key(get("/first-sessions", by="segment").get_json()["rows"])
    assert segments["adult"]["first_sessions"] == 2 and segments["adult"]["success_rate"] is None
    assert segments["adult"]["completion_rate"] == pytest.approx(0.5)
    assert segments["k12"]["successes"] == 2 and segments["college"]["success_rate"] == pytest.approx(1.0)
    regions = by_key(get("/first-sessions", by="region").get_json()["rows"])
    assert {k: r["first_sessions"] for k, r in regions.items()} == {"CA": 3, "NY": 3}
    subjects = by_key(get("/first-sessions", by="subject").get_json()["rows"])
    assert subjects["algebra"]["first_sessions"] == 3 and subjects["chemistry"]["first_sessions"] == 2


def test_first_sessions_window_is_half_open_and_accepts_offsets(get):
    rows = get("/first-sessions", by="tutor", since="2026-05-13", until="2026-05-14").get_json()["rows"]
    assert [(r["key"], r["first_sessions"], r["successes"]) for r in rows] == [("t1", 1, 1)]  # c6 only
    shifted = get("/first-sessions", by="tutor", since="2026-05-13T02:00:00+02:00", until="2026-05-14T00:00:00Z")
    assert shifted.get_json()["rows"] == rows
    assert get("/first-sessions", by="tutor", since="2026-05-12T09:00:00", until="2026-05-12T10:00:00") \
        .get_json()["rows"][0]["first_sessions"] == 1  # 09:00 in, 10:00 out


def test_api_window_matches_the_stored_last_week(get):
    stored = by_key(get("/tutors", period="last_week").get_json()["rows"], "tutor_id")
    live = by_key(get("/first-sessions", by="tutor", since="2026-05-11", until="2026-05-18").get_json()["rows"])
    for key, row in live.items():
        for field in ("first_sessions", "completed", "no_show", "rated_completed", "successes", "success_rate",
                      "completion_rate"):
            assert stored[key][field] == pytest.approx(row[field]), (key, field)


def test_tutors_rows_filters_sort_and_paging(get):
    body = get("/tutors").get_json()
    assert body["period"] == "last_week" and body["computed_at"] == AT.isoformat() and body["total"] == 3
    rows = by_key(body["rows"], "tutor_id")
    t1 = rows["t1"]
    assert t1["name"] == "Ann Alvarez" and t1["first_sessions"] == 4 and t1["success_rate"] == pytest.approx(2 / 3)
    assert t1["band"] == "low"  # below 70 %
    assert t1["wow_trend"] == pytest.approx(50.0)  # last 7 days c6 1/1 = 100 % vs 7 days before c1 c2 1/2 = 50 %
    assert rows["t2"]["band"] == "" and rows["t2"]["wow_trend"] is None  # 1 rated: not "top"; no last-7-day data
    assert rows["t3"]["first_sessions"] == 0 and rows["t3"]["success_rate"] is None

    ids = lambda **p: [r["tutor_id"] for r in get("/tutors", **p).get_json()["rows"]]  # noqa: E731
    assert ids(subject="algebra") == ["t1", "t3"]
    assert ids(status="inactive") == ["t3"] and ids(region="NY") == ["t2"]
    assert ids(min_first_sessions=3) == ["t1"]
    assert ids(sort="-success_rate") == ["t2", "t1", "t3"]  # empty values last either way
    assert ids(sort="success_rate") == ["t1", "t2", "t3"]
    page = get("/tutors", sort="name", limit=1, offset=1).get_json()
    assert [r["tutor_id"] for r in page["rows"]] == ["t2"] and page["total"] == 3
    assert get("/tutors", period="this_week").get_json()["rows"][0]["first_sessions"] == 0


@pytest.mark.parametrize("path,params,word", [
    ("/tutors", {"period": "yesterday"}, "period"),
    ("/tutors", {"status": "retired"}, "status"),
    ("/tutors", {"sort": "rating"}, "sort"),
    ("/tutors", {"limit": "0"}, "limit"),
    ("/tutors", {"limit": "abc"}, "limit"),
    ("/tutors", {"offset": "-1"}, "offset"),
    ("/tutors", {"min_first_sessions": "x"}, "min_first_sessions"),
    ("/first-sessions", {}, "by"),
    ("/first-sessions", {"by": "city"}, "by"),
    ("/first-sessions", {"by": "tutor", "since": "last tuesday"}, "since"),
    ("/first-sessions", {"by": "tutor", "until": "2026-13-45"}, "until"),
    ("/first-sessions", {"by": "tutor", "since": "2026-05-14", "until": "2026-05-13"}, "before"),
])
def test_bad_parameters_are_400_with_a_message(get, path, params, word):
    response = get(path, **params)
    assert response.status_code == 400 and response.is_json
    assert word in response.get_json()["error"]


def test_new_data_is_seen_at_once_despite_the_cache(get, settings):
    assert len(get("/first-sessions", by="tutor").get_json()["rows"]) == 2
    load_frames(settings, {
        "customers": frame("customers", [customer("c9", updated_at=AT)]),
        "sessions": frame("sessions", [session("c9", start_time=AT - timedelta(hours=3), tutor_id="t3", rating=5,
                                               updated_at=AT)]),
    })
    rows = by_key(get("/first-sessions", by="tutor").get_json()["rows"])
    assert rows["t3"]["successes"] == 1
