"""Two small text helpers the whole package shares (one definition each)."""
from __future__ import annotations

import base64
import binascii
import re

_B64_RE = re.compile(r"[A-Za-z0-9+/_\-]+={0,2}")


def b64decode(text: str) -> bytes:
    """Base64 in the standard or URL-safe alphabet, padding optional, white space ignored. Raises ValueError.

    Used for QR images the platform sends as base64, password hashes and JWT parts.
    """
    compact = re.sub(r"\s+", "", str(text or ""))
    if not compact or not _B64_RE.fullmatch(compact):
        raise ValueError("not base64")
    compact = compact.rstrip("=").replace("-", "+").replace("_", "/")
    if len(compact) % 4 == 1:
        raise ValueError("bad base64 length")
    compact += "=" * (-len(compact) % 4)
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not base64") from exc


def short(value: object, limit: int = 40) -> str:
    """A bad value as it may be quoted in a message: invisible characters shown as �, cut at ``limit`` with an
    ellipsis (never a secret: callers quote only what a person typed)."""
    text = "".join(ch if ch.isprintable() else "\ufffd" for ch in str(value))
    return text if len(text) <= limit else text[:limit] + "…"


__all__ = ["b64decode", "short"]
