"""Operations hardening of issue #14 (real SQLite, PostgreSQL and Redis): retrain role check and audit, the
catch-up of stale jobs at deploy, redelivery sized to the jobs, the dead-broker answer, runs that say what
they had committed."""
from __future__ import annotations

import base64
import json
import logging
from datetime import timedelta

import pytest
from sqlalchemy import insert, select

from auth import accounts
from auth.permissions import NotAllowed
from infra.clock import utcnow
from infra.versions import bump_version, recording_commits
from jobs.runner import run_job
from jobs.table import JOB_TABLE, visibility_timeout_s
from models.base import get_engine
from models.ops import AuditLog, JobRun, JobRunCommit
from tests.conftest import REDIS_TEST_URL, make_settings
from workers import door
from workers.catchup import send_stale, stale_jobs

DEAD_BROKER = "redis://127.0.0.1:1/0"


def audit_actions(settings) -> list[str]:
    with get_engine(settings.db_url).connect() as conn:
        return list(conn.execute(select(AuditLog.action).order_by(AuditLog.id)).scalars())


# 1 -------------------------------------------------------------------------------------------------------

def test_retrain_now_is_refused_to_roles_without_it_and_audit_logged_for_the_rest(settings):
    for role in ("cs", "recruiter"):
        with pytest.raises(NotAllowed, match="admin and ops"):
            door.start("train-churn", settings, f"{role}@example.com", role, "churn.retrain")
    with pytest.raises(NotAllowed):
        door.start("retrain-forecast", settings, "cs@example.com", "cs", "forecast.retrain")
    assert audit_actions(settings) == []
    door.start("train-churn", settings, "ops@example.com", "ops", "churn.retrain")
    door.start("retrain-forecast", settings, "recruiter@example.com", "recruiter", "forecast.retrain")
    with get_engine(settings.db_url).connect() as conn:
        rows = conn.execute(select(AuditLog.action, AuditLog.user_email, AuditLog.entity_id)).all()
    assert [tuple(r) for r in rows] == [("churn.retrain", "ops@example.com", "train-churn"),
                                        ("forecast.retrain", "recruiter@example.com", "retrain-forecast")]


# 12 ------------------------------------------------------------------------------------------------------

def test_retrain_with_the_broker_unreachable_answers_at_once_and_logs_it(tmp_path, caplog):
    from models.schema import upgrade
    settings = make_settings(tmp_path, redis_url=DEAD_BROKER)
    upgrade(settings.db_url)
    with caplog.at_level(logging.ERROR, logger="workers.door"):
        with pytest.raises(door.WorkersUnreachable, match="(?i)background workers are unreachable; try again"):
            door.start("train-churn", settings, "ops@example.com", "ops", "churn.retrain")
    assert any("broker unreachable" in r.getMessage() for r in caplog.records)
    assert audit_actions(settings) == []  # nothing was started, so nothing is recorded as started


def test_retrain_button_with_the_broker_unreachable_says_so_on_the_page(tmp_path):
    import re

    from app import create_app
    from models.schema import upgrade
    from read import cache
    settings = make_settings(tmp_path, redis_url=DEAD_BROKER)
    upgrade(settings.db_url)
    accounts.create_user(get_engine(settings.db_url), "ops@example.com", "ops", "long-enough-pw")
    try:
        client = create_app(settings).server.test_client()
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
        client.post("/login", data={"email": "ops@example.com", "password": "long-enough-pw", "csrf_token": token})
        payload = {"output": "..churn-retrain-run.data...churn-retrain-poll.disabled..",
                   "outputs": [{"id": "churn-retrain-run", "property": "data"},
                               {"id": "churn-retrain-poll", "property": "disabled"}],
                   "inputs": [{"id": "churn-retrain", "property": "n_clicks", "value": 1}], "state": [],
                   "changedPropIds": ["churn-retrain.n_clicks"]}
        response = client.post("/_dash-update-component", data=json.dumps(payload), content_type="application/json")
    finally:
        cache.configure("")
    assert response.status_code == 200
    assert "Background workers are unreachable; try again" in response.get_json()["response"]["churn-retrain-run"]["data"]["error"]


# 11 ------------------------------------------------------------------------------------------------------

def test_visibility_timeout_and_time_limits_are_sized_to_the_jobs(tmp_path):
    from workers.celery_app import make_celery
    from workers.tasks import TASKS
    hourly = [spec for spec in JOB_TABLE if 0 < spec.every_s <= 3600]
    assert visibility_timeout_s() == max(spec.time_limit_s for spec in hourly) + 60 < 3600
    app = make_celery(make_settings(tmp_path, redis_url=REDIS_TEST_URL))
    assert app.conf.broker_transport_options["visibility_timeout"] == visibility_timeout_s()
    for spec in JOB_TABLE:  # each job's task has its own limits, below the next scheduled run where it has one
        task = TASKS[spec.name]
        assert task.time_limit == spec.time_limit_s and task.soft_time_limit == int(spec.time_limit_s * 0.9)
        if spec.every_s >= 60:
            assert spec.time_limit_s <= max(spec.every_s, 600), spec.name
    assert "catchup" in app.conf.beat_schedule


