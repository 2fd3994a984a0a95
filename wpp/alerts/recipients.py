"""Who is told when a number drops: ``WPP_ALERT_RECIPIENTS``, read and checked strictly.

The setting is a table (secrets file) or a JSON object (environment) whose keys are ``"*"`` (every school) or a
school's organisation id, and whose values are a list of entries (or one entry). An entry is

* an e-mail address: ``"director@school5.ru"``;
* a webhook address: ``"https://chat.example/hook/abc"`` (https; plain http only to this computer, for tests);
* a table with ``email`` or ``url`` and optionally ``lang`` (``ru`` or ``en``): ``{ email = "...", lang = "en" }``.

In the environment a plain text of entries separated by commas (or a JSON array) means ``"*"``.

Webhook addresses often hold a token: they are never shown, logged or stored whole. A recipient is known in the
store by its :attr:`Recipient.key` (``email:<address>`` or ``webhook:<hash of the address>``) and shown as
:attr:`Recipient.shown` (the address, or the webhook's scheme and host only).

Streamlit-free and light (the configuration imports it).
"""
from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Mapping
from urllib.parse import urlsplit

from ..i18n import LANGUAGES, N_, Text
from ..textutil import short

#: the key for every school
EVERY_SCHOOL = "*"
#: the one recipient of demo mode: the outbox kept in the store
OUTBOX_KEY = "outbox"

EMAIL = "email"
WEBHOOK = "webhook"
OUTBOX = "outbox"

_EMAIL_RE = re.compile(r"^[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;.]+$")
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}
_ENTRY_KEYS = ("email", "url", "lang")


@dataclass(frozen=True)
class Recipient:
    """One recipient: ``kind`` (email, webhook or outbox), its ``address`` (a webhook's address is a secret: use
    :attr:`shown`), and the language of its messages (None: ``WPP_ALERT_LANGUAGE``)."""

    kind: str
    address: str = field(repr=False)
    lang: str | None = None

    @property
    def key(self) -> str:
        """How the store knows this recipient (never a webhook's address)."""
        if self.kind == EMAIL:
            return f"email:{self.address.lower()}"
        if self.kind == WEBHOOK:
            return "webhook:" + hashlib.sha256(self.address.encode("utf-8")).hexdigest()[:16]
        return OUTBOX_KEY

    @property
    def shown(self) -> str:
        """For screens, logs and the diary: an e-mail address as it is; a webhook as its scheme and host only."""
        if self.kind == WEBHOOK:
            return mask_url(self.address)
        if self.kind == OUTBOX:
            return OUTBOX
        return self.address

    def __repr__(self) -> str:
        return f"Recipient({self.kind}, {self.shown!r}, lang={self.lang!r})"

    __str__ = __repr__


