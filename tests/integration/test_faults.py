"""Fault tests with real processes: a worker killed mid-run, PostgreSQL down, the support-call API down,
Redis down. Every fault is injected into servers these tests start themselves (a throwaway PostgreSQL
cluster and redis-servers on free ports, tests/support/services.py); the machine's shared
PostgreSQL and Redis are never touched.

Outages are shortened from "a minute" to what shows the behaviour: PostgreSQL is down ~10 s (long
enough for the app to serve through it and for the ingest task to fail and be retried by Celery),
the support-call API ~8 s (three polls fail), Redis a few seconds. The file runs in about 1.5 minutes.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import create_engine, func, select, text

from auth import accounts
from models.base import get_engine
from models.derived import HealthScore
from models.ops import JobRun, SourceState
from models.schema import upgrade
from models.source import SOURCE_TABLES
from read import cache
from domain.contract import RECORDS
from jobs.runner import run_job
from tests.conftest import make_settings
from tests.support.calls_server import CallsServer
from tests.support.dataset import contract_frames, more_rows
from tests.support.services import CeleryProcess, PgCluster, RedisServer, wait_for
from tests.support.store import load_frames
from layouts.marketplace.overview import CARD_ORDER

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

USER = ("faults@example.com", "faults-password-1")
SECRET = "faults-secret-key"


@pytest.fixture(scope="module")
def pg():
    cluster = PgCluster().start()
    yield cluster
    from models.base import get_engine as cached_engines
    cached_engines.cache_clear()
    cluster.destroy()


@pytest.fixture(scope="module")
def broker():
    server = RedisServer().start()
    yield server
    server.kill()


@pytest.fixture(autouse=True)
def _embedded_cache_after():
    yield
    cache.configure("")  # later tests in this process get the in-process cache back


def count(url: str, table) -> int:
    with get_engine(url).connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar()


def job_runs(url: str, job: str) -> list:
    with get_engine(url).connect() as conn:
        return conn.execute(select(JobRun.id, JobRun.status, JobRun.started_at, JobRun.finished_at, JobRun.detail)
                            .where(JobRun.job == job).order_by(JobRun.id)).all()


def worker_env(settings, **extra) -> dict:
    env = {**os.environ, "DATABASE_URL": settings.db_url, "REDIS_URL": settings.redis_url, "SECRET_KEY": SECRET,
           "VAR_DIR": str(settings.var_dir), "SOURCES": settings.sources, "SOURCE_BACKOFF_S": "0.05",
           "SOURCE_RETRIES": "1", "LOG_FORMAT": "json", "LIVE_SYNTHETIC": "false"}
    env.pop("JOB_TEST_HOLD_S", None)
    env.update({k: str(v) for k, v in extra.items()})
    return env


def celery_client(settings):
    from workers.celery_app import make_celery
    return make_celery(settings)


def login(app):
    client = app.server.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post("/login", data={"email": USER[0], "password": USER[1], "csrf_token": token}).status_code == 302
    return client


OVERVIEW = {"output": '..{"key":["ALL"],"type":"overview-slot"}.children...overview-shown.data'
                      '...overview-computed-at.children...overview-empty.children..',
            "outputs": [[{"id": {"type": "overview-slot", "key": key}, "property": "children"} for key in CARD_ORDER],
                        {"id": "overview-shown", "property": "data"},
                        {"id": "overview-computed-at", "property": "children"},
                        {"id": "overview-empty", "property": "children"}],
            "inputs": [{"id": "shell-data-version", "property": "data", "value": 1},
                       {"id": "shell-refresh", "property": "n_intervals", "value": 1},
                       {"id": "overview-refresh", "property": "n_clicks", "value": None}],
            "changedPropIds": ["shell-refresh.n_intervals"],
            "state": [{"id": "overview-shown", "property": "data", "value": {}}]}  # nothing shown yet: every card
FRESHNESS = {"output": "..shell-freshness.children...shell-stale-warning.children..",
             "outputs": [{"id": "shell-freshness", "property": "children"},
                         {"id": "shell-stale-warning", "property": "children"}],
             "inputs": [{"id": "shell-data-version", "property": "data", "value": 1},
                        {"id": "shell-refresh", "property": "n_intervals", "value": 1}],
             "changedPropIds": ["shell-refresh.n_intervals"], "state": []}
TICK = {"output": "shell-data-version.data", "outputs": {"id": "shell-data-version", "property": "data"},
        "inputs": [{"id": "shell-tick", "property": "n_intervals", "value": 5}],
        "changedPropIds": ["shell-tick.n_intervals"], "state": [{"id": "shell-data-version", "property": "data",
                                                                "value": 0}]}


def callback(client, payload) -> tuple[int, str]:
    response = client.post("/_dash-update-component", data=json.dumps(payload), content_type="application/json")
    return response.status_code, response.get_data(as_text=True)


def cards_of(body: str) -> list[str]:
    """The card values an overview callback answer shows (ids overview-value-<key> with their text)."""
    return sorted(re.findall(r'"id": ?"overview-value-([a-z_0-9]+)"', body))


def write_export(folder: Path, frames: dict[str, pd.DataFrame]) -> None:
    """Contract CSVs as a source would export them (appending rows of `frames` to files already there)."""
    folder.mkdir(exist_ok=True)
    for record, frame in frames.items():
        path = folder / f"{record}.csv"
        frame = frame[RECORDS[record].columns]
        if path.exists():
            old = pd.read_csv(path, dtype=str, keep_default_na=False)
            new = frame.astype(object).where(frame.notna(), "").map(
                lambda v: v.strftime("%Y-%m-%dT%H:%M:%SZ") if hasattr(v, "strftime") else str(v))
            key = RECORDS[record].key
            merged = pd.concat([old, new]).drop_duplicates(subset=list(key), keep="last")
            merged.to_csv(path, index=False)
        else:
            frame.to_csv(path, index=False, date_format="%Y-%m-%dT%H:%M:%SZ")


def store_ids(url: str, record: str) -> set:
    table = SOURCE_TABLES[record].__table__
    key = RECORDS[record].key[0]
    with get_engine(url).connect() as conn:
        return set(conn.execute(select(table.c[key])).scalars())


def export_ids(folder: Path, record: str) -> set:
    return set(pd.read_csv(folder / f"{record}.csv", dtype=str)[RECORDS[record].key[0]])


# (a) ---------------------------------------------------------------------------------------------

def test_worker_killed_mid_scoring_run_is_redone_once_and_nothing_is_half_written(pg, broker, tmp_path):
    """kill -9 of the worker (main process and pool child) while the scoring run's write transaction
    is open: PostgreSQL rolls it back and frees the job lock; the task, acknowledged late, is handed
    out again after the visibility timeout (6 s here) to the restarted worker, which completes it
    once; the killed run is marked abandoned; readers only ever see the complete previous scores."""
    url = pg.create_database("killed")
    upgrade(url)
    settings = make_settings(tmp_path, database_url=url, redis_url=broker.url, secret_key=SECRET)
    load_frames(settings, contract_frames(customers=300, days=45, seed=3))
    run_job("score", settings)
    scored = count(url, HealthScore)
    assert scored > 0
    client = celery_client(settings)
    victim = CeleryProcess.worker(worker_env(settings, JOB_TEST_HOLD_S="health:120", CELERY_VISIBILITY_TIMEOUT_S=6),
                                  tmp_path / "victim.log", name="victim", pool="prefork", concurrency=1).start()
    try:
        victim.wait_ready(client)
        sent = time.monotonic()
        result = client.send_task("health.score")
        probe = create_engine(url, pool_size=1)

        def in_write_transaction() -> bool:
            with probe.connect() as conn:
                return bool(conn.execute(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND state = 'idle in transaction' AND (query ILIKE '%data_versions%' OR query ILIKE '%job_run_commits%')")).scalar())
        wait_for(in_write_transaction, 60, what="scoring run holding its write transaction open")
        assert count(url, HealthScore) == scored  # mid-write, readers see the previous complete table
        victim.kill()
    finally:
        victim.stop()
    wait_for(lambda: not in_write_transaction(), 20, what="PostgreSQL noticing the dead connection")
    assert count(url, HealthScore) == scored  # rolled back: nothing half-written
    with probe.connect() as conn:  # the job's advisory lock went with the connection
        key = int.from_bytes(hashlib.sha256(b"score").digest()[:8], "big", signed=True)  # as runner.job_lock
        assert conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar()
        conn.execute(text("SELECT pg_advisory_unlock_all()"))
    killed = [r for r in job_runs(url, "score") if r.status == "running"]
    assert len(killed) == 1

    # readers sample the table all through the redelivered run: always complete, never partial or empty
    samples, stop = [], threading.Event()

    def sample():
        while not stop.is_set():
            with probe.connect() as conn:
                samples.append(conn.execute(text("SELECT count(*) FROM health_scores")).scalar())
            time.sleep(0.02)
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    time.sleep(max(0.0, sent + 7 - time.monotonic()))  # past the visibility timeout
    restarted = CeleryProcess.worker(worker_env(settings, CELERY_VISIBILITY_TIMEOUT_S=6), tmp_path / "restarted.log",
                                     name="restarted", pool="prefork", concurrency=1).start()
    try:
        restarted.wait_ready(client)
        summary = result.get(timeout=90)  # the same task, finished by the restarted worker
    finally:
        stop.set()
        sampler.join(5)
        restarted.stop()
        client.close()
    assert summary["customers_scored"] == scored
    assert samples and set(samples) == {scored}, sorted(set(samples))
    runs = job_runs(url, "score")
    after = [r for r in runs if r.id > killed[0].id]
    assert [r.status for r in after] == ["ok"], after  # completed exactly once
    dead = next(r for r in runs if r.id == killed[0].id)
    assert dead.status == "abandoned" and "abandoned" in dead.detail
    with probe.connect() as conn:
        assert conn.execute(text("SELECT count(DISTINCT customer_id) FROM health_scores")).scalar() == scored
        assert conn.execute(text("SELECT count(*) FROM (SELECT 1 FROM health_score_history GROUP BY customer_id, day "
                                 "HAVING count(*) > 1) d")).scalar() == 0
    probe.dispose()


# (b) ---------------------------------------------------------------------------------------------

def test_database_down_app_serves_last_data_ingest_retries_and_catches_up(pg, broker, tmp_path):
    """PostgreSQL stopped ~10 s under a running app and worker: pages keep the last data (the Redis read
    cache answers with it, the shell says the database is unreachable), callbacks never 500, the API
    answers the cached metrics marked stale or a 503 JSON, health says database down. The ingest task
    sent meanwhile fails and Celery retries it; after the restart it lands exactly the rows the source
    gained (no id missing, none twice), and a second poll finds nothing new."""
    url = pg.create_database("outage")
    upgrade(url)
    export = tmp_path / "export"
    frames = contract_frames(customers=300, days=45, seed=4)
    write_export(export, frames)
    settings = make_settings(tmp_path, database_url=url, redis_url=broker.url.replace("/0", "/1"),
                             secret_key=SECRET, sources=f"csv:{export}")
    settings_worker = make_settings(tmp_path, database_url=url, redis_url=broker.url, secret_key=SECRET,
                                    sources=f"csv:{export}")
    accounts.create_user(get_engine(url), USER[0], "ops", USER[1])
    token = accounts.create_token(get_engine(url), USER[0])
    client = celery_client(settings_worker)
    worker = CeleryProcess.worker(worker_env(settings_worker), tmp_path / "worker.log", name="outage").start()
    try:
        worker.wait_ready(client)
        for task in ("ingest.poll", "health.score", "overview.refresh"):
            client.send_task(task).get(timeout=120)
        from app import create_app
        app = create_app(settings)
        web = login(app)
        status, before = callback(web, OVERVIEW)
        assert status == 200 and cards_of(before)
        assert web.get("/api/v1/metrics").get_json()["cards"]

        new = more_rows(frames, hours=2, seed=11)  # the source keeps changing while the database is down
        pg.stop()
        down_at = time.monotonic()
        write_export(export, new)
        pending = client.send_task("ingest.poll")

        assert web.get("/").status_code == 200
        status, during = callback(web, OVERVIEW)
        assert status == 200 and cards_of(during) == cards_of(before)  # the last data, from the read cache
        status, shell = callback(web, FRESHNESS)
        assert status == 200 and "shell-db-down-alert" in shell and "unreachable" in shell
        assert callback(web, TICK)[0] in (200, 204)  # no update, no error
        stale = web.get("/api/v1/metrics")
        assert stale.status_code == 200 and stale.get_json()["stale"] is True
        refused = web.get("/api/v1/tutors", headers={"Authorization": f"Bearer {token}"})
        assert refused.status_code == 503 and refused.is_json and refused.headers["Retry-After"]
        health = web.get("/api/v1/health").get_json()
        assert health["status"] == "down" and health["database"]["ok"] is False and health["cache"]["ok"] is True

        wait_for(lambda: "Retry in" in worker.log_text(), 30, what="the ingest task failing and being retried")
        time.sleep(max(0.0, down_at + 8 - time.monotonic()))
        pg.start()  # before the task's first retry, 10 s after it failed
        caught_up = pending.get(timeout=120)  # the retry, after the restart
    finally:
        worker.stop()
        client.close()
    added = {r: len(new[r]) - len(frames[r].merge(new[r][list(RECORDS[r].key)], on=list(RECORDS[r].key)))
             for r in ("sessions", "bookings", "inbound_calls")}
    for record, n in added.items():
        assert caught_up["records"][record]["inserted"] == n, (record, caught_up["records"][record])
    for record in ("customers", "sessions", "bookings", "inbound_calls"):
        assert store_ids(url, record) == export_ids(export, record), record
    again = run_job("ingest", settings)
    assert all(c["inserted"] == 0 and c["updated"] == 0 for c in again["records"].values()), again
    health = web.get("/api/v1/health").get_json()
    assert health["database"]["ok"] is True
    status, shell = callback(web, FRESHNESS)
    assert status == 200 and "shell-db-down-alert" not in shell
    assert cache.store_down_since() is None or callback(web, OVERVIEW)[0] == 200


# (c) ---------------------------------------------------------------------------------------------

def test_support_api_down_source_goes_stale_polls_retry_and_catch_up_exactly(pg, tmp_path):
    """The support-call API stopped ~8 s (three polls fail, each retried with backoff): the source is
    stale on /api/v1/health and in the page's banner; once it is back, the next poll lands exactly
    the calls made meanwhile (compared by id) and a further poll finds nothing new."""
    url = pg.create_database("calls")
    upgrade(url)
    frames = contract_frames(customers=200, days=30, seed=6)
    calls = frames["inbound_calls"].sort_values("call_date").reset_index(drop=True)
    as_api = [{**r, "call_date": r["call_date"].strftime("%Y-%m-%dT%H:%M:%SZ"), "duration_s": int(r["duration_s"])}
              for r in calls.to_dict("records")]
    first, later = as_api[: len(as_api) * 2 // 3], as_api[len(as_api) * 2 // 3:]
    with CallsServer(first, token="calls-token", page_size=200) as server:
        settings = make_settings(tmp_path, database_url=url, secret_key=SECRET, sources="",
                                 calls_api_url=server.url, calls_api_token="calls-token", source_backoff_s=0.2)
        load_frames(settings, {"customers": frames["customers"]})
        accounts.create_user(get_engine(url), USER[0], "ops", USER[1])
        from app import create_app
        app = create_app(settings)
        web = login(app)
        assert run_job("ingest", settings)["records"]["inbound_calls"]["inserted"] == len(first)
        assert not any(s["stale"] for s in web.get("/api/v1/health").get_json()["sources"])

        server.stop()
        server.add_calls(later)  # calls keep happening while the API is unreachable
        failed_polls = []
        for _ in range(3):
            summary = run_job("ingest", settings)
            failed_polls.append(summary["errors"])
            time.sleep(2)
        assert all(any("SourceUnavailable" in e for e in errors.values()) for errors in failed_polls), failed_polls
        with get_engine(url).connect() as conn:
            failures = conn.execute(select(SourceState.consecutive_failures)
                                    .where(SourceState.record == "inbound_calls",
                                           SourceState.source.like("calls:%"))).scalar()
        assert failures == 3
        health = web.get("/api/v1/health").get_json()
        assert health["status"] == "degraded" and any(s["stale"] and s["source"].startswith("calls:")
                                                      for s in health["sources"])
        status, shell = callback(web, FRESHNESS)
        assert status == 200 and "shell-stale-alert" in shell and "calls:" in shell
        assert store_ids(url, "inbound_calls") == {c["call_id"] for c in first}

        server.start()  # same port
        back = run_job("ingest", settings)
        assert back["errors"] == {}
        assert back["records"]["inbound_calls"]["inserted"] == len(later)
        assert store_ids(url, "inbound_calls") == server.call_ids == {c["call_id"] for c in as_api}
        assert count(url, SOURCE_TABLES["inbound_calls"].__table__) == len(as_api)
        again = run_job("ingest", settings)["records"]["inbound_calls"]
        assert again["inserted"] == 0 and again["updated"] == 0
        assert not any(s["stale"] for s in web.get("/api/v1/health").get_json()["sources"])


# (d) ---------------------------------------------------------------------------------------------

def test_redis_down_pages_serve_without_cache_and_health_says_so(pg, tmp_path):
    """Redis killed under the app: pages and callbacks still answer (the cache is bypassed, reads go
    to PostgreSQL), signing in still works, /api/v1/health reports the cache down; after a restart on
    the same port health is ok again and reads are cached in Redis again."""
    url = pg.create_database("nocache")
    upgrade(url)
    redis_server = RedisServer().start()
    try:
        settings = make_settings(tmp_path, database_url=url, redis_url=redis_server.url, secret_key=SECRET)
        load_frames(settings, contract_frames(customers=200, days=30, seed=8))
        for job in ("score", "overview"):
            run_job(job, settings)
        accounts.create_user(get_engine(url), USER[0], "ops", USER[1])
        from app import create_app
        app = create_app(settings)
        web = login(app)
        status, before = callback(web, OVERVIEW)
        assert status == 200 and cards_of(before)
        import redis
        assert redis.Redis(port=redis_server.port).dbsize() > 0  # the read cache is in Redis

        redis_server.kill()
        assert web.get("/").status_code == 200
        status, during = callback(web, OVERVIEW)
        assert status == 200 and cards_of(during) == cards_of(before)
        assert callback(web, FRESHNESS)[0] == 200
        assert login(app).get("/tutors").status_code == 200  # a new sign-in works too
        health = web.get("/api/v1/health").get_json()
        assert health["cache"] == {"kind": "redis", "ok": False, "error": "ConnectionError"}
        assert health["status"] == "degraded" and health["database"]["ok"] is True

        redis_server.start()
        assert web.get("/api/v1/health").get_json()["cache"] == {"kind": "redis", "ok": True}
        client = redis.Redis(port=redis_server.port)

        def cached_again() -> bool:
            callback(web, OVERVIEW)
            return client.dbsize() > 0
        wait_for(cached_again, 20, interval=1, what="reads cached in Redis again")
    finally:
        redis_server.kill()
