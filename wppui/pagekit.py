"""What every page does first, and the small pieces pages share: the service for this tab, the number in the
address (``?n=<integration id>``), going to another page, the demo phone.

A page starts with ``s = pagekit.begin()``: the gate (language, configuration, who is signed in) runs first, then
the page gets the service as this browser tab uses it. A self-refreshing fragment starts with
``s = pagekit.fragment_service()`` (None: draw nothing).
"""
from __future__ import annotations

import hashlib
import logging
import threading
import time
from typing import Any, Callable

import streamlit as st

from wpp.errors import IntegrationNotFound, WppError
from wpp.i18n import _

from . import gate, state
from .text import esc

log = logging.getLogger("wppui")

#: the address parameter that names the number a page is about
NUMBER_PARAM = "n"
#: st.session_state: the number this tab last looked at
LAST_NUMBER = "_wpp_last_number"

#: page name -> the page file (``st.switch_page`` accepts the file of a page of the navigation)
PAGE_FILES = {
    "numbers": "pages/numbers.py",
    "connect": "pages/connect.py",
    "number": "pages/number.py",
    "send": "pages/send.py",
    "access": "pages/access.py",
    "activity": "pages/activity.py",
    "settings": "pages/settings.py",
}


# --- the start of a run ------------------------------------------------------------------------------------
def begin(needs: "str | tuple[str, ...] | None" = None):
    """First line of a page: the gate, then the service for this tab (``s.numbers()`` ...). ``needs``: what the page
    is for (a key of ``wpp.access.roles.PERMISSIONS``, or several: any of them); someone whose role does not allow it
    at any of their schools gets a sentence instead of the page (the service refuses them anyway, whatever asks)."""
    gate.guard_page()  # stops the run when nobody is signed in
    quiet_grids()
    s = service()
    wanted = (needs,) if isinstance(needs, str) else tuple(needs or ())
    if wanted and not any(s.may(action) for action in wanted):
        refused(wanted[0])
    return s


#: the data grids' own toolbar ("Search", "Download as CSV", "Fullscreen", "Show/hide columns") and column menu
#: ("Sort ascending", "Pin column", …) speak only English: staff never see them (a click on a header still sorts)
_QUIET_GRIDS = ('<style>[data-testid="stElementToolbar"], [data-testid="stDataFrameColumnMenu"], '
                '[data-testid="stDataFrameColumnVisibilityMenu"] { display: none !important; }</style>')


def quiet_grids() -> None:
    """Hide the data grids' English-only toolbar and column menu on this page (a style, no space taken)."""
    st.html(_QUIET_GRIDS)


def refused(action: str) -> None:
    """Why this person cannot use this page, in one sentence and what to do; stops the run."""
    from wpp.access.roles import PERMISSIONS, NotAllowed, Role

    perm = PERMISSIONS.get(action)
    err = NotAllowed(action, perm.role if perm else Role.ADMINISTRATOR)
    st.warning(f"**{esc(err.message)}**\n\n{esc(err.action)}", icon="🔒")
    if st.button(_("Open the list of numbers"), key="refused_home"):
        go("numbers")
    st.stop()


def fragment_service():
    """First line of a self-refreshing fragment: the service, or None when the fragment must draw nothing."""
    if not gate.guard_fragment():
        return None
    return service()


def service():
    """The service for this tab, with what the person may do as read by THIS run's gate (at most a minute old).

    Dialogs, fragments and callbacks call this themselves after their guard (``gate.dialog`` / ``gate.fragment`` /
    :func:`fragment_service`), never a page's ``s`` from the run that drew them: a dialog's button re-runs only the
    dialog, and the page's ``s`` keeps the rights of the last full run (a demoted administrator could still remove)."""
    return state.for_session()


def actor() -> str:
    return state.actor()


def user_jwt() -> str | None:
    """The staff member's school-platform (Supabase) token, for creating a number the way seed 000 did."""
    ident = state.identity()
    jwt = getattr(ident, "supabase_jwt", None)
    reveal = getattr(jwt, "reveal", None)
    return reveal() if callable(reveal) else (jwt if isinstance(jwt, str) else None)


def settings_value(name: str, default: Any) -> Any:
    try:
        value = getattr(state.settings(), name, None)
    except Exception:  # noqa: BLE001
        value = None
    return default if value in (None, "") else value


