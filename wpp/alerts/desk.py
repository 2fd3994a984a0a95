"""The alert desk: tells people, once, when a number drops and when it is back, whoever looks at the console.

* **From the shared board.** Every pass reads what the status engine wrote (the board and each number's history);
  no page is involved. A number *drops* when it stops being connected after having been connected (offline,
  unlinked — waiting for a new QR scan —, cannot be checked, or its key refused): that drop is an
  :class:`~wpp.models.Incident`, kept in the store, with an id made of the number and the moment the engine recorded
  the drop, so every replica names it the same. Its start is when the number was **last seen well** — the last
  time the board showed it connected (kept by every desk while it reads the board, and read once when the desk
  starts, before a restarted engine overwrites the board) — not when the console noticed.
* **Once per incident and recipient.** When an incident has lasted ``after_s`` it is *notified*: one alert per
  recipient is queued (the store keeps one per incident, event and recipient, whoever queues it twice); when the
  number is connected again, one more ("recovered"). A drop that ends before the threshold sends nothing.
* **Claimed before it is sent.** Each alert is claimed by ONE conditional update in the store (status ``sending``,
  the claimer, and a deadline ``claim_s`` shorter than the ``alert-sender`` lease — Healthchecks' ``UPDATE … WHERE
  … processed IS NULL``): a second replica never sends an alert another one is sending. A send that outlives its
  deadline is given up by its sender (the channel cuts the connection), so only then may it be tried again.
  "Sent" is recorded with a few quick retries; if the store still fails, the desk remembers it and records it on
  its next passes — it never sends it again.
* **At least once, with a stable id.** A server that took an alert but whose answer was lost gets it again: every
  try carries the alert's stable id (:attr:`~wpp.models.AlertRecord.uid`: the e-mail's Message-ID, the webhook's
  ``id`` and ``Idempotency-Key``) so the receiver can drop the duplicate.
* **One slow recipient delays nobody else.** Recipients are served in parallel (a few worker threads), each in
  its own order; a recipient whose send fails waits (its own growing delay, or what it asked for: Telegram's
  ``retry_after``) while the others go on; a pass stops claiming after ``pass_budget_s``.
* **Never silently none.** An alert that still cannot be delivered after ``max_attempts`` (or that can never be:
  a refused address) is given up, written to the diary, shown in red on the Alerts and Settings pages, and told
  once to the "*" recipients (all but the one that failed).
* **One sender.** A pass runs only in the process holding the store's lease ``"alert-sender"`` (renewed on every
  pass, and between deliveries during a long one); the others wait. A restart or a second replica reads what was
  sent from the store: nothing is sent twice.
* **Connected but not delivering** (proof of delivery, ``wpp.service.proof``): a number the board shows connected
  whose delivery checks fail (``store.delivery_states()``, read by :meth:`AlertDesk._delivery`) is an incident of
  its own kind, ``not_delivering``, from when its checks began to fail; it is back when a check is delivered; when the
  number drops, the drop takes over (the not-delivering incident closes without a message); when no witness applies
  any more, it closes without a message too, with a line in the diary (``wpp.alerts.proofwatch``).
* **Quiet hours.** Nothing is sent during them; what is still true at their end is sent then (an incident that
  starts and ends inside them sends nothing).
* **Kept in bounds.** The lease holder deletes, in small batches, closed incidents after ``keep_incidents_s``
  (365 days) and delivered alerts after ``keep_alerts_s`` (90 days; given-up ones with the incidents).
* **Demo mode.** Every alert goes to the outbox kept in the store (the Alerts page), after one minute by default.

The desk is one class in four rooms: this file (the life cycle, one pass, the lease), :mod:`.incidents`
(following the board: incidents opened, recovered, closed, pruned), :mod:`.queueing` (grouping, the platform
incident, mutes and maintenance, reminders) and :mod:`.sending` (claims, channels, back-off, the diary);
:mod:`.config` is what it needs from the settings. Whoever uses the desk imports its names from here.

``run_once(now)`` is one pass (tests drive it with a :class:`wpp.clock.ManualClock`); ``start()`` reads the board
once and runs passes every ``config.interval_s`` in a daemon thread, ``stop()`` ends it and gives the lease up.
"""
from __future__ import annotations

