"""Viewers: what open Numbers tabs cost the app (issue 14 "cheap viewers"), with 100 and 500 connected numbers.

`streamlit run` in demo mode (its simulator in the app's process, as `./run.sh` starts it); N numbers are created on
that simulator, linked ("connected") and saved in the app's SQLite file; the status engine polls them (every 60 s
once stable). Then, for each N:

1. baseline: no browser open, the app's CPU (utime + stime of its process tree, /proc) over HOLD_S seconds — the
   status engine and the simulator answering it;
2. 20 tabs of one Chromium open the Numbers page at the same moment (each tab is its own Streamlit session); the
   figure is the time from the first request until every one of them shows its table (the grid's rows);
3. they stay, idle, for HOLD_S seconds (the board does not change: the numbers stay connected); the app's CPU
   minus the baseline, divided by 20, is the CPU per idle viewer. Goal <= 0.01 core.

RSS of the app's tree is sampled all along; its peak with 500 numbers and 20 sessions is reported against the old
400 MB goal. Chromium runs on the same cores (2 here): opening 20 tabs is mostly Chromium's own work (loading and
drawing Streamlit's front end), reported beside the app's CPU in the notes; in an office every tab is on its own
computer.
"""
from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _support import (CORES, Figure, app_server, cpu_seconds, launch_chromium, log, process_tree,  # noqa: E402
                      seed_numbers, standalone, tree_rss_mb)

SIZES = (100, 500)
TABS = 20
HOLD_S = 30.0
CPU_GOAL = 0.01  # cores per idle viewer
OPEN_GOAL_S = 60.0  # 20 tabs on 500 numbers
RSS_GOAL_MB = 400.0
GRID_ROW = '[data-testid="stDataFrame"] [role="row"]'
TIMEOUT_MS = 300_000


class RssSampler(threading.Thread):
    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak = pid, 0.0
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            self.peak = max(self.peak, tree_rss_mb(self.pid)[0])
            self._halt.wait(0.25)

    def stop(self) -> None:
        self._halt.set()
        self.join(2)


def _app_cpu(pid: int) -> float:
    return cpu_seconds(process_tree(pid))


def _others_cpu(app_pid: int) -> float:
    """CPU seconds of what this bench started besides the app: Playwright's driver and Chromium."""
    return cpu_seconds(set(process_tree(os.getpid())) - set(process_tree(app_pid)) - {os.getpid()})


def _hold(pid: int, seconds: float) -> float:
    c0, t0 = _app_cpu(pid), time.perf_counter()
    time.sleep(seconds)
    return (_app_cpu(pid) - c0) / (time.perf_counter() - t0)


def _polled(app, n: int, timeout: float = 180.0) -> None:
    """Wait until the status engine has asked about every number at least once."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        stats = app.sim_json("GET", "/_sim/stats")
        if stats["requests"].get("GET /api/accounts/{session}/status", 0) >= n:
            return
        time.sleep(1.0)
    raise RuntimeError(f"the status engine did not check the {n} numbers within {timeout:.0f} s")


def one_size(pw, n: int) -> dict:
    with app_server(WPP_POLL_SECONDS=3) as app:
        app.wait_healthy()
        browser = launch_chromium(pw)
        sampler = RssSampler(app.proc.pid)
        sampler.start()
        contexts = []
        try:
            ctx = browser.new_context(viewport={"width": 1400, "height": 900})
            page = ctx.new_page()
            page.goto(app.url)  # the first page view starts the embedded simulator and the status engine
            page.get_by_role("heading").first.wait_for(timeout=60_000)
            app.wait_simulator()
            ctx.close()
            t = time.perf_counter()
            seed_numbers(app.sim_url, app.db_path, n, connected=n)
            log(f"{n} connected numbers seeded in {time.perf_counter() - t:.1f} s; waiting for the first poll")
            _polled(app, n)
            time.sleep(15)  # past the "fast after a change" window of the first answers
            base = _hold(app.proc.pid, HOLD_S)
            log(f"baseline (no tab): {base:.3f} cores; opening {TABS} tabs at once")
            pages = []
            tabs = browser.new_context(viewport={"width": 1400, "height": 900})
            contexts.append(tabs)
            app0, browser0 = _app_cpu(app.proc.pid), _others_cpu(app.proc.pid)
            t0 = time.perf_counter()
            for _ in range(TABS):
                p = tabs.new_page()
                p.goto(app.url, wait_until="commit", timeout=TIMEOUT_MS)
                pages.append(p)
            for p in pages:
                p.locator(GRID_ROW).nth(1).wait_for(state="attached", timeout=TIMEOUT_MS)
            opened = time.perf_counter() - t0
            open_app, open_browser = _app_cpu(app.proc.pid) - app0, _others_cpu(app.proc.pid) - browser0
            log(f"{TABS} tabs show their table after {opened:.1f} s; holding {HOLD_S:.0f} s")
            time.sleep(5)  # the tabs' first fragment ticks settle
            held = _hold(app.proc.pid, HOLD_S)
            alive = sum(1 for p in pages if p.locator(GRID_ROW).count() > 1)
        finally:
            for c in contexts:
                try:
                    c.close()
                except Exception:  # noqa: BLE001
                    pass
            browser.close()
            sampler.stop()
        requests = app.sim_json("GET", "/_sim/stats")["requests"]
    return {"n": n, "base": base, "held": held, "per_viewer": max(0.0, held - base) / TABS, "opened": opened,
            "open_app": open_app, "open_browser": open_browser,
            "peak": sampler.peak, "alive": alive, "status_requests": requests.get("GET /api/accounts/{session}/status", 0)}


def run() -> list[Figure]:
    from playwright.sync_api import sync_playwright

    results = []
    with sync_playwright() as pw:
        for n in SIZES:
            log(f"--- {n} numbers")
            results.append(one_size(pw, n))
    figs = []
    for r in results:
        figs.append(Figure("viewers", f"app CPU per idle viewer, {r['n']} numbers, {TABS} tabs",
                           f"{r['per_viewer']:.4f} cores", f"<= {CPU_GOAL} core", r["per_viewer"] <= CPU_GOAL, [
                               f"app CPU: {r['base']:.3f} cores with no tab (status engine + in-process simulator), "
                               f"{r['held']:.3f} with {TABS} idle tabs, over {HOLD_S:.0f} s each; {r['alive']}/{TABS} "
                               f"tabs still showing the table; {r['status_requests']} status requests in all"]))
    big = results[-1]
    figs.append(Figure("viewers", f"time until {TABS} tabs on {big['n']} numbers all show their table",
                       f"{big['opened']:.1f} s", f"<= {OPEN_GOAL_S:.0f} s on {CORES} cores", big["opened"] <= OPEN_GOAL_S,
                       [f"opened at the same moment in one browser; CPU meanwhile: app {big['open_app']:.1f} s, "
                        f"Chromium {big['open_browser']:.1f} s (on the same {CORES} cores); with 100 numbers: "
                        f"{results[0]['opened']:.1f} s (app {results[0]['open_app']:.1f} s, Chromium "
                        f"{results[0]['open_browser']:.1f} s)"]))
    figs.append(Figure("viewers", f"app RSS peak, {big['n']} numbers, {TABS} browser sessions", f"{big['peak']:.0f} MB",
                       f"< {RSS_GOAL_MB:.0f} MB", big["peak"] < RSS_GOAL_MB, []))
    return figs


if __name__ == "__main__":
    sys.exit(standalone("Viewers", run))
