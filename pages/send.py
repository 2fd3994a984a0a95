"""Send a test message from one of the numbers (``?n=`` says which)."""
from __future__ import annotations

import time

import streamlit as st

from wpp import glossary
from wpp.errors import WppError
from wpp.i18n import _
from wppui import gate, pagekit
from wppui.components import show_error, state_code_of, state_in_words, when
from wppui.text import esc

s = pagekit.begin(needs="send")

#: the last test message this tab sent: (number id, the platform's message id, whether its ticks are final)
LAST = "_send_last"
#: a test message sent this recently is followed again after F5 (seconds)
RECENT_S = 6 * 3600.0


def follow_delivery(number_id: str, message_id: str) -> None:
    """The ticks of the last test message, refreshing themselves until it is read or failed (then once more as a
    still line, so nothing refreshes for nothing)."""
    final = bool(st.session_state.get(LAST, (None, None, False))[2])

    @gate.fragment(run_every=None if final else 2)
    def _ticks() -> None:
        view_s = pagekit.service()
        try:
            d = view_s.delivery(number_id, message_id)
        except WppError as err:
            show_error(err, what=_("Whether the message arrived cannot be shown"))
            return
        if d is None:
            return
        line = f"{d.ticks} **{esc(d.words)}** · " + esc(_("to {phone}, sent {time}", phone=d.to, time=when(d.sent_at)))
        (st.error if d.failed else st.info)(line, icon="📬")
        st.caption(esc(view_s.delivery_note()))
        if d.done and not final:
            st.session_state[LAST] = (number_id, message_id, True)
            st.rerun()

    _ticks()

st.title("✉️ " + _("Send a test message"))
pagekit.show_flashes(key="_send_flash")

try:
    views = [v for v in s.numbers() if not v.unfinished and s.may("send", v.org_id)]
except WppError as err:
    show_error(err, what=_("The list of numbers could not be read"))
    st.stop()
if not views:
    if pagekit.number_param():
        pagekit.absent_number(s, pagekit.number_param())
    st.info(_("No number is ready to send yet. Connect one first."), icon="👋")
    if st.button(_("Connect a number"), icon="➕", type="primary"):
        pagekit.go("connect")
    st.stop()

chosen = pagekit.number_picker(views, pagekit.number_param(), key="send_from", label=_("From"), s=s)
if chosen is None:
    st.stop()
view = next(v for v in views if v.id == chosen)
# what will happen, said before the click: a number whose phone is not linked and online cannot send (offline or its
# keys refused: the button is off; starting or waiting for a scan may change any second: said, the button stays)
code = state_code_of(view)
blocked = code in (glossary.OFFLINE, glossary.ACCESS_REFUSED)
if code not in (glossary.CONNECTED, glossary.NOT_CHECKED, glossary.CANNOT_CHECK):
    st.warning(f"**{esc(state_in_words(view))}**  \n" + esc(_(
        "A message sent now would not go out: the platform sends only from a number whose phone is linked and online. "
        "{todo}", todo=view.status.attention or glossary.advice(state_code_of(view), may_fix=s.may("pair", view.org_id))
        or "")), icon=glossary.state_mark(state_code_of(view)))
elif not view.status.state:
    st.caption("ℹ️ " + esc(_("The console has not been able to check this number yet ({state}): the platform may "
                             "refuse to send.", state=view.status.label)))

to = st.text_input(_("To (phone number)"), key="send_to", placeholder="+7 900 123-45-67",
                   help=_("With the country code. Russian numbers may also be typed as 8 900 … or 900 …"))
if to.strip():
    try:
        shown = s.preview_recipient(to)
    except WppError as err:
        st.caption("⚠️ " + pagekit.error_text(err))
    else:
        st.caption("📞 " + esc(_("The message goes to {phone}", phone=shown)))
text = st.text_area(_("Message"), key="send_text", value=_("Test message from WPP Console"), max_chars=4096)

# always enabled: one click right after typing the number sends (the field is committed with the click)
if st.button(_("Send"), type="primary", icon="📤", key="send_button", disabled=blocked):
    try:
        with st.spinner(_("Sending…")):
            out = s.send_test(view.id, to, text, actor=pagekit.actor())
    except WppError as err:
        show_error(err, what=_("The message was not sent"))
    else:
        st.success(esc(out.sentence), icon="✅")
        if out.task_id:
            with st.expander(_("Details for support")):
                st.text(_("Task id: {task}", task=out.task_id) + " · " + _("Status: {status}", status=out.status_label))
            st.session_state[LAST] = (view.id, out.task_id, False)
        if not s.webhooks_on:
            st.caption("ℹ️ " + esc(s.delivery_note()))

# did it arrive? (the platform's delivery updates, when it pushes them to the console). After F5 (a new tab session)
# the number's latest test message of the last hours is followed again: the ticks are in the store
last = st.session_state.get(LAST)
if (not last or last[0] != view.id) and s.webhooks_on:
    try:
        recent = s.recent_tests(view.id, limit=1)
    except WppError:
        recent = []
    if recent and recent[0].sent_at is not None and time.time() - recent[0].sent_at.timestamp() < RECENT_S:
        last = (view.id, recent[0].message_id, recent[0].done)
        st.session_state[LAST] = last
if last and last[0] == view.id and s.webhooks_on:
    follow_delivery(last[0], last[1])
