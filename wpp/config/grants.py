"""Roles given in the settings: the ``[staff]`` table (``[staff.<name>]`` with password, role and schools) and
``WPP_ALLOWED_EMAILS`` in both its forms (a list of entries; a table of entries and their roles).

Every account or entry that is wrong is one problem naming it; the old forms (``name = "<hash>"``, a list of
entries) mean an administrator of every school, with a warning. The result is :class:`wpp.access.roles.Grant`s,
kept on the settings as ``staff_access`` and ``allowed_email_grants``.
"""
from __future__ import annotations

import json
from typing import Any, Iterable, Mapping

from ..i18n import N_, N_n, Text
from ..textutil import short
from .checks import present, text


# =================================================================================================================
# WPP_ALLOWED_EMAILS as a value: its two forms, and its check
# =================================================================================================================
def email_table(value: Any) -> Mapping | None:
    """The table form of ``WPP_ALLOWED_EMAILS`` (entry -> role): a TOML table, or a JSON object in a text (the
    environment); None for the list form. ValueError for a text that starts like JSON but is no JSON object."""
    if isinstance(value, Mapping):
        return value
    if isinstance(value, str) and value.strip().startswith("{"):
        try:
            data = json.loads(value)
        except ValueError:
            raise ValueError("not a JSON object") from None
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        return data
    return None


def email_list(value: Any) -> "str | list[str]":
    """The list form of ``WPP_ALLOWED_EMAILS``: a text of entries, a list, or a JSON array in a text."""
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    given = text(value)
    if given.startswith("["):
        try:
            data = json.loads(given)
        except ValueError:
            raise ValueError("not a JSON array") from None
        if not isinstance(data, list) or not all(isinstance(v, str) for v in data):
            raise ValueError("not a JSON array of texts")
        return data
    return given


def emails(value: Any) -> str:
    """``WPP_ALLOWED_EMAILS`` as a short text for the Settings page. The list form is checked here (a bad entry is
    this setting's problem); the table form's entries are checked by :func:`allowed_grants` (one problem per entry),
    here only that it is a non-empty table."""
    from ..access.oidc import parse_allow_list

    table = email_table(value)
    if table is not None:
        if not table:
            raise ValueError("an empty table")
        grants, _table = allowed_grants(table, "", [])
        return ", ".join(f"{entry} = {grant_words(g)}" for entry, g in grants.items()) or "-"
    entries, bad = parse_allow_list(email_list(value))
    if bad or not entries:
        raise ValueError("not emails or @domains")
    return ", ".join(entries)


def grant_words(grant: Any) -> str:
    """A grant in plain English (the text value of WPP_ALLOWED_EMAILS' table form)."""
    if grant.everywhere:
        return f"{grant.role.key} (every school)"
    n = len(grant.schools)
    return f"{grant.role.key} ({n} school{'' if n == 1 else 's'})"


# =================================================================================================================
# Roles: [staff.<name>] tables and the table form of WPP_ALLOWED_EMAILS
# =================================================================================================================
_GRANT_KEYS = ("role", "schools")
_STAFF_KEYS = ("password", "role", "schools")
#: an entry of WPP_ALLOWED_EMAILS' table form, as the messages show it
_EMAIL_ENTRY_EXAMPLE = '{ role = "operator", schools = ["<organisation id>"] }'


def few(names: Iterable[str], limit: int = 5) -> str:
    """Names for a message: the first few, then "…"."""
    names = [short(n, 60) for n in names]
    return ", ".join(names[:limit]) + (", …" if len(names) > limit else "")


def _unknown_keys(table: Mapping, allowed: tuple[str, ...], subject: Text, problems: list[Text]) -> bool:
    """One problem per key of ``table`` that is not in ``allowed``; True when there was none."""
    ok = True
    for key in table:
        if str(key) not in allowed:
            problems.append(N_("{subject}: “{key}” is not something the console reads here; use {keys}.",
                               subject=subject, key=short(key, 40), keys=", ".join(allowed)))
            ok = False
    return ok


