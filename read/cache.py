"""Read-side cache: Redis in production, in-process in embedded mode; invalidated by the data version.

Keys include the store's data version (bumped by every ingest and job write), so new results are
read at once; the TTL (CACHE_TTL_S, 15 minutes by default) only bounds memory. When Redis is down
the cache is bypassed (pages still serve) and `status()` says so for /api/v1/health.

When the store itself is unreachable (PostgreSQL down), a cached read answers with the last value
it computed for the same arguments (kept `STALE_TTL_S`, a day), so pages keep showing the last data;
`store_down_since()` tells callers to mark it stale. With nothing kept, the database error is raised.
"""
from __future__ import annotations

import functools
import hashlib
import logging
import pickle
import threading
import time
from typing import Any, Callable

from infra.versions import data_version, topic_version
from models.base import store_unreachable

log = logging.getLogger(__name__)
_MISSING = object()
STALE_TTL_S = 86400
_store_down_since: float | None = None  # wall time of the first read that found the store unreachable


class MemoryCache:
    kind = "memory"

    def __init__(self, max_items: int = 2048):
        self._data: dict[str, tuple[float, Any]] = {}
        self._lock = threading.Lock()
        self.max_items = max_items

    def get(self, key: str):
        with self._lock:
            item = self._data.get(key)
            if item is None or item[0] < time.monotonic():
                return _MISSING
            return item[1]

    def set(self, key: str, value, ttl: int) -> None:
        with self._lock:
            if len(self._data) >= self.max_items:
                now = time.monotonic()
                self._data = {k: v for k, v in self._data.items() if v[0] >= now}
                if len(self._data) >= self.max_items:
                    self._data.clear()
            self._data[key] = (time.monotonic() + ttl, value)

    def status(self) -> dict:
        return {"kind": self.kind, "ok": True}


class RedisCache:
    kind = "redis"

    def __init__(self, url: str):
        import redis
        self.client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
        self._down_until = 0.0

    def _available(self) -> bool:
        return time.monotonic() >= self._down_until

    def _failed(self, exc: Exception) -> None:
        log.warning("cache unavailable, bypassing for 10 s: %s", exc)
        self._down_until = time.monotonic() + 10

    def get(self, key: str):
        if not self._available():
            return _MISSING
        try:
            raw = self.client.get(key)
        except Exception as exc:  # Redis down: serve from the database
            self._failed(exc)
            return _MISSING
        return _MISSING if raw is None else pickle.loads(raw)

    def set(self, key: str, value, ttl: int) -> None:
        if not self._available():
            return
        try:
            self.client.setex(key, ttl, pickle.dumps(value))
        except Exception as exc:
            self._failed(exc)

    def status(self) -> dict:
        try:
            self.client.ping()
            return {"kind": self.kind, "ok": True}
        except Exception as exc:
            return {"kind": self.kind, "ok": False, "error": type(exc).__name__}


_cache: MemoryCache | RedisCache = MemoryCache()
_ttl = 900


def configure(redis_url: str = "", ttl: int = 900) -> None:
    """Called once at app start: Redis when REDIS_URL is set, else in-process."""
    global _cache, _ttl
    _cache = RedisCache(redis_url) if redis_url else MemoryCache()
    _ttl = ttl


def status() -> dict:
    return _cache.status()


def store_down_since() -> float | None:
    """Epoch seconds since when cached reads have found the store unreachable (None: it answered last time)."""
    return _store_down_since


def _mark_store(up: bool) -> None:
    global _store_down_since
    if up:
        if _store_down_since is not None:
            log.warning("store reachable again after %.0f s", time.time() - _store_down_since)
        _store_down_since = None
    elif _store_down_since is None:
        _store_down_since = time.time()
        log.warning("store unreachable: cached reads answer with the last data they computed")


def cached_read(func: Callable | None = None, *, topic: str | None = None) -> Callable:
    """Cache a read-side function whose first argument is an Engine, keyed by its args and the data version.

    With `topic`, the key holds only that topic's version (e.g. "health": recomputed when the scoring
    job writes, not at every ingest poll), for costly reads that need be no fresher than that job.
    Each computed value is also kept under a version-less key for STALE_TTL_S: the answer while the
    store is unreachable (see the module docstring)."""
    if func is None:
        return functools.partial(cached_read, topic=topic)

    @functools.wraps(func)
    def wrapper(engine, *args, **kwargs):
        call = (func.__module__, func.__qualname__, str(engine.url), topic, args, sorted(kwargs.items()))
        last_key = "dash:last:" + hashlib.sha256(repr(call).encode()).hexdigest()
        try:
            version = topic_version(engine, topic) if topic else data_version(engine)
            key = "dash:read:" + hashlib.sha256(repr((*call, version)).encode()).hexdigest()
            value = _cache.get(key)
            if value is _MISSING:
                value = func(engine, *args, **kwargs)
                _cache.set(key, value, _ttl)
                _cache.set(last_key, value, max(_ttl, STALE_TTL_S))
        except Exception as exc:
            if not store_unreachable(exc):
                raise
            _mark_store(up=False)
            value = _cache.get(last_key)
            if value is _MISSING:
                raise
            return value
        _mark_store(up=True)
        return value
    wrapper.uncached = func
    return wrapper
