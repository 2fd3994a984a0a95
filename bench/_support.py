"""Shared pieces of the benchmarks: figures and tables, loopback ports, the app under `streamlit run`,
headless Chromium, and process memory. Nothing here is a test; every figure is printed with the core count."""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import httpx

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
CORES = os.cpu_count() or 1
LOOPBACK = "127.0.0.1"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

if str(ROOT) not in sys.path:  # `python bench/bench_x.py` from anywhere
    sys.path.insert(0, str(ROOT))


# --- figures ---------------------------------------------------------------------------------------
@dataclass
class Figure:
    bench: str  # which script
    name: str  # what was measured
    value: str  # the figure, with its unit
    goal: str  # the goal, or "—" for a figure reported for context
    met: bool | None  # None: no goal (context figure)
    notes: list[str] = field(default_factory=list)

    @property
    def met_text(self) -> str:
        return "—" if self.met is None else ("yes" if self.met else "NO")


def table(figures: Iterable[Figure]) -> str:
    """A Markdown table (readable as plain text too)."""
    figs = list(figures)
    head = ["bench", "figure", "value", "goal", "met", "cores"]
    rows = [[f.bench, f.name, f.value, f.goal, f.met_text, str(CORES)] for f in figs]
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(head)]
    line = lambda cells: "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths)) + " |"  # noqa: E731
    out = [line(head), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(r) for r in rows]
    return "\n".join(out)


def notes_text(figures: Iterable[Figure]) -> str:
    out = []
    for f in figures:
        for n in f.notes:
            out.append(f"- [{f.bench}] {f.name}: {n}")
    return "\n".join(out)


def machine_line() -> str:
    import platform

    return (f"cores (os.cpu_count()) = {CORES}; Python {platform.python_version()}; "
            f"{platform.system()} {platform.release()}; {time.strftime('%Y-%m-%d %H:%M:%S')}")


def report(title: str, figures: list[Figure]) -> str:
    parts = [f"## {title}", "", machine_line(), "", table(figures)]
    n = notes_text(figures)
    if n:
        parts += ["", "Notes:", n]
    return "\n".join(parts)


def standalone(title: str, run: Callable[[], list[Figure]]) -> int:
    """`python bench/bench_x.py`: run, print the table, exit 0 when every goal is met."""
    t0 = time.perf_counter()
    figures = run()
    print()
    print(report(title, figures))
    print(f"\n({title}: {time.perf_counter() - t0:.1f} s wall)")
    return 0 if all(f.met is not False for f in figures) else 1


def quantiles(values: list[float]) -> tuple[float, float, float]:
    """(median, p95, max)."""
    v = sorted(values)
    if not v:
        return float("nan"), float("nan"), float("nan")
    p95 = v[min(len(v) - 1, int(round(0.95 * (len(v) - 1))))]
    return statistics.median(v), p95, v[-1]


def log(msg: str) -> None:
    print(f"  · {msg}", flush=True)


# --- loopback ports ------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


# --- memory --------------------------------------------------------------------------------------------
def _children(pid: int) -> list[int]:
    kids: list[int] = []
    task_dir = Path(f"/proc/{pid}/task")
    try:
        for t in task_dir.iterdir():
            try:
                kids += [int(x) for x in (t / "children").read_text().split()]
            except OSError:
                pass
    except OSError:
        pass
    return kids


