"""Which numbers need attention, and why: a reason code and a sentence staff can act on.

Numbers that need attention sort first (:func:`sort_key`), the most urgent reason first.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from .. import glossary
from ..i18n import N_, N_n, Text
from ..models import ConnState, StatusRecord
from .policy import DEFAULT_POLICY, PollPolicy
from .record import CANNOT_CHECK, shown_state

#: error kinds that mean the platform refuses the number's access key or permanent key
KEY_REJECTED_KINDS = glossary.REFUSED_KINDS

# reason codes, most urgent first (their order is the sort order)
KEY_REJECTED = "key_rejected"
OFFLINE = "offline"
SCAN_OVERDUE = "scan_overdue"
STARTING_TOO_LONG = "starting_too_long"
CANNOT_BE_CHECKED = "cannot_check"
REASONS: tuple[str, ...] = (KEY_REJECTED, OFFLINE, SCAN_OVERDUE, STARTING_TOO_LONG, CANNOT_BE_CHECKED)


@dataclass(frozen=True)
class Attention:
    """Why a number needs attention: ``code`` (one of :data:`REASONS`) and ``text``, a sentence translated when
    shown (``str(attention.text)`` or ``attention.message``)."""

    code: str
    text: Text

    @property
    def rank(self) -> int:
        return REASONS.index(self.code) if self.code in REASONS else len(REASONS)

    @property
    def message(self) -> str:
        return str(self.text)


def _minutes(seconds: float) -> int:
    return max(1, int(round(seconds / 60.0)))


def triage(record: StatusRecord | None, *, now: float, policy: PollPolicy = DEFAULT_POLICY) -> Attention | None:
    """Whether the number whose board entry is ``record`` needs attention at ``now``, and why; None when not."""
    shown = shown_state(record, policy)
    if shown is None or record is None:
        return None
    in_state = (now - record.since) if record.since is not None else 0.0
    if shown == CANNOT_CHECK:
        kind = (record.error or {}).get("kind")
        if kind in KEY_REJECTED_KINDS:
            return Attention(KEY_REJECTED, glossary.advice(glossary.ACCESS_REFUSED, may_fix=True))
        return Attention(CANNOT_BE_CHECKED, glossary.advice(glossary.CANNOT_CHECK, may_fix=True))
    if shown == ConnState.OFFLINE.value:
        return Attention(OFFLINE, glossary.advice(glossary.OFFLINE, may_fix=True))
    if shown == ConnState.QR_REQUIRED.value and in_state > policy.scan_overdue_s:
        n = _minutes(policy.scan_overdue_s)
        return Attention(SCAN_OVERDUE, N_n(
            "Waiting for the QR scan for more than {n} minute: the codes have probably run out. Open the number "
            "and show a new QR code.",
            "Waiting for the QR scan for more than {n} minutes: the codes have probably run out. Open the number "
            "and show a new QR code.", n))
    if shown == ConnState.STARTING.value and in_state > policy.starting_overdue_s:
        n = _minutes(policy.starting_overdue_s)
        return Attention(STARTING_TOO_LONG, N_n(
            "Starting for more than {n} minute. Open the number and start linking the phone again.",
            "Starting for more than {n} minutes. Open the number and start linking the phone again.", n))
    return None


class Triaged(Protocol):
    """What :func:`sort_key` reads of a number: why it needs attention, if it does (a
    :class:`~wpp.status.board.BoardEntry` is one; triage itself stays below the board)."""

    @property
    def attention(self) -> Attention | None: ...


def sort_key(entry: Triaged | None) -> tuple[int, int]:
    """Numbers that need attention first, the most urgent reason first; then the others (combine with a name:
    ``sorted(rows, key=lambda r: (sort_key(board.get(r.id)), r.display_name.casefold()))``)."""
    attention = entry.attention if entry is not None else None
    if attention is None:
        return (1, 0)
    return (0, attention.rank)


__all__ = [
    "Attention",
    "CANNOT_BE_CHECKED",
    "KEY_REJECTED",
    "KEY_REJECTED_KINDS",
    "OFFLINE",
    "REASONS",
    "SCAN_OVERDUE",
    "STARTING_TOO_LONG",
    "sort_key",
    "triage",
]
