"""In-process scheduler for embedded mode: runs jobs/table.py's jobs in daemon threads.

Two lanes, so that a long job (weekly model training, hourly forecasts) never holds up the
frequent ones (ingest every 15 s, overview, alert delivery): jobs due at most every
FAST_LANE_MAX_S run in the fast lane, the rest in the slow lane. Each lane runs its jobs in
schedule order. A third thread starts the backfill of derived histories once, when the store holds past
data without history (workers/autostart.py), and then ends.
"""
from __future__ import annotations

import logging
import threading
import time

from config import Settings
from jobs.runner import JobBusy, run_job
from jobs.table import FAST_LANE_MAX_S, scheduled_jobs
from workers import autostart

log = logging.getLogger(__name__)


class EmbeddedScheduler:
    def __init__(self, settings: Settings, schedule: dict[str, int] | None = None, tick_s: float = 1.0):
        self.settings = settings
        self.schedule = schedule or scheduled_jobs()
        self.tick_s = tick_s
        self._next: dict[str, float] = {n: 0.0 for n in self.schedule}
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.backfill: threading.Thread | None = None  # the auto-start's thread (tests join it)

    def lanes(self) -> dict[str, list[str]]:
        fast = [n for n, every in self.schedule.items() if every <= FAST_LANE_MAX_S]
        slow = [n for n in self.schedule if n not in fast]
        return {"fast": fast, "slow": slow}

    def start(self) -> "EmbeddedScheduler":
        for lane, names in self.lanes().items():
            if names:
                thread = threading.Thread(target=self._loop, args=(names,), name=f"embedded-{lane}", daemon=True)
                thread.start()
                self._threads.append(thread)
        if self.settings.backfill_auto:
            self.backfill = threading.Thread(target=self._backfill_once, name="embedded-backfill", daemon=True)
            self.backfill.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)

    def run_due(self, names: list[str] | None = None) -> list[str]:
        """Run every job (of `names`) whose time has come, in schedule order; return their names."""
        ran = []
        for name in names or list(self.schedule):
            if self._stop.is_set() or time.monotonic() < self._next[name]:
                continue
            self._next[name] = time.monotonic() + self.schedule[name]
            try:
                run_job(name, self.settings)
                ran.append(name)
            except JobBusy:
                pass
            except Exception:  # recorded in job_runs by run_job; keep the loop alive
                log.warning("embedded job %s failed; will retry at its next slot", name)
        return ran

    def _backfill_once(self) -> None:
        """Claim and run the backfill if the store needs it; while it holds no past data yet, ask again every
        CHECK_EVERY_S (a real source's first ingest); stop once it ran or is not needed."""
        while not self._stop.is_set():
            try:
                state = autostart.claim(self.settings)
            except Exception:  # the store unreachable at boot: ask again later
                log.warning("could not check whether the history needs a backfill; will ask again")
                state = "no data"
            if state == "needed":
                try:
                    run_job("backfill", self.settings)
                except JobBusy:
                    pass
                except Exception:  # recorded in job_runs by run_job; the button on the overview retries
                    log.warning("the automatic backfill failed")
                return
            if state != "no data":
                return
            self._stop.wait(autostart.CHECK_EVERY_S)

    def _loop(self, names: list[str]) -> None:
        while not self._stop.is_set():
            self.run_due(names)
            self._stop.wait(self.tick_s)
