"""Every setting of the console, declared once, group by group in the order README lists them: the platform,
where numbers are kept, who may sign in, alerts, the watch (retention, metrics), the simulated platform (demo).

A setting is one field: its type, its value check (:mod:`.checks`) and ``setting(default, NAME, label, rule, …)``
— the name read from the environment and the secrets files, the label the Settings page shows, the rule a wrong
value's message quotes, whether it is secret (masked everywhere), its group and unit. What follows from the values
is in :mod:`.derived`; how they are shown, in :mod:`.describe`; where they come from, in :mod:`.sources`.
Build it with :func:`wpp.config.load_settings`.
"""
from __future__ import annotations

import contextvars
from contextlib import contextmanager
from typing import Annotated, Any, Callable, Iterable, Iterator

from pydantic import BeforeValidator, Field, model_validator
from pydantic_settings import BaseSettings, InitSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict

from ..i18n import N_, Text
from ..masking import Secret
from . import checks, describe as _describe
from .derived import Derived
from .grants import allowed_grants, emails

# --- how one setting is declared ---------------------------------------------------------------------------------
_SECONDS_AT_LEAST_1 = N_("a number of seconds, at least 1")
_SECONDS_ABOVE_0 = N_("a number of seconds greater than 0")


def web_address(example: str) -> Text:
    """The rule of a web-address setting, with an example."""
    return N_("a web address that starts with http:// or https:// and names a host, e.g. {example}", example=example)


def setting(default: Any, name: str, label: Text, rule: Text, *, secret: bool = False, group: str = "platform",
            unit: str | None = None) -> Any:
    """A field read from ``name`` (environment / secrets files), shown as ``label``; ``rule`` says what it must be."""
    return Field(default, alias=name,
                 json_schema_extra={"label": label, "rule": rule, "secret": secret, "group": group, "unit": unit})


def check(fn: Callable[[Any], Any]) -> BeforeValidator:
    """A value check run before pydantic's own; None (not set) passes through."""
    return BeforeValidator(lambda value: None if value is None else fn(value))


_LAYERS: contextvars.ContextVar[tuple[dict, ...]] = contextvars.ContextVar("wpp_settings_layers", default=())


