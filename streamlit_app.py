"""WPP Console: entry point. Navigation, the access gate and the sidebar."""
from __future__ import annotations

import streamlit as st

from wppui import gate, state
from wppui.components import show_error

st.set_page_config(page_title="WPP Console", page_icon="📱", layout="wide")

try:
    settings = state.settings()
    svc = state.service()
except Exception as err:  # noqa: BLE001 - a broken configuration is explained, not thrown
    show_error(err, what="WPP Console could not start")
    st.stop()

if not gate.require_identity(settings):
    st.stop()

PAGES = {
    "numbers": st.Page("pages/numbers.py", title="Numbers", icon="📋", default=True),
    "connect": st.Page("pages/connect.py", title="Connect a number", icon="➕"),
    "number": st.Page("pages/number.py", title="Number", icon="📱"),
    "tokens": st.Page("pages/tokens.py", title="Tokens", icon="🔑"),
    "send": st.Page("pages/send.py", title="Send a test message", icon="✉️"),
    "activity": st.Page("pages/activity.py", title="Activity", icon="🕘"),
    "settings": st.Page("pages/settings.py", title="Settings", icon="⚙️"),
}
st.session_state["pages"] = PAGES
nav = st.navigation(list(PAGES.values()))

with st.sidebar:
    if settings.demo:
        st.warning("**Demo — simulated platform.** Nothing here reaches WhatsApp. "
                   "Only this computer can open this page.", icon="🧪")
    else:
        st.caption(f"Platform: `{settings.wpp_base_url}`")
    st.caption(f"Numbers are kept in: {svc.store.description}")
    gate.sidebar_identity(settings)

if settings.demo:
    st.info("**Demo — simulated platform.** Try the whole journey: Connect a number → scan (simulated) → send a "
            "test message.", icon="🧪")

nav.run()
