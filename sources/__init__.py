"""Source adapters, one module per source, listed explicitly in ADAPTERS.

URIs: "synthetic", "csv:DIR", "rails:postgresql://...", "calls:http://host/base" (token from
settings or the ingest command's --calls-token).
"""
from __future__ import annotations

from sources.base import Adapter, ContractViolation, SourceUnavailable  # noqa: F401


def _synthetic(arg, settings, **kw):
    from sources.synthetic import SyntheticAdapter
    return SyntheticAdapter.from_settings(settings)


def _csv(arg, settings, **kw):
    from sources.csv_dir import CsvDirAdapter
    return CsvDirAdapter(arg)


def _rails(arg, settings, **kw):
    from sources.rails import RailsAdapter
    return RailsAdapter(arg)


def _calls(arg, settings, token=None, **kw):
    from sources.support_api import SupportApiAdapter
    return SupportApiAdapter(arg, token or settings.calls_api_token)


ADAPTERS = {"synthetic": _synthetic, "csv": _csv, "rails": _rails, "calls": _calls}


def get_adapter(uri: str, settings, **kw) -> Adapter:
    """Build the adapter a URI names, e.g. get_adapter("csv:/data", settings)."""
    kind, _, arg = uri.partition(":")
    if kind not in ADAPTERS:
        raise ValueError(f"unknown source {uri!r}; expected one of {sorted(ADAPTERS)} as KIND[:ARG]")
    return ADAPTERS[kind](arg, settings, **kw)
