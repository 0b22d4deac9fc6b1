"""The ingest job: poll every configured source (SOURCES, CALLS_API_URL) into the store."""
from __future__ import annotations

import threading

from config import Settings
from sources import get_adapter
from ingestion.pipeline import ingest_sources
from jobs.context import JobContext

_adapters: dict[tuple, list] = {}
_lock = threading.Lock()


def configured_adapters(settings: Settings) -> list:
    """Adapters are kept per process and configuration (the synthetic one holds its generated marketplace)."""
    key = (tuple(settings.source_uris()), settings.calls_api_url, settings.calls_api_token,
           str(settings.var_dir), settings.live_synthetic)
    with _lock:
        if key not in _adapters:
            adapters = [get_adapter(uri, settings) for uri in settings.source_uris()]
            if settings.calls_api_url:
                adapters.append(get_adapter(f"calls:{settings.calls_api_url}", settings))
            _adapters[key] = adapters
        return _adapters[key]


def run(ctx: JobContext) -> dict:
    if not ctx.live:
        return {"skipped": "sources are only polled live"}
    result = ingest_sources(ctx.settings, configured_adapters(ctx.settings))
    return {"records": result["records"], "errors": result["errors"]}
