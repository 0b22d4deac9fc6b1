"""The demo marketplace into the store (through the same ingestion path as any source) or as contract CSVs."""
from __future__ import annotations

import json
import time
from pathlib import Path

from sqlalchemy import func, select

from config import Settings
from models.base import get_engine
from models.schema import upgrade
from models.source import Customer
from domain.contract import RECORDS
from ingestion.pipeline import ingest_sources
from sources.simulation import generate
from sources.synthetic import SyntheticAdapter


def _progress(enabled: bool):
    if not enabled:
        return None
    from tqdm import tqdm
    bar = tqdm(total=100, desc="generate", unit="%", bar_format="{desc}: {percentage:3.0f}%|{bar}| {postfix}")

    def update(step: str, fraction: float) -> None:
        bar.n = int(round(100 * min(1.0, max(0.0, fraction))))
        bar.set_postfix_str(step)
        bar.refresh()
        if fraction >= 1.0:
            bar.close()
    return update


def generate_marketplace(customers: int, days: int, seed: int, progress: bool = False, end=None):
    return generate(customers=customers, days=days, seed=seed, end=end, progress=_progress(progress))


def write_demo_csv(out_dir: str, customers: int, days: int, seed: int, progress: bool = False) -> dict:
    """Contract CSVs (one per record) plus incidents.json describing the planted incidents."""
    started = time.perf_counter()
    mp = generate_marketplace(customers, days, seed, progress)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows = {}
    for record, frame in mp.frames.items():
        frame[RECORDS[record].columns].to_csv(out / f"{record}.csv", index=False, date_format="%Y-%m-%dT%H:%M:%SZ")
        rows[record] = len(frame)
    (out / "incidents.json").write_text(json.dumps(mp.incidents, default=str, indent=2))
    return {"out": str(out), "rows": rows, "seconds": round(time.perf_counter() - started, 1)}


def store_has_customers(settings: Settings) -> bool:
    engine = get_engine(settings.db_url)
    with engine.connect() as conn:
        return bool(conn.execute(select(func.count()).select_from(Customer)).scalar())


def load_demo(settings: Settings, customers: int, days: int, seed: int, if_empty: bool = False,
              progress: bool = False) -> dict:
    """Generate the marketplace and ingest it as the `synthetic` source; the live adapter continues from it."""
    upgrade(settings.db_url)
    if if_empty and store_has_customers(settings):
        return {"skipped": "the store already holds data"}
    started = time.perf_counter()
    adapter = SyntheticAdapter.create(settings, customers=customers, days=days, seed=seed, live=False)
    adapter.marketplace(progress=_progress(progress))
    result = ingest_sources(settings, [adapter], progress=progress)
    if result["errors"]:
        raise RuntimeError(f"demo ingest failed: {result['errors']}")
    return {"customers": customers, "days": days, "seed": seed, "records": result["records"],
            "seconds": round(time.perf_counter() - started, 1)}
