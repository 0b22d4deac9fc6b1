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
    clock_skew_s: int = 3600  # a source time later than the poll by more than this is bad input (quarantined)
    reconcile_interval_s: int = 3600  # how often a source's ids are compared with the store's (deleted rows)
    reconcile_max_delete_share: float = 0.5  # a reconciliation that would delete more than this share refuses

    # demo marketplace
    demo_customers: int = 5000
    demo_days: int = 180
    demo_seed: int = 42
    live_synthetic: bool = True

    # pages
    refresh_seconds: int = 30
    sessions_daily_target: float = 0  # 0: the mean of the same weekday over the previous 4 weeks
    kpi_thresholds: str = ""  # JSON overrides of domain.marketplace.DEFAULT_THRESHOLDS
    demo_admin_email: str = "admin@example.com"
    demo_admin_password: str = ""
    login_max_attempts: int = 5  # failed sign-ins per email in the window (per IP: 4x this)
    login_window_s: int = 300
    session_hours: int = 12  # a sign-in lasts this long at most (sign-out ends it at once, everywhere)
    # Secure flag on the session cookie (only sent over HTTPS); empty: on in production, off in embedded mode
    secure_cookies: bool | None = None
    hsts_seconds: int = 31536000  # Strict-Transport-Security max-age when cookies are Secure (0 = no header)
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

    # demand forecast, supply alerts, recommendations (jobs/demand/forecast.py, supply.py, recommend.py)
    forecast_subjects: str = ""  # comma-separated; empty: the contract's subjects plus any booked in the window
    forecast_train_days: int = 90  # history the model is fitted on
    # Demand's daily shapes, weekdays and holidays are read in this zone. Default: US Eastern standard time all
    # year (UTC-5, no DST jump), because tutor_availability is stored in UTC hours and bookings follow it: a
    # DST-following zone moves forecast demand into hours no tutor offers for the weeks after each change.
    # Use an IANA zone with DST (America/New_York) when availability is kept in local time.
    marketplace_tz: str = "Etc/GMT+5"
    marketplace_holidays: str = "US"  # holiday calendar (country code of the `holidays` package); "none" for none
    forecast_retrain_days: int = 7  # a stored model older than this is refitted by the hourly job
    forecast_judge_days: int = 14  # scored runs of this many days decide model vs baseline as the forecast of record
    forecast_keep_days: int = 90  # demand_forecasts rows: every run for 8 days, then the day's first run up to this
    supply_min_open_demand: float = 0.25  # hours with less open demand (sessions) are not judged short or surplus
    shortage_lead_h: int = 12  # recruiting alerts only for shortages at least this far ahead
    shortage_min_missing: float = 1.0  # a shortage window must miss at least this many sessions to alert
    surplus_alert_min_hours: int = 24  # surplus hours (coverage > 130 %) in the week that make a campaign alert
    revenue_per_session: float = 45.0  # $ per session held, for recommendation ROI
    recommend_roi_weeks: int = 8  # ROI horizon of a hire or a cut (domain/recruiting_roi.py)
    recommend_onboarding_weeks: int = 1  # a new tutor serves from the week after this many
    recommend_tutor_retention_weekly: float = 0.97  # share of new tutors still active each next week
    recommendation_ttl_h: int = 72  # a pending recommendation expires after this; also the cool-down after a decision
    recommendation_daily_cap: int = 10  # new recommendations per rolling 24 h, highest priority first
    recommend_shortage_gap: float = 0.20  # demand above supply by this share in the short hours -> raise budget
    recommend_budget_raise: float = 0.15
    recommend_surplus_gap: float = 0.30  # supply above demand by more than this in every judged hour -> cut spend
    recommend_budget_cut: float = 0.20
    recommend_growth: float = 0.30  # week-over-week demand growth above this -> priority subject
    recommend_growth_min_sessions: int = 20  # sessions in the earlier week needed to judge growth
    recommend_min_success: float = 0.60  # first-session success (28 days) below this -> pause onboarding
    recommend_success_min_rated: int = 20  # rated first sessions needed to judge success
    recommend_min_shortfall: float = 1.0  # sessions short in the week needed for a budget raise

    # first-session alerts (jobs/first_session.py)
    tutor_decline_min_first_sessions: int = 5  # rated first sessions needed in each of the two weeks compared
    tutor_decline_points: float = 20  # week-over-week drop in success rate, in points, that raises an alert
    subject_success_threshold: float = 0.60  # a subject below this first-session success rate (28 days) alerts

    # customer health (jobs/customers/health.py)
    score_interval_s: int = 900  # how often the scoring job runs (read by jobs/table.py at import)
    health_weights: str = ""  # JSON overrides of domain.customers.health_config.HealthConfig, e.g. '{"weights": {...}}'
    velocity_benchmark: float = 2.0  # sessions/week the velocity page compares cohorts with

    # embedded scheduler
    embedded_scheduler: bool = True

    # history from the first minute (jobs/backfill): weeks of past days to compute the derived histories for, and
    # whether the app (embedded scheduler) or a deploy (production catch-up) starts it by itself, once, on a
    # store that holds past data but no history of it
    backfill_weeks: int = 12
    backfill_auto: bool = True

    # Celery (production mode): a task whose worker died before acknowledging it is handed out again after
    # this many seconds; 0 = derived from jobs/table.py (the longest time limit of the jobs that run at
    # least hourly, plus a minute; see README "Workers: time limits and redelivery")
    celery_visibility_timeout_s: int = 0
    # production: at beat start (and every catchup_every_s) every job whose output is missing or stale is sent
    catchup_every_s: int = 300
    # a pool process left above this resident size by a task is replaced after it (pandas rarely hands
    # memory back): the big weekly/daily fits don't pin gigabytes in an idle worker; 0 = never
    celery_max_memory_per_child_mb: int = 2048

    @field_validator("secure_cookies", mode="before")
    @classmethod
    def _optional_bool(cls, value):
        return None if value in ("", None) else value

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
    def cookies_secure(self) -> bool:
        """SECURE_COOKIES, else on in production (served behind HTTPS) and off in embedded mode (http://localhost)."""
        return (not self.embedded) if self.secure_cookies is None else bool(self.secure_cookies)

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

    def make_var_dir(self) -> None:
        """var/ holds the SQLite store, the secret key and the demo password: its owner's only (0700)."""
        self.var_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            if self.var_dir.stat().st_uid == os.getuid() and self.var_dir.stat().st_mode & 0o077:
                self.var_dir.chmod(0o700)
        except OSError:
            pass

    def resolved_secret_key(self) -> str:
        """SECRET_KEY from the environment; embedded mode generates one and keeps it under var/."""
        if self.secret_key:
            return self.secret_key
        if not self.embedded and not self.testing:
            raise ConfigError("SECRET_KEY must be set in production mode (REDIS_URL is set).")
        path = self.var_dir / "secret_key"
        self.make_var_dir()
        if not path.exists():
            write_private(path, secrets.token_hex(32), keep_existing=True)
        return path.read_text().strip()


def write_private(path: Path, text: str, keep_existing: bool = False) -> None:
    """Write `path` readable by its owner only, 0600 from the first byte (no window where it is 0644), and
    complete when it appears. keep_existing: a file another process created meanwhile wins (secret key)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)  # the umask cannot widen it, but make sure
        os.write(fd, text.encode())
    finally:
        os.close(fd)
    if not keep_existing:
        os.replace(tmp, path)
        return
    try:
        os.link(tmp, path)  # atomic, and refuses to replace
    except FileExistsError:
        pass
    finally:
        os.unlink(tmp)


def get_settings(**overrides) -> Settings:
    """Settings from the environment, with explicit overrides (tests pass their own)."""
    return Settings(**overrides)
