"""One settings object, declared once (pydantic-settings), from the environment and every secrets file.

Sources, strongest first:

1. keyword arguments of :func:`load_settings` (tests, the bench);
2. the environment (``WPP_*``, ``SUPABASE_*``, ``DATABASE_URL``);
3. the secrets files Streamlit reads, later files overriding earlier ones (by default
   ``~/.streamlit/secrets.toml``, then ``<cwd>/.streamlit/secrets.toml``, then the project's own; the UI passes
   Streamlit's ``secrets.files`` option). ``WPP_SECRETS_FILE`` (environment) replaces the list with one file.
   Like Streamlit, a later file replaces an earlier file's top-level entry (a whole ``[staff]`` table included);
4. the defaults declared on :class:`Settings`.

Every setting is checked at start. Whatever is wrong is reported at once, one line per setting, naming the setting,
its value (masked when secret) and what it must be: :class:`InvalidSettings` (a :class:`~wpp.errors.ConfigError`).
A secrets file that cannot be read (a TOML syntax error, no permission) stops the console too, with the file, the
line and the column. Unknown ``WPP_*`` names are not errors: they come back in :attr:`Settings.warnings`.

Demo mode (the embedded simulator, :attr:`Settings.demo`) starts only when nothing real is configured: no
``WPP_BASE_URL`` and none of ``WPP_SECRET``, ``SUPABASE_URL``/``SUPABASE_KEY``, ``DATABASE_URL``, ``[staff]``,
``[auth]``, and no real console's data in the data folder (demo keeps its own ``demo.db`` there).

Roles: each ``[staff.<name>]`` table (password, role, schools) and each entry of a table-form ``WPP_ALLOWED_EMAILS``
carries a role and its schools (:attr:`Settings.staff_access`, :attr:`Settings.allowed_email_grants`: name or entry ->
:class:`wpp.access.roles.Grant`); the old forms (``name = "<hash>"``, a list of entries) still work and mean an
administrator of every school, with a warning. ``WPP_MEMBER_*`` name the school platform's table of members
(:attr:`Settings.member_table_spec`, :attr:`Settings.member_role_map`).

Secrets are held as :class:`~wpp.masking.Secret`: never printed; ``repr`` and :meth:`Settings.describe` mask them.
"""
from __future__ import annotations

import contextvars
import difflib
import json
import math
import os
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Callable, Iterable, Mapping, Sequence
from urllib.parse import urlsplit

from pydantic import BeforeValidator, Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, InitSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict

from .errors import ConfigError
from .i18n import N_, N_n, Text, _, _n
from .masking import Secret, mask
from .textutil import short

#: the names of the files, relative to a folder, Streamlit reads secrets from
SECRETS_FILE = Path(".streamlit") / "secrets.toml"
PROJECT_DIR = Path(__file__).resolve().parent.parent
REAL_DB = "wpp-console.db"
DEMO_DB = "demo.db"
#: settings that used to exist: named in a warning when still set
RETIRED = {"WPP_STAFF_FILE": N_("Staff accounts are read from the [staff] table of the secrets file.")}
#: loader inputs that are WPP_* names but not settings
LOADER_NAMES = ("WPP_SECRETS_FILE",)


def default_secrets_files() -> list[Path]:
    """The files Streamlit reads by default: ``~/.streamlit/secrets.toml``, ``<cwd>/.streamlit/secrets.toml``, and
    the one beside ``streamlit_app.py`` (the project's), in that order (later ones win)."""
    out: list[Path] = []
    for p in (Path.home() / SECRETS_FILE, Path.cwd() / SECRETS_FILE, PROJECT_DIR / SECRETS_FILE):
        if p not in out:
            out.append(p)
    return out


def default_data_dir(env: Mapping[str, str] | None = None) -> Path:
    """``$XDG_DATA_HOME/wpp-console`` (when absolute), else ``~/.local/share/wpp-console``."""
    env = os.environ if env is None else env
    xdg = str(env.get("XDG_DATA_HOME") or "").strip()
    if xdg and os.path.isabs(os.path.expanduser(xdg)):
        return Path(xdg).expanduser() / "wpp-console"
    return Path.home() / ".local" / "share" / "wpp-console"


# =================================================================================================================
# Checking single values. Each raises ValueError; the message a person reads comes from the field's rule.
# =================================================================================================================
_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}
_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"


