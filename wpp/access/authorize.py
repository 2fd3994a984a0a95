"""From a signed-in person to what they may do (:class:`~wpp.access.roles.Access`): default-deny, re-read often.

Where grants come from, per sign-in method:

* **staff** accounts: their ``[staff.<name>]`` table (``role``, ``schools``); the old ``name = "hash"`` form is an
  administrator of every school (Settings warns);
* **OIDC** and **Supabase Auth**: the e-mail allow-list ``WPP_ALLOWED_EMAILS`` (an address or ``@domain`` with a role
  and schools), for a **proven** address only (``Identity.email_verified``: Supabase confirmed it, the OIDC provider
  said ``email_verified: true``), compared in the normal form of :mod:`wpp.access.emails`; for Supabase also the school platform's membership table (``WPP_MEMBER_TABLE``: user id,
  organisation id, role), read from the store; ``WPP_ALLOW_ANY_OIDC_ACCOUNT`` makes everyone at the OIDC provider an
  administrator of every school (deliberately; Settings warns);
* **demo**: the demo's people (:mod:`wpp.demo`).

Anyone with no grant at all is refused (:class:`NoAccess`), at sign-in and whenever they come back. What a person
may do is re-read at most :attr:`Authorizer.recheck_s` seconds after it was last read (60 s by default; the issue
asks for at most 5 minutes), so a membership removed in the database ends the access of every open tab within
that time. Reading the membership table fails closed: a store that does not answer lets nobody new in.
"""
from __future__ import annotations

import logging
import threading
from typing import Any, Callable, Iterable, Mapping

from ..clock import SYSTEM_CLOCK
from ..errors import AccessDenied
from ..i18n import N_
from .emails import domain_entry, normal_address, normal_entry
from .identity import Identity
from .passwords import user_key
from .roles import Access, Grant, Role, base_org

log = logging.getLogger("wpp.access")

#: the longest a person's grants are reused before they are read again (seconds)
RECHECK_S = 60.0
#: what each sign-in method's grants are called (diary, Settings)
SOURCES = {"staff": "staff account", "oidc": "e-mail allow-list", "supabase": "school platform membership",
           "demo": "demo"}


class NoAccess(AccessDenied):
    """The person proved who they are, but nobody gave them a role in the console."""

    kind = "no_access"
    default_message = N_("Your account has no access to WPP Console.")
    default_action = N_("Ask the administrator of your school to give you a role in the console (viewer, operator "
                        "or administrator), then sign in again.")


