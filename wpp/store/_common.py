"""Pieces every backend shares: UTC timestamps, id checks, row -> Integration, scrubbing of what is stored.

Kept here so the three backends (sqlite, postgres, supabase) read rows and write the log the same way.
"""
from __future__ import annotations

import functools
import json
import re
import threading
import uuid
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Mapping

from ..errors import IntegrationNotFound, StoreError
from ..masking import mask, scrub
from ..models import ActivityEntry, Integration

MESSENGER_TYPE = "whatsapp"
PROVIDER = "wpp"
#: the columns that say "this row is switched on"; installations have one, the other or both
FLAG_COLUMNS = ("is_active", "is_enabled")
#: settings keys whose values are secrets (never stored in the activity log or in last_error)
SECRET_SETTINGS = ("wppApiKey", "wppJwtToken")

# key=value / "key": "value" pairs whose value is a credential, whatever the credential looks like
_SECRET_PAIR_RE = re.compile(
    r"""(?ix)
    (["']?(?:wpp)?(?:api[_-]?key|apikey|jwt[_-]?token|access[_-]?token|token|secret|password|service[_-]?role[_-]?key)["']?
     \s*[:=]\s*["']?)
    ([^\s"',;}&]{6,})
    """
)


def now_iso() -> str:
    """Now, UTC, ISO 8601 with microseconds: ``2025-01-31T09:15:00.123456+00:00``."""
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def to_utc_iso(value: Any) -> str | None:
    """A datetime or an ISO 8601 text (any offset, ``Z``, or naive = UTC) in the one format the stores use."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        dt = value
    else:
        text = str(value).strip()
        try:
            dt = datetime.fromisoformat(text.replace(" ", "T", 1) if "T" not in text else text)
        except ValueError:
            raise StoreError(f"{text[:40]!r} is not a date and time the log can store.",
                             action="Give the time in ISO 8601, e.g. 2025-01-31T09:15:00Z.") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc).isoformat(timespec="microseconds")


def is_uuid(value: Any) -> bool:
    try:
        uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        return False
    return True


def canonical_uuid(value: Any) -> str | None:
    """The canonical lower-case form of a UUID, or None when ``value`` is not one."""
    try:
        return str(uuid.UUID(str(value).strip()))
    except (ValueError, TypeError, AttributeError):
        return None


def integration_uuid(value: Any) -> str:
    """The canonical id of an integration; ``IntegrationNotFound`` for anything that is not a UUID (no driver
    ever sees a malformed id)."""
    iid = canonical_uuid(value)
    if iid is None:
        raise IntegrationNotFound(detail=f"{str(value)[:64]!r} is not an integration id")
    return iid


def organization_uuid(value: Any) -> str:
    org = canonical_uuid(value)
    if org is None:
        raise StoreError("A number must belong to an organisation (an organisation id).",
                         action="Choose the organisation first.")
    return org


def ref_id(value: Any) -> str | None:
    """An id as the activity log stores and filters it: a UUID in canonical form, anything else as given."""
    return None if value is None else (canonical_uuid(value) or str(value))


def initial_settings(settings: Any) -> dict:
    """Settings of a new row: a mapping, top-level None values left out (None means "no such key")."""
    return {k: v for k, v in check_patch(settings or {}).items() if v is not None}


def check_patch(patch: Any) -> dict:
    if not isinstance(patch, Mapping):
        raise StoreError("The settings change must be a set of key/value pairs.", action="This is a bug; report it.")
    for k in patch:
        if not isinstance(k, str) or not k:
            raise StoreError("A settings key must be a non-empty text.", action="This is a bug; report it.")
    return dict(patch)


def merge_dict(settings: Mapping, patch: Mapping) -> dict:
    """The protocol's merge in Python: top-level keys of ``patch`` replace; a None value removes the key.

    Same result as the Postgres function ``(settings || patch) - <patch keys whose value is null>``.
    """
    out = dict(settings)
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = v
    return out


def load_settings(value: Any) -> dict:
    if value is None:
        return {}
    if isinstance(value, (bytes, bytearray)):
        value = value.decode("utf-8")
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.strip() else {}
        except ValueError:
            raise StoreError("The settings of a number are damaged (not valid JSON).") from None
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise StoreError("The settings of a number are damaged (not a JSON object).")
    return value


def flags_of(row: Mapping) -> tuple[str, ...]:
    """Which of ``is_active`` / ``is_enabled`` this installation has, from a row's keys."""
    return tuple(c for c in FLAG_COLUMNS if c in row)


def row_is_active(row: Mapping) -> bool:
    """Active unless one of the flag columns present says false (a NULL counts as not switched off)."""
    return all(_truthy(row[c], default=True) for c in flags_of(row))


def _truthy(v: Any, default: bool) -> bool:
    if v is None:
        return default
    if isinstance(v, str):
        return v.strip().lower() in ("1", "t", "true", "yes", "on")
    return bool(v)


def _same(value: Any) -> Any:
    return value


