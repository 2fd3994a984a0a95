"""The pairing panel: the platform's QR code, large, following its rotation until the phone is linked; and, when no
QR code comes, "Why is there no QR code?" with the one thing to do.

It refreshes itself (a fragment every ``poll_pairing_seconds``, 2 s) and checks who is signed in first. It reads
everything from ``s.pairing_state`` and decides nothing of the domain. Each run also sends the panel's heartbeat
(``s.pairing_heartbeat``): the status poller asks about a number waiting for a scan fast only while a panel shows it.
"""
from __future__ import annotations

import io
import logging
import time

import streamlit as st

from wpp import glossary
from wpp.errors import WppError
from wpp.i18n import _
from wpp.models import ConnState

from . import pagekit
from .components import guarded, show_error, state_code_of, state_in_words
from .text import esc

log = logging.getLogger("wppui")

#: how long a "Why is there no QR code?" answer is reused before the platform is asked again (seconds)
CHECKLIST_REUSE_S = 6.0


def qr_alt() -> str:
    return _("QR code to link this WhatsApp number")


def instructions() -> str:
    """How to link the phone, with WhatsApp's own menu names (Markdown; no data in it)."""
    return _(
        "**On the phone with this WhatsApp number:**\n"
        "1. Open **WhatsApp**.\n"
        "2. Android: tap **⋮ → Linked devices → Link a device**.  \n"
        "   iPhone: tap **Settings → Linked devices → Link a device**.\n"
        "3. Point the phone's camera at the QR code on this screen."
    )


def pairing_panel(number_id: str, *, org_id: str, where: str, heading: str | None = None) -> None:
    """The self-refreshing pairing block of one number (``where`` keeps widget keys apart per page). ``org_id``: its
    school (decides whether the person may see the QR code). ``heading`` (plain text, e.g. the number's label): a first
    line that says which step this is, kept true as it changes."""

    @st.fragment(run_every=pagekit.pairing_interval())
    def _panel() -> None:
        s = pagekit.fragment_service()
        if s is None:
            return
        _draw(s, number_id, org_id, where, heading)
        if s.may("pair", org_id):  # a viewer's panel shows no QR code: nobody can scan it, no fast polling
            # after the panel's own report (so the poller's hold-off stands); never raises
            s.pairing_heartbeat(number_id)

    _panel()


def _draw(s, number_id: str, org: str, where: str, heading: str | None = None) -> None:
    if not s.may("pair", org):
        watch_only(s, number_id)  # a viewer: the state in words, never the QR code (it would link a phone)
        return
    try:
        view = s.pairing_state(number_id)
    except WppError as err:
        show_error(err, what=_("The pairing state cannot be shown"))
        return
    if heading is not None:
        step = _("Step 2 of 2: done") if view.connected else _("Step 2 of 2: link the phone")
        st.markdown(f"**{esc(heading)}** · " + esc(step))
    if view.prelinked:
        prelinked_choice(s, number_id, where=where)
        return
    try:
        number = s.number(number_id)
    except WppError:
        number = None
    if number is not None and number.removed:
        # removed meanwhile (another tab, a colleague): the whole page says so, never a stale "connected"
        st.rerun()
    status_line = state_in_words(number) if number is not None else (view.status.label if view.status else "")
    if view.connected:
        if number is not None and number.not_delivering:
            not_delivering(number)
            return
        connected(s, number_id, org, where=where, status_line=status_line, number=number)
        return
    if view.qr_png:
        left, right = st.columns([11, 10], gap="medium")
        with left:
            st.image(view.qr_png, width=_png_width(view.qr_png), alt=qr_alt())
        with right:
            st.markdown(f"**{esc(status_line)}**" if status_line else "")
            if view.qr_expires_in is not None:
                secs = max(0, int(round(view.qr_expires_in)))
                st.caption(_("This code changes in about {seconds} s; the new one appears here by itself.",
                             seconds=secs) if secs > 0 else _("A new code is on its way…"))
            st.markdown(instructions())
            _demo_scan(s, number_id, where)
        if view.error:
            show_error(view.error, what=_("The QR code could not be drawn"))
        return
    offline = view.status is not None and view.status.state is ConnState.OFFLINE
    explain = s.should_explain(view)
    if view.error is not None and not explain:  # the checklist below, once shown, says what is wrong itself
        show_error(view.error, what=_("The number's state cannot be checked right now"))
    elif view.error is None and offline:
        st.warning(f"**{esc(status_line or glossary.state_name(glossary.OFFLINE))}**  \n" +
                   esc(glossary.advice(glossary.OFFLINE, may_fix=True)), icon="🔴")
    elif view.error is None:
        st.info(_("Preparing the QR code… It appears here in a few seconds.") +
                (f"  \n{esc(status_line)}" if status_line else ""), icon="⏳")
    if (offline or view.error is not None) and not explain:  # the checklist below has this button itself
        if st.button(_("Show a new QR code"), type="primary", key=f"{where}_restart_{number_id}"):
            _start(s, number_id)
    if explain:
        checklist(s, number_id, where=where)


