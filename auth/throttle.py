"""Sign-in throttling that parallel requests cannot race: a password is checked only after a slot was
taken atomically, per email and per IP.

A slot is taken before the (slow, scrypt) password check and given back when the sign-in succeeds, so the
count is failures plus checks in flight: 100 parallel wrong passwords get at most `limit` checks. With
Redis (production, several processes) the slots are INCR counters that expire with the window; in embedded
mode (one process) they are the failures in the audit log plus the checks in flight, under a lock.
"""
from __future__ import annotations

import logging
import threading
from datetime import timedelta

from sqlalchemy.engine import Engine

from auth import audit
from infra.clock import utcnow

log = logging.getLogger(__name__)
IP_FACTOR = 4  # one office behind one address: more room per IP than per email


class Throttle:
    """take(email, ip) -> True when a password may be checked; give_back after a successful sign-in."""

    def __init__(self, limit: int, window_s: int):
        self.limit, self.window_s = limit, window_s

    def take(self, email: str, ip: str) -> bool:  # pragma: no cover - interface
        raise NotImplementedError

    def give_back(self, email: str, ip: str) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def done(self, email: str, ip: str) -> None:
        """The check of a taken slot is over (its failure, if any, is recorded by the caller)."""


class RedisThrottle(Throttle):
    _TAKE = """
    local e = redis.call('INCR', KEYS[1]); if e == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
    local i = redis.call('INCR', KEYS[2]); if i == 1 then redis.call('EXPIRE', KEYS[2], ARGV[1]) end
    if e > tonumber(ARGV[2]) or i > tonumber(ARGV[3]) then
        redis.call('DECR', KEYS[1]); redis.call('DECR', KEYS[2]); return 0
    end
    return 1
    """
    _GIVE = """
    for _, key in ipairs(KEYS) do
        if tonumber(redis.call('GET', key) or '0') > 0 then redis.call('DECR', key) end
    end
    return 1
    """

    def __init__(self, redis_url: str, limit: int, window_s: int, fallback: Throttle):
        super().__init__(limit, window_s)
        import redis
        self.client = redis.Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)
        self.fallback = fallback  # Redis down: sign-in goes on, throttled per process from the audit log
        self.local = threading.local()
        self.script = self.client.register_script(self._TAKE)
        self.give = self.client.register_script(self._GIVE)

    @staticmethod
    def _keys(email: str, ip: str) -> list[str]:
        return [f"login:email:{email}", f"login:ip:{ip}"]

    def take(self, email: str, ip: str) -> bool:
        from redis.exceptions import RedisError
        self.local.fallback = False
        try:
            return bool(self.script(keys=self._keys(email, ip), args=[self.window_s, self.limit, IP_FACTOR * self.limit]))
        except RedisError as exc:
            log.warning("sign-in throttle: Redis unreachable (%s); counting in this process", type(exc).__name__)
            self.local.fallback = True
            return self.fallback.take(email, ip)

    def give_back(self, email: str, ip: str) -> None:
        from redis.exceptions import RedisError
        if getattr(self.local, "fallback", False):
            return
        try:
            self.give(keys=self._keys(email, ip))  # never below 0, never a key without its expiry
        except RedisError:
            pass  # the slot expires with the window

    def done(self, email: str, ip: str) -> None:
        if getattr(self.local, "fallback", False):
            self.fallback.done(email, ip)


class LocalThrottle(Throttle):
    """Embedded mode: failures recorded in the audit log (they survive a restart) plus checks in flight."""

    def __init__(self, engine: Engine, limit: int, window_s: int):
        super().__init__(limit, window_s)
        self.engine = engine
        self.lock = threading.Lock()
        self.in_flight: dict[str, int] = {}

    def take(self, email: str, ip: str) -> bool:
        since = utcnow() - timedelta(seconds=self.window_s)
        keys = (f"e:{email}", f"i:{ip}")
        with self.lock:
            by_email = audit.recent_count(self.engine, "login.failed", since, user_email=email)
            by_ip = audit.recent_count(self.engine, "login.failed", since, entity_id=ip)
            if (by_email + self.in_flight.get(keys[0], 0) >= self.limit
                    or by_ip + self.in_flight.get(keys[1], 0) >= IP_FACTOR * self.limit):
                return False
            for key in keys:
                self.in_flight[key] = self.in_flight.get(key, 0) + 1
            return True

    def done(self, email: str, ip: str) -> None:
        with self.lock:
            for key in (f"e:{email}", f"i:{ip}"):
                left = self.in_flight.get(key, 0) - 1
                if left > 0:
                    self.in_flight[key] = left
                else:
                    self.in_flight.pop(key, None)

    def give_back(self, email: str, ip: str) -> None:
        """Nothing to give back: a success leaves no failure in the audit log."""


_throttles: dict[tuple, Throttle] = {}
_guard = threading.Lock()


def throttle_for(settings, engine: Engine) -> Throttle:
    """One throttle per configuration per process (Redis when REDIS_URL is set)."""
    key = (settings.redis_url, settings.db_url, settings.login_max_attempts, settings.login_window_s)
    with _guard:
        if key not in _throttles:
            local = LocalThrottle(engine, settings.login_max_attempts, settings.login_window_s)
            _throttles[key] = (RedisThrottle(settings.redis_url, settings.login_max_attempts, settings.login_window_s,
                                             local) if settings.redis_url else local)
        return _throttles[key]

