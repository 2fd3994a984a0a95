"""Following the board: a number that drops becomes an incident, kept in the store until it is over.

Part of :class:`wpp.alerts.desk.AlertDesk` (a mixin: it uses the desk's store, policy and memory). Every pass reads
the board, each number's history and its proof of delivery; a drop is opened with the moment the engine recorded
it and the moment the number was last seen well; a number back (or removed) closes or recovers its incident; the
lease holder deletes closed incidents and delivered alerts past their keeping time.
"""
from __future__ import annotations

import logging
from collections import Counter
from dataclasses import replace

from .. import keys
from ..errors import WppError
from ..models import ConnState, Incident, Integration, StatusRecord
from ..status import CANNOT_CHECK as SHOWN_CANNOT_CHECK
from ..status import KEY_REJECTED_KINDS, shown_state
from .message import CANNOT_CHECK, KEY_REJECTED, LOGGED_OUT, NOT_DELIVERING, OFFLINE
from .proofwatch import close_unprovable, read_witnesses, witness_for

log = logging.getLogger("wpp.alerts")

_CONNECTED = ConnState.CONNECTED.value
_QR = ConnState.QR_REQUIRED.value


def incident_id(integration_id: str, started_at: float) -> str:
    return f"{integration_id}@{int(round(float(started_at) * 1000))}"


