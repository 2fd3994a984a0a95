"""Who may do what, for which school: roles, the one permission table, and a person's grants.

Three roles, each allowed everything the one before it is:

* **viewer** — sees the numbers of their schools, their status, history and the diary of their schools;
* **operator** — also connects a number, shows its QR code, sends a test message, renames, checks now, renews and
  tests a number's access key, mutes a number's alerts and says "I'm on it" about its problem;
* **administrator** — also removes, disconnects, restores, reveals keys and tokens, sees the alerts, who gets them and
  the webhooks of their schools, and the refusals of their schools in the diary; sets maintenance windows of their
  schools (of the whole platform: administrators of every school).

A person's :class:`Access` is a role per school (organisation id), and/or one role for every school (``"*"``: the
platform's support). Everything the service does is checked against :data:`PERMISSIONS` through
:meth:`Access.check` (by :class:`wpp.service.WppService` on every use-case, whatever page, fragment, dialog or caller
asked). A number of a school outside the person's schools is answered exactly like an unknown number.

Rights are per school and per action, everywhere: the role an action needs is asked **at the school it is about**.
What is about the console as a whole (its settings, sign-ins, who is told about every school, adding or renaming a
school) is about every school: it needs the role for every school (:attr:`Permission.every_school`, asked at
:data:`ALL`). Someone who administers school A and only views school B is a viewer of B, and someone who views every
school and administers A is not an administrator of the console.

Nothing here imports Streamlit.
"""
from __future__ import annotations

import enum
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from ..errors import AccessDenied
from ..i18n import N_, N_n, Text

#: "every school" in a grant (``schools = ["*"]`` / ``schools = "*"``)
ALL = "*"
#: the separator of a sub-organisation id (``<org>__wpp__<n>``): a number belongs to the school before it
_SUB = "__wpp__"


class Role(enum.IntEnum):
    """A role; a higher role may do everything a lower one may."""

    VIEWER = 1
    OPERATOR = 2
    ADMINISTRATOR = 3

    @property
    def key(self) -> str:
        return self.name.lower()

    @property
    def label(self) -> Text:
        """The role in words (lower case: "viewer")."""
        return _ROLE_LABELS[self]

    @classmethod
    def parse(cls, value: Any) -> "Role | None":
        """``"viewer"``, ``"Operator"``, ``"admin"``, ``"administrator"`` (any case, spaces around) -> Role; else None."""
        if isinstance(value, Role):
            return value
        if not isinstance(value, str):
            return None
        return _ROLE_WORDS.get(value.strip().casefold())


_ROLE_LABELS = {
    Role.VIEWER: N_("viewer"),
    Role.OPERATOR: N_("operator"),
    Role.ADMINISTRATOR: N_("administrator"),
}
_ROLE_WORDS = {"viewer": Role.VIEWER, "operator": Role.OPERATOR, "administrator": Role.ADMINISTRATOR,
               "admin": Role.ADMINISTRATOR}
#: the words a role may be given with in settings (README, error messages)
ROLE_WORDS: tuple[str, ...] = ("viewer", "operator", "administrator")


# =============================================================================================================
# The permission table: the ONE place that decides what a role may do
# =============================================================================================================
@dataclass(frozen=True)
class Permission:
    #: the lowest role that may
    role: Role
    #: what is refused, for the sentence "Only an operator can {what}."
    what: Text
    #: True: about the console as a whole, not one school (its settings, adding or renaming a school): needs the
    #: role for every school (``schools = "*"``), whatever school it is asked about
    every_school: bool = False


