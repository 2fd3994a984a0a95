"""WPP Console: the entry point. The access gate, the navigation, the sidebar.

This one file is two things (``streamlit run streamlit_app.py`` finds the ``st.App`` below):

* imported by the server (``__name__ != "__main__"``): the ASGI app, i.e. Streamlit plus the console's own HTTP
  routes (``wppui.routes``: the lasting sign-in cookie, the platform's pushes, health and metrics) and the watch
  started with the server (``wppui.state.lifespan``: status polling and alerts, whether or not anyone opens a page);
* run by Streamlit for every page view (``__name__ == "__main__"``): the script below.

Every page file also calls ``wppui.gate.guard_page()`` first (Streamlit may run a page file alone right after a
restart), and every self-refreshing fragment ``guard_fragment()``.
"""
from __future__ import annotations

import streamlit as st

if __name__ != "__main__":
    from wppui.routes import routes
    from wppui.state import leave_legacy_pages_mode, lifespan

    leave_legacy_pages_mode()  # before the first browser connects (harmless; every page guards itself anyway)
    app = st.App("streamlit_app.py", routes=routes(), lifespan=lifespan)
else:
    from urllib.parse import unquote, urlsplit

    from wpp.i18n import _
    from wppui import gate, lang, state

    gate.enter_shell()  # a page run from here is not "alone" (see wppui.gate.running_alone)
    lang.apply()
    state.require_app_shell()  # harmless; the gate below (and in every page) is what keeps pages closed
    st.set_page_config(page_title=_("WPP Console"), page_icon="📱", layout="wide")

    #: pages whose menu entry is only for people who may do what they are for (the page itself refuses others
    #: too, and the service refuses them whatever asks)
    #: (Settings: the console's own settings for an administrator of every school; the recipients and webhooks of
    #: their schools for an administrator of some schools)
    FOR = {"connect": ("create",), "send": ("send",), "settings": ("settings", "alerts", "webhooks"),
           "outbox": ("alerts",)}

    def make_pages(may=lambda action: True) -> dict:
        def page(name: str, path: str, **kw):
            shown = "visible" if name not in FOR or any(may(a) for a in FOR[name]) else "hidden"
            return st.Page(path, visibility=shown, **kw)

        return {
            # the home page ("/"); its url_path is only reserved, Streamlit serves a default page at "/" alone
            "numbers": page("numbers", "pages/numbers.py", title=_("Numbers"), icon="📋", default=True,
                            url_path="home-numbers"),
            "connect": page("connect", "pages/connect.py", title=_("Connect a number"), icon="➕"),
            "number": page("number", "pages/number.py", title=_("Number"), icon="📱"),
            "access": page("access", "pages/access.py", title=_("Access"), icon="🔑"),
            "send": page("send", "pages/send.py", title=_("Send a test message"), icon="✉️"),
            "activity": page("activity", "pages/activity.py", title=_("Activity"), icon="🕘"),
            "outbox": page("outbox", "pages/outbox.py", title=_("Alerts"), icon="🔔"),
            "settings": page("settings", "pages/settings.py", title=_("Settings"), icon="⚙️"),
        }

    PAGES = make_pages()
    #: other addresses that open a page: the home page by its name, bookmarks of the former "Tokens" page
    ALIASES = {"numbers": "numbers", "tokens": "access", "alerts": "outbox"}

    def _alias(target: str):
        def open_alias() -> None:
            st.switch_page(PAGES[target], query_params=st.query_params.to_dict())

        open_alias.__name__ = f"alias_{target}"
        return open_alias

    def _not_found() -> None:
        st.title(_("Page not found"))
        st.info(_("There is no page at this address. It may have been mistyped or may be from an old bookmark."),
                icon="🧭")
        st.page_link(PAGES["numbers"], label=_("Open the list of numbers"), icon="📋")

    def _requested_slug() -> str | None:
        """The first part of the address after the app's base path ("" for the home page)."""
        try:
            path = urlsplit(st.context.url or "").path
        except Exception:  # noqa: BLE001
            return None
        base = (st.get_option("server.baseUrlPath") or "").strip("/")
        path = path.strip("/")
        if base and (path == base or path.startswith(base + "/")):
            path = path[len(base):].strip("/")
        return unquote(path.split("/", 1)[0]) if path else ""

    extra = [st.Page(_alias(target), title=PAGES[target].title, url_path=alias, visibility="hidden")
             for alias, target in ALIASES.items()]
    slug = _requested_slug()
    known = {p.url_path for p in PAGES.values()} | set(ALIASES) | {"home-numbers"}
    if slug and slug not in known:
        # Streamlit would answer an unknown address with its own English "Page not found" dialog
        try:
            extra.append(st.Page(_not_found, title=_("Page not found"), url_path=slug, visibility="hidden"))
        except Exception:  # noqa: BLE001 - an address Streamlit cannot name a page by: its dialog, then home
            pass
    all_pages = [*PAGES.values(), *extra]
    st.session_state["pages"] = PAGES  # pages switch with st.switch_page(st.session_state["pages"]["connect"])

    verdict = gate.check()
    if not verdict.ok:
        gate.leave_shell()
        st.navigation(all_pages, position="hidden")  # keeps the address; nothing to navigate to yet
        gate.refuse(verdict)  # the sign-in form (or why nobody can sign in); stops

    allowed = state.access()
    if any(not allowed.may(action) for actions in FOR.values() for action in actions):
        PAGES = make_pages(allowed.may)
        all_pages = [*PAGES.values(), *extra]
        st.session_state["pages"] = PAGES
    nav = st.navigation(all_pages)
    with st.sidebar:
        gate.sidebar(verdict.identity, numbers_page=PAGES["numbers"])
    try:
        nav.run()
    finally:
        gate.leave_shell()
