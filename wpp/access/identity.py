"""The signed-in person (:class:`Identity`) and how a lasting sign-in keeps it (:meth:`Identity.to_json`)."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Literal, Mapping

from ..i18n import N_
from ..masking import Secret, mask

Method = Literal["staff", "oidc", "supabase", "demo"]
METHODS: tuple[str, ...] = ("staff", "oidc", "supabase", "demo")

#: version of the JSON form (:meth:`Identity.to_json`)
_JSON_VERSION = 1
_MAX_FIELD = 320


@dataclass(frozen=True)
class Identity:
    """Who is using the console, and how they proved it.

    ``supabase_jwt`` (a :class:`~wpp.masking.Secret`) is the Supabase user's access token; it is
    only set for ``method == "supabase"`` right after a password sign-in or a refresh. Its repr is masked,
    and it is never kept in a lasting sign-in (:meth:`to_json`).
    """

    name: str
    username: str = ""
    method: Method = "staff"
    supabase_jwt: Secret | None = None
    email: str | None = None
    #: Supabase refresh token (masked like the JWT); lets ``supabase_refresh`` renew the session
    supabase_refresh_token: Secret | None = field(default=None, compare=False)
    #: Unix time (seconds) when ``supabase_jwt`` stops being valid, when known
    expires_at: float | None = field(default=None, compare=False)
    #: Supabase user id (uuid) or OIDC ``sub``
    user_id: str | None = None
    #: the sign-in proved ``email`` belongs to this person (Supabase: confirmed; OIDC: ``email_verified`` true). Only
    #: a proven address gets what ``WPP_ALLOWED_EMAILS`` gives it
    email_verified: bool = False

    def __post_init__(self) -> None:
        for attr in ("supabase_jwt", "supabase_refresh_token"):
            v = getattr(self, attr)
            if v is not None and not isinstance(v, Secret):
                object.__setattr__(self, attr, Secret(v))

    @property
    def is_demo(self) -> bool:
        return self.method == "demo"

    def jwt_expired(self, now: float | None = None, margin_s: float = 60.0) -> bool:
        """True when the Supabase JWT is missing or expires within ``margin_s`` seconds."""
        if self.supabase_jwt is None:
            return True
        if self.expires_at is None:
            return False
        now = time.time() if now is None else now
        return now >= self.expires_at - margin_s

    # --- lasting sign-ins ---------------------------------------------------------------------------------------
    def to_json(self) -> dict:
        """The person as plain JSON for a lasting sign-in (``SignInSession.identity``).

        Only who they are and how they signed in: never a password, a password hash, a platform secret, nor the
        Supabase access or refresh token (a sign-in restored from it has no Supabase token: "create" then needs
        the platform secret, or a fresh sign-in).
        """
        out: dict[str, Any] = {"v": _JSON_VERSION, "name": self.name, "username": self.username,
                               "method": self.method}
        if self.email:
            out["email"] = self.email
        if self.user_id:
            out["user_id"] = self.user_id
        if self.email and self.email_verified:
            out["email_verified"] = True
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Identity":
        """The inverse of :meth:`to_json`. Raises ValueError for anything else (unknown method, no name, ...)."""
        if not isinstance(data, Mapping) or data.get("v") != _JSON_VERSION:
            raise ValueError("not a stored identity")
        method = data.get("method")
        if method not in METHODS:
            raise ValueError("unknown sign-in method")

        def text(key: str, required: bool = False) -> str | None:
            value = data.get(key)
            if value is None or value == "":
                if required:
                    raise ValueError(f"{key} missing")
                return None
            if not isinstance(value, str) or len(value) > _MAX_FIELD:
                raise ValueError(f"{key} is not a short text")
            return value

        email = text("email")
        # a sign-in kept before addresses had to be proven: its address counts for nothing (sign in again)
        return cls(name=text("name", required=True) or "", username=text("username") or "", method=method,
                   email=email, user_id=text("user_id"), email_verified=bool(email) and data.get("email_verified") is True)

    def __repr__(self) -> str:
        jwt = mask(self.supabase_jwt.reveal()) if self.supabase_jwt is not None else None
        return (
            f"Identity(name={self.name!r}, username={self.username!r}, method={self.method!r}, "
            f"email={self.email!r}, email_verified={self.email_verified!r}, supabase_jwt={jwt!r})"
        )

    __str__ = __repr__


#: the demo's staff member, as the diary keeps it (shown translated: ``N_("Demo user")``)
DEMO_NAME = "Demo user"
#: the demo's people, to try the roles: username -> name as the diary keeps it (shown translated, see
#: ``DEMO_NAMES``); what each may do is in :mod:`wpp.demo`
DEMO_PEOPLE: dict[str, str] = {
    "demo": DEMO_NAME,
    "demo-operator": "Demo receptionist",
    "demo-viewer": "Demo viewer",
}
#: the demo people's names in words (translated when shown)
DEMO_NAMES = {
    DEMO_NAME: N_("Demo user"),
    "Demo receptionist": N_("Demo receptionist"),
    "Demo viewer": N_("Demo viewer"),
}


def demo_identity(username: str = "demo") -> Identity:
    """An identity of demo mode (embedded simulator, nothing real at stake): the demo's administrator, or one of
    the other demo people (``DEMO_PEOPLE``)."""
    if username not in DEMO_PEOPLE:
        username = "demo"
    return Identity(name=DEMO_PEOPLE[username], username=username, method="demo")


__all__ = ["DEMO_NAME", "DEMO_NAMES", "DEMO_PEOPLE", "Identity", "METHODS", "Method", "demo_identity"]
