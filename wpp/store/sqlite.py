"""The embedded default backend: one SQLite file, safe for a small office.

- WAL journal and a busy timeout, so Streamlit's session threads and several processes can share the file.
- One connection per thread (``threading.local``); every write is one ``BEGIN IMMEDIATE`` transaction, so
  the read part of a write (settings for a merge, "is there a primary?" for a create, "who holds the lease?")
  sees the state that the write lands on. A second writer waits for the lock (busy timeout) instead of working
  on a stale copy.
- ``merge_settings`` merges inside that transaction. It deliberately does not use SQLite's ``json_patch``:
  that is RFC 7396, which merges nested objects key by key and strips nulls inside nested values, while the
  Postgres function (``settings || patch``) replaces a top-level key whole. Both backends must agree.
- Created with the directory 0700 and the file 0600 (SQLite gives its -wal/-shm files the file's mode).
- Schema versioned with ``PRAGMA user_version``; a file of an older version is upgraded in place (its data kept).
  Version 2 added the activity line's ``message`` and the console's own tables (organisations, sign-ins,
  secrets, the status board and its history, leases); version 3 the board's ``watched_until`` (the pairing
  panels' heartbeats); version 4 the board's ``observed_at`` (``save_status`` is a compare-and-set on it: the newest
  observation wins) and the history's ``late`` reports.
- The token-mint lock is a lease row (``mint:<id>``): several processes on one file mint one at a time.

The file itself (where it lives, connections, the schema and its upgrades, errors in words) is
:mod:`wpp.store.sqlite_file`; the alert, webhook, proof and retention tables are the mixins beside it.
"""
from __future__ import annotations

import dataclasses
import os
import secrets as _secrets
import sqlite3
import threading
import uuid
import weakref
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Iterable

from ..errors import IntegrationNotFound, StoreError
from ..i18n import N_
from ..models import ActivityEntry, Integration, Organization, SignInSession, StatusChange, StatusRecord
from .alerts import SqliteAlerts
from .proof import SqliteProof
from .retention import SqliteRetention
from .webhooks import SqliteWebhooks
from .sqlite_file import (DEFAULT_FILENAME, SCHEMA_VERSION, SqliteFile, _prepare_path,
                          default_data_dir)
from .base import MemberTable, OrgTable
from ._common import (
    MESSENGER_TYPE,
    PROVIDER,
    SecretMemory,
    activity_filters,
    activity_from_row,
    canonical_uuid,
    check_hash,
    check_lease,
    check_limit,
    check_patch,
    clean_name,
    dump_json,
    duplicate_sign_in,
    guard,
    initial_settings,
    learn_secrets,
    lease_mint_lock,
    load_settings,
    merge_dict,
    now_iso,
    one_lookup,
    ref_id,
    row_to_integration,
    scrub_stored,
    secret_name,
    session_from_row,
    session_values,
    stored_message,
    to_utc_iso,
)
from ._schools import (check_member_table, check_org_table, member_user_id, membership_rows, merge_organizations,
                       org_id_for_add, org_name, unreadable_member_table)
from ._status_rows import (HISTORY_COLUMNS, STATUS_COLUMNS, change_from_row, change_values, status_from_row,
                           status_ids, status_values, watch_args)

_IN_CHUNK = 500  # ids per "IN (...)" (SQLite allows 32766 variables; smaller keeps statements short)

_WPP = "messenger_type = 'whatsapp' AND provider = 'wpp'"
_ACTIVE = "coalesce(is_active, 1) <> 0 AND coalesce(is_enabled, 1) <> 0"


def _org_key(organization_id: str | None) -> str:
    text = "" if organization_id is None else str(organization_id).strip()
    if not text:
        raise StoreError(N_("A number must belong to a school."), action=N_("Choose the school first."))
    return canonical_uuid(text) or text


def _q(identifier: str) -> str:
    """A checked identifier (``[A-Za-z_][A-Za-z0-9_]*``) quoted for SQLite."""
    return '"' + identifier.replace('"', '""') + '"'


_guard = guard(lambda: sqlite3.Error)  # every sqlite3 error becomes a StoreError in words


