"""Starting the real app and Chromium from Python: one harness for the end-to-end tests and the benchmarks.

Plain Python (no pytest): ``bench/`` imports it too. The app is started the way README.md starts it
(``streamlit run streamlit_app.py`` on a loopback port, nothing configured: the embedded simulator and SQLite).
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
LOOPBACK = "127.0.0.1"
CHROMIUM = "/usr/bin/chromium"  # Debian's chromium; never `playwright install`
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: the embedded simulator's platform secret (fake, loopback only)
SIM_SECRET = "sim-platform-secret"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def launch_chromium(pw):
    """Headless Debian Chromium through Playwright's sync API (``pw`` from ``sync_playwright()``)."""
    return pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


def _wait_until(check, timeout: float, interval: float, on_dead=None) -> bool:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if on_dead is not None:
            on_dead()
        try:
            if check():
                return True
        except httpx.HTTPError:
            pass
        time.sleep(interval)
    return False


class AppProcess:
    """``python -m streamlit run streamlit_app.py`` on a free loopback port, against its embedded simulator.

    ``env`` adds settings (e.g. ``WPP_POLL_SECONDS=1``); a developer's own ``WPP_*``/``SUPABASE_*``/``DATABASE_URL``
    never leak in. The server's output goes to ``log_dir/server-{name}.log``. Only the process group this object
    started is ever signalled.
    """

    def __init__(self, name: str, data_dir: Path, *, log_dir: Path, **env):
        self.name = name
        self.data_dir = Path(data_dir)
        self.log_path = Path(log_dir) / f"server-{name}.log"
        self.port = free_port()
        self.sim_port = free_port()
        while self.sim_port == self.port:
            self.sim_port = free_port()
        self.url = f"http://{LOOPBACK}:{self.port}"
        self.sim_url = f"http://{LOOPBACK}:{self.sim_port}"
        self.extra_env = {k: str(v) for k, v in env.items()}
        self.proc: subprocess.Popen | None = None
        self.restarts = 0
        self.started_at: float | None = None  # time.perf_counter() just before the process was spawned
        self._log = None
        self.http = httpx.Client(timeout=10)

    @property
    def demo(self) -> bool:
        """Demo mode: no platform address given (the app starts its embedded simulator)."""
        return not self.extra_env.get("WPP_BASE_URL")

    @property
    def db_path(self) -> Path:
        """The SQLite file the app uses (``wpp.config.Settings.sqlite_path``: demo.db in demo mode)."""
        return self.data_dir / ("demo.db" if self.demo else "wpp-console.db")

    def spawn(self) -> "AppProcess":
        """Start the process and return at once (``wait_healthy`` waits for it)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("WPP_", "SUPABASE_", "DATABASE_URL"))}
        env.update(
            WPP_DATA_DIR=str(self.data_dir),
            WPP_SECRETS_FILE=str(self.data_dir / "none.toml"),
            WPP_SIM_PORT=str(self.sim_port),
            WPP_DEMO_FLEET="false",  # the journeys start empty; tests/e2e/test_13_demo_fleet.py asks for the fleet
            PYTHONUNBUFFERED="1",
        )
        env.update(self.extra_env)  # a test's own settings win (e.g. its WPP_SECRETS_FILE)
        cmd = [
            sys.executable, "-m", "streamlit", "run", "streamlit_app.py",
            "--server.port", str(self.port), "--server.address", LOOPBACK, "--server.headless", "true",
        ]
        self._log = open(self.log_path, "a" if self.restarts else "w", buffering=1)
        self._log.write("$ " + " ".join(cmd) + "\n")
        self.started_at = time.perf_counter()
        self.proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        return self

    def _raise_if_exited(self) -> None:
        if self.proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {self.proc.returncode}; see {self.log_path}:\n{self.log_tail()}")

    def wait_healthy(self, timeout: float = 60) -> float:
        """Seconds from ``spawn`` until ``/_stcore/health`` answers ok."""
        healthy = _wait_until(lambda: self.http.get(self.url + "/_stcore/health", timeout=2).text.strip() == "ok",
                              timeout, 0.05, on_dead=self._raise_if_exited)
        if not healthy:
            raise RuntimeError(f"streamlit did not become healthy in {timeout} s; see {self.log_path}")
        return time.perf_counter() - self.started_at

    def start(self, timeout: float = 60) -> "AppProcess":
        """Spawn and wait until the server answers; stopped again if it does not."""
        self.spawn()
        try:
            self.wait_healthy(timeout)
        except RuntimeError:
            self.stop()
            raise
        return self

    def restart(self, timeout: float = 60) -> "AppProcess":
        """Stop the app and start it again on the same port, with the same data folder and settings (a console
        restart as staff would see it: the same address in the browser)."""
        self._stop_process()
        self.restarts += 1
        return self.start(timeout)

    def wait_simulator(self, timeout: float = 30) -> None:
        """The embedded simulator starts with the server (the app's lifespan builds the service), no page view needed."""
        if not _wait_until(lambda: self.http.get(self.sim_url + "/_sim/stats", timeout=2).status_code == 200,
                           timeout, 0.1):
            raise RuntimeError(f"the embedded simulator never listened on {self.sim_url}; see {self.log_path}")

    def log_tail(self, n: int = 2000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-n:]
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        self._stop_process()
        self.http.close()

    def _stop_process(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)  # the group this object created (start_new_session)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> "AppProcess":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- simulator control (http://127.0.0.1:SIM/_sim/...) ----------------------------------------
    def sim(self, method: str, path: str, **kw) -> httpx.Response:
        return self.http.request(method, self.sim_url + path, **kw)

    def sim_json(self, method: str, path: str, **kw):
        r = self.sim(method, path, **kw)
        r.raise_for_status()
        return r.json()


def staff_secrets(path, accounts: dict[str, str], *, extra: str = "") -> Path:
    """Write a secrets file with ``[staff]`` accounts (name -> password, stored as hashes) and return its path.

    ``extra`` is TOML put before the table (e.g. ``WPP_SESSION_HOURS = 8``)."""
    import json

    from wpp.access import hash_password

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [extra.strip(), "[staff]"] if extra.strip() else ["[staff]"]
    lines += [f"{json.dumps(name)} = {json.dumps(hash_password(password))}" for name, password in accounts.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def seed_numbers(sim_url: str, db_path, n: int, *, name: str = "Bench {i:03d}", connected: int = 0,
                 mint: bool = True, workers: int = 8) -> list[dict]:
    """Create ``n`` numbers as the service leaves them: a platform client on the simulator at ``sim_url``, a row
    in the SQLite file at ``db_path`` with apiKey and session and, when ``mint``, its first token and expiry
    (without it the app mints the tokens itself). The first ``connected`` phones are linked already. ``name``
    is formatted with ``i`` counting from 1."""
    import uuid

    from wpp.store.sqlite import SqliteStore
    from wpp.jwtinfo import expiry_from

    Path(db_path).parent.mkdir(parents=True, exist_ok=True)
    store = SqliteStore(str(db_path))
    try:
        with httpx.Client(base_url=sim_url, timeout=10, headers={"Authorization": f"Bearer {SIM_SECRET}"}) as http:
            def one(i: int) -> dict:
                org = str(uuid.uuid4())
                r = http.post("/api/integrations/wpp/create", json={"organizationId": org})
                r.raise_for_status()
                body = r.json()
                settings = {"wppApiKey": body["apiKey"], "wppAccountNumber": body["session"]}
                if mint:
                    tok = http.post("/auth/token", json={"apiKey": body["apiKey"]}).json()
                    exp_ms, _ = expiry_from(tok["token"], tok.get("expiresIn"), time.time())
                    settings.update(wppJwtToken=tok["token"], wppJwtExpiresAt=exp_ms)
                row = store.create(org, name=name.format(i=i), settings=settings)
                if i <= connected:
                    http.post(f"/_sim/accounts/{body['session']}/status", json={"state": "connected"}).raise_for_status()
                return {"id": row.id, "org": org, "session": body["session"]}

            with ThreadPoolExecutor(workers) as pool:
                return list(pool.map(one, range(1, n + 1)))
    finally:
        store.close()


def run_together(fn, n: int, *, timeout: float = 30) -> tuple[list, list[BaseException]]:
    """Call ``fn()`` from ``n`` threads released at the same moment; (results, exceptions), each in finishing order."""
    import threading

    barrier = threading.Barrier(n)
    results: list = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker():
        try:
            barrier.wait()
            out = fn()
        except Exception as exc:  # noqa: BLE001 - handed to the test, which asserts on it
            with lock:
                errors.append(exc)
        else:
            with lock:
                results.append(out)

    threads = [threading.Thread(target=worker) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    return results, errors
