"""One Settings object, read from environment variables.

Embedded defaults need no variable at all: SQLite under var/, in-process cache and
schedule, the live synthetic marketplace. Production sets DATABASE_URL and REDIS_URL.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent
VAR_DIR = Path(os.environ.get("VAR_DIR", ROOT / "var"))


class ConfigError(RuntimeError):
    """Raised at start when the configuration cannot work (e.g. production without a secret)."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    # where things live
    database_url: str = ""
    redis_url: str = ""
    var_dir: Path = VAR_DIR
    secret_key: str = ""
    host: str = "127.0.0.1"
    port: int = 8050
    testing: bool = False
    log_level: str = "INFO"
    log_format: str = "text"  # "json" for structured logs (one JSON object per line)

    # sources: comma-separated adapter URIs, e.g. "synthetic", "csv:/data", "rails:postgresql://..."
    sources: str = "synthetic"
    calls_api_url: str = ""
    calls_api_token: str = ""
    source_retries: int = 4
    source_backoff_s: float = 1.0
    stale_after_s: int = 900

    # demo marketplace
    demo_customers: int = 5000
    demo_days: int = 180
    demo_seed: int = 42
    live_synthetic: bool = True

    # pages
    refresh_seconds: int = 30
    sessions_daily_target: float = 0  # 0: the mean of the same weekday over the previous 4 weeks
    kpi_thresholds: str = ""  # JSON overrides of services.marketplace.DEFAULT_THRESHOLDS
    demo_admin_email: str = "admin@example.com"
    demo_admin_password: str = ""
    login_max_attempts: int = 5
    login_window_s: int = 300
    cache_ttl_s: int = 900

    # mail and slack
    mail_server: str = "127.0.0.1"
    mail_port: int = 25
    mail_use_tls: bool = False
    mail_username: str = ""
    mail_password: str = ""
    mail_sender: str = "dashboard@localhost"
    mail_enabled: bool = False
    alert_recipients: str = ""  # "role:email,email;role:email" e.g. "ops:a@x.com,b@x.com;cs:c@x.com"
    slack_webhook_url: str = ""
    mail_timeout_s: float = 15.0
    # absolute base of links in emails and Slack posts; empty: http://HOST:PORT (see base_url())
    public_url: str = ""
    # who gets which alerts: alert type -> roles; "critical" -> roles that also get every critical alert.
    # Recipients of a role: the active users with that role plus alert_recipients' entries for it.
    # From the environment as JSON, e.g. ALERT_ROUTES='{"customer_risk": ["cs", "ops"], "critical": ["admin"]}'
    alert_routes: dict[str, list[str]] = {
        "customer_risk": ["cs"], "supply_demand": ["recruiter"], "tutor_performance": ["ops"],
        "anomaly": ["ops"], "data_quality": ["ops"], "critical": ["admin"]}
    notify_lookback_hours: int = 24  # alerts older than this are never emailed (e.g. after a long outage)
    notify_max_attempts: int = 6  # a failed send is retried after 1, 2, 4, 8, 16 min, then given up
    notify_backoff_s: int = 60

    # first-session alerts (services/jobs/first_session.py)
    tutor_decline_min_first_sessions: int = 5  # rated first sessions needed in each of the two weeks compared
    tutor_decline_points: float = 20  # week-over-week drop in success rate, in points, that raises an alert
    subject_success_threshold: float = 0.60  # a subject below this first-session success rate (28 days) alerts

    # customer health (services/jobs/health.py)
    score_interval_s: int = 900  # how often the scoring job runs (read by workers/schedule.py at import)
    health_weights: str = ""  # JSON overrides of services.health_config.HealthConfig, e.g. '{"weights": {...}}'
    velocity_benchmark: float = 2.0  # sessions/week the velocity page compares cohorts with

    # embedded scheduler
    embedded_scheduler: bool = True

    @field_validator("var_dir", mode="before")
    @classmethod
    def _path(cls, value):
        return Path(value)

    # derived
    @property
    def embedded(self) -> bool:
        """True when no production services are configured."""
        return not self.redis_url

    @property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.var_dir / 'dashboard.db'}"

    @property
    def is_sqlite(self) -> bool:
        return self.db_url.startswith("sqlite")

    def base_url(self) -> str:
        """Absolute URL the app is reached at, for links in messages."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    def source_uris(self) -> list[str]:
        return [s.strip() for s in self.sources.split(",") if s.strip()]

    def resolved_secret_key(self) -> str:
        """SECRET_KEY from the environment; embedded mode generates one and keeps it under var/."""
        if self.secret_key:
            return self.secret_key
        if not self.embedded and not self.testing:
            raise ConfigError("SECRET_KEY must be set in production mode (REDIS_URL is set).")
        path = self.var_dir / "secret_key"
        self.var_dir.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            path.write_text(secrets.token_hex(32))
            path.chmod(0o600)
        return path.read_text().strip()


def get_settings(**overrides) -> Settings:
    """Settings from the environment, with explicit overrides (tests pass their own)."""
    return Settings(**overrides)