def _text(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError("not text")
    text = str(value).strip()
    if not text:
        raise ValueError("empty")
    return text


def _url(value: Any) -> str:
    text = _text(value)
    if any(ch.isspace() for ch in text):
        raise ValueError("white space in a URL")
    try:
        parts = urlsplit(text)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise ValueError("not a URL") from None
    if parts.scheme.lower() not in ("http", "https") or not host:
        raise ValueError("not an http(s) URL with a host")
    return text.rstrip("/")


def _secret(value: Any) -> Secret:
    if isinstance(value, Secret):
        if not value:
            raise ValueError("empty")
        return value
    return Secret(_text(value))


def _database_url(value: Any) -> Secret:
    secret = _secret(value)
    text = secret.reveal()
    if re.match(r"(?i)postgres(ql)?://\S*$", text):
        return secret
    if re.match(r"^\s*\w+\s*=", text):  # libpq's "host=... dbname=..." form
        return secret
    raise ValueError("not a PostgreSQL address")


def _number(*, integer: bool = False, gt: float | None = None, ge: float | None = None,
            le: float | None = None) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("a yes/no value where a number belongs")
        if isinstance(value, str):
            text = value.strip()
            if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", text):
                raise ValueError("not a number")
            number = float(text)
        elif isinstance(value, (int, float)):
            number = float(value)
        else:
            raise ValueError("not a number")
        if not math.isfinite(number):
            raise ValueError("not finite")
        if integer and number != int(number):
            raise ValueError("not a whole number")
        if (gt is not None and not number > gt) or (ge is not None and number < ge) or (le is not None and number > le):
            raise ValueError("out of range")
        return int(number) if integer else number

    return check


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise ValueError("not a yes/no value")


def _identifier(*, table: bool) -> Callable[[Any], str]:
    pattern = re.compile(rf"{_IDENT}(\.{_IDENT})?" if table else _IDENT)

    def check(value: Any) -> str:
        text = _text(value)
        if not pattern.fullmatch(text) or len(text) > 127:
            raise ValueError("not an SQL identifier")
        return text

    return check


def _email_table(value: Any) -> Mapping | None:
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


def _email_list(value: Any) -> "str | list[str]":
    """The list form of ``WPP_ALLOWED_EMAILS``: a text of entries, a list, or a JSON array in a text."""
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    text = _text(value)
    if text.startswith("["):
        try:
            data = json.loads(text)
        except ValueError:
            raise ValueError("not a JSON array") from None
        if not isinstance(data, list) or not all(isinstance(v, str) for v in data):
            raise ValueError("not a JSON array of texts")
        return data
    return text


def _emails(value: Any) -> str:
    """``WPP_ALLOWED_EMAILS`` as a short text for the Settings page. The list form is checked here (a bad entry is
    this setting's problem); the table form's entries are checked by :func:`_allowed_grants` (one problem per entry),
    here only that it is a non-empty table."""
    from .access.oidc import parse_allow_list

    table = _email_table(value)
    if table is not None:
        if not table:
            raise ValueError("an empty table")
        grants, _table = _allowed_grants(table, "", [])
        return ", ".join(f"{entry} = {_grant_words(g)}" for entry, g in grants.items()) or "-"
    entries, bad = parse_allow_list(_email_list(value))
    if bad or not entries:
        raise ValueError("not emails or @domains")
    return ", ".join(entries)


def _role_map(value: Any) -> dict[str, str]:
    """``WPP_MEMBER_ROLES``: the school platform's role texts -> the console's role words, from a table
    (``teacher = "viewer"``), a JSON object, or a text ``"teacher=viewer, manager=operator"``. Keys case-folded."""
    from .access.roles import Role

    if isinstance(value, str):
        text = value.strip()
        if text.startswith("{"):
            try:
                value = json.loads(text)
            except ValueError:
                raise ValueError("not a JSON object") from None
        else:
            pairs: dict[str, str] = {}
            for item in re.split(r"[,;\n]+", text):
                if not item.strip():
                    continue
                if "=" not in item:
                    raise ValueError("not platform=console pairs")
                k, v = item.split("=", 1)
                pairs[k.strip().strip("\"'")] = v.strip().strip("\"'")
            value = pairs
    if not isinstance(value, Mapping) or not value:
        raise ValueError("not a table of roles")
    out: dict[str, str] = {}
    for k, v in value.items():
        key = str(k).strip().casefold()
        role = Role.parse(v) if isinstance(v, str) else None
        if not key or role is None or out.get(key, role.key) != role.key:
            raise ValueError("not a console role")
        out[key] = role.key
    return out


#: ``WPP_MEMBER_ROLES`` when it is not set: the console's own words
DEFAULT_MEMBER_ROLES: dict[str, str] = {"viewer": "viewer", "operator": "operator", "administrator": "administrator",
                                        "admin": "administrator"}


def _folder(value: Any) -> str:
    text = _text(value)
    path = Path(text).expanduser()
    if path.exists() and not path.is_dir():
        raise ValueError("not a folder")
    return str(path)


# --- alerts (wpp.alerts) -----------------------------------------------------------------------------------------
def _alert_recipients(value: Any) -> Any:
    from .alerts.recipients import check_recipients

    return check_recipients(value)


def _alert_language(value: Any) -> str:
    from .i18n import LANGUAGES

    code = re.split(r"[-_]", _text(value).lower(), maxsplit=1)[0]
    if code not in LANGUAGES:
        raise ValueError("no such language")
    return code


def _time_zone(value: Any) -> str:
    from .alerts.schedule import check_timezone

    return check_timezone(value)


def _quiet_hours(value: Any) -> str:
    from .alerts.schedule import quiet_text

    return quiet_text(_text(value))


def _host(value: Any) -> str:
    text = _text(value)
    if not re.fullmatch(r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\]", text):
        raise ValueError("not a host name")
    return text


def _email_address(value: Any) -> str:
    text = _text(value)
    if not re.fullmatch(r"[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;.]+", text) or len(text) > 254:
        raise ValueError("not an e-mail address")
    return text


def _smtp_tls(value: Any) -> str:
    text = _text(value).lower()
    if text not in ("starttls", "ssl", "none"):
        raise ValueError("not a TLS mode")
    return text


# =================================================================================================================
# The declared settings
# =================================================================================================================
_SECONDS_AT_LEAST_1 = N_("a number of seconds, at least 1")
_SECONDS_ABOVE_0 = N_("a number of seconds greater than 0")


def _web_address(example: str) -> Text:
    return N_("a web address that starts with http:// or https:// and names a host, e.g. {example}", example=example)



def _setting(default: Any, name: str, label: Text, rule: Text, *, secret: bool = False, group: str = "platform",
             unit: str | None = None) -> Any:
    """A field read from ``name`` (environment / secrets files), shown as ``label``; ``rule`` says what it must be."""
    return Field(default, alias=name,
                 json_schema_extra={"label": label, "rule": rule, "secret": secret, "group": group, "unit": unit})


def _check(fn: Callable[[Any], Any]) -> BeforeValidator:
    """A value check run before pydantic's own; None (not set) passes through."""
    return BeforeValidator(lambda value: None if value is None else fn(value))


_LAYERS: contextvars.ContextVar[tuple[dict, ...]] = contextvars.ContextVar("wpp_settings_layers", default=())


class Settings(BaseSettings):
    """Every setting of the console (see the module docstring). Build it with :func:`load_settings`.

    ``Settings(**values)`` alone reads nothing but its arguments (no environment, no files), for tests and tools.
    """

    model_config = SettingsConfigDict(
        validate_by_name=True, validate_by_alias=True, extra="ignore", case_sensitive=False,
        arbitrary_types_allowed=True, hide_input_in_errors=True, validate_assignment=True, validate_default=False,
    )

    # --- the platform -------------------------------------------------------------------------------------------
    wpp_base_url: Annotated[str | None, _check(_url)] = _setting(
        None, "WPP_BASE_URL", N_("Platform address"), _web_address("https://wpp.example.org"))
    wpp_secret: Annotated[Secret | None, _check(_secret)] = _setting(
        None, "WPP_SECRET", N_("Platform secret"), N_("text (the platform secret)"), secret=True)
    jwt_verify_key: Annotated[Secret | None, _check(_secret)] = _setting(
        None, "WPP_JWT_VERIFY_KEY", N_("Key that checks the access keys' signatures"),
        N_("text (a shared secret or a PEM public key)"), secret=True)
    http_timeout: Annotated[float, _check(_number(gt=0))] = _setting(
        10.0, "WPP_HTTP_TIMEOUT", N_("How long to wait for the platform's answer"), _SECONDS_ABOVE_0, unit="s")
    activation_wait_s: Annotated[float, _check(_number(ge=0, le=600))] = _setting(
        15.0, "WPP_KEY_ACTIVATION_WAIT", N_("How long a new permanent key may take to start working"),
        N_("a number of seconds from {low} to {high}", low=0, high=600), unit="s")
    fleet_concurrency: Annotated[int, _check(_number(integer=True, ge=1, le=500))] = _setting(
        50, "WPP_FLEET_CONCURRENCY", N_("How many numbers are checked at the same time"),
        N_("a whole number from {low} to {high}", low=1, high=500))
    poll_seconds: Annotated[float, _check(_number(ge=1))] = _setting(
        3.0, "WPP_POLL_SECONDS", N_("How often pages refresh"), _SECONDS_AT_LEAST_1, unit="s")
    poll_connected_seconds: Annotated[float, _check(_number(ge=1))] = _setting(
        60.0, "WPP_POLL_CONNECTED_SECONDS", N_("How often connected numbers are checked"), _SECONDS_AT_LEAST_1,
        unit="s")
    poll_offline_seconds: Annotated[float, _check(_number(ge=1))] = _setting(
        30.0, "WPP_POLL_OFFLINE_SECONDS", N_("How often offline numbers are checked"),
        _SECONDS_AT_LEAST_1, unit="s")
    poll_pairing_seconds: Annotated[float, _check(_number(ge=1))] = _setting(
        2.0, "WPP_POLL_PAIRING_SECONDS", N_("How often a number waiting for the QR scan is checked"),
        _SECONDS_AT_LEAST_1, unit="s")
    webhook_sanity_minutes: Annotated[float, _check(_number(gt=0, le=1440))] = _setting(
        10.0, "WPP_WEBHOOK_SANITY_MINUTES",
        N_("How often a number whose status the platform pushes is still checked"),
        N_("a number of minutes greater than 0, at most {high}", high=1440), unit="min")

    # --- where numbers are kept ---------------------------------------------------------------------------------
    supabase_url: Annotated[str | None, _check(_url)] = _setting(
        None, "SUPABASE_URL", N_("Supabase address"), _web_address("https://xyz.supabase.co"),
        group="store")
    supabase_key: Annotated[Secret | None, _check(_secret)] = _setting(
        None, "SUPABASE_KEY", N_("Supabase key"), N_("text (the Supabase project's key)"), secret=True, group="store")
    database_url: Annotated[Secret | None, _check(_database_url)] = _setting(
        None, "DATABASE_URL", N_("PostgreSQL address"),
        N_("a PostgreSQL address such as postgresql://user:password@host/database"), secret=True, group="store")
    data_dir: Annotated[str | None, _check(_folder)] = _setting(
        None, "WPP_DATA_DIR", N_("Data folder"), N_("a folder (it is made when missing), not a file"), group="store")
    org_table: Annotated[str, _check(_identifier(table=True))] = _setting(
        "organizations", "WPP_ORG_TABLE", N_("Table of the school platform's organisations"),
        N_("a table name of letters, digits and _, not starting with a digit, optionally after a schema name "
           "and a dot (schema.table)"), group="store")
    org_id_column: Annotated[str, _check(_identifier(table=False))] = _setting(
        "id", "WPP_ORG_ID_COLUMN", N_("Column with an organisation's id"),
        N_("a column name of letters, digits and _, not starting with a digit"), group="store")
    org_name_column: Annotated[str, _check(_identifier(table=False))] = _setting(
        "name", "WPP_ORG_NAME_COLUMN", N_("Column with an organisation's name"),
        N_("a column name of letters, digits and _, not starting with a digit"), group="store")

    # --- who may sign in ----------------------------------------------------------------------------------------
    session_hours: Annotated[float, _check(_number(gt=0))] = _setting(
        12.0, "WPP_SESSION_HOURS", N_("How long a sign-in lasts"), N_("a number of hours greater than 0"),
        group="sign_in", unit="h")
    allowed_emails: Annotated[str | None, _check(_emails)] = _setting(
        None, "WPP_ALLOWED_EMAILS", N_("Who may sign in with an organisation account"),
        N_("email addresses and @domain entries separated by commas, e.g. {example}, or a table of such entries "
           "and their roles (see .streamlit/secrets.toml.example)", example="anna@school.org, @school.org"),
        group="sign_in")
    allow_any_oidc_account: Annotated[bool, _check(_bool)] = _setting(
        False, "WPP_ALLOW_ANY_OIDC_ACCOUNT", N_("Anyone with an account at the sign-in provider may sign in"),
        N_("one of true, false, yes, no, 1 or 0"), group="sign_in")
    member_table: Annotated[str | None, _check(_identifier(table=True))] = _setting(
        None, "WPP_MEMBER_TABLE", N_("Table of the school platform's members (who belongs to which school, with "
                                     "which role)"),
        N_("a table name of letters, digits and _, not starting with a digit, optionally after a schema name "
           "and a dot (schema.table)"), group="sign_in")
    member_user_column: Annotated[str, _check(_identifier(table=False))] = _setting(
        "user_id", "WPP_MEMBER_USER_COLUMN", N_("Column with a member's user id"),
        N_("a column name of letters, digits and _, not starting with a digit"), group="sign_in")
    member_org_column: Annotated[str, _check(_identifier(table=False))] = _setting(
        "organization_id", "WPP_MEMBER_ORG_COLUMN", N_("Column with a member's organisation id"),
        N_("a column name of letters, digits and _, not starting with a digit"), group="sign_in")
    member_role_column: Annotated[str, _check(_identifier(table=False))] = _setting(
        "role", "WPP_MEMBER_ROLE_COLUMN", N_("Column with a member's role"),
        N_("a column name of letters, digits and _, not starting with a digit"), group="sign_in")
    member_roles: Annotated[dict[str, str] | None, _check(_role_map)] = _setting(
        None, "WPP_MEMBER_ROLES", N_("What the school platform's roles are in the console"),
        N_("pairs of a role of the school platform and a console role (viewer, operator or administrator), "
           "e.g. {example}, or a table of them", example="teacher=viewer, manager=operator, owner=administrator"),
        group="sign_in")
    demo_sign_in: Annotated[bool, _check(_bool)] = _setting(
        False, "WPP_DEMO_SIGN_IN", N_("Ask for a sign-in in demo mode"), N_("one of true, false, yes, no, 1 or 0"),
        group="demo")

    # --- alerts when a number drops (wpp.alerts) ----------------------------------------------------------------
    public_url: Annotated[str | None, _check(_url)] = _setting(
        None, "WPP_PUBLIC_URL", N_("The console's address as people open it (links in alerts)"),
        _web_address("https://console.school.example"), group="alerts")
    alert_recipients: Annotated[Any | None, _check(_alert_recipients)] = _setting(
        None, "WPP_ALERT_RECIPIENTS", N_("Who is told when a number drops"),
        N_("a table of school ids (or \"*\" for every school), each with a list of e-mail addresses and https:// "
           "webhook addresses (see .streamlit/secrets.toml.example)"), secret=True, group="alerts")
    alert_after_minutes: Annotated[float, _check(_number(gt=0, le=1440))] = _setting(
        10.0, "WPP_ALERT_AFTER_MINUTES", N_("How long a number may be down before people are told"),
        N_("a number of minutes greater than 0, at most {high}", high=1440), group="alerts", unit="min")
    alert_language: Annotated[str, _check(_alert_language)] = _setting(
        "ru", "WPP_ALERT_LANGUAGE", N_("Language of the alerts"), N_("one of {choices}", choices="ru, en"),
        group="alerts")
    alert_timezone: Annotated[str, _check(_time_zone)] = _setting(
        "Europe/Moscow", "WPP_ALERT_TIMEZONE", N_("Time zone of the alerts and the quiet hours"),
        N_("a time zone name such as {example}", example="Europe/Moscow"), group="alerts")
    alert_quiet_hours: Annotated[str | None, _check(_quiet_hours)] = _setting(
        None, "WPP_ALERT_QUIET_HOURS", N_("Quiet hours (no alerts are sent)"),
        N_("two different times of day, from-to, such as {example}", example="22:00-07:00"), group="alerts")
    smtp_host: Annotated[str | None, _check(_host)] = _setting(
        None, "WPP_SMTP_HOST", N_("Mail server (SMTP) for alerts"),
        N_("a host name such as {example}", example="smtp.example.org"), group="alerts")
    smtp_port: Annotated[int, _check(_number(integer=True, ge=1, le=65535))] = _setting(
        587, "WPP_SMTP_PORT", N_("Mail server's port"), N_("a whole number from {low} to {high}", low=1, high=65535),
        group="alerts")
    smtp_user: Annotated[str | None, _check(_text)] = _setting(
        None, "WPP_SMTP_USER", N_("User name at the mail server"), N_("text (the user name)"), group="alerts")
    smtp_password: Annotated[Secret | None, _check(_secret)] = _setting(
        None, "WPP_SMTP_PASSWORD", N_("Password at the mail server"), N_("text (the password)"), secret=True,
        group="alerts")
    smtp_from: Annotated[str | None, _check(_email_address)] = _setting(
        None, "WPP_SMTP_FROM", N_("Address the alerts are sent from"),
        N_("an e-mail address such as {example}", example="console@school.example"), group="alerts")
    smtp_tls: Annotated[str, _check(_smtp_tls)] = _setting(
        "starttls", "WPP_SMTP_TLS", N_("How the connection to the mail server is protected"),
        N_("one of {choices}", choices="starttls, ssl, none"), group="alerts")

    # --- the simulated platform (demo) --------------------------------------------------------------------------
    sim_port: Annotated[int | None, _check(_number(integer=True, ge=1, le=65535))] = _setting(
        None, "WPP_SIM_PORT", N_("Port of the simulated platform"),
        N_("a whole number from {low} to {high}", low=1, high=65535), group="demo")
    sim_token_lifetime_s: Annotated[int, _check(_number(integer=True, ge=1))] = _setting(
        900, "WPP_SIM_TOKEN_LIFETIME", N_("How long a simulated access key lasts"),
        N_("a whole number of seconds, at least 1"), group="demo", unit="s")
    sim_qr_rotate_s: Annotated[float, _check(_number(gt=0))] = _setting(
        20.0, "WPP_SIM_QR_ROTATE", N_("How often the simulated QR code changes"), _SECONDS_ABOVE_0, group="demo",
        unit="s")

    # --- what the loader found besides single values ------------------------------------------------------------
    #: the ``[staff]`` table: name -> password hash (see wpp.access), both forms (``name = "<hash>"`` and
    #: ``[staff.name]`` with password, role and schools)
    staff: dict[str, str] = Field(default_factory=dict)
    #: each staff account's role and schools: name (exactly as in :attr:`staff`) -> :class:`wpp.access.roles.Grant`;
    #: the old form ``name = "<hash>"`` is an administrator of every school
    staff_access: dict[str, Any] = Field(default_factory=dict)
    #: ``WPP_ALLOWED_EMAILS``: entry (an email or ``@domain``, lower case) -> :class:`wpp.access.roles.Grant`; the
    #: list form gives each entry the administrator's role for every school
    allowed_email_grants: dict[str, Any] = Field(default_factory=dict)
    #: ``WPP_ALLOWED_EMAILS`` was given as a table with roles (not the old list of entries)
    allowed_emails_table: bool = False
    #: an ``[auth]`` table (Streamlit's st.login) is configured; only its presence is kept, not its secrets
    oidc_configured: bool = False
    #: its providers: "default" (client_id & co. directly in [auth]) and/or the names of its sub-tables
    oidc_providers: tuple[str, ...] = ()
    #: things an administrator should know that do not stop the console (translatable texts)
    warnings: list[Any] = Field(default_factory=list)
    #: the secrets files that were read, in order
    secrets_files: tuple[str, ...] = ()
    #: where each setting came from: alias -> "environment" | a file path | "arguments"
    provenance: dict[str, str] = Field(default_factory=dict)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Keyword arguments first, then the layers :func:`load_settings` collected (environment, then the secrets
        files from the last to the first). Without load_settings only the keyword arguments count."""
        return (init_settings, *(InitSettingsSource(settings_cls, dict(layer)) for layer in _LAYERS.get()))

    # --- derived ------------------------------------------------------------------------------------------------
    @property
    def demo(self) -> bool:
        """No platform configured: run against the embedded simulator (load_settings made sure nothing real is)."""
        return not self.wpp_base_url

    @property
    def data_folder(self) -> Path:
        return Path(self.data_dir).expanduser() if self.data_dir else default_data_dir()

    @property
    def sqlite_path(self) -> Path:
        """The SQLite file for this mode: ``<data folder>/demo.db`` in demo mode, ``wpp-console.db`` otherwise."""
        return self.data_folder / (DEMO_DB if self.demo else REAL_DB)

    @property
    def store_kind(self) -> str:
        if self.supabase_url and self.supabase_key:
            return "supabase"
        if self.database_url:
            return "postgres"
        return "sqlite"

    @model_validator(mode="before")
    @classmethod
    def _grants_of_allowed_emails(cls, data: Any) -> Any:
        """``Settings(allowed_emails=...)`` alone (tests, tools) gets its grants too; :func:`load_settings` gives them
        itself (after checking every entry)."""
        if not isinstance(data, dict) or "allowed_email_grants" in data:
            return data
        value = next((v for k, v in data.items()
                      if str(k).lower() in ("allowed_emails", "wpp_allowed_emails") and _present(v)), None)
        if value is None:
            return data
        try:
            grants, table = _allowed_grants(value, "", [])
        except ValueError:
            return data  # the field's own check reports it
        return {**data, "allowed_email_grants": grants, "allowed_emails_table": table}

    @property
    def allowed_email_list(self) -> list[str] | None:
        """The entries of ``WPP_ALLOWED_EMAILS`` (lower case, either form), or None when it is not set."""
        if not self.allowed_emails:
            return None
        if self.allowed_email_grants:
            return list(self.allowed_email_grants)
        return [e.strip().lower() for e in self.allowed_emails.split(",") if e.strip()]

    @property
    def member_table_spec(self):
        """The :class:`wpp.store.base.MemberTable` to give the store, or None (no membership table)."""
        if not self.member_table:
            return None
        from .store.base import MemberTable

        return MemberTable(self.member_table, self.member_user_column, self.member_org_column,
                           self.member_role_column)

    @property
    def member_role_map(self) -> dict:
        """The school platform's role texts (case-folded) -> :class:`wpp.access.roles.Role`."""
        from .access.roles import Role

        mapping = self.member_roles or DEFAULT_MEMBER_ROLES
        return {k: r for k, r in ((k, Role.parse(v)) for k, v in mapping.items()) if r is not None}

    @property
    def session_lifetime_s(self) -> float:
        return self.session_hours * 3600.0

    @property
    def alert_after_s(self) -> float:
        """How long a number may be down before people are told: ``WPP_ALERT_AFTER_MINUTES``; in demo mode, unless
        it is set, one minute (so the demo's outbox shows it soon)."""
        if self.demo and "alert_after_minutes" not in self.model_fields_set:
            return 60.0
        return float(self.alert_after_minutes) * 60.0

    @property
    def smtp_sender(self) -> str | None:
        """The alerts' From address: ``WPP_SMTP_FROM``, else the user name when it is an e-mail address."""
        if self.smtp_from:
            return self.smtp_from
        user = self.smtp_user or ""
        try:
            return _email_address(user) if user else None
        except ValueError:
            return None

    @property
    def org_table_spec(self):
        """The :class:`wpp.store.base.OrgTable` to give the store."""
        from .store.base import OrgTable

        return OrgTable(self.org_table, self.org_id_column, self.org_name_column)

    @property
    def source(self) -> str:
        """Where the settings came from, e.g. ``"environment + /srv/app/.streamlit/secrets.toml"`` (or "defaults")."""
        seen: list[str] = []
        for where in self.provenance.values():
            if where not in seen:
                seen.append(where)
        for f in self.secrets_files:
            if f not in seen:
                seen.append(f)
        return " + ".join(seen) if seen else "defaults"

    # --- showing ------------------------------------------------------------------------------------------------
    def describe(self) -> list[tuple[Text, str]]:
        """Rows for the Settings page: ``(label, value)`` in plain words, secrets masked. Values are in the
        current language; demo-only settings are listed in demo mode only."""
        rows: list[tuple[Text, str]] = [
            (N_("Mode"), _("Demo: a simulated platform on this computer") if self.demo else _("The real platform")),
        ]
        for name, info in type(self).model_fields.items():
            extra = info.json_schema_extra
            if not isinstance(extra, dict) or "label" not in extra:
                continue
            if extra["group"] == "demo" and not self.demo:
                continue
            if name == "data_dir":
                rows.append((extra["label"], str(self.data_folder)))
                if self.store_kind == "sqlite":
                    rows.append((N_("SQLite file"), str(self.sqlite_path)))
                continue
            if name == "allowed_emails" and self.allowed_emails and self.allowed_email_grants:
                rows.append((extra["label"], "; ".join(f"{entry}: {_grant_text(g)}"
                                                       for entry, g in self.allowed_email_grants.items())))
                continue
            if name == "alert_after_minutes":
                minutes = self.alert_after_s / 60.0
                shown = _n("{n} minute", "{n} minutes", int(minutes), n=_num(minutes))
                rows.append((extra["label"], shown if not (self.demo and "alert_after_minutes" not in
                                                            self.model_fields_set)
                             else _("{value} (demo)", value=shown)))
                continue
            if name == "member_roles":
                shown = ", ".join(f"{k} → {r.label}" for k, r in self.member_role_map.items())
                rows.append((extra["label"], shown if self.member_roles else
                             _("{roles} (the console's own words; not set)", roles=shown)))
                continue
            rows.append((extra["label"], _show(getattr(self, name), extra)))
        rows.append((N_("Staff accounts"),
                     _n("{n} account", "{n} accounts", len(self.staff)) if self.staff else _("none")))
        if self.staff_access:
            rows.append((N_("Staff accounts' roles"),
                         "; ".join(f"{name}: {_grant_text(g)}" for name, g in sorted(self.staff_access.items()))))
        rows.append((N_("Sign-in with an organisation account"),
                     _("set up ({providers})", providers=", ".join(self.oidc_providers)) if self.oidc_configured
                     else _("not set up")))
        rows.append((N_("Settings read from"), ", ".join(self.secrets_files) or _("no secrets file")))
        return rows

    def __repr__(self) -> str:
        parts = []
        for name, info in type(self).model_fields.items():
            extra = info.json_schema_extra
            if isinstance(extra, dict) and "label" in extra:
                value = getattr(self, name)
                shown = mask(value.reveal()) if isinstance(value, Secret) else value
                parts.append(f"{info.alias}={shown!r}")
        parts.append(f"staff={len(self.staff)} account(s)")
        parts.append(f"oidc_configured={self.oidc_configured!r}")
        return "Settings(" + ", ".join(parts) + ")"

    __str__ = __repr__


def _show(value: Any, extra: dict) -> str:
    if value is None:
        return _("not set")
    if isinstance(value, Secret):
        return mask(value.reveal())
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if extra.get("unit") == "s":
        return _n("{n} second", "{n} seconds", int(value), n=_num(value))
    if extra.get("unit") == "min":
        return _n("{n} minute", "{n} minutes", int(value), n=_num(value))
    if extra.get("unit") == "h":
        return _n("{n} hour", "{n} hours", int(value), n=_num(value))
    return str(value)


def _grant_text(grant: Any) -> str:
    """A grant in the reader's words: "operator of 2 schools", "administrator of every school"."""
    from .access.roles import Access

    return str(Access.of([grant]).describe())


def _grant_words(grant: Any) -> str:
    """A grant in plain English (the text value of WPP_ALLOWED_EMAILS' table form)."""
    if grant.everywhere:
        return f"{grant.role.key} (every school)"
    n = len(grant.schools)
    return f"{grant.role.key} ({n} school{'' if n == 1 else 's'})"


def _num(value: float) -> str:
    from .i18n import format_number

    return format_number(int(value) if float(value).is_integer() else value)


#: alias (upper case) -> field name, for the declared settings
ALIASES: dict[str, str] = {
    info.alias.upper(): name for name, info in Settings.model_fields.items()
    if isinstance(info.json_schema_extra, dict) and "label" in info.json_schema_extra
}
_SECRET_FIELDS = {name for name, info in Settings.model_fields.items()
                  if isinstance(info.json_schema_extra, dict) and info.json_schema_extra.get("secret")}


# =================================================================================================================
# Problems
# =================================================================================================================
class _Lines:
    """Several translatable lines as one message value, translated when shown."""

    def __init__(self, items: Iterable[Text]):
        self.items = list(items)

    def __str__(self) -> str:
        return "\n".join("• " + str(t) for t in self.items)

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)


