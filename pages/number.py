"""One number (``?n=<integration id>``): its phone under its name, its state in words, linking the phone, the next
step once connected, rename, remove (with undo), its connection history and, for support, the technical details.

The page follows the number by itself (no F5): a small fragment looks at the number's shown state every few seconds
and draws the page again when it changed, so the history, the demo's buttons and what to do are never stale."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from wpp.errors import WppError
from wpp.glossary import CHECKING_DELIVERY, NOT_DELIVERING_TODO, delivery_name, delivery_proven, not_delivering
from wpp.i18n import _
from wppui import gate, pagekit, tables
from wppui.components import browser_tz, datetime_column, guarded, show_error, when
from wppui.pairing import pairing_panel, prelinked_choice
from wppui.text import esc

s = pagekit.begin()

try:
    views = s.numbers()
except WppError as err:
    st.title("📱 " + _("Number"))
    show_error(err, what=_("The list of numbers could not be read"))
    st.stop()

current = pagekit.number_param()
if not current:
    if not views:
        st.title("📱 " + _("Number"))
        if s.may("create"):
            st.info(_("No numbers yet. Connect the first one."), icon="👋")
            if st.button(_("Connect a number"), icon="➕", type="primary"):
                pagekit.go("connect")
        else:
            st.info(_("No numbers yet. An operator or an administrator of your school connects them."), icon="👋")
        st.stop()
    last = pagekit.last_number()
    current = last if any(v.id == last for v in views) else views[0].id
    pagekit.set_number_param(current)

view = pagekit.load_number(s, current)
if view is None:
    st.stop()
choices = views if any(v.id == view.id for v in views) else [view, *views]

head, pick = st.columns([3, 1.3], vertical_alignment="bottom")
with head:
    st.title(esc(view.label))
    st.caption("📞 " + (esc(view.phone) if view.phone else
                        esc(_("The phone's number shows here once the phone is linked."))))
with pick:
    chosen = pagekit.number_picker(choices, view.id, key="number_pick", label=_("Open another number"),
                                   collapsed=True)
    if chosen and chosen != view.id:
        st.rerun()
pagekit.show_flashes()


# --- remove (asks first) and restore -----------------------------------------------------------------------
REMOVING = "_number_removing"  # the number whose "Remove" confirmation is open (survives a full re-run)
DROPPED = "_number_demo_dropped"  # the demo's "the phone went offline" was just pressed for this number
SHOWN = "_number_shown_state"  # (number id, the version of its state this run drew)


def _close_remove() -> None:
    st.session_state.pop(REMOVING, None)


@gate.dialog(_("Remove this number from the list?"), on_dismiss=_close_remove)
def confirm_remove(number_id: str, label: str) -> None:
    st.markdown(f"**{esc(label)}**")
    st.markdown(esc(_("The number disappears from the list and is no longer checked. Its key stays saved, so it "
                      "can be restored later from “Removed numbers”.")))
    st.markdown(esc(_("The phone stays linked on the WhatsApp platform unless you choose “Disconnect and remove”: "
                      "that also unlinks the phone, and linking it again needs a new QR scan.")))
    # one under the other: every label readable in full, whatever the language
    if st.button(_("Remove"), type="primary", key="remove_keep", width="stretch"):
        _remove(number_id, label, disconnect=False)
    if st.button(_("Disconnect and remove"), key="remove_disconnect", width="stretch"):
        _remove(number_id, label, disconnect=True)
    if st.button(_("Cancel"), key="remove_cancel", width="stretch"):
        _close_remove()
        st.rerun()


def _remove(number_id: str, label: str, *, disconnect: bool) -> None:
    # the dialog's own run: the service with what the person may do NOW (its guard just read it), never the page's
    # `s` of the run that opened the dialog
    s_now = pagekit.service()
    try:
        with st.spinner(_("Removing…")):
            s_now.remove(number_id, actor=pagekit.actor(), disconnect=disconnect)
    except WppError as err:
        show_error(err, what=_("The number was not removed"))
        return
    _close_remove()
    tables.changed()
    pagekit.flash("success", esc(_("“{name}” was removed from the list. Press “Restore” to undo.", name=label)))
    st.rerun()


org = view.org_id
if view.removed:
    st.warning(_("This number was removed from the list: it is not checked, and it is not shown in the list."),
               icon="🗂️")
    if s.may("restore", org) and st.button(_("Restore"), icon="↩️", type="primary", key="number_restore"):
        with guarded(_("Could not restore the number")):
            s.restore(view.id, actor=pagekit.actor())
            tables.changed()
            pagekit.flash("success", esc(_("“{name}” is back in the list.", name=view.label)))
            st.rerun()
elif view.unfinished:
    st.warning(esc(_("Creating this number was not finished. Nothing is lost: press “Finish creating”.")
                   if s.may("create", org) else
                   _("Creating this number was not finished. Nothing is lost: an operator or an administrator of this "
                     "school can finish it.")) +
               (f"  \n{esc(view.unfinished_reason)}" if view.unfinished_reason else ""), icon="🟡")
    if s.may("create", org) and st.button(_("Finish creating"), type="primary", key="number_finish"):
        with guarded(_("Creating was not finished")):
            with st.spinner(_("Finishing…")):
                out = s.resume(view.id, actor=pagekit.actor(), user_jwt=pagekit.user_jwt())
            tables.changed()
            if out.error is not None:
                show_error(out.error, what=_("Creating was not finished"))
            else:
                if not out.prelinked:
                    try:
                        s.start_pairing(view.id, actor=pagekit.actor())
                    except WppError:
                        pass  # the pairing panel explains it
                st.rerun()
elif view.prelinked and s.may("take_over", org):
    prelinked_choice(s, view.id, where="number")
elif view.prelinked:
    st.warning(_("This number was already linked to a phone before anyone scanned its QR code. An operator or an "
                 "administrator of this school must decide whether to keep it."), icon="🟣")
else:
    pairing_panel(view.id, org_id=view.org_id, where="number")

# --- what can be done with it ------------------------------------------------------------------------------
if not view.removed:
    b1, b2, b3, b4 = st.columns(4)
    if s.may("check", org) and b1.button(_("Check now"), icon="🔄", width="stretch", key="number_check",
                 help=_("Ask the platform about this number now")):
        with guarded(_("Could not ask for a check")):
            s.check_now([view.id])
            st.toast(_("Asked the platform. The state updates in a moment."), icon="🔄")
    if b2.button(_("Access key"), icon="🔑", width="stretch", key="number_access",
                 help=_("Is the number's access to the platform working?")):
        pagekit.go("access", view.id)
    renaming = b3.popover(_("Rename"), icon="✏️", width="stretch") if s.may("rename", org) else None
    if renaming is not None:
        with renaming, st.form("rename"):
            new_name = st.text_input(_("New name"), value=view.name, max_chars=100)
            if st.form_submit_button(_("Save name"), type="primary"):
                try:
                    s.rename(view.id, new_name, actor=pagekit.actor())
                except WppError as err:
                    show_error(err, what=_("The name was not changed"))
                else:
                    tables.changed()
                    pagekit.flash("success", esc(_("Renamed to “{name}”.", name=" ".join(new_name.split()))))
                    st.rerun()
    if s.may("remove", org) and b4.button(_("Remove"), icon="🗑️", width="stretch", key="number_remove"):
        st.session_state[REMOVING] = view.id
    if st.session_state.get(REMOVING) == view.id:
        confirm_remove(view.id, view.label)
    # the demo: what a drop at night (or a platform outage) looks like, and who is told about it
    if (getattr(s, "is_demo", False) and s.may("check", org) and view.status.state is not None
            and view.status.state.value == "connected" and pagekit.demo_phone() is not None):
        d1, d2 = st.columns(2)
        if d1.button(_("Simulate the phone going offline"), icon="📴", key="number_demo_offline", width="stretch",
                     help=_("Demo: the phone loses its connection, as it would at night.")):
            with guarded(_("The phone could not be made to go offline")):
                s.simulate_phone_offline(view.id, pagekit.demo_phone(), actor=pagekit.actor())
                tables.changed()
                st.session_state[DROPPED] = view.id
                st.rerun()
        if d2.button(_("Simulate a platform outage"), icon="🌩️", key="number_demo_outage", width="stretch",
                     help=_("Demo: the whole platform stops answering for three minutes, as in an upgrade. Every "
                            "number soon cannot be checked; the Alerts page shows ONE message about the platform, "
                            "not one per school, and one more when it works again.")):
            with guarded(_("The platform outage could not be simulated")):
                s.simulate_platform_outage(pagekit.demo_phone(), actor=pagekit.actor())
                tables.changed()
                # a sentence that stays (a toast vanished when the drops re-drew the page a second later)
                pagekit.flash("info", "🌩️ " + esc(_("The platform stops answering for three minutes. Its alert "
                                                     "follows in about two.")))
                st.rerun()
    if view.status.attention_code in ("offline", "key_rejected", "cannot_check") or st.session_state.get(DROPPED) == view.id:
        # a number that dropped: who is told (never a page the reader cannot open)
        with guarded(None):
            st.caption("🔔 " + esc(s.alert_audience(view.id)))


# --- alerts: "I'm on it" and muting (issue 26) ------------------------------------------------------------
MUTE_CHOICES = ("1h", "4h", "morning", "monday", "date")


def _mute_until(choice: str, day, hour) -> dt.datetime:
    """The end of a mute chosen on the page, in the browser's time zone."""
    tz = browser_tz()
    now = dt.datetime.now(tz)
    if choice == "1h":
        return now + dt.timedelta(hours=1)
    if choice == "4h":
        return now + dt.timedelta(hours=4)
    nine = dt.time(9, 0)
    if choice == "morning":
        return dt.datetime.combine(now.date() + dt.timedelta(days=1), nine, tzinfo=tz)
    if choice == "monday":
        return dt.datetime.combine(now.date() + dt.timedelta(days=7 - now.weekday()), nine, tzinfo=tz)
    return dt.datetime.combine(day, hour, tzinfo=tz)


