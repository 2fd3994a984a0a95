"""Memory: the app process with 500 numbers and 20 browser sessions stays under 400 MB RSS.

`streamlit run` in demo mode (its own simulator in-process); 500 numbers are created on that simulator and saved
in its SQLite file; then 20 Chromium contexts (one browser session each) open the Numbers page and stay on it
while it refreshes every 3 s. VmRSS of the streamlit process plus any children (/proc/PID/status) is sampled
every 0.25 s from start to end; the peak is the figure.
"""
from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _support import AppServer, Figure, launch_chromium, log, seed_numbers, standalone, tree_rss_mb  # noqa: E402

ROWS = 500
SESSIONS = 20
HOLD_S = 15.0  # on the page with all sessions open: five refresh cycles
GOAL_MB = 400.0


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


def run() -> list[Figure]:
    from playwright.sync_api import sync_playwright

    with AppServer() as app, sync_playwright() as pw:
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
            page.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=60000)
            sampler.mark(f"1 session, {ROWS} numbers")
            pages = [page]
            t = time.perf_counter()
            for _ in range(SESSIONS - 1):
                ctx = browser.new_context(viewport={"width": 1400, "height": 900})
                contexts.append(ctx)
                p = ctx.new_page()
                p.goto(app.url)
                pages.append(p)
            for p in pages:
                p.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=120000)
            opened_s = time.perf_counter() - t
            sampler.mark(f"{SESSIONS} sessions open")
            log(f"{SESSIONS} sessions on the Numbers page after {opened_s:.1f} s; holding {HOLD_S:.0f} s")
            time.sleep(HOLD_S)
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
             f"showing the Numbers page at the end"]
    return [
        Figure("memory", f"app RSS peak, {ROWS} numbers, {SESSIONS} browser sessions", f"{peak:.0f} MB",
               f"< {GOAL_MB:.0f} MB", peak < GOAL_MB, notes),
        Figure("memory", "app RSS at the end of the hold", f"{end:.0f} MB", "—", None),
    ]


if __name__ == "__main__":
    sys.exit(standalone("Memory", run))
