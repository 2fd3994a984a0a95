"""What only PostgresStore promises: a description without the password, driver errors in words."""
from __future__ import annotations


import pytest

from wpp.errors import StoreError
from wpp.store import PostgresStore, open_store

from tests.harness import free_port

PASSWORD = "pw-Very-Secret-123456"


def test_description_and_open_store_without_connecting():
    dsn = f"postgresql://wpp:{PASSWORD}@db.example.org:6543/office"
    store = open_store(database_url=dsn)
    assert isinstance(store, PostgresStore)
    assert store.description == "PostgreSQL office on db.example.org:6543 (user wpp)"
    assert PASSWORD not in repr(store)


def test_unreachable_server_is_a_store_error_without_the_password():
    store = PostgresStore(f"postgresql://wpp:{PASSWORD}@127.0.0.1:{free_port()}/office", connect_timeout_s=2)  # a free port: nothing listens
    with pytest.raises(StoreError, match="cannot be reached") as info:
        store.list_integrations()
    for text in (str(info.value), info.value.detail, repr(info.value)):
        assert PASSWORD not in text


def test_unreadable_dsn():
    with pytest.raises(StoreError, match="cannot be read") as info:
        PostgresStore(f"this is not=a dsn {PASSWORD}")
    assert PASSWORD not in str(info.value) + info.value.detail


@pytest.mark.postgres
def test_database_without_the_migration_says_so_and_migrate_fixes_it(pg_cluster):
    dsn = pg_cluster.create_database("wpp_unmigrated", migrate=False)
    store = PostgresStore(dsn)
    with pytest.raises(StoreError) as info:
        store.list_integrations()
    assert "migration" in info.value.action
    with pytest.raises(StoreError) as info:
        store.create("0a0a0a0a-0000-4000-8000-00000000000a", "x")
    assert "migration" in info.value.action

    migrated = PostgresStore(dsn, migrate=True)
    assert migrated.create("0a0a0a0a-0000-4000-8000-00000000000a", "x").is_primary
    assert store.list_integrations()[0].name == "x"  # the same pool keeps working after the errors
    store.close()
    migrated.close()


def test_missing_driver_names_the_extra(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "psycopg_pool", None)  # as if the postgres extra was not installed
    with pytest.raises(StoreError) as info:
        PostgresStore("postgresql://wpp@localhost/office")
    assert "pip install 'wpp-console[postgres]'" in info.value.action


@pytest.mark.postgres
def test_a_refused_sign_in_is_reported_at_once_in_words(pg_cluster):
    """The throwaway cluster trusts every user, so the refusal here is a role that may not log in (SQLSTATE 28000,
    the class of a wrong password); the pool is only opened once one connection has worked."""
    import psycopg

    dsn = pg_cluster.create_database("wpp_refused")
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute("drop role if exists wpp_no_login")
        c.execute("create role wpp_no_login nologin")
    store = PostgresStore(dsn.replace("user=postgres", "user=wpp_no_login") + f" password={PASSWORD}",
                          connect_timeout_s=5)
    with pytest.raises(StoreError, match="did not accept the user name or password") as info:
        store.list_integrations()
    assert PASSWORD not in str(info.value) + info.value.detail
    with pytest.raises(StoreError, match="did not accept the user name or password"):  # asked again, not stuck on a broken pool
        store.console_secret("x")
    store.close()


@pytest.mark.postgres
def test_mint_lock_is_an_advisory_lock_keyed_by_the_number_and_always_given_back(pg_fresh_dsn):
    import psycopg

    iid = "0a0a0a0a-0000-4000-8000-0000000000ff"
    replica_1, replica_2 = PostgresStore(pg_fresh_dsn), PostgresStore(pg_fresh_dsn)

    def advisory_locks() -> list:
        with psycopg.connect(pg_fresh_dsn, autocommit=True) as c:
            return c.execute(
                "select l.objid, l.granted from pg_locks l join pg_stat_activity a on a.pid = l.pid"
                " where l.locktype = 'advisory' and a.application_name = 'wpp-console'").fetchall()

    with psycopg.connect(pg_fresh_dsn, autocommit=True) as c:
        key = c.execute("select hashtextextended(%s, 0)", (f"wpp_console:mint:{iid}",)).fetchone()[0]
    try:
        with replica_1.token_mint_lock(iid.upper(), timeout_s=5):
            locks = advisory_locks()
            assert len(locks) == 1 and locks[0][1] is True
            assert locks[0][0] == key & 0xFFFFFFFF  # the low half of the 64-bit key
            with pytest.raises(StoreError):
                with replica_2.token_mint_lock(iid, timeout_s=0.2):
                    pass
        assert advisory_locks() == []
        with pytest.raises(ZeroDivisionError):
            with replica_2.token_mint_lock(iid, timeout_s=5):
                1 / 0
        assert advisory_locks() == []
        with replica_1.token_mint_lock(iid, timeout_s=5):
            pass
    finally:
        replica_1.close()
        replica_2.close()


@pytest.mark.postgres
def test_more_threads_than_connections_share_the_pool(pg_fresh_dsn):
    from concurrent.futures import ThreadPoolExecutor

    store = PostgresStore(pg_fresh_dsn, pool_size=2)
    try:
        with ThreadPoolExecutor(max_workers=16) as pool:
            values = list(pool.map(lambda n: store.console_secret(f"s{n % 4}"), range(64)))
        assert len(set(values)) == 4
    finally:
        store.close()
    with pytest.raises(StoreError, match="closed"):
        store.list_integrations()


@pytest.mark.postgres
def test_a_database_with_only_the_first_migration_keeps_logging_and_says_what_is_missing(pg_cluster):
    import psycopg

    from wpp.models import ActivityEntry
    from wpp.store.postgres import migration_paths

    dsn = pg_cluster.create_database("wpp_first_only", migrate=False)
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute(migration_paths()[0].read_text(encoding="utf-8"))
    store = PostgresStore(dsn)
    try:
        store.log_activity(ActivityEntry(action="test", outcome="ok", actor="anna", detail="plain line"))
        assert store.list_activity()[0].detail == "plain line"
        with pytest.raises(StoreError) as info:
            store.log_activity(ActivityEntry(action="test", outcome="ok", actor="anna",
                                             message={"msgid": "Hello", "params": {}}))
        assert "migrations" in info.value.action
        with pytest.raises(StoreError) as info:
            store.try_lease("poller", "me", ttl_s=1, now=1)
        assert "migrations" in info.value.action
        store.apply_migration()
        assert store.try_lease("poller", "me", ttl_s=1, now=1)
    finally:
        store.close()


@pytest.mark.postgres
def test_an_unknown_database_name_is_said_in_words(pg_cluster):
    store = PostgresStore(pg_cluster.dsn("no_such_database"), connect_timeout_s=5)
    with pytest.raises(StoreError, match="does not exist") as info:
        store.list_integrations()
    assert "DATABASE_URL" in info.value.action
    store.close()
