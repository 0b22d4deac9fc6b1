"""Production mode end to end on this machine's PostgreSQL and Redis with real Celery processes.

DATABASE_URL (a fresh database on 127.0.0.1:5432, its URL carrying a password that must never be
logged) and REDIS_URL (a free database number on 127.0.0.1:6379) are all the configuration there
is: the app picks CeleryManager and the Redis cache, a worker and `celery beat` run the schedule
(SCORE_INTERVAL_S shortened to 15 s; ingest and overview run every 15 s anyway), the pages answer a
logged-in client, and two workers given the same job at once never run it twice at the same time.
"""
from __future__ import annotations

import json
import re
import time
from datetime import datetime

import pytest
from sqlalchemy import func, select, text

from auth import accounts
from models.base import get_engine
from models.derived import HealthScore, HealthScoreHistory
from models.ops import JobRun
from models.schema import upgrade
from models.source import Customer, TutorSession
from read import cache
from tests.conftest import create_pg_database, drop_pg_database, make_settings
from tests.support.services import CeleryProcess, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

PG_PASSWORD = "pg-pw-never-logged-7f3a"
SECRET = "prod-secret-key-never-logged-91c2"
USER = ("prod@example.com", "prod-password-123")


def free_redis_db(host_url: str = "redis://127.0.0.1:6379") -> str:
    """A database number on the machine's Redis that holds no keys (not 0, the default, nor 15, the
    other Celery test's), so a parallel run elsewhere on the machine keeps its own queue."""
    import redis
    for db in range(1, 15):
        client = redis.Redis.from_url(f"{host_url}/{db}")
        if client.dbsize() == 0:
            client.set("dash-test-claim", "production-mode", ex=600)
            return f"{host_url}/{db}"
    pytest.skip("no empty Redis database on 127.0.0.1:6379")


@pytest.fixture(scope="module")
def prod(pg_server, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("prod")
    from bootstrap.demo import write_demo_csv
    write_demo_csv(str(tmp / "export"), customers=300, days=45, seed=5)
    plain = create_pg_database(pg_server, prefix="dash_prod")
    url = plain.replace("postgres@", f"postgres:{PG_PASSWORD}@")  # trust auth ignores it; logs must not show it
    redis_url = free_redis_db()
    upgrade(url)
    accounts.create_user(get_engine(url), USER[0], "ops", USER[1])
    env = {**__import__("os").environ, "DATABASE_URL": url, "REDIS_URL": redis_url, "SECRET_KEY": SECRET,
           "SOURCES": f"csv:{tmp / 'export'}", "VAR_DIR": str(tmp), "SCORE_INTERVAL_S": "15", "LOG_FORMAT": "json",
           "SOURCE_BACKOFF_S": "0.05", "LIVE_SYNTHETIC": "false", "EMBEDDED_SCHEDULER": "false"}
    settings = make_settings(tmp, database_url=url, redis_url=redis_url, secret_key=SECRET, testing=False,
                             sources=env["SOURCES"])
    from workers.celery_app import make_celery
    client = make_celery(settings)
    procs: list[CeleryProcess] = []
    yield {"tmp": tmp, "url": url, "redis_url": redis_url, "env": env, "settings": settings, "celery": client,
           "procs": procs, "export": tmp / "export"}
    for proc in procs:
        proc.stop()
    client.close()
    import redis
    redis.Redis.from_url(redis_url).flushdb()
    cache.configure("")
    drop_pg_database(pg_server, plain)


def count(url: str, model) -> int:
    with get_engine(url).connect() as conn:
        return conn.execute(select(func.count()).select_from(model)).scalar()


def runs(url: str, job: str | None = None) -> list:
    with get_engine(url).connect() as conn:
        stmt = select(JobRun.id, JobRun.job, JobRun.started_at, JobRun.finished_at, JobRun.status).order_by(JobRun.id)
        if job:
            stmt = stmt.where(JobRun.job == job)
        return conn.execute(stmt).all()


def login(app):
    client = app.server.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"email": USER[0], "password": USER[1], "csrf_token": token})
    assert response.status_code == 302, response.status_code
    return client


def test_configuration_alone_picks_celery_and_redis(prod):
    from app import create_app
    from workers.celery_app import celery_for
    app = create_app(prod["settings"])
    assert celery_for(prod["settings"]).conf.broker_url == prod["settings"].redis_url
    assert cache.status() == {"kind": "redis", "ok": True}
    health = app.server.test_client().get("/api/v1/health").get_json()
    assert health["mode"] == "production"
    assert health["database"] == {"ok": True, "dialect": "postgresql"}
    assert health["cache"] == {"kind": "redis", "ok": True}
    # the read cache really lands in Redis, with the configured TTL (15 minutes by default)
    import redis
    from read import tutors as tutor_queries
    engine = get_engine(prod["url"])
    before = set(redis.Redis.from_url(prod["redis_url"]).keys("dash:read:*"))
    tutor_queries.tutor_grid(engine, tutor_queries.DEFAULT_PERIOD)
    added = set(redis.Redis.from_url(prod["redis_url"]).keys("dash:read:*")) - before
    assert added
    ttl = redis.Redis.from_url(prod["redis_url"]).ttl(sorted(added)[0])
    assert 0 < ttl <= prod["settings"].cache_ttl_s


