"""Production backend: the real ``messenger_integrations`` table through supabase-py (PostgREST).

Writes that must be atomic go through the SQL functions of ``supabase/migrations/*_wpp_console*.sql``,
called with ``.rpc()``:

- ``wpp_merge_settings(p_id, p_patch)``: one UPDATE merging the patch into ``settings`` (never the seeds'
  ``{...settings, wppJwtToken}`` read-modify-write that loses a concurrent change),
- ``wpp_create_integration`` / ``wpp_deactivate_integration`` / ``wpp_reactivate_integration``: the primary rule
  needs a transaction,
- ``wpp_redeem_sign_in_ticket``: a sign-in's ticket is used once,
- ``wpp_console_secret``: a shared secret made once, whoever asks first,
- ``wpp_save_status_if_newer``: a board entry and its history line in one transaction, only when the stored entry is
  not newer (compare-and-set on ``observed_at``: the newest observation wins); ``wpp_add_status_history``: a late
  report kept in the history,
- ``wpp_watch_status``: a pairing panel's heartbeat on a board entry (and its next check brought forward),
- ``wpp_try_lease``: a lease taken by exactly one holder (also the token-mint lock, as a lease ``mint:<id>``).
- ``wpp_note_status_event``, ``wpp_webhook_seen``, ``wpp_webhook_unseen``, ``wpp_advance_test_message``,
  ``wpp_add_webhook_counts``: status pushed by the platform (``wpp/store/webhooks.py``);
- ``wpp_prune_<table>``: old records deleted in small batches (``wpp/store/retention.py``).

Installations name the on/off column ``is_active``, ``is_enabled`` or have both: reads detect it from the
row's keys (``flag_columns`` after the first read), the SQL functions write whichever exist.

Organisation names: the school platform's table (:class:`OrgTable`) is read through PostgREST; when PostgREST says
there is no such table (``PGRST205`` / ``42P01``) the console's own table is used, and that answer is remembered
for a few minutes.

Memberships: the school platform's table of who belongs to which school with which role (:class:`MemberTable`) is
read through PostgREST for one user at a time; a configured table PostgREST cannot read (no such table or column,
no permission) is a StoreError, so sign-ins through it fail closed.

Every supabase / postgrest / httpx failure becomes a ``StoreError`` in words; the key is never in it.
"""
from __future__ import annotations

import logging
import re
import threading
import time
from contextlib import AbstractContextManager
from typing import Any, Callable, Iterable
from urllib.parse import urlsplit

