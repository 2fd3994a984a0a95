"""Connect a number: pick the school by name, name the number, create it, then link the phone with the QR code.

The address carries the work: ``?req=<request id>`` while a number is being created (F5 during the wait finds the
same number and never makes a second one), then ``?n=<integration id>`` (F5 shows that number's current QR code).
"""
from __future__ import annotations

import difflib
import uuid

import streamlit as st

from wpp.errors import WppError
from wpp.i18n import _
from wppui import pagekit, tables
from wppui.components import guarded, show_error
from wppui.pairing import pairing_panel, prelinked_choice
from wppui.text import esc

s = pagekit.begin(needs="create")

REQ = "req"
NAME = "connect_name"
NAME_DEFAULT = "_connect_name_default"
SCHOOL = "connect_school"

st.title("➕ " + _("Connect a number"))
pagekit.show_flashes(key="_connect_flash")


def _request_id() -> str | None:
    value = st.query_params.get(REQ)
    return value if isinstance(value, str) and value.strip() else None


def _show_number(number_id: str) -> None:
    pagekit.set_number_param(number_id)
    if REQ in st.query_params:
        del st.query_params[REQ]


def start_pairing(number_id: str) -> None:
    try:
        s.start_pairing(number_id, actor=pagekit.actor())
    except WppError as err:
        pagekit.flash("warning", pagekit.error_text(err), key="_connect_flash")


def outcome_shown(out) -> None:
    """After create / finish creating: the number's place in the address, and what to do next."""
    tables.changed()
    _show_number(out.integration.id)
    if out.error is not None:
        st.session_state["_connect_error"] = out.error
        return
    if not out.prelinked:
        start_pairing(out.integration.id)


# --- F5 while a number was being created: find that number, never make a second one ---------------------
req = _request_id()
if req and not pagekit.number_param():
    try:
        found = s.find_created(req)
    except WppError as err:
        found = None
        show_error(err, what=_("Could not check whether the number was already created"))
    if found is not None:
        if found.unfinished:
            with st.spinner(_("Finishing the number that was being created…")):
                try:
                    outcome_shown(s.resume(found.id, actor=pagekit.actor(), user_jwt=pagekit.user_jwt()))
                except WppError as err:
                    _show_number(found.id)
                    st.session_state["_connect_error"] = err
        else:
            _show_number(found.id)

# --- step 2: the number exists; link the phone -----------------------------------------------------------
number_id = pagekit.number_param()
if number_id:
    view = pagekit.load_number(s, number_id)
    if view is None:
        st.stop()
    if view.removed or view.unfinished or view.prelinked:
        st.markdown(f"**{esc(view.label)}** · " + esc(_("Step 2 of 2: link the phone")))
    err = st.session_state.pop("_connect_error", None)
    if err is not None:
        show_error(err, what=_("Creating was not finished"))
    if view.removed:
        st.warning(_("This number was removed from the list."), icon="🗂️")
    elif view.unfinished:
        st.warning(esc(_("Creating this number was not finished. Nothing is lost: press “Finish creating”.")) +
                   (f"  \n{esc(view.unfinished_reason)}" if view.unfinished_reason else ""), icon="🟡")
        if st.button(_("Finish creating"), type="primary", key="connect_finish"):
            with guarded(_("Creating was not finished")):
                with st.spinner(_("Finishing…")):
                    outcome_shown(s.resume(view.id, actor=pagekit.actor(), user_jwt=pagekit.user_jwt()))
                st.rerun()
    elif view.prelinked:
        prelinked_choice(s, view.id, where="connect")
    else:
        pairing_panel(view.id, org_id=view.org_id, where="connect", heading=view.label)
    st.divider()
    if st.button(_("Connect another number"), icon="➕", key="connect_another"):
        st.query_params.clear()
        st.session_state.pop(NAME, None)
        st.session_state.pop(NAME_DEFAULT, None)
        st.rerun()
    st.stop()