class InvalidSettings(ConfigError):
    """The configuration cannot be used. ``problems``: one translatable line per bad setting or unreadable file."""

    def __init__(self, problems: Sequence[Text], *, detail: str = ""):
        self.problems = list(problems)
        super().__init__(
            N_("The console's settings cannot be used:\n{problems}", problems=_Lines(self.problems)),
            action=N_("Correct the settings (in the environment or the secrets file) and restart the console."),
            detail=detail,
        )


_ENVIRONMENT = "environment"
_ARGUMENTS = "arguments"


def _where(source: str) -> Text | str:
    if source == _ENVIRONMENT:
        return N_("the environment")
    if source == _ARGUMENTS:
        return N_("the program's arguments")
    return source


def _shown_value(field: str, value: Any) -> str:
    """A bad value as a message quotes it: masked when the setting is a secret, cut short otherwise."""
    if field in _SECRET_FIELDS:
        return mask(value.reveal() if isinstance(value, Secret) else str(value))
    return short(value, 60)


# =================================================================================================================
# Reading the secrets files
# =================================================================================================================
def _toml_problem(path: Path, exc: tomllib.TOMLDecodeError) -> tuple[Text, str]:
    text = str(exc)
    what = getattr(exc, "msg", None)
    line, column = getattr(exc, "lineno", None), getattr(exc, "colno", None)
    m = re.match(r"(?s)(.*?)\s*\(at line (\d+), column (\d+)\)\s*$", text)
    if m:
        what, line, column = m.group(1), int(m.group(2)), int(m.group(3))
    elif text.endswith("(at end of document)"):
        what = text[: -len("(at end of document)")].strip()
    what = what or text
    detail = f"{path}: {text}"
    if line:
        return N_("The settings file {file} cannot be read: line {line}, column {column}: {problem}.",
                  file=str(path), line=line, column=column or 1, problem=what), detail
    return N_("The settings file {file} cannot be read: at the end of the file: {problem}.",
              file=str(path), problem=what), detail


