"""Masking of secrets: API keys, JWTs, the platform secret, Supabase keys.

Everything that can reach a screen, a log line, an exception text or a repr goes
through here.  A secret is shown as its first and last few characters only, so
staff can tell two keys apart without being able to use either.
"""
from __future__ import annotations

import re
from typing import Iterable

# A JWT: three base64url parts, the first two starting with '{"' encoded ("eyJ").
_JWT_RE = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
# "Bearer <anything>" in headers or messages.
_BEARER_RE = re.compile(r"(Bearer\s+)([^\s\"',}]+)", re.IGNORECASE)


def mask(value: str | None, keep: int = 4) -> str:
    """Return a masked form of a secret: ``abcd…wxyz (40 chars)``.

    Short values are masked completely; ``None``/empty gives ``"—"``.
    """
    if value is None or value == "":
        return "—"
    value = str(value)
    n = len(value)
    if n <= keep * 3:
        return "•" * min(n, 8)
    return f"{value[:keep]}…{value[-keep:]} ({n} chars)"


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
    out = _BEARER_RE.sub(lambda m: m.group(1) + (m.group(2) if "…" in m.group(2) else mask(m.group(2))), out)
    out = _JWT_RE.sub(lambda m: mask(m.group(0)), out)
    return out


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
