"""What the Settings page shows of the settings, and how they print: every value in plain words, secrets masked.

:func:`rows` gives ``(label, value)`` pairs in the declared order (``Settings.describe()``); a setting shown as
its own value needs nothing here, one shown otherwise gets a row-maker in :data:`SHOWN_OTHERWISE`.
:func:`masked_repr` is ``repr(settings)`` (never a secret, in a log or a traceback).
"""
from __future__ import annotations

from typing import Any, Callable

from ..i18n import N_, Text, _, _n
from ..masking import Secret, mask

Row = tuple[Text, str]


#: the Settings page's sections, in this order: group -> (title, what it is about), in words an administrator reads
SECTIONS: dict[str, tuple[Text, Text]] = {
    "platform": (N_("The WhatsApp platform"),
                 N_("Where the console reaches the platform, and how often it asks about the numbers.")),
    "store": (N_("Where the numbers are kept"),
              N_("The database with the numbers, their keys and the console's own records.")),
    "sign_in": (N_("Who may sign in"),
                N_("How staff sign in, and which role each person has at which schools.")),
    "alerts": (N_("How alerts are sent"),
               N_("The mail server, the time zone and the quiet hours of the alerts (who gets them: above).")),
    "demo": (N_("The demo"), N_("The simulated platform of demo mode.")),
    "source": (N_("Where these settings come from"),
               N_("To change a setting, whoever installed the console changes it there and restarts the console.")),
}


def rows(settings: Any) -> list[Row]:
    """Rows for the Settings page: ``(label, value)`` in plain words, secrets masked. Values are in the
    current language; demo-only settings are listed in demo mode only."""
    return [(label, value) for _group, label, value in _grouped(settings)]


def sections(settings: Any) -> list[tuple[str, Text, Text, list[Row]]]:
    """The same rows in sections (:data:`SECTIONS`): ``(group, title, about, rows)``, empty sections left out."""
    by_group: dict[str, list[Row]] = {}
    for group, label, value in _grouped(settings):
        by_group.setdefault(group if group in SECTIONS else "platform", []).append((label, value))
    return [(g, title, about, by_group[g]) for g, (title, about) in SECTIONS.items() if by_group.get(g)]


def _grouped(settings: Any) -> list[tuple[str, Text, str]]:
    out: list[tuple[str, Text, str]] = [
        ("platform", N_("Mode"),
         _("Demo: a simulated platform on this computer") if settings.demo else _("The real platform")),
    ]
    for name, info in type(settings).model_fields.items():
        extra = info.json_schema_extra
        if not isinstance(extra, dict) or "label" not in extra:
            continue
        if extra["group"] == "demo" and not settings.demo:
            continue
        otherwise = SHOWN_OTHERWISE.get(name)
        shown = otherwise(settings, extra["label"]) if otherwise is not None else None
        for label, value in (shown if shown is not None else [(extra["label"], _show(getattr(settings, name), extra))]):
            out.append((extra["group"], label, value))
    out.append(("sign_in", N_("Staff accounts"),
                _n("{n} account", "{n} accounts", len(settings.staff)) if settings.staff else _("none")))
    if settings.staff_access:
        out.append(("sign_in", N_("Staff accounts' roles"),
                    "; ".join(f"{name}: {_grant_text(g)}" for name, g in sorted(settings.staff_access.items()))))
    out.append(("sign_in", N_("Sign-in with an organisation account"),
                _("set up ({providers})", providers=", ".join(settings.oidc_providers)) if settings.oidc_configured
                else _("not set up")))
    out.append(("source", N_("Settings read from"), ", ".join(settings.secrets_files) or _("no secrets file")))
    return out


# --- settings not shown as their own value (None: shown as their own value after all) ---------------------------
def _data_folder(settings: Any, label: Text) -> list[Row]:
    out = [(label, str(settings.data_folder))]
    if settings.store_kind == "sqlite":
        out.append((N_("SQLite file"), str(settings.sqlite_path)))
    return out


def _allowed_emails(settings: Any, label: Text) -> list[Row] | None:
    if not (settings.allowed_emails and settings.allowed_email_grants):
        return None
    return [(label, "; ".join(f"{entry}: {_grant_text(g)}" for entry, g in settings.allowed_email_grants.items()))]


def _alert_after(settings: Any, label: Text) -> list[Row]:
    minutes = settings.alert_after_s / 60.0
    shown = _n("{n} minute", "{n} minutes", int(minutes), n=_num(minutes))
    return [(label, shown if not (settings.demo and "alert_after_minutes" not in settings.model_fields_set)
             else _("{value} (demo)", value=shown))]


def _smtp_tls(settings: Any, label: Text) -> list[Row]:
    words = {"starttls": N_("encrypted once connected (STARTTLS)"), "ssl": N_("encrypted from the start (SSL/TLS)"),
             "none": N_("not encrypted")}
    word = words.get(str(settings.smtp_tls).lower())
    return [(label, str(word) if word is not None else str(settings.smtp_tls))]


def _member_roles(settings: Any, label: Text) -> list[Row]:
    shown = ", ".join(f"{k} → {r.label}" for k, r in settings.member_role_map.items())
    return [(label, shown if settings.member_roles else
             _("{roles} (the console's own words; not set)", roles=shown))]


#: field name -> its rows on the Settings page, for the settings a page shows otherwise than as their value
SHOWN_OTHERWISE: dict[str, Callable[[Any, Text], list[Row] | None]] = {
    "data_dir": _data_folder,
    "allowed_emails": _allowed_emails,
    "alert_after_minutes": _alert_after,
    "member_roles": _member_roles,
    "smtp_tls": _smtp_tls,
}


def masked_repr(settings: Any) -> str:
    parts = []
    for name, info in type(settings).model_fields.items():
        extra = info.json_schema_extra
        if isinstance(extra, dict) and "label" in extra:
            value = getattr(settings, name)
            shown = mask(value.reveal()) if isinstance(value, Secret) else value
            parts.append(f"{info.alias}={shown!r}")
    parts.append(f"staff={len(settings.staff)} account(s)")
    parts.append(f"oidc_configured={settings.oidc_configured!r}")
    return "Settings(" + ", ".join(parts) + ")"


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
    if extra.get("unit") == "d":
        return _n("{n} day", "{n} days", int(value), n=_num(value))
    return str(value)


def _grant_text(grant: Any) -> str:
    """A grant in the reader's words: "operator of 2 schools", "administrator of every school"."""
    from ..access.roles import Access

    return str(Access.of([grant]).describe())


def _num(value: float) -> str:
    from ..i18n import format_number

    return format_number(int(value) if float(value).is_integer() else value)