def _read_secrets_path(path: Path) -> tuple[dict | None, Text | None, str]:
    """``(data, problem, detail)``; ``(None, None, "")`` when the path does not exist (skipped, as Streamlit does)."""
    try:
        if path.is_dir():
            return _read_secrets_dir(path), None, ""
        with path.open("rb") as fh:
            return tomllib.load(fh), None, ""
    except FileNotFoundError:
        return None, None, ""
    except tomllib.TOMLDecodeError as exc:
        problem, detail = _toml_problem(path, exc)
        return None, problem, detail
    except UnicodeDecodeError as exc:
        return None, N_("The settings file {file} cannot be read: it is not UTF-8 text (byte {position}).",
                        file=str(path), position=exc.start + 1), f"{path}: {exc}"
    except OSError as exc:
        return None, N_("The settings file {file} cannot be read: {problem}.",
                        file=str(path), problem=exc.strerror or type(exc).__name__), f"{path}: {exc}"


def _read_secrets_dir(path: Path) -> dict:
    """Kubernetes-style secrets, as Streamlit reads them: ``<dir>/<name>/<file>`` (one file: a value)."""
    out: dict[str, Any] = {}
    for sub in sorted(path.iterdir()):
        if not sub.is_dir():
            continue
        values = {f.name: f.read_text(encoding="utf-8").strip() for f in sorted(sub.iterdir()) if f.is_file()}
        out[sub.name] = next(iter(values.values())) if len(values) == 1 else values
    return out


