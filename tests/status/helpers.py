"""Helpers of the status-engine tests: a scripted platform, a store whose board reads are counted, numbers, time."""
from __future__ import annotations

import random
import threading
import uuid
from collections import defaultdict

from wpp import keys
from wpp.clock import ManualClock
from wpp.errors import WppError
from wpp.models import Status
from wpp.status import CheckResult

START = 1_800_000_000.0


class FakePlatform:
    """A scripted platform for ``check(integration)``: a state per number, errors queued per number, and the
    time of every question (by the engine's clock)."""

    def __init__(self, clock):
        self.clock = clock
        self.states: dict[str, str] = {}
        self.errors: dict[str, list[WppError]] = defaultdict(list)
        self.calls: dict[str, list[float]] = defaultdict(list)
        self.lock = threading.Lock()

    def set(self, iid: str, state: str) -> None:
        with self.lock:
            self.states[iid] = state

    def fail(self, iid: str, err: WppError, times: int = 1) -> None:
        with self.lock:
            self.errors[iid] += [err] * times

    def check(self, row) -> CheckResult:
        with self.lock:
            self.calls[row.id].append(self.clock.time())
            if self.errors[row.id]:
                return CheckResult(error=self.errors[row.id].pop(0))
            return CheckResult(status=Status.parse(self.states.get(row.id, "starting")))

    def count(self, iid: str | None = None) -> int:
        with self.lock:
            return len(self.calls[iid]) if iid else sum(len(v) for v in self.calls.values())


class CountingStore:
    """A store whose board reads are counted (everything else is the real store's)."""

    def __init__(self, inner):
        self._inner = inner
        self.board_reads = 0
        self._lock = threading.Lock()

    def load_statuses(self, integration_ids=None):
        with self._lock:
            self.board_reads += 1
        return self._inner.load_statuses(integration_ids)

    def __getattr__(self, name):
        return getattr(self._inner, name)


def add_number(store, name: str = "Front desk", *, n: int | None = None, **settings):
    """A number as create leaves it: a row with a platform key and session."""
    n = n if n is not None else random.randint(1, 10**12)
    base = {keys.API_KEY: f"fake-api-key-{uuid.uuid4().hex}", keys.SESSION: f"{n:013d}"}
    base.update(settings)
    return store.create(str(uuid.uuid4()), name=name, settings=base)


def run_for(engines, clock: ManualClock, seconds: float, step: float = 0.5, *, panels=()) -> None:
    """Play ``seconds`` of time: every ``step`` the clock moves and every engine makes one pass. ``panels``:
    ``(engine, integration id)`` pairs of open pairing panels, each sending its heartbeat on every step (as the
    panel does on each run; the engine writes it at most every ``watch_beat_s``)."""
    engines = engines if isinstance(engines, (list, tuple)) else [engines]
    end = clock.time() + seconds
    while clock.time() < end - 1e-9:
        clock.advance(step)
        for e, iid in panels:
            e.pairing_heartbeat(iid)
        for e in engines:
            e.tick()


def run_until_asked(engines, clock: ManualClock, platform: "FakePlatform", iid: str, *, limit: float = 600,
                    step: float = 0.5) -> float:
    """Play time until the platform is asked about ``iid`` once more; returns when (the engine's clock)."""
    engines = engines if isinstance(engines, (list, tuple)) else [engines]
    before = platform.count(iid)
    end = clock.time() + limit
    while platform.count(iid) == before:
        assert clock.time() < end, f"not asked about {iid} within {limit} s"
        clock.advance(step)
        for e in engines:
            e.tick()
    return platform.calls[iid][-1]
