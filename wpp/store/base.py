"""The storage protocol the service uses. Two backends implement it: sqlite (embedded default) and supabase."""
from __future__ import annotations

from typing import Protocol, runtime_checkable

from ..models import ActivityEntry, Integration


@runtime_checkable
class IntegrationStore(Protocol):
    """Rows of ``messenger_integrations`` (messenger_type='whatsapp', provider='wpp') and the activity log.

    Every method raises ``wpp.errors.StoreError`` (or ``IntegrationNotFound``) on failure, never a driver error.
    Timestamps are ISO 8601 strings in UTC.
    """

    #: short human description for the Settings page, secrets masked (e.g. "SQLite file /home/x/.wpp-console/wpp.db")
    description: str

    def list_integrations(self, organization_id: str | None = None, *, include_inactive: bool = False) -> list[Integration]:
        """All WPP WhatsApp integrations (or one organisation's), oldest first."""

    def get(self, integration_id: str) -> Integration:
        """One row; ``IntegrationNotFound`` if there is none."""

    def create(self, organization_id: str, name: str | None = None, settings: dict | None = None) -> Integration:
        """A new active row; it becomes primary when the organisation has no other active WhatsApp row."""

    def merge_settings(self, integration_id: str, patch: dict) -> Integration:
        """Atomically merge ``patch`` into ``settings`` (only those keys change; a key with value None is removed).

        Never a read-modify-write from the caller's copy: concurrent merges of different keys all survive.
        """

    def update(self, integration_id: str, *, name: str | None = None, last_error: str | None = None,
               clear_error: bool = False) -> Integration:
        """Change name and/or record the last error (``last_error_at`` = now); ``clear_error`` empties both."""

    def deactivate(self, integration_id: str) -> Integration:
        """Mark inactive (is_active / is_enabled false). The row and its settings stay."""

    def log_activity(self, entry: ActivityEntry) -> ActivityEntry:
        """Append one entry (``at`` filled with now when missing); its detail is scrubbed of secrets."""

    def list_activity(self, *, limit: int = 500, integration_id: str | None = None,
                      organization_id: str | None = None) -> list[ActivityEntry]:
        """Newest first."""
