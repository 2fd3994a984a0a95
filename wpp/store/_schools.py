"""Schools as every backend reads them: the school platform's tables of organisations and memberships checked
(plain SQL identifiers, safe to quote), members' ids and roles, school names, and the platform's schools merged with
the console's own."""
from __future__ import annotations

import dataclasses
import uuid
from typing import Any, Iterable

from ..errors import StoreError
from ..i18n import N_
from ..models import Organization
from ._common import _BUG, _CONTROL_RE, _IDENT_RE, _SPACE_RE, ORG_NAME_MAX, canonical_uuid, clean_name, ref_id
from .base import MemberTable, OrgTable


# --- organisations ---------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class OrgSource:
    """A checked :class:`OrgTable`: every part a plain SQL identifier, safe to quote."""

    schema: str | None
    table: str
    id_column: str
    name_column: str

    @property
    def display(self) -> str:
        return f"{self.schema}.{self.table}" if self.schema else self.table


def _checked_names(table: Any, columns: list[tuple[str, Any]], table_setting: str,
                   example: str) -> tuple[str | None, str, list[str]]:
    """``(schema, table, columns)`` when every name is a plain SQL identifier (``[A-Za-z_][A-Za-z0-9_]*``, at most 63
    characters; the table optionally ``schema.table``); else a StoreError naming the setting and the value."""
    text = str(table or "").strip()
    parts = text.split(".")
    checks = [(table_setting, p) for p in parts] + [(setting, str(value or "").strip()) for setting, value in columns]
    bad = next(((setting, value) for setting, value in checks if not _IDENT_RE.match(value)), None)
    if len(parts) > 2 or bad is not None:
        setting, value = bad or (table_setting, text)
        raise StoreError(
            N_("The setting {setting} must name a database table or column, not “{value}”.",
               setting=setting, value=value[:80]),
            action=N_("Use letters, digits and _ only (a table may be given as schema.table), e.g. {example}.",
                      example=example),
        )
    schema, name = (parts[0], parts[1]) if len(parts) == 2 else (None, parts[0])
    return schema, name, [str(value).strip() for _setting, value in columns]


def check_org_table(org_table: OrgTable | None) -> OrgSource | None:
    """``OrgTable`` -> ``OrgSource`` (None: no platform table configured). Names that are not plain SQL identifiers
    (``[A-Za-z_][A-Za-z0-9_]*``, at most 63 characters; the table optionally ``schema.table``) are refused."""
    if org_table is None:
        return None
    if not isinstance(org_table, OrgTable):
        raise StoreError(N_("The organisations table setting cannot be used."), action=_BUG,
                         detail=f"org_table is a {type(org_table).__name__}")
    schema, name, (id_column, name_column) = _checked_names(
        org_table.table, [("WPP_ORG_ID_COLUMN", org_table.id_column), ("WPP_ORG_NAME_COLUMN", org_table.name_column)],
        "WPP_ORG_TABLE", "organizations")
    return OrgSource(schema, name, id_column, name_column)


# --- memberships (who belongs to which school, with which role) ---------------------------------------------------
@dataclasses.dataclass(frozen=True)
class MemberSource:
    """A checked :class:`MemberTable`: every part a plain SQL identifier, safe to quote."""

    schema: str | None
    table: str
    user_column: str
    org_column: str
    role_column: str

    @property
    def display(self) -> str:
        return f"{self.schema}.{self.table}" if self.schema else self.table


#: longest user id looked up (a Supabase user id is a 36-character uuid); a longer one matches nobody
MEMBER_USER_ID_MAX = 200


def check_member_table(member_table: MemberTable | None) -> MemberSource | None:
    """``MemberTable`` -> ``MemberSource`` (None: no membership table configured); names checked like the
    organisations table's (StoreError naming the WPP_MEMBER_* setting)."""
    if member_table is None:
        return None
    if not isinstance(member_table, MemberTable):
        raise StoreError(N_("The memberships table setting cannot be used."), action=_BUG,
                         detail=f"member_table is a {type(member_table).__name__}")
    schema, name, (user, org, role) = _checked_names(
        member_table.table, [("WPP_MEMBER_USER_COLUMN", member_table.user_column),
                             ("WPP_MEMBER_ORG_COLUMN", member_table.org_column),
                             ("WPP_MEMBER_ROLE_COLUMN", member_table.role_column)],
        "WPP_MEMBER_TABLE", "organization_members")
    return MemberSource(schema, name, user, org, role)


