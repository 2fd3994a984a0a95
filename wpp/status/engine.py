"""The status engine: one poller per deployment, a shared board every viewer reads, history and "check now".

* **One poller.** Every pass, the engine holds or tries to take the store's lease ``"status-poller"``; only its
  holder asks the platform. :meth:`StatusEngine.stop` gives the lease up, so another process (replica) takes over
  within ``policy.lease_retry_s``; a crashed holder's lease runs out after ``policy.lease_ttl_s``. With SQLite the
  mechanism is the same: one process polls.
* **Adaptive.** Each number is asked again when its ``next_check_at`` (stored on the board) has come:
  2 s while starting or waiting for a scan *and* someone has its QR code on screen, else 60 s; 60 s connected,
  30 s offline, fast again for a while after a change, failed checks sooner but bounded (all said by
  :class:`PollPolicy`), all jittered; at most ``concurrency`` at once.
* **Watched numbers.** A pairing panel sends :meth:`StatusEngine.pairing_heartbeat` on each run: the number's
  board entry is *watched* until ``policy.watch_s`` later (``watched_until``, in the store, so the poller sees it
  whichever replica the panel runs in), written at most every ``policy.watch_beat_s`` per number and process. When
  a watch begins on a number asked slowly, its next check is brought forward to now (like "check now"). A closed
  tab stops beating, and the watch runs out by itself.
* **Shared board.** Viewers read :meth:`StatusEngine.board`: the store is read at most once per
  ``policy.board_ttl_s`` per process however many viewers ask (concurrent callers share one read), and a viewer
  never causes a platform call. What this process writes shows at once.
* **Check now** (:meth:`check_now`) works across processes: it sets ``next_check_at`` to now in the store; the
  poller sees it on its next pass. **The pairing panel** reports what it learned (:meth:`record`): the board shows
  it at once and the poller leaves that number alone for ``policy.pairing_hold_s`` after each report.
* **Pushed status.** The platform's events arriving at the console's webhook (``wpp.status.webhooks``) go through
  :meth:`record_event`: a state is recorded as if the poller had seen it (board, history, diary), and the number's
  ``last_event_at`` is noted in the store. While its events arrive, the poller only makes a sanity check of it every
  ``policy.sanity_s`` (:meth:`PollPolicy.pushed`), in whichever replica polls.
* **The newest state wins.** Every observation carries when it was made (a poll: when its request started; a push:
  the platform's ``created``): the store keeps a board entry only when it is not older than the stored one
  (``save_status`` is a compare-and-set, in every replica), and so does this process's copy. A poll answer that
  lands after a newer push is dropped and, when it disagrees, the number is asked again at once; a pushed event
  older than the number's newest state is kept in the history as *late* and never applied.
* **Push instead of polling.** A number whose webhook the platform accepted (``hooked(row)``, the service's say) is
  asked only every ``policy.sanity_s`` even when it has nothing to say; that sanity check is the test of the
  webhook: a change it finds that no push announced within ``policy.push_grace_s`` marks the number's webhook as
  broken (``on_missed_push(ids)``: normal polling, registered again). A change the platform pushed opens no fast
  window.
* **Background tasks** (:meth:`every`): other periodic work of the deployment (e.g. registering webhooks, pruning
  old records) runs in the loop of the process holding the poller's lease (or of every process), each job in a
  thread of its own, never in a viewer's page run.
The engine is one class in three rooms: this file (the life cycle and the board viewers read),
:mod:`wpp.status.polling` (when to ask what: the lease, the passes, periodic jobs, watched and pushed numbers, "check
now") and :mod:`wpp.status.observations` (what a report does to the board: the newest wins, history, the diary).

The engine never imports the service: the service hands it ``check(integration) -> CheckResult``.
"""
from __future__ import annotations

import logging
import os
import random
import socket
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterable

from ..clock import SYSTEM_CLOCK
from ..errors import WppError
from ..models import ConnState, Integration, StatusChange, StatusRecord
from .board import Board, BoardEntry, version_of
from .observations import PLATFORM_ACTOR, Observations, diary_line
from .policy import DEFAULT_POLICY, PollPolicy
from .polling import POLLER_LEASE, Polling, _Task, _watched
from .record import CheckResult

log = logging.getLogger("wpp.status")

CheckFn = Callable[[Integration], CheckResult]

# shown states whose attention depends on how long they last (rebuilt on every read of the board)
_TIMED_STATES = frozenset({ConnState.QR_REQUIRED.value, ConnState.STARTING.value})


