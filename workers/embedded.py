"""In-process scheduler for embedded mode: runs workers/schedule.py's jobs in a daemon thread."""
from __future__ import annotations

import logging
import threading
import time

from config import Settings
from services.jobs import JOBS
from services.jobs.runner import JobBusy, run_job
from workers.schedule import SCHEDULE

log = logging.getLogger(__name__)


class EmbeddedScheduler:
    def __init__(self, settings: Settings, schedule: dict[str, int] | None = None, tick_s: float = 1.0):
        self.settings = settings
        self.schedule = {n: s for n, s in (schedule or SCHEDULE).items() if n in JOBS}
        self.tick_s = tick_s
        self._next: dict[str, float] = {n: 0.0 for n in self.schedule}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> "EmbeddedScheduler":
        self._thread = threading.Thread(target=self._loop, name="embedded-scheduler", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=30)

    def run_due(self) -> list[str]:
        """Run every job whose time has come, in schedule order; return their names."""
        ran = []
        for name, every in self.schedule.items():
            if self._stop.is_set() or time.monotonic() < self._next[name]:
                continue
            self._next[name] = time.monotonic() + every
            try:
                run_job(name, self.settings)
                ran.append(name)
            except JobBusy:
                pass
            except Exception:  # recorded in job_runs by run_job; keep the loop alive
                log.warning("embedded job %s failed; will retry at its next slot", name)
        return ran

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.run_due()
            self._stop.wait(self.tick_s)
