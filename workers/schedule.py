"""The one schedule: job name -> seconds between runs. Celery beat and the embedded scheduler both read it.

Order matters for `run-jobs` with no names: ingestion first, then what builds on it.
"""
from __future__ import annotations


def _setting(name: str) -> int:
    """An interval from Settings (environment or its default), read once at import."""
    from config import get_settings
    return int(getattr(get_settings(), name))


SCHEDULE: dict[str, int] = {
    "ingest": 15,  # a source change reaches open pages within ~20 s
    "score": _setting("score_interval_s"),  # health scores, history and trigger alerts (default 900 s)
    "overview": 15,
    "first-session": 3600,  # first-session statistics and tutor/subject/region alerts
    "detect": 300,  # anomaly detection on every metric stream; one alert per incident
    "train-forecast": 604800,  # weekly: refit every subject's demand model (before "forecast" so a fresh start fits once)
    "forecast": 3600,  # hourly: 168 h demand forecast per subject with the stored models; scores past runs
    "supply": 3600,  # hourly, after forecast: coverage by subject and region, shortage/capacity/surplus alerts
    "recommend": 3600,  # hourly: recruiting recommendations (at most recommendation_daily_cap a day)
    "notify": 60,  # alert email/Slack: criticals within a minute, digests hourly; retries with backoff
    "train-churn": 604800,  # weekly: refit the churn model on the last 6 months (also scores at once)
    "churn": 86400,  # daily: churn risk, explanations and history with the active model
}


def beat_schedule() -> dict:
    """Celery beat entries built from SCHEDULE."""
    from services.jobs import TASK_NAMES
    return {
        name: {"task": TASK_NAMES.get(name, f"{name}.run"), "schedule": float(every)}
        for name, every in SCHEDULE.items()
    }
