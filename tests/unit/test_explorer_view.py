"""The metric explorer's view in the query string: parsed with fallbacks and notes, written back canonically."""
from __future__ import annotations

from layouts.marketplace.explorer import explorer_href, parse_view, query_of, query_string

KNOWN = {"bookings.rate", "overview.sessions_today", "api latency/p95"}


def parse(search: str):
    return parse_view(query_of(search), KNOWN, "bookings.rate")


def test_a_copied_link_reopens_the_same_view():
    view = {"metric": "overview.sessions_today", "range": "custom", "start": "2026-11-01", "end": "2026-11-15",
            "compare": True}
    search = query_string(view)
    assert search == "?metric=overview.sessions_today&range=custom&start=2026-11-01&end=2026-11-15&compare=1"
    assert parse(search) == (view, [])
    odd = {"metric": "api latency/p95", "range": "30d", "start": None, "end": None, "compare": False}
    assert parse(query_string(odd)) == (odd, [])  # spaces and slashes survive the round trip


def test_defaults_stay_out_of_the_url_and_dates_only_for_a_custom_range():
    assert query_string({"metric": "bookings.rate", "range": "7d", "start": "2026-11-01", "end": None,
                         "compare": False}) == "?metric=bookings.rate"
    assert parse("") == ({"metric": "bookings.rate", "range": "7d", "start": None, "end": None, "compare": False}, [])
    assert parse("?range=24h&start=2026-11-01")[0]["start"] is None


def test_bad_values_fall_back_to_the_default_view_with_a_note():
    view, notes = parse("?metric=nope&range=3y&compare=yes")
    assert view == {"metric": "bookings.rate", "range": "7d", "start": None, "end": None, "compare": True}
    assert len(notes) == 2 and "Unknown metric" in notes[0] and "Unknown time range" in notes[1]
    view, notes = parse("?metric=bookings.rate&range=custom&start=2026-13-45&end=2026-11-02")
    assert view["range"] == "7d" and view["start"] is None and "could not be read" in notes[0]
    view, notes = parse("?range=custom&start=2026-11-09&end=2026-11-02")  # reversed: swapped, no note
    assert (view["start"], view["end"], notes) == ("2026-11-02", "2026-11-09", [])


def test_links_from_cards_and_alerts_carry_the_stream_and_period():
    assert explorer_href("overview.sessions_today") == "/explorer?metric=overview.sessions_today"
    href = explorer_href("bookings.rate", "custom", "2026-11-01 10:00:00", "2026-11-04")
    assert href == "/explorer?metric=bookings.rate&range=custom&start=2026-11-01&end=2026-11-04"
