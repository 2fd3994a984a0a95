"""Fixtures of the status-engine tests: a manual clock, a scripted platform, numbers in a real store, engines.

``store`` (a fresh SQLite file) comes from tests/conftest.py; ``pg_cluster`` (a throwaway PostgreSQL with the
migration) from tests/store/conftest.py.
"""
from __future__ import annotations

import random
import uuid

import pytest

from wpp.clock import ManualClock
from wpp.status import PollPolicy, StatusEngine

from tests.store.conftest import pg_cluster  # noqa: F401 - the throwaway PostgreSQL cluster (session fixture)

from .helpers import START, FakePlatform


@pytest.fixture
def clock():
    return ManualClock(start=START)


@pytest.fixture
def platform(clock):
    return FakePlatform(clock)


@pytest.fixture
def make_engine(clock):
    made: list[StatusEngine] = []

    def make(store, check, *, policy: PollPolicy | None = None, seed: int = 7, **kw) -> StatusEngine:
        eng = StatusEngine(store, check, clock=kw.pop("clock", clock), policy=policy, rng=random.Random(seed), **kw)
        made.append(eng)
        return eng

    yield make
    for e in made:
        e.stop()


@pytest.fixture
def engine(make_engine, store, platform):
    return make_engine(store, platform.check)


@pytest.fixture
def pg_dsn(pg_cluster):  # noqa: F811 - the fixture imported above
    """A fresh database with every migration applied, in order (its own: the store tests' databases stay theirs)."""
    from wpp.store.postgres import migration_sql

    name = f"wpp_status_{uuid.uuid4().hex[:8]}"
    dsn = pg_cluster.create_database(name, migrate=False)
    with pg_cluster.connect(name) as c:
        c.execute(migration_sql())
    return dsn