import logging
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from ..clock import SYSTEM_CLOCK
from ..errors import WppError
from ..models import AlertRecord
from ..status import DEFAULT_POLICY, PollPolicy, default_holder
from .channels import EmailChannel, OutboxChannel, TelegramChannel, WebhookChannel
from .config import DEMO_OUTBOX, AlertConfig
from .incidents import IncidentTracking, incident_id
from .queueing import PLATFORM_DOWN, PLATFORM_UNREACHABLE, Queueing
from .recipients import EMAIL, OUTBOX, TELEGRAM, WEBHOOK
from .sending import ACTOR, Sending, problem_json, problem_text

log = logging.getLogger("wpp.alerts")

#: the sender's lease in the store
ALERT_LEASE = "alert-sender"


class AlertDesk(IncidentTracking, Queueing, Sending):
    """See the module docstring. One per process (the service owns it); thread-safe."""

    def __init__(self, store, config: AlertConfig, *, clock=SYSTEM_CLOCK, policy: PollPolicy | None = None,
                 holder: str | None = None, channels: dict | None = None, lease_ttl_s: float = 120.0,
                 lease_renew_s: float = 30.0, claim_s: float = 90.0, max_attempts: int = 10,
                 retry_first_s: float = 60.0, retry_max_s: float = 3600.0, batch: int = 100,
                 pass_budget_s: float = 20.0, workers: int = 4, mark_tries: int = 3,
                 prune_every_s: float = 3600.0, prune_batch: int = 500, prune_batches: int = 4):
        self.store = store
        self.config = config
        self.clock = clock
        self.policy = policy or DEFAULT_POLICY
        self.holder = holder or default_holder()
        if channels is None:
            channels = {WEBHOOK: WebhookChannel(), OUTBOX: OutboxChannel()}
            if config.smtp is not None:
                channels[EMAIL] = EmailChannel(config.smtp)
            if config.telegram_token:
                channels[TELEGRAM] = TelegramChannel(config.telegram_token, api_url=config.telegram_api_url)
        self.channels = channels
        self.lease_ttl_s = float(lease_ttl_s)
        self.lease_renew_s = float(lease_renew_s)
        # a claim always ends well before the lease: the sender gives up before anyone else could take over
        self.claim_s = max(0.5, min(float(claim_s), 0.75 * self.lease_ttl_s))
        self.max_attempts = max(1, int(max_attempts))
        self.retry_first_s = float(retry_first_s)
        self.retry_max_s = float(retry_max_s)
        self.batch = int(batch)
        self.pass_budget_s = float(pass_budget_s)
        self.workers = max(1, int(workers))
        self.mark_tries = max(1, int(mark_tries))
        self.prune_every_s = float(prune_every_s)
        self.prune_batch = max(1, int(prune_batch))
        self.prune_batches = max(1, int(prune_batches))
        self._pass_lock = threading.Lock()
        self._lease_lock = threading.Lock()
        self._lease_until: float | None = None
        self._renewed: float | None = None
        self._episodes: dict[tuple, tuple[str, float, float | None] | None] = {}
        #: number id -> the last time the board showed it connected (what "last seen well" means)
        self._seen_ok: dict[str, float] = {}
        #: recipient key -> not before (its own growing delay, or what it asked for)
        self._backoff: dict[str, float] = {}
        #: alerts sent whose "sent" could not be recorded yet: id -> (attempts, sent at); never sent again
        self._unrecorded: dict[int, tuple[AlertRecord, float]] = {}
        self._pruned_at: float | None = None
        self._offset = 0.0
        #: mutes and maintenance windows (read once per pass) and how many numbers should be connected now
        self._mutes: list = []
        self._fleet_size = 0
        self._suspects: set[str] = set()
        self._pool: ThreadPoolExecutor | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def __repr__(self) -> str:
        return (f"AlertDesk(holder={self.holder!r}, recipients={self.config.recipients!r}, "
                f"demo={self.config.demo}, leader={self._lease_until is not None})")

    # === life cycle =========================================================================================
    def start(self) -> "AlertDesk":
        """Read the board once (what was last seen well, before a restarted engine overwrites it), then passes every
        ``config.interval_s`` in a daemon thread. Idempotent."""
        if self._thread is not None and self._thread.is_alive():
            return self
        self.prime()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="wpp-alert-desk", daemon=True)
        self._thread.start()
        return self

    def prime(self) -> None:
        """Remember when each number was last seen connected, from the board as it is now. Never raises."""
        try:
            self._note_seen(self.store.load_statuses())
        except WppError as err:
            log.warning("could not read the status board for the alerts: %s", err.english)
        except Exception as err:  # noqa: BLE001 - a desk that cannot prime still works (a later start)
            log.error("reading the status board for the alerts failed unexpectedly (%s)", type(err).__name__)

    def stop(self, timeout: float = 5.0) -> None:
        """End the loop and give the lease up (another replica takes over at once). Idempotent."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        with self._pass_lock:
            with self._lease_lock:
                held, self._lease_until, self._renewed = self._lease_until is not None, None, None
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False)
        if held:
            try:
                self.store.release_lease(ALERT_LEASE, self.holder)
            except WppError as err:
                log.warning("could not give up the alert lease: %s", err.english)

    close = stop

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.run_once()
            self._stop.wait(self.config.interval_s)

    # === one pass ===========================================================================================
    def run_once(self, now: float | None = None) -> Counter:
        """One pass at ``now`` (the clock's time when None): hold the lease, follow the board, queue and send what
        is due. Returns counters (opened, notified, recovered, closed, queued, sent, failed, held, leader, …).
        Never raises."""
        stats: Counter = Counter()
        now = self.clock.time() if now is None else float(now)
        with self._pass_lock:
            self._offset = now - self.clock.time()  # a pass "at now" stays at now's pace while it lasts
            try:
                if not self._lead(now):
                    return stats
                stats["leader"] = 1
                self._flush_unrecorded(stats)
                self._track(now, stats)
                self._prune(now, stats)
                if self.config.quiet_now(now):
                    stats["quiet"] = 1
                    return stats
                self._queue(now, stats)
                self._report_failures(now, stats)
                self._deliver(now, stats)
            except WppError as err:
                log.warning("the alert pass stopped: %s", self._scrub(err.english))
            except Exception as err:  # noqa: BLE001 - a pass never raises into its caller or kills the loop
                log.error("the alert pass failed unexpectedly (%s)", type(err).__name__)
        return stats

    def _now(self) -> float:
        """The pass's time now (the clock, moved by what ``run_once(now)`` was given)."""
        return self.clock.time() + self._offset

    # --- the lease -------------------------------------------------------------------------------------------
    def _lead(self, now: float, *, need_s: float = 0.0) -> bool:
        """Hold the lease at ``now``, with at least ``need_s`` of it left (renewed when less is left)."""
        with self._lease_lock:
            if (self._lease_until is not None and now < self._lease_until - need_s and self._renewed is not None
                    and 0 <= now - self._renewed < self.lease_renew_s):
                return True
            try:
                got = bool(self.store.try_lease(ALERT_LEASE, self.holder, ttl_s=self.lease_ttl_s, now=now))
            except WppError as err:
                log.warning("could not take or renew the alert lease: %s", err.english)
                return self._lease_until is not None and now < self._lease_until - max(need_s, self.lease_renew_s)
            if got:
                if self._lease_until is None:
                    log.info("this process sends the alerts now (%s)", self.holder)
                self._lease_until, self._renewed = now + self.lease_ttl_s, now
            else:
                self._lease_until = self._renewed = None
            return got


__all__ = ["ACTOR", "ALERT_LEASE", "AlertConfig", "AlertDesk", "DEMO_OUTBOX", "PLATFORM_DOWN", "PLATFORM_UNREACHABLE",
           "incident_id", "problem_json", "problem_text"]