# =================================================================================================================
# The loader
# =================================================================================================================
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
    problems: list[Text] = []
    details: list[str] = []
    warnings: list[Text] = []

    # --- 1. the files (each one whole, or an error) --------------------------------------------------------------
    files: list[tuple[str, dict]] = []
    read: list[str] = []
    if secrets is not None:
        files.append(("secrets", dict(secrets)))
    else:
        if str(env.get("WPP_SECRETS_FILE") or "").strip():
            paths = [Path(str(env["WPP_SECRETS_FILE"]).strip()).expanduser()]
        elif secrets_files is not None:
            paths = [Path(p).expanduser() for p in secrets_files]
        else:
            paths = default_secrets_files()
        for path in paths:
            data, problem, detail = _read_secrets_path(path)
            if problem is not None:
                problems.append(problem)
                details.append(detail)
            elif data is not None:
                files.append((str(path), data))
                read.append(str(path))
    if problems:
        raise InvalidSettings(problems, detail="\n".join(details))

    # --- 2. the layers of single values, strongest first --------------------------------------------------------
    staff_over = overrides.pop("staff", None)
    auth_over = overrides.pop("auth", None)
    over_layer: dict[str, Any] = {}
    for key, value in overrides.items():
        alias = key.upper() if key.upper() in ALIASES else next(
            (a for a, f in ALIASES.items() if f == key), None)
        if alias is None:
            raise TypeError(f"load_settings() got an unknown setting {key!r}")
        if value is not None and not (isinstance(value, str) and not value.strip()):
            over_layer[alias] = value

    merged_files: dict[str, Any] = {}
    file_of: dict[str, str] = {}
    for where, data in files:
        for key, value in data.items():
            merged_files[key] = value  # shallow, like Streamlit: a later file replaces a whole entry
            file_of[key] = where

    env_layer: dict[str, Any] = {}
    env_where: dict[str, str] = {}
    for key, value in env.items():
        upper = str(key).upper()
        if upper in ALIASES and _present(value):
            env_layer[upper] = value
            # Streamlit copies a secrets file's top-level values into os.environ when it starts; such a copy is
            # the file's value, not the environment's.
            same = [k for k in merged_files if str(k).upper() == upper and str(merged_files[k]) == str(value)]
            env_where[upper] = file_of[same[0]] if same else _ENVIRONMENT
        elif upper.startswith("WPP_") and upper not in LOADER_NAMES:
            if not any(str(k).upper() == upper and str(v) == str(value) for k, v in merged_files.items()):
                warnings.append(_unknown(upper, _ENVIRONMENT))  # (a Streamlit copy of a file's name: the file's)

    file_layers: list[dict[str, Any]] = []
    provenance: dict[str, str] = {}
    for where, data in reversed(files):
        layer: dict[str, Any] = {}
        for key, value in data.items():
            upper = str(key).upper()
            if upper in ALIASES:
                if _present(value) and file_of.get(key) == where:
                    layer[upper] = value
                    provenance.setdefault(upper, where)
            elif upper.startswith("WPP_") and upper not in LOADER_NAMES and file_of.get(key) == where:
                warnings.append(_unknown(upper, where))
        file_layers.append(layer)
    for alias in env_layer:
        provenance[alias] = env_where[alias]
    for alias in over_layer:
        provenance[alias] = _ARGUMENTS
    raw: dict[str, Any] = {}
    for layer in (*reversed(file_layers), env_layer, over_layer):
        raw.update(layer)

    # --- 3. tables: [staff] and [auth] ---------------------------------------------------------------------------
    staff_value = staff_over if staff_over is not None else _table(merged_files, "staff")
    staff_where = _ARGUMENTS if staff_over is not None else file_of.get(_key(merged_files, "staff") or "", "")
    staff: dict[str, str] = {}
    staff_access: dict[str, Any] = {}
    if staff_value is not None:
        staff, staff_access = _check_staff(staff_value, _where(staff_where), problems, warnings)
    emails_value = raw.get("WPP_ALLOWED_EMAILS")
    emails_where = _where(provenance.get("WPP_ALLOWED_EMAILS", _ARGUMENTS))
    email_grants: dict[str, Any] = {}
    emails_table = False
    if emails_value is not None:
        try:
            email_grants, emails_table = _allowed_grants(emails_value, emails_where, problems)
        except ValueError:
            pass  # not readable at all: the setting's own check below says so
    auth_value = auth_over if auth_over is not None else _table(merged_files, "auth")
    auth_where = _ARGUMENTS if auth_over is not None else file_of.get(_key(merged_files, "auth") or "", "")
    providers: tuple[str, ...] = ()
    if auth_value is not None:
        providers = _check_auth(auth_value, _where(auth_where), problems, warnings)

    # WPP_ALERT_RECIPIENTS: one problem per bad entry, naming it (then the setting's own line is left out)
    recipient_problems: list[Text] = []
    if raw.get("WPP_ALERT_RECIPIENTS") is not None:
        from .alerts.recipients import parse_recipients

        try:
            _recipients, recipient_problems = parse_recipients(
                raw["WPP_ALERT_RECIPIENTS"], _where(provenance.get("WPP_ALERT_RECIPIENTS", _ARGUMENTS)))
        except ValueError:
            pass  # not readable at all: the setting's own check below says so
        problems.extend(recipient_problems)

    # --- 4. single values, checked by the declared model ---------------------------------------------------------
    settings: Settings | None = None
    extra = dict(staff=staff, staff_access=staff_access, allowed_email_grants=email_grants,
                 allowed_emails_table=emails_table, oidc_configured=auth_value is not None,
                 oidc_providers=providers, secrets_files=tuple(read), provenance=provenance)
    token = _LAYERS.set((env_layer, *file_layers))
    try:
        settings = Settings(**over_layer, **extra)
    except ValidationError as exc:
        field_problems = {}
        for err in exc.errors():
            loc = str(err["loc"][0]) if err.get("loc") else ""
            field = ALIASES.get(loc.upper(), loc)
            if field in field_problems or field not in ALIASES.values():
                continue  # one line per setting (the loader's own fields are built right)
            if field == "alert_recipients" and recipient_problems:
                continue  # each bad entry is named above
            info = Settings.model_fields[field]
            alias = info.alias or field
            value = raw.get(alias, err.get("input"))
            field_problems[field] = N_(
                "{name} is “{value}” (set in {source}), but it must be {rule}.",
                name=alias, value=_shown_value(field, value), source=_where(provenance.get(alias, _ARGUMENTS)),
                rule=info.json_schema_extra["rule"])
        problems[:0] = [field_problems[f] for f in Settings.model_fields if f in field_problems]
    finally:
        _LAYERS.reset(token)

    # --- 5. settings that only make sense together ---------------------------------------------------------------
    real = [n for n in ("WPP_SECRET", "SUPABASE_URL", "SUPABASE_KEY", "DATABASE_URL") if n in raw]
    if staff_value is not None:
        real.append("[staff]")
    if auth_value is not None:
        real.append("[auth]")
    if "WPP_BASE_URL" not in raw and real:
        problems.append(N_("WPP_BASE_URL is missing; the console will not start a demo over real settings "
                           "(found: {names}).", names=", ".join(real)))
    if ("SUPABASE_URL" in raw) != ("SUPABASE_KEY" in raw):
        have, lack = ("SUPABASE_URL", "SUPABASE_KEY") if "SUPABASE_URL" in raw else ("SUPABASE_KEY", "SUPABASE_URL")
        problems.append(N_("{have} is set but {lack} is missing; both are needed to keep the numbers in Supabase.",
                           have=have, lack=lack))
    if auth_value is not None and "WPP_ALLOWED_EMAILS" not in raw:
        allow_any = raw.get("WPP_ALLOW_ANY_OIDC_ACCOUNT")
        try:
            allow_any = _bool(allow_any) if allow_any is not None else False
        except ValueError:
            allow_any = None  # already reported
        if allow_any is False:
            problems.append(N_(
                "[auth] lets people sign in with an organisation account, but nobody is allowed: set "
                "WPP_ALLOWED_EMAILS (email addresses or @domain entries), or WPP_ALLOW_ANY_OIDC_ACCOUNT = true to let "
                "in anyone the provider accepts."))
    if settings is not None and settings.allow_any_oidc_account and settings.allowed_emails:
        warnings.append(N_("WPP_ALLOW_ANY_OIDC_ACCOUNT is true, so WPP_ALLOWED_EMAILS is not used: anyone the "
                           "sign-in provider accepts may sign in."))
    if settings is not None and settings.allow_any_oidc_account:
        warnings.append(N_("WPP_ALLOW_ANY_OIDC_ACCOUNT is true: everyone with an account at the sign-in provider may "
                           "sign in, and each of them is an administrator of every school. To give people roles, set "
                           "it to false and list who may sign in, with their roles, in WPP_ALLOWED_EMAILS."))
    elif settings is not None and settings.allowed_emails and not emails_table and email_grants:
        warnings.append(N_n(
            "WPP_ALLOWED_EMAILS (in {source}) lists {n} entry without a role ({entries}): whoever signs in through "
            "it is an administrator of every school. To give roles, write WPP_ALLOWED_EMAILS as a table, with lines "
            "such as {example} (in the environment: the same as a JSON object).",
            "WPP_ALLOWED_EMAILS (in {source}) lists {n} entries without a role ({entries}): whoever signs in through "
            "them is an administrator of every school. To give roles, write WPP_ALLOWED_EMAILS as a table, with lines "
            "such as {example} (in the environment: the same as a JSON object).",
            len(email_grants), source=emails_where, entries=_few(email_grants),
            example='[WPP_ALLOWED_EMAILS] "@school.org" = { role = "operator", schools = ["<organisation id>"] }'))
    if (settings is not None and settings.store_kind == "supabase" and not settings.member_table
            and not emails_table):
        warnings.append(N_(
            "Nobody can sign in with a school platform account (Supabase Auth): WPP_MEMBER_TABLE is not set and "
            "WPP_ALLOWED_EMAILS gives no roles. Set WPP_MEMBER_TABLE to the school platform's table of who belongs "
            "to which school with which role (and WPP_MEMBER_ROLES to what its roles mean here), or write "
            "WPP_ALLOWED_EMAILS as a table of email addresses and @domain entries with their roles."))
    if settings is not None:
        _check_alerts(settings, problems, warnings)
    if settings is not None and settings.demo and not real:
        folder = settings.data_folder if settings.data_dir else default_data_dir(env)
        if (folder / REAL_DB).exists():
            problems.append(N_(
                "The data folder {folder} holds the real console's numbers ({file}), but no platform is configured "
                "(WPP_BASE_URL and the rest seem to be missing), so the console will not start a demo there. "
                "Check that the secrets file and the environment are the ones the console was set up with.",
                folder=str(folder), file=REAL_DB))

    if problems:
        raise InvalidSettings(problems, detail="\n".join(details))
    assert settings is not None
    if not settings.data_dir:
        settings.data_dir = str(default_data_dir(env))
    settings.warnings = warnings
    return settings