from ..errors import IntegrationNotFound, StoreError
from ..i18n import N_, Text
from ..masking import mask
from ..models import ActivityEntry, Integration, Organization, SignInSession, StatusChange, StatusRecord
from .alerts import SupabaseAlerts
from .proof import SupabaseProof
from .retention import SupabaseRetention
from .webhooks import SupabaseWebhooks
from .base import MemberTable, OrgTable
from ._common import (
    MESSENGER_TYPE,
    PROVIDER,
    SecretMemory,
    activity_from_row,
    canonical_uuid,
    check_hash,
    check_lease,
    check_limit,
    check_patch,
    check_secret_value,
    clean_name,
    duplicate_sign_in,
    flags_of,
    guard,
    initial_settings,
    integration_uuid,
    learn_secrets,
    lease_mint_lock,
    now_iso,
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

log = logging.getLogger("wpp.store.supabase")

TABLE = "messenger_integrations"
ACTIVITY_TABLE = "wpp_console_activity"
ORG_TABLE = "wpp_console_organizations"
SESSIONS_TABLE = "wpp_console_sessions"
STATUS_TABLE = "wpp_console_status"
HISTORY_TABLE = "wpp_console_status_history"
LEASES_TABLE = "wpp_console_leases"
PAGE = 1000  # Supabase's default max-rows; longer lists are read page by page
IN_CHUNK = 100  # ids per "in.(...)" filter: keeps the request's address well under any proxy's limit
TIMEOUT_S = 20.0
#: how long "the school platform has no organisations table" is believed before asking again
ORG_TABLE_RECHECK_S = 300.0

_MIGRATION_ACTION = N_(
    "Apply the WPP Console migrations (supabase/migrations/*_wpp_console*.sql) to this Supabase project, "
    "e.g. with `supabase db push`, then try again."
)
_KEY_ACTION = N_(
    "Check the Supabase URL and service-role key in Settings: the key may have expired, been rotated, "
    "or belong to another project."
)
_AUTH_CODES = {"PGRST300", "PGRST301", "PGRST302", "PGRST303", "401", "403", "42501"}
_MISSING_FUNCTION = {"PGRST202", "42883"}
_MISSING_TABLE = {"PGRST205", "PGRST204", "42P01", "42703"}
#: answers to a read of the platform's organisations table that mean "there is no such table here"
_NO_ORG_TABLE = {"PGRST205", "42P01", "PGRST106"}
#: answers to a read of the platform's membership table that mean "this table cannot be read as configured"
_UNREADABLE_MEMBER_TABLE = _NO_ORG_TABLE | {"42703", "PGRST204", "PGRST200", "PGRST100", "42501"}
#: "invalid input syntax" for the user column's type (e.g. a uuid column and a user id that is no uuid): no row
_BAD_VALUE = {"22P02"}
_TAG_RE = re.compile(r"<[^>]+>")


def _host(url: str) -> str:
    try:
        return urlsplit(url).hostname or url
    except ValueError:
        return url


def _squash(text: Any, limit: int = 600) -> str:
    """A response body for the detail expander: tags out, whitespace folded, cut."""
    if text is None:
        return ""
    s = " ".join(_TAG_RE.sub(" ", str(text)).split())
    return s if len(s) <= limit else s[:limit] + "…"


def _guard(what: Text):
    """Every failure of a Supabase call (supabase, postgrest's APIError, httpx, pydantic, JSON: all of them)
    becomes a StoreError that says what was being done."""
    return guard(lambda: Exception, what)


def _num(value: float) -> str:
    """A number for a PostgREST filter (``lt.1732435200.5``)."""
    return repr(float(value))


def _first(data: Any) -> dict | None:
    if isinstance(data, list):
        data = data[0] if data else None
    return data if isinstance(data, dict) else None


def _api_code(e: Exception) -> str:
    return str(getattr(e, "code", "") or "").upper()


class SupabaseStore(SupabaseAlerts, SupabaseWebhooks, SupabaseProof, SupabaseRetention):
    """``IntegrationStore`` on Supabase (see the module docstring)."""

    def __init__(self, url: str, key: str, *, client: Any = None, org_table: OrgTable | None = OrgTable(),
                 member_table: MemberTable | None = None):
        url = (url or "").strip().rstrip("/")
        key = (key or "").strip()
        if not url or not key:
            raise StoreError(N_("Supabase needs both a URL and a key."),
                             action=N_("Fill in SUPABASE_URL and SUPABASE_KEY."))
        self._org_source = check_org_table(org_table)
        self._member_source = check_member_table(member_table)
        self._url = url
        self._key = key
        place = f"{_host(url)} (key {mask(key)})"
        self.description = f"Supabase {place}"
        self.described_as = N_("Supabase: {where}", where=place)
        self._secrets = SecretMemory()
        self._flags: tuple[str, ...] | None = None
        self._org_table_missing_until = 0.0
        self._org_lock = threading.Lock()
        self._client = client if client is not None else self._make_client()

    def __repr__(self) -> str:
        return f"SupabaseStore({self.description!r})"

    @property
    def flag_columns(self) -> tuple[str, ...] | None:
        """``("is_active",)``, ``("is_enabled",)`` or both, as seen on the first row read (None before)."""
        return self._flags

    def _make_client(self):
        try:
            import httpx
            from supabase import ClientOptions, create_client

            http = httpx.Client(timeout=httpx.Timeout(TIMEOUT_S, connect=10.0), follow_redirects=True)
            # No automatic retries: postgrest-py would retry a GET up to 3 times with 1+2+4 s pauses (plus a
            # connect timeout each), leaving a staff member in front of a spinner for most of a minute. One try,
            # then a clear message with "try again" is the better deal for an interactive tool.
            options = ClientOptions(httpx_client=http, auto_refresh_token=False, persist_session=False,
                                    postgrest_client_retry=False)
            return create_client(self._url, self._key, options=options)
        except Exception as e:
            raise StoreError(
                N_("Supabase at {host} cannot be used with these settings.", host=_host(self._url)),
                action=N_("Check that the Supabase URL starts with https:// and that the key is complete."),
                detail=f"{type(e).__name__}: {e}",
                secrets=[self._key],
            ) from None

    def close(self) -> None:
        try:
            self._client.postgrest.aclose()
        except Exception:
            pass

    def _known_secrets(self) -> set[str]:
        return {self._key} | self._secrets.all()

    # --- errors -----------------------------------------------------------------------------
    def _error(self, e: Exception, what: Text) -> StoreError:
        import httpx
        from postgrest.exceptions import APIError

        secrets = self._known_secrets()
        host = _host(self._url)
        if isinstance(e, APIError):
            code = _api_code(e)
            message = (e.message or "").strip()
            parts = [f"code {code}" if code else "", message, str(e.hint or ""), _squash(e.details)]
            detail = " | ".join(p for p in parts if p)
            if code == "P0002":
                return IntegrationNotFound(detail=detail, secrets=secrets)
            if code in _AUTH_CODES or "jwt" in message.lower():
                text = (N_("{what}: Supabase did not accept the key ({reason}).", what=what, reason=message)
                        if message else N_("{what}: Supabase did not accept the key.", what=what))
                return StoreError(text, action=_KEY_ACTION, status=_status(code, 401), detail=detail, secrets=secrets)
            if code in _MISSING_FUNCTION:
                return StoreError(N_("{what}: Supabase is missing a WPP Console database function.", what=what),
                                  action=_MIGRATION_ACTION, status=_status(code, 404), detail=detail, secrets=secrets)
            if code in _MISSING_TABLE:
                return StoreError(N_("{what}: Supabase is missing a WPP Console table or column.", what=what),
                                  action=_MIGRATION_ACTION, status=_status(code, 404), detail=detail, secrets=secrets)
            if code.isdigit():  # not a PostgREST answer: a proxy's or gateway's page (HTML, empty, ...)
                status = int(code)
                words = f"HTTP {status}" + (f" {message}" if message else "")
                if status >= 500:
                    return StoreError(N_("{what}: Supabase at {host} had a problem ({words}).",
                                         what=what, host=host, words=words),
                                      action=N_("Try again in a minute. If it keeps happening, check the Supabase "
                                                "status page."),
                                      status=status, detail=detail, secrets=secrets)
                return StoreError(N_("{what}: Supabase at {host} refused the request ({words}).",
                                     what=what, host=host, words=words),
                                  status=status, detail=detail, secrets=secrets)
            return StoreError(N_("{what}: Supabase refused the request: {reason}.",
                                 what=what, reason=message or code or N_("no reason given")),
                              detail=detail, secrets=secrets)
        if isinstance(e, httpx.TimeoutException):
            return StoreError(N_("{what}: Supabase at {host} did not answer in time.", what=what, host=host),
                              action=N_("Check the internet connection, then try again."),
                              detail=type(e).__name__, secrets=secrets)
        if isinstance(e, httpx.HTTPError):
            return StoreError(N_("{what}: Supabase at {host} cannot be reached.", what=what, host=host),
                              action=N_("Check the internet connection and the Supabase URL in Settings, then try "
                                        "again."),
                              detail=f"{type(e).__name__}: {e}", secrets=secrets)
        return StoreError(N_("{what}: Supabase sent an answer that could not be read.", what=what),
                          detail=f"{type(e).__name__}: {e}", secrets=secrets)

    # --- rows ----------------------------------------------------------------------------------
    def _integration(self, row: Any) -> Integration:
        row = _first(row)
        if row is None or row.get("id") is None:
            raise IntegrationNotFound()
        if self._flags is None:
            self._flags = flags_of(row)
        return self._secrets.remember(row_to_integration(row))

    def _wpp_rows(self):
        return self._client.table(TABLE).select("*").eq("messenger_type", MESSENGER_TYPE).eq("provider", PROVIDER)

    @staticmethod
    def _all_pages(query: Callable[[], Any]) -> list[dict]:
        """Every row of ``query()`` (a select with its order), read page by page."""
        rows: list[dict] = []
        while True:
            page = query().range(len(rows), len(rows) + PAGE - 1).execute().data or []
            rows.extend(page)
            if len(page) < PAGE:
                return rows

    # --- reads ---------------------------------------------------------------------------------
    @_guard(N_("Reading the list of numbers"))
    def list_integrations(self, organization_id: str | None = None, *, include_inactive: bool = False) -> list[Integration]:
        org = None
        if organization_id is not None:
            org = canonical_uuid(organization_id)
            if org is None:
                return []

        def query():
            q = self._wpp_rows()
            if org is not None:
                q = q.eq("organization_id", org)
            return q.order("created_at").order("id")

        out = [self._integration(r) for r in self._all_pages(query)]
        return out if include_inactive else [i for i in out if i.is_active]

    @_guard(N_("Reading a number"))
    def get(self, integration_id: str) -> Integration:
        iid = integration_uuid(integration_id)
        return self._integration(self._wpp_rows().eq("id", iid).execute().data)

    # --- writes --------------------------------------------------------------------------------
    @_guard(N_("Adding a number"))
    def create(self, organization_id: str, name: str | None = None, settings: dict | None = None) -> Integration:
        res = self._client.rpc("wpp_create_integration", {
            "p_organization_id": organization_uuid(organization_id),
            "p_name": clean_name(name),
            "p_settings": initial_settings(settings),
        }).execute()
        return self._integration(res.data)

    @_guard(N_("Saving the number's settings"))
    def merge_settings(self, integration_id: str, patch: dict) -> Integration:
        iid = integration_uuid(integration_id)
        patch = check_patch(patch)
        res = self._client.rpc("wpp_merge_settings", {"p_id": iid, "p_patch": patch}).execute()
        return self._integration(res.data)

    @_guard(N_("Saving the number"))
    def update(self, integration_id: str, *, name: str | None = None, last_error: str | None = None,
               clear_error: bool = False) -> Integration:
        iid = integration_uuid(integration_id)
        values: dict[str, Any] = {}
        if name is not None:
            values["name"] = clean_name(name)
        if last_error is not None:
            values["last_error"] = scrub_stored(last_error, self._known_secrets())
            values["last_error_at"] = now_iso()
        elif clear_error:
            values["last_error"] = None
            values["last_error_at"] = None
        if not values:
            return self.get(iid)
        values["updated_at"] = now_iso()
        res = (self._client.table(TABLE).update(values).eq("id", iid)
               .eq("messenger_type", MESSENGER_TYPE).eq("provider", PROVIDER).execute())
        return self._integration(res.data)

    @_guard(N_("Removing the number from the list"))
    def deactivate(self, integration_id: str) -> Integration:
        iid = integration_uuid(integration_id)
        res = self._client.rpc("wpp_deactivate_integration", {"p_id": iid}).execute()
        return self._integration(res.data)

    @_guard(N_("Restoring the number to the list"))
    def reactivate(self, integration_id: str) -> Integration:
        iid = integration_uuid(integration_id)
        res = self._client.rpc("wpp_reactivate_integration", {"p_id": iid}).execute()
        return self._integration(res.data)

    # --- activity log --------------------------------------------------------------------------
    @_guard(N_("Writing the activity log"))
    def log_activity(self, entry: ActivityEntry) -> ActivityEntry:
        iid, org = ref_id(entry.integration_id), ref_id(entry.organization_id)
        learn_secrets(self, iid)
        known = self._known_secrets()
        row: dict[str, Any] = {
            "actor": entry.actor or "",
            "action": entry.action,
            "outcome": entry.outcome,
            "integration_id": iid,
            "organization_id": org,
            "detail": scrub_stored(entry.detail or "", known) or "",
        }
        message = stored_message(entry.message, known)
        if message is not None:
            row["message"] = message  # only when there is one: a line without keeps working before the migration
        at = to_utc_iso(entry.at)
        if at is not None:
            row["at"] = at  # otherwise the database's now()
        data = _first(self._client.table(ACTIVITY_TABLE).insert(row).execute().data)
        if data is None:
            raise StoreError(N_("Supabase did not confirm the activity log line."))
        return activity_from_row(data)

    @_guard(N_("Reading the activity log"))
    def list_activity(self, *, limit: int = 500, integration_id: str | None = None,
                      organization_id: str | None = None) -> list[ActivityEntry]:
        n = check_limit(limit)
        if n == 0:
            return []
        q = self._client.table(ACTIVITY_TABLE).select("*")
        if integration_id is not None:
            q = q.eq("integration_id", ref_id(integration_id))
        if organization_id is not None:
            q = q.eq("organization_id", ref_id(organization_id))
        data = q.order("at", desc=True).order("id", desc=True).limit(n).execute().data or []
        return [activity_from_row(r) for r in data]

    # --- organisations --------------------------------------------------------------------------
    def _platform_orgs(self) -> list[tuple] | None:
        """The platform table's (id, name) rows, or None when PostgREST knows no such table (remembered for
        ``ORG_TABLE_RECHECK_S``)."""
        from postgrest.exceptions import APIError

        src = self._org_source
        if src is None:
            return None
        with self._org_lock:
            if time.monotonic() < self._org_table_missing_until:
                return None
        api = self._client.schema(src.schema) if src.schema else self._client
        columns = f"id:{src.id_column},name:{src.name_column}"
        try:
            rows = self._all_pages(lambda: api.from_(src.table).select(columns).order(src.id_column))
        except APIError as e:
            code = _api_code(e)
            if code in _NO_ORG_TABLE:
                with self._org_lock:
                    self._org_table_missing_until = time.monotonic() + ORG_TABLE_RECHECK_S
                log.info("no organisations table %s on Supabase (%s): using the console's own", src.display, code)
                return None
            if code in ("42703", "PGRST204", "42501", "PGRST100"):
                raise StoreError(
                    N_("The school platform's table of organisations ({table}) cannot be read.", table=src.display),
                    action=N_("Check WPP_ORG_TABLE, WPP_ORG_ID_COLUMN and WPP_ORG_NAME_COLUMN in Settings, and that "
                              "the database user may read that table."),
                    detail=" | ".join(p for p in (f"code {code}", (e.message or "").strip(), _squash(e.details)) if p),
                    secrets=self._known_secrets(),
                ) from None
            raise
        with self._org_lock:
            self._org_table_missing_until = 0.0
        return [(r.get("id"), r.get("name")) for r in rows]

    @_guard(N_("Reading the list of organisations"))
    def list_organizations(self) -> list[Organization]:
        platform = self._platform_orgs()
        console = self._all_pages(lambda: self._client.table(ORG_TABLE).select("id,name").order("id"))
        return merge_organizations(platform, [(r.get("id"), r.get("name")) for r in console])

    # --- memberships --------------------------------------------------------------------------------
    @_guard(N_("Reading the school platform's memberships"))
    def list_memberships(self, user_id: str) -> list[tuple[str, str]]:
        from postgrest.exceptions import APIError

        src = self._member_source
        if src is None:
            return []
        uid = member_user_id(user_id)
        if uid is None:
            return []
        api = self._client.schema(src.schema) if src.schema else self._client
        columns = f"org:{src.org_column},role:{src.role_column}"
        try:
            rows = self._all_pages(lambda: api.from_(src.table).select(columns).eq(src.user_column, uid)
                                   .order(src.org_column))
        except APIError as e:
            code = _api_code(e)
            if code in _BAD_VALUE:
                return []
            if code in _UNREADABLE_MEMBER_TABLE:
                raise unreadable_member_table(
                    src.display,
                    " | ".join(p for p in (f"code {code}", (e.message or "").strip(), _squash(e.details)) if p),
                    self._known_secrets()) from None
            raise
        return membership_rows((r.get("org"), r.get("role")) for r in rows if isinstance(r, dict))

    @_guard(N_("Saving an organisation"))
    def add_organization(self, name: str, organization_id: str | None = None, *,
                         only_new: bool = False) -> Organization:
        text, oid = org_name(name), org_id_for_add(organization_id)
        from postgrest.types import ReturnMethod

        # only_new: "Prefer: resolution=ignore-duplicates" (INSERT ... ON CONFLICT DO NOTHING), then the stored name
        self._client.table(ORG_TABLE).upsert({"id": oid, "name": text, "updated_at": now_iso()},
                                             on_conflict="id", ignore_duplicates=only_new,
                                             returning=ReturnMethod.minimal).execute()
        if only_new:
            found = self._client.table(ORG_TABLE).select("name").eq("id", oid).limit(1).execute().data or []
            if found and found[0].get("name"):
                text = str(found[0]["name"])
        return Organization(id=oid, name=text, source="console")

    # --- lasting sign-ins ---------------------------------------------------------------------
    @_guard(N_("Saving a sign-in"))
    def create_sign_in_session(self, session: SignInSession) -> None:
        from postgrest.exceptions import APIError
        from postgrest.types import ReturnMethod

        values = session_values(session)
        try:
            self._client.table(SESSIONS_TABLE).insert(values, returning=ReturnMethod.minimal).execute()
        except APIError as e:
            if _api_code(e) == "23505":
                raise duplicate_sign_in(f"code 23505 | {(e.message or '').strip()}") from None
            raise

    @_guard(N_("Checking a sign-in"))
    def redeem_sign_in_ticket(self, ticket_hash: str, id_hash: str, *, now: float) -> SignInSession | None:
        from postgrest.exceptions import APIError

        ticket_hash, id_hash = check_hash(ticket_hash, "ticket_hash"), check_hash(id_hash, "id_hash")
        try:
            res = self._client.rpc("wpp_redeem_sign_in_ticket", {
                "p_ticket_hash": ticket_hash, "p_id_hash": id_hash, "p_now": float(now)}).execute()
        except APIError as e:
            if _api_code(e) == "23505":
                raise duplicate_sign_in(f"code 23505 | {(e.message or '').strip()}") from None
            raise
        return session_from_row(_first(res.data))

    @_guard(N_("Checking a sign-in"))
    def get_sign_in_session(self, *, key: str | None = None, id_hash: str | None = None) -> SignInSession | None:
        column, value = one_lookup(key, id_hash)
        res = self._client.table(SESSIONS_TABLE).select("*").eq(column, value).limit(1).execute()
        return session_from_row(_first(res.data))

    @_guard(N_("Saving a sign-in"))
    def touch_sign_in_session(self, key: str, *, last_seen_at: float, expires_at: float | None = None) -> None:
        from postgrest.types import ReturnMethod

        values: dict[str, Any] = {"last_seen_at": float(last_seen_at)}
        if expires_at is not None:
            values["expires_at"] = float(expires_at)
        self._client.table(SESSIONS_TABLE).update(values, returning=ReturnMethod.minimal).eq("key", str(key)).execute()

    @_guard(N_("Ending a sign-in"))
    def revoke_sign_in_session(self, key: str, *, at: float) -> None:
        from postgrest.types import ReturnMethod

        (self._client.table(SESSIONS_TABLE)
         .update({"revoked_at": float(at), "ticket_hash": None, "ticket_expires_at": None},
                 returning=ReturnMethod.minimal)
         .eq("key", str(key)).is_("revoked_at", "null").execute())

    @_guard(N_("Removing old sign-ins"))
    def purge_sign_in_sessions(self, *, before: float) -> int:
        from postgrest.types import CountMethod, ReturnMethod

        t = _num(before)
        res = (self._client.table(SESSIONS_TABLE)
               .delete(count=CountMethod.exact, returning=ReturnMethod.minimal)
               .or_(f"expires_at.lt.{t},revoked_at.lt.{t}").execute())
        return int(res.count or 0)

    # --- secrets every replica shares ---------------------------------------------------------
    @_guard(N_("Reading a shared secret"))
    def console_secret(self, name: str) -> str:
        res = self._client.rpc("wpp_console_secret", {"p_name": secret_name(name)}).execute()
        return check_secret_value(res.data)

    # --- the shared status board ---------------------------------------------------------------
    @_guard(N_("Saving a number's status"))
    def save_status(self, record: StatusRecord, change: StatusChange | None = None) -> bool:
        known = self._known_secrets()
        values = status_values(record, known)
        hist = change_values(change, known) if change is not None else None
        res = self._client.rpc("wpp_save_status_if_newer", {"p_record": values, "p_change": hist}).execute()
        if not isinstance(res.data, bool):  # -> "... sent an answer that could not be read"
            raise ValueError(f"wpp_save_status_if_newer answered {str(res.data)[:80]!r}")
        return res.data

    @_guard(N_("Saving a number's status"))
    def add_status_history(self, change: StatusChange) -> None:
        hist = change_values(change, self._known_secrets())
        self._client.rpc("wpp_add_status_history", {"p_change": hist}).execute()

    @_guard(N_("Reading the numbers' status"))
    def load_statuses(self, integration_ids: Iterable[str] | None = None) -> dict[str, StatusRecord]:
        ids = status_ids(integration_ids)
        if ids is None:
            rows = self._all_pages(lambda: self._client.table(STATUS_TABLE).select("*").order("integration_id"))
        else:
            rows = []
            for n in range(0, len(ids), IN_CHUNK):
                chunk = ids[n:n + IN_CHUNK]
                rows += self._client.table(STATUS_TABLE).select("*").in_("integration_id", chunk).execute().data or []
        return {str(r["integration_id"]): status_from_row(r) for r in rows}

    @_guard(N_("Reading a number's history"))
    def status_history(self, integration_id: str, *, limit: int = 50) -> list[StatusChange]:
        n = check_limit(limit)
        if n == 0:
            return []
        data = (self._client.table(HISTORY_TABLE).select("*").eq("integration_id", ref_id(integration_id))
                .order("at", desc=True).order("id", desc=True).limit(n).execute().data or [])
        return [change_from_row(r) for r in data]

    @_guard(N_("Saving a number's status"))
    def watch_status(self, integration_id: str, *, until: float, check_by: float | None = None) -> bool:
        iid, until, check_by = watch_args(integration_id, until, check_by)
        res = self._client.rpc("wpp_watch_status", {"p_id": iid, "p_until": until, "p_check_by": check_by}).execute()
        if not isinstance(res.data, bool):  # -> "... sent an answer that could not be read"
            raise ValueError(f"wpp_watch_status answered {str(res.data)[:80]!r}")
        return res.data

    # --- leases and the token-mint lock ----------------------------------------------------------
    @_guard(N_("Taking a lease"))
    def try_lease(self, name: str, holder: str, *, ttl_s: float, now: float) -> bool:
        name, holder = check_lease(name, holder)
        res = self._client.rpc("wpp_try_lease", {
            "p_name": name, "p_holder": holder, "p_ttl_s": float(ttl_s), "p_now": float(now)}).execute()
        if not isinstance(res.data, bool):  # -> "... sent an answer that could not be read"
            raise ValueError(f"wpp_try_lease answered {str(res.data)[:80]!r}")
        return res.data

    @_guard(N_("Giving a lease up"))
    def release_lease(self, name: str, holder: str) -> None:
        from postgrest.types import ReturnMethod

        name, holder = check_lease(name, holder)
        (self._client.table(LEASES_TABLE).delete(returning=ReturnMethod.minimal)
         .eq("name", name).eq("holder", holder).execute())

    @_guard(N_("Reading a lease"))
    def lease_holder(self, name: str, *, now: float) -> str | None:
        res = (self._client.table(LEASES_TABLE).select("holder").eq("name", str(name))
               .gt("expires_at", _num(now)).limit(1).execute())
        row = _first(res.data)
        return None if row is None else str(row.get("holder"))

    def token_mint_lock(self, integration_id: str, *, timeout_s: float = 30.0) -> AbstractContextManager[None]:
        return lease_mint_lock(self, integration_id, timeout_s)


def _status(code: str, default: int) -> int:
    return int(code) if code.isdigit() and len(code) == 3 else default


__all__ = ["SupabaseStore"]