def pairing_interval() -> float:
    """How often the pairing panel asks (settings ``poll_pairing_seconds``, 2 s)."""
    return max(0.5, float(settings_value("poll_pairing_seconds", settings_value("poll_pairing_s", 2.0))))


def board_interval() -> float:
    """How often the Numbers page looks whether the board changed (cheap: it redraws only on a change)."""
    return max(1.0, float(settings_value("board_refresh_seconds", settings_value("poll_seconds", 3.0))))


# --- pages -------------------------------------------------------------------------------------------------
def page(name: str):
    """The ``st.Page`` of ``name`` from the shell's navigation when it is there, else the page's file."""
    pages = st.session_state.get("pages")
    if isinstance(pages, dict):
        for key in (name, "tokens" if name == "access" else None):
            if key and key in pages:
                return pages[key]
    return PAGE_FILES[name]


def go(name: str, number_id: str | None = None, **params: str) -> None:
    """Open another page (with ``?n=`` when it is about one number). Stops this run."""
    query = dict(params)
    if number_id:
        query[NUMBER_PARAM] = number_id
    st.switch_page(page(name), query_params=query or None)


# --- the number in the address -----------------------------------------------------------------------------
def number_param() -> str | None:
    value = st.query_params.get(NUMBER_PARAM)
    return value.strip() if isinstance(value, str) and value.strip() else None


def set_number_param(number_id: str | None) -> None:
    if number_id:
        if st.query_params.get(NUMBER_PARAM) != number_id:
            st.query_params[NUMBER_PARAM] = number_id
        st.session_state[LAST_NUMBER] = number_id
    elif NUMBER_PARAM in st.query_params:
        del st.query_params[NUMBER_PARAM]


def last_number() -> str | None:
    """The number this tab last looked at (a page opened from the sidebar, without ``?n=``, starts there)."""
    value = st.session_state.get(LAST_NUMBER)
    return value if isinstance(value, str) and value else None


def url_flag(param: str, key: str, *, on: str = "1") -> bool:
    """Keep a yes/no widget (``key``) and an address parameter in step: the address wins when it changed (a link,
    a bookmark, Back), the widget when it is used. Call before the widget; :func:`set_url_flag` after it."""
    url_value = st.query_params.get(param) == on
    seen_key = f"_url_{key}"
    if st.session_state.get(seen_key) != url_value:
        st.session_state[key] = url_value
        st.session_state[seen_key] = url_value
    return url_value


def set_url_flag(param: str, key: str, value: bool, *, on: str = "1") -> None:
    if value:
        if st.query_params.get(param) != on:
            st.query_params[param] = on
    elif param in st.query_params:
        del st.query_params[param]
    st.session_state[f"_url_{key}"] = bool(value)


def number_picker(views: list, current: str | None, *, key: str, label: str | None = None,
                  collapsed: bool = False, s=None) -> str | None:
    """A selectbox of numbers by label (type to search) that follows ``?n=`` and writes it back.

    No ``?n=``: the number this tab last looked at, else the first. A ``?n=`` naming a number that is not among
    ``views`` (removed, unknown, not ready for this page) is never swapped for another one silently: the picker
    starts empty (None is returned) and, given the service ``s``, says why in words. Options are plain text:
    labels are shown raw (no escaping in a selectbox)."""
    ids = [v.id for v in views]
    if not ids:
        return None
    labels = {v.id: v.label for v in views}
    if current and current not in ids:
        if s is not None:
            absent_number(s, current)
        wanted = None
    elif current:
        wanted = current
    else:
        last = last_number()
        wanted = last if last in ids else ids[0]
    # a new widget when a label changes (a rename): the browser then shows the new names at once
    digest = hashlib.blake2s(repr(sorted(labels.items())).encode("utf-8"), digest_size=4).hexdigest()
    widget_key = f"{key}_{digest}"
    seen_key = f"_url_{key}"
    if (st.session_state.get(seen_key) != wanted or widget_key not in st.session_state
            or st.session_state[widget_key] not in (*ids, None)):
        st.session_state[widget_key] = wanted
        st.session_state[seen_key] = wanted
    chosen = st.selectbox(label or _("Number"), ids, index=None, format_func=lambda i: labels.get(i, "—"),
                          key=widget_key, placeholder=_("Choose a number"),
                          label_visibility="collapsed" if collapsed else "visible")
    st.session_state[seen_key] = chosen
    if chosen:
        set_number_param(chosen)
    return chosen