def _grant_of(table: Mapping, subject: Text, problems: list[Text]) -> Any:
    """``role`` and ``schools`` of a table (``[staff.<name>]``, an entry of WPP_ALLOWED_EMAILS) as a
    :class:`~wpp.access.roles.Grant`; None (and problems naming ``subject``) when either is missing or wrong."""
    from ..access.roles import Grant, Role, parse_schools

    ok = True
    role = table.get("role")
    if not present(role):
        problems.append(N_("{subject}: no role is given; add role = \"viewer\", \"operator\" or \"administrator\".",
                           subject=subject))
        ok = False
    elif Role.parse(role) is None:
        problems.append(N_("{subject}: the role “{value}” is not one the console knows; use viewer, operator or "
                           "administrator.", subject=subject, value=short(role, 40)))
        ok = False
    schools = table.get("schools")
    if schools is None:
        problems.append(N_("{subject}: no schools are given; add schools = [\"<organisation id>\", …] (the school "
                           "platform's ids of the schools), or schools = \"*\" for every school.", subject=subject))
        ok = False
    else:
        try:
            parse_schools(schools)
        except ValueError:
            problems.append(N_("{subject}: schools is “{value}”, but it must be \"*\" (every school) or a list of "
                               "organisation ids such as [\"<organisation id>\", …].",
                               subject=subject, value=short(schools, 60)))
            ok = False
    if not ok:
        return None
    try:
        return Grant.of(role, schools)
    except ValueError:  # pragma: no cover - the checks above cover what Grant.of refuses
        problems.append(N_("{subject}: schools is “{value}”, but it must be \"*\" (every school) or a list of "
                           "organisation ids such as [\"<organisation id>\", …].",
                           subject=subject, value=short(schools, 60)))
        return None


def check_staff(staff_value: Any, where: Text | str, problems: list[Text],
                 warnings: list[Text]) -> tuple[dict[str, str], dict[str, Any]]:
    """The ``[staff]`` table -> ``(name -> password hash, name -> Grant)``.

    ``name = "<hash>"`` (the old form) is an administrator of every school (one warning says how many there are);
    ``[staff.<name>]`` has ``password``, ``role`` and ``schools``, each required: anything missing or wrong is a
    problem naming the account. Every password hash goes through :func:`~wpp.access.passwords.staff_problems`."""
    from ..access.passwords import staff_problems
    from ..access.roles import ALL, Grant, Role

    if not isinstance(staff_value, Mapping):
        problems.append(N_("[staff] in {source} must be a table of staff names and password hashes.", source=where))
        return {}, {}
    hashes: dict[str, str] = {}
    access: dict[str, Any] = {}
    checked: dict[str, object] = {}
    legacy: list[str] = []
    from ..access.passwords import user_key

    seen: dict[str, str] = {}
    for key in staff_value:
        name, folded = str(key), user_key(str(key))
        if folded and folded in seen:
            problems.append(N_("[staff] in {source} has two accounts whose names differ only in upper/lower case, "
                               "“{first}” and “{second}”: the console cannot tell who signs in. Rename or remove one "
                               "of them.", source=where, first=short(seen[folded], 60), second=short(name, 60)))
        else:
            seen[folded] = name
    for key, value in staff_value.items():
        name = str(key)
        if isinstance(value, str):
            hashes[name] = value
            access[name] = Grant(Role.ADMINISTRATOR, ALL)
            checked[name] = value
            legacy.append(name)
        elif isinstance(value, Mapping):
            subject = N_("[staff.{name}] in {source}", name=short(name, 60), source=where)
            ok = _unknown_keys(value, _STAFF_KEYS, subject, problems)
            password = value.get("password")
            if not isinstance(password, str) or not password.strip():
                problems.append(N_("{subject}: no password is given; add password = \"<hash>\" (make the hash with "
                                   "`python scripts/hash_password.py`).", subject=subject))
                ok = False
            else:
                checked[name] = password
            grant = _grant_of(value, subject, problems)
            if ok and grant is not None:
                hashes[name] = password
                access[name] = grant
        else:
            problems.append(N_("Staff account “{name}” in [staff] ({source}) must be a password hash, or a table "
                               "[staff.{name}] with password, role and schools.", name=short(name, 60), source=where))
    warnings.extend(staff_problems(checked))
    if legacy:
        warnings.append(N_n(
            "{n} staff account in [staff] ({source}) is written the old way, name = \"<hash>\" ({names}), so it is "
            "an administrator of every school. To give it a role, write it as a table of its own: [staff.<name>] "
            "with password = \"<hash>\", role = \"viewer\", \"operator\" or \"administrator\", and schools = "
            "[\"<organisation id>\", …] or schools = \"*\" for every school.",
            "{n} staff accounts in [staff] ({source}) are written the old way, name = \"<hash>\" ({names}), so each of "
            "them is an administrator of every school. To give them roles, write each as a table of its own: "
            "[staff.<name>] with password = \"<hash>\", role = \"viewer\", \"operator\" or \"administrator\", and "
            "schools = [\"<organisation id>\", …] or schools = \"*\" for every school.",
            len(legacy), source=where, names=few(legacy)))
    return hashes, access


