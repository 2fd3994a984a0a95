"""Checks on values that go into a platform URL or request body.

Every function returns the cleaned value or raises :class:`wpp.errors.InvalidInput` with one
sentence saying what is wrong and what a good value looks like. Nothing here touches the network.
"""
from __future__ import annotations

import re
import unicodedata
import uuid
from urllib.parse import urlsplit

from .errors import InvalidInput

SESSION_MAX_LEN = 64
_SESSION_RE = re.compile(r"[A-Za-z0-9_.@-]{1,64}")
_UUID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_SUB_ORG_RE = re.compile(
    r"(?P<uuid>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})__wpp__(?P<suffix>[0-9a-fA-F]{8})"
)
URL_MAX_LEN = 2048
MESSAGE_MAX_LEN = 4096

_ORG_EXAMPLE = "123e4567-e89b-12d3-a456-426614174000"


def _short(value: object, limit: int = 40) -> str:
    """A printable, shortened form of a bad value for an error message."""
    text = "".join(ch if ch.isprintable() else "\ufffd" for ch in str(value))
    return text if len(text) <= limit else text[:limit] + f"… ({len(text)} characters)"


def _as_text(value: object, what: str) -> str:
    if value is None:
        raise InvalidInput(f"No {what} was given.", action=f"Enter the {what}.")
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise InvalidInput(f"The {what} must be text, not {type(value).__name__}.")
    return str(value)


def _validate_path_id(value: object, what: str, example: str) -> str:
    text = _as_text(value, what).strip()
    if not text:
        raise InvalidInput(f"The {what} is empty.", action=f"Enter the {what}, for example {example}.")
    if len(text) > SESSION_MAX_LEN:
        raise InvalidInput(
            f"The {what} is {len(text)} characters long; a {what} has at most {SESSION_MAX_LEN}.",
            action=f"Check the {what}; it looks like {example}.",
        )
    if set(text) == {"."}:
        raise InvalidInput(
            f"\u201c{_short(text)}\u201d is not a {what}.", action=f"A {what} looks like {example}."
        )
    if not _SESSION_RE.fullmatch(text):
        bad = next(ch for ch in text if not re.fullmatch(r"[A-Za-z0-9_.@-]", ch))
        if bad.isspace():
            why = "a space or line break"
        elif unicodedata.category(bad).startswith("C"):
            why = "an invisible control character"
        else:
            why = f"the character \u201c{bad}\u201d"
        raise InvalidInput(
            f"The {what} \u201c{_short(text)}\u201d contains {why}; only letters, digits and _ . @ - are allowed.",
            action=f"Check the {what}; it looks like {example}.",
        )
    return text


def validate_session(value: object) -> str:
    """A plausible platform session id, safe to put into a URL path.

    1–64 characters from ``[A-Za-z0-9_.@-]``, not made only of dots (``.``, ``..``). Surrounding
    whitespace (from copy and paste) is removed; inner whitespace, ``/``, ``%`` and control
    characters are refused. An ``int`` is accepted and turned into text.
    """
    return _validate_path_id(value, "session", "0000000000004")


def validate_task_id(value: object) -> str:
    """A message's task id (``DELETE /api/messages/{taskId}``): same rules as a session id."""
    return _validate_path_id(value, "message id", "a1b2c3d4")


def validate_org_id(value: object) -> str:
    """An organisation id: a UUID (any case, returned in lower case) or a sub-organisation id
    ``<uuid>__wpp__<8 hex>`` (returned in lower case)."""
    text = _as_text(value, "organisation id").strip()
    if _UUID_RE.fullmatch(text):
        return str(uuid.UUID(text))
    m = _SUB_ORG_RE.fullmatch(text)
    if m:
        return f"{uuid.UUID(m.group('uuid'))}__wpp__{m.group('suffix').lower()}"
    if not text:
        raise InvalidInput("The organisation id is empty.", action=f"Organisation id must look like {_ORG_EXAMPLE}.")
    raise InvalidInput(
        f"\u201c{_short(text)}\u201d is not an organisation id.",
        action=f"Organisation id must look like {_ORG_EXAMPLE} (or {_ORG_EXAMPLE}__wpp__1a2b3c4d for a second number).",
    )


def validate_message_text(text: object, max_len: int = MESSAGE_MAX_LEN) -> str:
    """Message text: not empty after stripping, at most ``max_len`` characters. Returned unchanged."""
    if text is None or not isinstance(text, str):
        raise InvalidInput("The message text is missing.", action="Type the message to send.")
    if not text.strip():
        raise InvalidInput("The message is empty.", action="Type the message to send.")
    if len(text) > max_len:
        raise InvalidInput(
            f"The message is {len(text)} characters long; the limit is {max_len}.",
            action="Shorten the message or send it in parts.",
        )
    return text


def validate_url(url: object, *, what: str = "web address") -> str:
    """An absolute ``http``/``https`` URL with a host (webhooks, media links). Returned stripped."""
    if url is None or not isinstance(url, str) or not url.strip():
        raise InvalidInput(f"No {what} was given.", action="Enter an address such as https://example.com/hook.")
    text = url.strip()
    example = "https://example.com/hook"
    if len(text) > URL_MAX_LEN:
        raise InvalidInput(f"The {what} is {len(text)} characters long; the limit is {URL_MAX_LEN}.")
    if any(ch.isspace() or unicodedata.category(ch).startswith("C") for ch in text):
        raise InvalidInput(f"The {what} contains spaces or invisible characters.", action=f"Use an address like {example}.")
    try:
        parts = urlsplit(text)
        port = parts.port  # raises ValueError for a bad port
    except ValueError:
        raise InvalidInput(f"\u201c{_short(text)}\u201d is not a valid {what}.", action=f"Use an address like {example}.") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise InvalidInput(
            f"The {what} must start with http:// or https:// (got \u201c{_short(text)}\u201d).",
            action=f"Use an address like {example}.",
        )
    if not parts.hostname:
        raise InvalidInput(f"The {what} \u201c{_short(text)}\u201d has no host name.", action=f"Use an address like {example}.")
    if port == 0:
        raise InvalidInput(f"The {what} has port 0.", action=f"Use an address like {example}.")
    return text