class Authorizer:
    """Turns an :class:`Identity` into an :class:`Access` (see the module docstring). Thread-safe; one per process.

    ``staff_access``: staff name -> Grant (``settings.staff_access``; two names that differ only in case give neither
    anything: the configuration refuses them, see ``wpp.config``); ``email_grants``: address or ``@domain`` -> Grant
    (``settings.allowed_email_grants``; compared in the normal form of :mod:`wpp.access.emails`); ``allow_any_oidc``: everyone at the OIDC provider is an
    administrator of every school; ``memberships``: ``user_id -> [(organisation id, role text)]`` (the store's
    ``list_memberships``) and ``role_map`` (role text, case-folded -> Role) for Supabase accounts; ``demo_people``:
    demo username -> Access.
    """

    def __init__(
        self,
        *,
        staff_access: Mapping[str, Grant] | None = None,
        email_grants: Mapping[str, Grant] | None = None,
        allow_any_oidc: bool = False,
        memberships: Callable[[str], Iterable[tuple[str, Any]]] | None = None,
        role_map: Mapping[str, Role] | None = None,
        demo_people: Mapping[str, Access] | None = None,
        clock=SYSTEM_CLOCK,
        recheck_s: float = RECHECK_S,
    ):
        staff: dict[str, Grant] = {}
        ambiguous: set[str] = set()
        for k, v in (staff_access or {}).items():
            key = user_key(str(k))
            if key in staff:
                ambiguous.add(key)  # "Olga" and "olga": which one signed in cannot be told, so neither gets a role
            staff[key] = v
        self._staff = {k: v for k, v in staff.items() if k not in ambiguous}
        self._emails: dict[str, Grant] = {}
        for k, v in (email_grants or {}).items():
            entry = normal_entry(str(k))
            if entry is not None:
                self._emails[entry] = v
        self._allow_any_oidc = bool(allow_any_oidc)
        self._memberships = memberships
        default_map = {"viewer": Role.VIEWER, "operator": Role.OPERATOR, "administrator": Role.ADMINISTRATOR,
                       "admin": Role.ADMINISTRATOR}
        self._role_map = {str(k).strip().casefold(): v for k, v in (role_map or default_map).items()}
        self._demo = dict(demo_people or {})
        self._clock = clock
        self.recheck_s = float(recheck_s)
        self._lock = threading.Lock()
        self._cache: dict[tuple, tuple[float, Access]] = {}

    def __repr__(self) -> str:
        return (f"Authorizer(staff={len(self._staff)}, emails={len(self._emails)}, "
                f"memberships={'yes' if self._memberships else 'no'}, recheck_s={self.recheck_s:g})")

    # --- asking ---------------------------------------------------------------------------------------------------
    def access_for(self, identity: Identity, *, fresh: bool = False) -> Access:
        """What ``identity`` may do now: read again when the last reading is older than :attr:`recheck_s` (or
        ``fresh``). May raise a ``StoreError`` when the membership table cannot be read (callers fail closed)."""
        key = self._key(identity)
        now = self._clock.time()
        if not fresh:
            with self._lock:
                hit = self._cache.get(key)
            if hit is not None and now - hit[0] < self.recheck_s:
                return hit[1]
        access = self._read(identity)
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache = {k: v for k, v in self._cache.items() if now - v[0] < self.recheck_s}
            self._cache[key] = (now, access)
        return access

    def admit(self, identity: Identity) -> Access:
        """At sign-in (and when a lasting sign-in comes back): the person's access read afresh, or :class:`NoAccess`
        when they have none."""
        access = self.access_for(identity, fresh=True)
        if access.empty:
            raise NoAccess()
        return access

    def forget(self, identity: Identity) -> None:
        with self._lock:
            self._cache.pop(self._key(identity), None)

    # --- inside -----------------------------------------------------------------------------------------------------
    @staticmethod
    def _key(identity: Identity) -> tuple:
        email = normal_address(identity.email) if identity.email_verified else None
        return (identity.method, identity.user_id or "", email or "", bool(identity.email_verified),
                user_key(identity.username))

    def _read(self, identity: Identity) -> Access:
        method = identity.method
        source = SOURCES.get(method, method)
        if method == "demo":
            return self._demo.get(identity.username, Access.none(source))
        if method == "staff":
            grant = self._staff.get(user_key(identity.username))
            return Access.of([grant] if grant else [], source=source)
        grants: list[Grant] = list(self._email_grants(identity.email)) if identity.email_verified else []
        if method == "oidc":
            if self._allow_any_oidc:
                grants.append(Grant(Role.ADMINISTRATOR))
            return Access.of(grants, source=source)
        if method == "supabase":
            if self._memberships is not None and identity.user_id:
                grants.extend(self._member_grants(identity.user_id))
            return Access.of(grants, source=source)
        return Access.none(source)

    def _email_grants(self, email: str | None) -> list[Grant]:
        """What the allow-list gives a (proven) address: its own entry and its domain's, in the normal form."""
        addr = normal_address(email)
        if addr is None:
            return []
        return [g for g in (self._emails.get(addr), self._emails.get(domain_entry(addr))) if g is not None]

    def _member_grants(self, user_id: str) -> list[Grant]:
        out: list[Grant] = []
        for org_id, role_text in self._memberships(user_id):  # type: ignore[misc]
            role = self._role_map.get(str(role_text or "").strip().casefold())
            org = base_org(str(org_id or "").strip())
            if role is None or not org:
                continue  # a role the console does not know gives nothing (default-deny)
            out.append(Grant(role, frozenset({org})))
        return out


__all__ = ["Authorizer", "NoAccess", "RECHECK_S"]
