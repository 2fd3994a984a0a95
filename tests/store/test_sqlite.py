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
        assert {"messenger_integrations", "integration_activity"} <= tables
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
