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

The engine never imports the service: the service hands it ``check(integration) -> CheckResult``.
"""
from __future__ import annotations

import logging
import os
import random
import socket
import threading
import uuid
from concurrent.futures import Future, ThreadPoolExecutor, wait as wait_futures
from dataclasses import replace
from typing import Callable, Iterable

from .. import glossary
from ..clock import SYSTEM_CLOCK
from ..errors import WppError
from ..i18n import N_
from ..models import ActivityEntry, ConnState, Integration, StatusChange, StatusRecord
from .board import Board, BoardEntry, version_of
from .policy import DEFAULT_POLICY, PollPolicy
from .record import CheckResult, Step, advance, is_stale, shown_state

log = logging.getLogger("wpp.status")

#: the name of the poller's lease in the store
POLLER_LEASE = "status-poller"

CheckFn = Callable[[Integration], CheckResult]

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


# shown states whose attention depends on how long they last (rebuilt on every read of the board)
_TIMED_STATES = frozenset({ConnState.QR_REQUIRED.value, ConnState.STARTING.value})


def default_holder() -> str:
    """host:pid:random — unique per engine, readable in the lease table."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _pollable(row: Integration) -> bool:
    return bool(row.is_active and row.api_key and row.session)


def _watched(rec: StatusRecord | None, now: float) -> bool:
    """Whether a pairing panel shows the number at ``now`` (its heartbeat, on the board, has not run out)."""
    return rec is not None and rec.watched_until is not None and rec.watched_until > now


class _Task:
    """A periodic job of :meth:`StatusEngine.every`."""

    __slots__ = ("name", "every_s", "fn", "leader_only", "last", "running")

    def __init__(self, name: str, every_s: float, fn: Callable[[], object], leader_only: bool):
        self.name, self.every_s, self.fn, self.leader_only = name, float(every_s), fn, leader_only
        self.last: float | None = None
        self.running = False


