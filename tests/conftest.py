"""Fixtures shared by every test folder. Folder-specific fixtures live in that folder's conftest.py."""
from __future__ import annotations

import pytest

from wpp.client import WppClient
from wpp.service import WppService
from wpp.store.sqlite import SqliteStore


@pytest.fixture
def sim():
    """A fresh embedded WPP Platform simulator on a free loopback port (default knobs)."""
    from wpp.simulator import Simulator

    with Simulator() as s:
        yield s


# --- a service on the simulator, over a fresh SQLite store (tests/service, tests/trust) -------------------
@pytest.fixture
def store(tmp_path):
    s = SqliteStore(tmp_path / "wpp.db")
    yield s
    s.close()


@pytest.fixture
def make_service(sim, store):
    made = []

    def make(*, transport=None, timeout=2.0, store_=None, **kw):
        """A WppService on the simulator (no status engine unless ``engine=`` is given)."""
        kw.setdefault("activation_wait_s", 1.0)
        client = WppClient(sim.base_url, secret=sim.secret, timeout=timeout, connect_timeout=1.0, transport=transport,
                           clock=kw.get("clock"))
        svc = WppService(client, store_ or store, secret=sim.secret, **kw)
        made.append(svc)
        return svc

    yield make
    for s in made:
        s.close()
        s.client.close()


@pytest.fixture
def svc(make_service):
    return make_service()
