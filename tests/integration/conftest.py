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


@pytest.fixture
def stores(tmp_path):
    """Factory: stores() -> a SqliteStore on this test's database file; each call is another connection set, as
    another replica (process) would have. Closed at teardown."""
    from wpp.store.sqlite import SqliteStore

    made = []

    def factory(store_cls=SqliteStore):
        s = store_cls(tmp_path / "wpp.db")
        made.append(s)
        return s

    yield factory
    for s in made:
        s.close()


@pytest.fixture
def add_row():
    """add_row(store, created, **more_settings) -> the Integration row of a number created on the platform."""
    from wpp import keys

    def add(store, created, org=None, **settings):
        org = org or str(uuid.uuid4())
        return store.create(org, name="Front desk", settings={keys.API_KEY: created.api_key.reveal(),
                                                              keys.SESSION: created.session, **settings})

    return add
