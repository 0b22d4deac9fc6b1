"""History from the first minute, by itself: the backfill (jobs/backfill) starts without anyone asking when the
store holds past data but no derived history of it (the demo after `make run`, a real source's first ingest).

Embedded mode: the scheduler asks at start and, while the store holds no past data yet, every CHECK_EVERY_S
until it does; then runs it in a thread of its own (never in a lane: the schedule goes on). Production: the
catch-up (workers/catchup.py, at deploy and every CATCHUP_EVERY_S) sends its task. Either way the claim is
written to the audit log first (action history.backfill, no user), so it is asked for once: later checks, in
any process, see the claim, the run, or the history, and leave it.
"""
from __future__ import annotations

from datetime import datetime

from auth import audit
from config import Settings
from infra.clock import utcnow
from jobs.backfill.days import ASKED, JOB, backfill_state
from models.base import get_engine

CHECK_EVERY_S = 60


def state(settings: Settings, at: datetime | None = None) -> str:
    """backfill_state of the store: "needed", "no data", "done"; "off" when BACKFILL_AUTO is false."""
    if not settings.backfill_auto:
        return "off"
    return backfill_state(get_engine(settings.db_url), at or utcnow(), settings.backfill_weeks)


def record_claim(settings: Settings) -> None:
    """Write the claim to the audit log (no user): from now on every check says "done"."""
    audit.record(get_engine(settings.db_url), ASKED, user_email=None, entity="history", entity_id=JOB,
                 detail={"job": JOB, "by": "auto-start: past data without history"})


def claim(settings: Settings, at: datetime | None = None) -> str:
    """state(); when "needed", the claim is recorded and this caller must start the job now."""
    found = state(settings, at)
    if found == "needed":
        record_claim(settings)
    return found
