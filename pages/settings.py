"""Settings: who is told when a number drops (school by school, first), then what the console is connected to and how
it is set up, section by section in words (secrets masked).

The console's own settings (and its warnings, staff, allow-list, mail server) are for an administrator of every
school. An administrator of some schools sees what concerns those schools: their alerts' recipients and their
numbers' webhooks (the service decides, line by line)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from wpp.errors import WppError
from wpp.i18n import _, _n
from wppui import pagekit, state, tables
from wppui.components import datetime_column, show_error, when
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
    try:
        lost = s.undelivered(limit=20, recipient_scope=True)
    except WppError:
        lost = []
    if lost:  # in red, with why (issue 23): an alert the console gave up on
        st.error(esc(_n("{n} alert could not be delivered; the console has stopped trying:",
                        "{n} alerts could not be delivered; the console has stopped trying:", len(lost)))
                 + "\n" + "\n".join(
                     "- " + esc(_("{when}, to {to}: “{subject}” — {why}", when=when(ln.at), to=ln.to,
                                  subject=ln.subject, why=ln.why)) for ln in lost), icon="❌")
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

# --- proof of delivery: who receives the check messages, and what they cost ------------------------------------------
# Named here, beside who gets the alerts: a witness is a decision about every number of a school (or of all of them),
# it costs messages, and it is the administrator's (PERMISSIONS["witness"], for every school "witness_all").
st.header(_("Proof of delivery"))
pagekit.show_flashes()
st.caption(_("A number can show as connected and still deliver nothing. So each connected number sends a short check "
             "message to a witness: a phone that receives it (the platform's support phone, or another number of "
             "this console). When the message is delivered, the number's page says “Delivery proven”; when it is "
             "not, “Not delivering” — and the number needs attention."))
cost = s.proof_config
try:
    live = sum(1 for v in s.numbers() if v.status.state is not None and v.status.state.value == "connected")
except WppError:
    live = 0
st.caption(esc(_("What it costs, in check messages a day per connected number: {per_day} sent by themselves between "
                 "{hours}, at most {max} with “Check delivery now”.",
                 per_day=cost.checks_per_day, max=cost.max_per_day,
                 hours="{:02d}:{:02d}–{:02d}:{:02d}".format(cost.hours[0] // 60, cost.hours[0] % 60,
                                                            cost.hours[1] // 60, cost.hours[1] % 60))
               + " " + _n("With {n} connected number: about {total} check messages a day.",
                          "With {n} connected numbers: about {total} check messages a day.", live,
                          total=live * cost.checks_per_day)))
why = s.proof_off_reason()
if why:
    st.warning(esc(why), icon="✉️")
try:
    witnesses = s.witness_lines()
except WppError as err:
    show_error(err, what=_("The witnesses could not be read"))
    witnesses = []
if witnesses:
    st.dataframe(pd.DataFrame({
        _("For"): [w.school for w in witnesses],
        _("Witness"): [w.phone for w in witnesses],
        _("Number of this console"): [w.fleet_number or "" for w in witnesses],
        _("Named by"): [w.set_by for w in witnesses],
        _("Named"): tables.datetimes([w.set_at for w in witnesses]),
    }), hide_index=True, column_config={_("Named"): datetime_column(_("Named"))})
else:
    st.info(_("No witness is named yet, so no number's delivery is checked."), icon="✉️")

if s.may("witness"):
    schools = {"*": _("Every school (unless a school has its own)")} if s.may("witness_all") else {}
    schools.update({o.id: o.name for o in s.organizations() if s.may("witness", o.id)})
    fleet = s.fleet_phones()
    with st.form("witness_form"):
        scope = st.selectbox(_("For"), list(schools), format_func=schools.get, key="witness_scope")
        typed = st.text_input(_("Witness phone"), key="witness_phone", placeholder="+7 900 123-45-67",
                              help=_("The phone that receives the check messages, with the country code. Leave it "
                                     "empty and save to remove the witness."))
        picked = st.selectbox(_("…or one of this console's numbers"), [p for _label, p in fleet], index=None,
                              format_func=dict((p, f"{label} · {p}") for label, p in fleet).get,
                              key="witness_fleet", placeholder=_("None"),
                              help=_("Its own incoming messages prove delivery too."))
        if st.form_submit_button(_("Save the witness"), type="primary"):
            try:
                saved = s.set_witness(scope, picked or typed, actor=pagekit.actor())
            except WppError as err:
                show_error(err, what=_("The witness was not saved"))
            else:
                pagekit.flash("success", esc(_("Saved: {phone} receives the check messages.", phone=saved)) if saved
                              else esc(_("The witness was removed.")))
                st.rerun()
