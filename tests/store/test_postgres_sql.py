"""The migration's SQL on a real PostgreSQL 15, straight through psycopg (no store code in between).

What production runs behind PostgREST's /rpc/ is exactly these functions, so this is where the atomic merge
is proven: only the patch keys change, a null removes a key, keys (and nulls) of other features stay, and
100 concurrent merges from 100 separate connections lose nothing.
"""
from __future__ import annotations

import threading
import uuid

import psycopg
import pytest
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from wpp.store.postgres import migration_paths

MIGRATIONS = migration_paths()
CONSOLE_TABLES = ("wpp_console_activity", "wpp_console_organizations", "wpp_console_sessions", "wpp_console_secrets",
                  "wpp_console_status", "wpp_console_status_history", "wpp_console_leases")


def _migrate(conn) -> None:
    for path in MIGRATIONS:
        conn.execute(path.read_text(encoding="utf-8"))

pytestmark = pytest.mark.postgres

ORG = "0a0a0a0a-0000-4000-8000-00000000000a"


@pytest.fixture(scope="module")
def sql_dsn(pg_cluster):
    return pg_cluster.create_database("wpp_sql")


@pytest.fixture
def db(sql_dsn):
    with psycopg.connect(sql_dsn, autocommit=True, row_factory=dict_row) as c:
        c.execute("truncate public.messenger_integrations, " + ", ".join(f"public.{t}" for t in CONSOLE_TABLES)
                  + " restart identity")
        yield c


def _row(db, settings: dict, **cols) -> str:
    iid = str(uuid.uuid4())
    values = {"id": iid, "organization_id": ORG, "messenger_type": "whatsapp", "provider": "wpp",
              "settings": Jsonb(settings), **cols}
    db.execute(f"insert into public.messenger_integrations ({', '.join(values)}) values ({', '.join(['%s'] * len(values))})",
               list(values.values()))
    return iid


def _merge(db, iid: str, patch) -> dict:
    return db.execute("select * from public.wpp_merge_settings(%s, %s)", (iid, Jsonb(patch))).fetchone()


def test_merge_changes_only_patch_keys_and_null_removes(db):
    iid = _row(db, {"wppApiKey": "k", "crm": {"a": 1}, "otherFeatureNull": None, "gone": 1})
    before = db.execute("select updated_at from public.messenger_integrations where id = %s", (iid,)).fetchone()

    row = _merge(db, iid, {"wppJwtToken": "t", "wppJwtExpiresAt": 123, "gone": None, "crm": {"b": 2}})
    assert row["settings"] == {"wppApiKey": "k", "crm": {"b": 2}, "otherFeatureNull": None,
                               "wppJwtToken": "t", "wppJwtExpiresAt": 123}
    # a null another feature stored itself is not stripped (jsonb_strip_nulls would have)
    assert "otherFeatureNull" in row["settings"]
    assert row["updated_at"] >= before["updated_at"]
    stored = db.execute("select settings from public.messenger_integrations where id = %s", (iid,)).fetchone()
    assert stored["settings"] == row["settings"]


def test_merge_into_sql_null_or_json_null_settings(db, pg_legacy_dsn):
    with psycopg.connect(pg_legacy_dsn, autocommit=True, row_factory=dict_row) as legacy:  # settings is nullable there
        a = _row(legacy, {})
        legacy.execute("update public.messenger_integrations set settings = null where id = %s", (a,))
        assert _merge(legacy, a, {"x": 1})["settings"] == {"x": 1}
        legacy.execute("delete from public.messenger_integrations where id = %s", (a,))
    b = _row(db, {})
    db.execute("update public.messenger_integrations set settings = 'null'::jsonb where id = %s", (b,))
    assert _merge(db, b, {"x": None, "y": 2})["settings"] == {"y": 2}


def test_merge_errors_carry_sqlstates_the_stores_map(db):
    with pytest.raises(psycopg.errors.NoDataFound):  # P0002 -> IntegrationNotFound
        _merge(db, str(uuid.uuid4()), {"a": 1})
    iid = _row(db, {})
    with pytest.raises(psycopg.errors.InvalidParameterValue):  # 22023
        _merge(db, iid, [1, 2])
    other = _row(db, {}, provider="twilio")
    with pytest.raises(psycopg.errors.NoDataFound):  # other providers' rows are not ours to change
        _merge(db, other, {"a": 1})


