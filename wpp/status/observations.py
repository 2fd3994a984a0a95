"""What the poller, the pairing panel and the platform's pushes report, applied to the board: the newest wins.

Part of :class:`wpp.status.engine.StatusEngine` (a mixin). Each report goes through the same
:func:`~wpp.status.record.advance`, one number at a time under its lock: the store keeps an entry only when it is
not older than the stored one (``save_status`` is a compare-and-set) and this process shows it at once; an older
poll answer is dropped (and the number asked again when it disagrees); an older pushed event is kept in the history
as *late*; a change staff care about writes one diary line.
"""
from __future__ import annotations

import logging
from dataclasses import replace
from typing import Iterable

from .. import glossary
from ..errors import WppError
from ..i18n import N_
from ..models import ActivityEntry, ConnState, StatusChange, StatusRecord
from .board import BoardEntry
from .polling import _watched
from .record import CheckResult, Step, advance, is_stale, shown_state

log = logging.getLogger("wpp.status")

#: who did it, in the diary, for what the phone and the platform did by themselves
PLATFORM_ACTOR = "WhatsApp"

_CONNECTED, _OFFLINE, _QR = ConnState.CONNECTED.value, ConnState.OFFLINE.value, ConnState.QR_REQUIRED.value
_STARTING = ConnState.STARTING.value


def diary_line(change: StatusChange) -> ActivityEntry | None:
    """The diary line for a change staff care about (the phone linked, went offline, the QR codes ran out), else None.

    Each says the new state by its one name (:mod:`wpp.glossary`, a value of the message, so the diary, the list and
    the history say it alike). Only changes from a known state: the first look at a number (``previous`` None) is
    not news."""
    before, after = change.previous, change.state
    if not before or before == after:
        return None
    state = glossary.state_name(after)
    if after == _CONNECTED:
        action, ok, text = "linked", True, N_("{state}: the phone was linked", state=state)
    elif before == _CONNECTED and after == _OFFLINE:
        action, ok, text = "unlinked", False, N_("{state}: the phone stopped answering or was unlinked (it was "
                                                 "connected)", state=state)
    elif before == _CONNECTED and after == _QR:
        action, ok, text = "unlinked", False, N_("{state}: the phone was unlinked (it was connected)", state=state)
    elif after == _OFFLINE and before in (_QR, _STARTING):
        action, ok, text = "qr_ran_out", False, N_("{state}: the QR codes ran out before a scan", state=state)
    else:
        return None
    return ActivityEntry(action=action, outcome="ok" if ok else "error", actor=PLATFORM_ACTOR,
                         integration_id=change.integration_id, detail=text.english, message=text.to_json())


