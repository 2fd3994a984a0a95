"""Activity: a diary of who did what, to which school's number, and how it went (newest first)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from wpp.errors import WppError
from wpp.i18n import _, _n
from wppui import pagekit, tables
from wppui.components import datetime_column, show_error

s = pagekit.begin()

st.title("🕘 " + _("Activity"))

try:
    lines = s.activity(limit=2000)
except WppError as err:
    show_error(err, what=_("The activity could not be read"))
    st.stop()
if not lines:
    st.info(_("Nothing has happened yet."), icon="🕘")
    st.stop()

# every school of this person (also those without a line yet), and any school a line names
try:
    known = {o.name for o in s.organizations()}
except WppError:
    known = set()
schools = sorted(known | {ln.school for ln in lines if ln.school}, key=str.casefold)
c1, c2, c3 = st.columns([2, 1.3, 2.5], vertical_alignment="bottom")
if st.session_state.get("activity_school") not in (None, *schools):
    st.session_state.pop("activity_school", None)
school = c1.selectbox(_("School"), schools, index=None, key="activity_school",
                      placeholder=_("All schools"), help=_("Type a school's name to show only that school"))
problems_only = c2.toggle(_("Only problems"), key="activity_problems")
needle = c3.text_input(_("Search"), key="activity_text", placeholder=_("a name, a school, a phone number…"))

picked = [ln for ln in lines
          if (school is None or ln.school == school) and (not problems_only or not ln.ok)]
if needle.strip():
    n = needle.strip().casefold()
    picked = [ln for ln in picked if n in " ".join((ln.who, ln.school, ln.number, ln.what)).casefold()]

if not picked:
    st.info(_("No entry matches these filters."), icon="🔎")
    st.stop()
st.caption(_n("{n} entry, newest first", "{n} entries, newest first", len(picked)))
# what happened and how it went first; every column whole in the main area of a 1366 × 900 screen with the sidebar
# open (about 900 px): a long line wraps in its row instead of being cut
cols = {"when": _("When"), "what": _("What happened"), "outcome": _("Outcome"), "school": _("School"),
        "number": _("Number"), "who": _("Who")}
frame = pd.DataFrame({
    cols["when"]: tables.datetimes([ln.at for ln in picked]),
    cols["what"]: [ln.what for ln in picked],
    cols["outcome"]: [ln.outcome for ln in picked],
    cols["school"]: [ln.school for ln in picked],
    cols["number"]: [ln.number for ln in picked],
    cols["who"]: [ln.who for ln in picked],
})
w = tables.DIARY_WIDTHS
st.dataframe(frame, hide_index=True, placeholder=tables.EMPTY, row_height=tables.ROW_HEIGHT, column_config={
    cols["when"]: datetime_column(cols["when"], seconds=False, width=w["when"]),
    **{cols[k]: st.column_config.TextColumn(cols[k], width=w[k]) for k in ("what", "outcome", "school", "number", "who")},
})

# the same lines for the school's own reports: a CSV file (pandas) with the columns in the reader's language and the
# times in the browser's time zone; only what this person may see, as filtered above
when_local = frame[cols["when"]].dt.strftime("%Y-%m-%d %H:%M:%S").fillna("")
report = frame.assign(**{cols["when"]: when_local,
                         cols["outcome"]: [_("Done") if ln.ok else _("Failed") for ln in picked]})
st.download_button(
    _n("Download this {n} entry (CSV)", "Download these {n} entries (CSV)", len(picked)),
    data=report.to_csv(index=False).encode("utf-8-sig"),  # the BOM lets spreadsheet programs read Cyrillic
    file_name=f"activity-{pd.Timestamp.now(tz=tables.browser_tz()).strftime('%Y-%m-%d')}.csv",
    mime="text/csv", icon="⬇️", key="activity_csv",
    help=_("For the school's own reports: the lines shown above, times in your time zone."))
