"""Keeping the console's own records in bounds: small batch deletes of what is older than its retention.

One method in every backend, ``prune(name, *, before, limit=500) -> int``: at most ``limit`` of the oldest rows of
the table called ``name`` whose time is before ``before`` (Unix seconds) are deleted; returns how many. A caller
repeats it while it returns ``limit`` (``wpp.status.retention`` does, with a budget per pass).

The tables are named in :data:`PRUNABLE` (one :class:`Prunable` each). PostgreSQL and Supabase call one SQL function
per table, ``wpp_prune_<name>(p_before double precision, p_limit integer) returns integer`` (made by the migrations);
SQLite runs the :class:`Prunable`'s own condition. **To make another table prunable** (e.g. incidents, alerts):
``register(Prunable(...))`` at import time of the module that owns the table, add its ``wpp_prune_<name>`` to a new
migration, and give the retention job a rule (``wpp.status.retention.Rule``).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Callable

from ..errors import StoreError
from ..i18n import N_
from ._common import pg_guard, sb_guard, sqlite_guard

_BUG = N_("This is a bug in the console; tell the administrator.")
#: the most rows one call deletes
MAX_LIMIT = 10_000


def _seconds(t: float) -> float:
    return float(t)


def _iso(t: float) -> str:
    """Unix seconds as the SQLite diary's text times (UTC, microseconds: they compare as text)."""
    return dt.datetime.fromtimestamp(float(t), dt.timezone.utc).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class Prunable:
    """A table whose old rows may go.

    ``name``: what callers say (and the PostgreSQL function's suffix: ``wpp_prune_<name>``); ``sqlite_table`` and
    ``sqlite_where``: the SQLite table and a condition with one ``?`` for the cutoff (never user input);
    ``sqlite_order``: the column the oldest rows are found by; ``cutoff``: Unix seconds -> the value compared
    (ISO text for the diary's times); ``ensure``: an optional store method name that makes the SQLite table first
    (tables made on first use)."""

    name: str
    sqlite_table: str
    sqlite_where: str
    sqlite_order: str
    cutoff: Callable[[float], Any] = _seconds
    ensure: str | None = None

    @property
    def pg_function(self) -> str:
        return f"wpp_prune_{self.name}"


PRUNABLE: dict[str, Prunable] = {}


def register(p: Prunable) -> Prunable:
    """Make a table prunable (see the module docstring). Idempotent by name."""
    PRUNABLE[p.name] = p
    return p


register(Prunable("status_history", "wpp_console_status_history", "at < ?", "at"))
register(Prunable("activity", "integration_activity", "at < ?", "at", cutoff=_iso))
register(Prunable("test_messages", "wpp_console_test_messages", "sent_at < ?", "sent_at", ensure="_webhook_tables"))
register(Prunable("webhook_seen", "wpp_console_webhook_seen", "at < ?", "at", ensure="_webhook_tables"))


def prune_args(name: Any, before: Any, limit: Any) -> tuple[Prunable, float, int]:
    p = PRUNABLE.get(name) if isinstance(name, str) else None
    try:
        t = float(before)
        n = int(limit)
    except (TypeError, ValueError):
        t, n = float("nan"), 0
    if p is None or t != t or not 1 <= n <= MAX_LIMIT:
        raise StoreError(N_("Old records could not be deleted."), action=_BUG,
                         detail=f"prune needs a known table ({', '.join(sorted(PRUNABLE))}), a time and a limit "
                                f"from 1 to {MAX_LIMIT}")
    return p, t, n


# =================================================================================================================
class SqliteRetention:
    @sqlite_guard
    def prune(self, name: str, *, before: float, limit: int = 500) -> int:
        p, t, n = prune_args(name, before, limit)
        if p.ensure:
            getattr(self, p.ensure)()
        with self._write() as c:  # type: ignore[attr-defined]
            cur = c.execute(f"DELETE FROM {p.sqlite_table} WHERE rowid IN (SELECT rowid FROM {p.sqlite_table}"
                            f" WHERE {p.sqlite_where} ORDER BY {p.sqlite_order} LIMIT ?)", (p.cutoff(t), n))
            return max(0, cur.rowcount)


class PostgresRetention:
    @pg_guard
    def prune(self, name: str, *, before: float, limit: int = 500) -> int:
        p, t, n = prune_args(name, before, limit)
        row = self._run(lambda c: c.execute(f"select public.{p.pg_function}(%s, %s) as n",  # type: ignore[attr-defined]
                                            (t, n)).fetchone())
        return int(row["n"] or 0) if row else 0


class SupabaseRetention:
    @sb_guard(N_("Deleting old records"))
    def prune(self, name: str, *, before: float, limit: int = 500) -> int:
        p, t, n = prune_args(name, before, limit)
        res = self._client.rpc(p.pg_function, {"p_before": t, "p_limit": n}).execute()  # type: ignore[attr-defined]
        if isinstance(res.data, bool) or not isinstance(res.data, int):  # -> "... an answer that could not be read"
            raise ValueError(f"{p.pg_function} answered {str(res.data)[:80]!r}")
        return res.data


__all__ = ["MAX_LIMIT", "PRUNABLE", "PostgresRetention", "Prunable", "SqliteRetention", "SupabaseRetention",
           "prune_args", "register"]
