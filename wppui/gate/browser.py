"""The browser side of a sign-in: the cookies (the lasting sign-in, the device id) and the small scripts a page runs
once to hand a ticket to the console's own route or to have the cookie deleted — so nothing lasting ever crosses
the websocket. Also the opaque key sign-in throttling tells browsers apart by.
"""
from __future__ import annotations

import json
import re
import secrets
import time

import streamlit as st

from .. import lang, state
from ..addresses import END_PATH, SESSION_PATH, url

SESSION_COOKIE = "wpp_session"
#: a random, non-secret id of this browser (sign-in throttling tells browsers apart with it)
DEVICE_COOKIE = "wpp_device"
DEVICE_MAX_AGE_S = 400 * 24 * 3600
_DEVICE_RE = re.compile(r"[A-Za-z0-9_-]{16,64}")

# st.session_state keys of the browser side
TICKET = "_wpp_ticket"  # a one-time ticket the page still has to hand to /_wpp/session
END_COOKIE = "_wpp_end_cookie"  # the page still has to ask /_wpp/session/end to delete the cookie
DEVICE = "_wpp_device"  # this tab's device id when the browser had none


# =============================================================================================================
# Small scripts the page runs once (the cookie work that must not cross the websocket as a lasting secret)
# =============================================================================================================
def _js(value: str) -> str:
    """A JavaScript string literal that is safe inside <script>."""
    return json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _post_script(address: str, body: dict | None) -> str:
    payload = _js(json.dumps(body or {}))
    return ("<script>(async () => { for (let i = 0; i < 4; i++) { try { const r = await fetch("
            + _js(address) + ", {method: 'POST', credentials: 'same-origin', cache: 'no-store', "
            "headers: {'Content-Type': 'application/json'}, body: " + payload + "});"
            " if (r.status < 500) return; } catch (e) {} await new Promise(f => setTimeout(f, 400 * (i + 1))); } })();"
            "</script>")


def pending_scripts() -> None:
    ss = st.session_state
    pending = ss.get(TICKET)
    if pending:
        # drawn on every run until the browser has redeemed it: a run cut short (a page switch right after signing
        # in) may never have let the browser see the script
        ticket, key, until = pending
        if key is None or time.time() > until or _redeemed(key):
            ss.pop(TICKET, None)
        if key is None or TICKET in ss:
            st.html(_post_script(url(SESSION_PATH), {"ticket": ticket}), unsafe_allow_javascript=True,
                    width="content")
    if END_COOKIE in ss:
        ended = ss.pop(END_COOKIE)
        st.html(_post_script(url(END_PATH), {"key": ended if isinstance(ended, str) else None}),
                unsafe_allow_javascript=True, width="content")
    device = _device_cookie()
    if device is None and ss.get(DEVICE) and not ss.get("_wpp_device_written"):
        ss["_wpp_device_written"] = True
        lang.write_cookie(DEVICE_COOKIE, ss[DEVICE], DEVICE_MAX_AGE_S)


def _redeemed(key: str) -> bool:
    """Has the browser handed the ticket of sign-in ``key`` over (the cookie is set)?"""
    try:
        found = state.sign_ins().store.get_sign_in_session(key=key)
    except Exception:  # noqa: BLE001
        return False
    return found is None or getattr(found, "id_hash", None) is not None


# =============================================================================================================
# Who is asking (throttling)
# =============================================================================================================
def _device_cookie() -> str | None:
    value = lang.cookies().get(DEVICE_COOKIE)
    return value if isinstance(value, str) and _DEVICE_RE.fullmatch(value) else None


def client_key() -> str:
    """An opaque key for this browser, for sign-in throttling: its ``wpp_device`` cookie (a random, non-secret id
    the sign-in page writes), else an id this tab keeps until the cookie is there."""
    device = _device_cookie()
    if device:
        return "device:" + device
    ss = st.session_state
    if not ss.get(DEVICE):
        ss[DEVICE] = secrets.token_urlsafe(18)
    return "device:" + ss[DEVICE]
