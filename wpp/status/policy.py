"""How often a number's status is asked, and when a number needs attention: one place for every interval.

Times are seconds of the engine's clock (``wpp.clock``), except ``tick_s``, the longest real pause of the
background loop between two passes.
"""
from __future__ import annotations

from dataclasses import dataclass, fields

from ..models import ConnState


@dataclass(frozen=True)
class PollPolicy:
    # --- how often, by state -------------------------------------------------------------------------------
    starting_s: float = 2.0  # the platform is starting the session
    qr_s: float = 2.0  # waiting for the QR scan
    connected_s: float = 60.0  # connected and stable
    offline_s: float = 30.0
    unknown_s: float = 30.0  # a word the console does not know
    stuck_s: float = 30.0  # waiting for a scan / starting for longer than the overdue limits below
    # --- after a change: fast again for a while -----------------------------------------------------------
    fast_s: float = 5.0
    fast_window_s: float = 60.0
    # --- failed checks -----------------------------------------------------------------------------------
    retry_first_s: float = 5.0  # after the first failure; doubled after each further one ...
    retry_max_s: float = 60.0  # ... up to this
    failures_to_show: int = 2  # consecutive failures before "cannot be checked" is shown
    jitter: float = 0.1  # every delay is multiplied by a random factor in [1 - jitter, 1 + jitter]
    # --- the pairing panel -------------------------------------------------------------------------------
    pairing_hold_s: float = 10.0  # after the panel reported a status, the poller leaves the number alone this long
    # --- triage ------------------------------------------------------------------------------------------
    # WhatsApp shows a first QR for ~60 s, then one every 20 s, about 6 in all: the sequence is over after ~3 min
    scan_overdue_s: float = 180.0
    starting_overdue_s: float = 120.0
    # --- sharing -----------------------------------------------------------------------------------------
    board_ttl_s: float = 1.0  # the board is read from the store at most this often per process
    list_every_s: float = 10.0  # the poller re-reads the list of numbers this often (and on check_now)
    lease_ttl_s: float = 30.0  # the poller's lease; a crashed poller is replaced after at most ttl + retry
    lease_renew_s: float = 10.0  # the poller renews its lease this often
    lease_retry_s: float = 5.0  # another process tries to take the lease this often
    tick_s: float = 1.0  # real seconds, at most, between two passes of the background loop

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "jitter":
                if not 0.0 <= value < 0.5:
                    raise ValueError("jitter must be in [0, 0.5)")
            elif f.name == "failures_to_show":
                if int(value) < 1:
                    raise ValueError("failures_to_show must be at least 1")
            elif not value > 0:
                raise ValueError(f"{f.name} must be positive")
        if self.lease_renew_s >= self.lease_ttl_s:
            raise ValueError("lease_renew_s must be shorter than lease_ttl_s")

    def interval(self, state: str | None, in_state_s: float | None) -> float:
        """The pause after a good answer in ``state`` that began ``in_state_s`` seconds ago (no jitter)."""
        if state == ConnState.CONNECTED.value:
            return self.connected_s
        if state == ConnState.OFFLINE.value:
            return self.offline_s
        if state == ConnState.QR_REQUIRED.value:
            return self.stuck_s if (in_state_s or 0.0) > self.scan_overdue_s else self.qr_s
        if state == ConnState.STARTING.value:
            return self.stuck_s if (in_state_s or 0.0) > self.starting_overdue_s else self.starting_s
        return self.unknown_s

    def retry(self, failures: int) -> float:
        """The pause after ``failures`` consecutive failed checks (no jitter): sooner than a stable number, bounded."""
        return min(self.retry_max_s, self.retry_first_s * 2 ** max(0, int(failures) - 1))


DEFAULT_POLICY = PollPolicy()

__all__ = ["DEFAULT_POLICY", "PollPolicy"]