def test_hundred_concurrent_merges_from_separate_connections(db, sql_dsn):
    iid = _row(db, {"wppApiKey": "k", "otherFeature": {"keep": True}})
    conns = [psycopg.connect(sql_dsn, autocommit=True) for _ in range(100)]
    start = threading.Barrier(len(conns))
    errors: list[BaseException] = []

    def worker(n: int, conn) -> None:
        try:
            start.wait(timeout=30)
            conn.execute("select public.wpp_merge_settings(%s, %s)", (iid, Jsonb({f"k{n:03d}": n})))
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    try:
        threads = [threading.Thread(target=worker, args=(n, c)) for n, c in enumerate(conns)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    finally:
        for c in conns:
            c.close()
    assert not errors, errors[:3]
    settings = db.execute("select settings from public.messenger_integrations where id = %s", (iid,)).fetchone()["settings"]
    assert settings == {"wppApiKey": "k", "otherFeature": {"keep": True}, **{f"k{n:03d}": n for n in range(100)}}


def test_create_and_deactivate_write_every_flag_column_that_exists(pg_cluster):
    """An installation with both is_active and is_enabled: both are set on create and cleared on deactivate."""
    dsn = pg_cluster.create_database("wpp_both", migrate=False)
    with psycopg.connect(dsn, autocommit=True, row_factory=dict_row) as c:
        c.execute("""create table public.messenger_integrations (
            id uuid primary key, organization_id uuid not null, messenger_type text not null, provider text not null,
            name text, is_primary boolean default false, is_active boolean default false,
            is_enabled boolean default false, last_error text, last_error_at timestamptz,
            settings jsonb default '{}', created_at timestamptz default now(), updated_at timestamptz default now())""")
        _migrate(c)
        assert c.execute("select public.wpp_flag_columns() as f").fetchone()["f"] == ["is_active", "is_enabled"]
        first = c.execute("select * from public.wpp_create_integration(%s, %s, %s)", (ORG, " A ", Jsonb({"k": 1, "n": None}))).fetchone()
        second = c.execute("select * from public.wpp_create_integration(%s, null, %s)", (ORG, Jsonb({}))).fetchone()
        assert (first["is_active"], first["is_enabled"], first["is_primary"]) == (True, True, True)
        assert first["name"] == "A" and first["settings"] == {"k": 1}
        assert (second["is_active"], second["is_enabled"], second["is_primary"]) == (True, True, False)
        off = c.execute("select * from public.wpp_deactivate_integration(%s)", (first["id"],)).fetchone()
        assert (off["is_active"], off["is_enabled"], off["is_primary"]) == (False, False, False)
        heir = c.execute("select is_primary from public.messenger_integrations where id = %s", (second["id"],)).fetchone()
        assert heir["is_primary"] is True


def test_migration_is_idempotent_and_leaves_an_existing_table_alone(pg_cluster):
    dsn = pg_cluster.create_database("wpp_existing", legacy=True, migrate=False)
    with psycopg.connect(dsn, autocommit=True, row_factory=dict_row) as c:
        foreign = str(uuid.uuid4())
        c.execute("insert into public.messenger_integrations (id, organization_id, messenger_type, provider, settings,"
                  " webhook_secret) values (%s, %s, 'telegram', 'other', %s, 's3cr3t')", (foreign, ORG, Jsonb({"a": None})))

        def shape():
            return (
                c.execute("select column_name, data_type, column_default, is_nullable from information_schema.columns"
                          " where table_schema = 'public' and table_name = 'messenger_integrations'"
                          " order by column_name").fetchall(),
                c.execute("select indexname, indexdef from pg_indexes where tablename = 'messenger_integrations'"
                          " order by indexname").fetchall(),
                c.execute("select relrowsecurity from pg_class where oid = 'public.messenger_integrations'::regclass").fetchone(),
                c.execute("select * from public.messenger_integrations").fetchall(),
            )

        before = shape()
        for _ in range(3):
            _migrate(c)
        assert shape() == before
        # 11 functions of parts 1-3, 4 of part 5 (status pushed by the platform: webhooks), 7 of part 6 (the newest
        # state wins, records kept in bounds), 1 of proof of delivery, 1 keeping its checks in bounds
        assert c.execute("select count(*) as n from pg_proc where proname like 'wpp\\_%%'").fetchone()["n"] == 24


def test_privileges_service_role_yes_anon_no(sql_dsn):
    with psycopg.connect(sql_dsn, autocommit=True, row_factory=dict_row) as c:
        iid = _row(c, {"a": 1}, is_active=True)
        rls = c.execute("select relrowsecurity from pg_class where oid = 'public.wpp_console_activity'::regclass").fetchone()
        assert rls["relrowsecurity"] is True
        policies = c.execute("select policyname, roles::text[] as roles from pg_policies"
                             " where tablename = 'wpp_console_activity'").fetchall()
        assert policies == [{"policyname": "wpp_console_activity_service_role", "roles": ["service_role"]}]

        c.execute("set role service_role")
        try:
            assert c.execute("select settings from public.wpp_merge_settings(%s, %s)",
                             (iid, Jsonb({"b": 2}))).fetchone()["settings"] == {"a": 1, "b": 2}
            c.execute("insert into public.wpp_console_activity (action, outcome) values ('test', 'ok')")
            assert c.execute("select count(*) as n from public.wpp_console_activity").fetchone()["n"] == 1
        finally:
            c.execute("reset role")

        for role in ("anon", "authenticated"):
            c.execute(f"set role {role}")
            try:
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    c.execute("select public.wpp_merge_settings(%s, %s)", (iid, Jsonb({"c": 3})))
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    c.execute("select * from public.wpp_console_activity")
            finally:
                c.execute("reset role")


# --- part 2 of the migration ------------------------------------------------------------------------------------
NEW_TABLES = ("wpp_console_organizations", "wpp_console_sessions", "wpp_console_secrets", "wpp_console_status",
              "wpp_console_status_history", "wpp_console_leases")


def test_part_two_adds_the_message_column_to_an_existing_log_and_keeps_its_lines(pg_cluster):
    dsn = pg_cluster.create_database("wpp_upgrade", migrate=False)
    with psycopg.connect(dsn, autocommit=True, row_factory=dict_row) as c:
        c.execute(MIGRATIONS[0].read_text(encoding="utf-8"))  # the previous release only
        c.execute("insert into public.wpp_console_activity (actor, action, outcome, detail)"
                  " values ('anna', 'create', 'ok', 'kept')")
        before = c.execute("select id, at, actor, action, outcome, detail from public.wpp_console_activity").fetchall()
        for _ in range(2):
            _migrate(c)
        after = c.execute("select id, at, actor, action, outcome, detail, message from public.wpp_console_activity").fetchall()
        assert [{k: v for k, v in r.items() if k != "message"} for r in after] == before
        assert after[0]["message"] is None
        kind = c.execute("select data_type from information_schema.columns where table_name = 'wpp_console_activity'"
                         " and column_name = 'message'").fetchone()
        assert kind["data_type"] == "jsonb"


def test_new_tables_have_rls_and_only_service_role_may_use_them(sql_dsn):
    with psycopg.connect(sql_dsn, autocommit=True, row_factory=dict_row) as c:
        for table in NEW_TABLES:
            rls = c.execute("select relrowsecurity from pg_class where oid = %s::regclass", (f"public.{table}",)).fetchone()
            assert rls["relrowsecurity"] is True, table
            policies = c.execute("select policyname, roles::text[] as roles from pg_policies where tablename = %s",
                                 (table,)).fetchall()
            assert policies == [{"policyname": f"{table}_service_role", "roles": ["service_role"]}]
        index = c.execute("select indexdef from pg_indexes where indexname = 'wpp_console_status_history_integration_idx'"
                          ).fetchone()
        assert "(integration_id, at DESC, id DESC)" in index["indexdef"]
        iid = _row(c, {}, is_active=False)

        c.execute("set role service_role")
        try:
            assert c.execute("select public.wpp_try_lease('poller', 'me', 30, 1000) as ok").fetchone()["ok"] is True
            assert len(c.execute("select public.wpp_console_secret('k') as v").fetchone()["v"]) == 64
            c.execute("select public.wpp_save_status(%s, %s)", (Jsonb({"integration_id": "x", "state": "connected"}),
                                                              Jsonb({"integration_id": "x", "state": "connected", "at": 1})))
            assert c.execute("select is_active from public.wpp_reactivate_integration(%s)", (iid,)).fetchone()["is_active"]
            c.execute("insert into public.wpp_console_sessions (key, created_at, expires_at, ticket_hash,"
                      " ticket_expires_at) values ('k1', 1, 100, 't1', 50)")
            assert c.execute("select key from public.wpp_redeem_sign_in_ticket('t1', 'h1', 2)").fetchone()["key"] == "k1"
            c.execute("insert into public.wpp_console_organizations (id, name) values (%s, 'School')", (ORG,))
            for table in NEW_TABLES:
                c.execute(f"select * from public.{table}").fetchall()
        finally:
            c.execute("reset role")

        calls = [
            "select public.wpp_try_lease('poller', 'them', 30, 1000)",
            "select public.wpp_console_secret('k')",
            "select public.wpp_save_status('{\"integration_id\": \"y\"}'::jsonb, null)",
            f"select public.wpp_reactivate_integration('{iid}')",
            "select * from public.wpp_redeem_sign_in_ticket('t', 'h', 1)",
        ] + [f"select * from public.{t}" for t in NEW_TABLES]
        for role in ("anon", "authenticated"):
            c.execute(f"set role {role}")
            try:
                for sql in calls:
                    with pytest.raises(psycopg.errors.InsufficientPrivilege):
                        c.execute(sql)
            finally:
                c.execute("reset role")


def test_lease_function_from_twenty_separate_connections(db, sql_dsn):
    conns = [psycopg.connect(sql_dsn, autocommit=True) for _ in range(20)]
    start = threading.Barrier(len(conns))
    results: list = [None] * len(conns)

    def worker(n: int, conn) -> None:
        start.wait(timeout=30)
        results[n] = conn.execute("select public.wpp_try_lease('poller', %s, 60, 1000)", (f"h{n}",)).fetchone()[0]

    try:
        threads = [threading.Thread(target=worker, args=(n, c)) for n, c in enumerate(conns)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    finally:
        for c in conns:
            c.close()
    assert results.count(True) == 1 and results.count(False) == 19
    holder = db.execute("select holder from public.wpp_console_leases where name = 'poller'").fetchone()["holder"]
    assert holder == f"h{results.index(True)}"
    # expired: anyone may take it; the holder renews
    assert db.execute("select public.wpp_try_lease('poller', 'late', 60, 1059.9) as ok").fetchone()["ok"] is False
    assert db.execute("select public.wpp_try_lease('poller', 'late', 60, 1060) as ok").fetchone()["ok"] is True
    assert db.execute("select public.wpp_try_lease('poller', 'late', 60, 1061) as ok").fetchone()["ok"] is True


def test_save_status_is_one_transaction(db):
    with pytest.raises(psycopg.errors.InvalidParameterValue):  # the change has no time: nothing is saved at all
        db.execute("select public.wpp_save_status(%s, %s)",
                   (Jsonb({"integration_id": "a", "state": "connected"}), Jsonb({"integration_id": "a", "state": "x"})))
    assert db.execute("select count(*) as n from public.wpp_console_status").fetchone()["n"] == 0
    with pytest.raises(psycopg.errors.InvalidParameterValue):
        db.execute("select public.wpp_save_status(%s, null)", (Jsonb({"state": "connected"}),))


# --- part 3: the pairing panels' heartbeats ---------------------------------------------------------------------
def test_part_three_adds_the_heartbeat_to_an_existing_board_and_keeps_its_entries(pg_cluster):
    dsn = pg_cluster.create_database("wpp_upgrade_watch", migrate=False)
    with psycopg.connect(dsn, autocommit=True, row_factory=dict_row) as c:
        for path in MIGRATIONS[:2]:  # the previous release
            c.execute(path.read_text(encoding="utf-8"))
        c.execute("select public.wpp_save_status(%s, null)",
                  (Jsonb({"integration_id": "a", "state": "qr_required", "next_check_at": 100}),))
        for _ in range(2):
            _migrate(c)  # idempotent
        row = c.execute("select state, next_check_at, watched_until from public.wpp_console_status").fetchone()
        assert row == {"state": "qr_required", "next_check_at": 100.0, "watched_until": None}
        assert c.execute("select public.wpp_watch_status('a', 130, 90) as ok").fetchone()["ok"] is True
        assert c.execute("select public.wpp_watch_status('nobody', 130) as ok").fetchone()["ok"] is False
        row = c.execute("select next_check_at, watched_until from public.wpp_console_status").fetchone()
        assert row == {"next_check_at": 90.0, "watched_until": 130.0}
        # the poller's save (part 2's function) leaves the heartbeat alone
        c.execute("select public.wpp_save_status(%s, null)",
                  (Jsonb({"integration_id": "a", "state": "connected", "next_check_at": 160}),))
        row = c.execute("select state, next_check_at, watched_until from public.wpp_console_status").fetchone()
        assert row == {"state": "connected", "next_check_at": 160.0, "watched_until": 130.0}
        with pytest.raises(psycopg.errors.InvalidParameterValue):
            c.execute("select public.wpp_watch_status('a', null)")


def test_only_service_role_may_write_a_heartbeat(db):
    db.execute("select public.wpp_save_status(%s, null)", (Jsonb({"integration_id": "w", "state": "starting"}),))
    db.execute("set role service_role")
    try:
        assert db.execute("select public.wpp_watch_status('w', 10) as ok").fetchone()["ok"] is True
    finally:
        db.execute("reset role")
    for role in ("anon", "authenticated"):
        db.execute(f"set role {role}")
        try:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                db.execute("select public.wpp_watch_status('w', 20)")
        finally:
            db.execute("reset role")
    assert db.execute("select watched_until from public.wpp_console_status").fetchone()["watched_until"] == 10.0
