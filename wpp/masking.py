"""Masking of secrets: API keys, JWTs, the platform secret, Supabase keys.

Everything that can reach a screen, a log line, an exception text or a repr goes
through here. How much of a secret shows depends on its length:

* shorter than :data:`MIN_PARTIAL` (16) characters: none of it (``••••••••``, whatever the length);
* otherwise at most a quarter of it: ``min(4, n // 8)`` characters at each end, e.g. ``ab…yz (16 chars)``
  for 16 characters, ``abcd…wxyz (40 chars)`` from 32 characters on,

so staff can tell two long keys apart without being able to use either, and a short secret (a platform secret
like ``change-me``) gives nothing away.
"""
from __future__ import annotations

import re
from typing import Iterable

# A JWT: three base64url parts, the first two starting with '{"' encoded ("eyJ").
_JWT_RE = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
# "Bearer <anything>" in headers or messages.
_BEARER_RE = re.compile(r"(Bearer\s+)([^\s\"',}]+)", re.IGNORECASE)


#: secrets shorter than this are shown with none of their characters
MIN_PARTIAL = 16
#: what a short (or hidden) secret looks like; the same whatever its length
HIDDEN = "••••••••"


def mask(value: str | None, keep: int = 4) -> str:
    """Return a masked form of a secret: ``abcd…wxyz (40 chars)``.

    At most ``keep`` characters at each end, and never more than a quarter of the secret in all
    (``min(keep, n // 8)`` per end); below :data:`MIN_PARTIAL` characters nothing of it (:data:`HIDDEN`).
    ``None``/empty gives ``"—"``.
    """
    if value is None or value == "":
        return "—"
    value = str(value)
    n = len(value)
    shown = min(max(0, int(keep)), n // 8)
    if n < MIN_PARTIAL or shown == 0:
        return HIDDEN
    return f"{value[:shown]}…{value[-shown:]} ({n} chars)"


def scrub(text: str | None, secrets: Iterable[str | None] = ()) -> str:
    """Remove secrets from free text (error details, log lines, response bodies).

    Replaces every known secret given in ``secrets`` and anything that looks like a
    JWT or a bearer credential with its masked form.
    """
    if not text:
        return "" if text is None else text
    out = str(text)
    for s in sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True):
        out = out.replace(s, mask(s))
    out = _BEARER_RE.sub(lambda m: m.group(1) + (m.group(2) if _masked(m.group(2)) else mask(m.group(2))), out)
    out = _JWT_RE.sub(lambda m: mask(m.group(0)), out)
    return out


def _masked(text: str) -> bool:
    """Already a masked form (so masking it again would only hide the hint it gives)."""
    return "…" in text or text.startswith(HIDDEN[0])


class Secret:
    """A string that does not show itself.

    ``str()``/``repr()``/f-strings give the masked form; ``.reveal()`` gives the value.
    Equality compares the underlying values so dataclasses holding secrets compare sanely.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str):
        if isinstance(value, Secret):
            value = value.reveal()
        self._value = str(value)

    def reveal(self) -> str:
        return self._value

    @property
    def masked(self) -> str:
        return mask(self._value)

    def __str__(self) -> str:
        return self.masked

    def __repr__(self) -> str:
        return f"Secret({self.masked})"

    def __format__(self, spec: str) -> str:
        return format(self.masked, spec)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Secret):
            return self._value == other._value
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __len__(self) -> int:
        return len(self._value)


def reveal(value: "Secret | str | None") -> str | None:
    """The plain value of a Secret or str (None stays None)."""
    if value is None:
        return None
    if isinstance(value, Secret):
        return value.reveal()
    return str(value)
