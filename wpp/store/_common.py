"""Pieces every backend shares: UTC timestamps, id checks, row -> dataclass, scrubbing of what is stored, the
error guards, lasting sign-ins and shared secrets as rows, and the lease-based token-mint lock. Schools (the
organisation and membership tables, names) are :mod:`wpp.store._schools`; the status board's rows
:mod:`wpp.store._status_rows`.

Kept here so the three backends (sqlite, postgres, supabase) read rows and write the log the same way.
"""
from __future__ import annotations

import contextlib
import functools
import json
import logging
import random
import re
import threading
import time
import uuid
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Iterator, Mapping

from ..errors import IntegrationNotFound, StoreError
from ..i18n import N_, Text
from ..masking import mask, scrub
from ..models import ActivityEntry, Integration, SignInSession

log = logging.getLogger("wpp.store")

MESSENGER_TYPE = "whatsapp"
PROVIDER = "wpp"
#: the columns that say "this row is switched on"; installations have one, the other or both
FLAG_COLUMNS = ("is_active", "is_enabled")
#: settings keys whose values are secrets (never stored in the activity log or in last_error)
SECRET_SETTINGS = ("wppApiKey", "wppJwtToken")

#: how long a token-mint lease (SQLite, Supabase) lives when its holder never gives it back (a crash): longer
#: than one mint with the client's retries and back-off
MINT_LEASE_TTL_S = 60.0
#: how often a waiting mint asks again for the lease (seconds; jittered between the two)
MINT_POLL_S = (0.1, 0.2)
#: organisation names: at most this many characters
ORG_NAME_MAX = 200
#: console secrets: names up to this long
SECRET_NAME_MAX = 200

_BUG = N_("This is a bug in the console; tell the administrator.")

# key=value / "key": "value" pairs whose value is a credential, whatever the credential looks like
_SECRET_PAIR_RE = re.compile(
    r"""(?ix)
    (["']?(?:wpp)?(?:api[_-]?key|apikey|jwt[_-]?token|access[_-]?token|token|secret|password|service[_-]?role[_-]?key)["']?
     \s*[:=]\s*["']?)
    ([^\s"',;}&]{6,})
    """
)
_IDENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_SPACE_RE = re.compile(r"\s+")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


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
            raise StoreError(N_("“{value}” is not a date and time the log can store.", value=text[:40]),
                             action=N_("Give the time in ISO 8601, e.g. {example}.",
                                       example="2025-01-31T09:15:00Z")) from None
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
        raise StoreError(N_("A number must belong to a school."),
                         action=N_("Choose the school first."),
                         detail=f"{str(value)[:64]!r} is not an organisation id")
    return org


def ref_id(value: Any) -> str | None:
    """An id as the activity log stores and filters it: a UUID in canonical form, anything else as given."""
    return None if value is None else (canonical_uuid(value) or str(value))


def initial_settings(settings: Any) -> dict:
    """Settings of a new row: a mapping, top-level None values left out (None means "no such key")."""
    return {k: v for k, v in check_patch(settings or {}).items() if v is not None}


def check_patch(patch: Any) -> dict:
    if not isinstance(patch, Mapping):
        raise StoreError(N_("The settings change must be a set of key/value pairs."), action=_BUG,
                         detail=f"got {type(patch).__name__}")
    for k in patch:
        if not isinstance(k, str) or not k:
            raise StoreError(N_("A settings key must be a non-empty text."), action=_BUG, detail=f"key {k!r}")
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
            raise StoreError(N_("The settings of a number are damaged (not valid JSON).")) from None
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise StoreError(N_("The settings of a number are damaged (not a JSON object)."))
    return value


def load_json(value: Any) -> Any:
    """A JSON column as Python: text (SQLite) is parsed, jsonb (PostgreSQL, PostgREST) is already Python.
    Unreadable text gives None (a damaged optional value must not make a whole list unreadable)."""
    if isinstance(value, (bytes, bytearray)):
        value = value.decode("utf-8", "replace")
    if isinstance(value, str):
        try:
            return json.loads(value) if value.strip() else None
        except ValueError:
            return None
    return value


def dump_json(value: Any) -> str:
    """Plain JSON text for a JSON column (SQLite) or a check that a value is plain JSON (the others)."""
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as e:
        raise StoreError(N_("A value cannot be saved (it is not plain JSON)."), action=_BUG, detail=str(e)) from None


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