def member_user_id(user_id: Any) -> str | None:
    """The user id as it is compared (text; a UUID in canonical lower-case form); None when nobody can match it
    (empty, not text, too long)."""
    if not isinstance(user_id, str):
        return None
    text = user_id.strip()
    if not text or len(text) > MEMBER_USER_ID_MAX:
        return None
    return canonical_uuid(text) or text


def membership_rows(rows: Iterable[tuple[Any, Any]]) -> list[tuple[str, str]]:
    """``(organisation id, role text)`` pairs as the protocol gives them: ids through :func:`ref_id` (rows without
    one dropped), a NULL role as ``""``, each pair once, sorted."""
    out: set[tuple[str, str]] = set()
    for org, role in rows:
        key = ref_id(None if org is None or str(org).strip() == "" else str(org).strip())
        if key is None:
            continue
        out.add((key, "" if role is None else str(role)))
    return sorted(out)


def unreadable_member_table(table: str, detail: str = "", secrets: Iterable[str | None] = ()) -> StoreError:
    """The membership table is configured but missing or unreadable: callers fail closed on this."""
    return StoreError(
        N_("The school platform's table of memberships ({table}) cannot be read.", table=table),
        action=N_("Check WPP_MEMBER_TABLE, WPP_MEMBER_USER_COLUMN, WPP_MEMBER_ORG_COLUMN and WPP_MEMBER_ROLE_COLUMN "
                  "in Settings, and that the database user may read that table. Until then nobody can sign in "
                  "through it."),
        detail=detail,
        secrets=[s for s in secrets if s],
    )


def org_name(name: Any) -> str:
    """An organisation's name as stored: whitespace folded to single spaces, trimmed, 1-200 characters."""
    text = _SPACE_RE.sub(" ", _CONTROL_RE.sub(" ", "" if name is None else str(name))).strip()
    if not text:
        raise StoreError(N_("A school needs a name."), action=N_("Type the school's name."))
    if len(text) > ORG_NAME_MAX:
        raise StoreError(N_("An organisation's name can have at most {max} characters; this one has {n}.",
                            max=ORG_NAME_MAX, n=len(text)),
                         action=N_("Shorten the name."))
    return text


def org_id_for_add(organization_id: Any) -> str:
    """The id of an organisation being named: the given UUID (canonical) or a new one."""
    if organization_id is None or str(organization_id).strip() == "":
        return str(uuid.uuid4())
    org = canonical_uuid(organization_id)
    if org is None:
        raise StoreError(N_("“{value}” is not an organisation id.", value=str(organization_id)[:64]),
                         action=N_("A school's id is 32 letters and digits in groups separated by dashes, as the "
                                   "school platform shows it. Leave the field empty if you do not have one: the "
                                   "console makes an id itself."))
    return org


def merge_organizations(platform: Iterable[tuple[Any, Any]] | None, console: Iterable[tuple[Any, Any]]) -> list[Organization]:
    """The list staff pick from: the platform's rows (when its table exists: ``platform`` is not None) and the
    console-named organisations whose id is not among them, sorted by name (case-insensitive), then id.

    A platform row without a name counts as absent (the console's name for that id, if any, is shown instead)."""
    out: dict[str, Organization] = {}
    if platform is not None:
        for oid, name in platform:
            key = ref_id(oid)
            text = clean_name(None if name is None else str(name))
            if key is None or not text:
                continue
            out.setdefault(key, Organization(id=key, name=text, source="platform"))
    for oid, name in console:
        key = ref_id(oid)
        if key is None or key in out or not name:
            continue
        out[key] = Organization(id=key, name=str(name), source="console")
    return sorted(out.values(), key=lambda o: (o.name.casefold(), o.name, o.id))