def test_worker_and_beat_run_the_schedule_and_pages_serve(prod):
    env, tmp, url = prod["env"], prod["tmp"], prod["url"]
    worker = CeleryProcess.worker(env, tmp / "worker1.log", name="prod1", pool="prefork", concurrency=2).start()
    prod["procs"].append(worker)
    worker.wait_ready(prod["celery"])
    beat = CeleryProcess.beat(env, tmp / "beat.log", tmp / "celerybeat-schedule").start()
    prod["procs"].append(beat)

    def scheduled_jobs_done():
        """ingest ran, then score and overview ran on what it brought (beat fires them together at first)."""
        done = [r for r in runs(url) if r.status == "ok"]
        ingested = [r.finished_at for r in done if r.job == "ingest"]
        later = {r.job for r in done if ingested and r.started_at >= min(ingested)}
        return {"score", "overview"} <= later and count(url, HealthScore) > 0
    wait_for(scheduled_jobs_done, 150, interval=1, what="beat-scheduled ingest, then score and overview runs")
    beat.stop()
    assert "beat" in beat.log_text().lower()
    assert not [r for r in runs(url) if r.status == "failed"], runs(url)

    import pandas as pd
    exported = pd.read_csv(prod["export"] / "customers.csv")
    assert count(url, Customer) == exported["customer_id"].nunique()
    assert count(url, TutorSession) > 0
    with get_engine(url).connect() as conn:  # every customer eligible now (signed up, not churned) is scored
        eligible = conn.execute(select(func.count()).select_from(Customer).where(
            Customer.status != "churned", Customer.signup_date <= datetime.utcnow())).scalar()
    assert count(url, HealthScore) == eligible > 0

    from app import create_app
    app = create_app(prod["settings"])
    health = app.server.test_client().get("/api/v1/health").get_json()
    assert health["worker"]["ok"] and health["database"]["ok"] and health["cache"]["ok"], health
    assert health["sources"] and not any(s["stale"] for s in health["sources"]), health

    client = login(app)
    assert client.get("/").status_code == 200
    from layouts.marketplace.overview import CARD_ORDER
    output = ('..{"key":["ALL"],"type":"overview-slot"}.children...overview-shown.data...overview-computed-at.children'
              '...overview-empty.children..')
    cards = {"output": output,
             "outputs": [[{"id": {"type": "overview-slot", "key": key}, "property": "children"} for key in CARD_ORDER],
                         {"id": "overview-shown", "property": "data"},
                         {"id": "overview-computed-at", "property": "children"},
                         {"id": "overview-empty", "property": "children"}],
             "inputs": [{"id": "shell-data-version", "property": "data", "value": 1},
                        {"id": "shell-refresh", "property": "n_intervals", "value": 1},
                        {"id": "overview-refresh", "property": "n_clicks", "value": None}],
             "changedPropIds": ["shell-data-version.data"],
             "state": [{"id": "overview-shown", "property": "data", "value": None}]}
    response = client.post("/_dash-update-component", data=json.dumps(cards), content_type="application/json")
    assert response.status_code == 200
    assert "overview-card-" in response.get_data(as_text=True)
    metrics = client.get("/api/v1/metrics").get_json()
    assert metrics["cards"] and metrics["computed_at"]
    for path in ("/tutors", "/alerts", "/data-health"):
        assert client.get(path).status_code == 200, path


def test_two_workers_share_a_job_without_running_it_twice_at_once(prod):
    """Four sends of health.score to two prefork workers (two processes each): all four are taken at
    once; the PostgreSQL advisory lock lets one run and the others answer "skipped" (JOB_TEST_HOLD_S
    keeps each run's write open 3 s so the attempts surely overlap, whatever the machine's load)."""
    env, tmp, url, celery = prod["env"], prod["tmp"], prod["url"], prod["celery"]
    for proc in prod["procs"]:
        proc.stop()
    if count(url, Customer) == 0:
        from ingestion.pipeline import ingest_sources
        from jobs.ingest import configured_adapters
        ingest_sources(prod["settings"], configured_adapters(prod["settings"]))
    held = {**env, "JOB_TEST_HOLD_S": "health:3"}
    workers = [CeleryProcess.worker(held, tmp / f"shared{i}.log", name=f"shared{i}", pool="prefork", concurrency=2)
               for i in (1, 2)]
    for worker in workers:
        prod["procs"].append(worker.start())
    for worker in workers:
        worker.wait_ready(celery)
    before = {r.id for r in runs(url, "score")}

    results = [celery.send_task("health.score") for _ in range(4)]
    outcomes = [r.get(timeout=180) for r in results]
    skipped = [o for o in outcomes if "skipped" in o]
    new = [r for r in runs(url, "score") if r.id not in before]
    assert len(new) + len(skipped) == 4, (outcomes, new)
    assert all(r.status == "ok" for r in new), new
    # the advisory lock: no two runs of the job overlap in time, whichever worker ran them
    spans = sorted((r.started_at, r.finished_at) for r in runs(url, "score"))
    for (s1, f1), (s2, _) in zip(spans, spans[1:]):
        assert f1 <= s2, spans
    assert skipped and new, outcomes
    # both workers took messages (prefetch 1 per process): the work was shared, not queued on one
    for worker in workers:
        assert "health.score" in worker.log_text(), worker.log_path
    # derived tables hold each customer once, and one history row per customer per day
    customers = count(url, HealthScore)
    with get_engine(url).connect() as conn:
        assert conn.execute(text("SELECT count(DISTINCT customer_id) FROM health_scores")).scalar() == customers > 0
    with get_engine(url).connect() as conn:
        dup = conn.execute(text("SELECT count(*) FROM (SELECT customer_id, day FROM health_score_history "
                                "GROUP BY customer_id, day HAVING count(*) > 1) d")).scalar()
        assert dup == 0
        alerts = conn.execute(text("SELECT count(*) FROM (SELECT dedup_key FROM alerts WHERE status = 'active' "
                                   "GROUP BY dedup_key HAVING count(*) > 1) d")).scalar()
        assert alerts == 0
    assert count(url, HealthScoreHistory) >= customers


