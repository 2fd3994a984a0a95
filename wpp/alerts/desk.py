"""The alert desk: tells people, once, when a number drops and when it is back, whoever looks at the console.

* **From the shared board.** Every pass reads what the status engine wrote (the board and each number's history);
  no page is involved. A number *drops* when it stops being connected after having been connected (offline,
  unlinked — waiting for a new QR scan —, cannot be checked, or its key refused): that drop is an
  :class:`~wpp.models.Incident`, kept in the store, with an id made of the number and the moment it stopped being
  connected, so every replica names it the same.
* **Once per incident and recipient.** When an incident has lasted ``after_s`` it is *notified*: one alert per
  recipient is queued (the store keeps one per incident, event and recipient, whoever queues it twice); when the
  number is connected again, one more ("recovered"). A drop that ends before the threshold sends nothing.
* **One sender.** A pass runs only in the process holding the store's lease ``"alert-sender"`` (renewed on every
  pass, and between deliveries during a long one); the others wait. A restart or a second replica reads what was
  sent from the store: nothing is sent twice.
* **Connected but not delivering** (proof of delivery, ``wpp.service.proof``): a number the board shows connected
  whose delivery checks fail (``store.delivery_states()``, read by :meth:`AlertDesk._delivery`) is an incident of
  its own kind, ``not_delivering``, from when its checks began to fail; it is back when a check is delivered; when the
  number drops, the drop takes over (the not-delivering incident closes without a message).
* **Quiet hours.** Nothing is sent during them; what is still true at their end is sent then (an incident that
  starts and ends inside them sends nothing).
* **Failures break nothing.** A mail server that refuses or does not answer, a webhook answering 500: logged
  (masked), written to the diary, tried again on later passes with a growing delay, given up after
  ``max_attempts``. A pass never raises.
* **Demo mode.** Every alert goes to the outbox kept in the store (the Alerts page), after one minute by default.

``run_once(now)`` is one pass (tests drive it with a :class:`wpp.clock.ManualClock`); ``start()`` runs passes every
``config.interval_s`` in a daemon thread, ``stop()`` ends it and gives the lease up.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any

from .. import keys
from ..clock import SYSTEM_CLOCK
from ..errors import WppError
from ..i18n import N_, N_n, Text
from ..masking import scrub
from ..models import ActivityEntry, AlertRecord, ConnState, Incident, Integration, StatusRecord
from ..status import CANNOT_CHECK as SHOWN_CANNOT_CHECK
from ..status import DEFAULT_POLICY, KEY_REJECTED_KINDS, PollPolicy, default_holder, shown_state
from .channels import DeliveryFailed, EmailChannel, OutboxChannel, SmtpConfig, WebhookChannel
from .message import CANNOT_CHECK, DOWN, KEY_REJECTED, LOGGED_OUT, NOT_DELIVERING, OFFLINE, RECOVERED, Subject, compose
from .recipients import EMAIL, OUTBOX, OUTBOX_KEY, WEBHOOK, AlertRecipients, Recipient
from .schedule import in_quiet_hours, parse_quiet_hours, zone

log = logging.getLogger("wpp.alerts")

#: the sender's lease in the store
ALERT_LEASE = "alert-sender"
#: who did it, in the diary
ACTOR = "WPP Console"
#: the demo's one recipient: the outbox
DEMO_OUTBOX = Recipient(OUTBOX, OUTBOX_KEY, None)
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

    def quiet_now(self, now: float) -> bool:
        return in_quiet_hours(now, self.quiet, self.tz)

    @property
    def secrets(self) -> list[str]:
        """What must never be written anywhere: the SMTP password and the webhooks' addresses."""
        out = list(self.recipients.secrets)
        if self.smtp is not None and self.smtp.password:
            out.append(self.smtp.password.reveal())
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


def incident_id(integration_id: str, started_at: float) -> str:
    return f"{integration_id}@{int(round(float(started_at) * 1000))}"


