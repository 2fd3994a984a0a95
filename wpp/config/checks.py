"""Checking one value at a time: the checkers the declared settings use (``check(...)`` in :mod:`.settings`).

Each takes the raw value (a text from the environment, a TOML value, a keyword argument), returns it cleaned, or
raises ValueError; the message a person reads is not here but in the field's ``rule`` (see
:class:`~wpp.config.problems.InvalidSettings`). Light: the alert checks import only ``wpp.alerts``' light modules.
"""
from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any, Callable, Mapping
from urllib.parse import urlsplit

from ..masking import Secret

_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}
_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"


def present(value: Any) -> bool:
    """Is a value given at all? (None and a blank text are not.)"""
    return value is not None and not (isinstance(value, str) and not value.strip())


def text(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError("not text")
    out = str(value).strip()
    if not out:
        raise ValueError("empty")
    return out


def url(value: Any) -> str:
    out = text(value)
    if any(ch.isspace() for ch in out):
        raise ValueError("white space in a URL")
    try:
        parts = urlsplit(out)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise ValueError("not a URL") from None
    if parts.scheme.lower() not in ("http", "https") or not host:
        raise ValueError("not an http(s) URL with a host")
    return out.rstrip("/")


def secret(value: Any) -> Secret:
    if isinstance(value, Secret):
        if not value:
            raise ValueError("empty")
        return value
    return Secret(text(value))


def token(value: Any) -> Secret:
    """A bearer token someone types into a scraper's configuration: long enough not to be guessed."""
    out = secret(value)
    if len(out.reveal()) < 16 or any(c.isspace() for c in out.reveal()):
        raise ValueError("too short, or has spaces")
    return out


def database_url(value: Any) -> Secret:
    found = secret(value)
    shown = found.reveal()
    if re.match(r"(?i)postgres(ql)?://\S*$", shown):
        return found
    if re.match(r"^\s*\w+\s*=", shown):  # libpq's "host=... dbname=..." form
        return found
    raise ValueError("not a PostgreSQL address")


def number(*, integer: bool = False, gt: float | None = None, ge: float | None = None,
           le: float | None = None) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("a yes/no value where a number belongs")
        if isinstance(value, str):
            stripped = value.strip()
            if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", stripped):
                raise ValueError("not a number")
            found = float(stripped)
        elif isinstance(value, (int, float)):
            found = float(value)
        else:
            raise ValueError("not a number")
        if not math.isfinite(found):
            raise ValueError("not finite")
        if integer and found != int(found):
            raise ValueError("not a whole number")
        if (gt is not None and not found > gt) or (ge is not None and found < ge) or (le is not None and found > le):
            raise ValueError("out of range")
        return int(found) if integer else found

    return check


def yes_no(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    raise ValueError("not a yes/no value")


def identifier(*, table: bool) -> Callable[[Any], str]:
    pattern = re.compile(rf"{_IDENT}(\.{_IDENT})?" if table else _IDENT)

    def check(value: Any) -> str:
        name = text(value)
        if not pattern.fullmatch(name) or len(name) > 127:
            raise ValueError("not an SQL identifier")
        return name

    return check


def role_map(value: Any) -> dict[str, str]:
    """``WPP_MEMBER_ROLES``: the school platform's role texts -> the console's role words, from a table
    (``teacher = "viewer"``), a JSON object, or a text ``"teacher=viewer, manager=operator"``. Keys case-folded."""
    from ..access.roles import Role

    if isinstance(value, str):
        stripped = value.strip()
        if stripped.startswith("{"):
            try:
                value = json.loads(stripped)
            except ValueError:
                raise ValueError("not a JSON object") from None
        else:
            pairs: dict[str, str] = {}
            for item in re.split(r"[,;\n]+", stripped):
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


def folder(value: Any) -> str:
    path = Path(text(value)).expanduser()
    if path.exists() and not path.is_dir():
        raise ValueError("not a folder")
    return str(path)


# --- alerts (wpp.alerts) -----------------------------------------------------------------------------------------
def alert_recipients(value: Any) -> Any:
    from ..alerts.recipients import check_recipients

    return check_recipients(value)


def alert_language(value: Any) -> str:
    from ..i18n import LANGUAGES

    code = re.split(r"[-_]", text(value).lower(), maxsplit=1)[0]
    if code not in LANGUAGES:
        raise ValueError("no such language")
    return code


def time_zone(value: Any) -> str:
    from ..alerts.schedule import check_timezone

    return check_timezone(value)


def quiet_hours(value: Any) -> str:
    from ..alerts.schedule import quiet_text

    return quiet_text(text(value))


def working_hours(value: Any) -> str:
    """``WPP_WITNESS_HOURS``: "09:00-18:00", the first time earlier (within one day)."""
    from ..alerts.schedule import parse_quiet_hours, quiet_text

    hours = quiet_text(text(value))
    start, end = parse_quiet_hours(hours)
    if start >= end:
        raise ValueError("the first time is not earlier")
    return hours


def check_text(value: Any) -> str:
    """``WPP_WITNESS_TEXT``: one line of at most 300 characters."""
    line = " ".join(text(value).split())
    if len(line) > 300:
        raise ValueError("too long")
    return line


def host(value: Any) -> str:
    name = text(value)
    if not re.fullmatch(r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\]", name):
        raise ValueError("not a host name")
    return name


def email_address(value: Any) -> str:
    address = text(value)
    if not re.fullmatch(r"[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;.]+", address) or len(address) > 254:
        raise ValueError("not an e-mail address")
    return address


def working_hours(value: Any) -> str:
    from ..alerts.schedule import working_text

    return working_text(text(value))


def bot_token(value: Any) -> Secret:
    """A Telegram bot's token as @BotFather gives it (``123456789:AAF…``)."""
    token = secret(value)
    if not re.fullmatch(r"\d{3,}:[A-Za-z0-9_-]{20,}", token.reveal()):
        raise ValueError("not a bot token")
    return token


def smtp_tls(value: Any) -> str:
    mode = text(value).lower()
    if mode not in ("starttls", "ssl", "none"):
        raise ValueError("not a TLS mode")
    return mode