class SqliteStore(SqliteFile, SqliteAlerts, SqliteWebhooks, SqliteProof, SqliteRetention):
    """``IntegrationStore`` in one SQLite file (see the module docstring)."""

    def __init__(self, path: str | os.PathLike[str], *, org_table: OrgTable | None = OrgTable(),
                 member_table: MemberTable | None = None):
        self._org_source = check_org_table(org_table)
        self._member_source = check_member_table(member_table)
        self.path = _prepare_path(Path(path))
        self.description = f"SQLite file {self.path}"
        self.described_as = N_("a file on this computer (SQLite): {where}", where=str(self.path))
        self._local = threading.local()
        # thread -> its connection; an entry goes when its thread is gone (Streamlit makes a thread per rerun)
        self._conns: "weakref.WeakKeyDictionary[threading.Thread, sqlite3.Connection]" = weakref.WeakKeyDictionary()
        self._conns_lock = threading.Lock()
        self._secrets = SecretMemory()
        self._init_schema()

    def __repr__(self) -> str:
        return f"SqliteStore({str(self.path)!r})"

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
    @staticmethod
    def _has_active_primary(c: sqlite3.Connection, org: str, *, other_than: str | None = None) -> bool:
        sql = ("SELECT 1 FROM messenger_integrations WHERE organization_id = ? AND messenger_type = 'whatsapp'"
               f" AND is_primary <> 0 AND {_ACTIVE}")
        args: list = [org]
        if other_than is not None:
            sql += " AND id <> ?"
            args.append(other_than)
        return c.execute(sql + " LIMIT 1", args).fetchone() is not None

    @_guard
    def create(self, organization_id: str, name: str | None = None, settings: dict | None = None) -> Integration:
        org = _org_key(organization_id)
        blob = dump_json(initial_settings(settings))
        iid, now = str(uuid.uuid4()), now_iso()
        with self._write() as c:
            has_primary = self._has_active_primary(c, org)
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
                (dump_json(merged), now_iso(), row["id"]),
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

    @_guard
    def reactivate(self, integration_id: str) -> Integration:
        with self._write() as c:
            row = self._row(c, integration_id)
            if row_to_integration(dict(row), times_are_canonical=True).is_active:
                return self._integration(row)
            primary = not self._has_active_primary(c, row["organization_id"], other_than=row["id"])
            c.execute(
                "UPDATE messenger_integrations SET is_active = 1, is_enabled = 1, is_primary = ?, updated_at = ?"
                " WHERE id = ?",
                (1 if primary else 0, now_iso(), row["id"]),
            )
            row = self._row(c, row["id"])
        return self._integration(row)

    # --- activity log ---------------------------------------------------------------------
    @_guard
    def log_activity(self, entry: ActivityEntry) -> ActivityEntry:
        iid, org = ref_id(entry.integration_id), ref_id(entry.organization_id)
        learn_secrets(self, iid)
        known = self._secrets.all()
        stored = dataclasses.replace(
            entry,
            at=to_utc_iso(entry.at) or now_iso(),
            detail=scrub_stored(entry.detail or "", known) or "",
            integration_id=iid,
            organization_id=org,
            message=stored_message(entry.message, known),
        )
        with self._write() as c:
            cur = c.execute(
                "INSERT INTO integration_activity (at, actor, action, outcome, integration_id, organization_id, detail,"
                " message) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (stored.at, stored.actor or "", stored.action, stored.outcome, iid, org, stored.detail,
                 None if stored.message is None else dump_json(stored.message)),
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

    # --- organisations --------------------------------------------------------------------
    def _platform_orgs(self, c: sqlite3.Connection) -> list[tuple] | None:
        """The platform table's (id, name) rows, or None when there is no such table in this file."""
        src = self._org_source
        if src is None:
            return None
        schema = src.schema if src.schema and src.schema.lower() != "main" else None
        master = f"{_q(schema)}.sqlite_master" if schema else "sqlite_master"
        try:
            found = c.execute(f"SELECT 1 FROM {master} WHERE type IN ('table', 'view') AND name = ? COLLATE NOCASE",
                              (src.table,)).fetchone()
        except sqlite3.OperationalError:  # "unknown database <schema>": nothing attached under that name
            return None
        if found is None:
            return None
        table = f"{_q(schema)}.{_q(src.table)}" if schema else _q(src.table)
        # SQLite reads a double-quoted name that is no column as a text literal: check the columns first
        pragma = f"PRAGMA {_q(schema)}.table_info({_q(src.table)})" if schema else f"PRAGMA table_info({_q(src.table)})"
        columns = {str(r[1]).lower() for r in c.execute(pragma)}
        missing = [col for col in (src.id_column, src.name_column) if col.lower() not in columns]
        if missing:
            raise _unreadable_org_table(src.display, f"no column {', '.join(missing)} in {src.display}")
        try:
            return c.execute(f"SELECT {_q(src.id_column)}, {_q(src.name_column)} FROM {table}").fetchall()
        except sqlite3.Error as e:
            raise _unreadable_org_table(src.display, f"{type(e).__name__}: {e}") from None

    @_guard
    def list_organizations(self) -> list[Organization]:
        c = self._conn()
        c.execute("BEGIN")  # one snapshot for both tables
        try:
            platform = self._platform_orgs(c)
            console = c.execute("SELECT id, name FROM wpp_console_organizations").fetchall()
        finally:
            if c.in_transaction:
                c.execute("COMMIT")
        return merge_organizations(platform, console)

    # --- memberships ------------------------------------------------------------------------
    @_guard
    def list_memberships(self, user_id: str) -> list[tuple[str, str]]:
        """The membership table's rows for ``user_id`` when it is in this file (tests, a copy of the platform's
        table); a configured table that is not here, or lacks a column, is a StoreError (fail closed)."""
        src = self._member_source
        if src is None:
            return []
        uid = member_user_id(user_id)
        c = self._conn()
        schema = src.schema if src.schema and src.schema.lower() != "main" else None
        master = f"{_q(schema)}.sqlite_master" if schema else "sqlite_master"
        try:
            found = c.execute(f"SELECT 1 FROM {master} WHERE type IN ('table', 'view') AND name = ? COLLATE NOCASE",
                              (src.table,)).fetchone()
        except sqlite3.OperationalError as e:  # "unknown database <schema>": nothing attached under that name
            raise unreadable_member_table(src.display, f"{type(e).__name__}: {e}") from None
        if found is None:
            raise unreadable_member_table(src.display, f"no table {src.display} in {self.path}")
        table = f"{_q(schema)}.{_q(src.table)}" if schema else _q(src.table)
        # SQLite reads a double-quoted name that is no column as a text literal: check the columns first
        pragma = f"PRAGMA {_q(schema)}.table_info({_q(src.table)})" if schema else f"PRAGMA table_info({_q(src.table)})"
        columns = {str(r[1]).lower() for r in c.execute(pragma)}
        missing = [col for col in (src.user_column, src.org_column, src.role_column) if col.lower() not in columns]
        if missing:
            raise unreadable_member_table(src.display, f"no column {', '.join(missing)} in {src.display}")
        if uid is None:
            return []
        try:
            rows = c.execute(
                f"SELECT CAST({_q(src.org_column)} AS TEXT), CAST({_q(src.role_column)} AS TEXT) FROM {table}"
                f" WHERE CAST({_q(src.user_column)} AS TEXT) = ?", (uid,)).fetchall()
        except sqlite3.Error as e:
            raise unreadable_member_table(src.display, f"{type(e).__name__}: {e}") from None
        return membership_rows((r[0], r[1]) for r in rows)

    @_guard
    def add_organization(self, name: str, organization_id: str | None = None, *,
                         only_new: bool = False) -> Organization:
        text, oid, now = org_name(name), org_id_for_add(organization_id), now_iso()
        conflict = "DO NOTHING" if only_new else "DO UPDATE SET name = excluded.name, updated_at = excluded.updated_at"
        with self._write() as c:
            c.execute(
                "INSERT INTO wpp_console_organizations (id, name, created_at, updated_at) VALUES (?, ?, ?, ?)"
                f" ON CONFLICT (id) {conflict}",
                (oid, text, now, now),
            )
            if only_new:
                stored = c.execute("SELECT name FROM wpp_console_organizations WHERE id = ?", (oid,)).fetchone()
                text = stored[0] if stored else text
        return Organization(id=oid, name=text, source="console")

    # --- lasting sign-ins -------------------------------------------------------------------
    @_guard
    def create_sign_in_session(self, session: SignInSession) -> None:
        values = session_values(session)
        values["identity"] = dump_json(values["identity"])
        columns = ", ".join(_q(k) for k in values)
        try:
            with self._write() as c:
                c.execute(f"INSERT INTO wpp_console_sessions ({columns}) VALUES ({', '.join('?' * len(values))})",
                          list(values.values()))
        except sqlite3.IntegrityError as e:
            raise duplicate_sign_in(f"IntegrityError: {e}") from None

    @_guard
    def redeem_sign_in_ticket(self, ticket_hash: str, id_hash: str, *, now: float) -> SignInSession | None:
        ticket_hash, id_hash = check_hash(ticket_hash, "ticket_hash"), check_hash(id_hash, "id_hash")
        try:
            with self._write() as c:  # no RETURNING: works on SQLite older than 3.35 too
                cur = c.execute(
                    "UPDATE wpp_console_sessions SET id_hash = ?, ticket_hash = NULL, ticket_expires_at = NULL"
                    " WHERE ticket_hash = ? AND ticket_expires_at > ? AND revoked_at IS NULL AND expires_at > ?",
                    (id_hash, ticket_hash, float(now), float(now)),
                )
                row = (c.execute("SELECT * FROM wpp_console_sessions WHERE id_hash = ?", (id_hash,)).fetchone()
                       if cur.rowcount == 1 else None)
        except sqlite3.IntegrityError as e:
            raise duplicate_sign_in(f"IntegrityError: {e}") from None
        return session_from_row(dict(row)) if row is not None else None

    @_guard
    def get_sign_in_session(self, *, key: str | None = None, id_hash: str | None = None) -> SignInSession | None:
        column, value = one_lookup(key, id_hash)
        row = self._conn().execute(f"SELECT * FROM wpp_console_sessions WHERE {_q(column)} = ?", (value,)).fetchone()
        return session_from_row(dict(row)) if row is not None else None

    @_guard
    def touch_sign_in_session(self, key: str, *, last_seen_at: float, expires_at: float | None = None) -> None:
        with self._write() as c:
            c.execute('UPDATE wpp_console_sessions SET last_seen_at = ?, expires_at = coalesce(?, expires_at)'
                      ' WHERE "key" = ?',
                      (float(last_seen_at), None if expires_at is None else float(expires_at), str(key)))

    @_guard
    def revoke_sign_in_session(self, key: str, *, at: float) -> None:
        with self._write() as c:
            c.execute('UPDATE wpp_console_sessions SET revoked_at = ?, ticket_hash = NULL, ticket_expires_at = NULL'
                      ' WHERE "key" = ? AND revoked_at IS NULL', (float(at), str(key)))

    @_guard
    def purge_sign_in_sessions(self, *, before: float) -> int:
        with self._write() as c:
            cur = c.execute("DELETE FROM wpp_console_sessions WHERE expires_at < ? OR revoked_at < ?",
                            (float(before), float(before)))
            return cur.rowcount

    # --- secrets every replica shares -------------------------------------------------------
    @_guard
    def console_secret(self, name: str) -> str:
        name = secret_name(name)
        with self._write() as c:
            c.execute("INSERT OR IGNORE INTO wpp_console_secrets (name, value, created_at) VALUES (?, ?, ?)",
                      (name, _secrets.token_hex(32), now_iso()))
            return str(c.execute("SELECT value FROM wpp_console_secrets WHERE name = ?", (name,)).fetchone()[0])

    # --- the shared status board -------------------------------------------------------------
    @_guard
    def save_status(self, record: StatusRecord, change: StatusChange | None = None) -> bool:
        known = self._secrets.all()
        values = status_values(record, known)
        values["error"] = None if values["error"] is None else dump_json(values["error"])
        hist = change_values(change, known) if change is not None else None
        updates = ", ".join(f"{k} = excluded.{k}" for k in STATUS_COLUMNS if k != "integration_id")
        with self._write() as c:
            cur = c.execute(
                f"INSERT INTO wpp_console_status ({', '.join(STATUS_COLUMNS)}) VALUES ({', '.join('?' * len(STATUS_COLUMNS))})"
                f" ON CONFLICT (integration_id) DO UPDATE SET {updates}"
                " WHERE wpp_console_status.observed_at IS NULL OR excluded.observed_at IS NULL"
                " OR excluded.observed_at >= wpp_console_status.observed_at",
                [values[k] for k in STATUS_COLUMNS],
            )
            saved = cur.rowcount > 0
            if saved and hist is not None:
                self._add_history(c, hist)
        return saved

    @staticmethod
    def _add_history(c: sqlite3.Connection, hist: dict) -> None:
        hist = dict(hist, error=None if hist["error"] is None else dump_json(hist["error"]), late=int(hist["late"]))
        c.execute(
            f"INSERT INTO wpp_console_status_history ({', '.join(HISTORY_COLUMNS)})"
            f" VALUES ({', '.join('?' * len(HISTORY_COLUMNS))})",
            [hist[k] for k in HISTORY_COLUMNS],
        )

    @_guard
    def add_status_history(self, change: StatusChange) -> None:
        hist = change_values(change, self._secrets.all())
        with self._write() as c:
            self._add_history(c, hist)

    @_guard
    def load_statuses(self, integration_ids: Iterable[str] | None = None) -> dict[str, StatusRecord]:
        ids = status_ids(integration_ids)
        c = self._conn()
        if ids is None:
            rows = c.execute("SELECT * FROM wpp_console_status").fetchall()
        else:
            rows = []
            for n in range(0, len(ids), _IN_CHUNK):
                chunk = ids[n:n + _IN_CHUNK]
                rows += c.execute(f"SELECT * FROM wpp_console_status WHERE integration_id IN ({', '.join('?' * len(chunk))})",
                                  chunk).fetchall()
        return {r["integration_id"]: status_from_row(dict(r)) for r in rows}

    @_guard
    def status_history(self, integration_id: str, *, limit: int = 50) -> list[StatusChange]:
        rows = self._conn().execute(
            "SELECT * FROM wpp_console_status_history WHERE integration_id = ? ORDER BY at DESC, id DESC LIMIT ?",
            (ref_id(integration_id), check_limit(limit)),
        ).fetchall()
        return [change_from_row(dict(r)) for r in rows]

    @_guard
    def watch_status(self, integration_id: str, *, until: float, check_by: float | None = None) -> bool:
        iid, until, check_by = watch_args(integration_id, until, check_by)
        with self._write() as c:
            cur = c.execute(
                "UPDATE wpp_console_status SET watched_until = max(coalesce(watched_until, ?1), ?1),"
                " next_check_at = CASE WHEN ?2 IS NULL OR next_check_at IS NULL THEN next_check_at"
                " ELSE min(next_check_at, ?2) END WHERE integration_id = ?3",
                (until, check_by, iid),
            )
            return cur.rowcount > 0

    # --- leases and the token-mint lock --------------------------------------------------------
    @_guard
    def try_lease(self, name: str, holder: str, *, ttl_s: float, now: float) -> bool:
        name, holder = check_lease(name, holder)
        with self._write() as c:  # the write lock is held from the first statement: nobody slips in between
            c.execute(
                "INSERT INTO wpp_console_leases (name, holder, expires_at) VALUES (?, ?, ?)"
                " ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at"
                " WHERE wpp_console_leases.expires_at <= ? OR wpp_console_leases.holder = excluded.holder",
                (name, holder, float(now) + float(ttl_s), float(now)),
            )
            row = c.execute("SELECT holder FROM wpp_console_leases WHERE name = ?", (name,)).fetchone()
        return row is not None and row[0] == holder

    @_guard
    def release_lease(self, name: str, holder: str) -> None:
        name, holder = check_lease(name, holder)
        with self._write() as c:
            c.execute("DELETE FROM wpp_console_leases WHERE name = ? AND holder = ?", (name, holder))

    @_guard
    def lease_holder(self, name: str, *, now: float) -> str | None:
        row = self._conn().execute("SELECT holder FROM wpp_console_leases WHERE name = ? AND expires_at > ?",
                                   (str(name), float(now))).fetchone()
        return None if row is None else str(row[0])

    def token_mint_lock(self, integration_id: str, *, timeout_s: float = 30.0) -> AbstractContextManager[None]:
        return lease_mint_lock(self, integration_id, timeout_s)


def _unreadable_org_table(table: str, detail: str) -> StoreError:
    return StoreError(
        N_("The school platform's table of organisations ({table}) cannot be read.", table=table),
        action=N_("Check WPP_ORG_TABLE, WPP_ORG_ID_COLUMN and WPP_ORG_NAME_COLUMN in Settings."),
        detail=detail,
    )


__all__ = ["DEFAULT_FILENAME", "SCHEMA_VERSION", "SqliteStore", "default_data_dir"]
