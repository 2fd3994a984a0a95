"""Who this run is for: :func:`check` reads the configuration and who is signed in (the tab's identity while its
lasting sign-in is still on, else the ``wpp_session`` cookie, else an organisation account, else the demo
person in demo mode) and gives a :class:`Verdict`. Draws nothing; :func:`~wppui.gate.guards.refuse` draws why not.
"""
from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass
from typing import Any

import streamlit as st

from wpp.errors import WppError
from wpp.i18n import _
from wpp.masking import scrub

from .. import lang, state
from ..text import plain
from .browser import END_COOKIE, SESSION_COOKIE, client_key
from .config_error import scrub_startup
from .demo import demo_person
from .sign_in import oidc_identity, oidc_logged_in
from .tab import end_lasting_sign_in, forget_tab, log_sign_in, withdrawn_notice

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Verdict:
    """What :func:`check` found: the settings and who is signed in, or why nobody is."""

    settings: Any = None
    identity: Any = None
    #: the configuration (or the services built from it) cannot be used
    error: BaseException | None = None
    #: "demo_network": demo mode asked for on a network address; "unchecked": the sign-in could not be checked
    refusal: str | None = None
    problem: BaseException | None = None

    @property
    def ok(self) -> bool:
        return self.identity is not None and self.error is None and self.refusal is None


def check() -> Verdict:
    """Decide who this run is for (see the module docstring). Draws nothing."""
    try:
        cfg = state.settings()
        state.service()  # a store or platform setting that cannot be used stops the console too
    except Exception as err:  # noqa: BLE001 - a broken configuration is a page, never a traceback or the demo
        log.error("the console cannot start: %s", scrub_startup(_english(err)))
        return Verdict(error=err)
    if demo_mode(cfg) and not _is_loopback(st.get_option("server.address")):
        return Verdict(cfg, refusal="demo_network")
    try:
        ident = _identity(cfg)
        if ident is not None and not authorized(ident):
            # a person whose role was taken away (membership removed, account no longer on the list): signed out
            log_sign_in("withdrawn", plain(getattr(ident, "name", "") or "", limit=120), client_key(),
                         getattr(ident, "method", "") or "staff")
            end_lasting_sign_in()
            forget_tab(notice=withdrawn_notice())
            ident = None
    except Exception as err:  # noqa: BLE001 - the sign-in store cannot be read: closed, in words
        log.warning("the sign-in could not be checked: %s", scrub(_english(err)))
        return Verdict(cfg, refusal="unchecked", problem=err)
    return Verdict(cfg, ident)


def _identity(cfg):
    ss = st.session_state
    ident = ss.get(state.IDENTITY)
    if ident is not None:
        still = still_signed_in(cfg, ident)
        if still:
            return ident
        forget_tab(notice=_("You were signed out."))
    # an organisation account (Streamlit's own OIDC sign-in)
    if getattr(cfg, "oidc_configured", False) and oidc_logged_in():
        ident = oidc_identity(cfg)
        if ident is not None:
            ss[state.IDENTITY] = ident
            ss[state.SIGN_IN_KEY] = None
            return ident
    # a lasting sign-in of this browser
    cookie = lang.cookies().get(SESSION_COOKIE)
    if cookie and END_COOKIE not in ss:
        found = state.sign_ins().resolve(cookie)
        if found is not None:
            ident, key = found
            state.authorizer().forget(ident)  # a sign-in that comes back reads the person's role afresh
            ss[state.IDENTITY] = ident
            ss[state.SIGN_IN_KEY] = key
            return ident
    if demo_mode(cfg) and not getattr(cfg, "demo_sign_in", False):
        from wpp.access import demo_identity

        ident = demo_identity(demo_person())
        ss[state.IDENTITY] = ident
        ss[state.SIGN_IN_KEY] = None
        return ident
    return None


def authorized(ident) -> bool:
    """Read what ``ident`` may do (re-read at most a minute after the last reading, see ``wpp.access.authorize``)
    into the tab; False when they may do nothing any more. A store that cannot be read raises (fail closed)."""
    access = state.authorizer().access_for(ident)
    if access.empty:
        st.session_state.pop(state.ACCESS, None)
        return False
    st.session_state[state.ACCESS] = access
    return True


def still_signed_in(cfg, ident) -> bool:
    """Is the tab's identity still good? Demo: still demo mode. OIDC: still signed in at Streamlit. Others: their
    lasting sign-in is still on (None key: the sign-in could not be made lasting; it lasts this tab only)."""
    method = getattr(ident, "method", "")
    if method == "demo":
        return (demo_mode(cfg) and not getattr(cfg, "demo_sign_in", False)
                and getattr(ident, "username", "") == demo_person())
    if method == "oidc":
        return oidc_logged_in()
    key = st.session_state.get(state.SIGN_IN_KEY)
    if key is None:
        return True
    return bool(state.sign_ins().is_active(key))


def demo_mode(cfg) -> bool:
    """Does the console run against the simulated platform?"""
    return bool(getattr(cfg, "demo", False))


def _is_loopback(address: str | None) -> bool:
    if not address:
        return False  # Streamlit's default listens on every interface
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def _english(err: BaseException) -> str:
    return err.english if isinstance(err, WppError) else f"{type(err).__name__}: {err}"
