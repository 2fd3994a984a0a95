"""Settings that only make sense together, each rule with its message: the tables (``[staff]``, ``[auth]``, the
grants of ``WPP_ALLOWED_EMAILS``, the entries of ``WPP_ALERT_RECIPIENTS``), no demo over real settings, Supabase's
two halves, who may sign in with an organisation account, the alerts' mail server, a demo in a real data folder.

A problem stops the console (one line, naming the setting and what to do); a warning is shown on the Settings page.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from ..i18n import N_, N_n, Text
from ..textutil import short
from .checks import present, url, yes_no
from .derived import REAL_DB, default_data_dir
from .grants import allowed_grants, check_staff, few
from .problems import Report, where
from .settings import ALIASES, Settings, web_address
from .sources import Found


# =================================================================================================================
# The tables
# =================================================================================================================
@dataclass
class Tables:
    """What the tables of the settings give: staff accounts and their roles, the grants of ``WPP_ALLOWED_EMAILS``,
    the ``[auth]`` providers, and the problems of ``WPP_ALERT_RECIPIENTS``' entries."""

    staff_given: bool = False
    staff: dict[str, str] = field(default_factory=dict)
    staff_access: dict[str, Any] = field(default_factory=dict)
    email_grants: dict[str, Any] = field(default_factory=dict)
    emails_table: bool = False
    emails_where: Text | str = ""
    auth_given: bool = False
    providers: tuple[str, ...] = ()
    recipient_problems: list[Text] = field(default_factory=list)


def read_tables(found: Found, report: Report) -> Tables:
    """``[staff]``, ``WPP_ALLOWED_EMAILS``' grants, ``[auth]`` and ``WPP_ALERT_RECIPIENTS``' entries, each entry
    that is wrong a problem naming it."""
    tables = Tables()
    staff_value, staff_where = found.table("staff")
    tables.staff_given = staff_value is not None
    if staff_value is not None:
        tables.staff, tables.staff_access = check_staff(staff_value, where(staff_where), report.problems,
                                                        report.warnings)
    emails_value = found.raw.get("WPP_ALLOWED_EMAILS")
    tables.emails_where = found.where("WPP_ALLOWED_EMAILS")
    if emails_value is not None:
        try:
            tables.email_grants, tables.emails_table = allowed_grants(emails_value, tables.emails_where,
                                                                      report.problems)
        except ValueError:
            pass  # not readable at all: the setting's own check says so
    auth_value, auth_where = found.table("auth")
    tables.auth_given = auth_value is not None
    if auth_value is not None:
        tables.providers = check_auth(auth_value, where(auth_where), report.problems, report.warnings)
    # WPP_ALERT_RECIPIENTS: one problem per bad entry, naming it (then the setting's own line is left out)
    if found.raw.get("WPP_ALERT_RECIPIENTS") is not None:
        from ..alerts.recipients import parse_recipients

        try:
            _recipients, tables.recipient_problems = parse_recipients(
                found.raw["WPP_ALERT_RECIPIENTS"], found.where("WPP_ALERT_RECIPIENTS"))
        except ValueError:
            pass  # not readable at all: the setting's own check says so
        report.problems.extend(tables.recipient_problems)
    return tables


# =================================================================================================================
# [auth]: Streamlit's st.login (OpenID Connect)
# =================================================================================================================
_PROVIDER_KEYS = ("client_id", "client_secret", "server_metadata_url")


