"""Small rendering pieces: errors in plain words, status badges, times."""
from __future__ import annotations

import contextlib
import datetime as dt
import logging
from zoneinfo import ZoneInfo

import streamlit as st

from wpp.errors import WppError
from wpp.masking import scrub
from wpp.models import ConnState, Status

log = logging.getLogger("wppui")

_BADGE = {
    ConnState.CONNECTED: ("green", "🟢"),
    ConnState.QR_REQUIRED: ("orange", "🟠"),
    ConnState.STARTING: ("blue", "🔵"),
    ConnState.OFFLINE: ("red", "🔴"),
    ConnState.UNKNOWN: ("gray", "⚪"),
}


def status_text(status: Status | None, error: WppError | None = None) -> str:
    if status is None:
        return "⚠️ Cannot check" if error else "—"
    return f"{_BADGE[status.state][1]} {status.label}"


def status_badge(status: Status | None, error: WppError | None = None) -> None:
    if status is None:
        st.badge("Cannot check" if error else "Unknown", icon="⚠️", color="gray")
        return
    color, _ = _BADGE[status.state]
    st.badge(status.label, color=color)


def show_error(err: BaseException, *, what: str | None = None) -> None:
    """One sentence, what to do next, and the technical detail behind an expander. Never a traceback."""
    if isinstance(err, WppError):
        head = f"**{what}** — {err.message}" if what else err.message
        st.error(f"{head}\n\n{err.action}", icon="⚠️")
        detail = err.detail or ""
        status = err.status
    else:
        log.exception("unexpected error")
        head = f"**{what}** — something unexpected went wrong." if what else "Something unexpected went wrong."
        st.error(f"{head}\n\nTry again. If it keeps happening, show the details below to support.", icon="⚠️")
        detail = scrub(f"{type(err).__name__}: {err}")
        status = None
    with st.expander("Technical details"):
        st.write(f"Kind: `{getattr(err, 'kind', type(err).__name__)}`" + (f" · HTTP status: `{status}`" if status else ""))
        if detail:
            st.code(detail, language=None, wrap_lines=True)


@contextlib.contextmanager
def guarded(what: str | None = None):
    """Run a block; any failure is shown in words instead of a traceback."""
    try:
        yield
    except WppError as err:
        show_error(err, what=what)
    except Exception as err:  # noqa: BLE001 - staff must never see a traceback
        show_error(err, what=what)


def browser_tz() -> dt.tzinfo:
    try:
        name = st.context.timezone
        if name:
            return ZoneInfo(name)
    except Exception:  # noqa: BLE001
        pass
    return dt.datetime.now().astimezone().tzinfo or dt.timezone.utc


def local_time(epoch_s: float | None, *, short: bool = False) -> str:
    """A moment in the browser's time zone; ``short`` (for big metric tiles) drops the date when it is today."""
    if epoch_s is None or isinstance(epoch_s, bool) or not epoch_s:
        return "—"
    try:
        t = dt.datetime.fromtimestamp(float(epoch_s), tz=browser_tz())
    except (OverflowError, OSError, ValueError, TypeError):
        return "not a real date"
    if short:
        today = dt.datetime.now(tz=t.tzinfo).date()
        return t.strftime("%H:%M:%S" if t.date() == today else "%d %b, %H:%M")
    return t.strftime("%d %b %Y, %H:%M:%S %Z")


def iso_local(iso: str | None) -> str:
    """An ISO 8601 UTC timestamp from the store, in the browser's time zone."""
    if not iso:
        return "—"
    try:
        t = dt.datetime.fromisoformat(str(iso).replace("Z", "+00:00"))
    except ValueError:
        return str(iso)
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.timezone.utc)
    return t.astimezone(browser_tz()).strftime("%d %b %Y, %H:%M")


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    past = seconds < 0
    s = int(abs(seconds))
    if s >= 3600:
        text = f"{s // 3600} h {s % 3600 // 60} min"
    elif s >= 60:
        text = f"{s // 60} min {s % 60:02d} s"
    else:
        text = f"{s} s"
    return f"{text} ago" if past else text


def expires_in_text(expires_at_ms: int | None, now: float) -> str:
    if not expires_at_ms:
        return "no token"
    left = expires_at_ms / 1000 - now
    return "expired " + duration(left) if left <= 0 else "in " + duration(left)
