"""The one table of jobs: name, function, Celery task, schedule, lane and time limit.

Read by Celery beat (workers/celery_app.py), the Celery tasks (workers/tasks.py), the embedded
scheduler (workers/embedded.py), `manage.py run-jobs` and the one door pages and the API use to
start work (workers/door.py). Targets are "module:function" strings so that importing the table stays
cheap: a job module is imported only when its job runs.

A job function takes a JobContext and returns a JSON-able summary dict. Order matters for
`run-jobs` with no names: ingestion first, then what builds on it.
"""
from __future__ import annotations

from dataclasses import dataclass

from config import get_settings

FAST_LANE_MAX_S = 300  # jobs due at least this often share the fast lane; longer ones never hold them up


@dataclass(frozen=True)
class JobSpec:
    name: str
    target: str  # "module:function"
    task_name: str  # Celery task, <domain>.<verb>
    every_s: int  # seconds between scheduled runs; 0: only when someone starts it
    time_limit_s: int  # hard limit of one run on a worker (the soft limit is 90 % of it)
    why: str = ""

    @property
    def scheduled(self) -> bool:
        return self.every_s > 0

    @property
    def lane(self) -> str:
        return "fast" if self.every_s <= FAST_LANE_MAX_S else "slow"


def _setting(name: str) -> int:
    """An interval from Settings (environment or its default), read once at import."""
    return int(getattr(get_settings(), name))


JOB_TABLE: tuple[JobSpec, ...] = (
    JobSpec("ingest", "jobs.ingest:run", "ingest.poll", 15, 600,
            "a source change reaches open pages within ~20 s"),
    JobSpec("score", "jobs.customers.health:run", "health.score", _setting("score_interval_s"), 900,
            "health scores, history and trigger alerts (default every 900 s)"),
    JobSpec("overview", "jobs.overview:run", "overview.refresh", 15, 120, "overview cards"),
    JobSpec("first-session", "jobs.first_session:run", "first_session.refresh", 3600, 900,
            "first-session statistics and tutor/subject/region alerts"),
    JobSpec("detect", "jobs.anomaly:run", "anomaly.detect", 300, 240,
            "anomaly detection on every metric stream; one alert per incident"),
    JobSpec("train-forecast", "jobs.demand.forecast:train", "forecast.train", 604800, 1800,
            "weekly refit of every subject's demand model (before forecast, so a fresh start fits once)"),
    JobSpec("forecast", "jobs.demand.forecast:run", "forecast.refresh", 3600, 600,
            "hourly 168 h demand forecast per subject with the stored models; scores past runs"),
    JobSpec("supply", "jobs.demand.supply:run", "supply.refresh", 3600, 600,
            "after forecast: coverage by subject and region, shortage/capacity/surplus alerts"),
    JobSpec("recommend", "jobs.demand.recommend:run", "recommendations.refresh", 3600, 600,
            "recruiting recommendations (at most recommendation_daily_cap a day)"),
    JobSpec("worklist", "jobs.customers.worklist:run", "worklist.update", 300, 300,
            "CS worklist: follow-ups that came due reopen, customers needing attention get an owner"),
    JobSpec("queue-email", "jobs.customers.worklist:morning", "worklist.email", 3600, 300,
            "each CS agent's morning email of their queue (once a day, from 07:00 UTC; sent by notify)"),
    JobSpec("notify", "jobs.notify:run", "alerts.notify", 60, 120,
            "alert email/Slack: criticals within a minute, digests hourly; retries with backoff"),
    JobSpec("train-churn", "jobs.customers.churn:train", "churn.train", 604800, 3600,
            "weekly refit of the churn model (also scores at once)"),
    JobSpec("churn", "jobs.customers.churn:predict", "churn.predict", 86400, 900,
            "daily churn risk, explanations and history with the active model"),
    # started by people (through jobs/door.py), never on a schedule
    JobSpec("backfill", "jobs.backfill:run", "history.backfill", 0, 3600,
            "history from the first minute: health, first-session, overview, churn-risk and forecast-accuracy "
            "histories as of each past day (started by itself once on a store with past data and no history)"),
    JobSpec("retrain-forecast", "jobs.demand.forecast:retrain", "forecast.retrain", 0, 2400,
            "Retrain now on the forecast page: train-forecast, then supply and recommend"),
)

JOBS: dict[str, JobSpec] = {spec.name: spec for spec in JOB_TABLE}


def job(name: str) -> JobSpec:
    """The spec of job `name`; KeyError with the known names otherwise."""
    if name not in JOBS:
        raise KeyError(f"unknown job {name!r}; known: {', '.join(JOBS)}")
    return JOBS[name]


def beat_schedule() -> dict:
    """Celery beat entries, one per job."""
    return {spec.name: {"task": spec.task_name, "schedule": float(spec.every_s)} for spec in JOB_TABLE if spec.scheduled}


def visibility_timeout_s() -> int:
    """How long Redis keeps a delivered, unacknowledged task before handing it out again (its worker is
    presumed dead): the longest time limit of the jobs that run at least hourly, plus a minute. A killed
    worker's hourly-or-more-frequent job is then redone within ~16 minutes, not an hour. A longer job (the
    weekly fits, the retrain) outlives it: its redelivered copy finds the job's lock held and returns at once
    ("already running"), and if that worker dies too, the catch-up (workers/catchup.py) sends it again."""
    return max(spec.time_limit_s for spec in JOB_TABLE if 0 < spec.every_s <= 3600) + 60


def scheduled_jobs() -> dict[str, int]:
    """name -> seconds between runs, in table order, for the embedded scheduler and `run-jobs`."""
    return {spec.name: spec.every_s for spec in JOB_TABLE if spec.scheduled}
