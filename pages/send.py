"""Send a test message from one of the numbers."""
from __future__ import annotations

import streamlit as st

from wpp.errors import WppError
from wpp.phone import describe_phone
from wppui import state
from wppui.components import guarded, show_error

state.require_app_shell()
svc = state.service()
st.title("✉️ Send a test message")

rows = svc.list_numbers()
ready = [r for r in rows if r.api_key and r.session]
if not ready:
    st.info("No number is ready to send yet. Connect one first.", icon="👋")
    st.stop()
chosen = state.pick_number(ready, key="send_pick", label="Send from").id

to = st.text_input("To (phone number)", placeholder="+7 900 123-45-67",
                   help="With the country code. Russian numbers may also be typed as 8 900 … or 900 …")
digits = None
if to.strip():
    try:
        digits = svc.preview_recipient(to)
        st.info(f"Will be sent to **{describe_phone(digits)}**", icon="📞")
    except WppError as err:
        show_error(err, what="This phone number cannot be used")
text = st.text_area("Message", value="Test message from WPP Console", max_chars=4096)
priority = st.selectbox("Priority", ["normal", "high", "low"],
                        help="How urgently the platform should send it. Normal is right for a test.")
if st.button("Send", type="primary", disabled=digits is None):
    with guarded("The message was not sent"):
        with st.spinner("Sending…"):
            res = svc.send_test(chosen, to, text, actor=state.actor(),
                                priority=None if priority == "normal" else priority, token_cache=state.token_cache())
        st.success(f"**Sent to the platform.** Task id: `{res.task_id}` · status: {res.status}"
                   + (f" · {res.message}" if res.message else ""), icon="✅")