def test_a_page_following_a_run_whose_worker_died_hears_abandoned_at_once(pg_settings):
    engine = get_engine(pg_settings.db_url)
    since = utcnow() - timedelta(seconds=1)
    with engine.begin() as conn:
        run_id = conn.execute(insert(JobRun).values(job="retrain-forecast", started_at=utcnow(), status="running",
                                                    detail=json.dumps({"progress": 0.4, "step": "fitting"}))
                              ).inserted_primary_key[0]
        with recording_commits(run_id):
            bump_version(conn, "forecast_models")
    state = door.state(pg_settings, "retrain-forecast", since)  # nobody holds the job's lock: its worker is gone
    assert state.finished and state.status == "abandoned"
    assert "it had committed 1 write(s): forecast_models" in state.detail["error"]


# 13 ------------------------------------------------------------------------------------------------------

def test_abandoned_runs_say_what_they_had_committed_or_nothing(any_settings):
    engine = get_engine(any_settings.db_url)
    long_ago = utcnow() - timedelta(hours=2)  # SQLite judges a run dead after an hour (its lock is per process)
    with engine.begin() as conn:
        wrote = conn.execute(insert(JobRun).values(job="overview", started_at=long_ago, status="running")
                             ).inserted_primary_key[0]
        silent = conn.execute(insert(JobRun).values(job="overview", started_at=long_ago, status="running")
                              ).inserted_primary_key[0]
    with recording_commits(wrote):  # what the killed run had committed: its notes commit with its data
        for topic in ("health", "health", "alerts"):
            with engine.begin() as conn:
                bump_version(conn, topic)
        with pytest.raises(RuntimeError), engine.begin() as conn:  # a write still open when it was killed
            bump_version(conn, "churn")
            raise RuntimeError("killed mid-write")
    try:
        run_job("overview", any_settings)
    except Exception:  # the empty store may not make an overview; the dead runs are closed first regardless
        pass
    with engine.connect() as conn:
        runs = {r.id: r for r in conn.execute(select(JobRun).where(JobRun.id.in_((wrote, silent))))}
        left = conn.execute(select(JobRunCommit).where(JobRunCommit.run_id.in_((wrote, silent)))).all()
    assert runs[wrote].status == runs[silent].status == "abandoned"
    said = json.loads(runs[wrote].detail)
    assert "it had committed 3 write(s): health (2 writes), alerts" in said["error"] and "churn" not in said["error"]
    assert said["committed"] == {"health": 2, "alerts": 1}
    assert "nothing it wrote was committed" in json.loads(runs[silent].detail)["error"]
    assert left == []  # the notes go with the run


def test_a_finished_run_leaves_no_commit_notes(settings):
    run_job("overview", settings)
    with get_engine(settings.db_url).connect() as conn:
        assert conn.execute(select(JobRunCommit)).all() == []
        assert conn.execute(select(JobRun.status).where(JobRun.job == "overview")).scalar() == "ok"


# 10 ------------------------------------------------------------------------------------------------------

def test_a_fresh_deploy_finds_every_scheduled_job_stale_and_a_running_system_none(settings):
    scheduled = [spec.name for spec in JOB_TABLE if spec.scheduled]
    assert [spec.name for spec in stale_jobs(settings)] == scheduled  # table order: ingest first
    now = utcnow()
    engine = get_engine(settings.db_url)
    with engine.begin() as conn:
        for spec in JOB_TABLE:
            conn.execute(insert(JobRun).values(job=spec.name, started_at=now - timedelta(seconds=30), status="ok"))
    assert stale_jobs(settings) == []
    later = now + timedelta(seconds=3600 + 900 + 60)  # past forecast's interval plus its time limit
    stale = [spec.name for spec in stale_jobs(settings, at=later)]
    assert "forecast" in stale and "train-churn" not in stale and "ingest" in stale
    with engine.begin() as conn:
        conn.execute(insert(JobRun).values(job="forecast", started_at=later, status="running"))
    assert "forecast" not in [spec.name for spec in stale_jobs(settings, at=later)]


def test_catch_up_queues_the_stale_jobs_as_one_chain_in_table_order(tmp_path):
    import redis

    from models.schema import upgrade
    from workers.celery_app import make_celery
    settings = make_settings(tmp_path, redis_url=REDIS_TEST_URL)
    upgrade(settings.db_url)
    client = redis.Redis.from_url(REDIS_TEST_URL)
    client.delete("celery")
    app = make_celery(settings)
    try:
        sent = send_stale(settings, app)
        assert sent == [spec.name for spec in JOB_TABLE if spec.scheduled]
        messages = client.lrange("celery", 0, -1)
        assert len(messages) == 1  # one chain: each job is queued when the one before it is done
        message = json.loads(messages[0])
        assert message["headers"]["task"] == "ingest.poll"
        _args, _kwargs, embed = json.loads(base64.b64decode(message["body"]))
        rest = [step["task"] for step in reversed(embed["chain"])]
        assert rest == [spec.task_name for spec in JOB_TABLE if spec.scheduled][1:]
        assert send_stale(make_settings(tmp_path, redis_url=DEAD_BROKER), make_celery(
            make_settings(tmp_path, redis_url=DEAD_BROKER))) == []  # beat keeps going; logged
    finally:
        client.delete("celery")
        app.close()
