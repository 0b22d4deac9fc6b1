"""The support system's HTTP API: inbound calls, paged, polled by call_date.

`GET {base}/calls?since={ISO}&page={n}` with `Authorization: Bearer {token}` answers
`{"calls": [{call_id, customer_id, call_date, duration_s, reason_code}], "next_page": n or null}`.
A fetch follows pages from 1 until next_page is null and returns them as one frame; a failure on
any page fails the whole fetch (ingestion retries it from page 1 and only then moves the watermark),
so a poll interrupted half-way loses nothing and, calls being upserted on call_id, doubles nothing.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

import pandas as pd
import requests

from sources.base import ContractViolation, SourceUnavailable, TokenRefused
from domain.contract import RECORDS
from infra.clock import utcnow

COLUMNS = RECORDS["inbound_calls"].columns
MAX_PAGES = 100_000  # a server that never says null is a broken server, not a big one


class SupportApiAdapter:
    """Adapter over the support-call API at `base_url`.

    `lookback` widens each poll to `since - lookback`: a call is stamped when it starts and may
    only reach the API when it ends, after newer calls already moved the watermark. Calls seen
    again are counted as unchanged downstream.
    """

    records = ("inbound_calls",)

    def __init__(self, base_url: str, token: str, timeout: tuple[float, float] = (5.0, 30.0),
                 lookback: timedelta = timedelta(hours=2)):
        parts = urlsplit(base_url.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"support-call API must be an http(s):// URL, got {base_url!r}")
        host = parts.hostname + (f":{parts.port}" if parts.port else "")
        self.base_url = urlunsplit((parts.scheme, host, parts.path, "", ""))  # no credentials in names or logs
        self.name = f"calls:{self.base_url}"
        self.timeout = timeout
        self.lookback = lookback
        self._session = requests.Session()
        self._session.headers.update({"Authorization": f"Bearer {token}", "Accept": "application/json"})

    def check(self) -> None:
        """One request for calls since now: reachable and the token accepted, or SourceUnavailable."""
        self._page(_iso(utcnow()), 1)

    def fetch(self, record: str, since: datetime | None) -> pd.DataFrame:
        """Calls with call_date >= since - lookback (all calls when since is None), every page.

        Returns the contract's inbound_calls columns as the API sent them (strings and numbers);
        a call lacking a field gets None there, so validation quarantines that call alone.
        Identical calls repeated across pages (the server's pages shifted) are kept once.
        """
        if record != "inbound_calls":
            raise ContractViolation(f"{self.name} provides inbound_calls only, not {record!r}")
        since_param = _iso(since - self.lookback) if since is not None else None
        calls: list[dict] = []
        page, seen = 1, set()
        while page is not None:
            if page in seen or len(seen) >= MAX_PAGES:
                raise ContractViolation(f"{self.name}: pagination does not end (page {page} asked for again)")
            seen.add(page)
            batch, page = self._page(since_param, page)
            calls.extend(batch)
        df = pd.DataFrame([{c: call.get(c) for c in COLUMNS} for call in calls], columns=COLUMNS)
        return df.drop_duplicates(ignore_index=True)

    def _page(self, since: str | None, page: int) -> tuple[list[dict], int | None]:
        params = {"page": page} if since is None else {"since": since, "page": page}
        where = f"{self.name} page {page}"
        try:
            resp = self._session.get(f"{self.base_url}/calls", params=params, timeout=self.timeout)
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise SourceUnavailable(f"{where}: {type(exc).__name__}: {exc}") from exc
        except requests.RequestException as exc:
            raise SourceUnavailable(f"{where}: {exc}") from exc
        if resp.status_code in (401, 403):
            raise TokenRefused(f"{where}: the API refused the token (HTTP {resp.status_code}); check the calls API token")
        if resp.status_code >= 500 or resp.status_code in (408, 429):
            raise SourceUnavailable(f"{where}: HTTP {resp.status_code}")
        if resp.status_code != 200:
            raise ContractViolation(f"{where}: HTTP {resp.status_code}: {resp.text[:200]}")
        return _parse(resp.content, where)


def _parse(content: bytes, where: str) -> tuple[list[dict], int | None]:
    try:
        body = json.loads(content)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ContractViolation(f"{where}: response is not JSON ({exc}): {content[:120]!r}") from exc
    if not isinstance(body, dict) or "calls" not in body or "next_page" not in body:
        keys = sorted(body) if isinstance(body, dict) else type(body).__name__
        raise ContractViolation(f"{where}: expected an object with 'calls' and 'next_page', got {keys}")
    calls, next_page = body["calls"], body["next_page"]
    if not isinstance(calls, list) or not all(isinstance(c, dict) for c in calls):
        raise ContractViolation(f"{where}: 'calls' must be a list of objects")
    if next_page is not None and (isinstance(next_page, bool) or not isinstance(next_page, int)):
        raise ContractViolation(f"{where}: 'next_page' must be an integer or null, got {next_page!r}")
    return calls, next_page


def _iso(moment: datetime) -> str:
    """Naive UTC -> '2026-01-05T10:00:00Z', floored to the second (flooring never skips a call)."""
    return moment.replace(microsecond=0).isoformat() + "Z"
