"""Where the numbers (rows of ``messenger_integrations``) and the activity log live.

``open_store()`` picks the backend: Supabase when a URL and key are given, else PostgreSQL when a
``DATABASE_URL`` is given, else the embedded SQLite file. The backends are imported lazily, so using SQLite
never imports supabase-py or psycopg.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from .base import IntegrationStore, MemberTable, OrgTable

if TYPE_CHECKING:  # pragma: no cover
    from .postgres import PostgresStore
    from .sqlite import SqliteStore
    from .supabase import SupabaseStore

__all__ = [
    "IntegrationStore",
    "MemberTable",
    "OrgTable",
    "SqliteStore",
    "SupabaseStore",
    "PostgresStore",
    "default_data_dir",
    "open_store",
]

_LAZY = {
    "SqliteStore": ".sqlite",
    "default_data_dir": ".sqlite",
    "SupabaseStore": ".supabase",
    "PostgresStore": ".postgres",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def open_store(
    *,
    supabase_url: str | None = None,
    supabase_key: str | None = None,
    database_url: str | None = None,
    sqlite_path: str | Path | None = None,
    org_table: OrgTable | None = OrgTable(),
    member_table: MemberTable | None = None,
) -> IntegrationStore:
    """Supabase if ``supabase_url`` and ``supabase_key``; else PostgreSQL if ``database_url``; else the SQLite
    file ``sqlite_path`` (default: ``wpp-console.db`` in ``default_data_dir()``).

    ``org_table``: where the school platform keeps its organisations' names (None: nowhere; only the console's
    own table of names is used). ``member_table``: where it keeps who belongs to which school with which role
    (None: nowhere; :meth:`IntegrationStore.list_memberships` gives ``[]``)."""
    if supabase_url and supabase_key:
        from .supabase import SupabaseStore

        return SupabaseStore(supabase_url, supabase_key, org_table=org_table, member_table=member_table)
    if database_url:
        from .postgres import PostgresStore

        return PostgresStore(database_url, org_table=org_table, member_table=member_table)
    from .sqlite import DEFAULT_FILENAME, SqliteStore, default_data_dir

    return SqliteStore(sqlite_path if sqlite_path else default_data_dir() / DEFAULT_FILENAME, org_table=org_table,
                       member_table=member_table)
