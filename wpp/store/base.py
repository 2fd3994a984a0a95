"""The storage protocol the service uses.

Backends: ``sqlite`` (embedded default), ``supabase`` (production, through PostgREST) and ``postgres``
(psycopg + psycopg_pool, ``DATABASE_URL``; runs the same SQL functions as Supabase). ``wpp.store.open_store``
picks one.

Besides the school platform's ``messenger_integrations`` rows (one per number), the console keeps tables of its own
(created by ``supabase/migrations/*.sql`` on PostgreSQL/Supabase, by the store itself in SQLite):

* ``wpp_console_activity``: the diary of who did what;
* ``wpp_console_organizations``: organisation names staff gave, where the school platform has no table of them;
* ``wpp_console_sessions``: lasting sign-ins (hash of the browser's opaque id -> who);
* ``wpp_console_secrets``: random secrets every replica shares (the sign-in cookie's signing key);
* ``wpp_console_status`` and ``wpp_console_status_history``: the shared status board (with the pairing panels'
  heartbeats, ``watched_until``) and every change;
* ``wpp_console_leases``: named leases with an expiry (which replica polls; token mints where no advisory lock
  exists);
* ``wpp_console_incidents`` and ``wpp_console_alerts``: numbers that dropped, and the alerts about them, one per
  incident, event and recipient (``wpp.alerts``; methods in ``wpp/store/alerts.py``).
* ``wpp_console_test_messages``, ``wpp_console_webhook_seen``, ``wpp_console_webhook_counts`` and the board's
  ``last_event_at``: status pushed by the platform to the console's webhook, what became of the test messages
  (methods in ``wpp/store/webhooks.py``).
* ``wpp_console_witnesses``, ``wpp_console_delivery_checks`` and the view ``wpp_console_delivery_states``: proof of
  delivery — who receives the check messages, every check, each number's state (methods in ``wpp/store/proof.py``:
  ``witnesses``, ``set_witness``, ``start_delivery_check``, ``delivery_check_sent``, ``settle_delivery_check``,
  ``overdue_delivery_checks``, ``delivery_checks``, ``delivery_states``).

Old history, diary lines, test messages and pushed-event ids are deleted in small batches (``prune``, in
``wpp/store/retention.py``).
"""
from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Iterable, Protocol, runtime_checkable

from ..i18n import Text
from ..models import (ActivityEntry, AlertRecord, DeliveryRecord, Incident, Integration, Mute, Organization,
                      SignInSession, StatusChange, StatusRecord, WebhookCount)


@dataclass(frozen=True)
class OrgTable:
    """Where the school platform keeps its organisations' names (same database as ``messenger_integrations``).

    Configured with ``WPP_ORG_TABLE`` / ``WPP_ORG_ID_COLUMN`` / ``WPP_ORG_NAME_COLUMN``; names are SQL identifiers
    (``[A-Za-z_][A-Za-z0-9_]*``, optionally ``schema.table``) and are checked before use.
    """

    table: str = "organizations"
    id_column: str = "id"
    name_column: str = "name"


@dataclass(frozen=True)
class MemberTable:
    """Where the school platform keeps who belongs to which organisation, with which role (same database).

    Configured with ``WPP_MEMBER_TABLE`` / ``WPP_MEMBER_USER_COLUMN`` / ``WPP_MEMBER_ORG_COLUMN`` /
    ``WPP_MEMBER_ROLE_COLUMN``; names are SQL identifiers checked before use, like :class:`OrgTable`'s. One row per
    (user, organisation): the user's id (a Supabase auth user's uuid), the organisation's id and the platform's own
    role text (mapped to the console's roles by ``WPP_MEMBER_ROLES``).
    """

    table: str
    user_column: str = "user_id"
    org_column: str = "organization_id"
    role_column: str = "role"


