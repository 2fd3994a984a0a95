"""Production backend: the real ``messenger_integrations`` table through supabase-py (PostgREST).

Writes that must be atomic go through the SQL functions of ``supabase/migrations/*_wpp_console.sql``,
called with ``.rpc()``:

- ``wpp_merge_settings(p_id, p_patch)``: one UPDATE merging the patch into ``settings`` (never the seeds'
  ``{...settings, wppJwtToken}`` read-modify-write that loses a concurrent change),
- ``wpp_create_integration`` / ``wpp_deactivate_integration``: the primary rule needs a transaction.

Installations name the on/off column ``is_active``, ``is_enabled`` or have both: reads detect it from the
row's keys (``flag_columns`` after the first read), the SQL functions write whichever exist.

Every supabase / postgrest / httpx failure becomes a ``StoreError`` in words; the key is never in it.
"""
from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from ..errors import IntegrationNotFound, StoreError
from ..masking import mask
from ..models import ActivityEntry, Integration
from ._common import (
    MESSENGER_TYPE,
    PROVIDER,
    SecretMemory,
    activity_from_row,
    canonical_uuid,
    check_limit,
    check_patch,
    clean_name,
    flags_of,
    guard,
    initial_settings,
    integration_uuid,
    learn_secrets,
    now_iso,
    organization_uuid,
    ref_id,
    row_to_integration,
    scrub_stored,
    to_utc_iso,
)

TABLE = "messenger_integrations"
ACTIVITY_TABLE = "wpp_console_activity"
PAGE = 1000  # Supabase's default max-rows; longer lists are read page by page
TIMEOUT_S = 20.0

_MIGRATION_ACTION = (
    "Apply the WPP Console migration (supabase/migrations/*_wpp_console.sql) to this Supabase project, "
    "e.g. with `supabase db push`, then try again."
)
_KEY_ACTION = (
    "Check the Supabase URL and service-role key in Settings: the key may have expired, been rotated, "
    "or belong to another project."
)
_AUTH_CODES = {"PGRST300", "PGRST301", "PGRST302", "PGRST303", "401", "403", "42501"}
_MISSING_FUNCTION = {"PGRST202", "42883"}
_MISSING_TABLE = {"PGRST205", "PGRST204", "42P01", "42703"}
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


def _guard(what: str):
    """Every failure of a Supabase call (supabase, postgrest's APIError, httpx, pydantic, JSON: all of them)
    becomes a StoreError that says what was being done."""
    return guard(lambda: Exception, what)


