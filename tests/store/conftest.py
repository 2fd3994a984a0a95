"""Fixtures of the store tests: a throwaway PostgreSQL 15 cluster (one per session) and the stores under test.

The cluster: ``initdb`` + ``pg_ctl`` from PATH (or /usr/lib/postgresql/*/bin) into a temporary folder, trust
auth, listening on 127.0.0.1 on a free port with its unix socket in the same folder. ``initdb`` refuses to run
as root, so when the tests run as root the server binaries run as the ``postgres`` OS user (``runuser``) and
the folder is handed to that user. Missing binaries FAIL the postgres tests (CI installs them); they are not
skipped, so a green run always means the SQL was really proven.
"""
from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from wpp.store.postgres import migration_paths, migration_sql

from tests.harness import free_port

#: every migration, in order (each idempotent): what `supabase db push` and PostgresStore.apply_migration run
MIGRATIONS = migration_paths()
MIGRATION_SQL = migration_sql()
#: the console's own tables (emptied between tests on the shared databases)
CONSOLE_TABLES = ("wpp_console_activity", "wpp_console_organizations", "wpp_console_sessions", "wpp_console_secrets",
                  "wpp_console_status", "wpp_console_status_history", "wpp_console_leases",
                  "wpp_console_witnesses", "wpp_console_delivery_checks")

# Supabase's API roles, so the migration's grants and policy are exercised as in production.
SUPABASE_ROLES_SQL = """
do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'anon') then create role anon nologin; end if;
  if not exists (select 1 from pg_roles where rolname = 'authenticated') then create role authenticated nologin; end if;
  if not exists (select 1 from pg_roles where rolname = 'service_role') then create role service_role nologin bypassrls; end if;
end $$;
create schema if not exists auth;
"""

# An installation as found in the wild: the table exists before the migration, says is_enabled (no is_active),
# has a column of another feature, and holds rows of other messengers/providers that must stay untouched.
LEGACY_TABLE_SQL = """
create table public.messenger_integrations (
  id              uuid primary key default gen_random_uuid(),
  organization_id uuid not null,
  messenger_type  text not null,
  provider        text not null,
  name            text,
  is_primary      boolean not null default false,
  is_enabled      boolean not null default false,
  last_error      text,
  last_error_at   timestamptz,
  settings        jsonb default '{}'::jsonb,
  webhook_secret  text,
  created_at      timestamptz not null default now(),
  updated_at      timestamptz not null default now()
);
"""


def _find_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


@dataclass
class PgCluster:
    host: str
    port: int
    user: str = "postgres"

    def dsn(self, dbname: str = "postgres") -> str:
        return f"host={self.host} port={self.port} user={self.user} dbname={dbname}"

    def connect(self, dbname: str = "postgres", **kw):
        import psycopg

        return psycopg.connect(self.dsn(dbname), autocommit=True, **kw)

    def create_database(self, name: str, *, legacy: bool = False, migrate: bool = True):
        with self.connect() as c:
            c.execute(f'drop database if exists "{name}"')
            c.execute(f'create database "{name}"')
        with self.connect(name) as c:
            c.execute(SUPABASE_ROLES_SQL)
            if legacy:
                c.execute(LEGACY_TABLE_SQL)
            if migrate:
                for path in MIGRATIONS:
                    c.execute(path.read_text(encoding="utf-8"))
        return self.dsn(name)


