"""A production-like stack for end-to-end journeys: a throwaway PostgreSQL 15 cluster with the console's migrations
and a school platform's own ``organizations (id uuid, name text)`` table, the platform simulator as its own
process (``python -m wpp.simulator --port P``), and the app started with DATABASE_URL / WPP_BASE_URL / WPP_SECRET
and a ``[staff]`` account in a secrets file.

Missing PostgreSQL binaries FAIL the journey (never skip): a green run means it was really proven on PostgreSQL.
Only processes started here are ever signalled (their own process groups).
"""
from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.harness import LOOPBACK, REPO, SIM_SECRET, free_port

MIGRATIONS = sorted((REPO / "supabase" / "migrations").glob("*.sql"))

#: Supabase's API roles, so the migrations' grants apply as in production
SUPABASE_ROLES_SQL = """
do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'anon') then create role anon nologin; end if;
  if not exists (select 1 from pg_roles where rolname = 'authenticated') then create role authenticated nologin; end if;
  if not exists (select 1 from pg_roles where rolname = 'service_role') then create role service_role nologin bypassrls; end if;
end $$;
create schema if not exists auth;
"""

ORGANIZATIONS_SQL = "create table public.organizations (id uuid primary key, name text not null)"


class StackError(RuntimeError):
    pass


def _find_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


@dataclass
class PgCluster:
    """``initdb`` + ``pg_ctl`` into a temporary folder, trust auth, on 127.0.0.1 and a free port."""

    folder: str
    port: int
    as_user: list[str]
    pg_ctl: str

    @classmethod
    def start(cls) -> "PgCluster":
        initdb, pg_ctl = _find_bin("initdb"), _find_bin("pg_ctl")
        if not initdb or not pg_ctl:
            raise StackError("PostgreSQL server binaries (initdb, pg_ctl) were not found on PATH or in "
                             "/usr/lib/postgresql/*/bin; install PostgreSQL 15 (apt-get install postgresql-15).")
        folder = tempfile.mkdtemp(prefix="wpp-e2e-pg-")
        as_user: list[str] = []
        if os.geteuid() == 0:  # initdb refuses root: run the server as the postgres OS user
            import pwd

            try:
                pw = pwd.getpwnam("postgres")
            except KeyError:
                shutil.rmtree(folder, ignore_errors=True)
                raise StackError("Running as root, but there is no 'postgres' OS user for initdb/pg_ctl.") from None
            os.chown(folder, pw.pw_uid, pw.pw_gid)
            runuser = shutil.which("runuser")
            as_user = [runuser, "-u", "postgres", "--"] if runuser else ["su", "postgres", "-s", "/bin/sh", "-c"]
        cluster = cls(folder, free_port(), as_user, pg_ctl)
        data = os.path.join(folder, "data")
        try:
            cluster._run([initdb, "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync",
                          "--no-instructions"])
            opts = (f"-c listen_addresses={LOOPBACK} -p {cluster.port} -k {folder} -c fsync=off "
                    "-c synchronous_commit=off -c full_page_writes=off -c timezone=UTC")
            cluster._run([pg_ctl, "-D", data, "-o", opts, "-l", os.path.join(folder, "server.log"), "-w", "-t", "60",
                          "start"])
        except subprocess.CalledProcessError as e:
            log = Path(folder, "server.log")
            text = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            shutil.rmtree(folder, ignore_errors=True)
            raise StackError(f"could not start PostgreSQL: {e.stdout}\n{e.stderr}\n{text}") from None
        return cluster

    def _run(self, args: list[str]):
        cmd = self.as_user + ([" ".join(args)] if self.as_user and self.as_user[0] == "su" else args)
        return subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=120)

    def url(self, dbname: str) -> str:
        return f"postgresql://postgres@{LOOPBACK}:{self.port}/{dbname}"

    def connect(self, dbname: str = "postgres"):
        import psycopg

        return psycopg.connect(f"host={LOOPBACK} port={self.port} user=postgres dbname={dbname}", autocommit=True)

    def school_database(self, name: str, schools: list[tuple[str, str]]) -> str:
        """A database as a school platform has it: its ``organizations`` table with ``schools`` (id, name), and
        the console's migrations applied. Returns its URL."""
        with self.connect() as c:
            c.execute(f'drop database if exists "{name}"')
            c.execute(f'create database "{name}"')
        with self.connect(name) as c:
            c.execute(SUPABASE_ROLES_SQL)
            c.execute(ORGANIZATIONS_SQL)
            with c.cursor() as cur:
                cur.executemany("insert into public.organizations (id, name) values (%s, %s)", schools)
            for migration in MIGRATIONS:
                c.execute(migration.read_text(encoding="utf-8"))
        return self.url(name)

    def stop(self) -> None:
        try:
            self._run([self.pg_ctl, "-D", os.path.join(self.folder, "data"), "-m", "immediate", "-w", "stop"])
        except subprocess.SubprocessError:
            pass
        shutil.rmtree(self.folder, ignore_errors=True)


class SimulatorProcess:
    """The platform simulator in its own process, as an operator would run it."""

    def __init__(self, log_dir: Path):
        self.port = free_port()
        self.url = f"http://{LOOPBACK}:{self.port}"
        self.secret = SIM_SECRET
        self.log_path = Path(log_dir) / "simulator-postgres-stack.log"
        self.proc: subprocess.Popen | None = None
        self._log = None

    def start(self, timeout: float = 30) -> "SimulatorProcess":
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "w", buffering=1)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "wpp.simulator", "--port", str(self.port), "--secret", self.secret,
             "--qr-rotate", "600"],
            cwd=REPO, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
            env={**{k: v for k, v in os.environ.items() if not k.startswith("WPP_")}, "PYTHONUNBUFFERED": "1"},
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise StackError(f"the simulator exited with {self.proc.returncode}; see {self.log_path}")
            try:
                if httpx.get(self.url + "/_sim/stats", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise StackError(f"the simulator did not answer within {timeout} s; see {self.log_path}")

    def json(self, method: str, path: str, **kw):
        r = httpx.request(method, self.url + path, timeout=10, **kw)
        r.raise_for_status()
        return r.json()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        if self._log is not None:
            self._log.close()
            self._log = None


def staff_secrets(folder: Path, user: str, password: str) -> Path:
    """A secrets file with one ``[staff]`` account (its password hashed as the console wants)."""
    from wpp.access import hash_password

    path = Path(folder) / "secrets.toml"
    path.write_text(f'[staff]\n{user} = "{hash_password(password)}"\n', encoding="utf-8")
    return path


__all__ = ["MIGRATIONS", "PgCluster", "SimulatorProcess", "StackError", "staff_secrets"]