def check_auth(auth: Any, where: Text | str, problems: list[Text], warnings: list[Text]) -> tuple[str, ...]:
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
    if not present(redirect):
        problems.append(N_("[auth] has no redirect_uri: set it to this console's address followed by "
                           "/oauth2callback, e.g. {example}.", example=example))
    else:
        try:
            ok = url(str(redirect).replace("{port}", "8501")).endswith("/oauth2callback")
        except ValueError:
            ok = False
        if not ok:
            problems.append(N_("[auth] redirect_uri is “{value}”, but it must be this console's web address followed "
                               "by /oauth2callback, e.g. {example}.", value=short(redirect, 80), example=example))
    cookie_secret = auth.get("cookie_secret")
    if not present(cookie_secret):
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
    missing = [k for k in _PROVIDER_KEYS if not present(table.get(k))]
    if missing:
        problems.append(N_("[auth] provider “{provider}” lacks {keys}.", provider=name, keys=", ".join(missing)))
    address = table.get("server_metadata_url")
    if present(address):
        try:
            url(address)
        except ValueError:
            problems.append(N_("[auth] provider “{provider}”: server_metadata_url is “{value}”, but it must be {rule}.",
                               provider=name, value=short(address, 80),
                               rule=web_address("https://accounts.google.com/.well-known/openid-configuration")))


# =================================================================================================================
# Between settings
# =================================================================================================================
def check_together(settings: Settings | None, found: Found, tables: Tables, env: Mapping[str, str],
                   report: Report) -> None:
    """Every rule between settings, in this order (``settings`` is None when a single value was wrong: then only
    the rules that read the raw values)."""
    real = _real_settings(found, tables)
    _no_demo_over_real(found, real, report)
    _supabase_needs_both(found, report)
    _organisation_accounts_need_someone(found, tables, report)
    if settings is None:
        return
    _who_may_sign_in(settings, tables, report)
    _alerts(settings, report.problems, report.warnings)
    _witness(settings, report.problems)
    if settings.demo and not real:
        _no_demo_in_real_data(settings, env, report)


def _real_settings(found: Found, tables: Tables) -> list[str]:
    """The real console's settings that are set (none of them may be set in demo mode)."""
    real = [n for n in ("WPP_SECRET", "SUPABASE_URL", "SUPABASE_KEY", "DATABASE_URL") if n in found.raw]
    if tables.staff_given:
        real.append("[staff]")
    if tables.auth_given:
        real.append("[auth]")
    return real


def _no_demo_over_real(found: Found, real: list[str], report: Report) -> None:
    if "WPP_BASE_URL" not in found.raw and real:
        report.problems.append(N_("WPP_BASE_URL is missing; the console will not start a demo over real settings "
                                  "(found: {names}).", names=", ".join(real)))


def _supabase_needs_both(found: Found, report: Report) -> None:
    raw = found.raw
    if ("SUPABASE_URL" in raw) != ("SUPABASE_KEY" in raw):
        have, lack = ("SUPABASE_URL", "SUPABASE_KEY") if "SUPABASE_URL" in raw else ("SUPABASE_KEY", "SUPABASE_URL")
        report.problems.append(N_("{have} is set but {lack} is missing; both are needed to keep the numbers in "
                                  "Supabase.", have=have, lack=lack))


def _organisation_accounts_need_someone(found: Found, tables: Tables, report: Report) -> None:
    raw = found.raw
    if tables.auth_given and "WPP_ALLOWED_EMAILS" not in raw:
        allow_any = raw.get("WPP_ALLOW_ANY_OIDC_ACCOUNT")
        try:
            allow_any = yes_no(allow_any) if allow_any is not None else False
        except ValueError:
            allow_any = None  # already reported
        if allow_any is False:
            report.problems.append(N_(
                "[auth] lets people sign in with an organisation account, but nobody is allowed: set "
                "WPP_ALLOWED_EMAILS (email addresses or @domain entries), or WPP_ALLOW_ANY_OIDC_ACCOUNT = true to let "
                "in anyone the provider accepts."))