def default_holder() -> str:
    """host:pid:random — unique per engine, readable in the lease table."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class StatusEngine(Polling, Observations):
    """See the module's docstring. Thread-safe; one per process (the service owns it)."""

    def __init__(
        self,
        store,
        check: CheckFn,
        *,
        clock=SYSTEM_CLOCK,
        policy: PollPolicy | None = None,
        holder: str | None = None,
        concurrency: int = 16,
        rng: random.Random | None = None,
        hooked: Callable[[Integration], bool] | None = None,
        on_missed_push: Callable[[list[str]], object] | None = None,
    ):
        self.store = store
        self.check = check
        self.clock = clock
        self.policy = policy or DEFAULT_POLICY
        self.holder = holder or default_holder()
        self.concurrency = max(1, int(concurrency))
        self._rand = (rng or random.Random()).random
        self.hooked = hooked
        self.on_missed_push = on_missed_push
        self._guard = threading.RLock()
        self._read_lock = threading.Lock()  # one store read of the board at a time; waiting callers share it
        # the board (this process's copy of the store's status table)
        self._records: dict[str, StatusRecord] = {}
        self._entries: dict[str, BoardEntry] = {}
        self._loaded_at: float | None = None
        self._seq = 0
        self._written: dict[str, int] = {}  # id -> seq of this process's last write, newer than the last read
        self._version: str | None = None
        # the poller
        self._rows: list[Integration] | None = None
        self._rows_at = 0.0
        self._rows_dirty = True
        self._hooked: set[str] = set()  # numbers whose webhook the platform accepted (sanity checks only)
        self._suspects: dict[str, float] = {}  # a poll found a change no push announced (yet): id -> when
        self._missed: dict[str, float] = {}  # webhooks found broken by this process: id -> when
        self._forced: set[str] = set()
        self._inflight: set[str] = set()
        self._fast_until: dict[str, float] = {}
        self._hold_until: dict[str, float] = {}  # the pairing panel's quiet time, per number (this process)
        self._beats: dict[str, float] = {}  # when this process last wrote a panel's heartbeat, per number
        self._id_locks: dict[str, threading.Lock] = {}
        self._lease_until: float | None = None
        self._lease_renewed: float | None = None
        self._lease_tried: float | None = None
        self._next_due: float | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._stopped = False
        # periodic jobs (every()) and the thread they run in
        self._tasks: list[_Task] = []
        self._task_pool: ThreadPoolExecutor | None = None
        # counters (tests, benches, the Settings page, /_wpp/metrics)
        self._counts = {"checks": 0, "recorded": 0, "board_reads": 0, "list_reads": 0, "lease_attempts": 0,
                        "heartbeats": 0, "pushed": 0, "checks_ok": 0, "checks_failed": 0, "stale": 0, "late": 0,
                        "missed_push": 0}
        self._last_ok_at: float | None = None  # this process's last good answer from the platform
        self._started_at: float | None = None

    def __repr__(self) -> str:
        return (f"StatusEngine(holder={self.holder!r}, leader={self.is_leader}, "
                f"numbers={len(self._records)}, concurrency={self.concurrency})")

    # === life cycle ===========================================================================================
    def start(self) -> "StatusEngine":
        """Start the background poller (a daemon thread). Idempotent."""
        with self._guard:
            if self._thread is not None and self._thread.is_alive():
                return self
            self._stop.clear()
            self._stopped = False
            self._started_at = self.clock.time()
            self._thread = threading.Thread(target=self._run, name="wpp-status-poller", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop polling promptly: the loop ends, checks not yet begun are dropped, the lease is given up (so
        another process takes over at once). Idempotent; :meth:`start` may be called again."""
        with self._guard:
            self._stopped = True
            thread, self._thread = self._thread, None
            pool, self._pool = self._pool, None
            task_pool, self._task_pool = self._task_pool, None
            was_leader = self._lease_until is not None
            self._lease_until = self._lease_renewed = self._lease_tried = None
        self._stop.set()
        self._wake.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
        if task_pool is not None:
            task_pool.shutdown(wait=False, cancel_futures=True)
        if was_leader:
            try:
                self.store.release_lease(POLLER_LEASE, self.holder)
            except WppError as err:
                log.warning("could not give up the poller lease: %s", err.english)

    close = stop

    def __enter__(self) -> "StatusEngine":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick(wait=False)
            except Exception:  # noqa: BLE001 - the loop must survive anything; the next pass retries
                log.exception("status pass failed")
            pause = self.policy.tick_s
            with self._guard:
                nxt = self._next_due
            if nxt is not None:
                pause = min(pause, max(0.02, nxt - self.clock.time()))
            self._wake.wait(pause)
            self._wake.clear()

    @property
    def running(self) -> bool:
        """Whether the background loop runs (between :meth:`start` and :meth:`stop`)."""
        with self._guard:
            return self._thread is not None and self._thread.is_alive()

    # === the board ===========================================================================================
    def _refresh(self, now: float) -> None:
        """Re-read the store's board when this process's copy is older than ``board_ttl_s``. Concurrent callers
        wait for one read and share it."""
        ttl = self.policy.board_ttl_s
        with self._guard:
            if self._loaded_at is not None and 0 <= now - self._loaded_at < ttl:
                return
        with self._read_lock:
            with self._guard:
                if self._loaded_at is not None and 0 <= now - self._loaded_at < ttl:
                    return  # read by the caller we waited for
                seq0 = self._seq
            try:
                fresh = self.store.load_statuses()
            except WppError as err:
                with self._guard:
                    first = self._loaded_at is None
                    self._loaded_at = now  # shown as it was; tried again after the ttl
                log.warning("could not read the status board: %s", err.english)
                if first:
                    raise
                return
            with self._guard:
                self._counts["board_reads"] += 1
                changed: set[str] = set()
                for iid, rec in fresh.items():
                    if self._written.get(iid, 0) > seq0:
                        continue  # this process wrote it after the read began: ours is newer
                    old = self._records.get(iid)
                    if old != rec:
                        self._records[iid] = rec
                        self._note_foreign_change(old, rec, now)
                        changed.add(iid)
                for iid in [i for i in self._records if i not in fresh and self._written.get(i, 0) <= seq0]:
                    del self._records[iid]
                    self._entries.pop(iid, None)
                    changed.add(iid)
                self._written = {i: s for i, s in self._written.items() if s > seq0}
                self._loaded_at = now
                self._rebuild(now, changed)

    def _note_foreign_change(self, old: StatusRecord | None, new: StatusRecord, now: float) -> None:
        """Another process saw the platform's state change (the pairing panel there): be fast here too (when the
        policy says such a change deserves it) -- unless the platform pushed it (its event was noted no earlier than
        the state was observed): it pushes the next change too."""
        by_push = (new.last_event_at is not None and new.observed_at is not None
                   and new.last_event_at >= new.observed_at)
        if old is not None and new.ok_at is not None and not by_push \
                and self.policy.opens_fast_window(old.state, new.state, watched=_watched(new, now)):
            self._fast_until[new.integration_id] = new.ok_at + self.policy.fast_window_s

    def _rebuild(self, now: float, changed: set[str]) -> None:
        """Rebuild the entries whose record changed, and those whose attention depends on the time (waiting for a
        scan or starting, not overdue yet). The version is a hash of what is shown: unchanged when nothing is."""
        timed = {iid for iid, e in self._entries.items()
                 if e.attention is None and e.state in _TIMED_STATES}
        todo = [iid for iid in changed | timed if iid in self._records]
        todo += [iid for iid in self._records if iid not in self._entries and iid not in changed]
        rebuilt = False
        for iid in todo:
            entry = BoardEntry.build(self._records[iid], now=now, policy=self.policy)
            old = self._entries.get(iid)
            if old is None or old.signature != entry.signature:
                rebuilt = True
            self._entries[iid] = entry
        if rebuilt or changed:
            self._version = None

    def board(self, ids: Iterable[str] | None = None) -> Board:
        """The shown status of these numbers (all on the board when None); numbers never checked are absent.
        Never asks the platform."""
        now = self.clock.time()
        self._refresh(now)
        with self._guard:
            if ids is None:
                if self._version is None:
                    self._version = version_of(self._entries.items())
                return Board(self._entries, self._version, self._loaded_at or now)
            picked = {i: self._entries[i] for i in dict.fromkeys(ids) if i in self._entries}
        return Board(picked, version_of(picked.items()), self._loaded_at or now)

    def record_of(self, integration_id: str) -> StatusRecord | None:
        """One number's status record as stored (this process's copy of the board: ``ok_at``, the last good answer)."""
        self._refresh(self.clock.time())
        with self._guard:
            return self._records.get(integration_id)

    def entry(self, integration_id: str) -> BoardEntry | None:
        """One number's shown status (None before its first check)."""
        return self.board([integration_id]).get(integration_id)

    @property
    def version(self) -> str:
        """The whole board's version: changes only when something a viewer shows changed."""
        self._refresh(self.clock.time())
        with self._guard:
            if self._version is None:
                self._version = version_of(self._entries.items())
            return self._version

    def attention_count(self, ids: Iterable[str] | None = None) -> int:
        """How many of these numbers (all when None) need attention (for the sidebar)."""
        return self.board(ids).attention_count()

    def history(self, integration_id: str, limit: int = 50) -> list[StatusChange]:
        """The number's changes of shown state, newest first (each with the state before it)."""
        return self.store.status_history(integration_id, limit=limit)

    def stats(self) -> dict:
        """Counters: checks made (and how many got an answer / failed), reports recorded, store reads of the board
        and of the list, lease attempts, heartbeats written, events pushed, answers dropped as stale, late events,
        webhooks found broken."""
        with self._guard:
            return dict(self._counts, leader=self._lease_until is not None, inflight=len(self._inflight),
                        hooked=len(self._hooked))

    @property
    def last_ok_at(self) -> float | None:
        """When this process last got an answer from the platform about a number (None: never)."""
        with self._guard:
            return self._last_ok_at

    @property
    def started_at(self) -> float | None:
        """When :meth:`start` last started the loop (the engine's clock)."""
        with self._guard:
            return self._started_at

    def peek_version(self) -> str:
        """The board's version as this process knows it now, without reading the store (cheap: for a tick that
        runs often; :attr:`version` refreshes first)."""
        with self._guard:
            if self._version is None:
                self._version = version_of(self._entries.items())
            return self._version

    def records(self) -> dict[str, StatusRecord]:
        """This process's copy of the board's records (refreshed when older than ``board_ttl_s``)."""
        self._refresh(self.clock.time())
        with self._guard:
            return dict(self._records)


__all__ = ["POLLER_LEASE", "PLATFORM_ACTOR", "CheckFn", "StatusEngine", "default_holder", "diary_line"]