@runtime_checkable
class IntegrationStore(Protocol):
    """Rows of ``messenger_integrations`` (messenger_type='whatsapp', provider='wpp') and the console's own tables.

    Every method raises ``wpp.errors.StoreError`` (or ``IntegrationNotFound``) on failure, never a driver error.
    Timestamps of rows and activity are ISO 8601 strings in UTC (``2025-01-31T09:15:00.123456+00:00``); the
    console's own records (sessions, status, leases) use Unix seconds (float), as their dataclasses say.

    Ids: an unknown id, a malformed one (not a UUID) and the id of a row of another messenger or provider all
    raise ``IntegrationNotFound``; rows that are not WhatsApp/WPP are never listed or changed.
    "Active" means no on/off column (``is_active`` / ``is_enabled``, whichever the table has) says false.
    All methods may be called from several threads (and processes sharing the database) at once.
    """

    #: short human description for logs and reprs, secrets masked (e.g. "SQLite file /home/x/.wpp-console/wpp.db")
    description: str
    #: the same for the Settings page, in the reader's language (a lazy ``wpp.i18n.Text``)
    described_as: Text

    # --- numbers ------------------------------------------------------------------------------------------------
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

    def reactivate(self, integration_id: str) -> Integration:
        """Undo :meth:`deactivate`: active again (every on/off column the table has set true). It becomes primary
        only when its organisation has no active primary WhatsApp row (atomically, as in ``create``).
        Reactivating an active row changes nothing."""

    # --- activity log -------------------------------------------------------------------------------------------
    def log_activity(self, entry: ActivityEntry) -> ActivityEntry:
        """Append one entry (``at`` filled with now when missing, else normalised to UTC); returns it as stored.

        Its ``detail`` and the string values of its ``message`` are scrubbed of secrets: JWTs, bearer values,
        ``apiKey=...``-style pairs and the apiKey/JWT of every integration the store has seen (defence in depth:
        callers must not put secrets there).
        """

    def list_activity(self, *, limit: int = 500, integration_id: str | None = None,
                      organization_id: str | None = None) -> list[ActivityEntry]:
        """Newest first (by ``at``, then by insertion), at most ``limit``; filters combine with AND."""

    # --- organisations ------------------------------------------------------------------------------------------
    def list_organizations(self) -> list[Organization]:
        """Every organisation staff may pick, sorted by name (case-insensitive).

        When the school platform's table (:class:`OrgTable`, given to the store) exists in this database, its rows
        (``source="platform"``), plus console-named organisations whose id is not in it; otherwise the console's
        own table (``source="console"``). A platform table that exists but cannot be read raises StoreError.
        """

    def list_memberships(self, user_id: str) -> list[tuple[str, str]]:
        """The ``(organisation id, role text)`` rows of the school platform's membership table
        (:class:`MemberTable`, given to the store) for ``user_id``, compared as text; a NULL role comes back as
        ``""``, organisation ids as :func:`~wpp.store._common.ref_id` gives them (UUIDs canonical).

        No table configured: ``[]``. A table that is configured but missing or unreadable (a wrong column, no
        permission) raises StoreError ("The school platform's table of memberships (...) cannot be read."):
        callers must then let nobody in through it (fail closed)."""

    def add_organization(self, name: str, organization_id: str | None = None, *,
                         only_new: bool = False) -> Organization:
        """Name an organisation in the console's own table: ``organization_id`` (a UUID) when given, else a new
        uuid4. An id that is already named keeps its row and gets the new name (idempotent) — unless ``only_new``:
        then nothing is written for a known id (atomically: a school is never renamed by adding it), and the stored
        organisation is returned with its stored name. Names are 1-200 characters, stored trimmed; a blank name is
        refused (StoreError with a plain message)."""

    # --- lasting sign-ins ---------------------------------------------------------------------------------------
    def create_sign_in_session(self, session: SignInSession) -> None:
        """Store a new sign-in (normally with a ticket and no ``id_hash`` yet). ``key``, ``id_hash`` and
        ``ticket_hash`` are unique; a duplicate raises StoreError."""

    def redeem_sign_in_ticket(self, ticket_hash: str, id_hash: str, *, now: float) -> SignInSession | None:
        """Atomically turn the sign-in whose ticket is ``ticket_hash`` (not expired at ``now``, not revoked) into
        the lasting one known by ``id_hash``: sets ``id_hash``, clears the ticket. Single use: a second redemption,
        an unknown or expired ticket gives None."""

    def get_sign_in_session(self, *, key: str | None = None, id_hash: str | None = None) -> SignInSession | None:
        """The sign-in with this ``key`` or ``id_hash`` (exactly one is given), revoked or expired ones included
        (the caller judges); None if unknown."""

    def touch_sign_in_session(self, key: str, *, last_seen_at: float, expires_at: float | None = None) -> None:
        """Record use (and optionally extend the expiry) of an existing sign-in; unknown keys are ignored."""

    def revoke_sign_in_session(self, key: str, *, at: float) -> None:
        """End a sign-in now (``revoked_at``); unknown or already revoked keys are ignored."""

    def purge_sign_in_sessions(self, *, before: float) -> int:
        """Delete sign-ins that expired or were revoked before ``before``; returns how many."""

    # --- secrets every replica shares ---------------------------------------------------------------------------
    def console_secret(self, name: str) -> str:
        """A random secret (64 hex characters) kept under ``name``, made on first use. Every process on the same
        database gets the same value (a race between two first uses keeps one)."""

    # --- the shared status board --------------------------------------------------------------------------------
    def save_status(self, record: StatusRecord, change: StatusChange | None = None) -> bool:
        """Insert or replace the board entry of ``record.integration_id`` -- unless the stored entry was observed
        later (``observed_at``: a compare-and-set, atomic across processes; an entry or a record without it always
        counts as not newer) -- and append ``change`` (when given) to the history in the same transaction, only when
        the entry was saved. ``watched_until`` and ``last_event_at`` stay as they are. True when it was saved."""

    def add_status_history(self, change: StatusChange) -> None:
        """Append one line to the number's history without touching its board entry (a report that came after a
        newer one: ``change.late``)."""

    def load_statuses(self, integration_ids: Iterable[str] | None = None) -> dict[str, StatusRecord]:
        """Board entries by integration id (all of them, or those of the given ids that exist)."""

    def status_history(self, integration_id: str, *, limit: int = 50) -> list[StatusChange]:
        """A number's changes, newest first, at most ``limit``."""

    def watch_status(self, integration_id: str, *, until: float, check_by: float | None = None) -> bool:
        """A pairing panel shows the number (its heartbeat): its board entry's ``watched_until`` becomes ``until``
        unless it is later already; with ``check_by``, its ``next_check_at`` too is brought forward to it (never
        put later; a missing one, "due now", stays). One atomic update of the entry; nothing else of it changes.
        False (and nothing written) when the number has no board entry yet."""

    # --- leases and the token-mint lock ------------------------------------------------------------------------
    def try_lease(self, name: str, holder: str, *, ttl_s: float, now: float) -> bool:
        """Take or renew lease ``name`` for ``holder`` until ``now + ttl_s``, when it is free, expired, or already
        held by ``holder``; False when another holder's lease is still running. Atomic across processes."""

    def release_lease(self, name: str, holder: str) -> None:
        """Give the lease up now, only if ``holder`` holds it."""

    def lease_holder(self, name: str, *, now: float) -> str | None:
        """Who holds the lease now (None when free or expired)."""

    def token_mint_lock(self, integration_id: str, *, timeout_s: float = 30.0) -> AbstractContextManager[None]:
        """Held while this process mints a new platform token for one number, so that processes sharing the
        database mint it one at a time (the caller re-reads the stored token once inside). PostgreSQL: an advisory
        lock keyed by the number; elsewhere a lease row (``mint:<id>``) with an expiry, so a crashed holder frees it.
        Waits at most ``timeout_s``, then raises StoreError."""

    # --- alerts when a number drops (wpp.alerts; see wpp/store/alerts.py) ---------------------------------------
    def save_incident(self, incident: Incident) -> None:
        """Insert or replace an incident by its id."""

    def load_incidents(self, *, open_only: bool = True) -> list[Incident]:
        """Incidents (only those not closed, unless ``open_only`` is False), oldest first."""

    def closed_incidents(self, *, limit: int = 200) -> list[Incident]:
        """Closed incidents, the most recently closed first, at most ``limit`` (the Alerts page)."""

    def queue_alerts(self, alerts: Iterable[AlertRecord]) -> int:
        """Add alerts; one that exists for its (incident, event, recipient) stays as it is. Returns how many were
        added."""

    def due_alerts(self, *, now: float, limit: int = 100) -> list[AlertRecord]:
        """Alerts to try now: pending or retrying ones whose ``next_try_at`` has come, and "sending" ones whose claim
        ran out; fewest tries first, then earliest."""

    def claim_alert(self, alert_id: int, *, holder: str, now: float, until: float) -> AlertRecord | None:
        """One atomic conditional update: the alert becomes "sending" by ``holder`` until ``until`` (one try more) if
        it is still due at ``now``. The claimed alert, or None when another sender got it first."""

    def finish_alert(self, alert_id: int, *, status: str, attempts: int, next_try_at: float,
                     sent_at: float | None = None, error: str | None = None, holder: str | None = None) -> bool:
        """What a try of alert ``alert_id`` gave (``error`` is scrubbed before it is stored). With ``holder``: only
        while that sender's claim is the alert's; False when nothing was written."""

    def list_alerts(self, *, limit: int = 200, organization_id: str | None = None,
                    integration_id: str | None = None, status: str | None = None,
                    unreported: bool = False) -> list[AlertRecord]:
        """Alerts, newest first (the outbox page, the Settings page's recipients); ``unreported``: only those whose
        failure was not yet told to the "*" recipients."""

    def mark_alerts_reported(self, alert_ids: Iterable[int], *, at: float) -> None:
        """These failed alerts were told to the "*" recipients at ``at``."""

    def prune_alerts(self, *, sent_before: float, failed_before: float, limit: int = 500) -> int:
        """Delete at most ``limit`` alerts delivered before ``sent_before`` or given up and made before
        ``failed_before``; how many were deleted."""

    def prune_incidents(self, *, closed_before: float, limit: int = 500) -> int:
        """Delete at most ``limit`` incidents closed before ``closed_before``; how many were deleted."""

    def ack_incident(self, incident_id: str, *, by: str, at: float) -> bool:
        """"I'm on it": ``by`` acknowledged the open incident at ``at`` — only the first acknowledgement counts
        (False when it was acknowledged already, is closed, or unknown). ``save_incident`` never overwrites it."""

    def add_mute(self, mute: Mute) -> Mute:
        """Keep a mute (a number's) or a maintenance window (a school's or the platform's); returns it with its id."""

    def end_mute(self, mute_id: int, *, at: float, by: str) -> bool:
        """End a mute or window early, at ``at``; False when it had ended already."""

    def list_mutes(self, *, since: float) -> list[Mute]:
        """Mutes and windows not over before ``since`` (current, coming, and those that ended since then)."""

    def prune_mutes(self, *, ended_before: float, limit: int = 500) -> int:
        """Delete at most ``limit`` mutes and windows over before ``ended_before``; how many were deleted."""

    # --- status pushed by the platform (webhooks; see wpp/store/webhooks.py) ----------------------------------------
    def note_status_event(self, integration_id: str, *, at: float) -> bool:
        """An event about the number arrived at ``at``: its board entry's ``last_event_at`` becomes ``at`` unless it
        is later already (one atomic update; ``save_status`` never touches it). False (nothing written) when the
        number has no board entry yet."""

    def webhook_seen(self, key: str, *, integration_id: str | None, at: float, keep_s: float) -> bool:
        """True the first time ``key`` is seen within ``keep_s`` seconds before ``at`` (then it is remembered);
        False for a replay. Atomic across processes: of two replicas seeing one event at once, one gets True."""

    def webhook_unseen(self, key: str) -> None:
        """Forget ``key`` (the event's handling failed after :meth:`webhook_seen`: the platform's retry is taken)."""

    def save_test_message(self, record: DeliveryRecord) -> None:
        """Keep a test message the platform accepted (one with the same number and message id stays as it is)."""

    def advance_test_message(self, integration_id: str, message_id: str, *, status: str, at: float,
                             detail: str | None = None) -> bool:
        """A delivery update: the message moves to ``status`` only forward (``wpp.models.DELIVERY_STEPS``); False
        when it is unknown or already that far. ``detail`` is scrubbed before it is stored."""

    def test_messages(self, integration_id: str, *, limit: int = 10,
                      message_id: str | None = None) -> list[DeliveryRecord]:
        """A number's test messages, newest first (or the one with ``message_id``)."""

    def add_webhook_counts(self, counts: Iterable[WebhookCount]) -> None:
        """Add these counts (``n`` added up, ``last_at`` the latest), atomically."""

    def webhook_counts(self) -> list[WebhookCount]:
        """Every count of pushes, per number and in total (scope ``"*"``)."""

    # --- kept in bounds (see wpp/store/retention.py) ---------------------------------------------------------------
    def prune(self, name: str, *, before: float, limit: int = 500) -> int:
        """Delete at most ``limit`` of the oldest rows of table ``name`` (``wpp.store.retention.PRUNABLE``: status_history,
        activity, test_messages, webhook_seen, ...) older than ``before`` (Unix seconds); returns how many."""


__all__ = ["IntegrationStore", "MemberTable", "OrgTable"]
