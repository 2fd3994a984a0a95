"""The embedded default backend: one SQLite file, safe for a small office.

- WAL journal and a busy timeout, so Streamlit's session threads and several processes can share the file.
- One connection per thread (``threading.local``); every write is one ``BEGIN IMMEDIATE`` transaction, so
  the read part of a write (settings for a merge, "is there a primary?" for a create) sees the state that
  the write lands on. A second writer waits for the lock (busy timeout) instead of working on a stale copy.
- ``merge_settings`` merges inside that transaction. It deliberately does not use SQLite's ``json_patch``:
  that is RFC 7396, which merges nested objects key by key and strips nulls inside nested values, while the
  Postgres function (``settings || patch``) replaces a top-level key whole. Both backends must agree.
- Created with the directory 0700 and the file 0600 (SQLite gives its -wal/-shm files the file's mode).
- Schema versioned with ``PRAGMA user_version``.
"""
from __future__ import annotations

import dataclasses
import json
import os
import sqlite3
import threading
import uuid
import weakref
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from ..errors import IntegrationNotFound, StoreError
from ..models import ActivityEntry, Integration
from ._common import (
    MESSENGER_TYPE,
    PROVIDER,
    SecretMemory,
    activity_filters,
    activity_from_row,
    canonical_uuid,
    check_limit,
    check_patch,
    clean_name,
    guard,
    initial_settings,
    learn_secrets,
    load_settings,
    merge_dict,
    now_iso,
    ref_id,
    row_to_integration,
    scrub_stored,
    to_utc_iso,
)

SCHEMA_VERSION = 1
DEFAULT_FILENAME = "wpp-console.db"
BUSY_TIMEOUT_S = 30.0

_SCHEMA_V1 = (
    """
    CREATE TABLE IF NOT EXISTS messenger_integrations (
        id              TEXT PRIMARY KEY NOT NULL,
        organization_id TEXT NOT NULL,
        messenger_type  TEXT NOT NULL DEFAULT 'whatsapp',
        provider        TEXT NOT NULL DEFAULT 'wpp',
        name            TEXT,
        is_primary      INTEGER NOT NULL DEFAULT 0,
        is_enabled      INTEGER NOT NULL DEFAULT 1,
        is_active       INTEGER NOT NULL DEFAULT 1,
        last_error      TEXT,
        last_error_at   TEXT,
        created_at      TEXT NOT NULL,
        updated_at      TEXT NOT NULL,
        settings        TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(settings))
    )
    """,
    """
    CREATE INDEX IF NOT EXISTS messenger_integrations_org
        ON messenger_integrations (organization_id, messenger_type, provider, created_at)
    """,
    """
    CREATE TABLE IF NOT EXISTS integration_activity (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        at              TEXT NOT NULL,
        actor           TEXT NOT NULL,
        action          TEXT NOT NULL,
        outcome         TEXT NOT NULL,
        integration_id  TEXT,
        organization_id TEXT,
        detail          TEXT NOT NULL DEFAULT ''
    )
    """,
    "CREATE INDEX IF NOT EXISTS integration_activity_at ON integration_activity (at, id)",
    "CREATE INDEX IF NOT EXISTS integration_activity_integration ON integration_activity (integration_id, at, id)",
    "CREATE INDEX IF NOT EXISTS integration_activity_org ON integration_activity (organization_id, at, id)",
)

_WPP = "messenger_type = 'whatsapp' AND provider = 'wpp'"
_ACTIVE = "coalesce(is_active, 1) <> 0 AND coalesce(is_enabled, 1) <> 0"


def default_data_dir() -> Path:
    """``$WPP_DATA_DIR``, else ``$XDG_DATA_HOME/wpp-console``, else ``~/.local/share/wpp-console``."""
    env = os.environ.get("WPP_DATA_DIR", "").strip()
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME", "").strip()
    base = Path(xdg).expanduser() if xdg and os.path.isabs(os.path.expanduser(xdg)) else Path.home() / ".local" / "share"
    return base / "wpp-console"


def _org_key(organization_id: str | None) -> str:
    text = "" if organization_id is None else str(organization_id).strip()
    if not text:
        raise StoreError("A number must belong to an organisation.", action="Choose the organisation first.")
    return canonical_uuid(text) or text


_guard = guard(lambda: sqlite3.Error)  # every sqlite3 error becomes a StoreError in words


