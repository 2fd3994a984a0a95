"""Connect a number: create the platform client for an organisation, then pair the phone."""
from __future__ import annotations

import uuid

import streamlit as st

from wppui import state
from wppui.components import guarded, show_error
from wppui.pairing import pairing_panel

state.require_app_shell()
svc = state.service()
st.title("➕ Connect a WhatsApp number")

rows = svc.list_numbers()
pending = [r for r in rows if not (r.api_key and r.session) or r.token_pending]
if pending:
    st.warning(f"**{len(pending)} number(s) were not finished being created.** Nothing was lost: finish them here.",
               icon="🟡")
    for r in pending:
        c1, c2 = st.columns([4, 1])
        c1.write(f"{state.number_label(r)}" + (f" — last problem: {r.last_error}" if r.last_error else ""))
        if c2.button("Finish creating", key=f"resume_{r.id}"):
            with st.spinner("Finishing…"):
                out = svc.resume(r.id, actor=state.actor())
            if out.error:
                show_error(out.error, what="Still not finished")
            else:
                st.session_state["connect_current"] = out.integration.id
                with guarded("Could not start pairing"):
                    svc.start_pairing(out.integration.id, actor=state.actor(), token_cache=state.token_cache())
                st.rerun()

current = st.session_state.get("connect_current")
if current:
    row = svc.get(current)
    st.success(f"**{row.display_name}** was created on the platform (session `{row.session}`). Now link the phone.",
               icon="✅")
    pairing_panel(row.id)
    if st.button("Connect another number"):
        st.session_state.pop("connect_current", None)
        st.session_state.pop("create_request_id", None)
        st.rerun()
    st.stop()

st.markdown("**Step 1 of 2** — tell us whose number this is. **Step 2** — scan a QR code with the phone.")
orgs = sorted({r.organization_id for r in rows})
NEW = "Another organisation (type its id)…"
with st.form("create_number"):
    choice = st.selectbox("Organisation", [*orgs, NEW] if orgs else [NEW],
                          help="The school organisation this WhatsApp number belongs to. One organisation can "
                               "have several numbers.")
    typed = st.text_input("Organisation id (only for another organisation)", placeholder="123e4567-e89b-12d3-a456-426614174000",
                          help="Copy it from the school platform's organisation settings. When filled in, it is "
                               "used instead of the organisation chosen above.")
    name = st.text_input("Name for this number", placeholder="Front desk", max_chars=100,
                         help="Shown in the list so everybody knows which phone it is.")
    submitted = st.form_submit_button("Create and show the QR code", type="primary")

if submitted:
    # a typed id always wins: staff who typed one meant that organisation, whatever the list shows
    org = typed.strip() or (choice if choice != NEW else "")
    # one id per form: a double click or a retry never creates a second platform client
    request_id = st.session_state.setdefault("create_request_id", str(uuid.uuid4()))
    ident = st.session_state.get("identity")
    with guarded("The number could not be created"):
        with st.spinner("Creating the number on the platform… (this can take up to 20 seconds while a new key "
                        "activates)"):
            out = svc.create_number(org, name=name, actor=state.actor(), request_id=request_id,
                                    user_jwt=getattr(getattr(ident, "supabase_jwt", None), "reveal", lambda: None)())
        if out.error:
            show_error(out.error, what="Creating was not finished")
            if out.integration.api_key:
                st.info("The platform client **was created and saved**. Nothing is lost: press **Finish creating** "
                        "above, or press the create button again, in a moment.", icon="💾")
            else:
                st.info("What you entered is saved as **not finished**; nothing was created on the platform yet. "
                        "Press **Create and show the QR code** again in a minute: it finishes this same number "
                        "and never makes a second one.", icon="💾")
        else:
            st.session_state["connect_current"] = out.integration.id
            st.session_state.pop("create_request_id", None)
            state.select_integration(out.integration.id)
            svc.start_pairing(out.integration.id, actor=state.actor(), token_cache=state.token_cache())
            st.rerun()
