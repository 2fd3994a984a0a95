"""Token economy: browser sessions watching the same 10 numbers, asking the platform every 3 s for one simulated
hour with 15-minute tokens. Goals: /auth/token per number per token lifetime = 1.0 on one process, <= 1.05 across
two replicas sharing the database (issue 14).

One ManualClock drives the simulator, the clients, the services and their TokenManagers; it moves 3 s per round.
In a round every browser session runs concurrently (a thread each, each with its own session token cache, handed to
the service once with ``for_session``, as a page does) and asks for the status of the 10 numbers through the
pairing panel's call (``pairing_state``: the numbers are connected, so one status request each).

* one process: 20 sessions on one service;
* two replicas: two services (own client, own TokenManager, own store object) on ONE database — the SQLite file,
  and a real PostgreSQL when its server binaries are installed — 10 sessions each. The mint is serialised through
  the store's token-mint lock (a PostgreSQL advisory lock / a lease row), and the row is re-read inside it.

Counting is done by the simulator (``POST /auth/token``). The minimum: the 60-s rule gives each token 840 s of use,
so covering [0, last poll] takes 1 + floor(last / 840) tokens per number (the first one minted by create).

Baseline (the seeds): mint a token for every call. `--full` makes every round call (about 10 minutes); by default
only the rounds where a wrong implementation would show (the first minute, +-15 s around every moment a token
stops being usable or expires, once a simulated minute in between) make their calls, all rounds move the clock.
"""
from __future__ import annotations

import argparse
import math
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _support import Figure, log, standalone  # noqa: E402

from wpp.access.roles import Access  # noqa: E402

NUMBERS = 10
POLL_S = 3.0
HOUR_S = 3600.0
LIFETIME_S = 900.0
WINDOW_S = 15.0
SAMPLE_EVERY = 20  # rounds (= 1 simulated minute) between calling rounds outside the windows
BASELINE_ROUNDS = 10


def _calling_rounds(n_rounds: int, margin_s: float, full: bool) -> list[bool]:
    if full:
        return [True] * n_rounds
    usable = LIFETIME_S - margin_s
    edges = [k * usable for k in range(1, 10)] + [k * LIFETIME_S for k in range(1, 10)]
    return [r < 20 or r % SAMPLE_EVERY == 0 or any(abs(r * POLL_S - e) <= WINDOW_S for e in edges)
            for r in range(n_rounds)]


def _service(sim, store, clock):
    from wpp.client import WppClient
    from wpp.service import WppService

    client = WppClient(sim.base_url, secret=sim.secret, clock=clock, timeout=10)
    return WppService(client, store, secret=sim.secret, clock=clock, activation_wait_s=0)


def _play(replicas: list, sessions_each: int, clock, sim, full: bool) -> dict:
    """Create the numbers on the first replica, connect them, then play the hour on all replicas at once."""
    from wpp.jwtinfo import MARGIN_S

    first = replicas[0]
    sim.reset_counters()
    t0 = clock.time()
    for i in range(NUMBERS):
        out = first.create_number(str(uuid.uuid4()), name=f"Number {i}", actor="bench")
        assert out.ok, out.error
        sim.set_status(out.integration.session, "connected")
    ids = [r.id for r in first.list_numbers()]
    n_rounds = int(HOUR_S / POLL_S)
    calling = _calling_rounds(n_rounds, MARGIN_S, full)
    browsers = [(svc, {}) for svc in replicas for _ in range(sessions_each)]
    errors = 0
    lock = threading.Lock()

    def session(browser) -> None:
        nonlocal errors
        svc, cache = browser
        page = svc.for_session(cache, access=Access.full())  # what a page does once per run
        bad = sum(1 for iid in ids if page.pairing_state(iid).error is not None)
        if bad:
            with lock:
                errors += bad

    log(f"{len(replicas)} replica(s) x {sessions_each} sessions x {NUMBERS} numbers, {n_rounds} rounds "
        f"({sum(calling)} calling)")
    wall0 = time.perf_counter()
    last_poll = 0.0
    with ThreadPoolExecutor(len(browsers), thread_name_prefix="browser-session") as pool:
        for r in range(n_rounds):
            now = t0 + r * POLL_S
            clock.advance(now - clock.time())
            if calling[r]:
                list(pool.map(session, browsers))
                last_poll = now - t0
    minted = sim.count("POST /auth/token")
    ideal = 1 + math.floor(last_poll / (LIFETIME_S - MARGIN_S))
    return {"minted": minted, "ideal": ideal, "ratio": minted / (NUMBERS * ideal), "errors": errors,
            "status": sim.count("GET /api/accounts/{session}/status"), "wall": time.perf_counter() - wall0,
            "last": last_poll, "mode": "full" if full else f"sampled ({sum(calling)} of {n_rounds} rounds call)"}


