"""The Numbers table, built once per change and shared by every viewer.

An open Numbers page must cost next to nothing while nothing changes. So:

* the list of numbers as staff see them (``s.numbers()``) is read at most once per :data:`SNAPSHOT_TTL_S` per
  language, time zone and board version in the whole process, however many tabs look (:func:`snapshot`);
* the table (a DataFrame) is built once per (that snapshot's fingerprint, language, time zone, filters, minute) and
  kept in a small LRU shared by every session (:func:`numbers_table`);
* the page draws the table in its normal run; a small self-refreshing fragment only compares the key of what is
  drawn with the key of what would be drawn now and re-runs the page when they differ (``pages/numbers.py``).
  An unchanged board is neither rebuilt nor sent again. The "minute" in the key keeps "Last checked" fresh.

A page's own change (create, rename, remove, restore) calls :func:`changed` so it shows at once.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from wpp.i18n import _, current_language

from .components import TIME_FORMAT, browser_tz, datetime_column, mark, state_in_words, tz_name, when
from .pagekit import TtlCache

#: the list is re-read at most this often per process when nothing says it changed (a board change, or a change
#: made in this process, re-reads it at once; another replica's rename shows within this time)
SNAPSHOT_TTL_S = 10.0
#: "Last checked" is refreshed this often (seconds)
LAST_CHECKED_EVERY_S = 60.0
TABLE_CACHE_SIZE = 48

_snapshots = TtlCache(SNAPSHOT_TTL_S, max_entries=32)
_tables: "OrderedDict[tuple, NumbersTable]" = OrderedDict()
_tables_lock = threading.Lock()
_generation = [0]  # bumped by changed(): a change made in this process shows at once


@dataclass(frozen=True)
class Snapshot:
    key: str  # changes when anything a viewer sees changed (not when a number was merely checked again)
    views: tuple  # NumberView, needing attention first


@dataclass(frozen=True)
class NumbersTable:
    key: tuple
    frame: pd.DataFrame  # never modified after it is built (shared)
    ids: tuple  # the integration id of each row, in the frame's order
    total: int
    attention: int


def changed() -> None:
    """This process changed the list (created, renamed, removed, restored): the next look reads it again."""
    _generation[0] += 1
    _snapshots.clear()


def _board_version(s) -> str:
    try:
        return s.board_version()
    except Exception:  # noqa: BLE001 - the board cannot be read: the list still can
        return ""


def _scope(s) -> tuple:
    access = getattr(s, "access", None)
    return access.cache_key() if access is not None else ("?",)


def _signature(v) -> tuple:
    b = v.status
    problem = b.problem.text if b.problem is not None else ""
    d = getattr(v, "delivery", None)
    proof = (d.proven_at, d.failing_since) if d is not None else None
    return (v.id, v.label, v.name, v.org_id, v.org_name, v.phone, v.unfinished, v.prelinked, v.removed,
            b.state, b.label, b.since, str(b.attention) if b.attention is not None else "", problem, v.created_at,
            proof, str(getattr(b, "todo", None) or ""), getattr(v, "muted_until", None))


def snapshot(s, *, removed: bool = False) -> Snapshot:
    """The numbers as staff see them, shared by every viewer of this process (see the module docstring)."""
    # people with other schools see other numbers: the scope is part of the key (never one person's list for another)
    key = (current_language(), tz_name(), removed, _board_version(s), _generation[0], _scope(s))

    def load() -> Snapshot:
        views = tuple(s.numbers(removed=removed))
        fingerprint = hash(tuple(_signature(v) for v in views)) & 0xFFFFFFFFFFFF
        return Snapshot(f"{key[3]}:{fingerprint:x}", views)

    return _snapshots.get(key, load)


def _what_to_do(v) -> str:
    """What to do in a few words (the whole advice is on the number's page), fitted to the reader."""
    b = v.status
    if getattr(b, "todo", None) is not None:
        return str(b.todo)
    if b.attention is not None:
        return str(b.attention)
    if b.problem is not None:
        return b.problem.text
    return ""


def _muted(v) -> str:
    until = getattr(v, "muted_until", None)
    return (" · 🔕 " + _("alerts muted until {time}", time=when(until))) if until is not None else ""


def numbers_table(s, *, attention_only: bool = False, school: str | None = None) -> NumbersTable:
    """The table the Numbers page draws (cached; the same object for every viewer with the same view)."""
    snap = snapshot(s)
    minute = int(time.time() // LAST_CHECKED_EVERY_S)
    key = (snap.key, current_language(), tz_name(), bool(attention_only), school or "", minute)
    with _tables_lock:
        hit = _tables.get(key)
        if hit is not None:
            _tables.move_to_end(key)
            return hit
    views = [v for v in snap.views
             if (not attention_only or v.status.needs_attention) and (not school or v.org_id.split("__wpp__")[0] == school)]
    cols = column_names()
    # what a receptionist needs, in the order she reads it; when it was last checked is on the number's own page
    frame = pd.DataFrame(
        {
            cols["school"]: [v.org_name for v in views],
            cols["number"]: [v.name for v in views],
            cols["phone"]: [v.phone or "" for v in views],
            cols["status"]: [f"{mark(v)} {state_in_words(v, live=False)}" + _muted(v) for v in views],
            cols["todo"]: [_what_to_do(v) for v in views],
        }
    )
    table = NumbersTable(key, frame, tuple(v.id for v in views), len(snap.views),
                         sum(1 for v in snap.views if v.status.needs_attention))
    with _tables_lock:
        _tables[key] = table
        while len(_tables) > TABLE_CACHE_SIZE:
            _tables.popitem(last=False)
    return table


def datetimes(values) -> pd.Series:
    """Moments (UTC datetimes or None) as a datetime column in the browser's time zone (sortable; empty = NaT)."""
    series = pd.to_datetime(pd.Series(list(values), dtype="object"), utc=True)
    try:
        return series.dt.tz_convert(browser_tz())
    except (TypeError, ValueError):
        return series


def table_key(s, *, attention_only: bool = False, school: str | None = None) -> tuple:
    """What :func:`numbers_table` would be keyed by now (cheap: no table is built)."""
    snap = snapshot(s)
    minute = int(time.time() // LAST_CHECKED_EVERY_S)
    return (snap.key, current_language(), tz_name(), bool(attention_only), school or "", minute)


def column_names() -> dict[str, str]:
    return {
        "school": _("School"),
        "number": _("Number"),
        "phone": _("Phone"),
        "status": _("Status"),
        "checked": _("Last checked"),
        "todo": _("What to do"),
    }


#: rows tall enough for three lines: the grid wraps a long cell instead of cutting it (Streamlit lets text wrap in
#: rows taller than 4 rem)
ROW_HEIGHT = 66
#: what a grid shows in an empty cell (left alone, Streamlit's grid writes the English word "None" there)
EMPTY = "—"
#: the main area of a 1366 × 900 screen with the sidebar open is about 900 px wide: the grids staff read fit in it
#: whole (in this order; widths in px), so no column a receptionist needs is cut or behind a sideways scroll
NUMBERS_WIDTHS = {"school": 130, "number": 125, "phone": 135, "status": 185, "todo": 265}
DIARY_WIDTHS = {"when": 110, "what": 280, "outcome": 110, "school": 110, "number": 100, "who": 150}
ALERTS_WIDTHS = {"when": 110, "event": 130, "school": 135, "number": 115, "to": 170, "outcome": 175}


def column_config() -> dict:
    """Widths that keep School, Number, Phone, Status (since when) and What to do whole in the main area of a
    1366 × 900 screen with the sidebar open (about 900 px, the row picker's column included): long cells wrap
    (:data:`ROW_HEIGHT`)."""
    cols, w = column_names(), NUMBERS_WIDTHS
    return {cols[k]: st.column_config.TextColumn(cols[k], width=w[k]) for k in w}


__all__ = ["NumbersTable", "Snapshot", "changed", "column_config", "column_names", "numbers_table", "snapshot",
           "table_key"]
