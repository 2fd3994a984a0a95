"""Status polling: what watching connected numbers costs the platform (issue 14). Goal: at most 2 status requests
per connected number per minute, with 1, 5 and 20 viewers on one process and with 2 replicas on a real PostgreSQL.

Set-up, per case: 100 numbers, all connected, created on the simulator running in its own process
(`python -m wpp.simulator`, as the real platform is elsewhere) and saved with their first token; a fresh status
board (so every number's first check at start-up is counted). The console side is `wpp.status.StatusEngine`
with its default PollPolicy, running its own background thread (start/stop) as the app does; its `check` asks
`GET /api/accounts/{session}/status` with the number's stored token through `wpp.client.WppClient` (the service's
check adds token refreshes, which are not status requests and are measured by the tokens bench).
Viewers are threads that read the board every 2 (simulated) seconds, as the Numbers page does, and rebuild
their table only when the board's version changed. The figure is the simulator's own count of status requests,
divided by the numbers and the simulated minutes.

Time: the engines' clock runs RATE times faster than real time (10 simulated minutes in 30 s of wall time) so that
the bench takes a few minutes; the simulator keeps real time (connected numbers stay connected; the tokens, 15
minutes, outlive the run).

Two replicas: a throwaway PostgreSQL cluster started here (the cluster code of tests/store/conftest.py), the
migrations applied, and two processes, each with its own store object, engine and two viewers, started at the same
moment on the same fast clock.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _support import CORES, Figure, SimProcess, free_port, log, standalone  # noqa: E402

N = 100
MINUTES = 10.0
RATE = 20.0
VIEW_EVERY_S = 2.0  # simulated seconds between two board reads of one viewer
VIEWERS = (1, 5, 20)
REPLICA_VIEWERS = 2
GOAL = 2.0
STATUS = "GET /api/accounts/{session}/status"
SECRET = SimProcess.SECRET


class FastClock:
    """Time that runs ``rate`` times faster than the wall clock from ``origin_real`` (when it reads ``origin``).
    Two processes given the same three numbers agree on the time."""

    def __init__(self, rate: float, origin_real: float, origin: float):
        self.rate, self.origin_real, self.origin = float(rate), float(origin_real), float(origin)

    def time(self) -> float:
        return self.origin + (time.time() - self.origin_real) * self.rate

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds / self.rate)


# --- numbers ---------------------------------------------------------------------------------------------------
def seed(store, sim_url: str, n: int) -> None:
    """``n`` connected numbers on the simulator, saved in ``store`` with their first token."""
    import jwt

    from wpp import keys

    with httpx.Client(base_url=sim_url, timeout=10, headers={"Authorization": f"Bearer {SECRET}"}) as http:
        def one(i: int) -> None:
            org = str(uuid.uuid4())
            body = http.post("/api/integrations/wpp/create", json={"organizationId": org}).raise_for_status().json()
            tok = http.post("/auth/token", json={"apiKey": body["apiKey"]}).raise_for_status().json()
            exp = (time.time() + float(tok["expiresIn"]) if tok.get("expiresIn")
                   else jwt.decode(tok["token"], options={"verify_signature": False})["exp"])
            exp_ms = int(exp * 1000)
            http.post(f"/_sim/accounts/{body['session']}/status", json={"state": "connected"}).raise_for_status()
            store.create(org, name=f"Bench {i:03d}", settings={
                keys.API_KEY: body["apiKey"], keys.SESSION: body["session"], keys.JWT: tok["token"],
                keys.JWT_EXPIRES_AT: exp_ms})

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(one, range(1, n + 1)))


# --- one process watching --------------------------------------------------------------------------------------
def watch(store, sim_url: str, clock: FastClock, *, viewers: int, holder: str, seconds: float) -> dict:
    """Run an engine (background thread) and ``viewers`` viewer threads for ``seconds`` of simulated time."""
    from wpp.client import WppClient
    from wpp.errors import WppError
    from wpp.status import CheckResult, PollPolicy, StatusEngine

    client = WppClient(sim_url, timeout=10.0)

    def check(row) -> CheckResult:
        try:
            return CheckResult(status=client.get_status(row.session, row.jwt))
        except WppError as err:
            return CheckResult(error=err)

    # tick_s is real seconds: a pass at least every simulated second at this rate
    engine = StatusEngine(store, check, clock=clock, policy=PollPolicy(tick_s=1.0 / RATE), holder=holder,
                          concurrency=16)
    ids = [r.id for r in store.list_integrations()]
    stop = threading.Event()
    rebuilds = [0] * viewers
    reads = [0] * viewers

    def viewer(k: int) -> None:
        seen = None
        while not stop.is_set():
            board = engine.board(ids)
            reads[k] += 1
            if board.version != seen:  # what a page would redraw
                seen = board.version
                rebuilds[k] += 1
                [(str(e.label), e.since, e.attention) for e in board.values()]
            stop.wait(VIEW_EVERY_S / RATE)

    threads = [threading.Thread(target=viewer, args=(k,), daemon=True) for k in range(viewers)]
    cpu0, t0, sim0 = time.process_time(), time.perf_counter(), clock.time()
    engine.start()
    for t in threads:
        t.start()
    time.sleep(seconds / RATE)
    stop.set()
    engine.stop()
    for t in threads:
        t.join(5)
    sim_elapsed, wall = clock.time() - sim0, time.perf_counter() - t0
    stats = engine.stats()
    client.close()
    return {"holder": holder, "checks": stats["checks"], "board_reads": stats["board_reads"],
            "viewer_reads": sum(reads), "rebuilds": sum(rebuilds), "sim_s": sim_elapsed, "wall_s": wall,
            "cpu_s": time.process_time() - cpu0, "numbers": len(ids)}


def sim_stats(url: str) -> dict:
    return httpx.get(url + "/_sim/stats", timeout=10).json()


def reset_counters(url: str) -> None:
    httpx.post(url + "/_sim/reset", json={}, timeout=10).raise_for_status()


def one_process(sim: SimProcess, viewers: int) -> dict:
    from wpp.store.sqlite import SqliteStore

    with tempfile.TemporaryDirectory(prefix="wpp-bench-status-") as tmp:
        store = SqliteStore(Path(tmp) / "wpp-console.db")
        try:
            seed(store, sim.url, N)
            reset_counters(sim.url)
            clock = FastClock(RATE, time.time(), time.time())
            res = watch(store, sim.url, clock, viewers=viewers, holder="bench-1", seconds=MINUTES * 60)
        finally:
            store.close()
    res["status_requests"] = sim_stats(sim.url)["requests"].get(STATUS, 0)
    return res


# --- PostgreSQL: the cluster code of tests/store/conftest.py ----------------------------------------------------
@contextlib.contextmanager
def pg_cluster():
    """A throwaway PostgreSQL cluster (initdb + pg_ctl, trust auth, loopback, a free port), as tests/store does."""
    from tests.store.conftest import PgCluster, _find_bin

    initdb, pg_ctl = _find_bin("initdb"), _find_bin("pg_ctl")
    if not initdb or not pg_ctl:
        raise RuntimeError("PostgreSQL server binaries (initdb, pg_ctl) were not found")
    tmp = tempfile.mkdtemp(prefix="wpp-bench-pg-")
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses root: run the server as the postgres OS user
        import pwd

        pw = pwd.getpwnam("postgres")
        os.chown(tmp, pw.pw_uid, pw.pw_gid)
        as_user = [shutil.which("runuser") or "runuser", "-u", "postgres", "--"]
    data = os.path.join(tmp, "data")

    def run(args: list[str]) -> None:
        subprocess.run(as_user + args, check=True, capture_output=True, text=True, timeout=120)

    port = free_port()
    started = False
    try:
        run([initdb, "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync", "--no-instructions"])
        opts = (f"-c listen_addresses=127.0.0.1 -p {port} -k {tmp} -c max_connections=100 -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off -c shared_buffers=32MB -c timezone=UTC")
        run([pg_ctl, "-D", data, "-o", opts, "-l", os.path.join(tmp, "server.log"), "-w", "-t", "60", "start"])
        started = True
        yield PgCluster(host="127.0.0.1", port=port)
    finally:
        if started:
            with contextlib.suppress(subprocess.SubprocessError):
                run([pg_ctl, "-D", data, "-m", "immediate", "-w", "stop"])
        shutil.rmtree(tmp, ignore_errors=True)


def replica_main(args) -> int:
    """Child process: one replica (its own store object, engine and viewers) on the shared database."""
    from wpp.store import PostgresStore

    clock = FastClock(RATE, args.origin_real, args.origin)
    store = PostgresStore(args.dsn, pool_size=4)
    try:
        time.sleep(max(0.0, args.origin_real - time.time()))  # both replicas start at the same moment
        res = watch(store, args.sim, clock, viewers=args.viewers, holder=args.holder, seconds=args.seconds)
    finally:
        store.close()
    print("RESULT " + json.dumps(res), flush=True)
    return 0


def two_replicas(sim: SimProcess) -> dict:
    from wpp.store import PostgresStore
    from wpp.store.postgres import migration_sql

    with pg_cluster() as cluster:
        dsn = cluster.create_database("wpp_bench_status", migrate=False)
        with cluster.connect("wpp_bench_status") as c:
            c.execute(migration_sql())
        store = PostgresStore(dsn, pool_size=8)
        try:
            seed(store, sim.url, N)
        finally:
            store.close()
        reset_counters(sim.url)
        origin = time.time() + 2.0  # time for both to start up
        procs = [subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--replica", "--dsn", dsn, "--sim", sim.url,
             "--holder", f"replica-{k}", "--viewers", str(REPLICA_VIEWERS), "--seconds", str(MINUTES * 60),
             "--origin-real", repr(origin), "--origin", repr(origin)],
            stdout=subprocess.PIPE, text=True, cwd=str(Path(__file__).resolve().parents[1]))
            for k in (1, 2)]
        results = []
        for p in procs:
            out, _ = p.communicate(timeout=MINUTES * 60 / RATE + 120)
            line = next((x for x in out.splitlines() if x.startswith("RESULT ")), None)
            if p.returncode != 0 or line is None:
                raise RuntimeError(f"a replica failed (exit {p.returncode})")
            results.append(json.loads(line[len("RESULT "):]))
    return {"replicas": results, "status_requests": sim_stats(sim.url)["requests"].get(STATUS, 0),
            "sim_s": min(r["sim_s"] for r in results)}


# --- the figures -----------------------------------------------------------------------------------------------
def _per_minute(requests: int, sim_s: float) -> float:
    return requests / N / (sim_s / 60.0)


def run() -> list[Figure]:
    log(f"{N} connected numbers, {MINUTES:g} simulated minutes per case at {RATE:g}x real time; simulator in its "
        "own process")
    figs: list[Figure] = []
    clock_note = (f"the engines' clock runs {RATE:g}x real time ({MINUTES:g} simulated minutes in "
                  f"{MINUTES * 60 / RATE:.0f} s of wall time); the simulator keeps real time")
    with SimProcess() as sim:
        for viewers in VIEWERS:
            log(f"one process, {viewers} viewer(s)")
            r = one_process(sim, viewers)
            pm = _per_minute(r["status_requests"], r["sim_s"])
            notes = [
                f"{r['status_requests']} status requests for {r['numbers']} numbers in {r['sim_s'] / 60:.1f} simulated "
                f"minutes ({r['checks']} checks by the engine, the first check of each number at start included); "
                f"the board was read from the store {r['board_reads']} times for {r['viewer_reads']} viewer reads "
                f"({r['board_reads'] / (r['sim_s'] / 60):.0f} per simulated minute); the table was rebuilt "
                f"{r['rebuilds']} times in all viewers together; this process's CPU {r['cpu_s']:.1f} s over "
                f"{r['wall_s']:.0f} s of wall time at {RATE:g}x speed",
            ]
            if viewers == VIEWERS[0]:
                notes.insert(0, clock_note)
            figs.append(Figure("status", f"status requests per connected number per minute, {viewers} viewer(s), "
                               "one process", f"{pm:.2f}", f"<= {GOAL:g}", pm <= GOAL, notes))
        log(f"two replicas on a real PostgreSQL, {REPLICA_VIEWERS} viewers each")
        try:
            r = two_replicas(sim)
        except Exception as exc:  # noqa: BLE001 - shown as a figure that did not meet its goal
            figs.append(Figure("status", "status requests per connected number per minute, 2 replicas on PostgreSQL",
                               "failed", f"<= {GOAL:g}", False, [f"{type(exc).__name__}: {exc}"]))
            return figs
        pm = _per_minute(r["status_requests"], r["sim_s"])
        reps = r["replicas"]
        figs.append(Figure(
            "status", f"status requests per connected number per minute, 2 replicas on PostgreSQL "
            f"({REPLICA_VIEWERS} viewers each)", f"{pm:.2f}", f"<= {GOAL:g}", pm <= GOAL,
            [f"{r['status_requests']} status requests in {r['sim_s'] / 60:.1f} simulated minutes; checks made: "
             + ", ".join(f"{x['holder']} {x['checks']}" for x in reps)
             + " (one poller for the deployment); board reads from the database: "
             + ", ".join(f"{x['holder']} {x['board_reads']}" for x in reps)
             + f"; {clock_note}; cores {CORES}"]))
    return figs


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--replica", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--dsn", help=argparse.SUPPRESS)
    ap.add_argument("--sim", help=argparse.SUPPRESS)
    ap.add_argument("--holder", help=argparse.SUPPRESS)
    ap.add_argument("--viewers", type=int, default=REPLICA_VIEWERS, help=argparse.SUPPRESS)
    ap.add_argument("--seconds", type=float, default=MINUTES * 60, help=argparse.SUPPRESS)
    ap.add_argument("--origin-real", type=float, help=argparse.SUPPRESS)
    ap.add_argument("--origin", type=float, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.replica:
        return replica_main(args)
    return standalone("Status polling", run)


if __name__ == "__main__":
    sys.exit(main())
