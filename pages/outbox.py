"""Alerts: every alert the console sent (or tries to send) when a number dropped or came back — when, to whom, what
it said, delivered or not. In the demo, the outbox where the alerts stay instead of being sent."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from wpp.errors import WppError
from wpp.i18n import _, _n
from wppui import gate, pagekit, tables
from wppui.components import datetime_column, show_error, when
from wppui.text import esc

s = pagekit.begin(needs="alerts")

st.title("🔔 " + _("Alerts"))

if getattr(s, "is_demo", False):
    st.info(_("**Demo outbox.** In the demo nothing is sent: the alerts stay here. Open a connected number and press "
              "“Simulate the phone going offline”; about a minute later its alert appears here."), icon="🧪")
else:
    st.caption(_("When a number stays down for a while, the people set to receive alerts are told once, and once "
                 "more when it is back (who they are: Settings, “Alerts when a number drops”)."))

#: how often the open page looks for new alerts (seconds): an alert lands without F5
REFRESH_S = 10.0


@gate.fragment(run_every=REFRESH_S)
def alerts_table() -> None:
    s = pagekit.service()
    try:
        lines = s.outbox(limit=500)
    except WppError as err:
        show_error(err, what=_("The alerts could not be read"))
        return
    if not lines:
        st.info(_("No alert yet."), icon="🔔")
        return
    st.caption(_n("{n} alert, newest first", "{n} alerts, newest first", len(lines)) + " · "
               + _("click an alert to read its text below"))
    # every column whole in the main area of a 1366 × 900 screen with the sidebar open (about 900 px; long cells wrap);
    # the alert's own text is read in full below the table, never by scrolling the table sideways
    cols = {"when": _("When"), "outcome": _("Delivered?"), "school": _("School"), "number": _("Number"),
            "event": _("What happened"), "to": _("To")}
    frame = pd.DataFrame({
        cols["when"]: tables.datetimes([ln.at for ln in lines]),
        cols["event"]: [ln.event for ln in lines],
        cols["school"]: [ln.school for ln in lines],
        cols["number"]: [ln.number for ln in lines],
        cols["to"]: [ln.to for ln in lines],
        cols["outcome"]: [("✅ " if ln.ok else "❌ " if ln.ok is False else "⏳ ") + ln.outcome
                          + (f" ({ln.problem})" if ln.problem and not ln.ok else "") for ln in lines],
    })
    w = tables.ALERTS_WIDTHS
    event = st.dataframe(frame, hide_index=True, placeholder=tables.EMPTY, row_height=tables.ROW_HEIGHT,
                         on_select="rerun", selection_mode="single-row", key="outbox_table", column_config={
        cols["when"]: datetime_column(cols["when"], seconds=False, width=w["when"]),
        **{cols[k]: st.column_config.TextColumn(cols[k], width=w[k]) for k in ("event", "school", "number", "to",
                                                                               "outcome")},
    })
    rows = list(getattr(getattr(event, "selection", None), "rows", None) or [])
    picked = lines[rows[0]] if rows and 0 <= rows[0] < len(lines) else lines[0]
    with st.container(border=True):
        st.markdown("**" + esc(picked.subject) + "**")
        st.caption(esc(_("{when} · to {to}", when=when(picked.at), to=picked.to)))
        st.text(picked.text)

alerts_table()
