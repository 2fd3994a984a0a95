"""PostgreSQL backend (psycopg 3), configured by ``DATABASE_URL``.

It calls the very SQL functions the Supabase migration ships (``wpp_merge_settings``,
``wpp_create_integration``, ``wpp_deactivate_integration``), so the tests that run it against a real
PostgreSQL prove the SQL that production runs behind PostgREST. It is also a real third backend for an
installation that has a PostgreSQL but no Supabase.

Connections come from a small built-in pool (psycopg_pool is not a dependency): at most ``pool_size`` at a
time, shared by all threads, each operation one transaction.
"""
from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar

from ..errors import IntegrationNotFound, StoreError
from ..models import ActivityEntry, Integration
from ._common import (
    SecretMemory,
    activity_filters,
    activity_from_row,
    canonical_uuid,
    check_limit,
    check_patch,
    clean_name,
    guard,
    initial_settings,
    integration_uuid,
    learn_secrets,
    organization_uuid,
    ref_id,
    row_to_integration,
    scrub_stored,
    to_utc_iso,
)

T = TypeVar("T")

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "supabase" / "migrations"
_WPP = "messenger_type = 'whatsapp' and provider = 'wpp'"
_MISSING_ACTION = (
    "Apply the WPP Console migration (supabase/migrations/*_wpp_console.sql) to this database, then try again."
)


def migration_path() -> Path:
    """The newest ``*_wpp_console.sql`` migration of this checkout."""
    found = sorted(MIGRATIONS_DIR.glob("*_wpp_console.sql"))
    if not found:
        raise StoreError(
            f"The WPP Console migration was not found in {MIGRATIONS_DIR}.",
            action="Run WPP Console from its source folder, or apply the migration by hand.",
        )
    return found[-1]


def _psycopg():
    try:
        import psycopg  # noqa: F401  (imported lazily: only this backend needs it)
        import psycopg.conninfo
        import psycopg.rows
        import psycopg.types.json
    except ImportError as e:  # pragma: no cover - depends on the installation
        raise StoreError(
            "The PostgreSQL driver is not installed.",
            action="pip install 'psycopg[binary]', or use Supabase or the local SQLite file instead.",
            detail=str(e),
        ) from None
    return psycopg


class _Pool:
    """At most ``size`` connections; idle ones are reused, broken ones dropped, long-idle ones checked first."""

    def __init__(self, connect: Callable[[], Any], size: int, wait_s: float = 30.0, check_after_s: float = 30.0):
        self._connect = connect
        self._idle: list[tuple[Any, float]] = []
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(size)
        self._wait_s = wait_s
        self._check_after_s = check_after_s
        self._closed = False

    @contextmanager
    def connection(self) -> Iterator[Any]:
        if not self._slots.acquire(timeout=self._wait_s):
            raise StoreError("The database is busy: every connection is in use.", action="Try again in a moment.")
        conn = None
        try:
            conn = self._take()
            yield conn
        finally:
            try:
                self._give_back(conn)
            finally:
                self._slots.release()

    def _take(self):
        while True:
            with self._lock:
                if self._closed:
                    raise StoreError("The database connection was closed.", action="Reload the page.")
                item = self._idle.pop() if self._idle else None
            if item is None:
                return self._connect()
            conn, since = item
            if conn.closed or conn.broken:
                continue
            if time.monotonic() - since > self._check_after_s:
                try:
                    conn.execute("select 1")
                except Exception:
                    _close_quietly(conn)
                    continue
            return conn

    def _give_back(self, conn) -> None:
        if conn is None:
            return
        from psycopg.pq import TransactionStatus

        if conn.closed or conn.broken or conn.info.transaction_status != TransactionStatus.IDLE:
            _close_quietly(conn)
            return
        with self._lock:
            if self._closed:
                _close_quietly(conn)
            else:
                self._idle.append((conn, time.monotonic()))

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn, _ in idle:
            _close_quietly(conn)


def _close_quietly(conn) -> None:
    try:
        conn.close()
    except Exception:
        pass


_guard = guard(lambda: _psycopg().Error)  # every psycopg error becomes a StoreError in words


