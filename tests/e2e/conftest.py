"""End-to-end fixtures: a real ``streamlit run`` of the app (as README.md starts it) and Debian's Chromium.

* ``browser`` (session): Chromium through Playwright's sync API. A missing Chromium FAILS the run, never skips.
* ``app`` (session): one app process with its embedded simulator, shared by the journeys 1-4.
* ``AppProcess`` is also used directly by the fleet journey, which needs its own data directory.

Artefacts (screenshots, server logs) go to ``test-artifacts/e2e/`` in the repo root; its absolute path is printed
in the terminal summary of every run.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
ARTEFACTS = REPO / "test-artifacts" / "e2e"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: text that must never be in front of staff
PYTHON_ERROR_PATTERNS = (
    re.compile(r"Traceback"),
    re.compile(r"httpx", re.I),
    re.compile(r"\b[A-Z][A-Za-z]*(Error|Exception): "),  # "ConnectError: ...", "KeyError: ..."
    re.compile(r"File \"[^\"]+\.py\", line \d+"),
)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pytest_configure(config):
    ARTEFACTS.mkdir(parents=True, exist_ok=True)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if getattr(config, "_e2e_used", False):
        terminalreporter.write_sep("-", "e2e artefacts")
        terminalreporter.write_line(f"e2e screenshots and server logs: {ARTEFACTS}")


def pytest_collection_modifyitems(session, config, items):
    if any(item.get_closest_marker("e2e") for item in items):
        config._e2e_used = True


# --- the app process ------------------------------------------------------------------------------
class AppProcess:
    """``python -m streamlit run streamlit_app.py`` on a free loopback port, against its embedded simulator."""

    def __init__(self, name: str, data_dir: Path, **env):
        self.name = name
        self.data_dir = Path(data_dir)
        self.port = free_port()
        self.sim_port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.sim_url = f"http://127.0.0.1:{self.sim_port}"
        self.log_path = ARTEFACTS / f"server-{name}.log"
        self.extra_env = {k: str(v) for k, v in env.items()}
        self.proc: subprocess.Popen | None = None
        self._log = None
        self.http = httpx.Client(timeout=10)

    @property
    def db_path(self) -> Path:
        return self.data_dir / "wpp-console.db"  # wpp.service.build_service: f"{data_dir}/wpp-console.db"

    def start(self, timeout: float = 60) -> "AppProcess":
        self.data_dir.mkdir(parents=True, exist_ok=True)
        ARTEFACTS.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        for k in list(env):  # a developer's configuration must not leak into the demo run
            if k.startswith(("WPP_", "SUPABASE_", "DATABASE_URL")):
                env.pop(k)
        env.update(
            WPP_DATA_DIR=str(self.data_dir),
            WPP_SECRETS_FILE=str(self.data_dir / "none.toml"),
            WPP_SIM_PORT=str(self.sim_port),
            PYTHONUNBUFFERED="1",
            **self.extra_env,
        )
        cmd = [
            sys.executable, "-m", "streamlit", "run", "streamlit_app.py",
            "--server.port", str(self.port), "--server.address", "127.0.0.1", "--server.headless", "true",
        ]
        self._log = open(self.log_path, "w", buffering=1)
        self._log.write("$ " + " ".join(cmd) + "\n")
        self.proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with {self.proc.returncode}; see {self.log_path}")
            try:
                if self.http.get(self.url + "/_stcore/health", timeout=2).text.strip() == "ok":
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"streamlit did not become healthy in {timeout} s; see {self.log_path}")

    def wait_simulator(self, timeout: float = 30) -> None:
        """The embedded simulator starts with the first script run (st.cache_resource), i.e. the first page view."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.http.get(self.sim_url + "/_sim/stats", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"the embedded simulator never listened on {self.sim_url}; see {self.log_path}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # only our own process (and its group)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        if self._log is not None:
            self._log.close()
            self._log = None
        self.http.close()

    # --- simulator control (http://127.0.0.1:SIM/_sim/...) ----------------------------------------
    def sim(self, method: str, path: str, **kw) -> httpx.Response:
        r = self.http.request(method, self.sim_url + path, **kw)
        return r

    def sim_json(self, method: str, path: str, **kw):
        r = self.sim(method, path, **kw)
        r.raise_for_status()
        return r.json()


# --- fixtures -------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def playwright_sync():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_sync):
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(f"Chromium is missing at {CHROMIUM}: the e2e journeys need it. Install Debian's chromium "
                    "(apt-get install -y chromium) — never `playwright install`.", pytrace=False)
    b = playwright_sync.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    yield b
    b.close()


def open_page(browser, base_url: str):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, base_url=base_url,
                              timezone_id="Europe/Moscow", locale="en-GB")
    ctx.set_default_timeout(15_000)
    return ctx, ctx.new_page()


@pytest.fixture(scope="session")
def app(browser, tmp_path_factory):
    """The app as README.md starts it, with a quick poll and a QR that only rotates when a test says so."""
    a = AppProcess("journeys", tmp_path_factory.mktemp("wpp-data"),
                   WPP_POLL_SECONDS=1, WPP_SIM_QR_ROTATE=600).start()
    try:
        ctx, page = open_page(browser, a.url)  # the first page view starts the embedded simulator
        page.goto("/")
        a.wait_simulator()
        ctx.close()
        yield a
    finally:
        a.stop()


@pytest.fixture
def page(browser, app, request):
    ctx, pg = open_page(browser, app.url)
    yield pg
    ctx.close()


@pytest.fixture(scope="session")
def shared() -> dict:
    """What one journey leaves for the next (the connected number of journey 1)."""
    return {}


@pytest.fixture
def connected_number(app, browser, shared) -> dict:
    """A connected number: journey 1's first one, or (when a journey runs alone) one made the same way."""
    if "first" in shared:
        return shared["first"]
    import uuid

    from playwright.sync_api import expect

    from ._ui import create_number, goto

    ctx, page = open_page(browser, app.url)
    try:
        org = str(uuid.uuid4())
        goto(page, "/connect", title="➕ Connect a WhatsApp number")
        session = create_number(page, name="Front desk", org=org)
        qr = app.sim_json("GET", f"/_sim/accounts/{session}/qr-text")["qr"]
        app.sim_json("POST", f"/_sim/accounts/{session}/scan", json={"qr": qr})
        expect(page.get_by_text("The phone is connected")).to_be_visible(timeout=15_000)
    finally:
        ctx.close()
    shared["first"] = {"session": session, "org": org, "name": "Front desk"}
    return shared["first"]
