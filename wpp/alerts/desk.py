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

``run_once(now)`` is one pass (tests drive it with a :class:`wpp.clock.ManualClock`); ``start()`` reads the board
once and runs passes every ``config.interval_s`` in a daemon thread, ``stop()`` ends it and gives the lease up.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from .. import keys
from ..clock import SYSTEM_CLOCK
from ..errors import WppError
from ..i18n import N_, N_n, Text
from ..masking import scrub
from ..models import PLATFORM_INCIDENT, ActivityEntry, AlertRecord, ConnState, Incident, Integration, StatusRecord
from ..status import CANNOT_CHECK as SHOWN_CANNOT_CHECK
from ..status import DEFAULT_POLICY, KEY_REJECTED_KINDS, PollPolicy, default_holder, shown_state
from .channels import DeliveryFailed, EmailChannel, OutboxChannel, SmtpConfig, TelegramChannel, WebhookChannel
from ..store.alerts import alert_uid
from .proofwatch import close_unprovable, read_witnesses, witness_for
from .message import (CANNOT_CHECK, DOWN, KEY_REJECTED, LOGGED_OUT, NOT_DELIVERING, OFFLINE, RECOVERED, REMINDER,
                      UNDELIVERABLE, Item, Outage, Subject, compose_notice, compose_outage, compose_undeliverable)
from .recipients import EMAIL, EVERY_SCHOOL, OUTBOX, OUTBOX_KEY, TELEGRAM, WEBHOOK, AlertRecipients, Recipient
from .schedule import in_quiet_hours, parse_quiet_hours, parse_working_hours, working_seconds, zone

log = logging.getLogger("wpp.alerts")

#: the sender's lease in the store
ALERT_LEASE = "alert-sender"
#: who did it, in the diary
ACTOR = "WPP Console"
#: the demo's one recipient: the outbox
DEMO_OUTBOX = Recipient(OUTBOX, OUTBOX_KEY, None)
DAY = 86400.0
#: platform incidents' kinds: most of the fleet down at once, or the platform cannot be reached at all
PLATFORM_DOWN = "platform_down"
PLATFORM_UNREACHABLE = "platform_unreachable"
_CONNECTED = ConnState.CONNECTED.value
_QR = ConnState.QR_REQUIRED.value