def _who_may_sign_in(settings: Settings, tables: Tables, report: Report) -> None:
    """Warnings: everyone at the provider is let in, entries without a role, nobody can sign in through Supabase."""
    warnings = report.warnings
    if settings.allow_any_oidc_account and settings.allowed_emails:
        warnings.append(N_("WPP_ALLOW_ANY_OIDC_ACCOUNT is true, so WPP_ALLOWED_EMAILS is not used: anyone the "
                           "sign-in provider accepts may sign in."))
    if settings.oidc_trust_emails:
        warnings.append(N_("WPP_OIDC_TRUST_EMAILS is true: when the sign-in provider does not say whether an e-mail "
                           "address was verified, the console believes it, and WPP_ALLOWED_EMAILS gives that address "
                           "its role. Keep it only for a provider that lets nobody choose an address they do not own "
                           "(your organisation's own accounts)."))
    if settings.allow_any_oidc_account:
        warnings.append(N_("WPP_ALLOW_ANY_OIDC_ACCOUNT is true: everyone with an account at the sign-in provider may "
                           "sign in, and each of them is an administrator of every school. To give people roles, set "
                           "it to false and list who may sign in, with their roles, in WPP_ALLOWED_EMAILS."))
    elif settings.allowed_emails and not tables.emails_table and tables.email_grants:
        warnings.append(N_n(
            "WPP_ALLOWED_EMAILS (in {source}) lists {n} entry without a role ({entries}): whoever signs in through "
            "it is an administrator of every school. To give roles, write WPP_ALLOWED_EMAILS as a table, with lines "
            "such as {example} (in the environment: the same as a JSON object).",
            "WPP_ALLOWED_EMAILS (in {source}) lists {n} entries without a role ({entries}): whoever signs in through "
            "them is an administrator of every school. To give roles, write WPP_ALLOWED_EMAILS as a table, with lines "
            "such as {example} (in the environment: the same as a JSON object).",
            len(tables.email_grants), source=tables.emails_where, entries=few(tables.email_grants),
            example='[WPP_ALLOWED_EMAILS] "@school.org" = { role = "operator", schools = ["<organisation id>"] }'))
    if settings.store_kind == "supabase" and not settings.member_table and not tables.emails_table:
        warnings.append(N_(
            "Nobody can sign in with a school platform account (Supabase Auth): WPP_MEMBER_TABLE is not set and "
            "WPP_ALLOWED_EMAILS gives no roles. Set WPP_MEMBER_TABLE to the school platform's table of who belongs "
            "to which school with which role (and WPP_MEMBER_ROLES to what its roles mean here), or write "
            "WPP_ALLOWED_EMAILS as a table of email addresses and @domain entries with their roles."))


def _no_demo_in_real_data(settings: Settings, env: Mapping[str, str], report: Report) -> None:
    folder = settings.data_folder if settings.data_dir else default_data_dir(env)
    if (folder / REAL_DB).exists():
        report.problems.append(N_(
            "The data folder {folder} holds the real console's numbers ({file}), but no platform is configured "
            "(WPP_BASE_URL and the rest seem to be missing), so the console will not start a demo there. "
            "Check that the secrets file and the environment are the ones the console was set up with.",
            folder=str(folder), file=REAL_DB))


def _witness(settings: Settings, problems: list[Text]) -> None:
    """Proof of delivery: the scheduled checks must fit the daily limit."""
    if settings.witness_checks_per_day > settings.witness_max_per_day:
        problems.append(N_(
            "WPP_WITNESS_CHECKS_PER_DAY ({n}) is more than WPP_WITNESS_MAX_PER_DAY ({max}): the delivery checks "
            "by schedule must fit the daily limit. Lower the first or raise the second.",
            n=settings.witness_checks_per_day, max=settings.witness_max_per_day))


def _alerts(settings: Settings, problems: list[Text], warnings: list[Text]) -> None:
    """Alert settings that only make sense together (``WPP_ALERT_RECIPIENTS`` and ``WPP_SMTP_*``)."""
    recipients = settings.alert_recipients
    if settings.demo:
        if recipients or settings.smtp_host:
            warnings.append(N_("In demo mode alerts go to the demo outbox only (the Alerts page): nothing is sent to "
                               "WPP_ALERT_RECIPIENTS or through WPP_SMTP_HOST."))
        return
    if recipients is not None and recipients.has_telegram and not settings.telegram_bot_token:
        problems.append(N_("WPP_ALERT_RECIPIENTS lists Telegram chats, but no bot is set: set WPP_TELEGRAM_BOT_TOKEN "
                           "(or leave the Telegram chats out)."))
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
