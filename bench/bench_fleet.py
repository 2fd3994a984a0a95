"""Fleet status: 500 numbers, 100 ms platform latency on every request. Goal: WppService.fleet_status(rows)
refreshes them all in <= 1.5 s (one after another it would take 50 s). Reported as the ratio to the ideal
ceil(N / fleet_concurrency) x latency, with the peak number of requests in flight.

The service is wired by wpp.service.build_service from Settings (default fleet_concurrency; the client and its
connection pool exactly as the app gets them). Tokens are warm (minted when the numbers were created, with no
latency), so a refresh is exactly one status request per number. Five refreshes; the first also opens the
connections.

Where the platform runs:
- the goal is judged with the simulator in its own process (`python -m wpp.simulator`), as the real platform is
  on another machine: the CPU it burns answering 500 requests is not the console's;
- for context, the same refresh with the simulator inside the console's process (demo mode), where the two
  share one interpreter lock.

Instrumentation only (nothing is changed): a wrapper around httpx.HTTPTransport.handle_request counts requests
in flight (whatever pools the client keeps), and httpcore's ConnectionPool._assign_requests_to_connections (the pool's bookkeeping, run
when a request enters the pool and when its response is closed) is timed with time.thread_time(), to show how
much of the client's CPU is connection-pool bookkeeping rather than HTTP.
"""
from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _support import CORES, Figure, SimProcess, log, seed_numbers, standalone  # noqa: E402

N = 500
LATENCY_S = 0.1
RUNS = 5
GOAL_S = 1.5
STATUS = "GET /api/accounts/{session}/status"


class InFlight:
    """Counts requests in flight (sent, answer headers not yet back), while installed, by wrapping
    httpx.HTTPTransport.handle_request: every connection pool the client keeps goes through it, however the
    client splits them (one pool, shards, a queue of transports)."""

    def __init__(self):
        self.original = httpx.HTTPTransport.handle_request
        self.lock = threading.Lock()
        self.in_flight = 0
        self.peak = 0
        self.spans: list[tuple[float, float]] = []

    def __enter__(self) -> "InFlight":
        original, me = self.original, self

        def counted(transport, request):
            start = time.perf_counter()
            with me.lock:
                me.in_flight += 1
                me.peak = max(me.peak, me.in_flight)
            try:
                return original(transport, request)
            finally:
                end = time.perf_counter()
                with me.lock:
                    me.in_flight -= 1
                    me.spans.append((start, end))

        httpx.HTTPTransport.handle_request = counted
        return self

    def __exit__(self, *exc) -> None:
        httpx.HTTPTransport.handle_request = self.original

    def reset(self) -> None:
        with self.lock:
            self.peak = self.in_flight
            self.spans = []


class PoolBookkeeping:
    """CPU time (thread_time) spent in httpcore's connection-pool assignment pass, while installed."""

    def __init__(self):
        from httpcore._sync.connection_pool import ConnectionPool

        self.cls = ConnectionPool
        self.original = ConnectionPool._assign_requests_to_connections
        self.lock = threading.Lock()
        self.cpu = 0.0
        self.calls = 0

    def __enter__(self) -> "PoolBookkeeping":
        original, me = self.original, self

        def timed(pool, *a, **k):
            t = time.thread_time()
            try:
                return original(pool, *a, **k)
            finally:
                d = time.thread_time() - t
                with me.lock:
                    me.cpu += d
                    me.calls += 1

        self.cls._assign_requests_to_connections = timed
        return self

    def __exit__(self, *exc) -> None:
        self.cls._assign_requests_to_connections = self.original

    def take(self) -> tuple[float, int]:
        with self.lock:
            out = (self.cpu, self.calls)
            self.cpu, self.calls = 0.0, 0
        return out


def _one(where: str, concurrency: int | None, runs: int) -> dict:
    """``where``: "process" (simulator in its own process) or "inprocess" (in this process, as in demo mode)."""
    from wpp.config import Settings
    from wpp.masking import Secret
    from wpp.service import build_service
    from wpp.simulator import SimKnobs, Simulator
    from wpp.store.sqlite import SqliteStore

    settings = Settings()
    if concurrency is not None:
        settings.fleet_concurrency = concurrency
    tmp = tempfile.mkdtemp(prefix="wpp-bench-fleet-")
    db = f"{tmp}/wpp-console.db"
    sim_proc = sim_thread = svc = store = None
    try:
        if where == "process":
            sim_proc = SimProcess().start()
            sim_url = sim_proc.url
            settings.wpp_base_url, settings.wpp_secret = sim_url, Secret(SimProcess.SECRET)
        else:
            sim_thread = Simulator(SimKnobs()).start()
            sim_url = sim_thread.base_url
        seed_numbers(sim_url, db, N)
        store = SqliteStore(db)
        svc = build_service(settings, store=store, simulator=sim_thread)
        rows = svc.list_numbers()
        assert len(rows) == N, len(rows)
        control = httpx.Client(base_url=sim_url, timeout=10)
        control.post("/_sim/knobs", json={"latency_s": LATENCY_S}).raise_for_status()
        results = []
        with PoolBookkeeping() as pool, InFlight() as counting:
            for _ in range(runs):
                control.post("/_sim/reset", json={}).raise_for_status()
                counting.reset()
                pool.take()
                cpu0 = time.process_time()
                t0 = time.perf_counter()
                frs = svc.fleet_status(rows)
                wall = time.perf_counter() - t0
                cpu = time.process_time() - cpu0
                pool_cpu, pool_calls = pool.take()
                spans = list(counting.spans)
                requests = control.get("/_sim/stats").json()["requests"]
                durs = [e - s for s, e in spans]
                results.append({
                    "wall": wall, "peak": counting.peak, "cpu": cpu, "pool_cpu": pool_cpu, "pool_calls": pool_calls,
                    "ok": sum(1 for f in frs if f.error is None and f.status is not None),
                    "status_calls": requests.get(STATUS, 0), "mints": requests.get("POST /auth/token", 0),
                    "req_median": statistics.median(durs) if durs else float("nan"),
                    "req_max": max(durs) if durs else float("nan"),
                    "last_start": max(s for s, _ in spans) - t0 if spans else float("nan"),
                })
        control.close()
        return {"conc": settings.fleet_concurrency, "runs": results}
    finally:
        if svc is not None:
            svc.close()
            svc.client.close()
        if store is not None:
            store.close()
        if sim_thread is not None:
            sim_thread.stop()
        if sim_proc is not None:
            sim_proc.stop()


