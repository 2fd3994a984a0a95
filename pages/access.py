"""Access (formerly "Tokens"): is the number's access to the platform working? One sentence and the one button that
fixes it on top; "Test access" with what it means; the technical view for support staff below."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from wpp.errors import WppError
from wpp.i18n import _, format_duration
from wppui import pagekit
from wppui.components import show_error, when
from wppui.text import esc

s = pagekit.begin()

st.title("🔑 " + _("Access"))
st.caption(_("To talk to WhatsApp for a number, the console uses an access key that the platform gives out for a "
             "few minutes at a time and that the console renews by itself. You only need this page when a number "
             "says its access is refused: then press “Get a new access key”."))
pagekit.show_flashes(key="_access_flash")
TEST = "_access_test"

try:
    views = s.numbers()
except WppError as err:
    show_error(err, what=_("The list of numbers could not be read"))
    st.stop()


def technical(report, *, key: str, reveal_with=None) -> None:
    """What support staff need: expiry, the 60-second rule, where the expiry comes from, header, claims,
    signature, the masked key (the full one only after "Reveal")."""
    rows = [
        (_("Expires at"), when(report.expires_at)),
        (_("Renews itself at"), when(report.renews_at)),
        (_("Time left"), format_duration(report.seconds_left) if report.seconds_left and report.seconds_left > 0
         else _("expired")),
        (_("Usable now (the 60-second rule: a key is used only while more than a minute of it is left)"),
         _("yes") if report.usable else _("no")),
        (_("Expiry taken from"), str(report.expiry_source or "—")),
        (_("Signature"), str(report.signature or "—")),
        (_("Issued at"), when(report.issued_at)),
        (_("Platform account in the key"), report.token_session or "—"),
        (_("Platform account saved for this number"), report.stored_session or "—"),
    ]
    st.dataframe(pd.DataFrame(rows, columns=[_("What"), _("Value")]), hide_index=True)
    for problem in report.problems:
        st.warning(esc(problem), icon="⚠️")
    if report.token:  # the service puts it in the report only for someone who may reveal it
        reveal = st.toggle(_("Reveal the full key"), key=f"{key}_reveal",
                           help=_("Anyone with the full key can send messages from this number until it expires."))
        shown = report.token_masked
        seen = st.session_state.get(f"{key}_revealed")
        if not reveal:
            st.session_state.pop(f"{key}_revealed", None)
        elif seen is not None and seen[0] == report.token_masked:
            shown = seen[1]  # revealed once (and written to the diary once) while the switch stays on
        else:
            try:
                shown = reveal_with() if reveal_with is not None else report.token
                st.session_state[f"{key}_revealed"] = (report.token_masked, shown)
            except WppError as err:
                show_error(err, what=_("The key cannot be shown"))
        st.code(shown, language=None, wrap_lines=True)
    elif report.token_masked:
        st.code(report.token_masked, language=None, wrap_lines=True)
    left, right = st.columns(2)
    with left:
        st.markdown("**" + esc(_("Header")) + "**")
        st.dataframe(pd.DataFrame(report.header, columns=[_("Field"), _("Value")]), hide_index=True)
    with right:
        st.markdown("**" + esc(_("Claims")) + "**")
        claims = pd.DataFrame({
            _("Claim"): [c[0] for c in report.claims],
            _("Value"): ["—" if c[1] is None else c[1] for c in report.claims],
            _("As a time"): [when(c[2]) if c[2] else "" for c in report.claims],
        })
        st.dataframe(claims, hide_index=True)


view = None
if not views:
    if pagekit.number_param():
        pagekit.absent_number(s, pagekit.number_param())
    st.info(_("No numbers yet. Connect one first."), icon="👋")
else:
    chosen = pagekit.number_picker(views, pagekit.number_param(), key="access_pick", label=_("Number"), s=s)
    view = next((v for v in views if v.id == chosen), None)
if view is not None:
    try:
        report = s.access_report(view.id)
    except WppError as err:
        show_error(err, what=_("The access key could not be read"))
        report = None
    if report is not None:
        summary = esc(report.summary)
        if report.fix == "refresh" and not s.may("refresh_key", view.org_id):
            # the sentence names a button this person does not have: say who has it
            summary += "  \n" + esc(_("Only an operator or an administrator of this school can do that: ask one of "
                                      "them."))
        (st.success if report.ok and not report.fix else st.warning)(summary,
                                                                    icon="✅" if report.ok and not report.fix else "🔑")
    c1, c2, _c3 = st.columns([1.4, 1.2, 2])
    refresh = s.may("refresh_key", view.org_id) and c1.button(
        _("Get a new access key"), icon="🔄", key="access_refresh",
        type="primary" if report is not None and report.fix == "refresh" else "secondary")
    if s.may("test_access", view.org_id) and c2.button(_("Test access"), icon="🧪", key="access_test",
                 help=_("One real call to the platform with the key as it is now")):
        try:
            st.session_state[TEST] = (view.id, s.test_access(view.id, actor=pagekit.actor()))
        except WppError as err:
            show_error(err, what=_("The test could not be made"))
    if refresh:
        try:
            with st.spinner(_("Getting a new access key…")):
                s.refresh_token(view.id, actor=pagekit.actor())
        except WppError as err:
            show_error(err, what=_("No new access key"))
        else:
            st.session_state.pop(TEST, None)
            pagekit.flash("success", esc(_("A new access key was saved.")), key="_access_flash")
            st.rerun()
    test = st.session_state.get(TEST)
    if test and test[0] == view.id:
        result = test[1]
        body = (f"**{esc(result.title)}**  \n{esc(result.explanation)}  \n" +
                esc(_("Next step: {step}", step=result.next_step)))
        (st.success if result.ok and not result.next_action else st.warning if result.ok else st.error)(
            body, icon="✅" if result.ok and not result.next_action else "🩺")
        if result.next_action == "show_qr":
            if st.button(_("Show the QR code"), icon="📱", type="primary", key="access_show_qr"):
                pagekit.go("number", view.id)
    if report is not None:
        with st.expander(_("Details for support")):
            technical(report, key="access_number",
                      reveal_with=lambda: s.reveal_token(view.id, actor=pagekit.actor()))

with st.expander(_("Check a key someone sent you (for support)")):
    pasted = st.text_area(_("Paste an access key"), height=100, key="access_pasted",
                          help=_("Nothing is sent anywhere: the key is only read here."))
    if pasted.strip():
        try:
            pasted_report = s.access_report_pasted(pasted)
        except WppError as err:
            show_error(err, what=_("This key cannot be read"))
        else:
            st.info(esc(pasted_report.summary), icon="🔑")
            technical(pasted_report, key="access_pasted")
