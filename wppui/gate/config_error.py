"""The page shown when the console cannot start: which file, which line, what is wrong — and, for a failure
nobody foresaw, the details without a configured secret or a password inside an address.
"""
from __future__ import annotations

import re

import streamlit as st

from wpp.errors import WppError
from wpp.i18n import _
from wpp.masking import scrub

from .. import state
from ..text import bold, esc


def config_error_page(err: BaseException) -> None:
    """The console cannot start: which file, which line, what is wrong (ConfigError's message and detail)."""
    st.title("📱 " + _("WPP Console"))
    st.subheader(_("The console cannot start"))
    if isinstance(err, WppError):
        where = []
        path = getattr(err, "path", None) or getattr(err, "file", None)
        line = getattr(err, "line", None) or getattr(err, "lineno", None)
        if path:
            where.append(_("File: {path}", path=esc(path)))
        if line:
            where.append(_("Line: {line}", line=esc(line)))
        first, *rest = [line for line in err.message.split("\n") if line.strip()] or [""]
        body = [f"**{esc(first)}**"]
        if rest:
            body.append("\n".join("- " + esc(line.strip().lstrip("•·-*").strip()) for line in rest))
        if where:
            body.append(" · ".join(where))
        if err.action:
            body.append(esc(err.action))
        st.error("\n\n".join(body), icon="🛑")
        detail = err.detail
    else:
        st.error(bold(_("The console could not start: something unexpected went wrong.")) + "\n\n"
                 + _("Show the details below to the administrator or to support."), icon="🛑")
        detail = scrub_startup(f"{type(err).__name__}: {err}")
    if detail:
        st.caption(_("Details for the administrator"))
        st.code(detail, language=None, wrap_lines=True)
    st.caption(_("Nobody can sign in until the configuration is corrected and the console is restarted."))


_URL_PASSWORD = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^/\s:@]+:)([^@\s/]+)(@)", re.I)


def scrub_startup(text: str) -> str:
    """An unexpected start-up failure, shown before anyone signed in: without the configured secrets (when the
    settings could be read) nor a password inside a URL."""
    known: list[str] = []
    try:
        cfg = state.settings()
        for name in ("wpp_secret", "supabase_key", "database_url", "jwt_verify_key"):
            value = getattr(cfg, name, None)
            reveal = getattr(value, "reveal", None)
            known.append(reveal() if callable(reveal) else value)
    except Exception:  # noqa: BLE001
        pass
    text = _URL_PASSWORD.sub(lambda m: m.group(1) + "***" + m.group(3), text)
    return scrub(text, [k for k in known if isinstance(k, str)])
