"""Validation, the store's limits, the duplicate rule and the row-level CSV reader, without a database."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from domain.contract import RECORDS
from ingestion.limits import store_limits
from ingestion.validation import typed_column, validate
from sources.csv_dir import read_rows
from sources.simulation.world.contacts import contacts, session_prices

NOW = datetime(2026, 6, 1, 12, 0)


def customers(*rows: dict) -> pd.DataFrame:
    base = {"customer_id": "c1", "signup_date": "2026-05-01T09:15:00Z", "acquisition_channel": "organic",
            "segment": "k12", "region": "CA", "goal": "pass", "goal_status": "none", "goal_completed_at": None,
            "status": "active", "churned_at": None, "updated_at": "2026-05-20T10:00:00Z"}
    return pd.DataFrame([{**base, **r} for r in rows])


def test_signup_date_keeps_its_time_of_day():
    good, bad = validate("customers", customers({}), now=NOW)
    assert bad.empty and good.loc[0, "signup_date"] == pd.Timestamp("2026-05-01 09:15:00")


@pytest.mark.parametrize("field, value, ok", [
    ("updated_at", "2026-06-01T12:59:00Z", True),   # within the hour of allowed skew
    ("updated_at", "2026-06-01T13:01:00Z", False),
    ("signup_date", "2030-01-01T00:00:00Z", False),
    ("churned_at", "2999-01-01T00:00:00Z", False),
])
def test_times_beyond_the_allowed_skew_are_refused(field, value, ok):
    extra = {"status": "churned"} if field == "churned_at" else {}
    good, bad = validate("customers", customers({field: value, **extra}), now=NOW, skew=timedelta(hours=1))
    assert (len(good) == 1) is ok
    if not ok:
        assert f"{field} '{value}' is in the future" in bad.loc[0, "reason"]


def test_a_bookings_scheduled_time_may_lie_ahead_but_not_its_created_at():
    row = {"booking_id": "b1", "customer_id": "c1", "tutor_id": "t1", "subject": "math",
           "scheduled_time": "2026-07-01T10:00:00Z", "created_at": "2026-05-01T10:00:00Z", "status": "scheduled",
           "rescheduled_by": None, "updated_at": "2026-05-01T10:00:00Z"}
    good, _ = validate("bookings", pd.DataFrame([row]), now=NOW)
    assert len(good) == 1
    _, bad = validate("bookings", pd.DataFrame([{**row, "created_at": "2026-07-01T00:00:00Z"}]), now=NOW)
    assert "created_at" in bad.loc[0, "reason"]


def test_limits_come_from_the_store_columns():
    limits = store_limits("customers")
    assert limits["goal"].max_length == 255 and limits["region"].max_length == 8
    assert limits["email"].max_length == 320
    assert store_limits("inbound_calls")["duration_s"].int_range == (-(2 ** 31), 2 ** 31 - 1)


def test_personal_fields_are_never_quoted_nor_kept_in_the_payload():
    _, bad = validate("customers", customers({"email": "x" * 400 + "@example.com"}), now=NOW)
    assert bad.loc[0, "reason"] == "email longer than 320 characters"
    assert "xxxx" not in bad.loc[0, "payload"] and json.loads(bad.loc[0, "payload"])["email"] == "<personal data>"


def test_infinite_and_huge_numbers_are_refused():
    row = {"call_id": "k1", "customer_id": "c1", "call_date": "2026-05-01T00:00:00Z", "duration_s": "1e30",
           "reason_code": "billing"}
    _, bad = validate("inbound_calls", pd.DataFrame([row]), now=NOW)
    assert "bad int in duration_s" in bad.loc[0, "reason"]
    assert typed_column(pd.Series(["9223372036854775808", "5"]), "int").tolist()[1] == 5
    sess = {"session_id": "s1", "customer_id": "c1", "tutor_id": "t1", "subject": "math",
            "start_time": "2026-05-01T10:00:00Z", "end_time": "2026-05-01T11:00:00Z", "rating": "inf",
            "status": "completed", "updated_at": "2026-05-01T11:00:00Z"}
    _, bad = validate("sessions", pd.DataFrame([sess]), now=NOW)
    assert "rating" in bad.loc[0, "reason"]


def test_duplicates_newest_wins_identical_collapse_ties_conflict():
    df = customers({"goal": "old", "updated_at": "2026-05-01T00:00:00Z"}, {"goal": "new"},
                   {"customer_id": "c2"}, {"customer_id": "c2"},
                   {"customer_id": "c3", "goal": "a"}, {"customer_id": "c3", "goal": "b"})
    good, bad = validate("customers", df, now=NOW)
    assert dict(zip(good["customer_id"], good["goal"])) == {"c1": "new", "c2": "pass"}
    assert list(bad["row_key"]) == ["c3", "c3"] and bad["reason"].str.startswith("conflicting duplicate id").all()


def test_csv_reader_keeps_good_lines_and_names_bad_ones():
    data = (b"\xef\xbb\xbfa,b,c\n1,2,3\n4,5\n6,\"multi\nline\",7\n8,\xff,9\n10,\"open,11\n12,13,14\n")
    df, rejected = read_rows(data, "x.csv")
    assert df.values.tolist() == [["1", "2", "3"], ["6", "multi\nline", "7"], ["12", "13", "14"]]
    assert list(df.columns) == ["a", "b", "c"]
    assert rejected["row_key"].tolist() == ["x.csv:3", "x.csv:6", "x.csv:7"]
    assert rejected["reason"].tolist()[0] == "x.csv line 3: ragged line: 2 fields, the header has 3"


@pytest.mark.parametrize("data", [b"", b"\n", b"a,b,c\n", b"a,b,c"])
def test_empty_or_header_only_csv_is_zero_rows(data):
    df, rejected = read_rows(data, "x.csv")
    assert len(df) == 0 and rejected.empty


def test_simulated_contacts_are_deterministic_and_look_real():
    one, again = contacts(np.array([1, 2, 3])), contacts(np.array([1, 2, 3]))
    assert list(one["email"]) == list(again["email"]) and len(set(one["name"])) == 3
    assert all("@" in e and " " not in e for e in one["email"])
    assert all(p.startswith("+1 ") and len(p) == 15 for p in one["phone"])
    prices = session_prices(np.array([0, 15]), np.array([60, 30]), np.array([1, 2]))
    assert prices[0] == pytest.approx(30.0) and prices[1] == 0.0


def test_contract_lists_the_new_optional_fields():
    assert {"name", "email", "phone"} <= set(RECORDS["customers"].columns)
    assert RECORDS["customers"].personal == {"name", "email", "phone"}
    assert RECORDS["sessions"].field("price").required is False
    assert RECORDS["customers"].field("signup_date").kind == "datetime"


def test_csv_reader_fast_path_without_quotes_finds_the_same_bad_lines():
    data = b"a,b,c\n1,2,3\n4,5\n\n8,\xff,9\n10,11,12,13\n12,,14\n"
    df, rejected = read_rows(data, "x.csv")
    assert [[None if pd.isna(v) else v for v in row] for row in df.values.tolist()] == [["1", "2", "3"], ["12", None, "14"]]
    assert rejected["row_key"].tolist() == ["x.csv:3", "x.csv:5", "x.csv:6"]
    assert rejected["reason"].tolist() == ["x.csv line 3: ragged line: 2 fields, the header has 3",
                                           "x.csv line 5: bytes that are not UTF-8",
                                           "x.csv line 6: ragged line: 4 fields, the header has 3"]
    slow, slow_rejected = read_rows(data.replace(b"1,2,3", b'"1",2,3'), "x.csv")  # a quote: the row-by-row path
    assert slow_rejected["row_key"].tolist() == rejected["row_key"].tolist() and len(slow) == 2


def test_csv_reader_clean_file_path_matches_the_row_by_row_reader():
    clean = b"\xef\xbb\xbfa, b\r\n1,\r\n\r\n3,4\r\n"
    df, rejected = read_rows(clean, "x.csv")
    slow, _ = read_rows(clean.replace(b"3,4", b'"3",4'), "x.csv")
    as_list = lambda d: [[None if pd.isna(v) else v for v in row] for row in d.values.tolist()]  # noqa: E731
    assert list(df.columns) == ["a", "b"] == list(slow.columns) and rejected.empty
    assert as_list(df) == as_list(slow) == [["1", None], ["3", "4"]]