def alerts_part(view) -> None:
    org = view.org_id
    try:
        state = s.number_alerts(view.id)
    except WppError as err:
        show_error(err, what=_("The number's alerts could not be read"))
        return
    if state.problem:
        if state.acked_by:
            st.info(esc(_("{who} is taking care of it (since {at}). The recovery message will say so.",
                          who=state.acked_by, at=when(state.acked_at))), icon="🙋")
        elif s.may("acknowledge", org):
            c1, c2 = st.columns([3, 1.3], vertical_alignment="center")
            c1.warning(esc(_("This number is {problem} since {since}. Tell the others you are taking care of it.",
                             problem=state.problem_words, since=when(state.since))), icon="🚨")
            if c2.button(_("I'm on it"), icon="🙋", type="primary", key="number_ack", width="stretch",
                         help=_("Acknowledge the problem: the others see that you are taking care of it, nobody is "
                                "reminded, and the message when it works again names you.")):
                with guarded(_("Could not save that you are taking care of it")):
                    s.acknowledge(view.id, actor=pagekit.actor())
                    pagekit.flash("success", esc(_("Saved: you are taking care of “{name}”.", name=view.label)))
                    st.rerun()
    if state.muted_until is not None:
        why = f" ({state.muted_reason})" if state.muted_reason else ""
        c1, c2 = st.columns([3, 1.3], vertical_alignment="center")
        c1.info(esc(_("Alerts about this number are muted until {until}, by {who}{why}.", until=when(state.muted_until),
                      who=state.muted_by or "—", why=why)), icon="🔕")
        if s.may("mute", org) and c2.button(_("Turn alerts back on"), icon="🔔", key="number_unmute",
                                            width="stretch"):
            with guarded(_("Could not turn the alerts back on")):
                s.unmute_number(view.id, actor=pagekit.actor())
                tables.changed()
                st.rerun()
    elif state.window is not None:
        why = f" ({state.window_reason})" if state.window_reason else ""
        st.info(esc(_("Alerts about this number are held by {window} until {until}{why}.", window=state.window,
                      until=when(state.window_until), why=why)), icon="🛠️")
    if state.muted_until is None and s.may("mute", org):
        with st.popover(_("Mute alerts"), icon="🔕"):
            st.caption(_("While muted, nothing is sent about this number. If it is still down when the mute ends, "
                         "that is sent once then; if it comes back meanwhile, nothing is sent."))
            with st.form("mute"):
                labels = {"1h": _("For 1 hour"), "4h": _("For 4 hours"), "morning": _("Until tomorrow, 09:00"),
                          "monday": _("Until Monday, 09:00"), "date": _("Until a day and time I choose")}
                choice = st.radio(_("How long"), MUTE_CHOICES, format_func=labels.get, key="mute_choice")
                tomorrow = dt.date.today() + dt.timedelta(days=1)
                day = st.date_input(_("Day"), value=tomorrow, min_value=dt.date.today(),
                                    max_value=dt.date.today() + dt.timedelta(days=30), key="mute_day")
                hour = st.time_input(_("Time"), value=dt.time(18, 0), key="mute_time")
                reason = st.text_input(_("Why (others see it)"), max_chars=200, key="mute_reason",
                                       placeholder=_("e.g. the phone is being repaired"))
                if st.form_submit_button(_("Mute"), type="primary"):
                    try:
                        s.mute_number(view.id, _mute_until(choice, day, hour), reason=reason, actor=pagekit.actor())
                    except WppError as err:
                        show_error(err, what=_("The alerts were not muted"))
                    else:
                        tables.changed()
                        st.rerun()