@pytest.fixture(scope="session")
def pg_cluster():
    initdb, pg_ctl = _find_bin("initdb"), _find_bin("pg_ctl")
    if not initdb or not pg_ctl:
        pytest.fail(
            "PostgreSQL server binaries (initdb, pg_ctl) were not found on PATH or in /usr/lib/postgresql/*/bin. "
            "The postgres-marked tests prove the migration's SQL and must not be skipped: install PostgreSQL 15 "
            "(apt-get install postgresql-15) or deselect them explicitly with -m 'not postgres'.",
            pytrace=False,
        )
    as_user: list[str] = []
    tmp = tempfile.mkdtemp(prefix="wpp-pg-")
    if os.geteuid() == 0:
        # initdb refuses root: run the server as the postgres OS user, in a folder it owns
        try:
            import pwd

            pw = pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(tmp, ignore_errors=True)
            pytest.fail("Running as root, but there is no 'postgres' OS user to run initdb/pg_ctl as.", pytrace=False)
        os.chown(tmp, pw.pw_uid, pw.pw_gid)
        runuser = shutil.which("runuser")
        as_user = [runuser, "-u", "postgres", "--"] if runuser else ["su", "postgres", "-s", "/bin/sh", "-c"]
    data = os.path.join(tmp, "data")

    def run(args: list[str], **kw):
        cmd = as_user + ([" ".join(args)] if as_user and as_user[0] == "su" else args)
        return subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=120, **kw)

    port = free_port()
    started = False
    try:
        try:
            run([initdb, "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync", "--no-instructions"])
            opts = (f"-c listen_addresses=127.0.0.1 -p {port} -k {tmp} -c max_connections=250 "
                    "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=32MB "
                    "-c timezone=UTC")
            run([pg_ctl, "-D", data, "-o", opts, "-l", os.path.join(tmp, "server.log"), "-w", "-t", "60", "start"])
            started = True
        except subprocess.CalledProcessError as e:
            log = Path(tmp, "server.log")
            pytest.fail(
                f"Could not start the throwaway PostgreSQL cluster: {' '.join(map(str, e.cmd))}\n{e.stdout}\n{e.stderr}\n"
                + (log.read_text(errors="replace")[-2000:] if log.exists() else ""),
                pytrace=False,
            )
        yield PgCluster(host="127.0.0.1", port=port)
    finally:
        if started:
            try:
                run([pg_ctl, "-D", data, "-m", "immediate", "-w", "stop"])
            except subprocess.SubprocessError:
                pass
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_fresh_dsn(pg_cluster):
    """A database where the migration created messenger_integrations itself (applied twice: idempotent)."""
    dsn = pg_cluster.create_database("wpp_fresh")
    with pg_cluster.connect("wpp_fresh") as c:
        c.execute(MIGRATION_SQL)
    return dsn


@pytest.fixture(scope="session")
def pg_legacy_dsn(pg_cluster):
    """A database whose messenger_integrations existed before (is_enabled only, extra column)."""
    return pg_cluster.create_database("wpp_legacy", legacy=True)


def _reset_pg(dsn: str) -> None:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute("truncate public.messenger_integrations, "
                  + ", ".join(f"public.{t}" for t in CONSOLE_TABLES) + " restart identity")
        # school platforms' organisation tables planted by a test
        c.execute("drop table if exists public.organizations, public.schools cascade")
        # ... and their membership tables
        c.execute("drop table if exists public.organization_members, public.members cascade")
        c.execute("drop schema if exists crm cascade")


# --- the stores under test ------------------------------------------------------------------------------------
@dataclass
class Backend:
    """A store plus a back door to its table (to plant rows of other features and read them raw)."""

    name: str
    store: object
    insert_raw: object  # (row: dict) -> None
    fetch_raw: object  # (id: str) -> dict | None
    #: (**store_kwargs) -> a second store object on the same database (another process or replica)
    reopen: object = None
    #: (rows: [(id, name)], table="organizations", id_column="id", name_column="name", schema=None) -> None:
    #: the school platform's own table of organisations, in the same database
    plant_orgs: object = None
    #: (rows: [(user_id, org_id, role)], table="organization_members", user_column="user_id",
    #: org_column="organization_id", role_column="role", schema=None) -> None: the school platform's own table of
    #: who belongs to which organisation with which role, in the same database (ids as uuid columns on PostgreSQL)
    plant_members: object = None