@dataclass(frozen=True)
class AlertConfig:
    """What the desk needs from the settings (:meth:`from_settings`)."""

    recipients: AlertRecipients = field(default_factory=AlertRecipients)
    after_s: float = 600.0
    language: str = "ru"
    tz: dt.tzinfo = field(default_factory=lambda: zone("Europe/Moscow"))
    quiet: tuple[int, int] | None = None
    public_url: str | None = None
    smtp: SmtpConfig | None = None
    demo: bool = False
    interval_s: float = 30.0
    #: how long closed incidents and delivered alerts are kept (given-up alerts: as long as incidents)
    keep_incidents_s: float = 365 * DAY
    keep_alerts_s: float = 90 * DAY
    #: drops that start within this many seconds of each other go out as one message
    group_s: float = 120.0
    #: more than this percentage of the fleet down at once (at least 3 numbers): one platform incident
    platform_percent: int = 50
    #: a drop nobody acknowledged is reminded once after this many working seconds (0: never)
    remind_s: float = 4 * 3600.0
    #: the working day (minutes of the day), Monday to Friday
    working: tuple[int, int] = (9 * 60, 18 * 60)
    #: the Telegram bot (a Secret) and the Bot API's address
    telegram_token: Any = field(default=None, repr=False)
    telegram_api_url: str = "https://api.telegram.org"

    @classmethod
    def from_settings(cls, settings: Any) -> "AlertConfig":
        s = settings
        smtp = None
        if getattr(s, "smtp_host", None):
            smtp = SmtpConfig(host=s.smtp_host, port=int(s.smtp_port), user=s.smtp_user or None,
                              password=s.smtp_password, tls=s.smtp_tls, sender=s.smtp_sender or "")
        quiet = parse_quiet_hours(s.alert_quiet_hours) if getattr(s, "alert_quiet_hours", None) else None
        demo = bool(getattr(s, "demo", False))
        return cls(
            recipients=getattr(s, "alert_recipients", None) or AlertRecipients(),
            after_s=float(s.alert_after_s),
            language=s.alert_language,
            tz=zone(s.alert_timezone),
            quiet=quiet,
            public_url=getattr(s, "public_url", None),
            smtp=smtp,
            demo=demo,
            interval_s=10.0 if demo else 30.0,
            keep_incidents_s=float(getattr(s, "keep_incidents_days", 365)) * DAY,
            keep_alerts_s=float(getattr(s, "keep_alerts_days", 90)) * DAY,
            group_s=float(getattr(s, "alert_group_minutes", 2.0)) * 60.0,
            platform_percent=int(getattr(s, "alert_platform_percent", 50)),
            remind_s=float(getattr(s, "alert_remind_hours", 4.0)) * 3600.0,
            working=parse_working_hours(getattr(s, "alert_working_hours", None) or "09:00-18:00"),
            telegram_token=getattr(s, "telegram_bot_token", None),
            telegram_api_url=getattr(s, "telegram_api_url", None) or "https://api.telegram.org",
        )

    @property
    def enabled(self) -> bool:
        """Whether anyone is to be told: demo mode (the outbox), or at least one recipient."""
        return self.demo or bool(self.recipients)

    def recipients_for(self, org_id: str | None) -> list[Recipient]:
        if self.demo:
            return [DEMO_OUTBOX]
        return self.recipients.for_school(org_id)

    def recipient(self, key: str) -> Recipient | None:
        if self.demo:
            return DEMO_OUTBOX if key == OUTBOX_KEY else None
        return self.recipients.by_key().get(key)

    def everyone(self) -> list[Recipient]:
        """The "*" recipients (every school's people: the console's support); in the demo, the outbox."""
        if self.demo:
            return [DEMO_OUTBOX]
        return list(self.recipients.get(EVERY_SCHOOL, ()))

    def quiet_now(self, now: float) -> bool:
        return in_quiet_hours(now, self.quiet, self.tz)

    @property
    def secrets(self) -> list[str]:
        """What must never be written anywhere: the SMTP password, the webhooks' addresses, the bot token."""
        out = list(self.recipients.secrets)
        if self.smtp is not None and self.smtp.password:
            out.append(self.smtp.password.reveal())
        if self.telegram_token:
            out.append(self.telegram_token.reveal())
        return out


def problem_json(problem: Text, english: str) -> str:
    """How a failure is stored with its alert: the sentence as a translatable message (shown in the reader's
    language), with its English form (scrubbed) for other tools."""
    return json.dumps({**problem.to_json(), "english": english}, ensure_ascii=False)


def problem_text(stored: str | None) -> "Text | str":
    """A stored failure back as a sentence in the current language (plain text as it is)."""
    if not stored:
        return ""
    try:
        data = json.loads(stored)
    except ValueError:
        return stored
    if isinstance(data, dict) and data.get("msgid"):
        return Text.from_json(data)
    return stored


def _said(stored: str | None, lang: str) -> str:
    """A stored failure as a sentence in ``lang``."""
    found = problem_text(stored)
    return found.render(lang) if isinstance(found, Text) else str(found)


def incident_id(integration_id: str, started_at: float) -> str:
    return f"{integration_id}@{int(round(float(started_at) * 1000))}"