if not view.removed:
    alerts_part(view)

# --- proof of delivery: does a message from this number really arrive? ----------------------------------------
def _proof_line(svc, p) -> None:
    minutes = max(1, round(svc.proof_config.timeout_s / 60))
    if p.state == "proven":
        st.success(esc(delivery_proven(when(p.proven_at))) + "  \n" + esc(_(
            "Its check message reached the witness {phone}.", phone=p.witness or "—")), icon="✅")
    elif p.state == "failing":
        st.error(esc(not_delivering(when(p.failing_since))) + "  \n" + esc(NOT_DELIVERING_TODO), icon="🟠")
    elif p.state == "checking":
        st.info(esc(_("{state}: a check message went to the witness {phone}; the answer comes within {minutes} "
                      "minutes.", state=delivery_name(CHECKING_DELIVERY), phone=p.witness or "—", minutes=minutes)), icon="✉️")
    elif p.state == "none":
        st.info(esc(_("Delivery not checked yet. The first check goes to the witness {phone} by itself in working "
                      "hours; “Check delivery now” sends it at once.", phone=p.witness or "—")), icon="✉️")
    else:
        st.caption(esc(p.why))


def delivery_section(svc, number_id: str, org_id: str) -> None:
    """The number's proof of delivery and "Check delivery now"."""
    try:
        p = svc.proof_view(number_id)
    except WppError as err:
        show_error(err, what=_("The delivery checks could not be read"))
        return
    _proof_line(svc, p)
    if p.state != "off" and svc.may("check_delivery", org_id):
        if st.button(_("Check delivery now"), icon="✉️", key="number_check_delivery",
                     disabled=p.state == "checking" or p.left_today == 0,
                     help=_("Sends one short check message to the witness. At most {n} more today.",
                            n=p.left_today)):
            with guarded(_("The delivery check was not sent")):
                svc.check_delivery_now(number_id, actor=pagekit.actor())
                st.rerun()
    if p.recent:
        with st.expander(_("Delivery checks"), key="number_delivery_checks", on_change="rerun"):
            st.dataframe(pd.DataFrame({
                _("Sent"): tables.datetimes([c.sent_at for c in p.recent]),
                _("To"): [c.to for c in p.recent],
                _("Outcome"): [("✅ " if c.ok else "❌ " if c.ok is False else "") + c.outcome for c in p.recent],
                _("How"): [c.how for c in p.recent],
            }), hide_index=True, column_config={_("Sent"): datetime_column(_("Sent"))})


