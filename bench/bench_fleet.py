"""Fleet status: 500 numbers, 100 ms platform latency on every request. Goal: WppService.fleet_status(rows)
refreshes them all in <= 1.5 s (one after another it would take 50 s). Reported as the ratio to the ideal
ceil(N / fleet_concurrency) x latency, with the peak number of requests in flight at the simulator.

The service is wired as build_service wires it (the default Settings: fleet_concurrency, the client's
max_connections = max(64, fleet_concurrency)); the only addition is an httpx transport wrapper on the client that
counts requests in flight and times each one (the simulator itself is not touched). Tokens are warm (minted when
the numbers were created, with no latency), so a refresh is exactly one status request per number.
"""
from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _support import CORES, Figure, log, standalone  # noqa: E402

N = 500
LATENCY_S = 0.1
RUNS = 3
GOAL_S = 1.5


class CountingTransport(httpx.BaseTransport):
    """Counts requests in flight (sent, answer headers not yet back) and keeps (start, end) per request."""

    def __init__(self, inner: httpx.BaseTransport):
        self.inner = inner
        self.lock = threading.Lock()
        self.in_flight = 0
        self.peak = 0
        self.spans: list[tuple[float, float]] = []

    def reset(self) -> None:
        with self.lock:
            self.peak = self.in_flight
            self.spans = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        start = time.perf_counter()
        with self.lock:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
        try:
            return self.inner.handle_request(request)
        finally:
            end = time.perf_counter()
            with self.lock:
                self.in_flight -= 1
                self.spans.append((start, end))

    def close(self) -> None:
        self.inner.close()


def _one(concurrency: int | None, runs: int) -> dict:
    from wpp.client import WppClient
    from wpp.config import Settings
    from wpp.service import WppService
    from wpp.simulator import SimKnobs, Simulator
    from wpp.store.sqlite import SqliteStore

    settings = Settings()
    if concurrency is not None:
        settings.fleet_concurrency = concurrency
    conc = settings.fleet_concurrency
    max_conn = max(64, conc)  # as build_service sizes the client's pool
    tmp = tempfile.mkdtemp(prefix="wpp-bench-fleet-")
    sim = Simulator(SimKnobs(latency_s=0.0)).start()
    transport = CountingTransport(httpx.HTTPTransport(
        limits=httpx.Limits(max_connections=max_conn, max_keepalive_connections=max_conn)))
    client = WppClient(sim.base_url, timeout=settings.http_timeout, secret=sim.secret, max_connections=max_conn,
                       transport=transport)
    store = SqliteStore(f"{tmp}/wpp.db")
    svc = WppService(client, store, secret=sim.secret, fleet_concurrency=conc, activation_wait_s=0)
    try:
        with ThreadPoolExecutor(8) as pool:
            outs = list(pool.map(lambda i: svc.create_number(str(uuid.uuid4()), name=f"N{i}", actor="bench"),
                                 range(N)))
        assert all(o.ok for o in outs)
        rows = svc.list_numbers()
        assert len(rows) == N
        sim.knobs.latency_s = LATENCY_S
        results = []
        for run in range(runs):
            sim.reset_counters()
            transport.reset()
            t0 = time.perf_counter()
            frs = svc.fleet_status(rows)
            wall = time.perf_counter() - t0
            spans = list(transport.spans)
            ok = sum(1 for f in frs if f.error is None and f.status is not None)
            starts = sorted(s - t0 for s, _ in spans)
            durs = [e - s for s, e in spans]
            results.append({
                "wall": wall, "ok": ok, "peak": transport.peak,
                "status_calls": sim.count("GET /api/accounts/{session}/status"),
                "mints": sim.count("POST /auth/token"),
                "req_median": statistics.median(durs), "req_max": max(durs),
                "last_start": starts[-1] if starts else float("nan"),
                "overhead": max(durs) - LATENCY_S,
            })
        return {"conc": conc, "max_conn": max_conn, "runs": results}
    finally:
        svc.close()
        client.close()
        sim.stop()
        store.close()


def run(sweep: bool = False) -> list[Figure]:
    log(f"{N} numbers, latency {LATENCY_S * 1000:.0f} ms, default fleet_concurrency, {RUNS} refreshes")
    res = _one(None, RUNS)
    conc = res["conc"]
    ideal = math.ceil(N / conc) * LATENCY_S
    walls = [r["wall"] for r in res["runs"]]
    first, worst = walls[0], max(walls)
    med = statistics.median(walls)
    peak = max(r["peak"] for r in res["runs"])
    notes = [
        f"fleet_concurrency={conc}, client max_connections={res['max_conn']}; ideal ceil({N}/{conc}) x "
        f"{LATENCY_S:.1f} s = {ideal:.2f} s; sequential would be {N * LATENCY_S:.0f} s",
        "refreshes (s): " + ", ".join(f"{w:.2f}" for w in walls) + f" (first opens the connections); "
        f"ratio to ideal: median {med / ideal:.2f}, worst {worst / ideal:.2f}",
    ]
    for i, r in enumerate(res["runs"]):
        notes.append(
            f"run {i + 1}: {r['ok']}/{N} ok, {r['status_calls']} status requests, {r['mints']} mints, "
            f"per-request median {r['req_median'] * 1000:.0f} ms / max {r['req_max'] * 1000:.0f} ms, "
            f"last request sent at {r['last_start']:.2f} s")
    figs = [
        Figure("fleet", f"fleet_status, {N} numbers, 100 ms latency (median of {RUNS})", f"{med:.2f} s",
               f"<= {GOAL_S} s", med <= GOAL_S, notes),
        Figure("fleet", "fleet_status worst refresh / ratio to ideal", f"{worst:.2f} s / {worst / ideal:.2f}x",
               f"<= {GOAL_S} s", worst <= GOAL_S),
        Figure("fleet", "peak requests in flight at the simulator", str(peak), f"<= fleet_concurrency ({conc})",
               peak <= conc),
    ]
    if sweep:
        for c in (25, 100, 125):
            r = _one(c, 2)
            w = min(x["wall"] for x in r["runs"])
            p = max(x["peak"] for x in r["runs"])
            figs.append(Figure("fleet", f"sweep: fleet_concurrency={c} (best of 2)", f"{w:.2f} s, peak {p}",
                               "—", None, [f"ideal {math.ceil(N / c) * LATENCY_S:.2f} s; ratio "
                                           f"{w / (math.ceil(N / c) * LATENCY_S):.2f}; cores {CORES}"]))
    return figs


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sweep", action="store_true", help="also try fleet_concurrency 25, 100, 125")
    args = ap.parse_args(argv)
    return standalone("Fleet status", lambda: run(sweep=args.sweep))


if __name__ == "__main__":
    sys.exit(main())
