"""Load hand-made contract frames into a test store through the real ingestion path."""
from __future__ import annotations

from datetime import datetime

import pandas as pd

from domain.contract import RECORDS
from ingestion.pipeline import ingest_sources


class FramesAdapter:
    """An in-memory source: contract frames given by the test."""

    def __init__(self, frames: dict[str, pd.DataFrame], name: str = "test"):
        self.frames = frames
        self.name = name
        self.records = tuple(r for r in RECORDS if r in frames)

    def check(self) -> None:
        return None

    def fetch(self, record: str, since: datetime | None) -> pd.DataFrame:
        df = self.frames[record]
        column = RECORDS[record].watermark
        if since is not None and column:
            df = df[pd.to_datetime(df[column]) >= pd.Timestamp(since)]
        return df.copy()


def load_frames(settings, frames: dict[str, pd.DataFrame], name: str = "test") -> dict:
    """Ingest the frames; fails the test if any row was quarantined (fixtures should be clean)."""
    result = ingest_sources(settings, [FramesAdapter(frames, name)])
    bad = {r: c["quarantined"] for r, c in result["records"].items() if c["quarantined"]}
    assert not bad and not result["errors"], f"fixture rows rejected: {bad} {result['errors']}"
    return result["records"]