PERMISSIONS: dict[str, Permission] = {
    # viewer
    "view": Permission(Role.VIEWER, N_("see this number")),
    # operator
    "check": Permission(Role.OPERATOR, N_("check a number now")),
    "create": Permission(Role.OPERATOR, N_("connect a new number")),
    "pair": Permission(Role.OPERATOR, N_("show a number's QR code")),
    "send": Permission(Role.OPERATOR, N_("send a test message")),
    "rename": Permission(Role.OPERATOR, N_("rename a number")),
    "refresh_key": Permission(Role.OPERATOR, N_("renew a number's access key")),
    "test_access": Permission(Role.OPERATOR, N_("test a number's access")),
    "take_over": Permission(Role.OPERATOR, N_("decide about a number that was already linked")),
    "check_delivery": Permission(Role.OPERATOR, N_("check a number's delivery now")),
    # "make a new number instead" when the service itself found the number linked to a phone the console never
    # paired (anything else that takes a number off the list is "remove")
    "put_aside": Permission(Role.OPERATOR, N_("put aside a number that was linked to a phone before anyone scanned "
                                              "its QR code")),
    "add_school": Permission(Role.OPERATOR, N_("add a school"), every_school=True),
    "mute": Permission(Role.OPERATOR, N_("mute a number's alerts")),
    "acknowledge": Permission(Role.OPERATOR, N_("say that you are taking care of a number's problem")),
    # administrator
    "remove": Permission(Role.ADMINISTRATOR, N_("remove a number")),
    "disconnect": Permission(Role.ADMINISTRATOR, N_("disconnect a number's phone")),
    "restore": Permission(Role.ADMINISTRATOR, N_("restore a removed number")),
    "reveal": Permission(Role.ADMINISTRATOR, N_("reveal a number's key or token")),
    "maintenance": Permission(Role.ADMINISTRATOR, N_("set a maintenance window")),
    "platform_maintenance": Permission(Role.ADMINISTRATOR, N_("set a maintenance window for the whole platform"),
                                       every_school=True),
    # a witness costs messages on every number of the school: its administrator decides
    "witness": Permission(Role.ADMINISTRATOR, N_("name the witness of a school's delivery checks")),
    "witness_all": Permission(Role.ADMINISTRATOR, N_("name the witness of every school's delivery checks"),
                              every_school=True),
    "diary_all": Permission(Role.ADMINISTRATOR, N_("see refusals, revealed keys, sign-ins and alerts in the diary")),
    "alerts": Permission(Role.ADMINISTRATOR, N_("see the alerts the console sent and who gets them")),
    "webhooks": Permission(Role.ADMINISTRATOR, N_("see whether the platform sends a number's status to the console")),
    "settings": Permission(Role.ADMINISTRATOR, N_("see the console's settings"), every_school=True),
    "rename_school": Permission(Role.ADMINISTRATOR, N_("rename a school"), every_school=True),
}


def base_org(org_id: str | None) -> str:
    """The school a number belongs to: the organisation id before a ``__wpp__`` sub-organisation suffix."""
    return str(org_id or "").split(_SUB, 1)[0]


class NotAllowed(AccessDenied):
    """The signed-in person's role does not allow this (for this school). Nothing was changed."""

    kind = "not_allowed"
    default_message = N_("Your role does not allow this.")
    default_action = N_("Ask an administrator of your school.")

    def __init__(self, action: str, need: Role, **kw):
        self.action_name = action
        self.need = need
        perm = PERMISSIONS.get(action)
        what = perm.what if perm is not None else N_("do this")
        if perm is not None and perm.every_school:
            message = {
                Role.VIEWER: N_("You have no access to do this."),
                Role.OPERATOR: N_("Only an operator or an administrator of every school can {what}.", what=what),
                Role.ADMINISTRATOR: N_("Only an administrator of every school can {what}.", what=what),
            }[need]
            kw.setdefault("action", N_("Ask the console's administrator (someone with every school) to do it."))
        else:
            message = {
                Role.VIEWER: N_("You have no access to do this."),
                Role.OPERATOR: N_("Only an operator or an administrator can {what}.", what=what),
                Role.ADMINISTRATOR: N_("Only an administrator can {what}.", what=what),
            }[need]
        kw.setdefault("action", N_("Ask an administrator of your school to do it, or to give you that role."))
        super().__init__(message, **kw)


# =============================================================================================================
# A person's grants
# =============================================================================================================
@dataclass(frozen=True)
class Grant:
    """One role for some schools (``schools``: organisation ids) or for every school (``schools == ALL``)."""

    role: Role
    schools: "frozenset[str] | str" = ALL

    @property
    def everywhere(self) -> bool:
        return self.schools == ALL

    @classmethod
    def of(cls, role: Any, schools: Any = ALL) -> "Grant":
        """From settings: ``role`` a word (see :meth:`Role.parse`), ``schools`` ``"*"``, an id, or a list of ids
        (``"*"`` among them means every school). Raises ValueError with a plain-English reason."""
        parsed = Role.parse(role)
        if parsed is None:
            raise ValueError(f"unknown role {str(role)[:40]!r} (use one of: {', '.join(ROLE_WORDS)})")
        return cls(parsed, parse_schools(schools))


def parse_schools(schools: Any) -> "frozenset[str] | str":
    """``"*"`` / ``["*"]`` -> ALL; ``"id"`` / ``["a", "b"]`` -> frozenset of ids. ValueError for anything else."""
    if isinstance(schools, str):
        schools = [schools]
    if not isinstance(schools, (list, tuple, set, frozenset)):
        raise ValueError("schools must be \"*\" or a list of organisation ids")
    ids: set[str] = set()
    for s in schools:
        if not isinstance(s, str) or not s.strip():
            raise ValueError("schools must be \"*\" or a list of organisation ids")
        s = s.strip()
        if s == ALL:
            return ALL
        if len(s) > 200:
            raise ValueError("an organisation id is at most 200 characters")
        ids.add(base_org(s))
    if not ids:
        raise ValueError("schools is empty: give \"*\" or at least one organisation id")
    return frozenset(ids)