def process_tree(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += _children(p)
    return out


def rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_seconds(pids: Iterable[int]) -> float:
    """utime + stime of the given processes (live ones), in seconds."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return total / tick


def tree_rss_mb(pid: int) -> tuple[float, int]:
    """(RSS of the process and all its descendants in MB, number of processes)."""
    pids = process_tree(pid)
    return sum(rss_kb(p) for p in pids) / 1024.0, len(pids)


# --- the app under `streamlit run` ---------------------------------------------------------------------
class AppServer:
    """`streamlit run streamlit_app.py` in demo mode on loopback, with its own data folder and simulator port.

    Only the process this object started is ever stopped (by its pid / process group).
    """

    def __init__(self, *, data_dir: str | None = None, env: dict | None = None, poll_seconds: float | None = None,
                 qr_rotate_s: float | None = None):
        self._own_tmp = None
        if data_dir is None:
            self._own_tmp = tempfile.mkdtemp(prefix="wpp-bench-app-")
            data_dir = self._own_tmp
        self.data_dir = data_dir
        self.port = free_port()
        self.sim_port = free_port()
        while self.sim_port == self.port:
            self.sim_port = free_port()
        self.url = f"http://{LOOPBACK}:{self.port}"
        self.sim_url = f"http://{LOOPBACK}:{self.sim_port}"
        self.env = {k: v for k, v in os.environ.items()
                    if k not in ("WPP_BASE_URL", "WPP_SECRET", "SUPABASE_URL", "SUPABASE_KEY", "DATABASE_URL",
                                 "WPP_DEMO_SIGN_IN")}
        self.env.update({
            "WPP_DATA_DIR": data_dir,
            "WPP_SECRETS_FILE": "/nonexistent",
            "WPP_SIM_PORT": str(self.sim_port),
            "PYTHONUNBUFFERED": "1",
        })
        if poll_seconds is not None:
            self.env["WPP_POLL_SECONDS"] = str(poll_seconds)
        if qr_rotate_s is not None:
            self.env["WPP_SIM_QR_ROTATE"] = str(qr_rotate_s)
        self.env.update(env or {})
        self.proc: subprocess.Popen | None = None
        self.started_at: float | None = None
        self._log = None

    @property
    def db_path(self) -> str:
        return f"{self.data_dir}/wpp-console.db"

    def start(self) -> "AppServer":
        self._log = tempfile.NamedTemporaryFile(prefix="wpp-bench-streamlit-", suffix=".log", delete=False)
        cmd = [sys.executable, "-m", "streamlit", "run", "streamlit_app.py",
               "--server.port", str(self.port), "--server.address", LOOPBACK, "--server.headless", "true",
               "--browser.gatherUsageStats", "false"]
        self.started_at = time.perf_counter()
        self.proc = subprocess.Popen(cmd, cwd=str(ROOT), env=self.env, stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        return self

    def wait_healthy(self, timeout: float = 30.0) -> float:
        """Seconds from start() until /_stcore/health answers ok."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with {self.proc.returncode}; log: {self.log_tail()}")
            try:
                if httpx.get(self.url + "/_stcore/health", timeout=1.0).text.strip() == "ok":
                    return time.perf_counter() - self.started_at
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise TimeoutError(f"streamlit did not become healthy in {timeout} s; log: {self.log_tail()}")

    def wait_simulator(self, timeout: float = 30.0) -> None:
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            try:
                if httpx.get(self.sim_url + "/_sim/stats", timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise TimeoutError("the app's simulator did not start (open a page first: it starts with the service)")

    def log_tail(self, n: int = 2000) -> str:
        try:
            return Path(self._log.name).read_text(errors="replace")[-n:]
        except Exception:  # noqa: BLE001
            return "(no log)"

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)  # the group this object created (start_new_session)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        if self._log is not None:
            self._log.close()
            with contextlib.suppress(OSError):
                os.unlink(self._log.name)
        if self._own_tmp:
            shutil.rmtree(self._own_tmp, ignore_errors=True)

    def __enter__(self) -> "AppServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class SimProcess:
    """The embedded simulator alone in its own process (`python -m wpp.simulator`), as the real platform is: its
    CPU is not the console's. Stopped by the pid of the process group this object created."""

    SECRET = "sim-platform-secret"  # the simulator's default (fake, loopback-only) platform secret

    def __init__(self, *args: str):
        self.port = free_port()
        self.url = f"http://{LOOPBACK}:{self.port}"
        self.args = list(args)
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 30.0) -> "SimProcess":
        self.proc = subprocess.Popen([sys.executable, "-m", "wpp.simulator", "--port", str(self.port), *self.args],
                                     cwd=str(ROOT), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the simulator exited with {self.proc.returncode}")
            try:
                if httpx.get(self.url + "/_sim/stats", timeout=1.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.stop()
        raise TimeoutError(f"the simulator did not answer in {timeout} s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)

    def __enter__(self) -> "SimProcess":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def launch_chromium(pw):
    return pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)


def seed_numbers(sim_url: str, db_path: str, n: int, *, name_prefix: str = "Bench") -> list[dict]:
    """Create ``n`` numbers as the service would leave them: a platform client on the simulator at ``sim_url``
    (over HTTP, with the simulator's platform secret), its first token, and a row in the SQLite file at
    ``db_path`` holding apiKey, session, token and expiry (the settings keys the service writes)."""
    import uuid
    from concurrent.futures import ThreadPoolExecutor

    from wpp.store.sqlite import SqliteStore
    from wpp.tokens import expiry_from

    secret = "sim-platform-secret"  # the embedded simulator's (fake, loopback-only) platform secret
    store = SqliteStore(db_path)
    with httpx.Client(base_url=sim_url, timeout=10, headers={"Authorization": f"Bearer {secret}"}) as http:
        def one(i: int) -> dict:
            org = str(uuid.uuid4())
            body = http.post("/api/integrations/wpp/create", json={"organizationId": org}).json()
            tok = http.post("/auth/token", json={"apiKey": body["apiKey"]}).json()
            exp_ms, _ = expiry_from(tok["token"], tok.get("expiresIn"), time.time())
            row = store.create(org, name=f"{name_prefix} {i:03d}",
                               settings={"wppApiKey": body["apiKey"], "wppAccountNumber": body["session"],
                                         "wppJwtToken": tok["token"], "wppJwtExpiresAt": exp_ms})
            return {"id": row.id, "org": org, "session": body["session"]}

        with ThreadPoolExecutor(8) as pool:
            out = list(pool.map(one, range(n)))
    store.close()
    return out
