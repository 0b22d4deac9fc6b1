"""Public holidays as expected departures: which grid points fall on one.

A holiday moves demand-like metrics (sessions, bookings, visits, payments) far from any weekly
shape, and nothing in six weeks of history says by how much. So, for metrics configured with
`holidays: "US"` (a country code the `holidays` package knows), holiday days are

  * left out of every baseline (level, seasonal profiles, spreads, window comparisons), so the
    day after a holiday, and the same weekday a week later, are judged against ordinary days;
  * not judged: an event mostly on a holiday is not raised (detect.py).

Which days: the country's public holidays as the `holidays` package lists them (observed days
included), plus the days around them that behave like one in retail and services data (US only):
the eves of the big family holidays -- Thanksgiving Eve, Christmas Eve, New Year's Eve -- when
people travel and leave work early, and the day after Thanksgiving. School breaks are not holidays and are not
added: they are slow, predictable seasons the weekly profile follows.

A day is the local day in the configured time zones: from midnight in the first zone to midnight
in the last, e.g. "America/New_York,America/Los_Angeles" covers the US day from 04:00/05:00 UTC to
07:00/08:00 UTC the next day. Grid times are naive UTC.
"""
from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import numpy as np
import pandas as pd

NONE = ("", "none", "off", "false")


def enabled(country: str) -> bool:
    return (country or "").strip().lower() not in NONE


@lru_cache(maxsize=32)
def holiday_days(country: str, first_year: int, last_year: int) -> dict[date, str]:
    """{day: name} of the country's public holidays (and US bridge days) over the years."""
    import holidays  # on first use: importing it costs the detect command ~0.1 s of start-up

    code = country.strip().upper()
    years = list(range(first_year, last_year + 1))
    try:
        days = {d: str(n) for d, n in holidays.country_holidays(code, years=years).items()}
    except NotImplementedError:
        raise ValueError(f"holidays: unknown country {country!r} (use a code like 'US', or 'none')") from None
    if code == "US":
        for d, name in list(days.items()):
            if name.startswith("Thanksgiving"):
                days.setdefault(d - timedelta(days=1), "Thanksgiving Eve")
                days.setdefault(d + timedelta(days=1), "the day after Thanksgiving")
        for y in years:
            days.setdefault(date(y, 12, 24), "Christmas Eve")
            days.setdefault(date(y, 12, 31), "New Year's Eve")
    return days


def check(country: str, timezones: str) -> None:
    """ValueError for an unknown country or time zone (a typo in a rule must fail loudly)."""
    if not enabled(country):
        return
    holiday_days(country, 2020, 2020)
    _zones(timezones)


def _zones(timezones: str) -> list[str]:
    zones = [z.strip() for z in (timezones or "UTC").split(",") if z.strip()] or ["UTC"]
    for z in zones:
        try:
            pd.Timestamp("2020-01-01").tz_localize(z)
        except Exception:  # noqa: BLE001 - pytz/zoneinfo raise different types
            raise ValueError(f"holiday_timezones: unknown time zone {z!r}") from None
    return zones


def holiday_mask(index: pd.DatetimeIndex, country: str, timezones: str) -> tuple[np.ndarray, list[str | None]]:
    """(mask, names): mask[i] is True when index[i] (naive UTC) falls on a holiday in any of the
    zones; names[i] is that holiday's name (None elsewhere)."""
    n = len(index)
    mask = np.zeros(n, dtype=bool)
    names: list[str | None] = [None] * n
    if not n or not enabled(country):
        return mask, names
    utc = pd.DatetimeIndex(index).tz_localize("UTC")
    days = holiday_days(country, int(index.min().year) - 1, int(index.max().year) + 1)
    if not days:
        return mask, names
    keys = np.array([np.datetime64(d, "D") for d in days], dtype="datetime64[D]")
    labels = list(days.values())
    for zone in _zones(timezones):
        local = utc.tz_convert(zone).tz_localize(None).to_numpy().astype("datetime64[D]")
        hit = np.isin(local, keys)
        for i in np.flatnonzero(hit & ~mask):
            names[i] = labels[int(np.flatnonzero(keys == local[i])[0])]
        mask |= hit
    return mask, names
