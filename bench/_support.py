"""Shared pieces of the benchmarks: figures and tables, loopback ports, the app under `streamlit run`,
headless Chromium, and process memory. Nothing here is a test; every figure is printed with the core count."""
from __future__ import annotations

import contextlib
import os
import signal
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
if str(ROOT) not in sys.path:  # `python bench/bench_x.py` from anywhere
    sys.path.insert(0, str(ROOT))

# one harness for starting the app, Chromium and seeding numbers, shared with the end-to-end tests
from tests.harness import LOOPBACK, AppProcess, free_port, launch_chromium, seed_numbers  # noqa: E402,F401 (re-exported)


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
@contextlib.contextmanager
def app_server(**env):
    """The app as README.md starts it (tests/harness.py), spawned and not yet healthy (``wait_healthy``), with a
    throw-away data folder and log; ``env`` adds settings, e.g. ``WPP_POLL_SECONDS=3``."""
    with tempfile.TemporaryDirectory(prefix="wpp-bench-app-") as tmp:
        with AppProcess("bench", Path(tmp) / "data", log_dir=Path(tmp), **env).spawn() as app:
            yield app


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
