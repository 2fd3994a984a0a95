"""One number: its status, pairing (QR), and what can be done with it."""
from __future__ import annotations

import streamlit as st

from wppui import state
from wppui.components import guarded, iso_local, show_error
from wppui.pairing import pairing_panel

state.require_app_shell()
svc = state.service()
rows = svc.list_numbers()
if not rows:
    st.title("📱 Number")
    st.info("No numbers yet.", icon="👋")
    if st.button("➕ Connect a number", type="primary"):
        st.switch_page(st.session_state["pages"]["connect"])
    st.stop()

row = state.pick_number(rows, key="number_pick")

st.title(f"📱 {row.display_name}")
c1, c2, c3 = st.columns(3)
c1.metric("Session (platform account)", row.session or "not created yet")
c2.metric("Organisation", row.organization_id[:8] + "…", help=row.organization_id)
c3.metric("Created", iso_local(row.created_at))
if row.sub_org_id:
    st.caption(f"Created on the platform under the sub-organisation id `{row.sub_org_id}` (a second number of "
               "this organisation).")
if row.last_error:
    when = f" ({iso_local(row.last_error_at)})" if row.last_error_at else ""
    st.warning(f"Last problem{when}: {row.last_error}", icon="⚠️")

if not (row.api_key and row.session) or row.token_pending:
    st.warning("**Creating this number was not finished.** "
               + ("The platform client exists and is saved; only its first access token is missing."
                  if row.api_key else "The platform client was not created yet."), icon="🟡")
    if st.button("Finish creating", type="primary"):
        with st.spinner("Finishing…"):
            out = svc.resume(row.id, actor=state.actor())
        if out.error:
            show_error(out.error, what="Still not finished")
        else:
            st.rerun()
    st.stop()

st.subheader("Connection")
pairing_panel(row.id)

st.divider()
a, b, c = st.columns(3)
if a.button("🔑 Tokens", use_container_width=True):
    st.switch_page(st.session_state["pages"]["tokens"])
if b.button("✉️ Send a test message", use_container_width=True):
    st.switch_page(st.session_state["pages"]["send"])
with c.popover("🔌 Disconnect the phone", use_container_width=True):
    st.write("The phone will be unlinked from this console's platform account. WhatsApp messages will stop "
             "until it is paired again with a new QR code.")
    if st.button("Yes, disconnect", type="primary", key="confirm_stop"):
        with guarded("Could not disconnect"):
            svc.stop(row.id, actor=state.actor(), token_cache=state.token_cache())
            svc.board.forget(row.id)
            st.success("Disconnected.")
            st.rerun()

with st.expander("Rename or remove"):
    new = st.text_input("Name shown in the list", value=row.name or "", max_chars=100)
    if st.button("Save name"):
        with guarded("Could not rename"):
            svc.rename(row.id, new, actor=state.actor())
            st.rerun()
    st.caption("Removing hides the number from the list. Its key and settings stay saved in the database.")
    if st.button("Remove from the list"):
        with guarded("Could not remove"):
            svc.deactivate(row.id, actor=state.actor())
            state.select_integration(None)
            st.switch_page(st.session_state["pages"]["numbers"])
