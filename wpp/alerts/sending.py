"""Sending: each alert claimed, sent through its recipient's channel, and what came of it recorded.

Part of :class:`wpp.alerts.desk.AlertDesk` (a mixin). Recipients are served in parallel, each in its own order; a
recipient whose send fails waits (its own growing delay, or what it asked for) while the others go on; an alert
claimed by one conditional update is sent by one desk only; "sent" is recorded with a few quick retries, else
remembered and recorded on the next passes; an alert that cannot be delivered is given up and written to the diary.
"""
from __future__ import annotations

import json
import logging
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from ..errors import WppError
from ..i18n import N_, N_n, Text
from ..masking import scrub
from ..models import ActivityEntry, AlertRecord
from .channels import DeliveryFailed
from .message import DOWN, RECOVERED, REMINDER
from .recipients import EMAIL, OUTBOX, TELEGRAM

log = logging.getLogger("wpp.alerts")

#: who did it, in the diary
ACTOR = "WPP Console"


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


class Sending:
    """The desk's sending (see the module docstring): claims, channels, back-off, the diary."""

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


__all__ = ["ACTOR", "Sending", "problem_json", "problem_text"]
