"""Access (formerly "Tokens"): is the number's access to the platform working? One sentence from the newest evidence
(what the platform last answered to a call with the number's keys, then the key's own expiry) and the one button that
fixes it on top; "Get a new access key" gets one and tries it; "Test access" with what it means; the technical view for
support staff below (the platform's last answer in its own words, the key's times as local times)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from wpp.errors import InvalidApiKey, WppError
from wpp.i18n import _, format_duration
from wppui import pagekit, tables
from wppui.components import masked_words, show_error, when
from wppui.text import esc

s = pagekit.begin()

st.title("🔑 " + _("Access"))
st.caption(_("Each number has two keys. Its permanent key was given by the platform when the number was created and "
             "does not change; with it the console gets an access key, which works for a few minutes and is renewed "
             "by itself. You only need this page when a number's access is refused."))
pagekit.show_flashes(key="_access_flash")
TEST = "_access_test"
REFRESHED = "_access_refreshed"  # (number id, what "Get a new access key" found), shown until the next action

try:
    views = s.numbers()
except WppError as err:
    show_error(err, what=_("The list of numbers could not be read"))
    st.stop()


def last_answer(verdict) -> str:
    """The platform's last answer to a call with the number's keys, for support (its own words, its status)."""
    if verdict is None or verdict.code == "unknown":
        return _("none yet")
    if verdict.code == "accepted":
        return _("accepted at {time}", time=when(verdict.at))
    parts = [_("refused since {time}", time=when(verdict.at))]
    if verdict.status:
        parts.append(_("HTTP status: {status}", status=verdict.status))
    if verdict.said:
        parts.append(_("its words: “{said}”", said=verdict.said))
    if verdict.code == "api_key_refused":
        parts.append(_("the permanent key was refused"))
    elif verdict.fresh:
        parts.append(_("a brand-new access key was refused too"))
    return " · ".join(parts)


def technical(report, *, key: str, reveal_with=None) -> None:
    """What support staff need: the platform's last answer, expiry, the 60-second rule, where the expiry comes from,
    header, claims (times as local times), signature, the masked key (the full one only after "Reveal")."""
    rows = []
    if report.verdict is not None:
        rows.append((_("The platform's last answer to this number's keys"), last_answer(report.verdict)))
    rows += [
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
    st.dataframe(pd.DataFrame(rows, columns=[_("What"), _("Value")]), hide_index=True, placeholder=tables.EMPTY,
                 column_config={_("Value"): st.column_config.TextColumn(_("Value"), width="large")})
    for problem in report.problems:
        st.warning(esc(problem), icon="⚠️")
    if report.token:  # the service puts it in the report only for someone who may reveal it
        reveal = st.toggle(_("Reveal the full key"), key=f"{key}_reveal",
                           help=_("Anyone with the full key can send messages from this number until it expires."))
        shown = masked_words(report.token_masked)
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
        st.code(masked_words(report.token_masked), language=None, wrap_lines=True)
    left, right = st.columns(2)
    with left:
        st.markdown("**" + esc(_("Header")) + "**")
        st.dataframe(pd.DataFrame(report.header, columns=[_("Field"), _("Value")]), hide_index=True,
                     placeholder=tables.EMPTY)
    with right:
        st.markdown("**" + esc(_("Claims")) + "**")
        # a time claim (exp, iat, nbf) as a local time, never a raw count of seconds
        claims = pd.DataFrame({
            _("Claim"): [c[0] for c in report.claims],
            _("Value"): [when(c[2]) if c[2] else ("—" if c[1] is None else c[1]) for c in report.claims],
        })
        st.dataframe(claims, hide_index=True, placeholder=tables.EMPTY)


view = None
if not views:
    if pagekit.number_param():
        pagekit.absent_number(s, pagekit.number_param())
    st.info(_("No numbers yet. Connect one first.") if s.may("create") else
            _("No numbers yet. An operator or an administrator of your school connects them."), icon="👋")
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
        refused = report.verdict is not None and report.verdict.refused
        if report.ok and not report.fix:
            st.success(summary, icon="✅")
        else:
            (st.error if refused else st.warning)(summary, icon="⛔" if refused else "🔑")
    c1, c2, c3 = st.columns([1.5, 1.2, 1.8])
    refresh = s.may("refresh_key", view.org_id) and c1.button(
        _("Get a new access key"), icon="🔄", key="access_refresh",
        type="primary" if report is not None and report.fix == "refresh" else "secondary",
        help=_("Gets a new access key now and tries it once with the platform"))
    if s.may("test_access", view.org_id) and c2.button(_("Test access"), icon="🧪", key="access_test",
                 help=_("One real call to the platform with the key as it is now")):
        try:
            st.session_state[TEST] = (view.id, s.test_access(view.id, actor=pagekit.actor()))
            st.session_state.pop(REFRESHED, None)
        except WppError as err:
            show_error(err, what=_("The test could not be made"))
    if report is not None and report.fix == "reconnect" and c3.button(_("Open the number"), icon="📱",
                                                                      key="access_open_number", type="primary"):
        pagekit.go("number", view.id)
    if refresh:
        st.session_state.pop(TEST, None)
        try:
            with st.spinner(_("Getting a new access key and trying it…")):
                outcome = s.refresh_token(view.id, actor=pagekit.actor())
        except InvalidApiKey as err:
            st.session_state[REFRESHED] = (view.id, err)
        except WppError as err:
            show_error(err, what=_("No new access key"))
        else:
            st.session_state[REFRESHED] = (view.id, outcome)
        if REFRESHED in st.session_state:
            st.rerun()
    refreshed = st.session_state.get(REFRESHED)
    if refreshed and refreshed[0] == view.id:
        outcome = refreshed[1]
        if isinstance(outcome, WppError):  # the third answer: the permanent key itself is refused
            show_error(outcome, what=_("No new access key"))
        else:
            body = (f"**{esc(outcome.title)}**  \n{esc(outcome.explanation)}  \n" +
                    esc(_("Next step: {step}", step=outcome.next_step)))
            (st.success if outcome.ok and not outcome.next_action else st.warning if outcome.ok else st.error)(
                body, icon="✅" if outcome.ok and not outcome.next_action else "🩺" if outcome.ok else "⛔")
            if outcome.next_action == "show_qr" and s.may("pair", view.org_id):
                if st.button(_("Show the QR code"), icon="📱", key="access_refreshed_show_qr"):
                    pagekit.go("number", view.id)
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
            st.info(esc(pasted_report.belongs_to) + "  \n" + esc(pasted_report.summary), icon="🔑")
            technical(pasted_report, key="access_pasted")