# --- activity --------------------------------------------------------------------------------------------------
def activity_from_row(row: Mapping) -> ActivityEntry:
    message = load_json(row.get("message"))
    return ActivityEntry(
        id=int(row["id"]) if row.get("id") is not None else None,
        at=to_utc_iso(row.get("at")),
        actor=row.get("actor") or "",
        action=row.get("action") or "",
        outcome=row.get("outcome") or "",
        integration_id=str(row["integration_id"]) if row.get("integration_id") is not None else None,
        organization_id=str(row["organization_id"]) if row.get("organization_id") is not None else None,
        detail=row.get("detail") or "",
        message=message if isinstance(message, dict) else None,
    )


def scrub_stored(text: str | None, secrets: Iterable[str | None] = ()) -> str | None:
    """What goes into the log or ``last_error``: known secrets, JWTs, bearer values and key=value credentials masked."""
    if text is None:
        return None
    out = scrub(str(text), secrets)
    return _SECRET_PAIR_RE.sub(lambda m: m.group(1) + (m.group(2) if "…" in m.group(2) else mask(m.group(2))), out)


def scrub_json(value: Any, secrets: Iterable[str | None] = ()) -> Any:
    """Every text inside a JSON value (dict values, list items; not dict keys) scrubbed like ``detail``."""
    secrets = secrets if isinstance(secrets, (set, frozenset, list, tuple)) else list(secrets)
    if isinstance(value, str):
        return scrub_stored(value, secrets)
    if isinstance(value, Mapping):
        return {k: scrub_json(v, secrets) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub_json(v, secrets) for v in value]
    return value


def stored_message(message: Any, secrets: Iterable[str | None] = ()) -> dict | None:
    """An activity line's ``message`` as stored: ``{"msgid", "params", ...}`` with the string values of its params
    (and of nested messages) scrubbed; the msgid is left as it is (it is the English text of the source code)."""
    if message is None:
        return None
    if isinstance(message, Text):
        message = message.to_json()
    if not isinstance(message, Mapping) or not isinstance(message.get("msgid"), str):
        raise StoreError(N_("An activity line's message must be a translatable message."), action=_BUG,
                         detail=f"got {type(message).__name__}")
    out = dict(message)
    params = out.get("params")
    if params is not None:
        if not isinstance(params, Mapping):
            raise StoreError(N_("An activity line's message must be a translatable message."), action=_BUG,
                             detail="params is not an object")
        out["params"] = scrub_json(dict(params), secrets)
    dump_json(out)  # plain JSON or a StoreError now, not a driver error later
    return out


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
        raise StoreError(N_("The number of lines to show must be a whole number."), action=_BUG,
                         detail=f"limit {str(limit)[:40]!r}") from None
    return max(0, min(n, 100_000))


def guard(driver_errors: Callable[[], Any], what: Any = None):
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


def _sqlite_errors():
    import sqlite3

    return sqlite3.Error


def _psycopg_errors():
    import psycopg

    return psycopg.Error


#: the guards the SQLite and PostgreSQL sides of each part (alerts, webhooks, proof of delivery, retention) put on
#: their methods; the Supabase side names what it was doing (:func:`sb_guard`)
sqlite_guard = guard(_sqlite_errors)
pg_guard = guard(_psycopg_errors)


def sb_guard(what):
    """A Supabase (PostgREST) method's guard: any failure becomes a ``StoreError`` saying ``what`` was being done."""
    return guard(lambda: Exception, what)


def activity_filters(integration_id: str | None, organization_id: str | None, placeholder: str) -> tuple[str, list]:
    """The WHERE clause (possibly empty) and its arguments for ``list_activity``'s filters."""
    clauses, args = [], []
    for column, value in (("integration_id", integration_id), ("organization_id", organization_id)):
        if value is not None:
            clauses.append(f"{column} = {placeholder}")
            args.append(ref_id(value))
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), args


# --- lasting sign-ins ------------------------------------------------------------------------------------------
SESSION_COLUMNS = ("key", "id_hash", "ticket_hash", "identity", "created_at", "expires_at", "ticket_expires_at",
                   "last_seen_at", "revoked_at")


def _float(v: Any) -> float | None:
    return None if v is None else float(v)


def _text(v: Any) -> str | None:
    return None if v is None else str(v)