def _summary(res: dict) -> dict:
    conc = res["conc"]
    ideal = math.ceil(N / conc) * LATENCY_S
    walls = [r["wall"] for r in res["runs"]]
    cpu = sum(r["cpu"] for r in res["runs"])
    pool_cpu = sum(r["pool_cpu"] for r in res["runs"])
    return {"conc": conc, "ideal": ideal, "walls": walls, "median": statistics.median(walls), "worst": max(walls),
            "peak": max(r["peak"] for r in res["runs"]), "cpu_ms_per_req": 1000 * cpu / (N * len(walls)),
            "pool_share": pool_cpu / cpu if cpu else float("nan")}


def _run_notes(res: dict) -> list[str]:
    out = []
    for i, r in enumerate(res["runs"]):
        out.append(
            f"refresh {i + 1}: {r['wall']:.2f} s, {r['ok']}/{N} ok, {r['status_calls']} status requests, "
            f"{r['mints']} mints, per request median {r['req_median'] * 1000:.0f} ms / max {r['req_max'] * 1000:.0f} "
            f"ms, last sent at {r['last_start']:.2f} s, peak in flight {r['peak']}; this process's CPU "
            f"{r['cpu']:.2f} s, of it httpcore pool bookkeeping {r['pool_cpu']:.2f} s ({r['pool_calls']} passes)")
    return out


def run(sweep: bool = False) -> list[Figure]:
    log(f"{N} numbers, latency {LATENCY_S * 1000:.0f} ms, default fleet_concurrency, {RUNS} refreshes; "
        "simulator in its own process")
    main = _one("process", None, RUNS)
    m = _summary(main)
    log("the same with the simulator inside this process (demo mode)")
    demo = _one("inprocess", None, RUNS)
    d = _summary(demo)
    conc, ideal = m["conc"], m["ideal"]
    notes = [
        f"fleet_concurrency={conc}; ideal ceil({N}/{conc}) x {LATENCY_S:.1f} s = {ideal:.2f} s; sequential would "
        f"be {N * LATENCY_S:.0f} s; refreshes (s): " + ", ".join(f"{w:.2f}" for w in m["walls"])
        + f"; ratio to ideal: median {m['median'] / ideal:.2f}, worst {m['worst'] / ideal:.2f}",
        f"the console's CPU per status request: {m['cpu_ms_per_req']:.2f} ms, of which "
        f"{100 * m['pool_share']:.0f}% in httpcore's ConnectionPool._assign_requests_to_connections",
        *_run_notes(main),
    ]
    demo_notes = [
        "refreshes (s): " + ", ".join(f"{w:.2f}" for w in d["walls"]) + f"; ratio to ideal: median "
        f"{d['median'] / ideal:.2f}; CPU per request {d['cpu_ms_per_req']:.2f} ms (console + simulator, one "
        f"interpreter), {100 * d['pool_share']:.0f}% of it httpcore pool bookkeeping",
        *_run_notes(demo),
    ]
    figs = [
        Figure("fleet", f"fleet_status, {N} numbers, 100 ms latency, median of {RUNS} (ratio to ideal)",
               f"{m['median']:.2f} s ({m['median'] / ideal:.2f}x)", f"<= {GOAL_S} s", m["median"] <= GOAL_S, notes),
        Figure("fleet", "fleet_status, worst of the refreshes (ratio to ideal)",
               f"{m['worst']:.2f} s ({m['worst'] / ideal:.2f}x)", f"<= {GOAL_S} s", m["worst"] <= GOAL_S),
        Figure("fleet", "peak requests in flight", str(max(m["peak"], d["peak"])), f"<= fleet_concurrency ({conc})",
               max(m["peak"], d["peak"]) <= conc),
        Figure("fleet", "the same, simulator inside the app's process (demo mode), median",
               f"{d['median']:.2f} s ({d['median'] / ideal:.2f}x)", "—", None, demo_notes),
    ]
    if sweep:
        for c in (25, 100, 125):
            s = _summary(_one("process", c, 2))
            figs.append(Figure("fleet", f"sweep: fleet_concurrency={c}, best of 2", f"{min(s['walls']):.2f} s, peak "
                               f"{s['peak']}", "—", None,
                               [f"ideal {s['ideal']:.2f} s; ratio {min(s['walls']) / s['ideal']:.2f}; CPU per request "
                                f"{s['cpu_ms_per_req']:.2f} ms, {100 * s['pool_share']:.0f}% pool bookkeeping; "
                                f"cores {CORES}"]))
    return figs


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sweep", action="store_true", help="also try fleet_concurrency 25, 100, 125")
    args = ap.parse_args(argv)
    return standalone("Fleet status", lambda: run(sweep=args.sweep))


if __name__ == "__main__":
    sys.exit(main())
