"""Every job, defined once: name -> the function that loads inputs, calls a pure service, writes outputs.

A job function takes a JobContext and returns a JSON-able summary dict. workers/tasks.py wraps
each one as a Celery task; workers/schedule.py says how often each runs.
Targets are "module:function" strings so that importing this registry stays cheap.
"""
from __future__ import annotations

from dataclasses import dataclass

JOBS: dict[str, str] = {
    "ingest": "services.jobs.ingest:run",
    "score": "services.jobs.health:run",
    "overview": "services.jobs.overview:run",
    "first-session": "services.jobs.first_session:run",
    "detect": "services.jobs.anomaly:run",
    "train-forecast": "services.jobs.forecast:train",
    "forecast": "services.jobs.forecast:run",
    "supply": "services.jobs.supply:run",
    "recommend": "services.jobs.recommend:run",
    "notify": "services.jobs.notify:run",
    "train-churn": "services.jobs.churn:train",
    "churn": "services.jobs.churn:predict",
}

# Celery task names, <domain>.<verb>
TASK_NAMES: dict[str, str] = {
    "ingest": "ingest.poll",
    "score": "health.score",
    "overview": "overview.refresh",
    "first-session": "first_session.refresh",
    "detect": "anomaly.detect",
    "train-forecast": "forecast.train",
    "forecast": "forecast.refresh",
    "supply": "supply.refresh",
    "recommend": "recommendations.refresh",
    "notify": "alerts.notify",
    "train-churn": "churn.train",
    "churn": "churn.predict",
}


@dataclass(frozen=True)
class JobSpec:
    name: str
    target: str
    task_name: str


def job_specs() -> list[JobSpec]:
    return [JobSpec(n, t, TASK_NAMES.get(n, f"{n}.run")) for n, t in JOBS.items()]
