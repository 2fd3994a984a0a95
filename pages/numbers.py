"""Numbers (home): every WhatsApp number of every school, what state it is in and what to do; click a row to open it.

Refreshes itself cheaply: the table is drawn in the page's run from a cache shared by every viewer, and a small
fragment re-runs the page only when what it shows changed (see wppui.tables).
"""
from __future__ import annotations

import streamlit as st

from wpp.errors import WppError
from wpp.i18n import _, _n
from wppui import pagekit, tables
from wppui.components import guarded, show_error, when
from wppui.text import esc

s = pagekit.begin()

st.title("📋 " + _("WhatsApp numbers"))
pagekit.show_flashes()

DRAWN = "_numbers_drawn_key"
GEN = "_numbers_table_gen"

VIEW = "numbers_view"  # all | attention | removed; in the address as ?filter=attention or ?view=removed


def _view_from_address() -> str:
    if st.query_params.get("view") == "removed":
        return "removed"
    if st.query_params.get("filter") == "attention":
        return "attention"
    return "all"


def _view_to_address(view: str) -> None:
    for param, value, wanted in (("filter", "attention", view == "attention"), ("view", "removed", view == "removed")):
        if wanted and st.query_params.get(param) != value:
            st.query_params[param] = value
        elif not wanted and param in st.query_params:
            del st.query_params[param]


# the address wins when it changed (the sidebar's "Needs attention" link, a bookmark, Back); the control otherwise
url_view = _view_from_address()
if st.session_state.get("_url_numbers_view") != url_view or st.session_state.get(VIEW) is None:
    st.session_state[VIEW] = url_view
    st.session_state["_url_numbers_view"] = url_view

try:
    snap = tables.snapshot(s)
except WppError as err:
    show_error(err, what=_("The list of numbers could not be read"))
    st.stop()

# every school of this person, also those without a number yet (and any school a number names)
schools = {}
try:
    for o in s.organizations():
        schools[o.id] = o.name
except WppError:
    pass
for v in snap.views:
    schools.setdefault(v.org_id.split("__wpp__", 1)[0], v.org_name)
school_ids = sorted(schools, key=lambda i: schools[i].casefold())
needing = sum(1 for v in snap.views if v.status.needs_attention)
if len(school_ids) == 1 and not s.access.all_schools and "numbers_school" not in st.session_state:
    st.session_state["numbers_school"] = school_ids[0]  # one school: hers, already chosen

c_school, c_check, c_new = st.columns([3.6, 2, 2.2], vertical_alignment="bottom")
with c_school:
    if st.session_state.get("numbers_school") not in (None, *school_ids):
        st.session_state.pop("numbers_school", None)
    school = st.selectbox(_("School"), school_ids, index=None, key="numbers_school",
                          format_func=lambda i: schools.get(i, "—"),
                          placeholder=_("All schools"), help=_("Type a school's name to show only that school"))
labels = {"all": _("All numbers"), "attention": _("Needs attention ({n})", n=needing),
          "removed": _("Removed numbers")}
view = st.segmented_control(_("Show"), list(labels), format_func=labels.get, key=VIEW, required=True,
                            label_visibility="collapsed") or "all"
_view_to_address(view)
st.session_state["_url_numbers_view"] = view
attention_only = view == "attention"
show_removed = view == "removed"
with c_check:
    if s.may("check") and st.button(_("Check now"), icon="🔄", width="stretch", disabled=show_removed,
                 help=_("Ask the platform about every number now")):
        with guarded(_("Could not ask for a check")):
            s.check_now()
            st.toast(_("Asked the platform about every number. The list updates in a moment."), icon="🔄")
with c_new:
    if s.may("create") and st.button(_("Connect a number"), icon="➕", type="primary", width="stretch"):
        pagekit.go("connect")


def removed_numbers() -> None:
    try:
        views = s.numbers(removed=True)
    except WppError as err:
        show_error(err, what=_("The removed numbers could not be read"))
        return
    if not views:
        st.info(_("No number has been removed."), icon="🗂️")
        return
    st.caption(_("Removed numbers are not checked and not shown in the list. Their keys stay saved: restoring one "
                 "brings it back as it was."))
    for v in views:
        c1, c2, c3 = st.columns([4.5, 2, 2], vertical_alignment="center")
        c1.markdown(f"**{esc(v.label)}**")
        c2.caption(_("Added {time}", time=when(v.created_at)))
        if s.may("restore", v.org_id) and c3.button(_("Restore"), key=f"restore_{v.id}", icon="↩️", width="stretch"):
            with guarded(_("Could not restore the number")):
                s.restore(v.id, actor=pagekit.actor())
                tables.changed()
                pagekit.flash("success", esc(_("“{name}” is back in the list.", name=v.label)))
                if "view" in st.query_params:  # back to the list (the address wins on the next run)
                    del st.query_params["view"]
                st.rerun()


if show_removed:
    removed_numbers()
    st.stop()

try:
    table = tables.numbers_table(s, attention_only=attention_only, school=school)
except WppError as err:
    show_error(err, what=_("The list of numbers could not be read"))
    st.stop()

if not table.total:
    st.info(_("No numbers yet. Press “Connect a number” to add the first one.") if s.may("create") else
            _("No numbers yet. An operator or an administrator of your school connects them."), icon="👋")
elif table.frame.empty:
    st.info(_("No number matches these filters."), icon="🔎")
else:
    parts = [_n("{n} number", "{n} numbers", table.total)]
    if table.attention:
        parts.append(_n("{n} needs attention", "{n} need attention", table.attention))
    st.caption(" · ".join(parts) + " · " + _("click a row to open that number"))
    gen = st.session_state.setdefault(GEN, 0)
    event = st.dataframe(
        table.frame,
        hide_index=True, placeholder=tables.EMPTY,
        column_config=tables.column_config(),
        on_select="rerun",
        selection_mode=["single-row", "single-cell"],
        key=f"numbers_table_{gen}",
        row_height=tables.ROW_HEIGHT,
        height=min(tables.ROW_HEIGHT * len(table.frame) + 48, 660),
    )
    selection = getattr(event, "selection", None)
    picked = None
    if selection is not None:
        rows = list(selection.get("rows", []) or [])
        cells = list(selection.get("cells", []) or [])
        if rows:
            picked = rows[0]
        elif cells:
            picked = cells[0][0]
    if picked is not None and 0 <= int(picked) < len(table.ids):
        st.session_state[GEN] = gen + 1  # a fresh table next time: coming back does not open it again
        pagekit.go("number", table.ids[int(picked)])

st.session_state[DRAWN] = table.key


@st.fragment(run_every=pagekit.board_interval())
def watch() -> None:
    """Every few seconds: did anything shown change? Only then is the page drawn again (an idle board costs a
    dictionary look-up)."""
    s2 = pagekit.fragment_service()
    if s2 is None:
        return
    try:
        now_key = tables.table_key(s2, attention_only=st.session_state.get(VIEW) == "attention",
                                   school=st.session_state.get("numbers_school"))
    except WppError:
        return
    if now_key != st.session_state.get(DRAWN):
        st.rerun()


watch()