class Observations:
    """The engine's recording (see the module docstring)."""

    def _reload_one(self, iid: str) -> StatusRecord | None:
        """Read one number's stored entry into this process's board (after the store kept a newer one than ours)."""
        try:
            rec = self.store.load_statuses([iid]).get(iid)
        except WppError as err:
            log.warning("could not read the status of %s: %s", iid, err.english)
            return None
        now = self.clock.time()
        with self._guard:
            if rec is not None:
                self._seq += 1
                self._written[iid] = self._seq
                self._records[iid] = rec
                self._entries[iid] = BoardEntry.build(rec, now=now, policy=self.policy)
                self._version = None
        return rec

    def _dropped(self, iid: str, newer: StatusRecord | None, result: CheckResult) -> None:
        """A check's answer older than what the board shows is dropped; when it disagrees with it, the number is
        asked again at once (the platform may have changed once more)."""
        with self._guard:
            self._counts["stale"] += 1
        if result.status is None or newer is None or newer.state == result.status.state.value:
            return
        log.info("a late status answer for %s was dropped; asking again", iid)
        with self._guard:
            self._forced.add(iid)
        self._wake.set()

    def _commit(self, step: Step, now: float, *, strict: bool = False) -> tuple[BoardEntry | None, bool | None]:
        """Save the new entry (and its history line) and show it in this process at once. Returns the entry and
        whether the store kept it (False: it had a newer observation, which this process then shows; None: the
        store failed -- the entry is shown here all the same, unless ``strict``, which raises instead)."""
        rec = step.record
        saved: bool | None
        try:
            saved = self.store.save_status(rec, step.change) is not False
        except WppError as err:
            if strict:
                raise
            log.warning("could not save the status of %s: %s", rec.integration_id, err.english)
            saved = None
        else:
            if not saved:
                return None, False
            line = diary_line(step.change) if step.change is not None else None
            if line is not None:
                try:
                    self.store.log_activity(line)
                except WppError as err:
                    log.warning("could not write the diary line for %s: %s", rec.integration_id, err.english)
        with self._guard:
            iid = rec.integration_id
            self._seq += 1
            self._written[iid] = self._seq
            self._records[iid] = rec
            entry = self._entries[iid] = BoardEntry.build(rec, now=now, policy=self.policy)
            self._version = None
            if step.fast_until is not None:
                self._fast_until[iid] = step.fast_until
            else:
                self._fast_until.pop(iid, None)
            return entry, saved

    # === what the service reports ============================================================================
    def record(self, integration_id: str, result: CheckResult) -> BoardEntry:
        """The pairing panel asked the platform itself: show what it learned at once, and keep the poller away
        from this number for ``policy.pairing_hold_s`` (renewed by every report while the panel is open). An answer
        older than what the board shows (``result.observed_at``) is not applied."""
        now = self.clock.time()
        try:
            self._refresh(now)
        except WppError:
            pass  # logged; what the panel saw is shown in this process all the same
        if result.observed_at is None:
            result = replace(result, observed_at=now)
        with self._id_lock(integration_id):
            with self._guard:
                prev = self._records.get(integration_id)
                fast = self._fast_until.get(integration_id)
            hold = now + self.policy.pairing_hold_s
            with self._guard:
                self._hold_until[integration_id] = hold
            if is_stale(prev, result):
                self._dropped(integration_id, prev, result)
                return self._entries.get(integration_id) or BoardEntry.build(prev, now=now, policy=self.policy)
            step = advance(prev, result, integration_id=integration_id, now=now, policy=self.policy,
                           rand=self._rand, fast_until=fast, not_before=hold, watched=_watched(prev, now),
                           pushed=self._pushed(prev, now, integration_id))
            entry, saved = self._commit(step, now)
            if saved is False:
                newer = self._reload_one(integration_id)
                self._dropped(integration_id, newer, result)
                entry = self._entries.get(integration_id) or BoardEntry.build(step.record, now=now,
                                                                              policy=self.policy)
        with self._guard:
            self._counts["recorded"] += 1
        return entry  # type: ignore[return-value]

    def record_event(self, integration_id: str, result: CheckResult | None = None) -> BoardEntry | None:
        """The platform pushed an event about this number (its webhook; ``wpp.status.webhooks``).

        With a ``result`` (a state: connected, offline, waiting for a scan) it is recorded as if the poller had just
        seen it -- the board, the history and the diary as for a check -- and the next check becomes a sanity check
        (:meth:`PollPolicy.interval`); a pushed change opens no fast window. ``result.observed_at`` is when the
        platform says it happened (its ``created``; default now): an event older than the number's newest state is
        kept in the history as *late* and never applied. Any event (a delivery update, an incoming message, too)
        notes the number's ``last_event_at`` in the store, so the poller in every replica knows its events arrive.
        Never asks the platform. A store failure raises (StoreError): the caller answers so that the platform
        tries again. Returns the number's entry when a state was applied."""
        iid = integration_id
        now = self.clock.time()
        try:
            self._refresh(now)
        except WppError:
            pass  # logged; the event is recorded all the same
        entry: BoardEntry | None = None
        with self._id_lock(iid):
            # noted first: whoever reads the new state sees it came by push (no fast polling after it)
            noted = bool(self.store.note_status_event(iid, at=now))
            if result is not None:
                seen = result.observed_at if result.observed_at is not None else now
                result = replace(result, observed_at=min(float(seen), now))
                with self._guard:
                    prev = self._records.get(iid)
                    fast = self._fast_until.get(iid)
                    hold = self._hold_until.get(iid)
                    self._suspects.pop(iid, None)
                if hold is not None and hold <= now:
                    hold = None
                if is_stale(prev, result):
                    self._late(iid, prev, result)
                else:
                    step = advance(prev, result, integration_id=iid, now=now, policy=self.policy, rand=self._rand,
                                   fast_until=fast, not_before=hold, watched=_watched(prev, now), pushed=True,
                                   by_push=True)
                    entry, saved = self._commit(Step(replace(step.record, last_event_at=now), step.change,
                                                     step.fast_until), now, strict=True)
                    if saved is False:
                        entry = None
                        self._late(iid, self._reload_one(iid), result)
                if not noted:  # the number's first entry was made just now
                    noted = bool(self.store.note_status_event(iid, at=now))
            with self._guard:
                self._counts["pushed"] += 1
                rec = self._records.get(iid)
                if noted and rec is not None and (rec.last_event_at or 0.0) < now:
                    self._records[iid] = replace(rec, last_event_at=now)
                    self._seq += 1
                    self._written[iid] = self._seq  # newer than a board read under way
        return entry

    def _late(self, iid: str, newer: StatusRecord | None, result: CheckResult) -> None:
        """A pushed state older than the number's newest one: in the history as late, never on the board."""
        with self._guard:
            self._counts["late"] += 1
        st = result.status
        log.info("a pushed event for %s came after a newer state: kept in the history as late", iid)
        self.store.add_status_history(StatusChange(
            integration_id=iid, state=st.state.value if st is not None else None, at=float(result.observed_at),
            previous=shown_state(newer, self.policy), raw=st.raw if st is not None else None, late=True))

    def last_events(self, ids: Iterable[str] | None = None) -> dict[str, float]:
        """When the platform last pushed an event about each of these numbers (all when None), as this process's
        copy of the board says (numbers without one are absent)."""
        self._refresh(self.clock.time())
        with self._guard:
            wanted = self._records.keys() if ids is None else [i for i in ids if i in self._records]
            return {i: self._records[i].last_event_at for i in wanted  # type: ignore[misc]
                    if self._records[i].last_event_at is not None}


__all__ = ["Observations", "PLATFORM_ACTOR", "diary_line"]
