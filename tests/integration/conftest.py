"""Fixtures for client/token tests against the embedded simulator over loopback."""
from __future__ import annotations

import uuid

import pytest

from wpp.client import WppClient
from wpp.clock import ManualClock


@pytest.fixture
def org() -> str:
    return str(uuid.uuid4())


@pytest.fixture
def manual_sim():
    """A simulator driven by a ManualClock (no QR start-up wait); yields (sim, clock)."""
    from wpp.simulator import SimKnobs, Simulator

    clock = ManualClock(1_800_000_000.0)
    with Simulator(SimKnobs(starting_s=1.0), clock=clock) as s:
        yield s, clock


@pytest.fixture
def client_for():
    made: list[WppClient] = []

    def factory(sim, **kw) -> WppClient:
        kw.setdefault("secret", sim.secret)
        kw.setdefault("clock", sim.clock)
        c = WppClient(sim.base_url, **kw)
        made.append(c)
        return c

    yield factory
    for c in made:
        c.close()
