"""Fixtures of the alert tests: a manual clock at noon in Moscow, a real SMTP server and a webhook receiver on
127.0.0.1, a world (school, number, status engine), and stores: SQLite, and the throwaway PostgreSQL with every
migration applied."""
from __future__ import annotations

import uuid

import pytest

from wpp.clock import ManualClock

from tests.store.conftest import pg_cluster  # noqa: F401 - the throwaway PostgreSQL cluster (session fixture)

from .helpers import World, msk
from .sinks import HookSink, SmtpSink

ALERT_TABLES = ("wpp_console_incidents", "wpp_console_alerts", "wpp_console_mutes")


@pytest.fixture
def clock():
    return ManualClock(start=msk(2027, 3, 10, 12, 0))


@pytest.fixture
def smtp():
    from .helpers import SMTP_PASSWORD, SMTP_USER

    sink = SmtpSink(user=SMTP_USER, password=SMTP_PASSWORD)
    yield sink
    sink.close()


@pytest.fixture
def hook():
    sink = HookSink()
    yield sink
    sink.close()


@pytest.fixture(scope="module")
def pg_alerts_dsn(pg_cluster):  # noqa: F811 - the fixture imported above
    """A database with every migration applied, in order, for this module."""
    return pg_cluster.create_database(f"wpp_alerts_{uuid.uuid4().hex[:8]}")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_store(request, tmp_path):
    if request.param == "sqlite":
        from wpp.store import SqliteStore

        s = SqliteStore(tmp_path / "wpp.db")
    else:
        import psycopg

        from wpp.store import PostgresStore
        from tests.store.conftest import CONSOLE_TABLES

        dsn = request.getfixturevalue("pg_alerts_dsn")
        with psycopg.connect(dsn, autocommit=True) as c:
            c.execute("truncate public.messenger_integrations, "
                      + ", ".join(f"public.{t}" for t in (*CONSOLE_TABLES, *ALERT_TABLES)) + " restart identity")
        s = PostgresStore(dsn, pool_size=6)
    yield s
    s.close()


@pytest.fixture
def world(store, clock):
    w = World(store, clock)
    yield w
    w.close()
