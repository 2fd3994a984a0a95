"""Demo mode in the gate: which demo person this browser tries the console as (the switch in the sidebar, kept in a
cookie), and the page shown when demo mode is asked for on a network address.
"""
from __future__ import annotations

import streamlit as st

from wpp.i18n import _

from .. import lang, state
from ..text import bold
from .browser import DEVICE_MAX_AGE_S, client_key
from .tab import log_sign_in

#: the demo person this browser tries the console as (a cookie: not a secret, demo mode only)
DEMO_AS_COOKIE = "wpp_demo_as"
_DEMO_AS = "_wpp_demo_as"


def demo_person() -> str:
    """Which demo person this tab is (``wpp.access.identity.DEMO_PEOPLE``): the tab's choice, else the browser's
    cookie, else the demo's administrator."""
    from wpp.access.identity import DEMO_PEOPLE

    for value in (st.session_state.get(_DEMO_AS), lang.cookies().get(DEMO_AS_COOKIE)):
        if isinstance(value, str) and value in DEMO_PEOPLE:
            return value
    return "demo"


def demo_switch() -> None:
    """Demo mode: try the console as another demo person (an administrator, a receptionist of one school, a
    viewer). Remembered for this browser."""
    from wpp.access.identity import DEMO_PEOPLE, demo_identity

    labels = {
        "demo": _("Administrator: every school"),
        "demo-operator": _("Operator: {school}", school=_demo_school(0)),
        "demo-viewer": _("Viewer: two schools"),
    }
    people = list(DEMO_PEOPLE)
    current = demo_person()
    chosen = st.selectbox(_("Try the console as"), people, index=people.index(current), format_func=labels.get,
                          key="wpp_demo_as_choice")
    if chosen != current:
        ss = st.session_state
        ss[_DEMO_AS] = chosen
        new = demo_identity(chosen)
        ss[state.IDENTITY] = new
        ss.pop(state.ACCESS, None)
        ss.pop("wpp_tokens", None)
        ss["_wpp_demo_cookie"] = chosen
        # the diary keeps the demo person's English name and shows it in the reader's language
        log_sign_in("success", new.name, client_key(), "demo")
        st.rerun()
    remembered = st.session_state.pop("_wpp_demo_cookie", None)
    if remembered:
        lang.write_cookie(DEMO_AS_COOKIE, remembered, DEVICE_MAX_AGE_S)


def _demo_school(i: int) -> str:
    from wpp.demo import DEMO_SCHOOLS

    try:
        return state.service().organization_name(DEMO_SCHOOLS[i][0])
    except Exception:  # noqa: BLE001
        return DEMO_SCHOOLS[i][1]


def demo_network_page() -> None:
    st.title("📱 " + _("WPP Console"))
    st.error(bold(_("Demo mode only runs on this computer.")) + "\n\n"
             + _("This console has no platform configured, so it runs a simulated platform, and that is only "
                 "allowed on this computer's own address (127.0.0.1).") + "\n\n"
             + _("Start it the way README.md says, or configure the platform address (WPP_BASE_URL)."), icon="🔒")