def allowed_grants(value: Any, where: Text | str, problems: list[Text]) -> tuple[dict[str, Any], bool]:
    """``WPP_ALLOWED_EMAILS`` -> ``(entry -> Grant, given as a table?)``.

    The list form (a text of entries, a list, or a JSON array): each good entry is an administrator of every school (its bad
    entries are the setting's own problem, see :func:`emails`). The table form (a TOML table or a JSON object):
    ``"<entry>" = "<role>"`` (that role for every school) or ``"<entry>" = { role = ..., schools = [...] }``; every
    entry that is wrong is a problem naming it. ValueError when the value cannot be read at all."""
    from ..access.oidc import parse_allow_list
    from ..access.roles import ALL, Grant, Role

    table = email_table(value)
    if table is None:
        entries, _bad = parse_allow_list(email_list(value))
        return {e: Grant(Role.ADMINISTRATOR, ALL) for e in entries}, False
    grants: dict[str, Any] = {}
    for key, spec in table.items():
        entries, bad = parse_allow_list([str(key)])
        if bad or len(entries) != 1:
            problems.append(N_("WPP_ALLOWED_EMAILS (in {source}): “{entry}” is neither an email address nor an "
                               "@domain entry (such as {example}).", source=where, entry=short(key, 60),
                               example="anna@school.org, @school.org"))
            continue
        entry = entries[0]
        subject = N_("WPP_ALLOWED_EMAILS “{entry}” (in {source})", entry=entry, source=where)
        if entry in grants:
            problems.append(N_("{subject}: the entry is given twice (upper and lower case count as the same).",
                               subject=subject))
            continue
        if isinstance(spec, str):
            role = Role.parse(spec)
            if role is None:
                problems.append(N_("{subject}: the role “{value}” is not one the console knows; use viewer, operator "
                                   "or administrator.", subject=subject, value=short(spec, 40)))
                continue
            grants[entry] = Grant(role, ALL)
        elif isinstance(spec, Mapping):
            ok = _unknown_keys(spec, _GRANT_KEYS, subject, problems)
            grant = _grant_of(spec, subject, problems)
            if ok and grant is not None:
                grants[entry] = grant
        else:
            problems.append(N_("{subject}: give a role (\"viewer\", \"operator\" or \"administrator\": that role at "
                               "every school) or a table such as {example}.", subject=subject,
                               example=_EMAIL_ENTRY_EXAMPLE))
    return grants, True
