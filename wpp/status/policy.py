"""How often a number's status is asked, and when a number needs attention: one place for every interval.

Times are seconds of the engine's clock (``wpp.clock``), except ``tick_s``, the longest real pause of the
background loop between two passes.

A number starting or waiting for a scan is asked fast (``starting_s`` / ``qr_s``) only while someone has its QR
code on screen: a pairing panel open on it in any replica (its heartbeat, kept on the shared board, makes the number
*watched* for ``watch_s``). Nobody can scan a QR code nobody looks at, so otherwise it is asked every
``unwatched_s``, and no change of state makes it fast again (:meth:`PollPolicy.interval`,
:meth:`PollPolicy.opens_fast_window`).

A number whose status the platform pushes to the console's webhook (an event arrived within ``push_fresh_s``:
:meth:`PollPolicy.pushed`, or its webhook registration was accepted and is not known to be broken: the engine's
``hooked``) is asked only every ``sanity_s`` (a sanity check), whatever its state — except while a pairing panel
shows it (fast, as above) and in its "after a change" window (which a pushed change does not open). When its events
stop, it is no longer *pushed* once ``push_fresh_s`` has passed, and the next check goes back to the usual intervals
by itself.
"""
from __future__ import annotations

from dataclasses import dataclass, fields

from ..models import ConnState


@dataclass(frozen=True)
class PollPolicy:
    # --- how often, by state -------------------------------------------------------------------------------
    starting_s: float = 2.0  # the platform is starting the session (while a pairing panel shows the number)
    qr_s: float = 2.0  # waiting for the QR scan (while a pairing panel shows the number)
    unwatched_s: float = 60.0  # starting / waiting for a scan while no panel shows it: as quiet as a connected number
    connected_s: float = 60.0  # connected and stable
    offline_s: float = 30.0
    unknown_s: float = 30.0  # a word the console does not know
    stuck_s: float = 30.0  # waiting for a scan / starting for longer than the overdue limits below
    # --- status pushed by the platform (webhooks) ---------------------------------------------------------
    sanity_s: float = 600.0  # a number whose events arrive: one sanity check this often (WPP_WEBHOOK_SANITY_MINUTES)
    push_fresh_s: float = 900.0  # it counts as pushed while its last event is at most this old
    push_grace_s: float = 30.0  # a change a poll found must have been pushed within this (else: webhook broken)
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
    watch_s: float = 30.0  # a panel's heartbeat keeps its number watched this long (a closed tab stops beating)
    watch_beat_s: float = 10.0  # a panel's heartbeat is written at most this often per number and process
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
        if self.watch_beat_s >= self.watch_s:
            raise ValueError("watch_beat_s must be shorter than watch_s")

    @staticmethod
    def pairing(state: str | None) -> bool:
        """Whether ``state`` is one of pairing's: starting, or waiting for the QR scan."""
        return state in _PAIRING_STATES

    def pushed(self, last_event_at: float | None, now: float) -> bool:
        """Whether the platform pushes this number's events: its last one (``last_event_at``, on the board) came at
        most ``push_fresh_s`` before ``now``."""
        return last_event_at is not None and 0.0 <= now - last_event_at <= self.push_fresh_s

    def interval(self, state: str | None, in_state_s: float | None, *, watched: bool = False,
                 fast: bool = False, pushed: bool = False) -> float:
        """The pause after a good answer in ``state`` that began ``in_state_s`` seconds ago (no jitter).

        ``watched``: a pairing panel shows the number (in any replica); only then is a number starting or waiting
        for a scan asked fast, else every ``unwatched_s`` whatever else holds. ``pushed``: its events arrive
        (:meth:`pushed`): a sanity check every ``sanity_s``, unless a panel shows it while it pairs. ``fast``: the
        number is in its "after a change" window (:meth:`opens_fast_window`): at most ``fast_s`` then."""
        if pushed and not (watched and self.pairing(state)):
            return min(self.sanity_s, self.fast_s) if fast else self.sanity_s
        if self.pairing(state) and not watched:
            return self.unwatched_s
        if state == ConnState.CONNECTED.value:
            delay = self.connected_s
        elif state == ConnState.OFFLINE.value:
            delay = self.offline_s
        elif state == ConnState.QR_REQUIRED.value:
            delay = self.stuck_s if (in_state_s or 0.0) > self.scan_overdue_s else self.qr_s
        elif state == ConnState.STARTING.value:
            delay = self.stuck_s if (in_state_s or 0.0) > self.starting_overdue_s else self.starting_s
        else:
            delay = self.unknown_s
        return min(delay, self.fast_s) if fast else delay

    def opens_fast_window(self, before: str | None, after: str | None, *, watched: bool) -> bool:
        """Whether the platform's state changing from ``before`` to ``after`` makes checks fast for
        ``fast_window_s``: any real change (not the first answer), except one into or out of pairing's states while
        no panel shows the number (a session starting, its QR codes running out, a phone unlinked: nobody is there
        to scan, so nothing more is coming soon)."""
        if before is None or after is None or before == after:
            return False
        return watched or not (self.pairing(before) or self.pairing(after))

    def retry(self, failures: int) -> float:
        """The pause after ``failures`` consecutive failed checks (no jitter): sooner than a stable number, bounded."""
        return min(self.retry_max_s, self.retry_first_s * 2 ** max(0, int(failures) - 1))


_PAIRING_STATES = frozenset({ConnState.QR_REQUIRED.value, ConnState.STARTING.value})

DEFAULT_POLICY = PollPolicy()

__all__ = ["DEFAULT_POLICY", "PollPolicy"]