def _sqlite_backend(tmp_path) -> Backend:
    import json
    import sqlite3

    from wpp.store import SqliteStore

    store = SqliteStore(tmp_path / "wpp.db")

    def insert_raw(row: dict) -> None:
        row = dict(row)
        row.setdefault("created_at", "2020-01-01T00:00:00.000000+00:00")
        row.setdefault("updated_at", row["created_at"])
        row["settings"] = json.dumps(row.get("settings") or {})
        with sqlite3.connect(store.path) as c:
            c.execute(f"insert into messenger_integrations ({', '.join(row)}) values ({', '.join('?' * len(row))})",
                      list(row.values()))

    def fetch_raw(iid: str):
        with sqlite3.connect(store.path) as c:
            c.row_factory = sqlite3.Row
            r = c.execute("select * from messenger_integrations where id = ?", (iid,)).fetchone()
            if r is None:
                return None
            d = dict(r)
            d["settings"] = json.loads(d["settings"])
            return d

    def reopen(**kw):
        return SqliteStore(store.path, **kw)

    def plant_orgs(rows, table="organizations", id_column="id", name_column="name", schema=None):
        with sqlite3.connect(store.path) as c:
            if schema:  # SQLite's "schema" is an attached database file
                raise NotImplementedError
            c.execute(f'create table "{table}" ("{id_column}" text primary key, "{name_column}" text, extra text)')
            c.executemany(f'insert into "{table}" ("{id_column}", "{name_column}") values (?, ?)', rows)

    def plant_members(rows, table="organization_members", user_column="user_id", org_column="organization_id",
                      role_column="role", schema=None):
        with sqlite3.connect(store.path) as c:
            if schema:
                raise NotImplementedError
            c.execute(f'create table "{table}" ("{user_column}" text, "{org_column}" text, "{role_column}" text, '
                      'extra text)')
            c.executemany(f'insert into "{table}" ("{user_column}", "{org_column}", "{role_column}") values (?, ?, ?)',
                          rows)

    return Backend("sqlite", store, insert_raw, fetch_raw, reopen, plant_orgs, plant_members)


def _pg_backend(name: str, dsn: str) -> Backend:
    import psycopg
    from psycopg.rows import dict_row
    from psycopg.types.json import Jsonb

    from wpp.store import PostgresStore

    _reset_pg(dsn)
    store = PostgresStore(dsn, pool_size=12)

    with psycopg.connect(dsn) as c:
        columns = {r[0] for r in c.execute(
            "select column_name from information_schema.columns"
            " where table_schema = 'public' and table_name = 'messenger_integrations'")}

    def insert_raw(row: dict) -> None:
        row = {k: v for k, v in row.items() if k in columns}  # e.g. is_active where the table says is_enabled
        row["settings"] = Jsonb(row.get("settings") or {})
        with psycopg.connect(dsn, autocommit=True) as c:
            c.execute(f"insert into public.messenger_integrations ({', '.join(row)}) values ({', '.join(['%s'] * len(row))})",
                      list(row.values()))

    def fetch_raw(iid: str):
        with psycopg.connect(dsn, row_factory=dict_row) as c:
            return c.execute("select * from public.messenger_integrations where id = %s", (iid,)).fetchone()

    def reopen(**kw):
        kw.setdefault("pool_size", 12)
        return PostgresStore(dsn, **kw)

    def plant_orgs(rows, table="organizations", id_column="id", name_column="name", schema=None):
        qualified = f'"{schema}"."{table}"' if schema else f'public."{table}"'
        with psycopg.connect(dsn, autocommit=True) as c:
            if schema:
                c.execute(f'create schema if not exists "{schema}"')
            c.execute(f'create table {qualified} ("{id_column}" uuid primary key, "{name_column}" text, extra text)')
            c.cursor().executemany(f'insert into {qualified} ("{id_column}", "{name_column}") values (%s, %s)', rows)

    def plant_members(rows, table="organization_members", user_column="user_id", org_column="organization_id",
                      role_column="role", schema=None):
        qualified = f'"{schema}"."{table}"' if schema else f'public."{table}"'
        with psycopg.connect(dsn, autocommit=True) as c:
            if schema:
                c.execute(f'create schema if not exists "{schema}"')
            c.execute(f'create table {qualified} ("{user_column}" uuid not null, "{org_column}" uuid not null, '
                      f'"{role_column}" text, extra text)')
            c.cursor().executemany(
                f'insert into {qualified} ("{user_column}", "{org_column}", "{role_column}") values (%s, %s, %s)', rows)

    return Backend(name, store, insert_raw, fetch_raw, reopen, plant_orgs, plant_members)


@pytest.fixture(params=[
    "sqlite",
    pytest.param("postgres", marks=pytest.mark.postgres),
    pytest.param("postgres-legacy", marks=pytest.mark.postgres),
])
def backend(request, tmp_path):
    if request.param == "sqlite":
        b = _sqlite_backend(tmp_path)
    elif request.param == "postgres":
        b = _pg_backend("postgres", request.getfixturevalue("pg_fresh_dsn"))
    else:
        b = _pg_backend("postgres-legacy", request.getfixturevalue("pg_legacy_dsn"))
    yield b
    b.store.close()


@pytest.fixture
def store(backend):
    return backend.store