def _check_alerts(settings: Settings, problems: list[Text], warnings: list[Text]) -> None:
    """Alert settings that only make sense together (``WPP_ALERT_RECIPIENTS`` and ``WPP_SMTP_*``)."""
    recipients = settings.alert_recipients
    if settings.demo:
        if recipients or settings.smtp_host:
            warnings.append(N_("In demo mode alerts go to the demo outbox only (the Alerts page): nothing is sent to "
                               "WPP_ALERT_RECIPIENTS or through WPP_SMTP_HOST."))
        return
    if recipients is not None and recipients.has_email and not settings.smtp_host:
        problems.append(N_("WPP_ALERT_RECIPIENTS lists e-mail addresses, but no mail server is set: set WPP_SMTP_HOST "
                           "and WPP_SMTP_FROM (or leave the e-mail addresses out)."))
    if settings.smtp_host and not settings.smtp_sender:
        problems.append(N_("WPP_SMTP_HOST is set, but WPP_SMTP_FROM is missing: set the address the alerts are sent "
                           "from."))
    if bool(settings.smtp_user) != bool(settings.smtp_password):
        have, lack = (("WPP_SMTP_USER", "WPP_SMTP_PASSWORD") if settings.smtp_user
                      else ("WPP_SMTP_PASSWORD", "WPP_SMTP_USER"))
        problems.append(N_("{have} is set but {lack} is missing; the mail server needs both to sign in.",
                           have=have, lack=lack))
    if (settings.smtp_host and settings.smtp_tls == "none" and settings.smtp_password
            and settings.smtp_host not in ("localhost", "127.0.0.1", "::1")):
        warnings.append(N_("WPP_SMTP_TLS is none: the mail server's password and the alerts travel unencrypted. Use "
                           "starttls or ssl."))


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def _key(data: Mapping[str, Any], name: str) -> str | None:
    """The key of ``data`` that is ``name`` in any case (the last one)."""
    found = [k for k in data if str(k).lower() == name]
    return found[-1] if found else None