@dataclass(frozen=True)
class Access:
    """What one person may do: a role per school and/or one role everywhere. Empty: nothing at all.

    ``source``: where it came from, in words for the diary and Settings ("staff account", "membership table", ...).
    """

    everywhere: Role | None = None
    schools: Mapping[str, Role] = field(default_factory=dict)
    source: str = ""

    # --- building -------------------------------------------------------------------------------------------------
    @classmethod
    def of(cls, grants: Iterable[Grant], *, source: str = "") -> "Access":
        """Several grants together: for each school the highest role any of them gives."""
        everywhere: Role | None = None
        schools: dict[str, Role] = {}
        for g in grants:
            if g.everywhere:
                everywhere = g.role if everywhere is None else max(everywhere, g.role)
            else:
                for s in g.schools:  # type: ignore[union-attr]
                    schools[s] = max(schools.get(s, g.role), g.role)
        if everywhere is not None:
            schools = {s: r for s, r in schools.items() if r > everywhere}
        return cls(everywhere=everywhere, schools=dict(sorted(schools.items())), source=source)

    @classmethod
    def full(cls, source: str = "") -> "Access":
        """An administrator of every school (the demo's administrator, the console's own jobs)."""
        return cls(everywhere=Role.ADMINISTRATOR, source=source)

    @classmethod
    def none(cls, source: str = "") -> "Access":
        return cls(source=source)

    # --- asking ---------------------------------------------------------------------------------------------------
    @property
    def empty(self) -> bool:
        return self.everywhere is None and not self.schools

    @property
    def all_schools(self) -> bool:
        return self.everywhere is not None

    @property
    def top(self) -> Role | None:
        """The highest role this person has anywhere."""
        roles = [r for r in (self.everywhere, *self.schools.values()) if r is not None]
        return max(roles) if roles else None

    def role_in(self, org_id: str | None) -> Role | None:
        """The person's role at the school of ``org_id`` (None: not one of their schools). At :data:`ALL` (the
        console as a whole, every school): the role they have for every school."""
        if org_id == ALL:
            return self.everywhere
        own = self.schools.get(base_org(org_id)) if org_id else None
        roles = [r for r in (self.everywhere, own) if r is not None]
        return max(roles) if roles else None

    def sees(self, org_id: str | None) -> bool:
        """Is ``org_id`` one of this person's schools (any role)?"""
        return self.role_in(org_id) is not None

    def may(self, action: str, org_id: str | None = None) -> bool:
        """May this person do ``action`` (a key of :data:`PERMISSIONS`) at the school of ``org_id``?

        ``org_id`` :data:`ALL`: for every school (what is about the console as a whole, or about no school: a
        sign-in, a recipient of every school's alerts). An action that needs every school
        (:attr:`Permission.every_school`) is asked at :data:`ALL` whatever ``org_id`` says. Without ``org_id``: at
        some school (pages deciding which menu entries and buttons to draw; the use-cases ask at the school). An
        unknown action is never allowed."""
        perm = PERMISSIONS.get(action)
        if perm is None:
            return False
        if perm.every_school:
            org_id = ALL
        if org_id is None:
            top = self.top
            return top is not None and top >= perm.role
        role = self.role_in(org_id)
        return role is not None and role >= perm.role

    def check(self, action: str, org_id: str | None = None) -> None:
        """Raise :class:`NotAllowed` unless :meth:`may`."""
        if not self.may(action, org_id):
            perm = PERMISSIONS.get(action)
            raise NotAllowed(action, perm.role if perm else Role.ADMINISTRATOR)

    def cache_key(self) -> tuple:
        """A hashable key for caches that differ by what a person sees (e.g. the attention count)."""
        return (self.everywhere, tuple(sorted(self.schools)))

    def describe(self) -> Text:
        """In words: "administrator of every school", "operator of 1 school", ..."""
        if self.empty:
            return N_("no access")
        if self.everywhere is not None and not self.schools:
            return N_("{role} of every school", role=self.everywhere.label)
        n = len(self.schools)
        if self.everywhere is not None:
            return N_("{role} of every school, more at {count} of them", role=self.everywhere.label, count=n)
        # one part per role, highest first: "administrator of 1 school, viewer of 2 schools" (never a role a person
        # has at one school said of all of them)
        parts = [N_n("{role} of {n} school", "{role} of {n} schools", count, role=role.label)
                 for role, count in sorted(Counter(self.schools.values()).items(), reverse=True)]
        if len(parts) == 1:
            return parts[0]
        return N_("{first}, {rest}", first=parts[0], rest=parts[1] if len(parts) == 2
                  else N_("{first}, {rest}", first=parts[1], rest=parts[2]))

    def __repr__(self) -> str:
        shown = ", ".join(f"{k[:8]}…={v.key}" for k, v in list(self.schools.items())[:5])
        return f"Access(everywhere={self.everywhere.key if self.everywhere else None}, schools=[{shown}])"


__all__ = [
    "ALL",
    "Access",
    "Grant",
    "NotAllowed",
    "PERMISSIONS",
    "Permission",
    "ROLE_WORDS",
    "Role",
    "base_org",
    "parse_schools",
]