class AlertDesk:
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

    # --- queueing ---------------------------------------------------------------------------------------------
    def _held(self, inc: Incident, at: float) -> bool:
        """Is ``inc`` under a mute or maintenance window at ``at``? (A platform incident: only the platform's.)"""
        for m in self._mutes:
            if not m.holds(at):
                continue
            if inc.platform:
                if m.scope == "platform":
                    return True
            elif m.covers(inc.integration_id, inc.organization_id):
                return True
        return False

    def _platform_wide(self, down: list[Incident]) -> tuple[bool, bool]:
        """``(platform incident?, unreachable?)`` for the numbers down now: every number of the fleet cannot be
        checked (the platform cannot be reached), or more than ``platform_percent`` of the fleet (at least 3) is down
        at once."""
        down = [i for i in down if i.kind != NOT_DELIVERING]  # connected: never a sign of a platform outage
        n = len(down)
        fleet = max(self._fleet_size, n)
        if n == 0:
            return False, False
        unreachable = n == fleet and all(i.kind == CANNOT_CHECK for i in down)
        return unreachable or (n >= 3 and n * 100 > self.config.platform_percent * fleet), unreachable

    def _queue(self, now: float, stats: Counter) -> None:
        """What is due goes out, grouped: a platform incident to the "*" recipients; drops that started within
        ``group_s`` of each other as one message per recipient; recoveries likewise; one reminder when nobody said
        "I'm on it". Mutes and maintenance windows hold what they cover."""
        try:
            self._mutes = self.store.list_mutes(since=now - 2 * DAY)
        except WppError as err:
            log.warning("could not read the mutes and maintenance windows: %s", err.english)
        names = _LazyNames(self.store)
        incs = self.store.load_incidents(open_only=True)
        numbers = [i for i in incs if not i.platform]
        platforms = sorted((i for i in incs if i.platform), key=lambda i: i.started_at)
        platform = platforms[-1] if platforms else None
        for extra in platforms[:-1]:  # never more than one (two leaders in a handover): keep the newest
            self.store.save_incident(replace(extra, closed_at=now))
        down = [i for i in numbers if i.recovered_at is None]
        wide, unreachable = self._platform_wide(down)

        # 1. the platform incident: most of the fleet down at once, or the platform cannot be reached
        if platform is None and wide:
            cands = [i for i in down if i.notified_at is None and i.parent_id is None and i.kind != NOT_DELIVERING]
            if cands and now - min(i.started_at for i in cands) >= self.config.after_s:
                first = min(cands, key=lambda i: (i.started_at, i.id))
                platform = Incident(id="platform@" + first.id, integration_id=PLATFORM_INCIDENT, organization_id=None,
                                    kind=PLATFORM_UNREACHABLE if unreachable else PLATFORM_DOWN,
                                    started_at=min(i.started_at for i in cands), noticed_at=now)
                self.store.save_incident(platform)
                stats["platform"] += 1
        if platform is not None and platform.recovered_at is None:
            for n, i in enumerate(down):  # its numbers are told in its message, not one by one
                if i.notified_at is None and i.parent_id is None and i.kind != NOT_DELIVERING:
                    down[n] = replace(i, parent_id=platform.id)
                    self.store.save_incident(down[n])
            back = [float(i.recovered_at) for i in numbers if i.parent_id == platform.id and i.recovered_at is not None]
            if not wide and (not back or now - max(back) >= self.config.group_s):
                # the platform works again (and its numbers stopped coming back one by one): what is still down is
                # an ordinary drop of its school now
                platform = replace(platform, recovered_at=now)
                self.store.save_incident(platform)
                for n, i in enumerate(down):
                    if i.parent_id == platform.id:
                        down[n] = replace(i, parent_id=None)
                        self.store.save_incident(down[n])
        if platform is not None:
            self._queue_platform(platform, down, now, stats, names)
        open_platform = platform.id if platform is not None and platform.recovered_at is None else None

        # 2. drops of numbers: those that started within group_s of each other, one message per recipient
        cands = sorted((i for i in down if i.notified_at is None and i.parent_id is None and not self._held(i, now)),
                       key=lambda i: (i.started_at, i.id))
        while cands and now - cands[0].started_at >= self.config.after_s:
            first = cands[0]
            seen = first.noticed_at if first.noticed_at is not None else first.started_at
            if self._suspects and now - seen < self.config.group_s:
                # other numbers' last check failed: they may be dropping in the same outage (or the platform is
                # going away). Wait for them (Alertmanager's group_wait), at most group_s after this drop was seen,
                # so the message, or the platform incident, names them all
                stats["grouping"] += 1
                break
            group = [c for c in cands if c.started_at <= first.started_at + self.config.group_s]
            cands = cands[len(group):]
            notice = f"down:{first.id}"
            stats["queued"] += self.store.queue_alerts(self._notice(notice, DOWN, group, now, names))
            for c in group:
                self.store.save_incident(replace(c, notified_at=now, notice_id=notice))
            stats["notified"] += len(group)

        # 3. recoveries: told to whoever was told of the drop, together with the rest of that message's numbers
        ready = []
        for i in numbers:
            if i.recovered_at is None:
                continue
            if i.parent_id is not None and i.parent_id == open_platform:
                continue  # part of the platform incident still open: it is closed with it
            if i.notified_at is None or i.parent_id is not None:
                self.store.save_incident(replace(i, closed_at=now))  # nobody was told about it alone
                stats["closed"] += 1
            elif self._held(i, i.recovered_at):
                self.store.save_incident(replace(i, closed_at=now))  # back inside a mute: nothing to say
                stats["closed"] += 1
                stats["silenced"] += 1
            else:
                ready.append(i)
        if ready:
            first = min(ready, key=lambda i: (i.recovered_at, i.id))
            told_with = {i.notice_id for i in ready if i.notice_id}
            waiting = any(d.notice_id in told_with for d in down if d.notified_at is not None)
            if not waiting or now - float(first.recovered_at) >= self.config.group_s:
                stats["queued"] += self.store.queue_alerts(self._notice(f"up:{first.id}", RECOVERED, ready, now, names))
                for i in ready:
                    self.store.save_incident(replace(i, closed_at=now))
                stats["closed"] += len(ready)

        # 4. one reminder, when nobody said "I'm on it" after remind_s working hours
        if self.config.remind_s > 0:
            due = [i for i in down if i.notified_at is not None and i.parent_id is None and i.acked_at is None
                   and i.reminded_at is None and not self._held(i, now) and self._worked(i.notified_at, now)]
            if due:
                first = min(due, key=lambda i: (i.started_at, i.id))
                stats["queued"] += self.store.queue_alerts(
                    self._notice(f"remind:{first.id}", REMINDER, due, now, names))
                for i in due:
                    self.store.save_incident(replace(i, reminded_at=now))
                stats["reminded"] += len(due)

    def _worked(self, since: float, now: float) -> bool:
        return working_seconds(since, now, self.config.working, self.config.tz) >= self.config.remind_s

    def _queue_platform(self, platform: Incident, down: list[Incident], now: float, stats: Counter,
                        names: "_LazyNames") -> None:
        if platform.recovered_at is None:
            if platform.notified_at is None and not self._held(platform, now):
                out = self._outage_notice(platform, DOWN, down, now, names)
                stats["queued"] += self.store.queue_alerts(out)
                self.store.save_incident(replace(platform, notified_at=now, notice_id=platform.id))
                stats["notified"] += 1
            elif (self.config.remind_s > 0 and platform.notified_at is not None and platform.acked_at is None
                  and platform.reminded_at is None and not self._held(platform, now)
                  and self._worked(platform.notified_at, now)):
                stats["queued"] += self.store.queue_alerts(self._outage_notice(platform, REMINDER, down, now, names))
                self.store.save_incident(replace(platform, reminded_at=now))
                stats["reminded"] += 1
            return
        if platform.notified_at is not None and not self._held(platform, float(platform.recovered_at)):
            stats["queued"] += self.store.queue_alerts(self._outage_notice(platform, RECOVERED, down, now, names))
        self.store.save_incident(replace(platform, closed_at=now))
        stats["closed"] += 1

    def _notice(self, about_id: str, event: str, incidents: list[Incident], now: float,
                names: "_LazyNames") -> list[AlertRecord]:
        """One alert per recipient about ``incidents`` (each recipient hears about its schools' numbers only)."""
        by_key: dict[str, tuple[Recipient, list[Incident]]] = {}
        for inc in incidents:
            for r in self.config.recipients_for(inc.organization_id):
                by_key.setdefault(r.key, (r, []))[1].append(inc)
        out = []
        for r, its in by_key.values():
            lang = r.lang or self.config.language
            subjects = [names().subject(i.integration_id, i.organization_id) for i in its]
            items = [Item(about=sub, kind=i.kind, started_at=i.started_at, recovered_at=i.recovered_at,
                          acked_by=i.acked_by, acked_at=i.acked_at) for sub, i in zip(subjects, its)]
            c = compose_notice(event, items, lang=lang, tz=self.config.tz, now=now, public_url=self.config.public_url)
            schools = {sub.school_id or i.organization_id for sub, i in zip(subjects, its)}
            out.append(self._record(about_id, event, r, lang, c.subject, c.body, c.payload, now,
                                    integration_id=its[0].integration_id if len(its) == 1 else None,
                                    organization_id=schools.pop() if len(schools) == 1 else None))
        return out

    def _outage_notice(self, platform: Incident, event: str, down: list[Incident], now: float,
                       names: "_LazyNames") -> list[AlertRecord]:
        """The platform incident, one message per "*" recipient."""
        counts: dict[str, int] = {}
        for i in down:
            key = names().subject(i.integration_id, i.organization_id).school_id or ""
            counts[key] = counts.get(key, 0) + 1
        schools = sorted(((names().school_of(k), n) for k, n in counts.items()),
                         key=lambda kv: (-kv[1], str(kv[0]).casefold()))
        outage = Outage(started_at=platform.started_at, down=len(down), fleet=max(self._fleet_size, len(down)),
                        schools=schools if event != RECOVERED else [], unreachable=platform.kind == PLATFORM_UNREACHABLE,
                        recovered_at=platform.recovered_at, still_down=len(down) if event == RECOVERED else 0,
                        acked_by=platform.acked_by, acked_at=platform.acked_at)
        out = []
        for r in self.config.everyone():
            lang = r.lang or self.config.language
            c = compose_outage(event, outage, lang=lang, tz=self.config.tz, now=now, public_url=self.config.public_url)
            out.append(self._record(platform.id, event, r, lang, c.subject, c.body, c.payload, now,
                                    integration_id=None, organization_id=None))
        return out

    def _record(self, about_id: str, event: str, r: Recipient, lang: str, subject: str, body: str,
                payload: dict | None, now: float, *, integration_id: str | None,
                organization_id: str | None) -> AlertRecord:
        uid = alert_uid(about_id, event, r.key)
        if r.kind == WEBHOOK:
            payload = {"id": uid, **(payload or {"text": body})}
        else:
            payload = None
        return AlertRecord(incident_id=about_id, event=event, recipient=r.key, channel=r.kind, shown_to=r.shown,
                           lang=lang, subject=subject, body=body, created_at=now, next_try_at=now,
                           integration_id=integration_id, organization_id=organization_id, payload=payload, uid=uid)

    def _report_failures(self, now: float, stats: Counter) -> None:
        """Alerts given up since the last pass: told once to the "*" recipients (each is told about the others'
        failures, never about its own), then marked as reported."""
        failed = [a for a in self.store.list_alerts(status="failed", unreported=True, limit=200)]
        if not failed:
            return
        failed.sort(key=lambda a: (a.created_at, a.id or 0))
        tellable = [a for a in failed if a.event != UNDELIVERABLE]  # a failed report is not reported again
        if tellable:
            about = "undeliverable:" + (tellable[0].uid or str(tellable[0].id))
            names = _Names(self.store)
            out = []
            for r in self.config.everyone():
                mine = [a for a in tellable if a.recipient != r.key]
                if not mine:
                    continue
                lang = r.lang or self.config.language
                c = compose_undeliverable([(a, names.school_of(a.organization_id), _said(a.error, lang))
                                           for a in mine], lang=lang, tz=self.config.tz, now=now)
                orgs = {a.organization_id for a in mine}
                out.append(self._record(about, UNDELIVERABLE, r, lang, c.subject, c.body, c.payload, now,
                                        integration_id=mine[0].integration_id if len(mine) == 1 else None,
                                        organization_id=orgs.pop() if len(orgs) == 1 else None))
            stats["queued"] += self.store.queue_alerts(out)
        self.store.mark_alerts_reported([a.id for a in failed if a.id is not None], at=now)
        stats["reported"] += len(tellable)

    # --- sending ----------------------------------------------------------------------------------------------
    def _delay(self, attempts: int) -> float:
        return min(self.retry_max_s, self.retry_first_s * 2 ** max(0, attempts - 1))

    def _scrub(self, text: str | None) -> str:
        return scrub(text or "", self.config.secrets)

    def _executor(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="wpp-alert-send")
        return self._pool

    def _deliver(self, now: float, stats: Counter) -> None:
        """Claim and send what is due: each recipient's alerts in order, recipients in parallel; a recipient in its
        back-off waits, the others do not."""
        by_recipient: dict[str, list[AlertRecord]] = {}
        for alert in self.store.due_alerts(now=now, limit=self.batch):
            if alert.id in self._unrecorded:
                continue  # sent already; only its record is missing
            if self._backoff.get(alert.recipient, float("-inf")) > now:
                stats["held"] += 1
                continue
            by_recipient.setdefault(alert.recipient, []).append(alert)
        for key in [k for k, t in self._backoff.items() if t <= now]:
            self._backoff.pop(key, None)
        if not by_recipient:
            return
        budget_end = time.monotonic() + self.pass_budget_s
        if len(by_recipient) == 1:
            stats.update(self._send_all(next(iter(by_recipient.values())), budget_end))
            return
        futures = [self._executor().submit(self._send_all, alerts, budget_end) for alerts in by_recipient.values()]
        for f in futures:
            stats.update(f.result())

    def _send_all(self, alerts: list[AlertRecord], budget_end: float) -> Counter:
        """One recipient's due alerts, oldest first; stops at its first failure (the rest waits for its back-off),
        at the pass's time budget, when stopping, or when the lease is gone."""
        stats: Counter = Counter()
        try:
            for alert in alerts:
                if self._stop.is_set() or time.monotonic() >= budget_end:
                    stats["deferred"] += 1
                    break  # the next pass (or the next sender) goes on
                now = self._now()
                if not self._lead(now, need_s=self.claim_s + 1.0):
                    break  # another replica holds the lease now: it sends the rest
                claimed = self.store.claim_alert(alert.id, holder=self.holder, now=now, until=now + self.claim_s)
                if claimed is None:
                    stats["taken"] += 1  # another sender has it (or had it): not ours to send
                    continue
                if not self._try(claimed, stats):
                    break
        except WppError as err:
            log.warning("sending alerts stopped: %s", self._scrub(err.english))
        except Exception as err:  # noqa: BLE001 - one recipient's trouble never ends the pass
            log.error("sending alerts failed unexpectedly (%s)", type(err).__name__)
        return stats

    def _try(self, alert: AlertRecord, stats: Counter) -> bool:
        """Send one claimed alert and record what it gave; True when it went out."""
        recipient = self.config.recipient(alert.recipient)
        problem: Text | None = None
        retry_after: float | None = None
        permanent = False
        if recipient is None:
            problem, permanent = N_("this recipient is no longer in WPP_ALERT_RECIPIENTS"), True
        else:
            channel = self.channels.get(recipient.kind)
            if channel is None:
                problem = _MISSING_CHANNEL.get(recipient.kind, N_("no mail server is set up (WPP_SMTP_HOST)"))
            else:
                # the claim holds claim_s (store time); the send gives up a little before it ends (monotonic time)
                deadline = time.monotonic() + max(0.2, self.claim_s - min(5.0, 0.1 * self.claim_s))
                try:
                    channel.send(alert, recipient, deadline=deadline)
                except DeliveryFailed as err:
                    problem, retry_after, permanent = err.problem, err.retry_after, err.permanent
                except Exception as err:  # noqa: BLE001 - a broken channel fails this alert, nothing else
                    log.error("sending alert %s failed unexpectedly (%s)", alert.id, type(err).__name__)
                    problem = N_("an unexpected error")
        now = self._now()
        to: Text | str = recipient.shown if recipient is not None and recipient.kind != OUTBOX \
            else (N_("the demo outbox") if alert.channel == OUTBOX else alert.shown_to)
        if problem is None:
            stats["sent"] += 1
            log.info("alert %s (%s, %s) sent to %s", alert.id, alert.event, alert.uid, alert.shown_to)
            self._mark_sent(alert, now, to)
            return True
        stats["failed"] += 1
        english = self._scrub(problem.english)
        attempts = alert.attempts
        log.warning("alert %s (%s) to %s was not sent (try %d): %s", alert.id, alert.event, alert.shown_to,
                    attempts, english)
        if permanent or attempts >= self.max_attempts:
            self._finish(alert, status="failed", next_try_at=now, error=problem_json(problem, english))
            self._backoff[alert.recipient] = now + self._delay(attempts)
            self._diary(alert, "alert_failed", False, N_n(
                "An alert to {to} could not be sent after {n} try ({problem}); the console has stopped trying.",
                "An alert to {to} could not be sent after {n} tries ({problem}); the console has stopped trying.",
                attempts, to=to, problem=problem))
        else:
            wait = max(self._delay(attempts), retry_after or 0.0)
            self._finish(alert, status="retry", next_try_at=now + wait, error=problem_json(problem, english))
            self._backoff[alert.recipient] = now + wait
            if attempts == 1:
                self._diary(alert, "alert_failed", False, N_(
                    "An alert to {to} could not be sent ({problem}); the console tries again later.",
                    to=to, problem=problem))
        return False

    def _finish(self, alert: AlertRecord, *, status: str, next_try_at: float, error: str) -> None:
        """Record a failed try (while the claim is ours). When the store fails, the claim simply runs out and the
        alert is tried again then — the same as a retry."""
        try:
            self.store.finish_alert(alert.id, status=status, attempts=alert.attempts, next_try_at=next_try_at,
                                    error=error, holder=self.holder)
        except WppError as err:
            log.warning("could not record the failed try of alert %s: %s", alert.id, self._scrub(err.english))

    def _mark_sent(self, alert: AlertRecord, at: float, to: "Text | str") -> None:
        """Record "sent", with quick retries; if the store still fails, remember it (the alert is never sent again
        by this desk) and record it on the next passes."""
        for n in range(self.mark_tries):
            try:
                self.store.finish_alert(alert.id, status="sent", attempts=alert.attempts, next_try_at=at,
                                        sent_at=at, holder=self.holder)
            except WppError as err:
                log.warning("could not record that alert %s was sent (try %d): %s", alert.id, n + 1,
                            self._scrub(err.english))
                if n + 1 < self.mark_tries:
                    time.sleep(min(1.0, 0.1 * 3 ** n))
                continue
            self._sent_line(alert, to)
            return
        self._unrecorded[alert.id] = (alert, at)

    def _flush_unrecorded(self, stats: Counter) -> None:
        for alert_id, (alert, at) in list(self._unrecorded.items()):
            try:
                self.store.finish_alert(alert_id, status="sent", attempts=alert.attempts, next_try_at=at,
                                        sent_at=at, holder=self.holder)
            except WppError as err:
                log.warning("still cannot record that alert %s was sent: %s", alert_id, self._scrub(err.english))
                continue
            self._unrecorded.pop(alert_id, None)
            stats["recorded_late"] += 1
            recipient = self.config.recipient(alert.recipient)
            self._sent_line(alert, recipient.shown if recipient is not None and recipient.kind != OUTBOX
                            else alert.shown_to)

    def _sent_line(self, alert: AlertRecord, to: "Text | str") -> None:
        if alert.event == DOWN:
            line = N_("The alert that the number is not working was sent to {to}", to=to)
        elif alert.event == RECOVERED:
            line = N_("The alert that the number works again was sent to {to}", to=to)
        elif alert.event == REMINDER:
            line = N_("The reminder that nobody is on the problem yet was sent to {to}", to=to)
        else:
            line = N_("An alert was sent to {to}", to=to)
        self._diary(alert, "alert_sent", True, line)

    def _diary(self, alert: AlertRecord, action: str, ok: bool, message: Text) -> None:
        try:
            self.store.log_activity(ActivityEntry(
                action=action, outcome="ok" if ok else "error", actor=ACTOR, integration_id=alert.integration_id,
                organization_id=alert.organization_id, detail=self._scrub(message.english),
                message=message.to_json()))
        except WppError as err:
            log.warning("could not write the diary line for alert %s: %s", alert.id, err.english)