class PostgresStore:
    """``IntegrationStore`` on a PostgreSQL database that has the WPP Console migration applied."""

    def __init__(self, dsn: str, *, pool_size: int = 10, connect_timeout_s: int = 10, migrate: bool = False):
        psycopg = _psycopg()
        try:
            params = psycopg.conninfo.conninfo_to_dict(dsn)
        except psycopg.Error:
            raise StoreError(
                "The database address (DATABASE_URL) cannot be read.",
                action="Check it has the form postgresql://user:password@host:5432/database.",
                secrets=[dsn],
            ) from None
        self._dsn = dsn
        self._password = params.get("password")
        self._connect_timeout_s = connect_timeout_s
        host = params.get("host") or params.get("hostaddr") or "localhost"
        where = host if host.startswith("/") else f"{host}:{params.get('port') or 5432}"
        self.description = f"PostgreSQL {params.get('dbname') or params.get('user') or ''} on {where}".replace("  ", " ")
        if params.get("user"):
            self.description += f" (user {params['user']})"
        self._secrets = SecretMemory()
        self._pool = _Pool(self._connect, max(1, int(pool_size)))
        if migrate:
            self.apply_migration()

    def __repr__(self) -> str:
        return f"PostgresStore({self.description!r})"

    # --- plumbing -------------------------------------------------------------------------
    def _connect(self):
        psycopg = _psycopg()
        try:
            return psycopg.connect(
                self._dsn,
                autocommit=True,
                connect_timeout=self._connect_timeout_s,
                row_factory=psycopg.rows.dict_row,
                application_name="wpp-console",
            )
        except psycopg.Error as e:
            raise self._error(e) from None

    def _run(self, fn: Callable[[Any], T]) -> T:
        """``fn(conn)`` in one transaction on a pooled connection."""
        with self._pool.connection() as conn:
            with conn.transaction():
                return fn(conn)

    def close(self) -> None:
        self._pool.close()

    def _known_secrets(self) -> set[str]:
        return {s for s in (self._dsn, self._password) if s} | self._secrets.all()

    def _error(self, e: Exception) -> StoreError:
        psycopg = _psycopg()
        state = getattr(e, "sqlstate", None) or ""
        diag = getattr(e, "diag", None)
        text = (getattr(diag, "message_primary", None) or str(e)).strip()
        detail = f"{type(e).__name__} [{state or '-'}]: {str(e).strip()}"
        secrets = self._known_secrets()
        if state == "P0002":
            return IntegrationNotFound(detail=detail, secrets=secrets)
        if state in ("42883", "42P01", "42703"):
            return StoreError(
                f"The database is missing part of WPP Console ({text}).", action=_MISSING_ACTION,
                detail=detail, secrets=secrets,
            )
        if state == "42501":
            return StoreError(
                "The database user may not do this.",
                action="Use a database user that owns the WPP Console tables, or grant it access.",
                detail=detail, secrets=secrets,
            )
        if state.startswith("28"):
            return StoreError(
                "The database refused the sign-in (user or password).", action="Check DATABASE_URL.",
                detail=detail, secrets=secrets,
            )
        if isinstance(e, psycopg.OperationalError) and not state:
            return StoreError(
                "The database cannot be reached.",
                action="Check that the database server is running and DATABASE_URL is right, then try again.",
                detail=detail, secrets=secrets,
            )
        return StoreError(f"The database reported an error: {text}", detail=detail, secrets=secrets)

    def _integration(self, row: dict) -> Integration:
        return self._secrets.remember(row_to_integration(row))

    @staticmethod
    def _one(row: dict | None, integration_id: str) -> dict:
        if row is None or row.get("id") is None:
            raise IntegrationNotFound(detail=f"no WhatsApp/WPP integration with id {integration_id}")
        return row

    @_guard
    def apply_migration(self) -> None:
        """Run the (idempotent) migration on this database."""
        sql = migration_path().read_text(encoding="utf-8")
        with self._pool.connection() as conn:
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
        Jsonb = _psycopg().types.json.Jsonb
        org = organization_uuid(organization_id)
        initial = Jsonb(initial_settings(settings))
        row = self._run(lambda c: c.execute(
            "select * from public.wpp_create_integration(%s, %s, %s)", (org, clean_name(name), initial)
        ).fetchone())
        return self._integration(self._one(row, "(new)"))

    @_guard
    def merge_settings(self, integration_id: str, patch: dict) -> Integration:
        Jsonb = _psycopg().types.json.Jsonb
        iid = integration_uuid(integration_id)
        patch = check_patch(patch)
        row = self._run(lambda c: c.execute(
            "select * from public.wpp_merge_settings(%s, %s)", (iid, Jsonb(patch))).fetchone())
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

    # --- activity log ---------------------------------------------------------------------
    @_guard
    def log_activity(self, entry: ActivityEntry) -> ActivityEntry:
        iid, org = ref_id(entry.integration_id), ref_id(entry.organization_id)
        learn_secrets(self, iid)
        detail = scrub_stored(entry.detail or "", self._known_secrets()) or ""
        at = to_utc_iso(entry.at)
        row = self._run(lambda c: c.execute(
            "insert into public.wpp_console_activity (at, actor, action, outcome, integration_id, organization_id, detail)"
            " values (coalesce(%s::timestamptz, now()), %s, %s, %s, %s, %s, %s) returning *",
            (at, entry.actor or "", entry.action, entry.outcome, iid, org, detail),
        ).fetchone())
        return activity_from_row(row)

    @_guard
    def list_activity(self, *, limit: int = 500, integration_id: str | None = None,
                      organization_id: str | None = None) -> list[ActivityEntry]:
        where, args = activity_filters(integration_id, organization_id, "%s")
        sql = f"select * from public.wpp_console_activity{where} order by at desc, id desc limit %s"
        args.append(check_limit(limit))
        rows = self._run(lambda c: c.execute(sql, args).fetchall())
        return [activity_from_row(r) for r in rows]


__all__ = ["PostgresStore", "migration_path"]
