"""Small rendering pieces every page uses: errors in plain words, states with a coloured mark, times in words.

Texts from the service (sentences, names, platform answers) are data in a Markdown context: they go through
:func:`wppui.text.esc` before ``st.error``/``st.success``/... show them.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import logging
import re
from zoneinfo import ZoneInfo

import streamlit as st

from wpp import glossary
from wpp.errors import WppError
from wpp.i18n import _, _n, current_language, format_duration, format_time
from wpp.masking import scrub
from wpp.models import ConnState

from .text import esc, plain

log = logging.getLogger("wppui")

#: the coloured mark of each state (tables, badges)
MARKS = {
    ConnState.CONNECTED: "🟢",
    ConnState.QR_REQUIRED: "🟠",
    ConnState.STARTING: "🔵",
    ConnState.OFFLINE: "🔴",
    ConnState.UNKNOWN: "⚪",
}
BADGE_COLOURS = {
    ConnState.CONNECTED: "green",
    ConnState.QR_REQUIRED: "orange",
    ConnState.STARTING: "blue",
    ConnState.OFFLINE: "red",
    ConnState.UNKNOWN: "gray",
}


def mark(view) -> str:
    """The coloured mark of a number (a ``NumberView``): its state's mark in :mod:`wpp.glossary` (🟠 for a connected
    number that does not deliver)."""
    if getattr(view, "not_delivering", False):
        return "🟠"
    return glossary.state_mark(state_code_of(view))


def state_code_of(view) -> str:
    """The glossary code of a number's shown state (not finished, already linked, access refused, …)."""
    if getattr(view, "prelinked", False):
        return glossary.PRELINKED
    if getattr(view, "unfinished", False):
        return glossary.UNFINISHED
    board = view.status
    code = getattr(board, "code", None)
    if code:
        return code
    if board.state is None:
        return glossary.CANNOT_CHECK if board.problem is not None else glossary.NOT_CHECKED
    return glossary.state_code(board.state)


def delivery_in_words(view) -> str:
    """Proof of delivery of a connected number (a ``NumberView``): "Delivery proven 09:12", "Not delivering since
    09:12", or "" when it was never checked (or cannot be here). Plain text, the browser's time zone."""
    from wpp.glossary import delivery_proven, not_delivering

    d = getattr(view, "delivery", None)
    if d is None or view.status.state is not ConnState.CONNECTED:
        return ""
    now = dt.datetime.now(dt.timezone.utc)
    if d.failing_since is not None:
        return str(not_delivering(format_time(d.failing_since, browser_tz(), now=now)))
    if d.proven_at is not None:
        return str(delivery_proven(format_time(d.proven_at, browser_tz(), now=now)))
    return ""


def state_in_words(view, *, live: bool = True) -> str:
    """The number's status by its one name with how long: "Connected since 09:12", "Waiting for the QR scan: 4 min".

    Plain text (no Markdown), in the current language and the browser's time zone. ``live=False`` (a table
    redrawn once a minute): "since 09:12" for every state, never a count of seconds that would stand still."""
    board = view.status
    code = state_code_of(view)
    if code in (glossary.PRELINKED, glossary.UNFINISHED) or board.since is None:
        return board.label or str(glossary.state_name(code))
    now = dt.datetime.now(dt.timezone.utc)
    since = format_time(board.since, browser_tz(), now=now)
    if live and code in (glossary.QR_REQUIRED, glossary.STARTING):
        for_ = format_duration(max(0.0, (now - board.since).total_seconds()), threshold=0.9)
        return _("{state}: {duration}", state=board.label, duration=for_)
    if code == glossary.CONNECTED:
        proof = delivery_in_words(view)
        if getattr(view, "not_delivering", False) and proof:
            return proof  # the glossary's "Not delivering since 09:12" says it all
        if proof:
            return _("{state} since {time}", state=board.label, time=since) + f" · {proof}"
    return _("{state} since {time}", state=board.label, time=since)


_MASK_LENGTH = re.compile(r"\((\d+) chars\)")


def masked_words(text: str) -> str:
    """A masked secret as staff read it: ``eyJh…BZPk (245 chars)`` -> ``eyJh…BZPk (245 символов)`` in Russian."""
    return _MASK_LENGTH.sub(lambda m: _n("({n} character)", "({n} characters)", int(m.group(1))), str(text))


