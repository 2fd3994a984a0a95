"""What only the embedded SQLite backend promises: its file, its permissions, its schema version, speed,
and several processes sharing one file."""
from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from wpp.errors import StoreError
from wpp.store import SqliteStore, default_data_dir, open_store
from wpp.store.sqlite import SCHEMA_VERSION

ORG = "0a0a0a0a-0000-4000-8000-00000000000a"


def _mode(p: Path) -> int:
    return stat.S_IMODE(os.stat(p).st_mode)


def test_creates_private_folder_and_file(tmp_path):
    path = tmp_path / "new" / "folder" / "wpp.db"
    store = SqliteStore(path)
    store.create(ORG, "n", {"wppApiKey": "k" * 30})
    assert store.description == f"SQLite file {path}"
    assert _mode(path.parent) == 0o700
    assert _mode(path) == 0o600
    for extra in (Path(f"{path}-wal"), Path(f"{path}-shm")):
        if extra.exists():
            assert _mode(extra) == 0o600


def test_a_folder_path_gets_the_default_file_name(tmp_path):
    store = SqliteStore(tmp_path)
    assert store.path == tmp_path / "wpp-console.db"


def test_wal_and_schema_version(tmp_path):
    store = SqliteStore(tmp_path / "wpp.db")
    with sqlite3.connect(store.path) as c:
        assert c.execute("pragma journal_mode").fetchone()[0] == "wal"
        assert c.execute("pragma user_version").fetchone()[0] == SCHEMA_VERSION
        tables = {r[0] for r in c.execute("select name from sqlite_master where type = 'table'")}
        assert {"messenger_integrations", "integration_activity", "wpp_console_organizations", "wpp_console_sessions",
                "wpp_console_secrets", "wpp_console_status", "wpp_console_status_history",
                "wpp_console_leases"} <= tables
        indexes = {r[1] for r in c.execute("pragma index_list('messenger_integrations')")}
        assert "messenger_integrations_org" in indexes
        cols = {r[1] for r in c.execute("pragma table_info('messenger_integrations')")}
        assert cols == {"id", "organization_id", "messenger_type", "provider", "name", "is_primary", "is_enabled",
                        "is_active", "last_error", "last_error_at", "created_at", "updated_at", "settings"}
    busy = store._conn().execute("pragma busy_timeout").fetchone()[0]
    assert busy >= 5000


def test_reopening_keeps_data(tmp_path):
    i = SqliteStore(tmp_path / "wpp.db").create(ORG, "kept", {"a": 1})
    again = SqliteStore(tmp_path / "wpp.db")
    assert again.get(i.id).settings == {"a": 1}


def test_a_file_from_a_newer_version_is_refused_in_words(tmp_path):
    path = tmp_path / "wpp.db"
    with sqlite3.connect(path) as c:
        c.execute(f"pragma user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StoreError, match="newer WPP Console"):
        SqliteStore(path)


def test_a_file_that_is_not_a_database_is_a_store_error(tmp_path):
    path = tmp_path / "wpp.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError) as info:
        SqliteStore(path)
    assert "sqlite3" not in str(info.value)
    assert str(path) in str(info.value)


def test_unwritable_location_is_a_store_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="cannot be created"):
        SqliteStore(blocker / "sub" / "wpp.db")


