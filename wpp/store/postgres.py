"""PostgreSQL backend (psycopg 3 + psycopg_pool), configured by ``DATABASE_URL``.

It calls the very SQL functions the Supabase migrations ship (``wpp_merge_settings``, ``wpp_create_integration``,
``wpp_deactivate_integration``, ``wpp_reactivate_integration``, ``wpp_redeem_sign_in_ticket``,
``wpp_console_secret``, ``wpp_save_status_if_newer``, ``wpp_watch_status``, ``wpp_try_lease``), so the tests that run it against a real
PostgreSQL prove the SQL that production runs behind PostgREST. It is also a real third backend for an
installation that has a PostgreSQL but no Supabase.

Connections come from a ``psycopg_pool.ConnectionPool`` (at most ``pool_size``, checked before use), opened on
first use after one direct connection has proven the address (so a wrong password or a stopped server is reported
at once, in words, instead of after the pool's wait). Each operation is one transaction.

The token-mint lock is a session-level advisory lock (``pg_try_advisory_lock``) keyed by the number, held on a
connection of a second, separate pool for the duration of the mint, so that mints waiting for each other can
never starve the reads and writes they make inside.

psycopg and psycopg_pool are the ``postgres`` extra: ``pip install 'wpp-console[postgres]'``.
"""
from __future__ import annotations

import contextlib
import logging
import random
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, TypeVar