class Settings(Derived, BaseSettings):
    """Every setting of the console (see :mod:`wpp.config`). Build it with :func:`wpp.config.load_settings`.

    ``Settings(**values)`` alone reads nothing but its arguments (no environment, no files), for tests and tools.
    """

    model_config = SettingsConfigDict(
        validate_by_name=True, validate_by_alias=True, extra="ignore", case_sensitive=False,
        arbitrary_types_allowed=True, hide_input_in_errors=True, validate_assignment=True, validate_default=False,
    )

    # --- the platform -------------------------------------------------------------------------------------------
    wpp_base_url: Annotated[str | None, check(checks.url)] = setting(
        None, "WPP_BASE_URL", N_("Platform address"), web_address("https://wpp.example.org"))
    wpp_secret: Annotated[Secret | None, check(checks.secret)] = setting(
        None, "WPP_SECRET", N_("Platform secret"), N_("text (the platform secret)"), secret=True)
    jwt_verify_key: Annotated[Secret | None, check(checks.secret)] = setting(
        None, "WPP_JWT_VERIFY_KEY", N_("Key that checks the access keys' signatures"),
        N_("text (a shared secret or a PEM public key)"), secret=True)
    http_timeout: Annotated[float, check(checks.number(gt=0))] = setting(
        10.0, "WPP_HTTP_TIMEOUT", N_("How long to wait for the platform's answer"), _SECONDS_ABOVE_0, unit="s")
    activation_wait_s: Annotated[float, check(checks.number(ge=0, le=600))] = setting(
        15.0, "WPP_KEY_ACTIVATION_WAIT", N_("How long a new permanent key may take to start working"),
        N_("a number of seconds from {low} to {high}", low=0, high=600), unit="s")
    fleet_concurrency: Annotated[int, check(checks.number(integer=True, ge=1, le=500))] = setting(
        50, "WPP_FLEET_CONCURRENCY", N_("How many numbers are checked at the same time"),
        N_("a whole number from {low} to {high}", low=1, high=500))
    poll_seconds: Annotated[float, check(checks.number(ge=1))] = setting(
        3.0, "WPP_POLL_SECONDS", N_("How often pages refresh"), _SECONDS_AT_LEAST_1, unit="s")
    poll_connected_seconds: Annotated[float, check(checks.number(ge=1))] = setting(
        60.0, "WPP_POLL_CONNECTED_SECONDS", N_("How often connected numbers are checked"), _SECONDS_AT_LEAST_1,
        unit="s")
    poll_offline_seconds: Annotated[float, check(checks.number(ge=1))] = setting(
        30.0, "WPP_POLL_OFFLINE_SECONDS", N_("How often offline numbers are checked"),
        _SECONDS_AT_LEAST_1, unit="s")
    poll_pairing_seconds: Annotated[float, check(checks.number(ge=1))] = setting(
        2.0, "WPP_POLL_PAIRING_SECONDS", N_("How often a number waiting for the QR scan is checked"),
        _SECONDS_AT_LEAST_1, unit="s")
    webhook_sanity_minutes: Annotated[float, check(checks.number(gt=0, le=1440))] = setting(
        10.0, "WPP_WEBHOOK_SANITY_MINUTES",
        N_("How often a number whose status the platform pushes is still checked"),
        N_("a number of minutes greater than 0, at most {high}", high=1440), unit="min")

    # --- where numbers are kept ---------------------------------------------------------------------------------
    supabase_url: Annotated[str | None, check(checks.url)] = setting(
        None, "SUPABASE_URL", N_("Supabase address"), web_address("https://xyz.supabase.co"),
        group="store")
    supabase_key: Annotated[Secret | None, check(checks.secret)] = setting(
        None, "SUPABASE_KEY", N_("Supabase key"), N_("text (the Supabase project's key)"), secret=True, group="store")
    database_url: Annotated[Secret | None, check(checks.database_url)] = setting(
        None, "DATABASE_URL", N_("PostgreSQL address"),
        N_("a PostgreSQL address such as postgresql://user:password@host/database"), secret=True, group="store")
    data_dir: Annotated[str | None, check(checks.folder)] = setting(
        None, "WPP_DATA_DIR", N_("Data folder"), N_("a folder (it is made when missing), not a file"), group="store")
    org_table: Annotated[str, check(checks.identifier(table=True))] = setting(
        "organizations", "WPP_ORG_TABLE", N_("Table of the school platform's organisations"),
        N_("a table name of letters, digits and _, not starting with a digit, optionally after a schema name "
           "and a dot (schema.table)"), group="store")
    org_id_column: Annotated[str, check(checks.identifier(table=False))] = setting(
        "id", "WPP_ORG_ID_COLUMN", N_("Column with an organisation's id"),
        N_("a column name of letters, digits and _, not starting with a digit"), group="store")
    org_name_column: Annotated[str, check(checks.identifier(table=False))] = setting(
        "name", "WPP_ORG_NAME_COLUMN", N_("Column with an organisation's name"),
        N_("a column name of letters, digits and _, not starting with a digit"), group="store")

    # --- who may sign in ----------------------------------------------------------------------------------------
    session_hours: Annotated[float, check(checks.number(gt=0))] = setting(
        12.0, "WPP_SESSION_HOURS", N_("How long a sign-in lasts"), N_("a number of hours greater than 0"),
        group="sign_in", unit="h")
    allowed_emails: Annotated[str | None, check(emails)] = setting(
        None, "WPP_ALLOWED_EMAILS", N_("Who may sign in with an organisation account"),
        N_("email addresses and @domain entries separated by commas, e.g. {example}, or a table of such entries "
           "and their roles (see .streamlit/secrets.toml.example)", example="anna@school.org, @school.org"),
        group="sign_in")
    allow_any_oidc_account: Annotated[bool, check(checks.yes_no)] = setting(
        False, "WPP_ALLOW_ANY_OIDC_ACCOUNT", N_("Anyone with an account at the sign-in provider may sign in"),
        N_("one of true, false, yes, no, 1 or 0"), group="sign_in")
    oidc_trust_emails: Annotated[bool, check(checks.yes_no)] = setting(
        False, "WPP_OIDC_TRUST_EMAILS", N_("Trust the sign-in provider's e-mail addresses when it does not say "
                                           "whether they are verified"),
        N_("one of true, false, yes, no, 1 or 0"), group="sign_in")
    member_table: Annotated[str | None, check(checks.identifier(table=True))] = setting(
        None, "WPP_MEMBER_TABLE", N_("Table of the school platform's members (who belongs to which school, with "
                                     "which role)"),
        N_("a table name of letters, digits and _, not starting with a digit, optionally after a schema name "
           "and a dot (schema.table)"), group="sign_in")
    member_user_column: Annotated[str, check(checks.identifier(table=False))] = setting(
        "user_id", "WPP_MEMBER_USER_COLUMN", N_("Column with a member's user id"),
        N_("a column name of letters, digits and _, not starting with a digit"), group="sign_in")
    member_org_column: Annotated[str, check(checks.identifier(table=False))] = setting(
        "organization_id", "WPP_MEMBER_ORG_COLUMN", N_("Column with a member's organisation id"),
        N_("a column name of letters, digits and _, not starting with a digit"), group="sign_in")
    member_role_column: Annotated[str, check(checks.identifier(table=False))] = setting(
        "role", "WPP_MEMBER_ROLE_COLUMN", N_("Column with a member's role"),
        N_("a column name of letters, digits and _, not starting with a digit"), group="sign_in")
    member_roles: Annotated[dict[str, str] | None, check(checks.role_map)] = setting(
        None, "WPP_MEMBER_ROLES", N_("What the school platform's roles are in the console"),
        N_("pairs of a role of the school platform and a console role (viewer, operator or administrator), "
           "e.g. {example}, or a table of them", example="teacher=viewer, manager=operator, owner=administrator"),
        group="sign_in")
    demo_sign_in: Annotated[bool, check(checks.yes_no)] = setting(
        False, "WPP_DEMO_SIGN_IN", N_("Ask for a sign-in in demo mode"), N_("one of true, false, yes, no, 1 or 0"),
        group="demo")

    # --- alerts when a number drops (wpp.alerts) ----------------------------------------------------------------
    public_url: Annotated[str | None, check(checks.url)] = setting(
        None, "WPP_PUBLIC_URL", N_("The console's address as people open it (links in alerts)"),
        web_address("https://console.school.example"), group="alerts")
    alert_recipients: Annotated[Any | None, check(checks.alert_recipients)] = setting(
        None, "WPP_ALERT_RECIPIENTS", N_("Who is told when a number drops"),
        N_("a table of school ids (or \"*\" for every school), each with a list of e-mail addresses and https:// "
           "webhook addresses (see .streamlit/secrets.toml.example)"), secret=True, group="alerts")
    alert_after_minutes: Annotated[float, check(checks.number(gt=0, le=1440))] = setting(
        10.0, "WPP_ALERT_AFTER_MINUTES", N_("How long a number may be down before people are told"),
        N_("a number of minutes greater than 0, at most {high}", high=1440), group="alerts", unit="min")
    alert_language: Annotated[str, check(checks.alert_language)] = setting(
        "ru", "WPP_ALERT_LANGUAGE", N_("Language of the alerts"), N_("one of {choices}", choices="ru, en"),
        group="alerts")
    alert_timezone: Annotated[str, check(checks.time_zone)] = setting(
        "Europe/Moscow", "WPP_ALERT_TIMEZONE", N_("Time zone of the alerts and the quiet hours"),
        N_("a time zone name such as {example}", example="Europe/Moscow"), group="alerts")
    alert_quiet_hours: Annotated[str | None, check(checks.quiet_hours)] = setting(
        None, "WPP_ALERT_QUIET_HOURS", N_("Quiet hours (no alerts are sent)"),
        N_("two different times of day, from-to, such as {example}", example="22:00-07:00"), group="alerts")
    smtp_host: Annotated[str | None, check(checks.host)] = setting(
        None, "WPP_SMTP_HOST", N_("Mail server (SMTP) for alerts"),
        N_("a host name such as {example}", example="smtp.example.org"), group="alerts")
    smtp_port: Annotated[int, check(checks.number(integer=True, ge=1, le=65535))] = setting(
        587, "WPP_SMTP_PORT", N_("Mail server's port"), N_("a whole number from {low} to {high}", low=1, high=65535),
        group="alerts")
    smtp_user: Annotated[str | None, check(checks.text)] = setting(
        None, "WPP_SMTP_USER", N_("User name at the mail server"), N_("text (the user name)"), group="alerts")
    smtp_password: Annotated[Secret | None, check(checks.secret)] = setting(
        None, "WPP_SMTP_PASSWORD", N_("Password at the mail server"), N_("text (the password)"), secret=True,
        group="alerts")
    smtp_from: Annotated[str | None, check(checks.email_address)] = setting(
        None, "WPP_SMTP_FROM", N_("Address the alerts are sent from"),
        N_("an e-mail address such as {example}", example="console@school.example"), group="alerts")
    smtp_tls: Annotated[str, check(checks.smtp_tls)] = setting(
        "starttls", "WPP_SMTP_TLS", N_("How the connection to the mail server is protected"),
        N_("one of {choices}", choices="starttls, ssl, none"), group="alerts")
    # issue 26: one message per outage, reminders, Telegram
    alert_group_minutes: Annotated[float, check(checks.number(ge=0, le=60))] = setting(
        2.0, "WPP_ALERT_GROUP_MINUTES", N_("Drops that start this close together go out as one message"),
        N_("a number of minutes from {low} to {high}", low=0, high=60), group="alerts", unit="min")
    alert_platform_percent: Annotated[int, check(checks.number(integer=True, ge=1, le=100))] = setting(
        50, "WPP_ALERT_PLATFORM_PERCENT",
        N_("When more than this share of the numbers is down at once, it is one platform incident"),
        N_("a whole number of percent from {low} to {high}", low=1, high=100), group="alerts")
    alert_remind_hours: Annotated[float, check(checks.number(ge=0, le=168))] = setting(
        4.0, "WPP_ALERT_REMIND_HOURS",
        N_("A problem nobody said they are on is reminded once after this many working hours (0: never)"),
        N_("a number of hours from {low} to {high}", low=0, high=168), group="alerts", unit="h")
    alert_working_hours: Annotated[str, check(checks.working_hours)] = setting(
        "09:00-18:00", "WPP_ALERT_WORKING_HOURS", N_("Working hours, Monday to Friday (for reminders)"),
        N_("two times of day, from-to, the first earlier, such as {example}", example="09:00-18:00"),
        group="alerts")
    telegram_bot_token: Annotated[Secret | None, check(checks.bot_token)] = setting(
        None, "WPP_TELEGRAM_BOT_TOKEN", N_("Telegram bot that sends the alerts (its token)"),
        N_("the token @BotFather gave, such as {example}", example="123456789:AAF…"), secret=True, group="alerts")
    telegram_api_url: Annotated[str, check(checks.url)] = setting(
        "https://api.telegram.org", "WPP_TELEGRAM_API_URL", N_("Telegram Bot API address"),
        web_address("https://api.telegram.org"), group="alerts")
    # issue 23: how long the alert desk keeps its records (deleted in small batches by the alert sender)
    keep_incidents_days: Annotated[int, check(checks.number(integer=True, ge=1, le=3650))] = setting(
        365, "WPP_KEEP_INCIDENTS_DAYS", N_("How long incidents (and alerts that could not be delivered) are kept"),
        N_("a whole number of days from {low} to {high}", low=1, high=3650), group="alerts", unit="d")
    keep_alerts_days: Annotated[int, check(checks.number(integer=True, ge=1, le=3650))] = setting(
        90, "WPP_KEEP_ALERTS_DAYS", N_("How long delivered alerts are kept"),
        N_("a whole number of days from {low} to {high}", low=1, high=3650), group="alerts", unit="d")

    # --- proof of delivery: check messages to a witness (wpp.service.proof) ------------------------------------
    witness_checks_per_day: Annotated[int, check(checks.number(integer=True, ge=0, le=24))] = setting(
        1, "WPP_WITNESS_CHECKS_PER_DAY", N_("Delivery checks a day per number, sent by themselves"),
        N_("a whole number from {low} to {high}", low=0, high=24), group="witness")
    witness_max_per_day: Annotated[int, check(checks.number(integer=True, ge=1, le=24))] = setting(
        3, "WPP_WITNESS_MAX_PER_DAY", N_("Delivery checks a day per number at most (with “Check delivery now”)"),
        N_("a whole number from {low} to {high}", low=1, high=24), group="witness")
    witness_timeout_minutes: Annotated[float, check(checks.number(gt=0, le=1440))] = setting(
        10.0, "WPP_WITNESS_TIMEOUT_MINUTES", N_("How long a check message may take to be delivered"),
        N_("a number of minutes greater than 0, at most {high}", high=1440), group="witness", unit="min")
    witness_hours: Annotated[str, check(checks.working_hours)] = setting(
        "09:00-18:00", "WPP_WITNESS_HOURS", N_("Hours in which the delivery checks are sent (time zone of the alerts)"),
        N_("two times of day, from-to, the first earlier, such as {example}", example="09:00-18:00"), group="witness")
    witness_text: Annotated[str | None, check(checks.check_text)] = setting(
        None, "WPP_WITNESS_TEXT", N_("Text of the check message (a check code is added)"),
        N_("text of at most {n} characters", n=300), group="witness")
    # --- the watch: records kept in bounds, metrics for whoever runs the console ----------------------------------
    keep_history_days: Annotated[float, check(checks.number(ge=1, le=3650))] = setting(
        30.0, "WPP_KEEP_HISTORY_DAYS", N_("How long each number's connection history is kept"),
        N_("a number of days from {low} to {high}", low=1, high=3650), group="watch", unit="d")
    keep_diary_days: Annotated[float, check(checks.number(ge=1, le=3650))] = setting(
        365.0, "WPP_KEEP_DIARY_DAYS", N_("How long the activity diary is kept"),
        N_("a number of days from {low} to {high}", low=1, high=3650), group="watch", unit="d")
    keep_test_messages_days: Annotated[float, check(checks.number(ge=1, le=3650))] = setting(
        90.0, "WPP_KEEP_TEST_MESSAGES_DAYS", N_("How long test messages and delivery checks are kept"),
        N_("a number of days from {low} to {high}", low=1, high=3650), group="watch", unit="d")
    keep_event_ids_hours: Annotated[float, check(checks.number(ge=24, le=720))] = setting(
        25.0, "WPP_KEEP_EVENT_IDS_HOURS", N_("How long the platform's pushed events are remembered (a repeat is "
                                             "ignored meanwhile)"),
        N_("a number of hours from {low} to {high}", low=24, high=720), group="watch", unit="h")
    metrics_token: Annotated[Secret | None, check(checks.token)] = setting(
        None, "WPP_METRICS_TOKEN", N_("Key for reading the console's metrics (for Prometheus)"),
        N_("text of at least {n} characters without spaces", n=16), secret=True, group="watch")

    # --- the simulated platform (demo) --------------------------------------------------------------------------
    sim_port: Annotated[int | None, check(checks.number(integer=True, ge=1, le=65535))] = setting(
        None, "WPP_SIM_PORT", N_("Port of the simulated platform"),
        N_("a whole number from {low} to {high}", low=1, high=65535), group="demo")
    sim_token_lifetime_s: Annotated[int, check(checks.number(integer=True, ge=1))] = setting(
        900, "WPP_SIM_TOKEN_LIFETIME", N_("How long a simulated access key lasts"),
        N_("a whole number of seconds, at least 1"), group="demo", unit="s")
    sim_qr_rotate_s: Annotated[float, check(checks.number(gt=0))] = setting(
        20.0, "WPP_SIM_QR_ROTATE", N_("How often the simulated QR code changes"), _SECONDS_ABOVE_0, group="demo",
        unit="s")
    demo_fleet: Annotated[bool, check(checks.yes_no)] = setting(
        True, "WPP_DEMO_FLEET", N_("The demo opens on two schools' numbers in different states"),
        N_("one of true, false, yes, no, 1 or 0"), group="demo")

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

    @model_validator(mode="before")
    @classmethod
    def _grants_of_allowed_emails(cls, data: Any) -> Any:
        """``Settings(allowed_emails=...)`` alone (tests, tools) gets its grants too; :func:`load_settings` gives them
        itself (after checking every entry)."""
        if not isinstance(data, dict) or "allowed_email_grants" in data:
            return data
        value = next((v for k, v in data.items()
                      if str(k).lower() in ("allowed_emails", "wpp_allowed_emails") and checks.present(v)), None)
        if value is None:
            return data
        try:
            grants, table = allowed_grants(value, "", [])
        except ValueError:
            return data  # the field's own check reports it
        return {**data, "allowed_email_grants": grants, "allowed_emails_table": table}

    # --- showing (wpp.config.describe) --------------------------------------------------------------------------
    def describe(self) -> list[tuple[Text, str]]:
        """Rows for the Settings page: ``(label, value)`` in plain words, secrets masked (see :mod:`.describe`)."""
        return _describe.rows(self)

    def describe_sections(self) -> list[tuple[str, Text, Text, list[tuple[Text, str]]]]:
        """The same rows in the Settings page's sections: ``(group, title, about, rows)`` (see :mod:`.describe`)."""
        return _describe.sections(self)

    def __repr__(self) -> str:
        return _describe.masked_repr(self)

    __str__ = __repr__


@contextmanager
def layered(layers: Iterable[dict]) -> Iterator[None]:
    """While inside, ``Settings(...)`` also reads these layers of values (strongest first), after its arguments."""
    token = _LAYERS.set(tuple(layers))
    try:
        yield
    finally:
        _LAYERS.reset(token)


#: alias (upper case) -> field name, for the declared settings
ALIASES: dict[str, str] = {
    info.alias.upper(): name for name, info in Settings.model_fields.items()
    if isinstance(info.json_schema_extra, dict) and "label" in info.json_schema_extra
}
#: the field names of the secret settings (masked wherever a value is quoted)
SECRET_FIELDS = {name for name, info in Settings.model_fields.items()
                 if isinstance(info.json_schema_extra, dict) and info.json_schema_extra.get("secret")}
