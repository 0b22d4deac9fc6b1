"""Real processes for production-mode and fault tests: a throwaway PostgreSQL cluster, a throwaway
Redis, and Celery worker / beat processes that can be killed and restarted.

    pg = PgCluster().start()          # initdb into a temp dir (as the postgres OS user when root), free port
    url = pg.create_database("dash")  # postgresql+psycopg2://postgres:<pw>@127.0.0.1:<port>/dash
    pg.stop(); pg.start()             # down, then up again on the same port with the same data
    pg.destroy()

    redis = RedisServer().start()     # redis-server on a free port, nothing kept on disk
    redis.kill(); redis.start()       # SIGKILL, then a fresh empty server on the same port

    worker = CeleryProcess.worker(env, log_path, name="w1")
    worker.start(); worker.wait_ready(celery_client)
    worker.kill()                     # SIGKILL to the whole process group (main process and pool children)

The machine's shared PostgreSQL (5432) and Redis (6379) are never stopped here: faults are
injected only into servers these helpers started.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate: Callable[[], object], timeout: float, interval: float = 0.2, what: str = "condition"):
    """Poll `predicate` until it returns something truthy (returned) or `timeout` seconds pass (AssertionError)."""
    deadline = time.monotonic() + timeout
    last_exc: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except Exception as exc:  # e.g. a server still starting
            last_exc, value = exc, None
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"{what} not reached within {timeout} s" + (f" (last error: {last_exc})" if last_exc else ""))


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.3)
        return s.connect_ex(("127.0.0.1", port)) == 0


# PostgreSQL -------------------------------------------------------------------------------------

def _pg_bin() -> Path:
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    if not versions:
        raise RuntimeError("no PostgreSQL server binaries under /usr/lib/postgresql (apt-get install postgresql)")
    return versions[-1]


class PgCluster:
    """A private PostgreSQL cluster (trust auth on 127.0.0.1 only) that a test may stop and start.

    PostgreSQL refuses to run as root, so as root the server runs as the `postgres` OS user. The
    URLs carry a password (trust auth ignores it) so tests can check it never reaches a log.
    """

    def __init__(self, port: int | None = None, password: str = "pg-secret-never-logged"):
        self.port = port or free_port()
        self.password = password
        self.dir = Path(tempfile.mkdtemp(prefix="dash-pg-"))
        self.data = self.dir / "data"
        self.bin = _pg_bin()
        self._initialised = False

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        cmd = [str(self.bin / args[0]), *args[1:]]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, check=check, capture_output=True, text=True, timeout=120)

    def start(self) -> "PgCluster":
        if not self._initialised:
            if os.geteuid() == 0:
                shutil.chown(self.dir, "postgres", "postgres")
            self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
            self._initialised = True
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60"
        self._run("pg_ctl", "-D", str(self.data), "-o", opts, "-l", str(self.dir / "server.log"), "-w", "-t", "60", "start")
        wait_for(lambda: _port_open(self.port), 30, what=f"PostgreSQL on port {self.port}")
        return self

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (mode fast: clients disconnected; immediate: like a crash)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop", check=False)

    @property
    def running(self) -> bool:
        return self._run("pg_ctl", "-D", str(self.data), "status", check=False).returncode == 0

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg2://postgres:{self.password}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        from sqlalchemy import create_engine, text
        engine = create_engine(self.url(), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))  # test-chosen name, never user input
        finally:
            engine.dispose()
        return self.url(name)

    def destroy(self) -> None:
        if self._initialised and self.running:
            self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


# Redis ------------------------------------------------------------------------------------------

class RedisServer:
    """A private redis-server (no persistence) on its own port; kill() and start() again to fake an outage."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "RedisServer":
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--daemonize", "no", "--loglevel", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        import redis
        client = redis.Redis(port=self.port, socket_connect_timeout=0.3)
        wait_for(lambda: client.ping(), 20, what=f"redis-server on port {self.port}")
        client.close()
        return self

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None

    stop = kill


# Celery -----------------------------------------------------------------------------------------

class CeleryProcess:
    """`celery -A workers.celery_app worker|beat` as a child in its own process group."""

    def __init__(self, args: list[str], env: dict, log_path: Path):
        self.args, self.env, self.log_path = args, env, Path(log_path)
        self.proc: subprocess.Popen | None = None
        self._log = None

    @classmethod
    def worker(cls, env: dict, log_path: Path, name: str, pool: str = "solo", concurrency: int = 1) -> "CeleryProcess":
        args = ["worker", f"--pool={pool}", f"--concurrency={concurrency}", "--loglevel=INFO",
                "-n", f"{name}-{os.getpid()}@%h", "--without-mingle", "--without-gossip"]
        return cls(args, env, log_path)

    @classmethod
    def beat(cls, env: dict, log_path: Path, schedule_file: Path) -> "CeleryProcess":
        return cls(["beat", "--loglevel=INFO", f"--schedule={schedule_file}"], env, log_path)

    @property
    def hostname_prefix(self) -> str:
        return self.args[self.args.index("-n") + 1].split("@")[0] if "-n" in self.args else ""

    def start(self) -> "CeleryProcess":
        self._log = open(self.log_path, "a")
        self.proc = subprocess.Popen([sys.executable, "-m", "celery", "-A", "workers.celery_app", *self.args],
                                     cwd=ROOT, env=self.env, stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        return self

    def wait_ready(self, client, timeout: float = 60) -> None:
        """Until this worker answers a broadcast ping (fails early if the process died)."""
        prefix = self.hostname_prefix

        def answered():
            if self.proc.poll() is not None:
                raise AssertionError(f"celery exited: {self.log_text()[-3000:]}")
            replies = client.control.ping(timeout=0.5) or []
            return any(name.startswith(prefix) for reply in replies for name in reply)
        try:
            wait_for(answered, timeout, interval=0.1, what="worker ping")
        except AssertionError as exc:
            if "celery exited" in str(exc):
                raise
            raise AssertionError(f"worker did not answer within {timeout} s: {self.log_text()[-3000:]}") from None

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL the whole group at once, as a crashed machine or an OOM kill would."""
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=20)
        self._close()

    def stop(self, timeout: float = 20) -> None:
        """Warm shutdown (SIGTERM), SIGKILL when it takes longer than `timeout`."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=20)
            except ProcessLookupError:
                pass
        self._close()

    def _close(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None