from ..errors import IntegrationNotFound, StoreError
from ..i18n import N_
from ..models import ActivityEntry, Integration, Organization, SignInSession, StatusChange, StatusRecord
from .alerts import PostgresAlerts
from .proof import PostgresProof
from .retention import PostgresRetention
from .webhooks import PostgresWebhooks
from .base import MemberTable, OrgTable
from ._common import (
    MINT_POLL_S,
    SESSION_COLUMNS,
    SecretMemory,
    activity_filters,
    activity_from_row,
    canonical_uuid,
    check_hash,
    check_lease,
    check_limit,
    check_patch,
    check_secret_value,
    clean_name,
    duplicate_sign_in,
    guard,
    initial_settings,
    integration_uuid,
    learn_secrets,
    mint_timeout,
    one_lookup,
    organization_uuid,
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
from ._status_rows import (change_from_row, change_values, status_from_row, status_ids, status_values, watch_args)

T = TypeVar("T")
log = logging.getLogger("wpp.store.postgres")

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "supabase" / "migrations"
MIGRATION_GLOB = "*_wpp_console*.sql"
_WPP = "messenger_type = 'whatsapp' and provider = 'wpp'"
_MISSING_ACTION = N_(
    "Apply the WPP Console migrations (supabase/migrations/*_wpp_console*.sql, in order) to this database, "
    "then try again."
)
_MINT_KEY_PREFIX = "wpp_console:mint:"
_SIGN_IN_WORDS = ("password authentication failed", "not permitted to log in", "pg_hba.conf", "no password supplied",
                  "authentication failed", "role \"")


def migration_paths() -> list[Path]:
    """Every ``*_wpp_console*.sql`` migration of this checkout, in the order they must run (by file name)."""
    found = sorted(MIGRATIONS_DIR.glob(MIGRATION_GLOB), key=lambda p: p.name)
    if not found:
        raise StoreError(
            N_("The WPP Console migrations were not found in {folder}.", folder=str(MIGRATIONS_DIR)),
            action=N_("Run WPP Console from its source folder, or apply the migrations by hand."),
        )
    return found


def migration_path() -> Path:
    """The newest migration (kept for callers that name one file; :func:`migration_paths` gives them all)."""
    return migration_paths()[-1]


def migration_sql() -> str:
    """All migrations as one script, in order (each is idempotent, so the whole is too)."""
    return "\n\n".join(p.read_text(encoding="utf-8") for p in migration_paths())


def _psycopg():
    try:
        import psycopg  # noqa: F401  (imported lazily: only this backend needs it)
        import psycopg.conninfo
        import psycopg.rows
        import psycopg.sql
        import psycopg.types.json
        import psycopg_pool  # noqa: F401
    except ImportError as e:  # pragma: no cover - depends on the installation
        raise StoreError(
            N_("The PostgreSQL driver is not installed."),
            action=N_("Install it with {command}, or use Supabase or the local SQLite file instead.",
                      command="pip install 'wpp-console[postgres]'"),
            detail=str(e),
        ) from None
    return psycopg


def _driver_errors():
    return _psycopg().Error  # psycopg_pool's PoolTimeout / PoolClosed are psycopg errors too


_guard = guard(_driver_errors)  # every psycopg error becomes a StoreError in words


def _unlock_all(conn) -> None:
    """The lock pool's reset: a connection goes back to the pool holding no advisory lock, whatever happened."""
    conn.execute("select pg_advisory_unlock_all()")


class PostgresStore(PostgresAlerts, PostgresWebhooks, PostgresProof, PostgresRetention):
    """``IntegrationStore`` on a PostgreSQL database that has the WPP Console migrations applied."""

    def __init__(self, dsn: str, *, pool_size: int = 10, connect_timeout_s: int = 10, migrate: bool = False,
                 wait_s: float = 30.0, org_table: OrgTable | None = OrgTable(),
                 member_table: MemberTable | None = None):
        psycopg = _psycopg()
        self._org_source = check_org_table(org_table)
        self._member_source = check_member_table(member_table)
        try:
            params = psycopg.conninfo.conninfo_to_dict(dsn)
        except psycopg.Error:
            raise StoreError(
                N_("The database address (DATABASE_URL) cannot be read."),
                action=N_("Check it has the form {example}.", example="postgresql://user:password@host:5432/database"),
                secrets=[dsn],
            ) from None
        self._dsn = dsn
        self._password = params.get("password")
        self._connect_timeout_s = connect_timeout_s
        self._pool_size = max(1, int(pool_size))
        self._wait_s = float(wait_s)
        host = params.get("host") or params.get("hostaddr") or "localhost"
        where = host if host.startswith("/") else f"{host}:{params.get('port') or 5432}"
        place = f"{params.get('dbname') or params.get('user') or ''} on {where}".strip()
        if params.get("user"):
            place += f" (user {params['user']})"
        self.description = f"PostgreSQL {place}"
        self.described_as = N_("a PostgreSQL database: {where}", where=place)
        self._secrets = SecretMemory()
        self._pool: Any = None
        self._lock_pool: Any = None
        self._pools_lock = threading.Lock()
        self._closed = False
        if migrate:
            self.apply_migration()

    def __repr__(self) -> str:
        return f"PostgresStore({self.description!r})"

    # --- plumbing -------------------------------------------------------------------------
    def _conn_kwargs(self) -> dict:
        psycopg = _psycopg()
        return {
            "autocommit": True,
            "connect_timeout": self._connect_timeout_s,
            "row_factory": psycopg.rows.dict_row,
            "application_name": "wpp-console",
        }

    def _new_pool(self, name: str, min_size: int, max_size: int, **extra):
        from psycopg_pool import ConnectionPool

        pool = ConnectionPool(
            self._dsn,
            kwargs=self._conn_kwargs(),
            min_size=min_size,
            max_size=max_size,
            open=False,
            check=ConnectionPool.check_connection,
            timeout=self._wait_s,
            name=name,
            **extra,
        )
        pool.open(wait=False)
        return pool

    def _probe(self) -> None:
        """One direct connection before the pool opens: a stopped server or a wrong password is reported now,
        with the server's reason, rather than as the pool's timeout."""
        psycopg = _psycopg()
        conn = psycopg.connect(self._dsn, **self._conn_kwargs())
        conn.close()

    def _main_pool(self):
        pool = self._pool
        if pool is not None:
            return pool
        with self._pools_lock:
            if self._closed:
                raise StoreError(N_("The database connection was closed."), action=N_("Reload the page."))
            if self._pool is None:
                self._probe()
                self._pool = self._new_pool("wpp-console", 1, self._pool_size)
            return self._pool

    def _locks_pool(self):
        pool = self._lock_pool
        if pool is not None:
            return pool
        self._main_pool()  # proves the address first
        with self._pools_lock:
            if self._closed:
                raise StoreError(N_("The database connection was closed."), action=N_("Reload the page."))
            if self._lock_pool is None:
                self._lock_pool = self._new_pool("wpp-console-locks", 0, self._pool_size, reset=_unlock_all)
            return self._lock_pool

    def _run(self, fn: Callable[[Any], T]) -> T:
        """``fn(conn)`` in one transaction on a pooled connection."""
        with self._main_pool().connection() as conn:
            with conn.transaction():
                return fn(conn)

    def close(self) -> None:
        with self._pools_lock:
            self._closed = True
            pools, self._pool, self._lock_pool = [self._pool, self._lock_pool], None, None
        for pool in pools:
            if pool is not None:
                try:
                    pool.close()
                except Exception:  # noqa: BLE001 - closing must not fail a shutdown
                    pass

    def _known_secrets(self) -> set[str]:
        return {s for s in (self._dsn, self._password) if s} | self._secrets.all()

    def _error(self, e: Exception) -> StoreError:
        psycopg = _psycopg()
        from psycopg_pool import PoolClosed, PoolTimeout

        state = getattr(e, "sqlstate", None) or ""
        diag = getattr(e, "diag", None)
        text = (getattr(diag, "message_primary", None) or str(e)).strip()
        detail = f"{type(e).__name__} [{state or '-'}]: {str(e).strip()}"
        secrets = self._known_secrets()
        if isinstance(e, PoolClosed):
            return StoreError(N_("The database connection was closed."), action=N_("Reload the page."),
                              detail=detail, secrets=secrets)
        if isinstance(e, PoolTimeout):
            return StoreError(
                N_("The database did not give a connection in time: it is busy or cannot be reached."),
                action=N_("Try again in a moment. If it keeps happening, check that the database server is running."),
                detail=detail, secrets=secrets,
            )
        if state == "P0002":
            return IntegrationNotFound(detail=detail, secrets=secrets)
        if state in ("42883", "42P01", "42703"):
            return StoreError(
                N_("The database is missing part of WPP Console ({what}).", what=text), action=_MISSING_ACTION,
                detail=detail, secrets=secrets,
            )
        if state == "42501":
            return StoreError(
                N_("The database user may not do this."),
                action=N_("Use a database user that owns the WPP Console tables, or grant it access."),
                detail=detail, secrets=secrets,
            )
        low = str(e).lower()
        # libpq's connection failures carry no SQLSTATE: told apart by their words
        if state.startswith("28") or (not state and any(w in low for w in _SIGN_IN_WORDS)):
            return StoreError(
                N_("The database did not accept the user name or password in DATABASE_URL."), action=N_("Check DATABASE_URL."),
                detail=detail, secrets=secrets,
            )
        if state == "3D000" or (not state and "database" in low and "does not exist" in low):
            return StoreError(
                N_("The database named in DATABASE_URL does not exist on that server."),
                action=N_("Check the database name at the end of DATABASE_URL."),
                detail=detail, secrets=secrets,
            )
        if isinstance(e, psycopg.OperationalError) and not state:
            return StoreError(
                N_("The database cannot be reached."),
                action=N_("Check that the database server is running and DATABASE_URL is right, then try again."),
                detail=detail, secrets=secrets,
            )
        return StoreError(N_("The database reported an error: {text}", text=text), detail=detail, secrets=secrets)

    def _integration(self, row: dict) -> Integration:
        return self._secrets.remember(row_to_integration(row))

    @staticmethod
    def _one(row: dict | None, integration_id: str) -> dict:
        if row is None or row.get("id") is None:
            raise IntegrationNotFound(detail=f"no WhatsApp/WPP integration with id {integration_id}")
        return row

    @staticmethod
    def _jsonb(value: Any):
        return _psycopg().types.json.Jsonb(value)

    @_guard
    def apply_migration(self) -> None:
        """Run every (idempotent) migration on this database, in order, each in one transaction."""
        scripts = [p.read_text(encoding="utf-8") for p in migration_paths()]
        with self._main_pool().connection() as conn:
            for sql in scripts:
                with conn.transaction():
                    conn.execute(sql)

    # --- reads ----------------------------------------------------------------------------
    @_guard
    def list_integrations(self, organization_id: str | None = None, *, include_inactive: bool = False) -> list[Integration]:
        sql, args = f"select * from public.messenger_integrations where {_WPP}", []
        if organization_id is not None:
            org = canonical_uuid(organization_id)
            if org is None:
                return []
            sql += " and organization_id = %s"
            args.append(org)
        if not include_inactive:
            sql += " and public.wpp_is_active(to_jsonb(messenger_integrations))"
        sql += " order by created_at, id"
        rows = self._run(lambda c: c.execute(sql, args).fetchall())
        return self._secrets.remember_all(row_to_integration(r) for r in rows)

    @_guard
    def get(self, integration_id: str) -> Integration:
        iid = integration_uuid(integration_id)
        row = self._run(lambda c: c.execute(
            f"select * from public.messenger_integrations where id = %s and {_WPP}", (iid,)).fetchone())
        return self._integration(self._one(row, iid))

    # --- writes ---------------------------------------------------------------------------
    @_guard
    def create(self, organization_id: str, name: str | None = None, settings: dict | None = None) -> Integration:
        org = organization_uuid(organization_id)
        initial = self._jsonb(initial_settings(settings))
        row = self._run(lambda c: c.execute(
            "select * from public.wpp_create_integration(%s, %s, %s)", (org, clean_name(name), initial)
        ).fetchone())
        return self._integration(self._one(row, "(new)"))

    @_guard
    def merge_settings(self, integration_id: str, patch: dict) -> Integration:
        iid = integration_uuid(integration_id)
        patch = check_patch(patch)
        row = self._run(lambda c: c.execute(
            "select * from public.wpp_merge_settings(%s, %s)", (iid, self._jsonb(patch))).fetchone())
        return self._integration(self._one(row, iid))

    @_guard
    def update(self, integration_id: str, *, name: str | None = None, last_error: str | None = None,
               clear_error: bool = False) -> Integration:
        iid = integration_uuid(integration_id)
        sets: list[str] = []
        args: list[Any] = []
        if name is not None:
            sets.append("name = %s")
            args.append(clean_name(name))
        if last_error is not None:
            sets += ["last_error = %s", "last_error_at = now()"]
            args.append(scrub_stored(last_error, self._known_secrets()))
        elif clear_error:
            sets += ["last_error = null", "last_error_at = null"]
        if not sets:
            return self.get(iid)
        sql = (f"update public.messenger_integrations set {', '.join(sets)}, updated_at = now()"
               f" where id = %s and {_WPP} returning *")
        row = self._run(lambda c: c.execute(sql, (*args, iid)).fetchone())
        return self._integration(self._one(row, iid))

    @_guard
    def deactivate(self, integration_id: str) -> Integration:
        iid = integration_uuid(integration_id)
        row = self._run(lambda c: c.execute(
            "select * from public.wpp_deactivate_integration(%s)", (iid,)).fetchone())
        return self._integration(self._one(row, iid))

    @_guard
    def reactivate(self, integration_id: str) -> Integration:
        iid = integration_uuid(integration_id)
        row = self._run(lambda c: c.execute(
            "select * from public.wpp_reactivate_integration(%s)", (iid,)).fetchone())
        return self._integration(self._one(row, iid))

    # --- activity log ---------------------------------------------------------------------
    @_guard
    def log_activity(self, entry: ActivityEntry) -> ActivityEntry:
        iid, org = ref_id(entry.integration_id), ref_id(entry.organization_id)
        learn_secrets(self, iid)
        known = self._known_secrets()
        detail = scrub_stored(entry.detail or "", known) or ""
        message = stored_message(entry.message, known)
        at = to_utc_iso(entry.at)
        columns = "at, actor, action, outcome, integration_id, organization_id, detail"
        values = "coalesce(%s::timestamptz, now()), %s, %s, %s, %s, %s, %s"
        args: list[Any] = [at, entry.actor or "", entry.action, entry.outcome, iid, org, detail]
        if message is not None:  # only when there is one: a plain line still works before the second migration
            columns, values = columns + ", message", values + ", %s"
            args.append(self._jsonb(message))
        row = self._run(lambda c: c.execute(
            f"insert into public.wpp_console_activity ({columns}) values ({values}) returning *", args).fetchone())
        return activity_from_row(row)

    @_guard
    def list_activity(self, *, limit: int = 500, integration_id: str | None = None,
                      organization_id: str | None = None) -> list[ActivityEntry]:
        where, args = activity_filters(integration_id, organization_id, "%s")
        sql = f"select * from public.wpp_console_activity{where} order by at desc, id desc limit %s"
        args.append(check_limit(limit))
        rows = self._run(lambda c: c.execute(sql, args).fetchall())
        return [activity_from_row(r) for r in rows]

    # --- organisations --------------------------------------------------------------------
    def _platform_orgs(self, c) -> list[tuple] | None:
        """The platform table's (id, name) rows, or None when this database has no such table."""
        src = self._org_source
        if src is None:
            return None
        sql = _psycopg().sql
        table = sql.Identifier(src.schema, src.table) if src.schema else sql.Identifier(src.table)
        if not c.execute("select to_regclass(%s) is not null as found", (table.as_string(c),)).fetchone()["found"]:
            return None
        query = sql.SQL("select {id}::text as id, {name}::text as name from {table}").format(
            id=sql.Identifier(src.id_column), name=sql.Identifier(src.name_column), table=table)
        psycopg = _psycopg()
        try:
            rows = c.execute(query).fetchall()
        except psycopg.Error as e:
            raise StoreError(
                N_("The school platform's table of organisations ({table}) cannot be read.", table=src.display),
                action=N_("Check WPP_ORG_TABLE, WPP_ORG_ID_COLUMN and WPP_ORG_NAME_COLUMN in Settings, and that "
                          "the database user may read that table."),
                detail=f"{type(e).__name__} [{getattr(e, 'sqlstate', None) or '-'}]: {str(e).strip()}",
                secrets=self._known_secrets(),
            ) from None
        return [(r["id"], r["name"]) for r in rows]

    @_guard
    def list_organizations(self) -> list[Organization]:
        def read(c):
            platform = self._platform_orgs(c)
            console = [(r["id"], r["name"]) for r in
                       c.execute("select id::text as id, name from public.wpp_console_organizations").fetchall()]
            return platform, console

        platform, console = self._run(read)
        return merge_organizations(platform, console)

    # --- memberships ------------------------------------------------------------------------
    @_guard
    def list_memberships(self, user_id: str) -> list[tuple[str, str]]:
        src = self._member_source
        if src is None:
            return []
        uid = member_user_id(user_id)
        psycopg = _psycopg()
        sql = psycopg.sql
        table = sql.Identifier(src.schema, src.table) if src.schema else sql.Identifier(src.table)

        def read(c):
            if not c.execute("select to_regclass(%s) is not null as found", (table.as_string(c),)).fetchone()["found"]:
                raise unreadable_member_table(src.display, f"no table {src.display} in this database")
            query = sql.SQL("select {org}::text as org, {role}::text as role from {table}"
                            " where {user}::text = %s order by 1, 2").format(
                org=sql.Identifier(src.org_column), role=sql.Identifier(src.role_column),
                user=sql.Identifier(src.user_column), table=table)
            # uid None (nobody can match it): "= null" is never true, and the table and columns are still proven
            return c.execute(query, (uid,)).fetchall()

        try:
            rows = self._run(read)
        except StoreError:
            raise
        except psycopg.Error as e:
            state = getattr(e, "sqlstate", None) or ""
            if state and not state.startswith(("08", "57", "53", "28", "3D")):  # the table, not the connection
                raise unreadable_member_table(
                    src.display, f"{type(e).__name__} [{state}]: {str(e).strip()}", self._known_secrets()) from None
            raise
        return membership_rows((r["org"], r["role"]) for r in rows)

    @_guard
    def add_organization(self, name: str, organization_id: str | None = None, *,
                         only_new: bool = False) -> Organization:
        text, oid = org_name(name), org_id_for_add(organization_id)
        if only_new:
            def insert_or_read(c):
                c.execute("insert into public.wpp_console_organizations (id, name) values (%s, %s)"
                          " on conflict (id) do nothing", (oid, text))
                return c.execute("select name from public.wpp_console_organizations where id = %s",
                                 (oid,)).fetchone()

            stored = self._run(insert_or_read)
            return Organization(id=oid, name=stored["name"] if stored else text, source="console")
        self._run(lambda c: c.execute(
            "insert into public.wpp_console_organizations (id, name) values (%s, %s)"
            " on conflict (id) do update set name = excluded.name, updated_at = now()",
            (oid, text)))
        return Organization(id=oid, name=text, source="console")

    # --- lasting sign-ins -------------------------------------------------------------------
    @_guard
    def create_sign_in_session(self, session: SignInSession) -> None:
        psycopg = _psycopg()
        values = session_values(session)
        values["identity"] = self._jsonb(values["identity"])
        try:
            self._run(lambda c: c.execute(
                f"insert into public.wpp_console_sessions ({', '.join(values)})"
                f" values ({', '.join(['%s'] * len(values))})", list(values.values())))
        except psycopg.errors.UniqueViolation as e:
            raise duplicate_sign_in(f"UniqueViolation: {e}") from None

    @_guard
    def redeem_sign_in_ticket(self, ticket_hash: str, id_hash: str, *, now: float) -> SignInSession | None:
        psycopg = _psycopg()
        ticket_hash, id_hash = check_hash(ticket_hash, "ticket_hash"), check_hash(id_hash, "id_hash")
        try:
            row = self._run(lambda c: c.execute(
                f"select {', '.join(SESSION_COLUMNS)} from public.wpp_redeem_sign_in_ticket(%s, %s, %s)",
                (ticket_hash, id_hash, float(now))).fetchone())
        except psycopg.errors.UniqueViolation as e:
            raise duplicate_sign_in(f"UniqueViolation: {e}") from None
        return session_from_row(row)

    @_guard
    def get_sign_in_session(self, *, key: str | None = None, id_hash: str | None = None) -> SignInSession | None:
        column, value = one_lookup(key, id_hash)
        row = self._run(lambda c: c.execute(
            f"select * from public.wpp_console_sessions where {column} = %s", (value,)).fetchone())
        return session_from_row(row)

    @_guard
    def touch_sign_in_session(self, key: str, *, last_seen_at: float, expires_at: float | None = None) -> None:
        self._run(lambda c: c.execute(
            "update public.wpp_console_sessions set last_seen_at = %s,"
            " expires_at = coalesce(%s::double precision, expires_at) where key = %s",
            (float(last_seen_at), None if expires_at is None else float(expires_at), str(key))))

    @_guard
    def revoke_sign_in_session(self, key: str, *, at: float) -> None:
        self._run(lambda c: c.execute(
            "update public.wpp_console_sessions set revoked_at = %s, ticket_hash = null, ticket_expires_at = null"
            " where key = %s and revoked_at is null", (float(at), str(key))))

    @_guard
    def purge_sign_in_sessions(self, *, before: float) -> int:
        return self._run(lambda c: c.execute(
            "delete from public.wpp_console_sessions where expires_at < %s or revoked_at < %s",
            (float(before), float(before))).rowcount)

    # --- secrets every replica shares -------------------------------------------------------
    @_guard
    def console_secret(self, name: str) -> str:
        name = secret_name(name)
        row = self._run(lambda c: c.execute("select public.wpp_console_secret(%s) as value", (name,)).fetchone())
        return check_secret_value(row and row["value"])

    # --- the shared status board -------------------------------------------------------------
    @_guard
    def save_status(self, record: StatusRecord, change: StatusChange | None = None) -> bool:
        known = self._known_secrets()
        values = status_values(record, known)
        hist = change_values(change, known) if change is not None else None
        row = self._run(lambda c: c.execute("select public.wpp_save_status_if_newer(%s, %s) as saved",
                                            (self._jsonb(values), None if hist is None else self._jsonb(hist))
                                            ).fetchone())
        return bool(row and row["saved"])

    @_guard
    def add_status_history(self, change: StatusChange) -> None:
        hist = change_values(change, self._known_secrets())
        self._run(lambda c: c.execute("select public.wpp_add_status_history(%s)", (self._jsonb(hist),)))

    @_guard
    def load_statuses(self, integration_ids: Iterable[str] | None = None) -> dict[str, StatusRecord]:
        ids = status_ids(integration_ids)
        if ids is None:
            rows = self._run(lambda c: c.execute("select * from public.wpp_console_status").fetchall())
        elif not ids:
            return {}
        else:
            rows = self._run(lambda c: c.execute(
                "select * from public.wpp_console_status where integration_id = any(%s)", (ids,)).fetchall())
        return {r["integration_id"]: status_from_row(r) for r in rows}

    @_guard
    def status_history(self, integration_id: str, *, limit: int = 50) -> list[StatusChange]:
        rows = self._run(lambda c: c.execute(
            "select * from public.wpp_console_status_history where integration_id = %s"
            " order by at desc, id desc limit %s", (ref_id(integration_id), check_limit(limit))).fetchall())
        return [change_from_row(r) for r in rows]

    @_guard
    def watch_status(self, integration_id: str, *, until: float, check_by: float | None = None) -> bool:
        iid, until, check_by = watch_args(integration_id, until, check_by)
        row = self._run(lambda c: c.execute("select public.wpp_watch_status(%s, %s, %s) as ok",
                                            (iid, until, check_by)).fetchone())
        return bool(row and row["ok"])

    # --- leases and the token-mint lock --------------------------------------------------------
    @_guard
    def try_lease(self, name: str, holder: str, *, ttl_s: float, now: float) -> bool:
        name, holder = check_lease(name, holder)
        row = self._run(lambda c: c.execute("select public.wpp_try_lease(%s, %s, %s, %s) as ok",
                                            (name, holder, float(ttl_s), float(now))).fetchone())
        return bool(row and row["ok"])

    @_guard
    def release_lease(self, name: str, holder: str) -> None:
        name, holder = check_lease(name, holder)
        self._run(lambda c: c.execute("delete from public.wpp_console_leases where name = %s and holder = %s",
                                      (name, holder)))

    @_guard
    def lease_holder(self, name: str, *, now: float) -> str | None:
        row = self._run(lambda c: c.execute(
            "select holder from public.wpp_console_leases where name = %s and expires_at > %s",
            (str(name), float(now))).fetchone())
        return None if row is None else str(row["holder"])

    @contextmanager
    def token_mint_lock(self, integration_id: str, *, timeout_s: float = 30.0) -> Iterator[None]:
        """A session-level advisory lock keyed by the number (``hashtextextended('wpp_console:mint:' || id, 0)``),
        taken with ``pg_try_advisory_lock`` every 100-200 ms until ``timeout_s``, held on one connection of the
        lock pool for the block, and always given back (the pool's reset unlocks everything once more)."""
        psycopg = _psycopg()
        from psycopg_pool import PoolTimeout

        key = _MINT_KEY_PREFIX + (ref_id(integration_id) or "")
        deadline = time.monotonic() + max(0.0, float(timeout_s))
        with contextlib.ExitStack() as stack:
            try:
                conn = stack.enter_context(self._locks_pool().connection(timeout=max(0.1, float(timeout_s))))
                while not conn.execute("select pg_try_advisory_lock(hashtextextended(%s, 0)) as ok",
                                       (key,)).fetchone()["ok"]:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise mint_timeout(timeout_s)
                    time.sleep(min(left, random.uniform(*MINT_POLL_S)))
            except StoreError:
                raise
            except PoolTimeout:
                raise mint_timeout(timeout_s) from None
            except psycopg.Error as e:
                raise self._error(e) from None
            try:
                yield
            finally:
                try:
                    conn.execute("select pg_advisory_unlock(hashtextextended(%s, 0))", (key,))
                except psycopg.Error as e:  # the pool drops a closed connection; its session's locks end with it
                    log.warning("the token-mint lock of %s could not be released: %s", key, e)
                    conn.close()


__all__ = ["PostgresStore", "migration_path", "migration_paths", "migration_sql"]
