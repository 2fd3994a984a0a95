"""Fixtures for the simulator's own tests: raw httpx over loopback, no project client."""
from __future__ import annotations

import httpx
import pytest

from wpp.clock import ManualClock
from wpp.simulator import SimKnobs, Simulator

SECRET_HEADERS = {"Authorization": "Bearer sim-platform-secret"}


class Api:
    """Tiny raw-httpx helper bound to one simulator."""

    def __init__(self, sim: Simulator):
        self.sim = sim
        self.http = httpx.Client(base_url=sim.base_url, timeout=5.0)

    def close(self) -> None:
        self.http.close()

    def create(self, org: str = "org-1", headers: dict | None = None) -> httpx.Response:
        return self.http.post(
            "/api/integrations/wpp/create",
            json={"organizationId": org},
            headers=SECRET_HEADERS if headers is None else headers,
        )

    def account(self, org: str = "org-1") -> tuple[str, str]:
        r = self.create(org)
        assert r.status_code == 200, r.text
        return r.json()["apiKey"], r.json()["session"]

    def token(self, api_key: str) -> str:
        r = self.http.post("/auth/token", json={"apiKey": api_key})
        assert r.status_code == 200, r.text
        return r.json()["token"]

    def login(self, org: str = "org-1") -> tuple[str, dict]:
        """Create (or reuse) an account and mint a token: (session, auth headers)."""
        key, session = self.account(org)
        return session, {"Authorization": f"Bearer {self.token(key)}"}

    def status(self, session: str, headers: dict) -> httpx.Response:
        return self.http.get(f"/api/accounts/{session}/status", headers=headers)

    def qr(self, session: str, headers: dict) -> httpx.Response:
        return self.http.get(f"/api/accounts/{session}/qr", headers=headers)

    def send_text(self, headers: dict, to: str = "79001234567", text: str = "hello", **extra) -> httpx.Response:
        return self.http.post("/api/messages/text", json={"type": "text", "to": to, "text": text, **extra}, headers=headers)


@pytest.fixture
def make_sim():
    """Factory: make_sim(clock=None, **knobs) -> a started Simulator, stopped at teardown."""
    started: list[Simulator] = []

    def factory(clock=None, **knobs) -> Simulator:
        s = Simulator(SimKnobs(**knobs), clock=clock).start()
        started.append(s)
        return s

    yield factory
    for s in started:
        s.stop()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(start=1_800_000_000.0)


@pytest.fixture
def msim(make_sim, clock) -> Simulator:
    """A simulator on a ManualClock (default knobs)."""
    return make_sim(clock=clock)


@pytest.fixture
def api(sim):
    a = Api(sim)
    yield a
    a.close()


@pytest.fixture
def mapi(msim):
    a = Api(msim)
    yield a
    a.close()


@pytest.fixture
def api_for():
    made: list[Api] = []

    def factory(s: Simulator) -> Api:
        a = Api(s)
        made.append(a)
        return a

    yield factory
    for a in made:
        a.close()
