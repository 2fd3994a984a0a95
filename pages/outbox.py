"""Alerts: every alert the console sent (or tries to send) when a number dropped or came back — when, to whom, what
it said, delivered or not. In the demo, the outbox where the alerts stay instead of being sent."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from wpp.access.roles import ALL
from wpp.errors import WppError
from wpp.i18n import _, _n, format_duration
from wpp.reports import incidents_csv
from wppui import gate, pagekit, tables
from wppui.components import browser_tz, datetime_column, guarded, show_error, when
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


# --- maintenance windows (issue 26): alerts held for a school or the whole platform --------------------------------
def maintenance() -> None:
    try:
        windows = s.maintenance_windows()
    except WppError as err:
        show_error(err, what=_("The maintenance windows could not be read"))
        return
    for w in windows:
        c1, c2 = st.columns([4, 1.2], vertical_alignment="center")
        why = f" ({w.reason})" if w.reason else ""
        words = (_("🛠️ {what}: maintenance now, until {end}{why} — set by {who}", what=w.what, end=when(w.ends), why=why,
                   who=w.by) if w.now else
                 _("🗓️ {what}: maintenance from {start} until {end}{why} — set by {who}", what=w.what,
                   start=when(w.starts), end=when(w.ends), why=why, who=w.by))
        c1.markdown(esc(words))
        if (s.may("maintenance", w.school_id) if w.school_id else s.may("platform_maintenance", ALL)) and c2.button(
                _("End now") if w.now else _("Cancel"), key=f"end_window_{w.id}", width="stretch"):
            with guarded(_("The maintenance window was not ended")):
                s.end_maintenance(w.id, actor=pagekit.actor())
                st.rerun()
    schools = {o.id: o.name for o in s.organizations() if s.may("maintenance", o.id)}
    everything = s.may("platform_maintenance", ALL)
    if not schools and not everything:
        return
    with st.popover(_("Set a maintenance window"), icon="🛠️"):
        st.caption(_("While a window lasts, no alert is sent about what it covers. What is still down when it ends "
                     "is sent once then; what comes back meanwhile sends nothing."))
        with st.form("maintenance"):
            options = (["*"] if everything else []) + sorted(schools, key=lambda i: schools[i].casefold())
            what = st.selectbox(_("For"), options, format_func=lambda i: _("The whole platform") if i == "*"
                                else schools.get(i, "—"), key="window_for")
            tz = browser_tz()
            now = dt.datetime.now(tz)
            c1, c2 = st.columns(2)
            d1 = c1.date_input(_("From (day)"), value=now.date(), key="window_from_day")
            t1 = c2.time_input(_("From (time)"), value=now.time().replace(second=0, microsecond=0),
                               key="window_from_time")
            later = now + dt.timedelta(hours=2)
            d2 = c1.date_input(_("Until (day)"), value=later.date(), key="window_to_day")
            t2 = c2.time_input(_("Until (time)"), value=later.time().replace(second=0, microsecond=0),
                               key="window_to_time")
            reason = st.text_input(_("Why (others see it)"), max_chars=200, key="window_reason",
                                   placeholder=_("e.g. the platform is being updated"))
            if st.form_submit_button(_("Set the window"), type="primary"):
                try:
                    s.set_maintenance(None if what == "*" else what, dt.datetime.combine(d1, t1, tzinfo=tz),
                                      dt.datetime.combine(d2, t2, tzinfo=tz), reason=reason, actor=pagekit.actor())
                except WppError as err:
                    show_error(err, what=_("The maintenance window was not set"))
                else:
                    st.rerun()


# --- problems first (issue 26): what is down now, then what ended and how long it lasted ---------------------------
def _taken_care(ln) -> str:
    return _("{who}, {when}", who=ln.acked_by, when=when(ln.acked_at)) if ln.acked_by else "—"


@gate.fragment(run_every=REFRESH_S)
def incidents_tables() -> None:
    s = pagekit.service()
    try:
        found = s.incidents()
    except WppError as err:
        show_error(err, what=_("The problems could not be read"))
        return
    st.header(_("Open problems"))
    if not found.open:
        st.success(_("No open problem: every number the console follows works."), icon="✅")
    else:
        st.caption(_n("{n} problem open, the oldest first", "{n} problems open, the oldest first", len(found.open)))
        cols = {"school": _("School"), "number": _("Number"), "kind": _("What happened"), "since": _("Since"),
                "ack": _("Taken care of by")}
        st.dataframe(pd.DataFrame({
            cols["school"]: [ln.school for ln in found.open],
            cols["number"]: [ln.number for ln in found.open],
            cols["kind"]: [ln.kind for ln in found.open],
            cols["since"]: tables.datetimes([ln.since for ln in found.open]),
            cols["ack"]: [_taken_care(ln) for ln in found.open],
        }), hide_index=True, key="open_problems", column_config={
            cols["since"]: datetime_column(cols["since"], seconds=False, width=150),
            cols["kind"]: st.column_config.TextColumn(cols["kind"], width=220),
            cols["ack"]: st.column_config.TextColumn(cols["ack"], width=220),
        })
    st.header(_("Ended problems"))
    if not found.closed:
        st.caption(_("No problem has ended yet."))
    else:
        cols = {"since": _("Since"), "back": _("Back at"), "lasted": _("Lasted"), "school": _("School"),
                "number": _("Number"), "kind": _("What happened"), "ack": _("Taken care of by")}
        st.dataframe(pd.DataFrame({
            cols["since"]: tables.datetimes([ln.since for ln in found.closed]),
            cols["back"]: tables.datetimes([ln.recovered_at for ln in found.closed]),
            cols["lasted"]: [format_duration(ln.duration_s) if ln.duration_s is not None else _("(number removed)")
                             for ln in found.closed],
            cols["school"]: [ln.school for ln in found.closed],
            cols["number"]: [ln.number for ln in found.closed],
            cols["kind"]: [ln.kind for ln in found.closed],
            cols["ack"]: [_taken_care(ln) for ln in found.closed],
        }), hide_index=True, key="ended_problems", height=min(38 + 35 * len(found.closed), 300), column_config={
            cols["since"]: datetime_column(cols["since"], seconds=False, width=150),
            cols["back"]: datetime_column(cols["back"], seconds=False, width=150),
            cols["lasted"]: st.column_config.TextColumn(cols["lasted"], width=110),
        })
    if found.open or found.closed:
        tz = browser_tz()
        st.download_button(_("Download the problems (CSV)"), data=incidents_csv(found, tz), mime="text/csv",
                           file_name=f"problems-{dt.datetime.now(tz):%Y-%m-%d}.csv", icon="⬇️", on_click="ignore",
                           key="problems_csv")


incidents_tables()

with st.expander(_("Maintenance windows"), icon="🛠️"):
    maintenance()

st.header(_("Alerts sent"))


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
