"""Token economy: 20 browser sessions watching the same 10 numbers, polling every 3 s for one simulated hour
with 15-minute tokens. Goal: /auth/token calls per number per token lifetime = 1.0 (the minimum).

One ManualClock drives the simulator, the client, the service and its TokenManager; it moves 3 s per polling
round. In a round the 20 sessions run concurrently (a thread each, each with its own token_cache dict, as a
browser tab has), and each asks WppService.check_status for the 10 numbers it lists from the store.
Counting is done by the simulator: sim.count("POST /auth/token").

The minimum: the 60-s rule (use a token while now < exp - 60 s) gives each token 840 s of use, so covering the
hour [0, 3597 s] of polls takes 1 + floor(3597 / 840) = 5 tokens per number (the first one minted by create).
Figure = minted / (numbers x 5).

Baseline (the seeds): mint a token for every call (client.mint_token(api_key), then get_status(session, token)).

Speed: a round is 200 HTTP requests through httpx and the stdlib simulator in one process (~0.4 s on 2
cores), so the full hour (1,200 rounds, 240,000 requests) takes ~8 minutes. By default every round moves the
clock, but the 200 calls are made only in the rounds where a wrong implementation would show: the first
minute, +-15 s around every moment a token stops being usable (k x 840 s) or expires (k x 900 s), and once a
simulated minute in between. `--full` makes every round call (the literal hour). The baseline's count is the
same every round (one mint per call), so it is measured over 10 rounds and scaled to the hour.
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

SESSIONS = 20
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
    out = []
    for r in range(n_rounds):
        t = r * POLL_S
        out.append(r < 20 or r % SAMPLE_EVERY == 0 or any(abs(t - e) <= WINDOW_S for e in edges))
    return out


def run(full: bool = False) -> list[Figure]:
    from wpp.client import WppClient
    from wpp.clock import ManualClock
    from wpp.service import WppService
    from wpp.simulator import SimKnobs, Simulator
    from wpp.store.sqlite import SqliteStore
    from wpp.tokens import MARGIN_S

    clock = ManualClock(start=1_800_000_000.0)
    tmp = tempfile.mkdtemp(prefix="wpp-bench-tokens-")
    sim = Simulator(SimKnobs(token_lifetime_s=LIFETIME_S), clock=clock).start()
    store = SqliteStore(f"{tmp}/wpp.db")
    client = WppClient(sim.base_url, secret=sim.secret, clock=clock, timeout=10)
    svc = WppService(client, store, secret=sim.secret, clock=clock, activation_wait_s=0)
    pool = ThreadPoolExecutor(SESSIONS, thread_name_prefix="browser-session")
    try:
        # who minted when (instrumentation only: wraps the write-back hook, changes nothing)
        mints: list[tuple[str, float]] = []
        mints_lock = threading.Lock()
        save = svc.tokens.on_new_token

        def recording(key, minted):
            with mints_lock:
                mints.append((key, clock.time()))
            save(key, minted)

        svc.tokens.on_new_token = recording

        sim.reset_counters()
        t0 = clock.time()
        for i in range(NUMBERS):
            out = svc.create_number(str(uuid.uuid4()), name=f"Number {i}", actor="bench")
            assert out.ok, out.error
        ids = [r.id for r in svc.list_numbers()]

        n_rounds = int(HOUR_S / POLL_S)
        calling = _calling_rounds(n_rounds, MARGIN_S, full)
        caches = [dict() for _ in range(SESSIONS)]
        errors = 0
        errors_lock = threading.Lock()

        def session(cache: dict) -> None:
            nonlocal errors
            bad = 0
            for row in svc.list_numbers():
                fr = svc.check_status(row, cache)
                if fr.error is not None or fr.status is None:
                    bad += 1
            if bad:
                with errors_lock:
                    errors += bad

        log(f"playing {n_rounds} rounds ({sum(calling)} calling, {'full' if full else 'sampled'}) "
            f"x {SESSIONS} sessions x {NUMBERS} numbers")
        wall0 = time.perf_counter()
        last_poll = 0.0
        for r in range(n_rounds):
            now = t0 + r * POLL_S
            clock.advance(now - clock.time())
            if calling[r]:
                list(pool.map(session, caches))
                last_poll = now - t0
        wall = time.perf_counter() - wall0
        minted = sim.count("POST /auth/token")
        status_calls = sim.count("GET /api/accounts/{session}/status")
        per_number = {i: sum(1 for k, _ in mints if k == i) for i in ids}
        usable = LIFETIME_S - MARGIN_S
        ideal_per_number = 1 + math.floor(last_poll / usable)
        ratio = minted / (NUMBERS * ideal_per_number)
        refresh_times = sorted({round(t - t0) for k, t in mints})

        # --- the seeds' approach on the same simulator, clock and numbers --------------------------------------
        rows = svc.list_numbers()
        before = sim.count("POST /auth/token")
        base_calls = 0

        def seeds_session(_: int) -> int:
            n = 0
            for row in rows:
                tok = client.mint_token(row.api_key)
                client.get_status(row.session, tok.token)
                n += 1
            return n

        for _ in range(BASELINE_ROUNDS):
            base_calls += sum(pool.map(seeds_session, range(SESSIONS)))
            clock.advance(POLL_S)
        base_minted = sim.count("POST /auth/token") - before
        per_call = base_minted / base_calls
        calls_per_number_hour = SESSIONS * n_rounds  # every session polls every number every 3 s
        base_per_lifetime = per_call * calls_per_number_hour / (1 + math.floor((n_rounds - 1) * POLL_S / usable))
    finally:
        pool.shutdown(wait=True)
        svc.close()
        client.close()
        sim.stop()
        store.close()

    mode = "every round calls (literal hour)" if full else (
        f"sampled: {sum(calling)} of {n_rounds} rounds call (all rounds move the clock)")
    return [
        Figure("tokens", "/auth/token per number per token lifetime (console)", f"{ratio:.2f}", "= 1.0",
               abs(ratio - 1.0) < 1e-9, [
                   f"{minted} /auth/token for {NUMBERS} numbers over {last_poll:.0f} s of polling (first token by "
                   f"create included); minimum {ideal_per_number} per number (1 + floor({last_poll:.0f}/{usable:.0f}))",
                   f"per number: min {min(per_number.values())}, max {max(per_number.values())}; mints at t = "
                   f"{refresh_times} s",
                   f"{status_calls} status calls, {errors} failed; {mode}; {wall:.1f} s wall",
               ]),
        Figure("tokens", "/auth/token per number per token lifetime (seeds: mint per call)", f"{base_per_lifetime:.0f}",
               "—", None, [
                   f"measured {base_minted} mints for {base_calls} status calls over {BASELINE_ROUNDS} rounds "
                   f"({per_call:.2f} per call), scaled to {calls_per_number_hour} calls per number in the hour "
                   f"/ {ideal_per_number} lifetimes; console is {base_per_lifetime / max(ratio, 1e-9):.0f}x cheaper",
               ]),
    ]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--full", action="store_true", help="every one of the 1,200 rounds makes its 200 calls (~8 min)")
    args = ap.parse_args(argv)
    return standalone("Token economy", lambda: run(full=args.full))


if __name__ == "__main__":
    sys.exit(main())
