"""The sidebar of a signed-in page: the demo notice, "Needs attention: N", who is signed in and with which role,
the demo person switch, "Sign out", the language switch — and the watch that notices a sign-out done elsewhere.
"""
from __future__ import annotations

import logging

import streamlit as st

from wpp.i18n import _

from .. import lang, state
from ..text import bold, esc, plain
from .browser import client_key, pending_scripts
from .demo import demo_switch
from .guards import fragment, guard_fragment
from .tab import forget_tab, log_sign_in
from .verdict import demo_mode

log = logging.getLogger(__name__)

#: how often a signed-in tab checks that its sign-in was not ended elsewhere (the sidebar's watch)
WATCH_SECONDS = 5.0


def sidebar(ident, *, numbers_page=None) -> None:
    """Everything the shell puts in the sidebar of a signed-in page: the demo notice, "Needs attention: N", who is
    signed in, Sign out, the language switch; and the watch that notices a sign-out done elsewhere."""
    cfg = state.settings()
    if demo_mode(cfg):
        st.caption("🧪 " + bold(_("Demo — simulated platform.")) + " "
                   + _("Nothing here reaches WhatsApp. Only this computer can open this page."))
    if numbers_page is not None:
        _attention_link(numbers_page)
    if getattr(ident, "method", "") == "demo":
        from wpp.access.identity import DEMO_NAMES

        name = str(DEMO_NAMES.get(getattr(ident, "name", ""), _("Demo user")))
    else:
        name = getattr(ident, "name", "")
    st.caption(_("Signed in as {name}", name=f"**{esc(name)}**") + " · " + esc(_role_in_words(state.access())))
    if demo_mode(cfg):
        demo_switch()
    if getattr(ident, "method", "") != "demo":
        if st.button(_("Sign out"), key="wpp_sign_out", icon=":material/logout:"):
            sign_out()
    lang.switch()
    from .. import live

    live.listen()  # a pushed change on screen within a second (a waiting request, no CPU while nothing changes)
    if st.session_state.get(state.SIGN_IN_KEY):
        _watch()
    pending_scripts()


#: how often the sidebar's "Needs attention: N" looks again (seconds; the service counts at most once per board
#: version and a few seconds for every tab of the process)
ATTENTION_SECONDS = 10.0


def _attention_link(numbers_page) -> None:
    """ "Needs attention: N" in the sidebar, kept up to date by itself (a number linked meanwhile drops out)."""

    @fragment(run_every=ATTENTION_SECONDS)
    def _live() -> None:
        try:
            n = int(state.for_session().attention_count())
        except Exception:  # noqa: BLE001 - the sidebar never breaks a page
            log.exception("attention count")
            return
        if n > 0:
            st.page_link(numbers_page, label=_("Needs attention: {n}", n=n), icon="⚠️",
                         query_params={"filter": "attention"})

    _live()


@st.fragment(run_every=WATCH_SECONDS)
def _watch() -> None:
    """Every few seconds: is this tab's sign-in still on? (Draws nothing; a sign-out elsewhere re-runs the page.)"""
    guard_fragment()


def sign_out() -> None:
    """End the sign-in everywhere in this browser: revoke it on the server, clear everything this tab held
    (all of st.session_state: identity, tokens, revealed values, choices), delete the cookie, leave OIDC."""
    ss = st.session_state
    ident = ss.get(state.IDENTITY)
    key = ss.get(state.SIGN_IN_KEY)
    try:
        if key:
            state.sign_ins().end(key)
    except Exception:  # noqa: BLE001 - the cookie is still deleted below
        log.exception("ending the sign-in failed")
    method = getattr(ident, "method", "") or "staff"
    log_sign_in("sign_out", plain(getattr(ident, "name", "") or "", limit=120), client_key(), method)
    forget_tab(notice=_("You have signed out."))
    if method == "oidc":
        try:
            st.logout()
        except Exception:  # noqa: BLE001
            pass
    st.rerun()


def _role_in_words(access) -> str:
    """ "operator: Школа № 5" for one school; "administrator of every school", "viewer of 3 schools" otherwise."""
    if access.everywhere is None and len(access.schools) == 1:
        (org, role), = access.schools.items()
        try:
            school = state.service().organization_name(org)
        except Exception:  # noqa: BLE001 - the sidebar never breaks a page
            return str(access.describe())
        return _("{role}: {school}", role=str(role.label), school=school)
    return str(access.describe())
