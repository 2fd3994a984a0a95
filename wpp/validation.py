"""Checks on values that go into a platform URL or request body.

Every function returns the cleaned value or raises :class:`wpp.errors.InvalidInput` with one sentence in
plain words (translatable) and what a good value looks like; the technical reason (which character, how
long) is in the error's ``detail``. Nothing here touches the network.

The platform's session id and a message's task id are never typed by staff: they come from the platform and
the store. When one of them is unusable the message says so in words and the id itself appears only in
``detail``.
"""
from __future__ import annotations

import re
import unicodedata
import uuid
from urllib.parse import urlsplit

from .errors import InvalidInput
from .i18n import N_, Text
from .textutil import short

SESSION_MAX_LEN = 64
_SESSION_RE = re.compile(r"[A-Za-z0-9_.@-]{1,64}")
_UUID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_SUB_ORG_RE = re.compile(
    r"(?P<uuid>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})__wpp__(?P<suffix>[0-9a-fA-F]{8})"
)
URL_MAX_LEN = 2048
MESSAGE_MAX_LEN = 4096

ORG_EXAMPLE = "123e4567-e89b-12d3-a456-426614174000"
URL_EXAMPLE = "https://example.com/hook"


def _shown(value: object) -> str:
    """A bad value for a ``detail`` line: printable, shortened, with its length when cut."""
    text = str(value)
    return short(text, 40) + (f" ({len(text)} characters)" if len(text) > 40 else "")


# --- ids that go into a URL path ---------------------------------------------------------------------
def _path_id_problem(value: object, what: str) -> tuple[str | None, str | None]:
    """``(clean value, None)`` or ``(None, English reason for the detail)``."""
    if value is None:
        return None, f"no {what} was given"
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None, f"the {what} must be text, not {type(value).__name__}"
    text = str(value).strip()
    if not text:
        return None, f"the {what} is empty"
    if len(text) > SESSION_MAX_LEN:
        return None, f"the {what} is {len(text)} characters long; at most {SESSION_MAX_LEN}"
    if set(text) == {"."}:
        return None, f"\u201c{_shown(text)}\u201d is not a {what}"
    if not _SESSION_RE.fullmatch(text):
        bad = next(ch for ch in text if not re.fullmatch(r"[A-Za-z0-9_.@-]", ch))
        if bad.isspace():
            why = "a space or line break"
        elif unicodedata.category(bad).startswith("C"):
            why = "an invisible control character"
        else:
            why = f"the character \u201c{bad}\u201d"
        return None, f"the {what} \u201c{_shown(text)}\u201d contains {why}; only letters, digits and _ . @ - are allowed"
    return text, None


def validate_session(value: object) -> str:
    """A plausible platform session id, safe to put into a URL path.

    1–64 characters from ``[A-Za-z0-9_.@-]``, not made only of dots (``.``, ``..``). Surrounding
    whitespace (from copy and paste) is removed; inner whitespace, ``/``, ``%`` and control
    characters are refused. An ``int`` is accepted and turned into text.
    """
    text, why = _path_id_problem(value, "session")
    if why is not None:
        raise InvalidInput(
            N_("The platform account saved for this number is not usable, so nothing was sent."),
            action=N_("Connect the number again, or show the details below to support."),
            detail=why,
        )
    return text  # type: ignore[return-value]


def validate_task_id(value: object) -> str:
    """A message's task id (``DELETE /api/messages/{taskId}``): same rules as a session id."""
    text, why = _path_id_problem(value, "message id")
    if why is not None:
        raise InvalidInput(
            N_("The platform's reference for this message is not usable, so nothing was sent."),
            action=N_("Show the details below to support."),
            detail=why,
        )
    return text  # type: ignore[return-value]


# --- organisations ------------------------------------------------------------------------------------
def validate_org_id(value: object) -> str:
    """An organisation id: a UUID (any case, returned in lower case) or a sub-organisation id
    ``<uuid>__wpp__<8 hex>`` (returned in lower case)."""
    # no example id in the message: staff never need to see one (issue 12); ids come from the school platform
    action = N_("A school's id is 32 letters and digits in groups separated by dashes, as the school platform shows "
                "it. Leave the field empty if you do not have one: the console makes an id itself.")
    if value is None:
        raise InvalidInput(N_("No organisation id was given."), action=action)
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise InvalidInput(N_("No organisation id was given."), action=action,
                           detail=f"not text but {type(value).__name__}")
    text = str(value).strip()
    if _UUID_RE.fullmatch(text):
        return str(uuid.UUID(text))
    m = _SUB_ORG_RE.fullmatch(text)
    if m:
        return f"{uuid.UUID(m.group('uuid'))}__wpp__{m.group('suffix').lower()}"
    if not text:
        raise InvalidInput(N_("The organisation id is empty."), action=action)
    raise InvalidInput(N_("\u201c{value}\u201d is not an organisation id.", value=short(text, 40)), action=action)


# --- message text ---------------------------------------------------------------------------------------
def validate_message_text(text: object, max_len: int = MESSAGE_MAX_LEN) -> str:
    """Message text: not empty after stripping, at most ``max_len`` characters. Returned unchanged."""
    if text is None or not isinstance(text, str):
        raise InvalidInput(N_("The message text is missing."), action=N_("Type the message to send."))
    if not text.strip():
        raise InvalidInput(N_("The message is empty."), action=N_("Type the message to send."))
    if len(text) > max_len:
        raise InvalidInput(
            N_("The message is {length} characters long; the limit is {limit}.", length=len(text), limit=max_len),
            action=N_("Shorten the message or send it in parts."),
        )
    return text


# --- web addresses ------------------------------------------------------------------------------------
def validate_url(url: object, *, what: str = "web address") -> str:
    """An absolute ``http``/``https`` URL with a host (webhooks, media links). Returned stripped.

    ``what`` (English: "webhook address", "image address", …) goes into ``detail`` only: the page's own label
    says which address it is.
    """
    action: Text = N_("Use an address like {example}.", example=URL_EXAMPLE)

    def bad(message: Text, why: str) -> InvalidInput:
        return InvalidInput(message, action=action, detail=f"{what}: {why}")

    if url is None or not isinstance(url, str) or not url.strip():
        raise bad(N_("No web address was given."), "missing")
    text = url.strip()
    if len(text) > URL_MAX_LEN:
        raise bad(N_("The web address is {length} characters long; the limit is {limit}.",
                     length=len(text), limit=URL_MAX_LEN), "too long")
    if any(ch.isspace() or unicodedata.category(ch).startswith("C") for ch in text):
        raise bad(N_("The web address contains spaces or invisible characters."), "white space or control characters")
    try:
        parts = urlsplit(text)
        port = parts.port  # raises ValueError for a bad port
    except ValueError:
        raise bad(N_("\u201c{value}\u201d is not a valid web address.", value=short(text, 40)), "unparsable") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise bad(N_("The web address \u201c{value}\u201d must start with http:// or https://.", value=short(text, 40)),
                  f"scheme {parts.scheme[:20]!r}")
    if not parts.hostname:
        raise bad(N_("The web address \u201c{value}\u201d has no host name.", value=short(text, 40)), "no host")
    if port == 0:
        raise bad(N_("The web address has port 0."), "port 0")
    return text


__all__ = [
    "ORG_EXAMPLE",
    "validate_message_text",
    "validate_org_id",
    "validate_session",
    "validate_task_id",
    "validate_url",
]
