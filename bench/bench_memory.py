"""Memory: the app process with 500 numbers and 20 browser sessions stays under 400 MB RSS.

`streamlit run` in demo mode (its own simulator in-process); 500 numbers are created on that simulator and saved
in its SQLite file; then 20 Chromium contexts (one browser session each) open the Numbers page, one after the
other (each until its table shows), and stay on it while it refreshes every 3 s. VmRSS of the streamlit process
plus any children (/proc/PID/status) is sampled every 0.25 s from start to end; the peak is the figure.

For context it also reports CPU (utime + stime from /proc) of the app and of Chromium while the tabs open and
while they are held, and how long opening the tabs took: with 20 tabs on 2 cores that is where the time goes.
"""
from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _support import (CORES, app_server, Figure, cpu_seconds, launch_chromium, log, process_tree,  # noqa: E402
                      seed_numbers, standalone, tree_rss_mb)

ROWS = 500
SESSIONS = 20
HOLD_S = 15.0  # on the page with all sessions open: five refresh cycles
GOAL_MB = 400.0
ONE_HOLD_S = 9.0  # one tab on the filled page: three refresh cycles
TABLE = '[data-testid="stDataFrame"]'
OPEN_TIMEOUT_MS = 180_000


class Sampler(threading.Thread):
    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid = pid
        self.samples: list[tuple[float, float, int]] = []
        self.marks: dict[str, float] = {}
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            mb, n = tree_rss_mb(self.pid)
            if mb:
                self.samples.append((time.perf_counter(), mb, n))
            self._halt.wait(0.25)

    def mark(self, name: str) -> float:
        mb, _ = tree_rss_mb(self.pid)
        self.marks[name] = mb
        return mb

    def stop(self) -> None:
        self._halt.set()
        self.join(2)


def _cpu(app_pid: int) -> tuple[float, float]:
    """(CPU seconds of the app's tree, of everything else this bench started: Playwright's driver and Chromium)."""
    app = set(process_tree(app_pid))
    rest = set(process_tree(os.getpid())) - app - {os.getpid()}
    return cpu_seconds(app), cpu_seconds(rest)


def run() -> list[Figure]:
    from playwright.sync_api import sync_playwright

    with app_server() as app, sync_playwright() as pw:
        app.wait_healthy()
        sampler = Sampler(app.proc.pid)
        sampler.start()
        sampler.mark("started (no page yet)")
        browser = launch_chromium(pw)
        contexts = []
        try:
            first = browser.new_context(viewport={"width": 1400, "height": 900})
            contexts.append(first)
            page = first.new_page()
            page.goto(app.url)
            page.get_by_text("WhatsApp numbers").first.wait_for(timeout=60000)
            app.wait_simulator()
            sampler.mark("1 session, empty store")
            t = time.perf_counter()
            seed_numbers(app.sim_url, app.db_path, ROWS)
            log(f"seeded {ROWS} numbers in {time.perf_counter() - t:.1f} s")
            page.reload()
            page.locator(TABLE).first.wait_for(timeout=60000)
            sampler.mark(f"1 session, {ROWS} numbers")
            c0 = _cpu(app.proc.pid)
            time.sleep(ONE_HOLD_S)
            c1 = _cpu(app.proc.pid)
            one_app_cores = (c1[0] - c0[0]) / ONE_HOLD_S
            pages = [page]
            # one tab after the other, each until it shows the table: the k-th opens while k-1 others poll
            open_s: list[float] = []
            t = time.perf_counter()
            cpu0 = _cpu(app.proc.pid)
            for _ in range(SESSIONS - 1):
                ctx = browser.new_context(viewport={"width": 1400, "height": 900})
                contexts.append(ctx)
                p = ctx.new_page()
                t1 = time.perf_counter()
                p.goto(app.url, wait_until="commit", timeout=OPEN_TIMEOUT_MS)
                p.locator(TABLE).first.wait_for(timeout=OPEN_TIMEOUT_MS)
                open_s.append(time.perf_counter() - t1)
                pages.append(p)
            opened_s = time.perf_counter() - t
            cpu1 = _cpu(app.proc.pid)
            open_app_cores, open_browser_cores = ((b - a) / opened_s for a, b in zip(cpu0, cpu1))
            sampler.mark(f"{SESSIONS} sessions open")
            log(f"{SESSIONS} sessions on the Numbers page after {opened_s:.1f} s; holding {HOLD_S:.0f} s")
            time.sleep(HOLD_S)
            cpu2 = _cpu(app.proc.pid)
            app_cores, browser_cores = ((b - a) / HOLD_S for a, b in zip(cpu1, cpu2))
            end = sampler.mark(f"{SESSIONS} sessions after {HOLD_S:.0f} s")
            alive = sum(1 for p in pages if p.get_by_text("WhatsApp numbers").count())
        finally:
            sampler.stop()
            for c in contexts:
                try:
                    c.close()
                except Exception:  # noqa: BLE001
                    pass
            browser.close()
    peak = max(mb for _, mb, _ in sampler.samples)
    procs = max(n for _, _, n in sampler.samples)
    notes = ["RSS at: " + "; ".join(f"{k}: {v:.0f} MB" for k, v in sampler.marks.items()),
             f"{len(sampler.samples)} samples; processes in the app's tree: {procs}; {alive}/{SESSIONS} pages still "
             f"showing the Numbers page at the end",
             f"opening tabs 2..{SESSIONS} one after the other took {opened_s:.1f} s (per tab, s: "
             + ", ".join(f"{x:.1f}" for x in open_s) + f"); CPU meanwhile: app {open_app_cores:.2f} cores, "
             f"Chromium {open_browser_cores:.2f} cores (of {CORES})",
             f"app CPU with 1 tab on the {ROWS}-row page for {ONE_HOLD_S:.0f} s: {one_app_cores:.2f} cores (the "
             f"status board's background refresh is shared by all tabs; the rest grows with the tabs)",
             f"holding {HOLD_S:.0f} s with {SESSIONS} tabs re-running the {ROWS}-row table every poll: app "
             f"{app_cores:.2f} cores, Chromium {browser_cores:.2f} cores (of {CORES}; one Python process uses at "
             f"most ~1 core for Python code)"]
    return [
        Figure("memory", f"app RSS peak, {ROWS} numbers, {SESSIONS} browser sessions", f"{peak:.0f} MB",
               f"< {GOAL_MB:.0f} MB", peak < GOAL_MB, notes),
        Figure("memory", "app RSS at the end of the hold", f"{end:.0f} MB", "—", None),
        Figure("memory", f"app CPU, 1 / {SESSIONS} sessions on the Numbers page",
               f"{one_app_cores:.2f} / {app_cores:.2f} cores", "—", None),
        Figure("memory", f"time to open tabs 2..{SESSIONS} (each until its table shows)", f"{opened_s:.0f} s", "—",
               None),
    ]


if __name__ == "__main__":
    sys.exit(standalone("Memory", run))