if not view.removed and not view.unfinished and view.status.state is not None \
        and view.status.state.value == "connected":
    try:
        _checking = s.proof_view(view.id).state == "checking"
    except WppError:
        _checking = False
    if _checking:  # a check under way: follow it every 2 s until it is settled, then the page is drawn again
        @gate.fragment(run_every=2)
        def _follow_delivery() -> None:
            s2 = pagekit.fragment_service()
            if s2 is None:
                return
            try:
                if s2.proof_view(view.id).state != "checking":
                    st.rerun(scope="app")
            except WppError:
                return
            delivery_section(s2, view.id, org)

        _follow_delivery()
    else:
        delivery_section(s, view.id, org)

# the state itself is in the pairing panel above (it refreshes itself); this line only says what does not change
st.caption(esc(_("Added {time}. Every change of its state is in the connection history below.",
                 time=when(view.created_at))) +
           (" " + esc(_("The console last asked the platform at {time}.", time=when(view.status.checked_at)))
            if view.status.checked_at else ""))

# a key (and state kept): a push re-draws the page with new lines above it, and an open history stays open
with st.expander(_("Connection history"), key="number_history", on_change="rerun"):
    try:
        history = s.history(view.id)
    except WppError as err:
        show_error(err, what=_("The history could not be read"))
        history = []
    if not history:
        st.caption(_("No change recorded yet."))
    else:
        st.dataframe(
            pd.DataFrame({
                _("When"): tables.datetimes([h.at for h in history]),
                _("State"): [h.state for h in history],
                _("Before"): [h.previous for h in history],
                _("Problem"): [h.problem for h in history],
            }),
            hide_index=True, placeholder=tables.EMPTY,
            column_config={_("When"): datetime_column(_("When"))},
        )