def _table(data: Mapping[str, Any], name: str) -> Any:
    key = _key(data, name)
    return None if key is None else data[key]


def _unknown(name: str, source: str) -> Text:
    if name in RETIRED:
        return N_("{name} (in {source}) is no longer used. {instead}", name=name, source=_where(source),
                  instead=RETIRED[name])
    close = difflib.get_close_matches(name, list(ALIASES), n=1, cutoff=0.8)
    if close:
        return N_("{name} (in {source}) is not a setting the console knows, so it is ignored. Did you mean "
                  "{suggestion}?", name=name, source=_where(source), suggestion=close[0])
    return N_("{name} (in {source}) is not a setting the console knows, so it is ignored.", name=name,
              source=_where(source))


# =================================================================================================================
# Roles: [staff.<name>] tables and the table form of WPP_ALLOWED_EMAILS
# =================================================================================================================
_GRANT_KEYS = ("role", "schools")
_STAFF_KEYS = ("password", "role", "schools")
#: an entry of WPP_ALLOWED_EMAILS' table form, as the messages show it
_EMAIL_ENTRY_EXAMPLE = '{ role = "operator", schools = ["<organisation id>"] }'


def _few(names: Iterable[str], limit: int = 5) -> str:
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
    from .access.roles import Grant, Role, parse_schools

    ok = True
    role = table.get("role")
    if not _present(role):
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