def absent_number(s, number_id: str) -> None:
    """Why the number in the address cannot be used on this page (removed, unknown, not ready), in words."""
    try:
        view = s.number(number_id)
    except WppError:
        view = None
    if view is None:
        st.warning(_("The number in the address does not exist any more. Choose a number below."), icon="🔎")
        return
    if view.removed:
        st.warning(esc(_("“{name}” was removed from the list, so nothing can be done with it here. Choose another "
                         "number below, or open its page to restore it.", name=view.label)), icon="🗂️")
    else:
        st.warning(esc(_("“{name}” is not ready for this yet: linking it is not finished. Open its page to finish, "
                         "or choose another number below.", name=view.label)), icon="🟡")
    if st.button(_("Open its page"), key="absent_number_open"):
        go("number", view.id)


def load_number(s, number_id: str | None):
    """The number of the address, or None after explaining (in words) that it does not exist."""
    if not number_id:
        return None
    try:
        return s.number(number_id)
    except IntegrationNotFound:
        st.warning(_("This number does not exist any more. It may have been deleted from the database."), icon="🔎")
        if st.button(_("Open the list of numbers"), key="missing_number_home"):
            set_number_param(None)
            go("numbers")
        return None


# --- flashes: a sentence for the next run ----------------------------------------------------------------
def flash(kind: str, message: str, *, key: str = "_wpp_flash") -> None:
    """Show ``message`` (already escaped Markdown) once, on the next run of a page (after ``st.rerun``)."""
    st.session_state.setdefault(key, []).append((kind, message))


def show_flashes(*, key: str = "_wpp_flash") -> None:
    """Show the sentences left for this run. A run that only re-draws the page because the status board changed
    (``wppui.live``: a push, within a second) shows again what the last run showed: the person did nothing since,
    and "… is back in the list" must not vanish under their eyes."""
    from . import live

    fresh = st.session_state.pop(key, None)
    shown = key + "_shown"
    if fresh:
        st.session_state[shown] = fresh
    elif live.redrawing():
        fresh = st.session_state.get(shown) or []
    else:
        st.session_state.pop(shown, None)
        fresh = []
    for kind, message in fresh:
        getattr(st, kind, st.info)(message)


# --- the demo phone --------------------------------------------------------------------------------------
def demo_phone():
    """The phone of the demo (``wpp.demo.DemoPhone``), or None outside the demo."""
    return state.demo_phone()


# --- process-wide small caches (shared by every viewer) ---------------------------------------------------
class TtlCache:
    """A few values kept for ``ttl`` seconds and shared by every session of the process (thread-safe)."""

    def __init__(self, ttl: float, max_entries: int = 64):
        self.ttl = ttl
        self.max_entries = max_entries
        self._data: dict = {}
        self._lock = threading.Lock()
        self._loading: dict = {}

    def get(self, key, load: Callable[[], Any]) -> Any:
        now = time.monotonic()
        with self._lock:
            hit = self._data.get(key)
            if hit is not None and now - hit[0] < self.ttl:
                return hit[1]
            gate_lock = self._loading.setdefault(key, threading.Lock())
        with gate_lock:  # one loader per key; the others wait and share its answer
            with self._lock:
                hit = self._data.get(key)
                if hit is not None and time.monotonic() - hit[0] < self.ttl:
                    return hit[1]
            value = load()
            with self._lock:
                self._data[key] = (time.monotonic(), value)
                if len(self._data) > self.max_entries:
                    oldest = min(self._data, key=lambda k: self._data[k][0])
                    self._data.pop(oldest, None)
            return value

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


def error_text(err: BaseException) -> str:
    """An error as one escaped Markdown sentence with its next step (for places too small for show_error)."""
    if isinstance(err, WppError):
        return esc(f"{err.message} {err.action}".strip())
    return esc(_("Something unexpected went wrong."))


__all__ = [
    "NUMBER_PARAM",
    "TtlCache",
    "actor",
    "begin",
    "board_interval",
    "demo_phone",
    "error_text",
    "flash",
    "fragment_service",
    "go",
    "load_number",
    "number_param",
    "number_picker",
    "page",
    "pairing_interval",
    "service",
    "set_number_param",
    "set_url_flag",
    "show_flashes",
    "url_flag",
]