class AlertDesk:
    """See the module docstring. One per process (the service owns it); thread-safe."""

    def __init__(self, store, config: AlertConfig, *, clock=SYSTEM_CLOCK, policy: PollPolicy | None = None,
                 holder: str | None = None, channels: dict | None = None, lease_ttl_s: float = 120.0,
                 lease_renew_s: float = 30.0, max_attempts: int = 10, retry_first_s: float = 60.0,
                 retry_max_s: float = 3600.0, batch: int = 100):
        self.store = store
        self.config = config
        self.clock = clock
        self.policy = policy or DEFAULT_POLICY
        self.holder = holder or default_holder()
        if channels is None:
            channels = {WEBHOOK: WebhookChannel(), OUTBOX: OutboxChannel()}
            if config.smtp is not None:
                channels[EMAIL] = EmailChannel(config.smtp)
        self.channels = channels
        self.lease_ttl_s = float(lease_ttl_s)
        self.lease_renew_s = float(lease_renew_s)
        self.max_attempts = max(1, int(max_attempts))
        self.retry_first_s = float(retry_first_s)
        self.retry_max_s = float(retry_max_s)
        self.batch = int(batch)
        self._pass_lock = threading.Lock()
        self._lease_until: float | None = None
        self._renewed: float | None = None
        self._episodes: dict[tuple, tuple[str, float] | None] = {}
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def __repr__(self) -> str:
        return (f"AlertDesk(holder={self.holder!r}, recipients={self.config.recipients!r}, "
                f"demo={self.config.demo}, leader={self._lease_until is not None})")

    # === life cycle =========================================================================================
    def start(self) -> "AlertDesk":
        """Passes every ``config.interval_s`` in a daemon thread. Idempotent."""
        if self._thread is not None and self._thread.is_alive():
            return self
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="wpp-alert-desk", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """End the loop and give the lease up (another replica takes over at once). Idempotent."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        with self._pass_lock:
            held, self._lease_until, self._renewed = self._lease_until is not None, None, None
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
        is due. Returns counters (opened, notified, recovered, closed, queued, sent, failed, leader). Never raises."""
        stats: Counter = Counter()
        now = self.clock.time() if now is None else float(now)
        with self._pass_lock:
            try:
                if not self._lead(now):
                    return stats
                stats["leader"] = 1
                self._track(now, stats)
                if self.config.quiet_now(now):
                    stats["quiet"] = 1
                    return stats
                self._queue(now, stats)
                self._deliver(now, stats)
            except WppError as err:
                log.warning("the alert pass stopped: %s", self._scrub(err.english))
            except Exception as err:  # noqa: BLE001 - a pass never raises into its caller or kills the loop
                log.error("the alert pass failed unexpectedly (%s)", type(err).__name__)
        return stats

    # --- the lease -------------------------------------------------------------------------------------------
    def _lead(self, now: float) -> bool:
        if (self._lease_until is not None and now < self._lease_until and self._renewed is not None
                and 0 <= now - self._renewed < self.lease_renew_s):
            return True
        try:
            got = bool(self.store.try_lease(ALERT_LEASE, self.holder, ttl_s=self.lease_ttl_s, now=now))
        except WppError as err:
            log.warning("could not take or renew the alert lease: %s", err.english)
            return self._lease_until is not None and now < self._lease_until - self.lease_renew_s
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

    def _episode(self, rec: StatusRecord, shown: str, *, linked_before: bool = False) -> tuple[str, float] | None:
        """``(kind, when it stopped being connected)`` for a number that is not connected, or None when it was not
        connected before (a new number waiting for its first scan is no drop). Read from its history, once per
        change of its board entry. ``linked_before``: a phone was linked to it once (its number is known), so a number
        the console first saw already down (it was down when the console started) is a drop too, from then on."""
        kind = self._kind(rec, shown)
        memo = (rec.integration_id, rec.since, shown, linked_before)
        if memo in self._episodes:
            found = self._episodes[memo]
            return (kind, found[1]) if found is not None else None
        started: float | None = None
        for ch in self.store.status_history(rec.integration_id, limit=50):
            if ch.previous == _CONNECTED:
                started = ch.at
                break
            if ch.state == _CONNECTED:
                break
            if ch.previous is None:
                if linked_before:
                    started = ch.at  # first seen down, and it had a phone: down since at least then
                break
        if len(self._episodes) > 20_000:
            self._episodes.clear()
        self._episodes[memo] = None if started is None else (kind, started)
        return None if started is None else (kind, started)

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
        rows = {r.id: r for r in self.store.list_integrations(include_inactive=True)}
        open_ = self.store.load_incidents(open_only=True)
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
            failing = proof.not_delivering_since(rec.since) if proof is not None else None
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
            kind, started = episode
            if inc is not None and started > inc.started_at + 0.001:
                # connected again in between (the history says so): that drop is over, this is a new one
                self._recover(inc, started, now, stats)
                inc = None
            if inc is None:
                inc = Incident(id=incident_id(iid, started), integration_id=iid, organization_id=row.organization_id,
                               kind=kind, started_at=started)
                self.store.save_incident(inc)
                current[iid] = inc
                stats["opened"] += 1
            elif inc.kind != kind:
                self.store.save_incident(replace(inc, kind=kind))
        # numbers removed from the list (or gone, or off the board) while down: nothing more to say about them
        for inc in open_:
            row = rows.get(inc.integration_id)
            if row is None or not row.is_active or inc.integration_id not in board:
                self.store.save_incident(replace(inc, closed_at=now))
                stats["closed"] += 1

    def _recover(self, inc: Incident, at: float, now: float, stats: Counter) -> None:
        if inc.notified_at is None:  # nobody was told: nothing to tell now either
            self.store.save_incident(replace(inc, recovered_at=at, closed_at=now))
            stats["closed"] += 1
        else:
            self.store.save_incident(replace(inc, recovered_at=at))
            stats["recovered"] += 1

    # --- queueing ---------------------------------------------------------------------------------------------
    def _queue(self, now: float, stats: Counter) -> None:
        names: _Names | None = None
        for inc in self.store.load_incidents(open_only=True):
            if inc.recovered_at is None:
                if inc.notified_at is not None or now - inc.started_at < self.config.after_s:
                    continue
                names = names or _Names(self.store)
                stats["queued"] += self.store.queue_alerts(self._alerts(inc, DOWN, now, names))
                self.store.save_incident(replace(inc, notified_at=now))
                stats["notified"] += 1
            else:
                if inc.notified_at is not None:
                    names = names or _Names(self.store)
                    stats["queued"] += self.store.queue_alerts(self._alerts(inc, RECOVERED, now, names))
                self.store.save_incident(replace(inc, closed_at=now))
                stats["closed"] += 1

    def _alerts(self, inc: Incident, event: str, now: float, names: "_Names") -> list[AlertRecord]:
        about = names.subject(inc.integration_id, inc.organization_id)
        out = []
        for r in self.config.recipients_for(inc.organization_id):
            lang = r.lang or self.config.language
            c = compose(about, event=event, kind=inc.kind, started_at=inc.started_at, recovered_at=inc.recovered_at,
                        lang=lang, tz=self.config.tz, now=now, public_url=self.config.public_url)
            out.append(AlertRecord(
                incident_id=inc.id, event=event, recipient=r.key, channel=r.kind, shown_to=r.shown, lang=lang,
                subject=c.subject, body=c.body, created_at=now, next_try_at=now,
                integration_id=inc.integration_id, organization_id=about.school_id or inc.organization_id,
                payload=c.payload if r.kind == WEBHOOK else None,
            ))
        return out

    # --- sending ----------------------------------------------------------------------------------------------
    def _delay(self, attempts: int) -> float:
        return min(self.retry_max_s, self.retry_first_s * 2 ** max(0, attempts - 1))

    def _scrub(self, text: str | None) -> str:
        return scrub(text or "", self.config.secrets)

    def _deliver(self, now: float, stats: Counter) -> None:
        for alert in self.store.due_alerts(now=now, limit=self.batch):
            if self._stop.is_set():
                break  # stopping: the rest waits for the next sender
            if not self._lead(max(now, self.clock.time())):
                break  # another replica holds the lease now: it sends the rest
            recipient = self.config.recipient(alert.recipient)
            problem: Text | None = None
            if recipient is None:
                problem = N_("this recipient is no longer in WPP_ALERT_RECIPIENTS")
            else:
                channel = self.channels.get(recipient.kind)
                if channel is None:
                    problem = N_("no mail server is set up (WPP_SMTP_HOST)")
                else:
                    try:
                        channel.send(alert, recipient)
                    except DeliveryFailed as err:
                        problem = err.problem
                    except Exception as err:  # noqa: BLE001 - a broken channel fails this alert, nothing else
                        log.error("sending alert %s failed unexpectedly (%s)", alert.id, type(err).__name__)
                        problem = N_("an unexpected error")
            attempts = alert.attempts + 1
            to: Text | str = recipient.shown if recipient is not None and recipient.kind != OUTBOX \
                else (N_("the demo outbox") if alert.channel == OUTBOX else alert.shown_to)
            if problem is None:
                self.store.finish_alert(alert.id, status="sent", attempts=attempts, next_try_at=now, sent_at=now)
                stats["sent"] += 1
                log.info("alert %s (%s) sent to %s", alert.id, alert.event, alert.shown_to)
                if alert.event == DOWN:
                    line = N_("The alert that the number is not working was sent to {to}", to=to)
                else:
                    line = N_("The alert that the number works again was sent to {to}", to=to)
                self._diary(alert, "alert_sent", True, line)
                continue
            stats["failed"] += 1
            english = self._scrub(problem.english)
            log.warning("alert %s (%s) to %s was not sent (try %d): %s", alert.id, alert.event, alert.shown_to,
                        attempts, english)
            if attempts >= self.max_attempts or recipient is None:
                self.store.finish_alert(alert.id, status="failed", attempts=attempts, next_try_at=now,
                                        error=problem_json(problem, english))
                self._diary(alert, "alert_failed", False, N_n(
                    "An alert to {to} could not be sent after {n} try ({problem}); the console has stopped trying.",
                    "An alert to {to} could not be sent after {n} tries ({problem}); the console has stopped trying.",
                    attempts, to=to, problem=problem))
            else:
                self.store.finish_alert(alert.id, status="retry", attempts=attempts,
                                        next_try_at=now + self._delay(attempts),
                                        error=problem_json(problem, english))
                if attempts == 1:
                    self._diary(alert, "alert_failed", False, N_(
                        "An alert to {to} could not be sent ({problem}); the console tries again later.",
                        to=to, problem=problem))

    def _diary(self, alert: AlertRecord, action: str, ok: bool, message: Text) -> None:
        try:
            self.store.log_activity(ActivityEntry(
                action=action, outcome="ok" if ok else "error", actor=ACTOR, integration_id=alert.integration_id,
                organization_id=alert.organization_id, detail=self._scrub(message.english),
                message=message.to_json()))
        except WppError as err:
            log.warning("could not write the diary line for alert %s: %s", alert.id, err.english)


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
