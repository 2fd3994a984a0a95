"""The SQLite file itself, under :class:`~wpp.store.sqlite.SqliteStore`: where it lives (a folder 0700, the file
0600), one connection per thread in WAL mode with a busy timeout, write transactions (``BEGIN IMMEDIATE``), the
schema by version (``PRAGMA user_version``) with its upgrades in place, and sqlite3's errors in words.

A mixin: the store's tables and queries are :mod:`wpp.store.sqlite` (and the feature mixins beside it).
"""
from __future__ import annotations

import os
import sqlite3
import threading
import weakref
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from ..errors import StoreError
from ..i18n import N_

SCHEMA_VERSION = 4
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

# Version 2 (the activity line's message is added by _upgrade_v2 itself: ALTER TABLE has no IF NOT EXISTS).
_SCHEMA_V2 = (
    """
    CREATE TABLE IF NOT EXISTS wpp_console_organizations (
        id          TEXT PRIMARY KEY NOT NULL,
        name        TEXT NOT NULL,
        created_at  TEXT NOT NULL,
        updated_at  TEXT NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS wpp_console_sessions (
        "key"             TEXT PRIMARY KEY NOT NULL,
        id_hash           TEXT UNIQUE,
        ticket_hash       TEXT UNIQUE,
        identity          TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(identity)),
        created_at        REAL NOT NULL,
        expires_at        REAL NOT NULL,
        ticket_expires_at REAL,
        last_seen_at      REAL,
        revoked_at        REAL
    )
    """,
    "CREATE INDEX IF NOT EXISTS wpp_console_sessions_expires ON wpp_console_sessions (expires_at)",
    """
    CREATE TABLE IF NOT EXISTS wpp_console_secrets (
        name        TEXT PRIMARY KEY NOT NULL,
        value       TEXT NOT NULL,
        created_at  TEXT NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS wpp_console_status (
        integration_id  TEXT PRIMARY KEY NOT NULL,
        state           TEXT,
        raw             TEXT,
        since           REAL,
        checked_at      REAL,
        ok_at           REAL,
        failures        INTEGER NOT NULL DEFAULT 0,
        error           TEXT CHECK (error IS NULL OR json_valid(error)),
        next_check_at   REAL,
        phone           TEXT
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS wpp_console_status_history (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        integration_id  TEXT NOT NULL,
        state           TEXT,
        previous        TEXT,
        raw             TEXT,
        at              REAL NOT NULL,
        error           TEXT CHECK (error IS NULL OR json_valid(error))
    )
    """,
    """
    CREATE INDEX IF NOT EXISTS wpp_console_status_history_integration
        ON wpp_console_status_history (integration_id, at DESC, id DESC)
    """,
    """
    CREATE TABLE IF NOT EXISTS wpp_console_leases (
        name        TEXT PRIMARY KEY NOT NULL,
        holder      TEXT NOT NULL,
        expires_at  REAL NOT NULL
    )
    """,
)


def default_data_dir() -> Path:
    """``$WPP_DATA_DIR``, else ``$XDG_DATA_HOME/wpp-console``, else ``~/.local/share/wpp-console``."""
    env = os.environ.get("WPP_DATA_DIR", "").strip()
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME", "").strip()
    base = Path(xdg).expanduser() if xdg and os.path.isabs(os.path.expanduser(xdg)) else Path.home() / ".local" / "share"
    return base / "wpp-console"


def _prepare_path(path: Path) -> Path:
    """The database file: a missing folder is created 0700, a missing file 0600 (before SQLite opens it)."""
    path = path.expanduser()
    if str(path) in ("", ":memory:") or str(path).startswith("file:"):
        raise StoreError(N_("The local database must be a file on disk."),
                         action=N_("Give a file path, e.g. {example}.", example="~/wpp-console.db"))
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
            N_("The database file {path} cannot be created.", path=str(path)),
            action=N_("Check that this user may write there, or set WPP_DATA_DIR to another folder."),
            detail=f"{type(e).__name__}: {e}",
        ) from None
    return path


class SqliteFile:
    """The file's connections, schema and errors (see the module docstring); ``self.path``, ``self._local``,
    ``self._conns``, ``self._conns_lock`` and ``self._secrets`` are set by the store."""

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
                if version < 2:
                    self._upgrade_v2(c)
                if version < 3:
                    self._upgrade_v3(c)
                if version < 4:
                    self._upgrade_v4(c)
                c.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except StoreError:
            raise
        except sqlite3.Error as e:
            raise self._error(e) from None

    @staticmethod
    def _upgrade_v2(c: sqlite3.Connection) -> None:
        columns = {r[1] for r in c.execute("PRAGMA table_info(integration_activity)")}
        if "message" not in columns:
            c.execute("ALTER TABLE integration_activity ADD COLUMN message TEXT"
                      " CHECK (message IS NULL OR json_valid(message))")
        for stmt in _SCHEMA_V2:
            c.execute(stmt)

    @staticmethod
    def _upgrade_v3(c: sqlite3.Connection) -> None:
        columns = {r[1] for r in c.execute("PRAGMA table_info(wpp_console_status)")}
        if "watched_until" not in columns:
            c.execute("ALTER TABLE wpp_console_status ADD COLUMN watched_until REAL")

    @staticmethod
    def _upgrade_v4(c: sqlite3.Connection) -> None:
        columns = {r[1] for r in c.execute("PRAGMA table_info(wpp_console_status)")}
        if "observed_at" not in columns:
            c.execute("ALTER TABLE wpp_console_status ADD COLUMN observed_at REAL")
        columns = {r[1] for r in c.execute("PRAGMA table_info(wpp_console_status_history)")}
        if "late" not in columns:
            c.execute("ALTER TABLE wpp_console_status_history ADD COLUMN late INTEGER NOT NULL DEFAULT 0")
        c.execute("CREATE INDEX IF NOT EXISTS wpp_console_status_history_at ON wpp_console_status_history (at)")

    def _check_version(self, version: int) -> None:
        if version > SCHEMA_VERSION:
            raise StoreError(
                N_("The database file {path} was written by a newer WPP Console (schema {version}).",
                   path=str(self.path), version=version),
                action=N_("Update WPP Console, or point it at another data file."),
            )

    def _error(self, e: sqlite3.Error) -> StoreError:
        text = str(e)
        low = text.lower()
        path = str(self.path)
        if "locked" in low or "busy" in low:
            msg = N_("The database file {path} stayed busy (another window or program is writing to it).", path=path)
            action = N_("Try again in a moment.")
        elif "readonly" in low or "read-only" in low or "unable to open" in low or "permission" in low:
            msg = N_("The database file {path} cannot be opened for writing.", path=path)
            action = N_("Check that the folder exists and that this user may write to it, or set WPP_DATA_DIR.")
        elif "malformed" in low or "not a database" in low or "corrupt" in low:
            msg = N_("The database file {path} is damaged or is not a WPP Console database.", path=path)
            action = N_("Restore it from a backup, or point WPP_DATA_DIR at another folder.")
        elif "disk" in low and "full" in low:
            msg = N_("The disk holding {path} is full.", path=path)
            action = N_("Free some space, then try again.")
        else:
            msg = N_("The database file {path} could not be read or written.", path=path)
            action = None
        return StoreError(msg, action=action, detail=f"{type(e).__name__}: {text}", secrets=self._secrets.all())


__all__ = ["BUSY_TIMEOUT_S", "DEFAULT_FILENAME", "SCHEMA_VERSION", "SqliteFile", "default_data_dir"]
