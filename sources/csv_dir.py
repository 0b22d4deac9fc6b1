"""A folder of contract CSVs (customers.csv, sessions.csv, ...): another marketplace's export, or `demo --out`."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd

from sources.base import ContractViolation, SourceUnavailable
from domain.contract import RECORDS


class CsvDirAdapter:
    def __init__(self, folder: str):
        self.folder = Path(folder).expanduser()
        self.name = f"csv:{self.folder}"

    @property
    def records(self) -> tuple[str, ...]:
        return tuple(r for r in RECORDS if (self.folder / f"{r}.csv").exists())

    def check(self) -> None:
        if not self.folder.is_dir():
            raise SourceUnavailable(f"folder {self.folder} does not exist")

    def fetch(self, record: str, since: datetime | None) -> pd.DataFrame:
        """Rows as raw strings (ingestion types them); rows whose watermark can't be parsed are kept for quarantine."""
        self.check()
        path = self.folder / f"{record}.csv"
        try:
            df = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
        except FileNotFoundError:
            return pd.DataFrame(columns=RECORDS[record].columns)
        except (pd.errors.ParserError, UnicodeDecodeError) as exc:
            raise ContractViolation(f"{path.name}: cannot parse CSV ({exc})") from exc
        df.columns = [c.strip() for c in df.columns]
        column = RECORDS[record].watermark
        if since is not None and column and column in df.columns:
            stamp = pd.to_datetime(df[column], errors="coerce", utc=True, format="ISO8601")
            stamp = stamp.dt.tz_localize(None)
            df = df[stamp.isna() | (stamp >= pd.Timestamp(since))]
        return df.reset_index(drop=True)
