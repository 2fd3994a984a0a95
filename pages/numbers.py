"""Numbers (home): every WhatsApp number and its connection, at a glance, refreshed in the background."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from wppui import state
from wppui.components import expires_in_text, guarded, iso_local, local_time, status_text

state.require_app_shell()
svc = state.service()
st.title("📋 WhatsApp numbers")

with guarded("The list of numbers could not be read"):
    all_rows = svc.list_numbers()
    orgs = sorted({r.organization_id for r in all_rows})
    c1, c2 = st.columns([3, 1])
    org = c1.selectbox("Organisation", ["All organisations", *orgs], key="numbers_org")
    if c2.button("➕ Connect a number", type="primary", use_container_width=True):
        st.switch_page(st.session_state["pages"]["connect"])
    if not all_rows:
        st.info("No numbers yet. Press **Connect a number** to add the first one.", icon="👋")
        st.stop()

    @st.fragment(run_every=state.settings().poll_seconds)
    def fleet():
        rows = svc.list_numbers(None if org == "All organisations" else org)
        first = "numbers_seen" not in st.session_state
        snap = svc.board.snapshot(rows, wait_s=2.0 if first else 0.0)
        st.session_state["numbers_seen"] = True
        now = svc.clock.time()
        table = []
        for r in rows:
            fr = snap.get(r.id)
            # a number saved without its first token is finished as soon as a status check got one for it
            # (the token is written back; this run's rows were read just before the check)
            unfinished = not (r.api_key and r.session) or (r.token_pending and (fr is None or fr.status is None))
            if unfinished:
                status = "🟡 Not finished — open to finish creating"
                problem = ("Creating stopped" + (f" on {iso_local(r.last_error_at)}" if r.last_error_at else "")
                           + ": open the number and press \u201cFinish creating\u201d.")
            elif fr is None:
                status, problem = "⏳ Checking…", ""
            else:
                # the live answer wins: a problem saved during an outage is history once the platform answers
                status, problem = status_text(fr.status, fr.error), (fr.error.message if fr.error else "")
            exp = (fr.token_expires_at_ms if fr else None) or r.jwt_expires_at_ms
            table.append({
                "Name": r.display_name,
                "Organisation": r.organization_id,
                "Session": r.session or "—",
                "Status": status,
                "Token expires": expires_in_text(exp, now),
                "Last checked": local_time(fr.checked_at, short=True) if fr else "—",
                "Problem": problem,
            })
        counts = pd.Series([t["Status"].split(" ", 1)[-1] for t in table]).value_counts()
        st.caption(f"{len(rows)} number(s) · " + " · ".join(f"{v} {k[:1].lower()}{k[1:]}" for k, v in counts.items())
                   + " · refreshed every few seconds")
        event = st.dataframe(
            pd.DataFrame(table), hide_index=True, on_select="rerun", selection_mode="single-row",
            key="numbers_table", height=min(38 * (len(table) + 1), 700),
        )
        picked = event.selection.rows if event and event.selection else []
        if picked:
            state.select_integration(rows[picked[0]].id)
            st.switch_page(st.session_state["pages"]["number"])
        st.caption("Click a row to open that number.")

    fleet()
