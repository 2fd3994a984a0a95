"""Settings: what the console is connected to and how it is set up, in labelled rows (secrets masked)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from wpp.errors import WppError
from wpp.i18n import _
from wppui import pagekit, state
from wppui.components import show_error
from wppui.text import esc

s = pagekit.begin(needs="settings")

st.title("⚙️ " + _("Settings"))

if getattr(s, "is_demo", False):
    st.info(_("**Demo — simulated platform.** No platform is configured, so the console runs its own simulated "
              "platform on this computer. Nothing reaches WhatsApp."), icon="🧪")

cfg = state.settings()
for warning in getattr(cfg, "warnings", None) or []:  # unknown settings, settings that are not used, ...
    st.warning(esc(warning), icon="⚠️")

try:
    rows = s.settings_rows()
except WppError as err:
    show_error(err, what=_("The settings could not be read"))
    st.stop()
st.dataframe(pd.DataFrame(rows, columns=[_("Setting"), _("Value")]), hide_index=True, height="content",
             column_config={_("Value"): st.column_config.TextColumn(_("Value"), width="large")})
st.caption(_("Secrets are shown masked. To change a setting, edit .streamlit/secrets.toml or the environment and "
             "restart the console (see secrets.toml.example)."))