def _seeds_baseline(svc, sim, clock) -> float:
    """The seeds' approach (a mint per call), scaled to the hour."""
    from wpp.jwtinfo import MARGIN_S

    rows = svc.list_numbers()
    before = sim.count("POST /auth/token")
    calls = 0
    for _ in range(BASELINE_ROUNDS):
        for _s in range(20):
            for row in rows:
                tok = svc.client.mint_token(row.api_key)
                svc.client.get_status(row.session, tok.token)
                calls += 1
        clock.advance(POLL_S)
    per_call = (sim.count("POST /auth/token") - before) / calls
    n_rounds = int(HOUR_S / POLL_S)
    return per_call * 20 * n_rounds / (1 + math.floor((n_rounds - 1) * POLL_S / (LIFETIME_S - MARGIN_S)))


def _sqlite_replicas(tmp: str):
    from wpp.store.sqlite import SqliteStore

    return [SqliteStore(f"{tmp}/shared.db"), SqliteStore(f"{tmp}/shared.db")]


def _figure(name: str, res: dict, goal: str, met: bool, extra: str = "") -> Figure:
    return Figure("tokens", name, f"{res['ratio']:.2f}", goal, met, [
        f"{res['minted']} /auth/token for {NUMBERS} numbers over {res['last']:.0f} s (first tokens by create "
        f"included); minimum {res['ideal']} per number; {res['status']} status calls, {res['errors']} failed; "
        f"{res['mode']}; {res['wall']:.1f} s wall" + (f"; {extra}" if extra else ""),
    ])


def run(full: bool = False) -> list[Figure]:
    from wpp.clock import ManualClock
    from wpp.simulator import SimKnobs, Simulator
    from wpp.store.sqlite import SqliteStore

    figures: list[Figure] = []
    # --- one process -------------------------------------------------------------------------------------------
    clock = ManualClock(start=1_800_000_000.0)
    tmp = tempfile.mkdtemp(prefix="wpp-bench-tokens-")
    with Simulator(SimKnobs(token_lifetime_s=LIFETIME_S), clock=clock) as sim:
        store = SqliteStore(f"{tmp}/one.db")
        svc = _service(sim, store, clock)
        try:
            one = _play([svc], 20, clock, sim, full)
            base = _seeds_baseline(svc, sim, clock)
        finally:
            svc.close(); svc.client.close(); store.close()
    figures.append(_figure("/auth/token per number per token lifetime, 1 process x 20 sessions", one, "= 1.0",
                           abs(one["ratio"] - 1.0) < 1e-9))
    figures.append(Figure("tokens", "/auth/token per number per token lifetime (seeds: mint per call)",
                          f"{base:.0f}", "—", None, [f"the console is {base / max(one['ratio'], 1e-9):.0f}x cheaper"]))

    # --- two replicas on one database ----------------------------------------------------------------------------
    backends = [("SQLite file", lambda: _sqlite_replicas(tmp), lambda: None)]
    try:
        from bench_status import pg_cluster  # a throwaway PostgreSQL (server binaries installed by ./test.sh)

        cm = pg_cluster()
        cluster = cm.__enter__()

        def pg_stores():
            from wpp.store import PostgresStore

            dsn = cluster.create_database(f"tokens_{uuid.uuid4().hex[:8]}")  # with the migrations applied
            return [PostgresStore(dsn, pool_size=12), PostgresStore(dsn, pool_size=12)]

        backends.append(("PostgreSQL", pg_stores, lambda: cm.__exit__(None, None, None)))
    except Exception as exc:  # noqa: BLE001 - no PostgreSQL on this machine: the SQLite figure stands alone
        log(f"PostgreSQL replicas skipped: {type(exc).__name__}: {exc}")
    for label, make_stores, cleanup in backends:
        clock = ManualClock(start=1_800_000_000.0)
        try:
            with Simulator(SimKnobs(token_lifetime_s=LIFETIME_S), clock=clock) as sim:
                stores = make_stores()
                replicas = [_service(sim, s, clock) for s in stores]
                try:
                    two = _play(replicas, 10, clock, sim, full)
                finally:
                    for r in replicas:
                        r.close(); r.client.close()
                    for s in stores:
                        s.close()
            figures.append(_figure(f"/auth/token per number per token lifetime, 2 replicas x 10 sessions ({label})",
                                   two, "<= 1.05", two["ratio"] <= 1.05,
                                   "two TokenManagers, one database: the mint is serialised by the store's lock"))
        finally:
            cleanup()
    return figures


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--full", action="store_true", help="every one of the 1,200 rounds makes its calls (~10 min)")
    args = ap.parse_args(argv)
    return standalone("Token economy", lambda: run(full=args.full))


if __name__ == "__main__":
    sys.exit(main())
