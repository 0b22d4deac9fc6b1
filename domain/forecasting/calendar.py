"""The local calendar of a series: its time zone, hour of the week and public holidays.

Times in the store are naive UTC. Demand follows its users' clock, so daily shapes, weekdays and
holidays are read in the marketplace's (or the series') local time: a Seoul holiday starts at
15:00 UTC the day before, and a Friday night in New York is Saturday in UTC.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

DEFAULT_TZ = "America/New_York"  # the marketplace's zone unless a setting says otherwise
ZONE_TAB = Path("/usr/share/zoneinfo/zone.tab")
SUNDAY = 6


@lru_cache(maxsize=64)
def country_timezone(country: str | None) -> str | None:
    """The first (main) zone listed for ``country`` (ISO code) in the system's zone.tab, if any.

    Used when a series gives its holiday country but not its zone; for a country with several
    zones this is the most populous one (America/New_York for US)."""
    if not country or not ZONE_TAB.exists():
        return None
    for line in ZONE_TAB.read_text().splitlines():
        parts = line.split("\t")
        if len(parts) >= 3 and parts[0] == country.upper():
            return parts[2]
    return None


def resolve_tz(tz: str | None, country: str | None) -> str:
    """An explicit zone wins; else the holiday country's main zone; else ``DEFAULT_TZ``."""
    return tz or country_timezone(country) or DEFAULT_TZ


def to_local(ts, tz: str) -> pd.DatetimeIndex:
    """Naive UTC times -> naive local wall times in ``tz``."""
    idx = pd.DatetimeIndex(pd.to_datetime(ts))
    return idx.tz_localize("UTC").tz_convert(tz).tz_localize(None)


@lru_cache(maxsize=64)
def holiday_dates(country: str, first_year: int, last_year: int) -> frozenset:
    """Public holidays of ``country`` (the ``holidays`` package) as a set of midnight Timestamps."""
    import holidays as holidays_lib
    days = holidays_lib.country_holidays(country, years=range(first_year, last_year + 1))
    return frozenset(pd.Timestamp(d) for d in days)


def is_holiday(local: pd.DatetimeIndex, country: str | None) -> np.ndarray:
    """True for local times on a public holiday of ``country`` (all False without a country)."""
    if not country or not len(local):
        return np.zeros(len(local), dtype=bool)
    days = holiday_dates(country, local[0].year - 1, local[-1].year + 1)
    return np.asarray(local.normalize().isin(list(days)))


def near_holiday(local: pd.DatetimeIndex, country: str | None, days: int = 1) -> np.ndarray:
    """True within ``days`` local days of a holiday (bridge days, Christmas week): less predictable."""
    out = np.zeros(len(local), dtype=bool)
    for k in range(-days, days + 1):
        out |= is_holiday(local + pd.Timedelta(days=k), country)
    return out


def hour_of_week(local: pd.DatetimeIndex) -> np.ndarray:
    """0 = Monday 00:00 local .. 167 = Sunday 23:00 local."""
    return (local.day_of_week * 24 + local.hour).to_numpy()
