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
