"""The storage protocol the service uses.

Backends: ``sqlite`` (embedded default), ``supabase`` (production, through PostgREST) and ``postgres``
(psycopg, ``DATABASE_URL``; runs the same SQL functions as Supabase). ``wpp.store.open_store`` picks one.
"""
from __future__ import annotations

from typing import Protocol, runtime_checkable

from ..models import ActivityEntry, Integration


@runtime_checkable
class IntegrationStore(Protocol):
    """Rows of ``messenger_integrations`` (messenger_type='whatsapp', provider='wpp') and the activity log.

    Every method raises ``wpp.errors.StoreError`` (or ``IntegrationNotFound``) on failure, never a driver error.
    Timestamps are ISO 8601 strings in UTC (``2025-01-31T09:15:00.123456+00:00``).

    Ids: an unknown id, a malformed one (not a UUID) and the id of a row of another messenger or provider all
    raise ``IntegrationNotFound``; rows that are not WhatsApp/WPP are never listed or changed.
    "Active" means no on/off column (``is_active`` / ``is_enabled``, whichever the table has) says false.
    All methods may be called from several threads at once.
    """

    #: short human description for the Settings page, secrets masked (e.g. "SQLite file /home/x/.wpp-console/wpp.db")
    description: str

    def list_integrations(self, organization_id: str | None = None, *, include_inactive: bool = False) -> list[Integration]:
        """All WPP WhatsApp integrations (or one organisation's), oldest first; active ones only unless
        ``include_inactive``."""

    def get(self, integration_id: str) -> Integration:
        """One row; ``IntegrationNotFound`` if there is none."""

    def create(self, organization_id: str, name: str | None = None, settings: dict | None = None) -> Integration:
        """A new active row; it becomes primary when the organisation has no active primary WhatsApp row
        (of any provider: one primary per organisation and messenger). Top-level None values in ``settings``
        are left out. Two concurrent creates in one organisation never both become primary."""

    def merge_settings(self, integration_id: str, patch: dict) -> Integration:
        """Atomically merge ``patch`` into ``settings`` (only those keys change; a key with value None is removed).

        Never a read-modify-write from the caller's copy: concurrent merges of different keys all survive.
        """

    def update(self, integration_id: str, *, name: str | None = None, last_error: str | None = None,
               clear_error: bool = False) -> Integration:
        """Change name and/or record the last error (``last_error_at`` = now); ``clear_error`` empties both.

        ``None`` leaves a field as it is; a blank name clears it. A ``last_error`` given together with
        ``clear_error`` wins. The error text is scrubbed of secrets before it is stored.
        """

    def deactivate(self, integration_id: str) -> Integration:
        """Mark inactive (is_active / is_enabled false). The row and its settings stay.

        A primary row stops being primary and the oldest other active WPP row of the organisation becomes
        primary (atomically). Deactivating an inactive row changes nothing else.
        """

    def log_activity(self, entry: ActivityEntry) -> ActivityEntry:
        """Append one entry (``at`` filled with now when missing, else normalised to UTC); returns it as stored.

        Its detail is scrubbed of secrets: JWTs, bearer values, ``apiKey=...``-style pairs and the apiKey/JWT
        of every integration the store has seen (defence in depth: callers must not put secrets there).
        """

    def list_activity(self, *, limit: int = 500, integration_id: str | None = None,
                      organization_id: str | None = None) -> list[ActivityEntry]:
        """Newest first (by ``at``, then by insertion), at most ``limit``; filters combine with AND."""
