"""The poller: when to ask the platform about which number, and by whom.

Part of :class:`wpp.status.engine.StatusEngine` (a mixin: it uses the engine's store, policy, locks and board copy).
One process polls (the store's lease ``"status-poller"``); every pass asks about each number whose
``next_check_at`` has come, at most ``concurrency`` at once; periodic jobs (:meth:`every`) run beside it; a pairing
panel's heartbeat makes a number watched (asked fast); "check now" brings a check forward, in whichever process
polls; a number whose webhook works is only sanity-checked, and a change such a check finds that no push announced
marks its webhook broken. What an answer does to the board is :mod:`wpp.status.observations`.
"""
from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor, wait as wait_futures
from dataclasses import replace
from typing import Callable, Iterable

from ..errors import WppError
from ..models import Integration, StatusRecord
from .record import CheckResult, advance, is_stale

log = logging.getLogger("wpp.status")

#: the name of the poller's lease in the store
POLLER_LEASE = "status-poller"


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


class Polling:
    """The engine's poller (see the module docstring)."""

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


__all__ = ["POLLER_LEASE", "Polling"]
