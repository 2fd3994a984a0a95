"""Settings / about: which platform and which store are in use (secrets masked)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

import wpp
from wppui import state

state.require_app_shell()
cfg = state.settings()
svc = state.service()
st.title("⚙️ Settings")
if cfg.demo:
    sim = state.simulator()
    st.warning(f"**Demo — simulated platform.** No platform is configured, so the console runs its own simulator "
               f"at `{sim.base_url}` on this computer. Nothing reaches WhatsApp.", icon="🧪")
else:
    st.success(f"Connected to the real platform at `{cfg.wpp_base_url}`.", icon="🌐")
st.write(f"**Numbers are kept in:** {svc.store.description}")
st.write(f"**Configuration read from:** {cfg.source} · WPP Console {wpp.__version__}")
st.dataframe(pd.DataFrame([{"setting": k, "value": v} for k, v in cfg.describe().items()]), hide_index=True)
st.caption("Secrets are shown masked. To change a setting, edit `.streamlit/secrets.toml` or the environment and "
           "restart the console — see `secrets.toml.example`.")