def _png_width(png: bytes) -> int:
    """Draw the QR at its own pixel size (whole pixels per module: sharp for the phone's camera)."""
    try:
        from PIL import Image

        with Image.open(io.BytesIO(png)) as img:
            return int(min(img.width, 420))
    except Exception:  # noqa: BLE001
        return 380


def _start(s, number_id: str) -> None:
    with guarded(_("Could not start linking the phone")):
        s.start_pairing(number_id, actor=pagekit.actor())
        st.session_state.pop(_checklist_key(number_id), None)
        st.rerun(scope="fragment")


def _demo_scan(s, number_id: str, where: str) -> None:
    if not getattr(s, "is_demo", False):
        return
    st.caption(_("Demo: there is no real phone. This button plays the phone's part."))
    if st.button(_("Simulate the phone scan"), icon="📷", key=f"{where}_simscan_{number_id}"):
        with guarded(_("The simulated scan failed")):
            phone = pagekit.demo_phone()
            if phone is not None:
                phone.scan(number_id)
            st.rerun(scope="fragment")


def watch_only(s, number_id: str) -> None:
    """For someone who may see the number but not link a phone (a viewer): its state in words and what she can do
    (whom to tell), never a button she does not have."""
    try:
        number = s.number(number_id)
    except WppError as err:
        show_error(err, what=_("The number's state cannot be shown"))
        return
    line = state_in_words(number)
    if number.not_delivering:
        not_delivering(number)
        return
    if number.status.state is ConnState.CONNECTED:
        st.success(linked_sentence(number) + f"  \n{esc(line)}", icon="✅")
        return
    todo = number.status.attention or glossary.advice(state_code_of(number), may_fix=False)
    body = f"**{esc(line)}**" + (f"  \n{esc(todo)}" if todo else "")
    (st.warning if number.status.needs_attention else st.info)(body, icon=glossary.state_mark(state_code_of(number)))
    st.caption(_("Linking a phone (the QR code) is for operators and administrators of this school."))


def not_delivering(number) -> None:
    """Connected on the platform, but its delivery check failed: never a green "ready to send"."""
    st.warning(_("**The phone shows as linked, but messages from this number do not arrive.**") +
               f"  \n{esc(state_in_words(number))}  \n{esc(str(number.status.attention or ''))}", icon="🟠")


def linked_sentence(number) -> str:
    """ "The phone +7 900 123-45-67 is linked." (Markdown; the phone is data): which phone, when the platform said."""
    phone = getattr(number, "phone", None) if number is not None else None
    if phone:
        return _("**The phone is linked: {phone}.** This WhatsApp number is connected and ready to send messages.",
                 phone=esc(phone))
    return _("**The phone is linked.** This WhatsApp number is connected and ready to send messages.")


def connected(s, number_id: str, org: str, *, where: str, status_line: str = "", number=None) -> None:
    """The success (which phone was linked), and the next step one click away."""
    st.success(linked_sentence(number) + (f"  \n{esc(status_line)}" if status_line else ""), icon="✅")
    if s.may("send", org) and st.button(_("Send a test message"), type="primary", icon="✉️", key=f"{where}_send_{number_id}"):
        pagekit.go("send", number_id)