def session_values(session: SignInSession) -> dict:
    """A new sign-in as column values (identity as a Python dict; a SQL backend dumps it)."""
    if not isinstance(session, SignInSession):
        raise StoreError(N_("A sign-in could not be saved."), action=_BUG, detail=f"got {type(session).__name__}")
    if not isinstance(session.key, str) or not session.key.strip():
        raise StoreError(N_("A sign-in could not be saved."), action=_BUG, detail="a sign-in needs a key")
    if not isinstance(session.identity, Mapping):
        raise StoreError(N_("A sign-in could not be saved."), action=_BUG, detail="identity must be a JSON object")
    dump_json(dict(session.identity))
    return {
        "key": session.key,
        "id_hash": session.id_hash,
        "ticket_hash": session.ticket_hash,
        "identity": dict(session.identity),
        "created_at": float(session.created_at),
        "expires_at": float(session.expires_at),
        "ticket_expires_at": _float(session.ticket_expires_at),
        "last_seen_at": _float(session.last_seen_at),
        "revoked_at": _float(session.revoked_at),
    }


def session_from_row(row: Mapping | None) -> SignInSession | None:
    if not row or row.get("key") is None:
        return None
    identity = load_json(row.get("identity"))
    return SignInSession(
        key=str(row["key"]),
        identity=identity if isinstance(identity, dict) else {},
        created_at=float(row.get("created_at") or 0.0),
        expires_at=float(row.get("expires_at") or 0.0),
        id_hash=_text(row.get("id_hash")),
        ticket_hash=_text(row.get("ticket_hash")),
        ticket_expires_at=_float(row.get("ticket_expires_at")),
        last_seen_at=_float(row.get("last_seen_at")),
        revoked_at=_float(row.get("revoked_at")),
    )


def one_lookup(key: str | None, id_hash: str | None) -> tuple[str, str]:
    """``get_sign_in_session``'s argument: exactly one of ``key`` / ``id_hash``, as (column, value)."""
    given = [(c, v) for c, v in (("key", key), ("id_hash", id_hash)) if v is not None]
    if len(given) != 1:
        raise StoreError(N_("A sign-in could not be looked up."), action=_BUG,
                         detail="give exactly one of key= and id_hash=")
    column, value = given[0]
    return column, str(value)


def check_hash(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise StoreError(N_("A sign-in could not be looked up."), action=_BUG, detail=f"{what} must be a non-empty text")
    return value


def duplicate_sign_in(detail: str = "") -> StoreError:
    return StoreError(N_("This sign-in is already recorded."), action=N_("Sign in again."), detail=detail)


# --- secrets every replica shares --------------------------------------------------------------------------------
def secret_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip() or len(name) > SECRET_NAME_MAX:
        raise StoreError(N_("A shared secret could not be read."), action=_BUG,
                         detail=f"secret names are 1-{SECRET_NAME_MAX} characters")
    return name


def check_secret_value(value: Any) -> str:
    if not isinstance(value, str) or len(value) < 32:
        raise StoreError(N_("A shared secret could not be read."),
                         action=N_("Try again. If it keeps happening, ask an administrator to check the database in Settings."),
                         detail="the database did not return the secret")
    return value


# --- leases and the lease-based mint lock --------------------------------------------------------------------------
def check_lease(name: Any, holder: Any) -> tuple[str, str]:
    if not isinstance(name, str) or not name or not isinstance(holder, str) or not holder:
        raise StoreError(N_("A lease could not be taken."), action=_BUG, detail="lease name and holder must be texts")
    return name, holder


def mint_lease_name(integration_id: Any) -> str:
    return f"mint:{ref_id(integration_id)}"


def mint_timeout(timeout_s: float) -> StoreError:
    return StoreError(
        N_("The access key of this number is being renewed elsewhere, and it is taking too long."),
        action=N_("Try again in a minute."),
        detail=f"token mint lock not acquired within {timeout_s:g} s",
    )


@contextlib.contextmanager
def lease_mint_lock(store: Any, integration_id: str, timeout_s: float, *,
                    ttl_s: float = MINT_LEASE_TTL_S) -> Iterator[None]:
    """``token_mint_lock`` through a lease row ``mint:<id>`` (SQLite, Supabase): the holder is a random id per
    call; the lease expires by itself when its holder crashed; asked again every 100-200 ms until ``timeout_s``."""
    name = mint_lease_name(integration_id)
    holder = uuid.uuid4().hex
    deadline = time.monotonic() + max(0.0, float(timeout_s))
    while not store.try_lease(name, holder, ttl_s=ttl_s, now=time.time()):
        left = deadline - time.monotonic()
        if left <= 0:
            raise mint_timeout(timeout_s)
        time.sleep(min(left, random.uniform(*MINT_POLL_S)))
    try:
        yield
    finally:
        try:
            store.release_lease(name, holder)
        except StoreError as e:  # it expires by itself; never hide the body's own outcome
            log.warning("the token-mint lease %s could not be released: %s", name, e.english)