def test_retrain_now_goes_through_the_door_to_the_celery_worker(prod):
    """The churn page's "Retrain now": with REDIS_URL set, the click callback queues train-churn by its task
    name on a real worker (the web process imports no job module) and the page follows the run by polling
    job_runs, as the browser does."""
    env, tmp, url, celery = prod["env"], prod["tmp"], prod["url"], prod["celery"]
    worker = CeleryProcess.worker(env, tmp / "background.log", name="prodbg", pool="prefork", concurrency=1).start()
    prod["procs"].append(worker)
    worker.wait_ready(celery)
    from app import create_app
    client = login(create_app(prod["settings"]))
    before = {r.id for r in runs(url, "train-churn")}
    click = {"output": "..churn-retrain-run.data...churn-retrain-poll.disabled..",
             "outputs": [{"id": "churn-retrain-run", "property": "data"},
                         {"id": "churn-retrain-poll", "property": "disabled"}],
             "inputs": [{"id": "churn-retrain", "property": "n_clicks", "value": 1}], "state": [],
             "changedPropIds": ["churn-retrain.n_clicks"]}
    started = client.post("/_dash-update-component", json=click)
    assert started.status_code == 200, started.get_data(as_text=True)[:300]
    run = started.get_json()["response"]["churn-retrain-run"]["data"]
    assert "since" in run, run
    spec = next(d for d in client.get("/_dash-dependencies").get_json()
                if d["output"].startswith("..churn-retrain-status.children"))
    poll = {"output": spec["output"],
            "outputs": [{"id": o.split(".")[0], "property": o.split(".", 1)[1]}
                        for o in spec["output"].strip(".").split("...")],
            "inputs": [{"id": "churn-retrain-run", "property": "data", "value": run},
                       {"id": "churn-retrain-poll", "property": "n_intervals", "value": 1}],
            "state": [{"id": "churn-retrain", "property": "disabled", "value": True}],
            "changedPropIds": ["churn-retrain-poll.n_intervals"]}

    def answered():
        data = client.post("/_dash-update-component", json=poll).get_json(silent=True) or {}
        text_ = str(data.get("response", {}).get("churn-retrain-status", {}).get("children", ""))
        return text_ if "trained" in text_.lower() or "not done" in text_.lower() else None
    status = wait_for(answered, 180, interval=0.5, what="the worker's train-churn run, followed through job_runs")
    assert "trained" in status.lower(), status  # "Not trained: ..." on 45 days of history
    assert "churn.train" in worker.log_text()
    assert [r for r in runs(url, "train-churn") if r.id not in before]  # it ran through the job runner


def test_no_secret_reaches_a_log(prod, caplog):
    """The worker's and beat's logs, and the app's own log records, never show the database password,
    SECRET_KEY or an API token."""
    from app import create_app
    token = accounts.create_token(get_engine(prod["url"]), USER[0])
    with caplog.at_level("DEBUG"):
        app = create_app(prod["settings"])
        client = app.server.test_client()
        client.get("/api/v1/customers", headers={"Authorization": f"Bearer {token}"})
        client.get("/api/v1/tutors", query_string={"limit": "x"}, headers={"Authorization": f"Bearer {token}"})
        client.get("/api/v1/tutors", headers={"Authorization": "Bearer wrong-token-value-123"})
        from infra.logs import scrub
        logged = "\n".join(scrub(r.getMessage()) for r in caplog.records)
    logs = [p.log_text() for p in prod["procs"]] + [logged]
    assert any(logs)
    for text_ in logs:
        for secret in (PG_PASSWORD, SECRET, token, "wrong-token-value-123"):
            assert secret not in text_
