"""Activity: who did what to which number, newest first."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from wppui import state
from wppui.components import guarded, iso_local

state.require_app_shell()
svc = state.service()
st.title("🕘 Activity")

with guarded("The activity log could not be read"):
    entries = svc.activity(limit=2000)
    names = {r.id: r.display_name for r in svc.list_numbers(include_inactive=True)}
    if not entries:
        st.info("Nothing has happened yet.", icon="🕘")
        st.stop()
    df = pd.DataFrame([{
        "When": iso_local(e.at),
        "Who": e.actor,
        "Action": e.action,
        "Outcome": "✅ ok" if e.outcome == "ok" else "❌ " + e.outcome,
        "Number": names.get(e.integration_id, e.integration_id or "—"),
        "Organisation": e.organization_id or "—",
        "Detail": e.detail,
    } for e in entries])
    c1, c2, c3 = st.columns(3)
    actions = c1.multiselect("Action", sorted(df["Action"].unique()))
    outcome = c2.selectbox("Outcome", ["All", "Only problems", "Only successes"])
    text = c3.text_input("Contains", placeholder="name, organisation, detail…")
    if actions:
        df = df[df["Action"].isin(actions)]
    if outcome == "Only problems":
        df = df[~df["Outcome"].str.startswith("✅")]
    elif outcome == "Only successes":
        df = df[df["Outcome"].str.startswith("✅")]
    if text.strip():
        needle = text.strip().lower()
        df = df[df.apply(lambda r: needle in " ".join(map(str, r.values)).lower(), axis=1)]
    st.caption(f"{len(df)} entr{'y' if len(df) == 1 else 'ies'}, newest first")
    st.dataframe(df, hide_index=True)
