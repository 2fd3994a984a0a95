from __future__ import annotations

import pytest

from wpp.client import WppClient
from wpp.service import WppService
from wpp.store.sqlite import SqliteStore

ORG = "123e4567-e89b-12d3-a456-426614174000"
ORG2 = "9a1b2c3d-0000-4000-8000-00000000abcd"


@pytest.fixture
def store(tmp_path):
    return SqliteStore(tmp_path / "wpp.db")


@pytest.fixture
def make_service(sim, store):
    made = []

    def make(**kw):
        kw.setdefault("activation_wait_s", 1.0)
        client = WppClient(sim.base_url, secret=sim.secret, timeout=kw.pop("timeout", 2.0), connect_timeout=1.0)
        svc = WppService(client, store, secret=sim.secret, **kw)
        made.append(svc)
        return svc

    yield make
    for s in made:
        s.close()
        s.client.close()


@pytest.fixture
def svc(make_service):
    return make_service()