class IncidentTracking:
    """The desk's incidents (see the module docstring): opened, recovered and closed from the board."""

    # --- following the board -----------------------------------------------------------------------------------
    def _kind(self, rec: StatusRecord, shown: str) -> str:
        if shown == SHOWN_CANNOT_CHECK:
            return KEY_REJECTED if (rec.error or {}).get("kind") in KEY_REJECTED_KINDS else CANNOT_CHECK
        if shown == _QR:
            return LOGGED_OUT
        return OFFLINE

    def _note_seen(self, board: dict) -> None:
        for iid, rec in board.items():
            if shown_state(rec, self.policy) == _CONNECTED:
                seen = rec.ok_at if rec.ok_at is not None else (rec.checked_at if rec.checked_at is not None
                                                                  else rec.since)
                if seen is not None and seen > self._seen_ok.get(iid, float("-inf")):
                    self._seen_ok[iid] = float(seen)
        if len(self._seen_ok) > 50_000:
            self._seen_ok = {k: v for k, v in self._seen_ok.items() if k in board}

    def _episode(self, rec: StatusRecord, shown: str, *,
                 linked_before: bool = False) -> tuple[str, float, float] | None:
        """``(kind, when the drop was recorded, when it was last seen well)`` for a number that is not connected, or
        None when it was not connected before (a new number waiting for its first scan is no drop). Read from its
        history, once per change of its board entry. ``linked_before``: a phone was linked to it once (its number
        is known), so a number the console first saw already down (it was down when the console started) is a drop
        too, from then on."""
        kind = self._kind(rec, shown)
        memo = (rec.integration_id, rec.since, shown, linked_before)
        if memo in self._episodes:
            found = self._episodes[memo]
        else:
            dropped: float | None = None
            connected: float | None = None
            history = self.store.status_history(rec.integration_id, limit=50)
            # a late report (older than the state the board shows) is history as it was said, never a change
            history = [ch for ch in history if not getattr(ch, "late", False)]
            for n, ch in enumerate(history):
                if ch.previous == _CONNECTED:
                    dropped = ch.at
                    before = history[n + 1] if n + 1 < len(history) else None
                    if before is not None and before.state == _CONNECTED:
                        connected = before.at
                    break
                if ch.state == _CONNECTED:
                    break
                if ch.previous is None:
                    if linked_before:
                        dropped = ch.at  # first seen down, and it had a phone: down since at least then
                    break
            if len(self._episodes) > 20_000:
                self._episodes.clear()
            found = None if dropped is None else (kind, dropped, connected)
            self._episodes[memo] = found
        if found is None:
            return None
        _kind, dropped, connected = found
        seen = self._seen_ok.get(rec.integration_id)
        started = dropped
        if seen is not None and seen <= dropped:
            started = seen if connected is None else max(seen, connected)
        return kind, dropped, started

    def _delivery(self) -> dict | None:
        """Every number's proof of delivery (``wpp.service.proof``'s checks); None when it cannot be read now."""
        read = getattr(self.store, "delivery_states", None)
        if read is None:
            return {}
        try:
            return read()
        except WppError as err:
            log.warning("could not read the delivery checks: %s", err.english)
            return None

    def _track_not_delivering(self, iid: str, row: Integration, rec: StatusRecord, inc: Incident | None,
                              since: float, now: float, stats: Counter) -> Incident:
        """A connected number that is not delivering (since ``since``): its incident of that kind (opened when
        needed; a drop it came back from is over)."""
        if inc is not None and inc.kind == NOT_DELIVERING:
            return inc
        if inc is not None:  # connected again after a drop: that drop is over
            self._recover(inc, rec.since if rec.since is not None else now, now, stats)
        inc = Incident(id=incident_id(iid, since) + "~" + NOT_DELIVERING, integration_id=iid,
                       organization_id=row.organization_id, kind=NOT_DELIVERING, started_at=since)
        self.store.save_incident(inc)
        stats["opened"] += 1
        return inc

    def _track(self, now: float, stats: Counter) -> None:
        board = self.store.load_statuses()
        delivery = self._delivery()
        witnesses = read_witnesses(self.store) if delivery else None  # None: not known now (nothing is closed)
        rows = {r.id: r for r in self.store.list_integrations(include_inactive=True)}
        open_ = [i for i in self.store.load_incidents(open_only=True) if not i.platform]
        current: dict[str, Incident] = {}
        for inc in open_:
            if inc.recovered_at is None:
                held = current.get(inc.integration_id)
                if held is None or inc.started_at > held.started_at:
                    current[inc.integration_id] = inc
        for iid, rec in board.items():
            row = rows.get(iid)
            if row is None or not row.is_active:
                continue
            shown = shown_state(rec, self.policy)
            inc = current.get(iid)
            proof = (delivery or {}).get(iid) if shown == _CONNECTED else None
            witness = witness_for(row.organization_id, witnesses) if witnesses is not None else None
            if (shown == _CONNECTED and witnesses is not None and witness is None and inc is not None
                    and inc.kind == NOT_DELIVERING):  # the witness was removed: it can no longer be proven either way
                close_unprovable(self.store, inc, now)
                stats["closed"] += 1
                current.pop(iid, None)
                continue
            failing = None if proof is None else (proof.judged(rec.since, witness) if witnesses is not None
                                                  else proof.not_delivering_since(rec.since))
            if failing is not None:
                current[iid] = self._track_not_delivering(iid, row, rec, inc, failing, now, stats)
                continue
            if shown == _CONNECTED:
                if inc is not None and inc.kind == NOT_DELIVERING:
                    if proof is None or proof.failing_since is not None:
                        continue  # not known now, or a check after relinking is still to tell: it stays open
                    back = proof.proven_at
                else:
                    back = rec.since
                if inc is not None:
                    self._recover(inc, back if back is not None else now, now, stats)
                    current.pop(iid, None)
                continue
            if shown is None:
                continue
            if inc is not None and inc.kind == NOT_DELIVERING:  # it dropped: the drop's own incident takes over
                self.store.save_incident(replace(inc, closed_at=now))
                stats["closed"] += 1
                current.pop(iid, None)
                inc = None
            episode = self._episode(rec, shown, linked_before=bool(row.settings.get(keys.PHONE)))
            if episode is None:
                continue
            kind, dropped, started = episode
            if inc is not None and dropped > (inc.noticed_at if inc.noticed_at is not None else inc.started_at) + 0.001:
                # connected again in between (the history says so): that drop is over, this is a new one
                self._recover(inc, dropped, now, stats)
                inc = None
            if inc is None:
                inc = Incident(id=incident_id(iid, dropped), integration_id=iid, organization_id=row.organization_id,
                               kind=kind, started_at=started, noticed_at=dropped)
                self.store.save_incident(inc)
                current[iid] = inc
                stats["opened"] += 1
            elif inc.kind != kind:
                self.store.save_incident(replace(inc, kind=kind))
        self._note_seen(board)
        # the fleet: numbers that should be connected (connected now, or down after having been)
        connected = {iid for iid, rec in board.items() if iid in rows and rows[iid].is_active
                     and shown_state(rec, self.policy) == _CONNECTED}
        self._fleet_size = len(connected | set(current))
        # numbers still shown connected whose last check failed: perhaps the same outage, not seen yet
        self._suspects = {iid for iid in connected if board[iid].error is not None and board[iid].failures >= 1}
        # numbers removed from the list (or gone, or off the board) while down: nothing more to say about them
        for inc in open_:
            row = rows.get(inc.integration_id)
            if row is None or not row.is_active or inc.integration_id not in board:
                self.store.save_incident(replace(inc, closed_at=now))
                stats["closed"] += 1

    def _recover(self, inc: Incident, at: float, now: float, stats: Counter) -> None:
        if inc.parent_id is not None:  # part of a platform incident: it stays with it until that one ends
            self.store.save_incident(replace(inc, recovered_at=at))
            stats["recovered"] += 1
        elif inc.notified_at is None:  # nobody was told: nothing to tell now either
            self.store.save_incident(replace(inc, recovered_at=at, closed_at=now))
            stats["closed"] += 1
        else:
            self.store.save_incident(replace(inc, recovered_at=at))
            stats["recovered"] += 1

    # --- keeping the tables in bounds --------------------------------------------------------------------------
    def _prune(self, now: float, stats: Counter) -> None:
        """Closed incidents and delivered alerts past their keeping time, a few small batches per hour."""
        if self._pruned_at is not None and 0 <= now - self._pruned_at < self.prune_every_s:
            return
        self._pruned_at = now
        cfg = self.config
        try:
            for _ in range(self.prune_batches):
                n = self.store.prune_alerts(sent_before=now - cfg.keep_alerts_s,
                                            failed_before=now - cfg.keep_incidents_s, limit=self.prune_batch)
                stats["pruned_alerts"] += n
                if n < self.prune_batch:
                    break
            for _ in range(self.prune_batches):
                n = self.store.prune_incidents(closed_before=now - cfg.keep_incidents_s, limit=self.prune_batch)
                stats["pruned_incidents"] += n
                if n < self.prune_batch:
                    break
            stats["pruned_mutes"] += self.store.prune_mutes(ended_before=now - cfg.keep_incidents_s,
                                                            limit=self.prune_batch)
        except WppError as err:
            log.warning("could not delete old alerts or incidents: %s", self._scrub(err.english))
        if stats["pruned_alerts"] or stats["pruned_incidents"]:
            log.info("deleted %d old alerts and %d old incidents", stats["pruned_alerts"], stats["pruned_incidents"])


__all__ = ["IncidentTracking", "incident_id"]