# the last test messages and how far each got (the platform's pushed delivery updates)
try:
    tests = s.recent_tests(view.id, limit=5)
except WppError as err:
    tests = []
    show_error(err, what=_("The test messages could not be read"))
if tests:
    with st.expander(_("Test messages"), key="number_test_messages", on_change="rerun"):
        st.dataframe(
            pd.DataFrame({
                _("Sent"): tables.datetimes([t.sent_at for t in tests]),
                _("To"): [t.to for t in tests],
                _("Did it arrive?"): [f"{t.ticks} {t.words}" for t in tests],
            }),
            hide_index=True, placeholder=tables.EMPTY,
            column_config={_("Sent"): datetime_column(_("Sent"))},
        )
        st.caption(esc(s.delivery_note()))

with st.expander(_("Details for support"), key="number_support", on_change="rerun"):
    row = view.integration
    details = [
        (_("Platform account (session)"), row.session or "—"),
        (_("School id"), view.org_id),
        (_("Sub-organisation id on the platform"), row.sub_org_id or "—"),
        (_("Number id in the console"), view.id),
        (_("Phone"), view.phone or "—"),
        (_("Added"), when(view.created_at)),
        (_("Last problem"), row.last_error or "—"),
    ]
    st.dataframe(pd.DataFrame(details, columns=[_("What"), _("Value")]), hide_index=True, placeholder=tables.EMPTY)


@gate.fragment(run_every=pagekit.board_interval())
def follow() -> None:
    """Every few seconds: did the number's state change (the phone linked or dropped, the platform refused its key)?
    Then the whole page is drawn again: history, buttons and what to do follow by themselves. Costs a look-up."""
    s2 = pagekit.service()
    try:
        now = s2.status_version(view.id)
    except WppError:
        return
    if st.session_state.get(SHOWN) != (view.id, now):
        st.session_state[SHOWN] = (view.id, now)
        st.rerun()


try:
    st.session_state[SHOWN] = (view.id, s.status_version(view.id))
except WppError:
    pass
follow()