# --- step 1: whose number, and its name ------------------------------------------------------------------
def _similar(typed: str, name: str) -> bool:
    a, b = " ".join(typed.casefold().split()), " ".join(name.casefold().split())
    return bool(a) and (a in b or b in a or difflib.SequenceMatcher(None, a, b).ratio() >= 0.75)


def _pick_school(org_id: str) -> None:
    st.session_state[SCHOOL] = org_id
    st.session_state.pop("connect_confirm_new", None)


st.caption(_("Step 1 of 2: choose the school and name the number. Step 2: scan a QR code with the phone."))
try:
    orgs = [o for o in s.organizations() if s.may("create", o.id)]
    can_add = bool(s.can_add_organizations)
except WppError as err:
    show_error(err, what=_("The list of schools could not be read"))
    st.stop()
names = {o.id: o.name for o in orgs}
ids = sorted(names, key=lambda i: names[i].casefold())
if st.session_state.get(SCHOOL) is not None and st.session_state[SCHOOL] not in ids and not can_add:
    st.session_state.pop(SCHOOL, None)
if len(ids) == 1 and not can_add and st.session_state.get(SCHOOL) is None:
    st.session_state[SCHOOL] = ids[0]  # her only school, already chosen: one click creates the number

school = st.selectbox(
    _("School"),
    ids,
    index=None,
    key=SCHOOL,
    format_func=lambda i: names.get(i, i),
    placeholder=_("Type to search, or type a new school's name") if can_add else _("Type to search"),
    accept_new_options=can_add,
    help=_("The school this WhatsApp number belongs to. A school can have several numbers."),
)
new_school = school is not None and school not in names
org_id_typed = ""
confirmed_new = True
if new_school:
    # typing part of a name offers "Add: …" first: make sure a new school is really meant
    similar = [i for i in ids if _similar(school, names[i])][:3]
    if similar:
        st.warning(esc(_("“{name}” is not in the list of schools. Did you mean:", name=school)), icon="🔎")
        for col, i in zip(st.columns(len(similar)), similar):
            col.button(esc(names[i]), key=f"connect_meant_{i}", on_click=_pick_school, args=(i,), width="stretch")
        confirmed_new = st.checkbox(_("No — add “{name}” as a new school", name=esc(school)), key="connect_confirm_new")
    else:
        st.caption(esc(_("“{name}” is a new school: it is added when the number is created.", name=school)))
    with st.expander(_("Advanced: the school's id")):
        org_id_typed = st.text_input(
            _("School id on the school platform (optional)"), key="connect_org_id",
            help=_("Only when the school already has an id on the school platform. Leave it empty otherwise."))

default = s.default_number_name(None if new_school else school)
if st.session_state.get(NAME) in (None, "", st.session_state.get(NAME_DEFAULT)):
    st.session_state[NAME] = default
st.session_state[NAME_DEFAULT] = default
name = st.text_input(_("Name of this number"), key=NAME, max_chars=100,
                     help=_("Shown in the list so everybody knows which phone it is, e.g. “Reception”."))

if st.button(_("Create and show the QR code"), type="primary", icon="📱", key="connect_create"):
    if school is None:
        st.warning(_("Choose the school first."), icon="☝️")
        st.stop()
    if not confirmed_new:
        st.warning(esc(_("Choose the school from the list above, or tick “add as a new school”.")), icon="☝️")
        st.stop()
    with guarded(_("The number could not be created")):
        org = school
        if new_school:
            org = s.add_organization(school, org_id_typed.strip() or None, actor=pagekit.actor()).id
        # the request id is in the address BEFORE the platform is asked: F5 during the wait finds this number
        req = _request_id() or uuid.uuid4().hex
        st.query_params[REQ] = req
        with st.spinner(_("Creating the number on the platform… This can take up to 20 seconds while its new key "
                          "becomes active.")):
            out = s.create_number(org, name=name, actor=pagekit.actor(), request_id=req, user_jwt=pagekit.user_jwt())
        st.session_state.pop(NAME, None)
        st.session_state.pop(SCHOOL, None)
        outcome_shown(out)
        st.rerun()
