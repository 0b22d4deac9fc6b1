"""Retry with exponential backoff for calls to sources and delivery channels."""
from __future__ import annotations

import logging
import time
from typing import Callable, TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)


def with_retries(func: Callable[[], T], retries: int, backoff_s: float,
                 retry_on: tuple[type[BaseException], ...], what: str = "call",
                 give_up_on: tuple[type[BaseException], ...] = ()) -> T:
    """Call func; on an exception in retry_on wait backoff_s * 2**attempt and try again, up to `retries` more times.

    Exceptions in give_up_on (e.g. a refused token: waiting will not help) are raised at once.
    """
    attempt = 0
    while True:
        try:
            return func()
        except retry_on as exc:
            if attempt >= retries or isinstance(exc, give_up_on):
                raise
            delay = backoff_s * (2 ** attempt)
            log.warning("%s failed (%s); retry %d/%d in %.1fs", what, exc, attempt + 1, retries, delay)
            time.sleep(delay)
            attempt += 1