def _check_staff(staff_value: Any, where: Text | str, problems: list[Text],
                 warnings: list[Text]) -> tuple[dict[str, str], dict[str, Any]]:
    """The ``[staff]`` table -> ``(name -> password hash, name -> Grant)``.

    ``name = "<hash>"`` (the old form) is an administrator of every school (one warning says how many there are);
    ``[staff.<name>]`` has ``password``, ``role`` and ``schools``, each required: anything missing or wrong is a
    problem naming the account. Every password hash goes through :func:`~wpp.access.passwords.staff_problems`."""
    from .access.passwords import staff_problems
    from .access.roles import ALL, Grant, Role

    if not isinstance(staff_value, Mapping):
        problems.append(N_("[staff] in {source} must be a table of staff names and password hashes.", source=where))
        return {}, {}
    hashes: dict[str, str] = {}
    access: dict[str, Any] = {}
    checked: dict[str, object] = {}
    legacy: list[str] = []
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
            len(legacy), source=where, names=_few(legacy)))
    return hashes, access


def _allowed_grants(value: Any, where: Text | str, problems: list[Text]) -> tuple[dict[str, Any], bool]:
    """``WPP_ALLOWED_EMAILS`` -> ``(entry -> Grant, given as a table?)``.

    The list form (a text of entries, a list, or a JSON array): each good entry is an administrator of every school (its bad
    entries are the setting's own problem, see :func:`_emails`). The table form (a TOML table or a JSON object):
    ``"<entry>" = "<role>"`` (that role for every school) or ``"<entry>" = { role = ..., schools = [...] }``; every
    entry that is wrong is a problem naming it. ValueError when the value cannot be read at all."""
    from .access.oidc import parse_allow_list
    from .access.roles import ALL, Grant, Role

    table = _email_table(value)
    if table is None:
        entries, _bad = parse_allow_list(_email_list(value))
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


_PROVIDER_KEYS = ("client_id", "client_secret", "server_metadata_url")


def _check_auth(auth: Any, where: Text | str, problems: list[Text], warnings: list[Text]) -> tuple[str, ...]:
    """Check an ``[auth]`` table the way Streamlit's st.login will need it; returns the provider names."""
    if not isinstance(auth, Mapping):
        problems.append(N_("[auth] in {source} must be a table of OpenID Connect settings.", source=where))
        return ()
    example = "https://console.example.org/oauth2callback"
    for key in auth:
        if str(key).upper() in ALIASES:
            problems.append(N_("{name} is inside the [auth] table, where the console does not read it: move it above "
                               "the [auth] line (in TOML everything below a [table] line belongs to it).",
                               name=str(key).upper()))
    redirect = auth.get("redirect_uri")
    if not _present(redirect):
        problems.append(N_("[auth] has no redirect_uri: set it to this console's address followed by "
                           "/oauth2callback, e.g. {example}.", example=example))
    else:
        try:
            ok = _url(str(redirect).replace("{port}", "8501")).endswith("/oauth2callback")
        except ValueError:
            ok = False
        if not ok:
            problems.append(N_("[auth] redirect_uri is “{value}”, but it must be this console's web address followed "
                               "by /oauth2callback, e.g. {example}.", value=short(redirect, 80), example=example))
    cookie_secret = auth.get("cookie_secret")
    if not _present(cookie_secret):
        problems.append(N_("[auth] has no cookie_secret: set it to a long random text (at least 32 characters)."))
    elif len(str(cookie_secret)) < 32:
        warnings.append(N_("[auth] cookie_secret is short; use a random text of at least 32 characters."))
    providers: list[str] = []
    if any(k in auth for k in _PROVIDER_KEYS):
        providers.append("default")
        _check_provider("default", auth, problems)
    for name, table in auth.items():
        if isinstance(table, Mapping) and name != "client_kwargs":
            providers.append(str(name))
            if "_" in str(name):
                problems.append(N_("[auth.{provider}]: a provider's name may not contain “_”.", provider=name))
            _check_provider(str(name), table, problems)
    if not providers:
        problems.append(N_("[auth] names no sign-in provider: set client_id, client_secret and server_metadata_url in "
                           "it (or in a table such as [auth.google])."))
    return tuple(providers)


def _check_provider(name: str, table: Mapping[str, Any], problems: list[Text]) -> None:
    missing = [k for k in _PROVIDER_KEYS if not _present(table.get(k))]
    if missing:
        problems.append(N_("[auth] provider “{provider}” lacks {keys}.", provider=name, keys=", ".join(missing)))
    url = table.get("server_metadata_url")
    if _present(url):
        try:
            _url(url)
        except ValueError:
            problems.append(N_("[auth] provider “{provider}”: server_metadata_url is “{value}”, but it must be {rule}.",
                               provider=name, value=short(url, 80),
                               rule=_web_address("https://accounts.google.com/.well-known/openid-configuration")))


__all__ = [
    "ALIASES",
    "DEMO_DB",
    "InvalidSettings",
    "REAL_DB",
    "Settings",
    "default_data_dir",
    "default_secrets_files",
    "load_settings",
]
