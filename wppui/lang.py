"""Which language this browser reads: the sidebar switch, else the browser's own language.

Order: the switch used in this tab > the ``wpp_lang`` cookie (the switch used earlier in this browser) > the
browser's language (``st.context.locale``: a Russian browser gets Russian) > English.

The switch remembers the choice for the browser in a ``wpp_lang`` cookie (not a secret, readable by the page: it
only says "ru" or "en"), written by a tiny script in the page; ``st.context.cookies`` reads it back on the next
visit.
"""
from __future__ import annotations

import json

import streamlit as st

from wpp.i18n import LANGUAGE_NAMES, LANGUAGES, _, normalize_language, set_language

COOKIE = "wpp_lang"
#: st.session_state key of the language chosen with the switch in this tab
CHOSEN = "wpp_lang"
_WIDGET = "wpp_lang_switch"
#: a year: the choice is a preference of this browser, not a sign-in
COOKIE_MAX_AGE_S = 365 * 24 * 3600


def cookies() -> dict[str, str]:
    """The cookies this browser sent when the tab connected (empty outside a browser session)."""
    try:
        return dict(st.context.cookies.to_dict())
    except Exception:  # noqa: BLE001 - no browser context (bare mode, a background thread)
        return {}


def browser_locale() -> str | None:
    try:
        return st.context.locale
    except Exception:  # noqa: BLE001
        return None


def _known(value: object) -> str | None:
    """``value`` as a language code when it names one of ours (``"ru"``, ``"ru-RU"``), else None."""
    text = str(value or "").strip().replace("_", "-").lower()
    return text.split("-", 1)[0] if text.split("-", 1)[0] in LANGUAGES else None


def preferred() -> str:
    """The language for this run (see the module's docstring for the order)."""
    chosen = _known(st.session_state.get(CHOSEN))
    if chosen:
        return chosen
    remembered = _known(cookies().get(COOKIE))
    if remembered:
        return remembered
    return normalize_language(browser_locale())


def apply() -> str:
    """Use the preferred language for everything this run says (``wpp.i18n._``); returns its code.

    Called first thing in every page run and every fragment run (``wppui.gate``)."""
    return set_language(preferred())


def switch() -> None:
    """The language switch (Русский / English), in the sidebar. A change re-draws the page in that language and
    is remembered for this browser."""
    current = preferred()
    if st.session_state.get(_WIDGET) not in LANGUAGES:
        st.session_state[_WIDGET] = current
    choice = st.segmented_control(
        _("Language"), list(LANGUAGES), format_func=lambda c: LANGUAGE_NAMES.get(c, c), key=_WIDGET,
        required=True, label_visibility="collapsed", on_change=_switched,
    )
    if choice in LANGUAGES and cookies().get(COOKIE) != choice and st.session_state.get(CHOSEN) == choice:
        remember(choice)


def _switched() -> None:
    code = _known(st.session_state.get(_WIDGET))
    if code:
        st.session_state[CHOSEN] = code
        set_language(code)


def remember(code: str) -> None:
    """Write the ``wpp_lang`` cookie for this browser (a small script in the page; runs once per drawing)."""
    write_cookie(COOKIE, _known(code) or normalize_language(code), COOKIE_MAX_AGE_S)


def write_cookie(name: str, value: str, max_age_s: int) -> None:
    """Write a cookie that is NOT a secret (a language, a device id, the demo's person) for this browser: a small
    script in the page, run once per drawing; ``st.context.cookies`` reads it back when a tab next connects.
    ``value`` must be a plain token (letters, digits, ``-``, ``_``)."""
    cookie = f"{name}={value}; Path=/; Max-Age={int(max_age_s)}; SameSite=Lax"
    st.html(f"<script>document.cookie = {json.dumps(cookie)};</script>", unsafe_allow_javascript=True,
            width="content")
