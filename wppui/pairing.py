"""The pairing panel: the platform's QR, large, following its rotation, until the phone is connected."""
from __future__ import annotations

import streamlit as st

from wpp.models import ConnState

from . import state
from .components import duration, guarded, show_error

INSTRUCTIONS = """
**On the phone with this WhatsApp number:**
1. Open **WhatsApp**.
2. Tap **⋮ Menu** (Android) or **Settings** (iPhone) → **Linked devices** → **Link a device**.
3. Point the phone's camera at the QR code on this screen.
"""


def pairing_panel(integration_id: str) -> None:
    """Renders a self-refreshing block (st.fragment) so the rest of the page is not re-run."""
    svc = state.service()
    # A rotated QR must be on screen within one polling interval. The fragment waits its whole period before
    # it asks again, then fetches and draws (~0.2 s), so it runs at two thirds of the interval.
    interval = max(0.5, state.settings().poll_seconds * 2 / 3)

    @st.fragment(run_every=interval)
    def _panel():
        view = svc.pairing_state(integration_id, token_cache=state.token_cache())
        if view.error and view.status is None:
            show_error(view.error, what="Cannot show the pairing state")
            return
        status = view.status
        if view.connected:
            st.success("## ✅ The phone is connected\nThis WhatsApp number is linked and ready to send messages.",
                       icon="📱")
            if not st.session_state.get(f"celebrated_{integration_id}"):
                st.session_state[f"celebrated_{integration_id}"] = True
                st.balloons()
            return
        if status and status.state is ConnState.OFFLINE:
            st.warning("The phone is **not connected** and no QR code is being shown (the codes ran out or the "
                       "session was stopped). Press **Show a new QR code** to start again.", icon="🔌")
            if st.button("Show a new QR code", type="primary", key=f"restart_{integration_id}"):
                with guarded("Could not start pairing"):
                    svc.start_pairing(integration_id, actor=state.actor(), token_cache=state.token_cache())
                    st.rerun(scope="fragment")
            return
        if view.qr_png:
            left, right = st.columns([3, 2], gap="large")
            with left:
                st.image(view.qr_png, width=380, alt="QR code to link this WhatsApp number")
                st.caption(f"This code changes in about **{duration(view.qr_expires_in)}**; the new one appears here "
                           "by itself.")
            with right:
                st.markdown(INSTRUCTIONS)
                st.info(f"Status: **{status.label if status else 'unknown'}** — waiting for the scan…", icon="⏳")
                if svc.simulator is not None:
                    st.caption("Demo: there is no real phone. This button plays the phone's part.")
                    if st.button("📷 Simulate the phone scan", key=f"simscan_{integration_id}"):
                        with guarded("The simulated scan failed"):
                            svc.simulate_scan(integration_id)
                            st.rerun(scope="fragment")
            if view.error:
                show_error(view.error, what="The QR code could not be drawn")
            return
        label = status.label if status else "unknown"
        st.info(f"Preparing the QR code… (status: **{label}**). It appears here in a few seconds.", icon="⏳")
        if status and status.state is ConnState.QR_REQUIRED:
            if st.button("Show a new QR code", key=f"restart2_{integration_id}"):
                with guarded("Could not start pairing"):
                    svc.start_pairing(integration_id, actor=state.actor(), token_cache=state.token_cache())
                    st.rerun(scope="fragment")

    _panel()