class SupabaseStore:
    """``IntegrationStore`` on Supabase (see the module docstring)."""

    def __init__(self, url: str, key: str, *, client: Any = None):
        url = (url or "").strip().rstrip("/")
        key = (key or "").strip()
        if not url or not key:
            raise StoreError("Supabase needs both a URL and a key.", action="Fill in SUPABASE_URL and SUPABASE_KEY.")
        self._url = url
        self._key = key
        self.description = f"Supabase {_host(url)} (key {mask(key)})"
        self._secrets = SecretMemory()
        self._flags: tuple[str, ...] | None = None
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
                f"Supabase at {_host(self._url)} cannot be used with these settings.",
                action="Check that the Supabase URL starts with https:// and that the key is complete.",
                detail=f"{type(e).__name__}: {e}",
                secrets=[self._key],
            ) from None

    def close(self) -> None:
        try:
            self._client.postgrest.aclose()
        except Exception:
            pass

    # --- errors -----------------------------------------------------------------------------
    def _error(self, e: Exception, what: str) -> StoreError:
        import httpx
        from postgrest.exceptions import APIError

        secrets = {self._key} | self._secrets.all()
        host = _host(self._url)
        if isinstance(e, APIError):
            code = str(e.code or "").upper()
            message = (e.message or "").strip()
            parts = [f"code {code}" if code else "", message, str(e.hint or ""), _squash(e.details)]
            detail = " | ".join(p for p in parts if p)
            if code == "P0002":
                return IntegrationNotFound(detail=detail, secrets=secrets)
            if code in _AUTH_CODES or "jwt" in message.lower():
                reason = f" ({message})" if message else ""
                return StoreError(f"Supabase did not accept the key while {what}{reason}.", action=_KEY_ACTION,
                                  status=_status(code, 401), detail=detail, secrets=secrets)
            if code in _MISSING_FUNCTION:
                return StoreError(f"Supabase is missing a WPP Console database function while {what}.",
                                  action=_MIGRATION_ACTION, status=_status(code, 404), detail=detail, secrets=secrets)
            if code in _MISSING_TABLE:
                return StoreError(f"Supabase is missing a WPP Console table or column while {what}.",
                                  action=_MIGRATION_ACTION, status=_status(code, 404), detail=detail, secrets=secrets)
            if code.isdigit():  # not a PostgREST answer: a proxy's or gateway's page (HTML, empty, ...)
                status = int(code)
                words = f"HTTP {status}" + (f" {message}" if message else "")
                if status >= 500:
                    return StoreError(f"Supabase at {host} had a problem while {what} ({words}).",
                                      action="Try again in a minute. If it keeps happening, check the Supabase status page.",
                                      status=status, detail=detail, secrets=secrets)
                return StoreError(f"Supabase at {host} refused the request while {what} ({words}).",
                                  status=status, detail=detail, secrets=secrets)
            return StoreError(f"Supabase refused the request while {what}: {message or code or 'no reason given'}.",
                              detail=detail, secrets=secrets)
        if isinstance(e, httpx.TimeoutException):
            return StoreError(f"Supabase at {host} did not answer in time while {what}.",
                              action="Check the internet connection, then try again.",
                              detail=type(e).__name__, secrets=secrets)
        if isinstance(e, httpx.HTTPError):
            return StoreError(f"Supabase at {host} cannot be reached while {what}.",
                              action="Check the internet connection and the Supabase URL in Settings, then try again.",
                              detail=f"{type(e).__name__}: {e}", secrets=secrets)
        return StoreError(f"Supabase sent an answer that could not be read while {what}.",
                          detail=f"{type(e).__name__}: {e}", secrets=secrets)

    # --- rows ----------------------------------------------------------------------------------
    def _integration(self, row: Any) -> Integration:
        if isinstance(row, list):
            row = row[0] if row else None
        if not isinstance(row, dict) or row.get("id") is None:
            raise IntegrationNotFound()
        if self._flags is None:
            self._flags = flags_of(row)
        return self._secrets.remember(row_to_integration(row))

    def _wpp_rows(self):
        return self._client.table(TABLE).select("*").eq("messenger_type", MESSENGER_TYPE).eq("provider", PROVIDER)

    # --- reads ---------------------------------------------------------------------------------
    @_guard("reading the list of numbers")
    def list_integrations(self, organization_id: str | None = None, *, include_inactive: bool = False) -> list[Integration]:
        org = None
        if organization_id is not None:
            org = canonical_uuid(organization_id)
            if org is None:
                return []
        rows: list[dict] = []
        while True:
            q = self._wpp_rows()
            if org is not None:
                q = q.eq("organization_id", org)
            page = q.order("created_at").order("id").range(len(rows), len(rows) + PAGE - 1).execute().data or []
            rows.extend(page)
            if len(page) < PAGE:
                break
        out = [self._integration(r) for r in rows]
        return out if include_inactive else [i for i in out if i.is_active]

    @_guard("reading a number")
    def get(self, integration_id: str) -> Integration:
        iid = integration_uuid(integration_id)
        return self._integration(self._wpp_rows().eq("id", iid).execute().data)

    # --- writes --------------------------------------------------------------------------------
    @_guard("adding a number")
    def create(self, organization_id: str, name: str | None = None, settings: dict | None = None) -> Integration:
        res = self._client.rpc("wpp_create_integration", {
            "p_organization_id": organization_uuid(organization_id),
            "p_name": clean_name(name),
            "p_settings": initial_settings(settings),
        }).execute()
        return self._integration(res.data)

    @_guard("saving the number's settings")
    def merge_settings(self, integration_id: str, patch: dict) -> Integration:
        iid = integration_uuid(integration_id)
        patch = check_patch(patch)
        res = self._client.rpc("wpp_merge_settings", {"p_id": iid, "p_patch": patch}).execute()
        return self._integration(res.data)

    @_guard("saving the number")
    def update(self, integration_id: str, *, name: str | None = None, last_error: str | None = None,
               clear_error: bool = False) -> Integration:
        iid = integration_uuid(integration_id)
        values: dict[str, Any] = {}
        if name is not None:
            values["name"] = clean_name(name)
        if last_error is not None:
            values["last_error"] = scrub_stored(last_error, {self._key} | self._secrets.all())
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

    @_guard("switching the number off")
    def deactivate(self, integration_id: str) -> Integration:
        iid = integration_uuid(integration_id)
        res = self._client.rpc("wpp_deactivate_integration", {"p_id": iid}).execute()
        return self._integration(res.data)

    # --- activity log --------------------------------------------------------------------------
    @_guard("writing the activity log")
    def log_activity(self, entry: ActivityEntry) -> ActivityEntry:
        iid, org = ref_id(entry.integration_id), ref_id(entry.organization_id)
        learn_secrets(self, iid)
        row: dict[str, Any] = {
            "actor": entry.actor or "",
            "action": entry.action,
            "outcome": entry.outcome,
            "integration_id": iid,
            "organization_id": org,
            "detail": scrub_stored(entry.detail or "", {self._key} | self._secrets.all()) or "",
        }
        at = to_utc_iso(entry.at)
        if at is not None:
            row["at"] = at  # otherwise the database's now()
        data = self._client.table(ACTIVITY_TABLE).insert(row).execute().data
        data = data[0] if isinstance(data, list) and data else data
        if not isinstance(data, dict):
            raise StoreError("Supabase did not confirm the activity log line.")
        return activity_from_row(data)

    @_guard("reading the activity log")
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


def _status(code: str, default: int) -> int:
    return int(code) if code.isdigit() and len(code) == 3 else default


__all__ = ["SupabaseStore"]
