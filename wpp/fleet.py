"""A process-wide board of connection statuses, refreshed in the background.

Pages read a snapshot (never waiting on the platform); stale entries are refreshed by one background
pass at a time, bounded by the service's concurrency. Twenty browser tabs watching the same numbers
cost the platform the same as one.
"""
from __future__ import annotations

import logging
import threading

from .models import Integration

log = logging.getLogger("wpp.fleet")


class StatusBoard:
    def __init__(self, service, *, max_age_s: float = 3.0):
        self.service = service
        self.max_age_s = max_age_s
        self._rows: dict = {}  # integration id -> FleetRow
        self._lock = threading.Lock()
        self._refreshing: threading.Thread | None = None

    def _stale(self, rows: list[Integration], now: float) -> list[Integration]:
        out = []
        for r in rows:
            cur = self._rows.get(r.id)
            if cur is None or now - cur.checked_at >= self.max_age_s or cur.integration.settings != r.settings:
                out.append(r)
        return out

    def _refresh(self, rows: list[Integration]) -> None:
        try:
            for fr in self.service.fleet_status(rows):
                with self._lock:
                    self._rows[fr.integration.id] = fr
        except Exception:  # noqa: BLE001 - a failed pass is retried on the next snapshot
            log.exception("status refresh failed")

    def snapshot(self, rows: list[Integration], *, wait_s: float = 0.0) -> dict:
        """Known status per integration id (FleetRow or None while never checked).

        Starts a background refresh of stale entries if none is running; waits at most ``wait_s`` for it.
        """
        now = self.service.clock.time()
        with self._lock:
            stale = self._stale(rows, now)
            thread = self._refreshing
            if stale and (thread is None or not thread.is_alive()):
                thread = threading.Thread(target=self._refresh, args=(stale,), name="wpp-status-board", daemon=True)
                self._refreshing = thread
                thread.start()
        if wait_s and thread is not None:
            thread.join(wait_s)
        with self._lock:
            return {r.id: self._rows.get(r.id) for r in rows}

    def forget(self, integration_id: str) -> None:
        with self._lock:
            self._rows.pop(integration_id, None)
