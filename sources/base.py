"""The small interface every source adapter implements, and the typed errors they raise."""
from __future__ import annotations

from datetime import datetime
from typing import Protocol, runtime_checkable

import pandas as pd


class SourceUnavailable(RuntimeError):
    """The source cannot be reached right now (connection refused, timeout, 5xx). Retry later."""


class TokenRefused(SourceUnavailable):
    """The source refused our credentials (401/403): retrying will not help until they are fixed."""


class ContractViolation(RuntimeError):
    """The source answered, but not in the contract's shape (missing columns, unparseable payload)."""


@runtime_checkable
class Adapter(Protocol):
    name: str  # stable identity used for watermarks, e.g. "synthetic", "csv:/data/export"
    records: tuple[str, ...]  # contract records this source provides

    def fetch(self, record: str, since: datetime | None) -> pd.DataFrame:
        """Rows of `record` whose watermark column is >= since (all rows when since is None).

        Columns are the contract's (domain.contract.RECORDS[record].columns); values may still
        be raw (strings); ingestion validates and types them. Optional fields the source lacks may be
        absent. Rows the source could not even parse (a ragged CSV line) may be handed over in
        `attrs["rejected"]` (columns row_key, reason, payload): ingestion quarantines them.
        An adapter that can list a record's ids cheaply also has `ids(record) -> list[str]`, used
        to find rows deleted at the source (ingestion.reconcile).
        """
        ...

    def check(self) -> None:
        """Raise SourceUnavailable when the source cannot be reached."""
        ...