def test_default_data_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("WPP_DATA_DIR", str(tmp_path / "explicit"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_data_dir() == tmp_path / "explicit"
    monkeypatch.delenv("WPP_DATA_DIR")
    assert default_data_dir() == tmp_path / "xdg" / "wpp-console"
    monkeypatch.setenv("XDG_DATA_HOME", "relative/ignored")  # the XDG spec says: ignore relative paths
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_data_dir() == tmp_path / "home" / ".local" / "share" / "wpp-console"
    monkeypatch.delenv("XDG_DATA_HOME")
    assert default_data_dir() == tmp_path / "home" / ".local" / "share" / "wpp-console"


def test_open_store_defaults_to_sqlite_in_the_data_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("WPP_DATA_DIR", str(tmp_path / "data"))
    store = open_store()
    assert isinstance(store, SqliteStore)
    assert store.path == tmp_path / "data" / "wpp-console.db"
    assert _mode(tmp_path / "data") == 0o700
    assert isinstance(open_store(sqlite_path=tmp_path / "x.db"), SqliteStore)
    assert isinstance(open_store(supabase_url="https://x.supabase.co", sqlite_path=tmp_path / "y.db"), SqliteStore)


def test_listing_500_rows_uses_the_organisation_index(tmp_path):
    store = SqliteStore(tmp_path / "wpp.db")
    c = store._conn()
    c.execute("begin")
    for n in range(500):
        org = ORG if n % 5 else "0b0b0b0b-0000-4000-8000-00000000000b"
        c.execute(
            "insert into messenger_integrations (id, organization_id, name, created_at, updated_at, settings)"
            " values (?, ?, ?, ?, ?, ?)",
            (f"00000000-0000-4000-8000-{n:012d}", org, f"n{n}", f"2025-01-01T00:00:{n % 60:02d}.{n:06d}+00:00",
             "2025-01-01T00:00:00.000000+00:00",
             '{"wppApiKey":"%s","wppAccountNumber":"%013d","wppJwtToken":"eyJ%s","wppJwtExpiresAt":1900000000000}'
             % ("k" * 40, n, "a" * 400)),
        )
    c.execute("commit")
    rows = store.list_integrations()
    assert len(rows) == 500
    plan = " ".join(r[3] for r in c.execute(
        "explain query plan select * from messenger_integrations where messenger_type = 'whatsapp'"
        " and provider = 'wpp' and organization_id = ? order by created_at", (ORG,)))
    assert "messenger_integrations_org" in plan


def test_several_processes_merge_into_one_file(tmp_path):
    """Streamlit, a CLI and a job may all open the same file: 4 processes x 25 merges, nothing lost."""
    store = SqliteStore(tmp_path / "wpp.db")
    i = store.create(ORG, "shared", {"wppApiKey": "k"})
    script = textwrap.dedent(f"""
        import sys
        from wpp.store import SqliteStore
        s = SqliteStore({str(store.path)!r})
        p = int(sys.argv[1])
        for n in range(25):
            s.merge_settings({i.id!r}, {{f"p{{p}}_{{n:02d}}": n}})
    """)
    procs = [subprocess.Popen([sys.executable, "-c", script, str(p)]) for p in range(4)]
    assert [p.wait(timeout=60) for p in procs] == [0, 0, 0, 0]
    settings = store.get(i.id).settings
    assert len(settings) == 1 + 100 and settings["wppApiKey"] == "k"


def test_connection_per_thread(tmp_path):
    import threading

    store = SqliteStore(tmp_path / "wpp.db")
    seen = []

    def grab():
        seen.append(store._conn())

    threads = [threading.Thread(target=grab) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(c) for c in seen}) == 3
    assert store._conn() is store._conn()


# A file written by the previous version (schema 1), exactly as it created it.
V1_SCHEMA = """
CREATE TABLE messenger_integrations (
    id TEXT PRIMARY KEY NOT NULL, organization_id TEXT NOT NULL, messenger_type TEXT NOT NULL DEFAULT 'whatsapp',
    provider TEXT NOT NULL DEFAULT 'wpp', name TEXT, is_primary INTEGER NOT NULL DEFAULT 0,
    is_enabled INTEGER NOT NULL DEFAULT 1, is_active INTEGER NOT NULL DEFAULT 1, last_error TEXT, last_error_at TEXT,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
    settings TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(settings)));
CREATE INDEX messenger_integrations_org ON messenger_integrations (organization_id, messenger_type, provider, created_at);
CREATE TABLE integration_activity (
    id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
    outcome TEXT NOT NULL, integration_id TEXT, organization_id TEXT, detail TEXT NOT NULL DEFAULT '');
CREATE INDEX integration_activity_at ON integration_activity (at, id);
CREATE INDEX integration_activity_integration ON integration_activity (integration_id, at, id);
CREATE INDEX integration_activity_org ON integration_activity (organization_id, at, id);
PRAGMA user_version = 1;
"""
V1_ID = "11111111-2222-4333-8444-555555555555"


def _v1_file(path: Path) -> Path:
    with sqlite3.connect(path) as c:
        c.executescript(V1_SCHEMA)
        c.execute("insert into messenger_integrations (id, organization_id, name, is_primary, created_at, updated_at,"
                  " settings) values (?, ?, 'Front desk', 1, '2025-01-01T00:00:00.000000+00:00',"
                  " '2025-01-01T00:00:00.000000+00:00', '{\"wppApiKey\":\"k\",\"crm\":{\"x\":1}}')", (V1_ID, ORG))
        c.execute("insert into integration_activity (at, actor, action, outcome, integration_id, organization_id, detail)"
                  " values ('2025-01-01T00:00:01.000000+00:00', 'anna', 'create', 'ok', ?, ?, 'created')", (V1_ID, ORG))
    return path


def test_a_file_of_the_previous_version_is_upgraded_and_keeps_its_data(tmp_path):
    from wpp.models import ActivityEntry, StatusRecord

    path = _v1_file(tmp_path / "old.db")
    store = SqliteStore(path)
    with sqlite3.connect(path) as c:
        assert c.execute("pragma user_version").fetchone()[0] == SCHEMA_VERSION == 4
        assert "message" in {r[1] for r in c.execute("pragma table_info('integration_activity')")}
        assert {"watched_until", "observed_at"} <= {r[1] for r in c.execute("pragma table_info('wpp_console_status')")}
        assert "late" in {r[1] for r in c.execute("pragma table_info('wpp_console_status_history')")}

    old = store.get(V1_ID)
    assert (old.name, old.is_primary, old.settings) == ("Front desk", True, {"wppApiKey": "k", "crm": {"x": 1}})
    [line] = store.list_activity()
    assert (line.actor, line.action, line.detail, line.message) == ("anna", "create", "created", None)

    # everything new works on the upgraded file
    store.log_activity(ActivityEntry(action="rename", outcome="ok", actor="anna", message={"msgid": "Renamed", "params": {}}))
    assert store.list_activity()[0].message == {"msgid": "Renamed", "params": {}}
    assert store.add_organization("School", ORG).name == "School"
    store.save_status(StatusRecord(integration_id=V1_ID, state="connected"))
    assert store.load_statuses()[V1_ID].state == "connected"
    assert store.watch_status(V1_ID, until=100.0) and store.load_statuses()[V1_ID].watched_until == 100.0
    assert store.try_lease("poller", "me", ttl_s=10, now=1.0)
    assert len(store.console_secret("cookie")) == 64
    assert store.reactivate(V1_ID).is_primary

    again = SqliteStore(path)  # a second open: nothing to upgrade, nothing lost
    assert again.get(V1_ID).settings == old.settings and len(again.list_activity()) == 2


def test_two_processes_upgrading_one_old_file_at_once(tmp_path):
    path = _v1_file(tmp_path / "old.db")
    script = textwrap.dedent(f"""
        from wpp.store import SqliteStore
        s = SqliteStore({str(path)!r})
        assert s.get({V1_ID!r}).name == "Front desk"
        s.console_secret("shared")
    """)
    procs = [subprocess.Popen([sys.executable, "-c", script]) for _ in range(3)]
    assert [p.wait(timeout=60) for p in procs] == [0, 0, 0]
    store = SqliteStore(path)
    assert [e.action for e in store.list_activity()] == ["create"]
    with sqlite3.connect(path) as c:
        assert c.execute("select count(*) from wpp_console_secrets").fetchone()[0] == 1


def test_org_table_in_the_sqlite_file_and_checked_names(tmp_path):
    from wpp.store import OrgTable

    path = tmp_path / "wpp.db"
    with pytest.raises(StoreError, match="WPP_ORG_TABLE"):
        SqliteStore(path, org_table=OrgTable(table="x; drop"))
    store = SqliteStore(path, org_table=OrgTable(table="main.Schools", id_column="Id", name_column="Title"))
    assert store.list_organizations() == []
    with sqlite3.connect(path) as c:
        c.execute("create table schools (id text, title text)")
        c.execute("insert into schools values (?, 'Школа')", (ORG,))
    assert [(o.id, o.name, o.source) for o in store.list_organizations()] == [(ORG, "Школа", "platform")]
    attached = SqliteStore(path, org_table=OrgTable(table="platform.schools"))  # nothing attached as "platform"
    assert attached.list_organizations() == []


def test_a_version_2_file_gets_the_board_heartbeat_column_and_keeps_its_board(tmp_path):
    from wpp.models import StatusRecord

    path = tmp_path / "v2.db"
    SqliteStore(path).close()
    with sqlite3.connect(path) as c:  # as version 2 left it: the board without watched_until
        c.execute("drop table wpp_console_status")
        c.execute("create table wpp_console_status (integration_id TEXT PRIMARY KEY NOT NULL, state TEXT, raw TEXT,"
                  " since REAL, checked_at REAL, ok_at REAL, failures INTEGER NOT NULL DEFAULT 0, error TEXT,"
                  " next_check_at REAL, phone TEXT)")
        c.execute("insert into wpp_console_status (integration_id, state, next_check_at) values (?, 'qr_required', 50)",
                  (V1_ID,))
        c.execute("pragma user_version = 2")
    store = SqliteStore(path)
    assert store.load_statuses() == {V1_ID: StatusRecord(integration_id=V1_ID, state="qr_required", next_check_at=50.0)}
    assert store.watch_status(V1_ID, until=90.0, check_by=10.0)
    assert store.load_statuses()[V1_ID] == StatusRecord(integration_id=V1_ID, state="qr_required", next_check_at=10.0,
                                                        watched_until=90.0)
