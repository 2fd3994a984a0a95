"""The guards: what every page, fragment and dialog calls before it reads or draws anything.

``identity = guard_page()`` is the first line of every page file; ``if not guard_fragment(): return`` the first of
every self-refreshing fragment (or make it with :func:`fragment`; a dialog with :func:`dialog`). A run nobody may
see ends in :func:`refuse`: the configuration error page, demo mode refused on a network address, or the sign-in
page. ``streamlit_app.py`` says with :func:`enter_shell` / :func:`leave_shell` that a page runs inside it.
"""
from __future__ import annotations

import functools
import logging
import threading
from typing import Callable

import streamlit as st

from wpp.i18n import _

from .. import lang, state
from .browser import pending_scripts
from .config_error import config_error_page
from .demo import demo_network_page
from .sign_in import sign_in_page
from .tab import end_lasting_sign_in, forget_tab, withdrawn_notice
from .verdict import Verdict, authorized, check, still_signed_in

log = logging.getLogger(__name__)

_SHELL = threading.local()


_HANDOFF = "_wpp_shell_handoff"  # a page run alone already asked for a rerun through the entry script


def enter_shell() -> None:
    """``streamlit_app.py`` says a run of the entry script began (a page run inside it is not alone)."""
    _SHELL.active = True
    st.session_state.pop(_HANDOFF, None)


def leave_shell() -> None:
    _SHELL.active = False


def running_alone() -> bool:
    """True when Streamlit runs a page file without the entry script (its legacy pages-folder mode)."""
    return not getattr(_SHELL, "active", False)


def guard_page():
    """First line of every page file: ``identity = guard_page()``.

    Sets the language of this run, leaves Streamlit's legacy pages-folder mode (harmless, not the gate), then
    checks the configuration and who is signed in. Returns the signed-in :class:`wpp.access.Identity`; otherwise
    draws the sign-in form (or the configuration error page) and stops the run, so the page reads nothing."""
    lang.apply()
    alone = running_alone() and not st.session_state.get(_HANDOFF)  # ask once: never a loop of reruns
    if alone:
        st.session_state[_HANDOFF] = True
    state.require_app_shell(alone=alone)
    verdict = check()
    if not verdict.ok:
        refuse(verdict)  # stops
    return verdict.identity


def guard_fragment() -> bool:
    """First line of every self-refreshing fragment: ``if not guard_fragment(): return``.

    True when the tab's person is still signed in. Otherwise the fragment must draw nothing and read nothing;
    when the sign-in was ended elsewhere (another tab's "Sign out", an expired day), the whole page is re-run so it
    shows the sign-in form."""
    lang.apply()
    try:
        cfg = state.settings()
    except Exception:  # noqa: BLE001 - the page run explains it
        return False
    had = st.session_state.get(state.IDENTITY) is not None
    notice = _("You were signed out.")
    try:
        if had and still_signed_in(cfg, st.session_state[state.IDENTITY]) is True:
            if authorized(st.session_state[state.IDENTITY]):
                return True
            notice = withdrawn_notice()
    except Exception:  # noqa: BLE001 - cannot tell: draw nothing this time (the page run explains)
        log.warning("the sign-in could not be checked in a fragment", exc_info=True)
        return False
    if had:
        end_lasting_sign_in()
        forget_tab(notice=notice)
        st.rerun()
    return False


def _checked(f: Callable) -> Callable:
    """``f`` run only after :func:`guard_fragment` (a failed check draws nothing)."""
    @functools.wraps(f)
    def guarded(*args, **kwargs):
        if not guard_fragment():
            return None
        return f(*args, **kwargs)

    return guarded


def fragment(func: Callable | None = None, *, run_every: float | None = None):
    """``st.fragment`` whose every run starts with :func:`guard_fragment` (a failed check draws nothing):

        @gate.fragment(run_every=2)
        def status(): ...
    """
    def wrap(f: Callable) -> Callable:
        return st.fragment(_checked(f), run_every=run_every)

    return wrap(func) if func is not None else wrap


def dialog(title: str, **kwargs):
    """``st.dialog`` whose every run starts with :func:`guard_fragment`: a dialog's buttons re-run only the dialog,
    and that run too must know who is signed in and speak the tab's language."""
    def wrap(f: Callable) -> Callable:
        return st.dialog(title, **kwargs)(_checked(f))

    return wrap


# =============================================================================================================
# Refusing: the configuration error page, the sign-in page
# =============================================================================================================
def refuse(verdict: Verdict) -> None:
    """Draw why this run shows nothing (configuration error, demo on a network address, the sign-in form) and stop
    the run. The sidebar holds only the language switch."""
    if verdict.error is not None:
        config_error_page(verdict.error)
    elif verdict.refusal == "demo_network":
        demo_network_page()
    else:
        sign_in_page(verdict)
    with st.sidebar:
        lang.switch()
    pending_scripts()
    st.stop()
