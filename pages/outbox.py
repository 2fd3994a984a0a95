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
    st.caption(_("When a number stays down for a while, the recipients in WPP_ALERT_RECIPIENTS are told once, and "
                 "once more when it is back (see Settings)."))

#: how often the open page looks for new alerts (seconds): an alert lands without F5
REFRESH_S = 10.0


def undelivered_box(s) -> None:
    """Alerts the console gave up on, in red at the top: to whom, about what, and why (issue 23)."""
    try:
        lost = s.undelivered(limit=20)
    except WppError:
        return
    if lost:
        st.error(esc(_n("{n} alert could not be delivered; the console has stopped trying:",
                        "{n} alerts could not be delivered; the console has stopped trying:", len(lost)))
                 + "\n" + "\n".join(f"- {esc(line)}" for line in undelivered_lines(lost))
                 + "\n\n" + esc(_("Check these recipients and the mail server on the Settings page. Whoever "
                                   "gets the alerts of every school was told about it.")), icon="❌")


def undelivered_lines(lost) -> list[str]:
    return [_("{when}, to {to}: “{subject}” — {why}", when=when(ln.at), to=ln.to, subject=ln.subject, why=ln.why)
            for ln in lost]


@gate.fragment(run_every=REFRESH_S)
def alerts_table() -> None:
    s = pagekit.service()
    try:
        lines = s.outbox(limit=500)
    except WppError as err:
        show_error(err, what=_("The alerts could not be read"))
        return
    undelivered_box(s)
    if not lines:
        st.info(_("No alert yet."), icon="🔔")
        return
    st.caption(_n("{n} alert, newest first", "{n} alerts, newest first", len(lines)))
    # what a reader needs first fits in 1280 px: when, delivered or not, which number, what happened; the rest after
    cols = {"when": _("When"), "outcome": _("Delivered?"), "school": _("School"), "number": _("Number"),
            "event": _("What happened"), "to": _("To"), "subject": _("Subject"), "text": _("Text")}
    frame = pd.DataFrame({
        cols["when"]: tables.datetimes([ln.at for ln in lines]),
        cols["outcome"]: [("✅ " if ln.ok else "❌ " if ln.ok is False else "⏳ ") + ln.outcome
                          + (f" ({ln.problem})" if ln.problem and not ln.ok else "") for ln in lines],
        cols["school"]: [ln.school for ln in lines],
        cols["number"]: [ln.number for ln in lines],
        cols["event"]: [ln.event for ln in lines],
        cols["to"]: [ln.to for ln in lines],
        cols["subject"]: [ln.subject for ln in lines],
        cols["text"]: [ln.text for ln in lines],
    })
    st.dataframe(frame, hide_index=True, column_config={
        cols["when"]: datetime_column(cols["when"], width=130),
        cols["outcome"]: st.column_config.TextColumn(cols["outcome"], width=200),
        cols["school"]: st.column_config.TextColumn(cols["school"], width=150),
        cols["number"]: st.column_config.TextColumn(cols["number"], width=130),
        cols["event"]: st.column_config.TextColumn(cols["event"], width=160),
        cols["subject"]: st.column_config.TextColumn(cols["subject"], width=260),
        cols["text"]: st.column_config.TextColumn(cols["text"], width=420),
    })


alerts_table()
