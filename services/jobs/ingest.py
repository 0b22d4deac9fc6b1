"""The ingest job: poll every configured source (SOURCES, CALLS_API_URL) into the store."""
from __future__ import annotations

from functools import lru_cache

from config import Settings
from services.adapters import get_adapter
from services.ingestion import ingest_sources
from services.jobs.context import JobContext


@lru_cache(maxsize=4)
def _adapters(settings_key: tuple) -> list:
    settings = Settings(**dict(settings_key))
    adapters = [get_adapter(uri, settings) for uri in settings.source_uris()]
    if settings.calls_api_url:
        adapters.append(get_adapter(f"calls:{settings.calls_api_url}", settings))
    return adapters


def configured_adapters(settings: Settings) -> list:
    """Adapters are kept per process (the synthetic one holds its generated marketplace)."""
    key = tuple(sorted((k, str(v)) for k, v in settings.model_dump().items()))
    return _adapters(key)


def run(ctx: JobContext) -> dict:
    if not ctx.live:
        return {"skipped": "sources are only polled live"}
    result = ingest_sources(ctx.settings, configured_adapters(ctx.settings))
    return {"records": result["records"], "errors": result["errors"]}
