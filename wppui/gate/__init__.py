"""The access gate: nothing is read or drawn for a browser before the person is known.

Every page file calls :func:`guard_page` first, and every self-refreshing fragment calls :func:`guard_fragment`
first (or is made with :func:`fragment`); ``streamlit_app.py`` calls :func:`check` / :func:`refuse` before
``st.navigation``. Each run decides again, whatever mode Streamlit serves the page in (the entry script's
navigation, or its legacy "pages folder" mode right after a restart):

1. the language of this run (``wppui.lang``);
2. the configuration: one that cannot be used stops the console with a page naming the file, the line and what is
   wrong (no sign-in, no demo);
3. who is signed in: the tab's identity while its lasting sign-in is still on (a "Sign out" in another tab ends
   it within seconds), else the browser's ``wpp_session`` cookie (a lasting sign-in: F5, a second tab, a browser
   or console restart), else an OIDC sign-in (``st.user``), else the demo identity in demo mode, else the sign-in
   form, and the run stops.

Lasting sign-in: after the form accepts someone, ``SignInSessions.begin`` gives a one-time ticket; the page posts it
once (a small script) to the console's own route ``/_wpp/session`` (``wppui.routes``), which turns it into the
HttpOnly, SameSite=Lax, signed cookie. "Sign out" ends the sign-in on the server, clears everything the tab held
and posts ``/_wpp/session/end`` to delete the cookie.

Pages call this face only. The rooms behind it, from the top down:

* ``sidebar.py``      — the signed-in sidebar, "Sign out", the watch for a sign-out done elsewhere;
* ``guards.py``       — what every page, fragment and dialog calls; :func:`refuse`; the entry script's shell;
* ``verdict.py``      — :func:`check`: who this run is for (:class:`Verdict`), and whether they still may;
* ``sign_in.py``      — the sign-in page: the form, each attempt, OpenID Connect, :func:`signed_in`;
* ``demo.py``         — the demo person switch, and demo mode refused on a network address;
* ``tab.py``          — what a tab holds of a sign-in: forgetting it, ending it, the sign-in diary;
* ``config_error.py`` — the page shown when the console cannot start;
* ``browser.py``      — the cookies, the device id, the small scripts a page runs once.
"""
from __future__ import annotations

from .browser import DEVICE_COOKIE, DEVICE_MAX_AGE_S, SESSION_COOKIE, client_key
from .config_error import config_error_page
from .demo import DEMO_AS_COOKIE, demo_person
from .guards import (
    dialog,
    enter_shell,
    fragment,
    guard_fragment,
    guard_page,
    leave_shell,
    refuse,
    running_alone,
)
from .sidebar import ATTENTION_SECONDS, WATCH_SECONDS, sidebar, sign_out
from .sign_in import signed_in
from .tab import withdrawn_notice
from .verdict import Verdict, check

__all__ = [
    "ATTENTION_SECONDS",
    "DEMO_AS_COOKIE",
    "DEVICE_COOKIE",
    "DEVICE_MAX_AGE_S",
    "SESSION_COOKIE",
    "Verdict",
    "WATCH_SECONDS",
    "check",
    "client_key",
    "config_error_page",
    "demo_person",
    "dialog",
    "enter_shell",
    "fragment",
    "guard_fragment",
    "guard_page",
    "leave_shell",
    "refuse",
    "running_alone",
    "sidebar",
    "sign_out",
    "signed_in",
    "withdrawn_notice",
]