def show_error(err: BaseException, *, what: str | None = None) -> None:
    """One sentence, what to do next, and the technical detail behind an expander. Never a traceback.

    ``what`` is the page's own (translated) words; the error's message and action may hold what the platform or
    a person typed, so they are escaped."""
    if isinstance(err, WppError):
        message, action = esc(err.message), esc(err.action)
        detail = scrub(err.detail or "")
        status = err.status
        kind = getattr(err, "kind", type(err).__name__)
        said = getattr(err, "said", None)
    else:
        log.error("unexpected error", exc_info=err)
        message = esc(_("Something unexpected went wrong."))
        action = esc(_("Try again. If it keeps happening, show the details below to support."))
        detail = scrub(f"{type(err).__name__}: {err}")
        status = None
        kind = "unexpected"
        said = None
    head = f"**{esc(what)}** — {message}" if what else message
    st.error(head + (f"\n\n{action}" if action else ""), icon="⚠️")
    with st.expander(_("Details for support")):
        st.text(_("Kind: {kind}", kind=kind) + (" · " + _("HTTP status: {status}", status=status) if status else ""))
        if said:
            st.text(_("The platform's own words: {said}", said=plain(said, limit=200)))
        if detail:
            st.code(detail, language=None, wrap_lines=True)


@contextlib.contextmanager
def guarded(what: str | None = None):
    """Run a block; any failure is shown in words instead of a traceback (Streamlit's own control flow passes)."""
    try:
        yield
    except WppError as err:
        show_error(err, what=what)
    except Exception as err:  # noqa: BLE001 - staff must never see a traceback
        if _is_streamlit_control(err):
            raise
        show_error(err, what=what)


def _is_streamlit_control(err: BaseException) -> bool:
    """st.rerun / st.stop / st.switch_page raise exceptions that must reach Streamlit."""
    name = type(err).__name__
    return name in ("RerunException", "StopException") or type(err).__module__.startswith("streamlit.runtime")


def browser_tz() -> dt.tzinfo:
    """The browser's time zone (``st.context.timezone``); the server's when the browser did not say."""
    try:
        name = st.context.timezone
        if name:
            return ZoneInfo(name)
    except Exception:  # noqa: BLE001
        pass
    return dt.datetime.now().astimezone().tzinfo or dt.timezone.utc


def tz_name() -> str:
    """The browser's time zone as a name (for cache keys and DatetimeColumn)."""
    tz = browser_tz()
    return getattr(tz, "key", None) or str(tz)


def local(moment: dt.datetime | None) -> dt.datetime | None:
    """A UTC datetime in the browser's time zone (for DatetimeColumn cells)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(browser_tz())


#: how a time cell reads, per language (Moment.js patterns): the grid follows the console's language, not the
#: browser's ("localized" would show Russian dates on an English page in a Russian browser)
DATETIME_FORMATS = {"ru": "DD.MM.YYYY HH:mm", "en": "D MMM YYYY, HH:mm"}
TIME_FORMAT = "HH:mm:ss"


def datetime_format(*, seconds: bool = False) -> str:
    pattern = DATETIME_FORMATS.get(current_language(), DATETIME_FORMATS["en"])
    return pattern + ":ss" if seconds else pattern


def datetime_column(label: str, *, seconds: bool = True, width: int | str | None = None, help: str | None = None):
    """A sortable time column, written the way the console's language writes dates."""
    return st.column_config.DatetimeColumn(label, format=datetime_format(seconds=seconds), width=width, help=help)


def when(moment: dt.datetime | None) -> str:
    """"09:12" today, else "24 Nov, 09:12", in the browser's time zone and the current language."""
    return format_time(moment, browser_tz(), now=dt.datetime.now(dt.timezone.utc)) if moment else "—"


__all__ = [
    "BADGE_COLOURS",
    "MARKS",
    "browser_tz",
    "delivery_in_words",
    "datetime_column",
    "datetime_format",
    "guarded",
    "local",
    "mark",
    "masked_words",
    "show_error",
    "state_in_words",
    "tz_name",
    "when",
]
