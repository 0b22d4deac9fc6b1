"""Progress of a long job, reported from wherever the work is without passing a callback down.

The job runner installs a hook (it writes the fraction and step into the run's job_runs row, so a page
polling the run shows it, whichever process runs the job); code deep in a job calls `report`.
"""
from __future__ import annotations

import contextvars
from contextlib import contextmanager
from typing import Callable, Iterator

Hook = Callable[[float, str], None]
_hook: contextvars.ContextVar[Hook | None] = contextvars.ContextVar("job_progress", default=None)


def report(fraction: float, step: str) -> None:
    """Say how far the current job is (0..1) and what it is doing; a no-op outside a reporting run."""
    hook = _hook.get()
    if hook is not None:
        hook(min(max(float(fraction), 0.0), 1.0), step)


@contextmanager
def reporting_to(hook: Hook | None) -> Iterator[None]:
    """Route `report` calls made inside the block to `hook`."""
    token = _hook.set(hook)
    try:
        yield
    finally:
        _hook.reset(token)


@contextmanager
def scaled(start: float, end: float) -> Iterator[None]:
    """Inside the block, a reported 0..1 maps to start..end of the enclosing report (a job run as one step
    of another)."""
    outer = _hook.get()
    with reporting_to(None if outer is None else (lambda f, step: outer(start + (end - start) * f, step))):
        yield


def reporting() -> bool:
    """True inside a block whose reports go somewhere (a nested job then reports to its caller's run)."""
    return _hook.get() is not None