def mask_url(url: str) -> str:
    """A webhook address as it may be shown: ``https://chat.example/…#3fa2`` (no path, query or user; a short
    fingerprint tells two webhooks of one host apart)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or "?"
        port = f":{parts.port}" if parts.port else ""
        scheme = parts.scheme or "https"
    except ValueError:
        scheme, host, port = "https", "?", ""
    tail = hashlib.sha256(url.encode("utf-8")).hexdigest()[:4]
    return f"{scheme}://{host}{port}/…#{tail}"


class AlertRecipients(Mapping[str, tuple[Recipient, ...]]):
    """``WPP_ALERT_RECIPIENTS`` once read: school id (or ``"*"``) -> its recipients. Prints masked."""

    def __init__(self, table: Mapping[str, Iterable[Recipient]] | None = None):
        self._table = {k: tuple(v) for k, v in (table or {}).items()}

    def __getitem__(self, key: str) -> tuple[Recipient, ...]:
        return self._table[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._table)

    def __len__(self) -> int:
        return len(self._table)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, AlertRecipients):
            return self._table == other._table
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def for_school(self, org_id: str | None) -> list[Recipient]:
        """Everyone told about a number of this school: ``"*"`` first, then the school's own (each once)."""
        base = str(org_id or "").split("__wpp__", 1)[0]
        canon = _canonical(base) or base
        out: dict[str, Recipient] = {}
        for r in (*self._table.get(EVERY_SCHOOL, ()), *self._table.get(canon, ())):
            out.setdefault(r.key, r)
        return list(out.values())

    def own(self, org_id: str | None) -> tuple[Recipient, ...]:
        """The school's own recipients (named under its id), not those told about every school."""
        base = str(org_id or "").split("__wpp__", 1)[0]
        return self._table.get(_canonical(base) or base, ())

    def all(self) -> list[tuple[str, Recipient]]:
        """``(school id or "*", recipient)`` for every entry."""
        return [(scope, r) for scope, rs in self._table.items() for r in rs]

    def by_key(self) -> dict[str, Recipient]:
        out: dict[str, Recipient] = {}
        for _scope, r in self.all():
            out.setdefault(r.key, r)
        return out

    @property
    def has_email(self) -> bool:
        return any(r.kind == EMAIL for _s, r in self.all())

    @property
    def secrets(self) -> list[str]:
        """Webhook addresses (for scrubbing free text)."""
        return [r.address for _s, r in self.all() if r.kind == WEBHOOK]

    def __str__(self) -> str:
        parts = []
        for scope, rs in self._table.items():
            where = "every school" if scope == EVERY_SCHOOL else f"school …{scope.replace('-', '')[-4:]}"
            parts.append(f"{where}: " + ", ".join(r.shown for r in rs))
        return "; ".join(parts) or "-"

    def __repr__(self) -> str:
        return f"AlertRecipients({self})"


def _canonical(value: str) -> str | None:
    try:
        return str(uuid.UUID(str(value).strip()))
    except (ValueError, AttributeError, TypeError):
        return None


# =================================================================================================================
# Reading the setting
# =================================================================================================================
def _subject(scope: str, where: Text | str) -> Text:
    if scope == EVERY_SCHOOL:
        return N_("WPP_ALERT_RECIPIENTS \u201c*\u201d (every school, in {source})", source=where)
    return N_("WPP_ALERT_RECIPIENTS \u201c{school}\u201d (in {source})", school=short(scope, 60), source=where)


def _quoted(value: Any) -> str:
    """An entry as a problem may quote it: a web address only by scheme and host."""
    text = str(value)
    if "://" in text:
        return mask_url(text.strip())
    return short(text, 60)


def _table_of(value: Any) -> Mapping:
    """The setting as a table: a TOML table, a JSON object, a JSON array or a text of entries (both: every
    school). ValueError when a text that starts like JSON is none."""
    if isinstance(value, Mapping):
        return value
    if isinstance(value, (list, tuple)):
        return {EVERY_SCHOOL: list(value)}
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("{") or text.startswith("["):
            try:
                data = json.loads(text)
            except ValueError:
                raise ValueError("not JSON") from None
            if isinstance(data, list):
                return {EVERY_SCHOOL: data}
            if isinstance(data, dict):
                return data
            raise ValueError("not a JSON object")
        entries = [e.strip() for e in re.split(r"[,;\n]+", text) if e.strip()]
        return {EVERY_SCHOOL: entries}
    raise ValueError("not a table")


def _entry(raw: Any, subject: Text, problems: list[Text]) -> Recipient | None:
    lang = None
    if isinstance(raw, Mapping):
        unknown = [str(k) for k in raw if str(k) not in _ENTRY_KEYS]
        if unknown:
            problems.append(N_("{subject}: \u201c{key}\u201d is not something the console reads in an entry; use "
                               "{keys}.", subject=subject, key=short(unknown[0], 40), keys=", ".join(_ENTRY_KEYS)))
            return None
        given = [k for k in ("email", "url") if raw.get(k) not in (None, "")]
        if len(given) != 1:
            problems.append(N_("{subject}: an entry written as a table needs exactly one of email or url, e.g. "
                               "{example}.", subject=subject, example='{ email = "director@school5.ru", lang = "ru" }'))
            return None
        if raw.get("lang") not in (None, ""):
            code = str(raw["lang"]).strip().lower()
            if code not in LANGUAGES:
                problems.append(N_("{subject}: the language \u201c{value}\u201d is not one the alerts are written in; "
                                   "use {languages}.", subject=subject, value=short(raw["lang"], 20),
                                   languages=", ".join(LANGUAGES)))
                return None
            lang = code
        kind = given[0]
        value = raw[kind]
        if not isinstance(value, str):
            problems.append(N_("{subject}: {key} must be a text.", subject=subject, key=kind))
            return None
        found = _address(value, subject, problems, expect=EMAIL if kind == "email" else WEBHOOK)
    elif isinstance(raw, str):
        found = _address(raw, subject, problems, expect=None)
    else:
        problems.append(N_("{subject}: \u201c{entry}\u201d is neither an e-mail address, nor a web address, nor a "
                           "table with email or url.", subject=subject, entry=_quoted(raw)))
        return None
    if found is None:
        return None
    kind, address = found
    return Recipient(kind, address, lang)


