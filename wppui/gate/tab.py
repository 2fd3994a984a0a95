"""What a tab holds of a sign-in, and how it lets go: forgetting everything the tab held, ending the lasting
sign-in on the server, the sentence the sign-in page greets with, and each sign-in event in the activity log.
"""
from __future__ import annotations

import hashlib
import logging

import streamlit as st

from wpp.i18n import _

from .. import lang, state
from .browser import DEVICE, END_COOKIE

log = logging.getLogger(__name__)

NOTICE = "_wpp_gate_notice"  # st.session_state: a sentence for the sign-in page (e.g. "you were signed out")


def forget_tab(*, notice: str | None = None) -> None:
    """Clear everything this tab held; keep only its language choice and device id (not personal)."""
    ss = st.session_state
    ended = ss.get(state.SIGN_IN_KEY)
    keep = {k: ss[k] for k in (lang.CHOSEN, DEVICE) if k in ss}
    ss.clear()
    ss.update(keep)
    # the page then asks the console's route to delete this browser's cookie, if it is this sign-in's (or dead)
    ss[END_COOKIE] = ended if isinstance(ended, str) else None
    if notice:
        ss[NOTICE] = notice


def end_lasting_sign_in() -> None:
    key = st.session_state.get(state.SIGN_IN_KEY)
    if key:
        try:
            state.sign_ins().end(key)
        except Exception:  # noqa: BLE001 - the tab forgets the person anyway
            log.exception("ending the sign-in failed")


def withdrawn_notice() -> str:
    return _("Your access to WPP Console was withdrawn. If this is a mistake, ask the administrator of your school.")


# =============================================================================================================
# The activity log
# =============================================================================================================
def _client_label(client: str) -> str:
    """What the activity log says about the browser: a short fingerprint of its key (never the key itself)."""
    return "browser " + hashlib.sha256(client.encode("utf-8")).hexdigest()[:8]


def log_sign_in(event: str, username: str, client: str, method: str) -> None:
    """Sign-in events into the activity log through the service (every failure and throttle)."""
    try:
        state.service().log_sign_in(event, username=username, client=_client_label(client), method=method)
    except Exception:  # noqa: BLE001 - logging never stops a sign-in
        log.exception("the sign-in event could not be written to the activity log")
