"""OpenID Connect sign-in (Streamlit's ``st.login`` / ``st.user``): who may come in.

A provider such as Google lets *every* account holder sign in, so an OIDC sign-in is accepted only when its
email is proven and on the allow-list (``WPP_ALLOWED_EMAILS``: addresses and ``@domain`` entries), or when
"anyone at the provider" was chosen explicitly (``WPP_ALLOW_ANY_OIDC_ACCOUNT = true``).

Proven means the provider's ``email_verified`` claim is exactly ``true`` (a JSON boolean: not ``"true"``, not
``"FALSE"``, not missing). A provider that sends no such claim at all is trusted only when the administrator chose
it knowingly (``WPP_OIDC_TRUST_EMAILS = true``; Settings warns); an ``email_verified`` of anything but ``true`` is
never trusted. Addresses are compared in the normal form of :mod:`wpp.access.emails`.
"""
from __future__ import annotations

import re
from typing import Any, Iterable, Mapping

from ..errors import AccessDenied
from ..i18n import N_
from .emails import domain_entry, normal_address, normal_entry
from .identity import Identity

_EMAIL_RE = re.compile(r"[^@\s,;]+@[^@\s,;]+\.[^@\s,;.]{2,}")
_DOMAIN_RE = re.compile(r"@[^@\s,;]+\.[^@\s,;.]{2,}")


def parse_allow_list(value: "str | Iterable[str] | None") -> tuple[list[str], list[str]]:
    """``(entries, bad)`` from ``"anna@school.org, @school.org"`` (commas, semicolons or spaces) or a list.

    Entries come back in the normal form (:func:`wpp.access.emails.normal_entry`); ``bad`` holds what is neither an
    email address nor an ``@domain``.
    """
    if value is None:
        return [], []
    items = re.split(r"[,;\s]+", value) if isinstance(value, str) else [str(v) for v in value]
    entries: list[str] = []
    bad: list[str] = []
    for item in items:
        text = item.strip()
        if not text:
            continue
        normal = normal_entry(text) if (_EMAIL_RE.fullmatch(text) or _DOMAIN_RE.fullmatch(text)) else None
        if normal is None:
            bad.append(text)
        elif normal not in entries:
            entries.append(normal)
    return entries, bad


def email_proven(user_info: Mapping[str, Any], *, trust_without_claim: bool = False) -> bool:
    """Does the provider vouch for the address? ``email_verified`` exactly ``true``; without that claim at all, only
    when the administrator chose to trust this provider's addresses (``trust_without_claim``)."""
    if "email_verified" not in user_info:
        return bool(trust_without_claim)
    return user_info.get("email_verified") is True


def identity_from_oidc(user_info: Mapping[str, Any], *, allowed: Iterable[str] | None = None,
                       allow_any: bool = False, trust_without_claim: bool = False) -> Identity:
    """Identity from the claims of an OIDC sign-in (Streamlit's ``st.user`` is such a mapping).

    ``allowed``: email addresses and ``@domain`` entries (e.g. ``settings.allowed_email_list``); the person's email
    must be proven (:func:`email_proven`) and one of them. ``allow_any=True`` (``settings.allow_any_oidc_account``)
    lets in everyone the provider accepts. With neither, nobody is let in. ``trust_without_claim``
    (``settings.oidc_trust_emails``): a provider that sends no ``email_verified`` claim is believed.
    """
    if user_info is None or not hasattr(user_info, "get"):
        raise AccessDenied()
    if "is_logged_in" in user_info and not user_info.get("is_logged_in"):
        raise AccessDenied(N_("You are not signed in."), action=N_("Sign in again."))

    def claim(name: str) -> str | None:
        v = user_info.get(name)
        return str(v).strip() if v not in (None, "") and str(v).strip() else None

    email, sub, name = claim("email"), claim("sub"), claim("name")
    display = name or email or sub
    if not display:
        raise AccessDenied(
            N_("The sign-in provider did not say who you are."),
            action=N_("Sign in again, or ask an administrator to check the [auth] settings."),
        )
    proven = bool(email) and email_proven(user_info, trust_without_claim=trust_without_claim)
    if not allow_any:
        rules = {e for e in (normal_entry(a) for a in (allowed or ()) if isinstance(a, str)) if e}
        if not rules:
            raise AccessDenied(
                N_("Nobody may sign in with an organisation account yet: the list of who may is empty."),
                action=N_("Ask an administrator to set WPP_ALLOWED_EMAILS (email addresses or @domain entries)."),
            )
        addr = normal_address(email) if proven else None
        if not (addr and (addr in rules or domain_entry(addr) in rules)):
            raise AccessDenied(
                N_("This account is not allowed to use WPP Console."),
                action=N_("Sign in with your work account, or ask an administrator to add you."),
            )
    return Identity(name=display, username=email or sub or display, method="oidc", email=email, user_id=sub,
                    email_verified=proven)


__all__ = ["email_proven", "identity_from_oidc", "parse_allow_list"]