def _address(value: str, subject: Text, problems: list[Text], *, expect: str | None) -> tuple[str, str] | None:
    text = value.strip()
    if expect == EMAIL:
        if _EMAIL_RE.match(text) and len(text) <= 254:
            return EMAIL, text
        problems.append(N_("{subject}: \u201c{entry}\u201d is not an e-mail address.", subject=subject,
                           entry=_quoted(text)))
        return None
    if "://" in text or expect == WEBHOOK:
        try:
            parts = urlsplit(text)
            host = parts.hostname
            parts.port  # noqa: B018 - raises ValueError for a bad port
        except ValueError:
            host, parts = None, None
        scheme = parts.scheme.lower() if parts is not None else ""
        ok = bool(host) and not any(ch.isspace() for ch in text) and (
            scheme == "https" or (scheme == "http" and host in _LOOPBACK))
        if not ok:
            problems.append(N_("{subject}: \u201c{entry}\u201d is not a webhook address the console can use: it must "
                               "start with https:// and name a host.", subject=subject, entry=_quoted(text)))
            return None
        return WEBHOOK, text
    if _EMAIL_RE.match(text) and len(text) <= 254:
        return EMAIL, text
    problems.append(N_("{subject}: \u201c{entry}\u201d is neither an e-mail address nor a web address starting with "
                       "https://.", subject=subject, entry=_quoted(text)))
    return None


def parse_recipients(value: Any, where: Text | str = "") -> tuple[AlertRecipients, list[Text]]:
    """``WPP_ALERT_RECIPIENTS`` -> ``(recipients, problems)``: one problem per bad school key or entry, naming it
    (a web address only by its host). ValueError when the value cannot be read as a table at all."""
    table = _table_of(value)
    problems: list[Text] = []
    out: dict[str, list[Recipient]] = {}
    for key, entries in table.items():
        scope = str(key).strip()
        if scope != EVERY_SCHOOL:
            canon = _canonical(scope)
            if canon is None:
                problems.append(N_("WPP_ALERT_RECIPIENTS (in {source}): \u201c{key}\u201d is neither \"*\" (every "
                                   "school) nor a school's organisation id.", source=where, key=_quoted(scope)))
                continue
            scope = canon
        subject = _subject(scope, where)
        items = entries if isinstance(entries, (list, tuple)) else [entries]
        if not items:
            problems.append(N_("{subject}: the list is empty; give e-mail addresses or webhook addresses, or leave "
                               "the line out.", subject=subject))
            continue
        got = out.setdefault(scope, [])
        for raw in items:
            r = _entry(raw, subject, problems)
            if r is not None and all(x.key != r.key for x in got):
                got.append(r)
    return AlertRecipients({k: v for k, v in out.items() if v}), problems


def check_recipients(value: Any) -> AlertRecipients:
    """The setting's own check: every entry must be right (ValueError otherwise)."""
    if isinstance(value, AlertRecipients):
        return value
    recipients, problems = parse_recipients(value)
    if problems or not recipients:
        raise ValueError("bad recipients")
    return recipients


__all__ = [
    "AlertRecipients",
    "EMAIL",
    "EVERY_SCHOOL",
    "OUTBOX",
    "OUTBOX_KEY",
    "Recipient",
    "WEBHOOK",
    "check_recipients",
    "mask_url",
    "parse_recipients",
]
