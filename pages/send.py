"""Send a test message from one of the numbers (``?n=`` says which)."""
from __future__ import annotations

import streamlit as st

from wpp.errors import WppError
from wpp.i18n import _
from wppui import pagekit
from wppui.components import show_error
from wppui.text import esc

s = pagekit.begin(needs="send")

st.title("✉️ " + _("Send a test message"))
pagekit.show_flashes(key="_send_flash")

try:
    views = [v for v in s.numbers() if not v.unfinished and s.may("send", v.org_id)]
except WppError as err:
    show_error(err, what=_("The list of numbers could not be read"))
    st.stop()
if not views:
    if pagekit.number_param():
        pagekit.absent_number(s, pagekit.number_param())
    st.info(_("No number is ready to send yet. Connect one first."), icon="👋")
    if st.button(_("Connect a number"), icon="➕", type="primary"):
        pagekit.go("connect")
    st.stop()

chosen = pagekit.number_picker(views, pagekit.number_param(), key="send_from", label=_("From"), s=s)
if chosen is None:
    st.stop()
view = next(v for v in views if v.id == chosen)
if not view.status.state or view.status.state.value != "connected":
    st.caption("ℹ️ " + esc(_("This number is not connected right now ({state}): the platform may refuse to send.",
                             state=view.status.label)))

to = st.text_input(_("To (phone number)"), key="send_to", placeholder="+7 900 123-45-67",
                   help=_("With the country code. Russian numbers may also be typed as 8 900 … or 900 …"))
if to.strip():
    try:
        shown = s.preview_recipient(to)
    except WppError as err:
        st.caption("⚠️ " + pagekit.error_text(err))
    else:
        st.caption("📞 " + esc(_("The message goes to {phone}", phone=shown)))
text = st.text_area(_("Message"), key="send_text", value=_("Test message from WPP Console"), max_chars=4096)

# always enabled: one click right after typing the number sends (the field is committed with the click)
if st.button(_("Send"), type="primary", icon="📤", key="send_button"):
    try:
        with st.spinner(_("Sending…")):
            out = s.send_test(view.id, to, text, actor=pagekit.actor())
    except WppError as err:
        show_error(err, what=_("The message was not sent"))
    else:
        st.success(esc(out.sentence), icon="✅")
        if out.task_id:
            with st.expander(_("Details for support")):
                st.text(_("Task id: {task}", task=out.task_id) + " · " + _("Status: {status}", status=out.status_label))