class StatusEngine:
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

    # === the poller ===========================================================================================
    @property
    def is_leader(self) -> bool:
        """Whether this process is the one that polls (holds an unexpired lease)."""
        with self._guard:
            return self._lease_until is not None and self.clock.time() < self._lease_until

    def _lead(self, now: float) -> bool:
        p = self.policy
        with self._guard:
            if self._stopped:
                return False
            if self._lease_until is not None and now < self._lease_until and now - self._lease_renewed < p.lease_renew_s:
                return True
            if self._lease_until is None and self._lease_tried is not None and now - self._lease_tried < p.lease_retry_s:
                return False
            self._lease_tried = now
            self._counts["lease_attempts"] += 1
        try:
            got = bool(self.store.try_lease(POLLER_LEASE, self.holder, ttl_s=p.lease_ttl_s, now=now))
            failed = False
        except WppError as err:
            log.warning("could not take or renew the poller lease: %s", err.english)
            got, failed = False, True
        with self._guard:
            if self._stopped:
                return False
            if got:
                if self._lease_until is None:
                    log.info("this process polls the statuses now (%s)", self.holder)
                    self._rows_dirty = True
                self._lease_until, self._lease_renewed = now + p.lease_ttl_s, now
                return True
            if failed and self._lease_until is not None and now < self._lease_until:
                return True  # the store did not answer: the lease we hold still runs
            if self._lease_until is not None:
                log.info("another process polls the statuses now")
            self._lease_until = self._lease_renewed = None
            return False

    def _active_rows(self, now: float) -> list[Integration]:
        with self._guard:
            fresh = (self._rows is not None and not self._rows_dirty
                     and now - self._rows_at < self.policy.list_every_s)
            if fresh:
                return self._rows  # type: ignore[return-value]
            self._rows_dirty = False
            self._rows_at = now
        try:
            rows = [r for r in self.store.list_integrations() if _pollable(r)]
        except WppError as err:
            log.warning("could not read the list of numbers: %s", err.english)
            with self._guard:
                return self._rows or []
        hooked: set[str] = set()
        if self.hooked is not None:
            for r in rows:
                try:
                    if self.hooked(r):
                        hooked.add(r.id)
                except Exception:  # noqa: BLE001 - a broken predicate means polling as usual
                    log.exception("could not tell whether the webhook of %s works", r.id)
        with self._guard:
            for iid, at in list(self._missed.items()):  # found broken here: until one of its events arrives
                rec = self._records.get(iid)
                if rec is not None and rec.last_event_at is not None and rec.last_event_at > at:
                    del self._missed[iid]
                else:
                    hooked.discard(iid)
            self._counts["list_reads"] += 1
            self._rows = rows
            self._hooked = hooked
            return rows

    def tick(self, now: float | None = None, *, wait: bool = True) -> int:
        """One pass: hold (or try to take) the lease and, when this process holds it, ask about every number that
        is due, at most ``concurrency`` at once. With ``wait`` (the tests) it returns when those checks are
        done; the background loop does not wait. Returns how many checks this pass started."""
        now = self.clock.time() if now is None else float(now)
        leading = self._lead(now)
        self._run_tasks(now, leading, wait)
        if not leading:
            with self._guard:
                self._next_due = None
            return 0
        rows = self._active_rows(now)
        self._refresh(now)
        self._judge_suspects(now)
        due: list[Integration] = []
        next_due: float | None = None
        with self._guard:
            if self._stopped:
                return 0
            for row in rows:
                iid = row.id
                if iid in self._inflight:
                    continue
                rec = self._records.get(iid)
                at = rec.next_check_at if rec is not None else None
                if iid in self._forced or at is None or at <= now:
                    due.append(row)
                    self._inflight.add(iid)
                    self._forced.discard(iid)
                elif next_due is None or at < next_due:
                    next_due = at
            known = {r.id for r in rows}
            self._forced &= known | self._inflight
            self._next_due = next_due
            pool = self._pool
            if due and pool is None:
                pool = self._pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="wpp-status-check")
        futures: list[Future] = []
        for row in due:
            try:
                fut = pool.submit(self._check_one, row, now)  # type: ignore[union-attr]
            except RuntimeError:  # the pool was shut down by stop()
                self._not_inflight(row.id)
                continue
            fut.add_done_callback(lambda f, iid=row.id: f.cancelled() and self._not_inflight(iid))
            futures.append(fut)
        if wait and futures:
            wait_futures(futures)
        return len(futures)

    # === periodic jobs ========================================================================================
    def every(self, name: str, every_s: float, fn: Callable[[], object], *, leader_only: bool = True) -> None:
        """Run ``fn()`` about every ``every_s`` seconds (the engine's clock) from this engine's loop, in a thread of
        its own (a job still running is not started again): only while this process holds the
        poller's lease (``leader_only``), or in every process. Its exceptions are logged, never raised."""
        if not every_s > 0:
            raise ValueError("every_s must be positive")
        with self._guard:
            self._tasks.append(_Task(name, every_s, fn, leader_only))

    def _run_tasks(self, now: float, leading: bool, wait: bool) -> None:
        due: list[_Task] = []
        with self._guard:
            if self._stopped:
                return
            for task in self._tasks:
                if task.running or (task.leader_only and not leading):
                    continue
                if task.last is not None and 0 <= now - task.last < task.every_s:
                    continue
                task.running, task.last = True, now
                due.append(task)
            if due and self._task_pool is None:  # a thread per job: a long webhook pass never delays pruning
                self._task_pool = ThreadPoolExecutor(max(1, len(self._tasks)), thread_name_prefix="wpp-status-task")
            pool = self._task_pool
        futures = []
        for task in due:
            try:
                futures.append(pool.submit(self._run_task, task))  # type: ignore[union-attr]
            except RuntimeError:  # shut down by stop()
                with self._guard:
                    task.running = False
        if wait and futures:
            wait_futures(futures)

    def _run_task(self, task: _Task) -> None:
        try:
            task.fn()
        except Exception:  # noqa: BLE001 - a job's failure is logged; it runs again next time
            log.exception("the background job %s failed", task.name)
        finally:
            with self._guard:
                task.running = False

    def _pushed(self, rec: StatusRecord | None, now: float, iid: str | None = None) -> bool:
        """Whether the platform pushes this number's status: its events arrive, or its webhook was accepted."""
        if iid is not None and iid in self._hooked:
            return True
        return rec is not None and self.policy.pushed(rec.last_event_at, now)

    def _not_inflight(self, iid: str) -> None:
        with self._guard:
            self._inflight.discard(iid)

    def _id_lock(self, iid: str) -> threading.Lock:
        with self._guard:
            lock = self._id_locks.get(iid)
            if lock is None:
                lock = self._id_locks[iid] = threading.Lock()
            return lock

    def _check_one(self, row: Integration, started: float) -> None:
        iid = row.id
        try:
            try:
                result = self.check(row)
                if not isinstance(result, CheckResult):
                    raise TypeError(f"check() returned {type(result).__name__}, not CheckResult")
            except WppError as err:
                result = CheckResult(error=err)
            except Exception:  # noqa: BLE001 - a broken check is a failed check, never a dead poller
                log.exception("status check of %s failed unexpectedly", iid)
                result = CheckResult(error=WppError())
            # what the platform said is what it knew when the request started
            result = replace(result, observed_at=started)
            at = max(started, self.clock.time())
            with self._guard:
                self._counts["checks_ok" if result.status is not None else "checks_failed"] += 1
                if result.status is not None:
                    self._last_ok_at = max(self._last_ok_at or at, at)
            with self._id_lock(iid):
                with self._guard:
                    prev = self._records.get(iid)
                    fast = self._fast_until.get(iid)
                    hold = self._hold_until.get(iid)
                    if hold is not None and hold <= at:
                        del self._hold_until[iid]
                        hold = None
                if is_stale(prev, result):  # a push (or another check) newer than this one landed meanwhile
                    self._dropped(iid, prev, result)
                    return
                # (a hold still running: the pairing panel reported while this check was under way, or "check now"
                # asked during the panel's quiet time; the next check still waits for its end)
                step = advance(prev, result, integration_id=iid, now=at, policy=self.policy, rand=self._rand,
                               fast_until=fast, not_before=hold, watched=_watched(prev, at),
                               pushed=self._pushed(prev, at, iid))
                _entry, saved = self._commit(step, at)
                if saved is False:  # another replica saved a newer observation: ours is dropped
                    self._dropped(iid, self._reload_one(iid), result)
                    return
            self._suspect(iid, prev, result, started)
        finally:
            with self._guard:
                self._inflight.discard(iid)
                self._counts["checks"] += 1

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

    def _suspect(self, iid: str, prev: StatusRecord | None, result: CheckResult, started: float) -> None:
        """A poll found the platform's state changed on a number whose status is pushed: unless the push comes
        within ``push_grace_s``, its webhook is broken (:meth:`_judge_suspects`)."""
        if (result.status is None or prev is None or prev.state is None
                or prev.state == result.status.state.value):
            return
        with self._guard:
            if iid in self._hooked and iid not in self._suspects:
                self._suspects[iid] = started

    def _judge_suspects(self, now: float) -> None:
        grace = self.policy.push_grace_s
        missed: list[str] = []
        with self._guard:
            for iid, since in list(self._suspects.items()):
                rec = self._records.get(iid)
                if rec is not None and rec.last_event_at is not None and rec.last_event_at >= since - grace:
                    del self._suspects[iid]  # the push came after all
                elif now - since >= grace:
                    del self._suspects[iid]
                    if iid in self._hooked:
                        missed.append(iid)
            for iid in missed:
                self._hooked.discard(iid)  # polled as usual from now on
                self._missed[iid] = now
                self._forced.add(iid)
                self._counts["missed_push"] += 1
                self._rows_dirty = True
        if not missed:
            return
        log.warning("status changes of %d number(s) were found by polling but never pushed: their webhooks are "
                    "registered again and they are polled as usual meanwhile", len(missed))
        if self.on_missed_push is not None:
            try:
                self.on_missed_push(missed)
            except Exception:  # noqa: BLE001
                log.exception("could not mark the missed webhooks")
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

    def pushed(self, integration_id: str) -> bool:
        """Whether the platform pushes this number's events now (the poller then only makes sanity checks)."""
        now = self.clock.time()
        self._refresh(now)
        with self._guard:
            return self._pushed(self._records.get(integration_id), now)

    def pairing_heartbeat(self, integration_id: str, *, allowed: Callable[[], bool] | None = None) -> bool:
        """A pairing panel shows this number (called on each of the panel's runs, in whichever process it runs).

        The number's board entry is watched until ``policy.watch_s`` from now, in the store: while it starts or
        waits for a scan, the poller asks about it at the pairing interval (:meth:`PollPolicy.interval`). When the
        watch begins on a number asked slowly, its next check is brought forward to now (or to the end of this
        process's pairing hold, or the pairing interval after its last check, whichever is later). Written at most
        every ``policy.watch_beat_s`` per number by this process. ``allowed()`` (asked only when a write is due, so
        a panel re-running every 2 s costs no read in between): whether the caller may make the number polled fast.
        Returns whether it wrote; store errors are logged, never raised. A number without a board entry yet (never
        checked) is asked at once anyway."""
        iid = integration_id
        p = self.policy
        now = self.clock.time()
        with self._guard:
            last = self._beats.get(iid)
            if last is not None and 0 <= now - last < p.watch_beat_s:
                return False
            self._beats[iid] = now  # also after a failed write: a broken store is not asked every run
        if allowed is not None and not allowed():
            with self._guard:
                self._beats.pop(iid, None)  # someone who may not never holds the slot of someone who may
            return False
        try:
            self._refresh(now)
        except WppError:
            pass  # logged; the heartbeat is written all the same
        until = now + p.watch_s
        with self._id_lock(iid):
            with self._guard:
                check_by = self._check_by(self._records.get(iid), now)
            try:
                marked = bool(self.store.watch_status(iid, until=until, check_by=check_by))
            except WppError as err:
                log.warning("could not note that a pairing panel shows %s: %s", iid, err.english)
                return False
            with self._guard:
                self._counts["heartbeats"] += 1
                if not marked:  # no board entry yet: beat again on the panel's next run (it reports first)
                    self._beats.pop(iid, None)
                rec = self._records.get(iid)
                if marked and rec is not None:
                    nxt = rec.next_check_at
                    if check_by is not None and nxt is not None and nxt > check_by:
                        nxt = check_by
                    self._records[iid] = replace(rec, watched_until=max(until, rec.watched_until or until),
                                                 next_check_at=nxt)
                    self._seq += 1
                    self._written[iid] = self._seq  # newer than a board read under way
        if marked and check_by is not None:
            self._wake.set()
        return marked

    def _check_by(self, rec: StatusRecord | None, now: float) -> float | None:
        """When a watch beginning now wants the next check of ``rec``, if sooner than planned (else None)."""
        p = self.policy
        if rec is None or _watched(rec, now) or not p.pairing(rec.state) or rec.next_check_at is None:
            return None
        since = rec.since if rec.since is not None else now
        target = max(now, (rec.checked_at if rec.checked_at is not None else now)
                     + p.interval(rec.state, now - since, watched=True))
        hold = self._hold_until.get(rec.integration_id)
        if hold is not None and hold > target:
            target = hold
        return target if rec.next_check_at > target else None

    def watched(self, integration_id: str) -> bool:
        """Whether a pairing panel shows this number now, in any process (as of this process's board copy)."""
        now = self.clock.time()
        self._refresh(now)
        with self._guard:
            return _watched(self._records.get(integration_id), now)

    def check_now(self, ids: Iterable[str] | None = None) -> int:
        """Ask about these numbers (all pollable numbers when None) on the poller's next pass, whichever process
        polls: their ``next_check_at`` becomes now in the store, and this process's loop wakes. Returns how many
        numbers were marked."""
        now = self.clock.time()
        if ids is None:
            wanted = [r.id for r in self.store.list_integrations() if _pollable(r)]
        else:
            wanted = list(dict.fromkeys(ids))
        with self._guard:
            self._rows_dirty = True
        if self.is_leader:
            with self._guard:
                self._forced.update(wanted)
        else:  # the poller is elsewhere (or not elected yet): tell it through the store
            self._refresh(now)
            for iid in wanted:
                with self._id_lock(iid):
                    with self._guard:
                        rec = self._records.get(iid)
                    if rec is None or (rec.next_check_at is not None and rec.next_check_at <= now):
                        continue  # never checked, or already due: the poller asks anyway
                    # only the next check is brought forward (one atomic update): never a copy of the entry written
                    # back over a newer state
                    if self.store.watch_status(iid, until=0.0, check_by=now):
                        with self._guard:
                            cur = self._records.get(iid)
                            if cur is not None:
                                self._records[iid] = replace(cur, next_check_at=min(now, cur.next_check_at or now))
                                self._seq += 1
                                self._written[iid] = self._seq
        self._wake.set()
        return len(wanted)

    def forget(self, integration_id: str) -> None:
        """Drop a number from this process's poll list at once (e.g. after it was removed from the list)."""
        with self._guard:
            self._rows_dirty = True
            self._forced.discard(integration_id)

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


__all__ = ["POLLER_LEASE", "CheckFn", "StatusEngine", "default_holder"]
