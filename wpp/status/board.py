"""What viewers read: one small immutable entry per number, and a version that changes only when something a
viewer shows changed (state, since, problem, attention, phone) — not when a number was merely checked again."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Iterable, Iterator, Mapping

from ..errors import WppError
from ..i18n import N_, Text
from ..models import ConnState, StatusRecord
from .policy import DEFAULT_POLICY, PollPolicy
from .record import CANNOT_CHECK, error_from_dict, shown_state
from .triage import Attention, triage

from .. import glossary


@dataclass(frozen=True)
class BoardEntry:
    """The shown status of one number.

    ``state``: a :class:`ConnState` value, :data:`~wpp.status.CANNOT_CHECK`, or None (not answered yet);
    ``since``: when that state began (Unix seconds); ``checked_at``: the last check, good or not;
    ``problem``: the stored error (``{"kind", "status", "message", "action"}``) while the number cannot be checked,
    else None (:attr:`error` gives it as a WppError); ``attention``: why it needs attention, or None;
    ``phone``: the phone's own number when the platform reported it; ``last_state``: the state the platform last
    reported (kept while the number cannot be checked); ``raw``: the platform's own word for it.
    """

    integration_id: str
    state: str | None
    since: float | None
    checked_at: float | None
    problem: dict | None
    attention: Attention | None
    phone: str | None = None
    last_state: str | None = None
    raw: str | None = None
    signature: int = field(default=0, repr=False, compare=False)

    @classmethod
    def build(cls, record: StatusRecord, *, now: float, policy: PollPolicy = DEFAULT_POLICY) -> "BoardEntry":
        shown = shown_state(record, policy)
        problem = record.error if shown == CANNOT_CHECK else None
        attention = triage(record, now=now, policy=policy)
        sig = hash((
            shown, record.since, json.dumps(problem, sort_keys=True, default=str) if problem else None,
            attention.code if attention else None, record.phone, record.state,
            record.raw if record.state == ConnState.UNKNOWN.value else None,
        ))
        return cls(record.integration_id, shown, record.since, record.checked_at, problem, attention,
                   record.phone, record.state, record.raw, sig)

    # --- for pages ---------------------------------------------------------------------------------------
    @property
    def conn_state(self) -> ConnState | None:
        """The shown state as a ConnState (None while it cannot be checked or before the first answer)."""
        if self.state in (None, CANNOT_CHECK):
            return None
        try:
            return ConnState(self.state)
        except ValueError:
            return ConnState.UNKNOWN

    @property
    def connected(self) -> bool:
        return self.state == ConnState.CONNECTED.value

    @property
    def cannot_check(self) -> bool:
        return self.state == CANNOT_CHECK

    @property
    def needs_attention(self) -> bool:
        return self.attention is not None

    @property
    def error(self) -> WppError | None:
        """The problem as a WppError of its kind (message and action in the reader's language), or None."""
        return error_from_dict(self.problem)

    @property
    def code(self) -> str:
        """The shown state as a :mod:`wpp.glossary` code: "cannot be checked" is "access refused" when the platform
        refuses the number's keys."""
        kind = (self.problem or {}).get("kind") if self.state == CANNOT_CHECK else None
        return glossary.shown_code(self.state, kind)

    @property
    def label(self) -> Text:
        """The shown state in words (its one name, :mod:`wpp.glossary`), translated when shown."""
        if self.state not in (None, CANNOT_CHECK) and self.conn_state is ConnState.UNKNOWN:
            return N_("Unknown ({word})", word=self.raw or "\u2014")
        return glossary.state_name(self.code)

    def in_state_s(self, now: float) -> float | None:
        """How long it has been in its shown state ("connected since 09:12", "waiting for a scan for 4 min")."""
        return None if self.since is None else max(0.0, now - self.since)


class Board(Mapping[str, BoardEntry]):
    """The shown status per integration id (numbers never checked are absent), read at ``read_at``.

    ``version`` changes only when something shown changed for one of these numbers (or one appeared or went):
    a page may skip rebuilding its table while the version is the one it drew last."""

    __slots__ = ("_entries", "version", "read_at")

    def __init__(self, entries: Mapping[str, BoardEntry], version: str, read_at: float):
        self._entries = dict(entries)
        self.version = version
        self.read_at = read_at

    def __getitem__(self, key: str) -> BoardEntry:
        return self._entries[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Board({len(self._entries)} numbers, version={self.version})"

    def attention_count(self) -> int:
        return sum(1 for e in self._entries.values() if e.attention is not None)


def version_of(entries: Iterable[tuple[str, BoardEntry]]) -> str:
    """A short text that changes when any shown field of these entries changes."""
    return format(hash(tuple(sorted((iid, e.signature) for iid, e in entries))) & 0xFFFFFFFFFFFFFFFF, "016x")


__all__ = ["Board", "BoardEntry", "version_of"]
