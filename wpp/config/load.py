"""``load_settings``: read, check and return the settings, or stop naming every problem — a short pipeline of
named steps, each in the room that knows its part (:mod:`.sources`, :mod:`.rules`, :mod:`.settings`)."""
from __future__ import annotations

import os
from typing import Any, Iterable, Mapping

from pydantic import ValidationError

from ..i18n import N_, Text
from ..masking import Secret, mask
from ..textutil import short
from .derived import default_data_dir
from .problems import Report
from .rules import Tables, check_together, read_tables
from .settings import ALIASES, SECRET_FIELDS, Settings, layered
from .sources import Found, collect, read_files


def load_settings(
    env: Mapping[str, str] | None = None,
    secrets_files: Iterable[str | os.PathLike] | None = None,
    *,
    secrets: Mapping[str, Any] | None = None,
    **overrides: Any,
) -> Settings:
    """Read, check and return the settings; raise :class:`InvalidSettings` (a ConfigError) naming every problem.

    ``env``: the environment (default ``os.environ``). ``secrets_files``: the files to read, in order, later ones
    winning (default :func:`default_secrets_files`; the UI passes ``st.get_option("secrets.files")``);
    ``WPP_SECRETS_FILE`` in ``env`` replaces them with one file. Missing files are skipped; a file that exists but
    cannot be read is an error. ``secrets``: the already-read contents of the files instead (tests).
    ``overrides``: settings by field name or by their names (``poll_seconds=5`` or ``WPP_POLL_SECONDS="5"``), also
    ``staff={...}`` and ``auth={...}`` tables; they win over everything.
    """
    env = os.environ if env is None else env
    files, read = read_files(env, secrets_files, secrets)  # 1. each file whole, or stop naming its line
    found = collect(files, read, env, overrides)  # 2. the layers of single values, strongest first
    report = Report(warnings=found.warnings)
    tables = read_tables(found, report)  # 3. [staff], [auth], WPP_ALLOWED_EMAILS' grants, the alert recipients
    settings = _validated(found, tables, report)  # 4. every single value by its declared check
    check_together(settings, found, tables, env, report)  # 5. the settings that only make sense together
    report.stop_if_any()
    assert settings is not None
    return _finished(settings, env, report)  # 6. the default data folder, the warnings


def _validated(found: Found, tables: Tables, report: Report) -> Settings | None:
    """The settings, or None with one problem per wrong setting put first (in the declared order)."""
    extra = dict(staff=tables.staff, staff_access=tables.staff_access, allowed_email_grants=tables.email_grants,
                 allowed_emails_table=tables.emails_table, oidc_configured=tables.auth_given,
                 oidc_providers=tables.providers, secrets_files=tuple(found.read), provenance=found.provenance)
    with layered((found.environment, *found.file_layers)):
        try:
            return Settings(**found.arguments, **extra)
        except ValidationError as exc:
            report.problems[:0] = _field_problems(exc, found, tables)
            return None


def _field_problems(exc: ValidationError, found: Found, tables: Tables) -> list[Text]:
    field_problems = {}
    for err in exc.errors():
        loc = str(err["loc"][0]) if err.get("loc") else ""
        field = ALIASES.get(loc.upper(), loc)
        if field in field_problems or field not in ALIASES.values():
            continue  # one line per setting (the loader's own fields are built right)
        if field == "alert_recipients" and tables.recipient_problems:
            continue  # each bad entry is named already
        info = Settings.model_fields[field]
        alias = info.alias or field
        value = found.raw.get(alias, err.get("input"))
        field_problems[field] = N_(
            "{name} is “{value}” (set in {source}), but it must be {rule}.",
            name=alias, value=_shown_value(field, value), source=found.where(alias),
            rule=info.json_schema_extra["rule"])
    return [field_problems[f] for f in Settings.model_fields if f in field_problems]


def _shown_value(field: str, value: Any) -> str:
    """A bad value as a message quotes it: masked when the setting is a secret, cut short otherwise."""
    if field in SECRET_FIELDS:
        return mask(value.reveal() if isinstance(value, Secret) else str(value))
    return short(value, 60)


def _finished(settings: Settings, env: Mapping[str, str], report: Report) -> Settings:
    if not settings.data_dir:
        settings.data_dir = str(default_data_dir(env))
    settings.warnings = report.warnings
    return settings