def row_to_integration(row: Mapping, *, times_are_canonical: bool = False) -> Integration:
    """A row (dict) as an ``Integration``. ``times_are_canonical``: the backend stored the timestamps in
    ``now_iso()`` form itself (SQLite), so they need no parsing: keeps a 500-row list at a few ms."""
    t = _same if times_are_canonical else to_utc_iso
    return Integration(
        id=str(row["id"]),
        organization_id=str(row["organization_id"]) if row.get("organization_id") is not None else "",
        name=row.get("name"),
        messenger_type=row.get("messenger_type") or MESSENGER_TYPE,
        provider=row.get("provider") or PROVIDER,
        is_primary=_truthy(row.get("is_primary"), default=False),
        is_active=row_is_active(row),
        settings=load_settings(row.get("settings")),
        last_error=row.get("last_error"),
        last_error_at=t(row.get("last_error_at")),
        created_at=t(row.get("created_at")),
        updated_at=t(row.get("updated_at")),
    )


def activity_from_row(row: Mapping) -> ActivityEntry:
    return ActivityEntry(
        id=int(row["id"]) if row.get("id") is not None else None,
        at=to_utc_iso(row.get("at")),
        actor=row.get("actor") or "",
        action=row.get("action") or "",
        outcome=row.get("outcome") or "",
        integration_id=str(row["integration_id"]) if row.get("integration_id") is not None else None,
        organization_id=str(row["organization_id"]) if row.get("organization_id") is not None else None,
        detail=row.get("detail") or "",
    )


def scrub_stored(text: str | None, secrets: Iterable[str | None] = ()) -> str | None:
    """What goes into the log or ``last_error``: known secrets, JWTs, bearer values and key=value credentials masked."""
    if text is None:
        return None
    out = scrub(str(text), secrets)
    return _SECRET_PAIR_RE.sub(lambda m: m.group(1) + (m.group(2) if "…" in m.group(2) else mask(m.group(2))), out)


class SecretMemory:
    """The secrets (apiKey, JWT) of the rows a store has seen, per integration, so that log lines about an
    integration can be scrubbed of its own secrets even when they do not look like a JWT (defence in depth)."""

    def __init__(self, limit: int = 5000):
        self._by_id: dict[str, set[str]] = {}
        self._lock = threading.Lock()
        self._limit = limit

    def remember(self, integration: Integration) -> Integration:
        self.remember_all((integration,))
        return integration

    def remember_all(self, integrations: Iterable[Integration]) -> list[Integration]:
        integrations = list(integrations)
        with self._lock:
            for i in integrations:
                values = {str(i.settings[k]) for k in SECRET_SETTINGS if i.settings.get(k)}
                if not values:
                    continue
                if len(self._by_id) >= self._limit and i.id not in self._by_id:
                    self._by_id.pop(next(iter(self._by_id)))
                self._by_id.setdefault(i.id, set()).update(values)
        return integrations

    def knows(self, integration_id: str | None) -> bool:
        with self._lock:
            return integration_id in self._by_id

    def all(self) -> set[str]:
        with self._lock:
            return set().union(*self._by_id.values()) if self._by_id else set()


def learn_secrets(store: Any, integration_id: str | None) -> None:
    """Before logging about an integration the store has not read yet, read it once so that its apiKey and JWT
    are known to the scrubber. A failure here must never stop the log line."""
    if integration_id is None or canonical_uuid(integration_id) is None or store._secrets.knows(integration_id):
        return
    try:
        store.get(integration_id)
    except StoreError:
        pass


def clean_name(name: str | None) -> str | None:
    if name is None:
        return None
    name = str(name).strip()
    return name or None


def check_limit(limit: Any) -> int:
    try:
        n = int(limit)
    except (TypeError, ValueError):
        raise StoreError("The number of log lines to show must be a whole number.") from None
    return max(0, min(n, 100_000))


def guard(driver_errors: Callable[[], Any], what: str | None = None):
    """Method decorator shared by the backends: a ``StoreError`` passes through; an exception of the classes
    ``driver_errors()`` returns (looked up only when something failed, so a driver is never imported for it)
    becomes ``self._error(e)`` -- or ``self._error(e, what)`` -- raised without the driver's exception chained."""

    def deco(method):
        @functools.wraps(method)
        def wrapper(self, *args, **kwargs):
            try:
                return method(self, *args, **kwargs)
            except StoreError:
                raise
            except driver_errors() as e:
                raise (self._error(e) if what is None else self._error(e, what)) from None

        return wrapper

    return deco


def activity_filters(integration_id: str | None, organization_id: str | None, placeholder: str) -> tuple[str, list]:
    """The WHERE clause (possibly empty) and its arguments for ``list_activity``'s filters."""
    clauses, args = [], []
    for column, value in (("integration_id", integration_id), ("organization_id", organization_id)):
        if value is not None:
            clauses.append(f"{column} = {placeholder}")
            args.append(ref_id(value))
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), args