class SqliteStore:
    """``IntegrationStore`` in one SQLite file (see the module docstring)."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = _prepare_path(Path(path))
        self.description = f"SQLite file {self.path}"
        self._local = threading.local()
        # thread -> its connection; an entry goes when its thread is gone (Streamlit makes a thread per rerun)
        self._conns: "weakref.WeakKeyDictionary[threading.Thread, sqlite3.Connection]" = weakref.WeakKeyDictionary()
        self._conns_lock = threading.Lock()
        self._secrets = SecretMemory()
        self._init_schema()

    def __repr__(self) -> str:
        return f"SqliteStore({str(self.path)!r})"

    # --- connections ----------------------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        c = getattr(self._local, "conn", None)
        if c is None:
            c = sqlite3.connect(str(self.path), timeout=BUSY_TIMEOUT_S, isolation_level=None)
            c.row_factory = sqlite3.Row
            c.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            c.execute("PRAGMA journal_mode = WAL")
            c.execute("PRAGMA synchronous = NORMAL")
            self._local.conn = c
            with self._conns_lock:
                self._conns[threading.current_thread()] = c
        return c

    def close(self) -> None:
        """Close every thread's connection (they reopen on next use)."""
        with self._conns_lock:
            conns = list(self._conns.values())
            self._conns = weakref.WeakKeyDictionary()
        for c in conns:
            try:
                c.close()
            except sqlite3.Error:
                pass
        self._local = threading.local()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction that holds SQLite's write lock from its first statement."""
        c = self._conn()
        c.execute("BEGIN IMMEDIATE")
        try:
            yield c
        except BaseException:
            if c.in_transaction:
                c.execute("ROLLBACK")
            raise
        else:
            c.execute("COMMIT")

    def _init_schema(self) -> None:
        try:
            c = self._conn()
            version = c.execute("PRAGMA user_version").fetchone()[0]
            if version == SCHEMA_VERSION:
                return
            self._check_version(version)
            with self._write() as c:
                version = c.execute("PRAGMA user_version").fetchone()[0]  # another process may have won
                self._check_version(version)
                if version < 1:
                    for stmt in _SCHEMA_V1:
                        c.execute(stmt)
                c.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except StoreError:
            raise
        except sqlite3.Error as e:
            raise self._error(e) from None

    def _check_version(self, version: int) -> None:
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"The database file {self.path} was written by a newer WPP Console (schema {version}).",
                action="Update WPP Console, or point it at another data file.",
            )

    def _error(self, e: sqlite3.Error) -> StoreError:
        text = str(e)
        low = text.lower()
        if "locked" in low or "busy" in low:
            msg = f"The database file {self.path} stayed busy (another window or program is writing to it)."
            action = "Try again in a moment."
        elif "readonly" in low or "read-only" in low or "unable to open" in low or "permission" in low:
            msg = f"The database file {self.path} cannot be opened for writing."
            action = "Check that the folder exists and that this user may write to it, or set WPP_DATA_DIR."
        elif "malformed" in low or "not a database" in low or "corrupt" in low:
            msg = f"The database file {self.path} is damaged or is not a WPP Console database."
            action = "Restore it from a backup, or point WPP_DATA_DIR at another folder."
        elif "disk" in low and "full" in low:
            msg = f"The disk holding {self.path} is full."
            action = "Free some space, then try again."
        else:
            msg = f"The database file {self.path} could not be read or written."
            action = None
        return StoreError(msg, action=action, detail=f"{type(e).__name__}: {text}", secrets=self._secrets.all())

    # --- reads ----------------------------------------------------------------------------
    def _row(self, c: sqlite3.Connection, integration_id: str) -> sqlite3.Row:
        iid = canonical_uuid(integration_id)
        row = None
        if iid is not None:
            row = c.execute(f"SELECT * FROM messenger_integrations WHERE id = ? AND {_WPP}", (iid,)).fetchone()
        if row is None:
            raise IntegrationNotFound(detail=f"no WhatsApp/WPP integration with id {str(integration_id)[:64]!r}")
        return row

    def _integration(self, row: sqlite3.Row) -> Integration:
        return self._secrets.remember(row_to_integration(dict(row), times_are_canonical=True))

    @_guard
    def list_integrations(self, organization_id: str | None = None, *, include_inactive: bool = False) -> list[Integration]:
        sql = f"SELECT * FROM messenger_integrations WHERE {_WPP}"
        args: list = []
        if organization_id is not None:
            sql += " AND organization_id = ?"
            args.append(ref_id(str(organization_id).strip()))
        if not include_inactive:
            sql += f" AND {_ACTIVE}"
        sql += " ORDER BY created_at, rowid"
        rows = self._conn().execute(sql, args).fetchall()
        return self._secrets.remember_all(row_to_integration(dict(r), times_are_canonical=True) for r in rows)

    @_guard
    def get(self, integration_id: str) -> Integration:
        return self._integration(self._row(self._conn(), integration_id))

    # --- writes ---------------------------------------------------------------------------
    @_guard
    def create(self, organization_id: str, name: str | None = None, settings: dict | None = None) -> Integration:
        org = _org_key(organization_id)
        blob = _dumps(initial_settings(settings))
        iid, now = str(uuid.uuid4()), now_iso()
        with self._write() as c:
            has_primary = c.execute(
                "SELECT 1 FROM messenger_integrations WHERE organization_id = ? AND messenger_type = 'whatsapp'"
                f" AND is_primary <> 0 AND {_ACTIVE} LIMIT 1",
                (org,),
            ).fetchone()
            c.execute(
                "INSERT INTO messenger_integrations (id, organization_id, messenger_type, provider, name, is_primary,"
                " is_enabled, is_active, created_at, updated_at, settings) VALUES (?, ?, ?, ?, ?, ?, 1, 1, ?, ?, ?)",
                (iid, org, MESSENGER_TYPE, PROVIDER, clean_name(name), 0 if has_primary else 1, now, now, blob),
            )
            row = self._row(c, iid)
        return self._integration(row)

    @_guard
    def merge_settings(self, integration_id: str, patch: dict) -> Integration:
        patch = check_patch(patch)
        with self._write() as c:
            row = self._row(c, integration_id)
            merged = merge_dict(load_settings(row["settings"]), patch)
            c.execute(
                "UPDATE messenger_integrations SET settings = ?, updated_at = ? WHERE id = ?",
                (_dumps(merged), now_iso(), row["id"]),
            )
            row = self._row(c, row["id"])
        return self._integration(row)

    @_guard
    def update(self, integration_id: str, *, name: str | None = None, last_error: str | None = None,
               clear_error: bool = False) -> Integration:
        sets: dict[str, object] = {}
        if name is not None:
            sets["name"] = clean_name(name)
        if clear_error:
            sets["last_error"] = None
            sets["last_error_at"] = None
        if last_error is not None:
            sets["last_error"] = scrub_stored(last_error, self._secrets.all())
            sets["last_error_at"] = now_iso()
        with self._write() as c:
            row = self._row(c, integration_id)
            if sets:
                sets["updated_at"] = now_iso()
                assignments = ", ".join(f"{k} = ?" for k in sets)
                c.execute(f"UPDATE messenger_integrations SET {assignments} WHERE id = ?", (*sets.values(), row["id"]))
                row = self._row(c, row["id"])
        return self._integration(row)

    @_guard
    def deactivate(self, integration_id: str) -> Integration:
        with self._write() as c:
            row = self._row(c, integration_id)
            now = now_iso()
            c.execute(
                "UPDATE messenger_integrations SET is_active = 0, is_enabled = 0, is_primary = 0, updated_at = ?"
                " WHERE id = ?",
                (now, row["id"]),
            )
            if row["is_primary"]:
                heir = c.execute(
                    f"SELECT id FROM messenger_integrations WHERE organization_id = ? AND {_WPP} AND {_ACTIVE}"
                    " AND id <> ? ORDER BY created_at, rowid LIMIT 1",
                    (row["organization_id"], row["id"]),
                ).fetchone()
                if heir is not None:
                    c.execute(
                        "UPDATE messenger_integrations SET is_primary = 1, updated_at = ? WHERE id = ?",
                        (now, heir["id"]),
                    )
            row = self._row(c, row["id"])
        return self._integration(row)

    # --- activity log ---------------------------------------------------------------------
    @_guard
    def log_activity(self, entry: ActivityEntry) -> ActivityEntry:
        iid, org = ref_id(entry.integration_id), ref_id(entry.organization_id)
        learn_secrets(self, iid)
        stored = dataclasses.replace(
            entry,
            at=to_utc_iso(entry.at) or now_iso(),
            detail=scrub_stored(entry.detail or "", self._secrets.all()) or "",
            integration_id=iid,
            organization_id=org,
        )
        with self._write() as c:
            cur = c.execute(
                "INSERT INTO integration_activity (at, actor, action, outcome, integration_id, organization_id, detail)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (stored.at, stored.actor or "", stored.action, stored.outcome, iid, org, stored.detail),
            )
            new_id = cur.lastrowid
        return dataclasses.replace(stored, id=new_id)

    @_guard
    def list_activity(self, *, limit: int = 500, integration_id: str | None = None,
                      organization_id: str | None = None) -> list[ActivityEntry]:
        where, args = activity_filters(integration_id, organization_id, "?")
        sql = f"SELECT * FROM integration_activity{where} ORDER BY at DESC, id DESC LIMIT ?"
        args.append(check_limit(limit))
        return [activity_from_row(dict(r)) for r in self._conn().execute(sql, args)]


def _dumps(settings: dict) -> str:
    try:
        return json.dumps(settings, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as e:
        raise StoreError("A settings value cannot be saved (it is not plain JSON).", detail=str(e)) from None


def _prepare_path(path: Path) -> Path:
    """The database file: a missing folder is created 0700, a missing file 0600 (before SQLite opens it)."""
    path = path.expanduser()
    if str(path) in ("", ":memory:") or str(path).startswith("file:"):
        raise StoreError("The local database must be a file on disk.", action="Give a file path, e.g. ~/wpp-console.db.")
    try:
        if path.is_dir():
            path = path / DEFAULT_FILENAME
        path = path.absolute()
        parent = path.parent
        if not parent.exists():
            os.makedirs(parent, mode=0o700, exist_ok=True)
            os.chmod(parent, 0o700)
        if not path.exists():
            try:
                fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass
            else:
                os.close(fd)
                os.chmod(path, 0o600)
    except OSError as e:
        raise StoreError(
            f"The database file {path} cannot be created.",
            action="Check that this user may write there, or set WPP_DATA_DIR to another folder.",
            detail=f"{type(e).__name__}: {e}",
        ) from None
    return path
