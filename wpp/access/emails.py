"""E-mail addresses as the console compares them: one normal form that never makes two different addresses equal.

An address is compared (with ``WPP_ALLOWED_EMAILS`` entries, in the authorizer's cache) only in this form:

* the part before the last ``@`` keeps every character it has; only the ASCII letters ``A``-``Z`` become lower case
  (mail servers treat them alike in practice). Nothing else is folded: ``str.casefold`` would make ``claß`` and
  ``class`` (or ``K`` and the Kelvin sign) equal, and they are different addresses;
* the domain is a host name: ASCII letters in lower case; a domain with other characters is encoded with IDNA
  (UTS 46, non-transitional: ``claß.ru`` becomes ``xn--cla-7ka.ru``, never ``class.ru``), the way mail and browsers
  reach it. A trailing dot is dropped. A domain IDNA refuses is no domain: the address matches nothing.

Only a proven address counts at all (see :mod:`wpp.access.authorize`): Supabase's ``email_confirmed_at`` /
``confirmed_at``, an OIDC ``email_verified`` claim that is exactly ``true``.
"""
from __future__ import annotations

import re

#: an address may be at most this long (RFC 5321)
MAX_ADDRESS = 254
_ASCII_UPPER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_ASCII_DOMAIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9_-]{0,61}"
                           r"[A-Za-z0-9])?)+")
_LOCAL_BAD = re.compile(r"[\s@,;<>\"]")


def ascii_lower(text: str) -> str:
    """``text`` with only ``A``-``Z`` made lower case (no other character is changed)."""
    return text.translate(_ASCII_UPPER)


def normal_domain(domain: object) -> str | None:
    """A mail domain in its normal form (lower-case ASCII; IDNA for anything else), or None when it is none."""
    if not isinstance(domain, str):
        return None
    text = domain.strip()
    if text.endswith("."):
        text = text[:-1]
    if not text or len(text) > 253:
        return None
    if text.isascii():
        return ascii_lower(text) if _ASCII_DOMAIN.fullmatch(text) else None
    import idna  # comes with httpx

    try:
        encoded = idna.encode(text, uts46=True, transitional=False).decode("ascii")
    except (idna.IDNAError, UnicodeError, ValueError):
        return None
    return encoded if _ASCII_DOMAIN.fullmatch(encoded) else None


def normal_address(address: object) -> str | None:
    """``local@domain`` in the normal form (see the module docstring), or None when it is not an address."""
    if not isinstance(address, str):
        return None
    text = address.strip()
    if not text or len(text) > MAX_ADDRESS or "@" not in text:
        return None
    local, _, domain = text.rpartition("@")
    if not local or len(local) > 64 or _LOCAL_BAD.search(local):
        return None
    host = normal_domain(domain)
    if host is None:
        return None
    return f"{ascii_lower(local)}@{host}"


def normal_entry(entry: object) -> str | None:
    """An allow-list entry, an address or ``@domain``, in the normal form; None when it is neither."""
    if not isinstance(entry, str):
        return None
    text = entry.strip()
    if text.startswith("@"):
        host = normal_domain(text[1:])
        return f"@{host}" if host is not None else None
    return normal_address(text)


def domain_entry(address: str) -> str:
    """The ``@domain`` entry that covers a normal address."""
    return "@" + address.rpartition("@")[2]


__all__ = ["ascii_lower", "domain_entry", "normal_address", "normal_domain", "normal_entry"]