#: a recipient whose channel is not set up
_MISSING_CHANNEL = {
    EMAIL: N_("no mail server is set up (WPP_SMTP_HOST)"),
    TELEGRAM: N_("no Telegram bot is set up (WPP_TELEGRAM_BOT_TOKEN)"),
}


class _LazyNames:
    """``names()`` is the pass's :class:`_Names`, read from the store the first time it is needed."""

    def __init__(self, store):
        self.store = store
        self._names: _Names | None = None

    def __call__(self) -> "_Names":
        if self._names is None:
            self._names = _Names(self.store)
        return self._names


class _Names:
    """Schools' and numbers' names for one pass (read once, only when something is queued)."""

    def __init__(self, store):
        self.store = store
        try:
            self.orgs = {o.id: o.name for o in store.list_organizations()}
        except WppError as err:
            log.warning("could not read the schools' names for the alerts: %s", err.english)
            self.orgs = {}
        self.rows: dict[str, Integration] = {}
        try:
            self.rows = {r.id: r for r in store.list_integrations(include_inactive=True)}
        except WppError:
            pass
        try:
            self.board = store.load_statuses()
        except WppError:
            self.board = {}

    def school_of(self, org_id: str | None) -> "Text | str":
        base = str(org_id or "").split("__wpp__", 1)[0]
        if not base:
            return N_("several schools")
        name = self.orgs.get(base)
        return name if name else N_("Unnamed school \u2026{tail}", tail=base.replace("-", "")[-4:])

    def subject(self, integration_id: str, org_id: str | None) -> Subject:
        row = self.rows.get(integration_id)
        org = (row.organization_id if row is not None else org_id) or ""
        base = str(org).split("__wpp__", 1)[0]
        name = self.orgs.get(base)
        school: Text | str = name if name else N_("Unnamed school \u2026{tail}", tail=base.replace("-", "")[-4:])
        number: Text | str = (row.name if row is not None and row.name else N_("Unnamed number"))
        digits = (row.settings.get(keys.PHONE) if row is not None else None) or getattr(
            self.board.get(integration_id), "phone", None)
        phone = None
        if digits:
            try:
                from ..phone import describe_phone

                phone = describe_phone(str(digits))
            except WppError:
                phone = None
        return Subject(school_id=base, school_name=school, number_id=integration_id, number_name=number, phone=phone)


__all__ = ["ACTOR", "ALERT_LEASE", "AlertConfig", "AlertDesk", "DEMO_OUTBOX", "incident_id", "problem_json",
           "problem_text"]
