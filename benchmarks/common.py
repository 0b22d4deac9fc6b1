"""Shared benchmark helpers: a prepared demo store (cached across runs), a served app, a headless browser."""
from __future__ import annotations

import socket
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from config import Settings  # noqa: E402

BENCH_DIR = ROOT / "var" / "bench"
ADMIN = ("bench@example.com", "bench-password-123")


def prepared_settings(customers: int = 50_000, days: int = 180, seed: int = 42, database_url: str = "",
                      jobs: tuple[str, ...] = ()) -> Settings:
    """Settings on a store holding the demo marketplace; generated once and reused by later runs."""
    from auth import accounts
    from models.schema import upgrade
    from bootstrap.demo import load_demo, store_has_customers
    folder = BENCH_DIR / f"{customers}x{days}s{seed}"
    folder.mkdir(parents=True, exist_ok=True)
    settings = Settings(var_dir=folder, database_url=database_url or f"sqlite:///{folder / 'bench.db'}",
                        secret_key="bench", live_synthetic=False, embedded_scheduler=False,
                        demo_customers=customers, demo_days=days, demo_seed=seed)
    engine = upgrade(settings.db_url)
    if not store_has_customers(settings):
        started = time.perf_counter()
        print(f"preparing demo store {customers:,} customers x {days} days (once) ...", flush=True)
        load_demo(settings, customers=customers, days=days, seed=seed, progress=False)
        print(f"  prepared in {time.perf_counter() - started:.0f} s", flush=True)
    if not accounts.authenticate(engine, *ADMIN):
        try:
            accounts.create_user(engine, ADMIN[0], "admin", ADMIN[1])
        except accounts.AccountError:
            accounts.set_password(engine, ADMIN[0], ADMIN[1])
    from jobs.table import JOBS
    from jobs.runner import run_job
    for job in jobs:
        if job in JOBS:
            started = time.perf_counter()
            run_job(job, settings)
            print(f"  job {job}: {time.perf_counter() - started:.2f} s", flush=True)
    return settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class CallbackTimer:
    """WSGI middleware noting each Dash callback request's server time and response size:
    `calls` holds (output, seconds, bytes) in the order the responses finished."""

    def __init__(self, app):
        self.app, self.calls, self._lock = app, [], threading.Lock()

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") != "/_dash-update-component":
            return self.app(environ, start_response)
        import io
        import json
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        try:
            output = json.loads(body).get("output", "?")
        except ValueError:
            output = "?"
        started = time.perf_counter()
        chunks = list(self.app(environ, start_response))
        with self._lock:
            self.calls.append((output, time.perf_counter() - started, sum(len(c) for c in chunks)))
        return chunks

    def take(self) -> list[tuple[str, float, int]]:
        with self._lock:
            calls, self.calls = self.calls, []
        return calls


def serve(settings: Settings, timer: bool = False):
    """Serve create_app(settings) on a free loopback port in a daemon thread; returns the base URL
    (and with `timer`, the CallbackTimer wrapping the app as well)."""
    import logging
    from werkzeug.serving import make_server
    from app import create_app
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request would drown the numbers
    port = free_port()
    app = create_app(settings).server
    timing = CallbackTimer(app.wsgi_app) if timer else None
    if timing:
        app.wsgi_app = timing
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{port}"
    return (base, timing) if timer else base


def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    options = Options()
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--no-first-run",
                 "--window-size=1400,1000"):
        options.add_argument(flag)
    options.binary_location = "/usr/bin/chromium"
    return webdriver.Chrome(options=options)


def browser_login(driver, base: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait
    driver.get(f"{base}/login")
    driver.find_element(By.ID, "email").send_keys(ADMIN[0])
    driver.find_element(By.ID, "password").send_keys(ADMIN[1])
    driver.find_element(By.ID, "login-submit").click()
    WebDriverWait(driver, 30).until(EC.presence_of_element_located((By.ID, "shell-logout")))


def time_until(driver, url: str, ready_js: str, timeout: float = 60.0) -> float:
    """Seconds from navigation start until `ready_js` (a JS expression) is true."""
    driver.get("about:blank")
    started = time.perf_counter()
    driver.get(url)
    while time.perf_counter() - started < timeout:
        if driver.execute_script(f"return Boolean({ready_js});"):
            return time.perf_counter() - started
        time.sleep(0.02)
    raise TimeoutError(f"{url} not ready within {timeout} s")


def logged_in_client(settings: Settings):
    """A Flask test client signed in as the benchmark admin (exercises the real request path)."""
    import re
    from app import create_app
    client = create_app(settings).server.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.post("/login", data={"email": ADMIN[0], "password": ADMIN[1], "csrf_token": token})
    return client


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[max(0, int(round(0.95 * len(ordered))) - 1)]
    return {"n": len(ordered), "p50_ms": 1000 * statistics.median(ordered), "p95_ms": 1000 * p95,
            "max_ms": 1000 * ordered[-1]}


def time_calls(func, n: int = 100, warmup: int = 3) -> dict[str, float]:
    for _ in range(warmup):
        func()
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        func()
        samples.append(time.perf_counter() - started)
    return percentiles(samples)


def callback_payload(output: str, inputs: list[dict], state: list[dict] | None = None) -> dict:
    return {"output": output, "outputs": _outputs(output), "inputs": inputs, "state": state or [],
            "changedPropIds": [f"{inputs[0]['id']}.{inputs[0]['property']}"] if inputs else []}


def _outputs(output: str):
    parts = output.strip(".").split("...")
    outs = []
    for p in parts:
        if not p:
            continue
        cid, prop = p.rsplit(".", 1)
        outs.append({"id": cid, "property": prop})
    return outs[0] if len(outs) == 1 else outs
