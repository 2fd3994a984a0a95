"""Settings: who is told when a number drops (school by school, first), then what the console is connected to and how
it is set up, section by section in words (secrets masked).

The console's own settings (and its warnings, staff, allow-list, mail server) are for an administrator of every
school. An administrator of some schools sees what concerns those schools: their alerts' recipients and their
numbers' webhooks (the service decides, line by line)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from wpp.errors import WppError
from wpp.i18n import _
from wppui import pagekit, state, tables
from wppui.components import datetime_column, show_error
from wppui.text import esc

s = pagekit.begin(needs=("settings", "alerts", "webhooks"))

st.title("⚙️ " + _("Settings"))

if getattr(s, "is_demo", False):
    st.info(_("**Demo — simulated platform.** No platform is configured, so the console runs its own simulated "
              "platform on this computer. Nothing reaches WhatsApp."), icon="🧪")

# --- first: who is told when a number drops, school by school, and whether the last alert went out ----------------
recipients = []
if s.may("alerts"):
    try:
        recipients = s.alert_recipients()
    except WppError as err:
        show_error(err, what=_("The alerts' recipients could not be read"))
if recipients:
    st.header(_("Who is told when a number drops"))
    every = _("Every school")
    recipients = sorted(recipients, key=lambda r: (r.scope == every, r.scope.casefold(), r.to.casefold()))
    st.dataframe(pd.DataFrame({
        _("For"): [r.scope for r in recipients],
        _("Recipient"): [r.to for r in recipients],
        _("How"): [r.channel for r in recipients],
        _("Last alert"): tables.datetimes([r.last_at for r in recipients]),
        _("Did it go out?"): [("✅ " if r.ok else "❌ " if r.ok is False else "") + r.outcome for r in recipients],
    }), hide_index=True, placeholder=tables.EMPTY,
        column_config={_("Last alert"): datetime_column(_("Last alert"), seconds=False)})
    st.caption(_("Each school's own recipients first, then those told about every school. Every alert, with its text, "
                 "is on the Alerts page."))

# --- the console's own settings, section by section, in words ---------------------------------------------------------
if s.may("settings"):
    cfg = state.settings()
    for warning in getattr(cfg, "warnings", None) or []:  # unknown settings, settings that are not used, ...
        st.warning(esc(warning), icon="⚠️")
    try:
        sections = s.settings_sections()
    except WppError as err:
        show_error(err, what=_("The settings could not be read"))
        st.stop()
    st.caption(_("Secrets are shown masked. Settings are changed by whoever installed the console, in its settings "
                 "file or environment (see the last section), and take effect when the console is restarted."))
    for title, about, rows in sections:
        st.header(esc(title))
        if about:
            st.caption(esc(about))
        st.dataframe(pd.DataFrame(rows, columns=[_("Setting"), _("Value")]), hide_index=True,
                     placeholder=tables.EMPTY, height="content",
                     column_config={_("Setting"): st.column_config.TextColumn(_("Setting"), width="medium"),
                                    _("Value"): st.column_config.TextColumn(_("Value"), width="large")})
else:
    st.caption(_("The console's own settings are for administrators of every school. Here: what concerns the "
                 "schools you administer."))

# --- status pushed by the platform: is each number's webhook registered, do its events arrive ---------------------
if not s.may("webhooks"):
    st.stop()
st.header(_("Status pushed by the platform"))
try:
    hooks = s.webhook_overview()
except WppError as err:
    show_error(err, what=_("The webhooks' state could not be read"))
else:
    st.caption(esc(hooks.summary))
    if hooks.lines:
        st.dataframe(pd.DataFrame({
            _("Number"): [h.label for h in hooks.lines],
            _("Webhook registered"): [h.registered for h in hooks.lines],
            _("Events arriving"): [h.arriving for h in hooks.lines],
            _("Last event"): tables.datetimes([h.last_event for h in hooks.lines]),
            _("Accepted"): [h.accepted for h in hooks.lines],
            _("Refused"): [h.refused for h in hooks.lines],
            _("Why refused"): [h.refused_detail for h in hooks.lines],
        }), hide_index=True, placeholder=tables.EMPTY,
            column_config={_("Last event"): datetime_column(_("Last event"))})
    together = (_("All pushes together: {accepted} accepted, {refused} refused.", accepted=hooks.accepted,
                  refused=hooks.refused) if hooks.every_number else
                _("Pushes about these numbers together: {accepted} accepted, {refused} refused.",
                  accepted=hooks.accepted, refused=hooks.refused))
    st.caption(esc(together + (f" ({hooks.refused_detail})" if hooks.refused_detail else "")))