def prelinked_choice(s, number_id: str, *, where: str) -> None:
    """The platform answered with a number that was already linked to a phone before anyone scanned: never a green
    "connected"; the staff member chooses."""
    st.warning(_("**This number was already linked to a phone before anyone scanned its QR code.** The WhatsApp "
                 "platform already had an account for this school, linked to some phone. If it is your school's "
                 "phone, take it over; if you do not know that phone, make a new number and scan its QR code."),
               icon="🟣")
    c1, c2 = st.columns(2)
    if c1.button(_("Take it over: it is our phone"), key=f"{where}_takeover_{number_id}", width="stretch"):
        with guarded(_("Could not take the number over")):
            s.take_over(number_id, actor=pagekit.actor())
            st.rerun()
    if c2.button(_("Make a new number instead"), type="primary", key=f"{where}_makenew_{number_id}",
                 width="stretch"):
        with guarded(_("Could not make a new number")):
            with st.spinner(_("Creating a new number on the platform…")):
                out = s.make_new_instead(number_id, actor=pagekit.actor(), user_jwt=pagekit.user_jwt())
            if out.error is not None:
                show_error(out.error, what=_("The new number was not finished"))
            else:
                try:
                    s.start_pairing(out.integration.id, actor=pagekit.actor())
                except WppError:
                    pass  # the panel explains it
            pagekit.set_number_param(out.integration.id)
            st.rerun()


# --- why is there no QR code? ----------------------------------------------------------------------------
def _checklist_key(number_id: str) -> str:
    return f"_wpp_checklist_{number_id}"


def checklist(s, number_id: str, *, where: str) -> None:
    key = _checklist_key(number_id)
    cached = st.session_state.get(key)
    if cached and time.monotonic() - cached[0] < CHECKLIST_REUSE_S:
        checks = cached[1]
    else:
        try:
            checks = s.pairing_checklist(number_id)
        except WppError as err:
            show_error(err, what=_("The checks could not be made"))
            return
        st.session_state[key] = (time.monotonic(), checks)
    first = next((c for c in checks if c.ok is False), None)
    with st.container(border=True):
        # titled by the actual problem (the first step that failed), else the question itself
        heading = first.problem if first is not None and first.problem else _("Why is there no QR code?")
        st.markdown("**" + esc(heading) + "**")
        if first is not None and first.problem:
            st.caption(_("Why is there no QR code? Step by step:"))
        for i, check in enumerate(checks):
            if check.ok is True:
                st.markdown(f"✅ {esc(check.title)}")
            elif check.ok is None:
                st.caption(f"▫️ {esc(check.title)} — " + esc(_("not checked yet (an earlier step must work first)")))
            else:
                st.markdown(f"❌ **{esc(check.problem or check.title)}**" + (f"  \n{esc(check.fix)}" if check.fix else ""))
                if check.action:
                    label = str(check.action_label or _("Check again"))
                    if st.button(label, key=f"{where}_check_{number_id}_{check.code}_{i}",
                                 type="primary" if check.action != "retry" else "secondary"):
                        _run_action(s, number_id, check.action)
        said = st.session_state.get(_said_key(number_id))
        if said:
            st.error(f"**{esc(said[0])}**  \n{esc(said[1])}  \n" + esc(_("Next step: {step}", step=said[2])), icon="⛔")


def _said_key(number_id: str) -> str:
    return f"_wpp_checklist_said_{number_id}"


def _run_action(s, number_id: str, action: str) -> None:
    st.session_state.pop(_checklist_key(number_id), None)
    st.session_state.pop(_said_key(number_id), None)
    with guarded(_("That did not work")):
        with st.spinner(_("Working…")):
            result = s.run_check_action(number_id, action, actor=pagekit.actor())
        new = getattr(getattr(result, "integration", None), "id", None)
        err = getattr(result, "error", None)
        if isinstance(err, WppError):
            show_error(err)
            return
        if getattr(result, "ok", True) is False and getattr(result, "title", None) is not None:
            # "Get a new access key" tried the new key and the platform refused it too: say so, with what to do
            st.session_state[_said_key(number_id)] = (str(result.title), str(result.explanation),
                                                      str(result.next_step))
        if action == "make_new" and new and new != number_id:
            try:
                s.start_pairing(new, actor=pagekit.actor())
            except WppError:
                pass
            pagekit.set_number_param(new)
            st.rerun()
        if action == "finish_creating":
            try:
                s.start_pairing(number_id, actor=pagekit.actor())
            except WppError:
                pass
        st.rerun(scope="fragment")


__all__ = ["checklist", "connected", "instructions", "pairing_panel", "prelinked_choice", "qr_alt", "watch_only"]
