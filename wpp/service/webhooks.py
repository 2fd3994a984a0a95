"""Status pushed by the platform: registering each number's webhook, following the test messages, and what the
Settings page shows about it.

Webhooks are on when the console has an address the platform can reach (``WPP_PUBLIC_URL``; in demo mode the
console's own loopback address, for the embedded simulator): :meth:`WebhooksMixin.configure_webhooks`, called once
by ``build_service``. Each number then gets its own webhook, ``{address}/_wpp/hook/<secret>``: a fresh random secret
of 256 bits on every registration, whose SHA-256 alone is kept in the number's settings (``keys.WEBHOOK_HASH``; the
one being registered under ``keys.WEBHOOK_PENDING``, accepted too meanwhile), written with the atomic
``store.merge_settings``. Registration runs in the background (it never delays creating a number or starting its
pairing): after a number is created or finished, when its pairing starts, and in a pass of the status poller's
leaseholder (:meth:`WebhooksMixin.webhook_pass`) for numbers without one, registered with another address, or
registered more than an hour ago (one cheap call each: a platform that restarted and forgot its registrations gets
them back). A failure is written to the diary once (and once more when it works again), and retried later with a
growing pause.

A registration the platform accepted puts the number on the sanity interval (:meth:`WebhooksMixin.webhook_works`,
the status engine's ``hooked``), even when it has nothing to say. The sanity check is the test: a change a poll finds
that no push announced marks the number's webhook broken (``keys.WEBHOOK_BROKEN``; :meth:`webhooks_missed`): it is
polled as usual and registered again, until one of its events arrives.

Without an address nothing is registered and every number is polled as before; pages say that the delivery of a
test message cannot be followed then.
"""
from __future__ import annotations

import datetime as dt
import logging
import secrets as _secrets
import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor, wait as wait_futures
from dataclasses import dataclass, field

from .. import keys
from ..errors import WppError
from ..i18n import N_, Text, _, format_duration
from ..models import DeliveryRecord, Integration
from .core import from_epoch

log = logging.getLogger("wpp.service")

#: who acted, in the diary, for what the console does by itself
CONSOLE_ACTOR = "WPP Console"
#: a registration within this many seconds (with the same address) is not repeated (create, then pairing at once)
REGISTER_AGAIN_AFTER_S = 30.0
#: the pause after a failed registration: this, doubled after each further failure, up to RETRY_MAX_S
RETRY_FIRST_S = 60.0
RETRY_MAX_S = 3600.0
#: numbers registered per background pass at most
PASS_LIMIT = 50
#: the background pass runs this often (the poller's leaseholder only)
PASS_EVERY_S = 30.0
#: every webhook is registered again about this often (give or take a tenth, so they spread over the hour)
REREGISTER_EVERY_S = 3600.0
#: a registration in progress holds this lease (one per number across replicas) at most this long
LEASE_TTL_S = 60.0
#: a test message is followed on the page for this long after it was sent
FOLLOW_FOR_S = 600.0
#: a new secret is stored this long (real seconds) before the platform is told it: every replica's inbox reads the
#: list of secrets again on a miss, but never within WebhookInbox.miss_reload_s (0.5 s) of its last read's end, so the
#: first push to the new address, wherever it lands, finds it (as long as a read of the numbers takes under 0.5 s)
SETTLE_S = 1.0

_STEP_WORDS = {
    "accepted": N_("Accepted by the platform"),
    "sent": N_("Sent from the phone"),
    "delivered": N_("Delivered to the phone"),
    "read": N_("Read"),
}
_STEP_TICKS = {"accepted": "🕓", "sent": "✓", "delivered": "✓✓", "read": "✓✓ 👁", "failed": "❌"}
_REFUSAL_WORDS = {
    "unknown": N_("unknown address"),
    "too_big": N_("too big"),
    "malformed": N_("not readable"),
    "mismatch": N_("another account"),
    "duplicate": N_("repeated"),
    "error": N_("could not be handled"),
}


@dataclass(frozen=True)
class DeliveryView:
    """A test message and how far it got, in words."""

    message_id: str
    to: str
    sent_at: dt.datetime | None
    status: str  # accepted | sent | delivered | read | failed
    words: str
    ticks: str
    changed_at: dt.datetime | None
    done: bool  # read or failed: nothing more will come
    failed: bool


@dataclass(frozen=True)
class WebhookLine:
    """One number on the Settings page: is its webhook registered, do events arrive, what was refused."""

    label: str
    registered: str
    registered_at: dt.datetime | None
    arriving: str
    last_event: dt.datetime | None
    accepted: int
    refused: int
    refused_detail: str


@dataclass(frozen=True)
class WebhookOverview:
    """The Settings page's view of pushed status: on or off (and why), every number, and all pushes together."""

    on: bool
    summary: str
    lines: list[WebhookLine] = field(default_factory=list)
    accepted: int = 0
    refused: int = 0
    refused_detail: str = ""
    last_event: dt.datetime | None = None
    #: True: the figures are every push the console received (an administrator of every school); False: only the
    #: pushes about the numbers in ``lines`` (an administrator of some schools)
    every_number: bool = True


class _HookState:
    """What the process-wide service and every browser session's view of it share (for_session copies are
    shallow: they all point at this one object)."""

    def __init__(self, owner, base: str | None, reason: Text | None):
        self.owner = owner
        self.base = base
        self.reason = reason
        self.lock = threading.Lock()
        self.pool: ThreadPoolExecutor | None = None
        self.futures: set[Future] = set()
        self.failures: dict[str, tuple[int, float]] = {}  # id -> (failures in a row, next try at)
        self.closed = False


def _refused_words(counts: dict) -> str:
    parts = [f"{_REFUSAL_WORDS[k]} {counts[k][0]}" for k in _REFUSAL_WORDS if counts.get(k, (0, None))[0]]
    return " · ".join(str(p) for p in parts)


class WebhooksMixin:
    """Mixed into :class:`wpp.service.WppService` (see the module docstring)."""

    inbox = None  # wpp.status.webhooks.WebhookInbox, set by configure_webhooks
    _hooks: _HookState | None = None

    # --- set-up -------------------------------------------------------------------------------------------
    def configure_webhooks(self, base: str | None, *, inbox, reason: Text | None = None) -> None:
        """Called once on the process-wide service: ``base`` is the console's address as the platform reaches it
        (None: webhooks off, ``reason`` says why); ``inbox`` receives the pushes (``wppui.routes``)."""
        self.inbox = inbox
        self._hooks = _HookState(self, base.rstrip("/") if base else None, reason)

    @property
    def webhooks_on(self) -> bool:
        """Whether the platform is asked to push each number's status to the console."""
        return bool(self._hooks is not None and self._hooks.base and self.inbox is not None)

    def webhooks_off_reason(self) -> str:
        """Why status is not pushed (in words), or "" when it is."""
        if self.webhooks_on:
            return ""
        reason = self._hooks.reason if self._hooks is not None else None
        return str(reason or N_("Status is not pushed: WPP_PUBLIC_URL (the console's address as the platform reaches "
                                "it) is not set. Every number is checked by polling."))

    def close_webhooks(self) -> None:
        st = self._hooks
        if st is None:
            return
        with st.lock:
            st.closed = True
            pool, st.pool = st.pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    # --- registering ----------------------------------------------------------------------------------------
    def _register_soon(self, integration_id: str, *, force: bool = False) -> None:
        """Register (or rotate) the number's webhook in the background; never waits, never raises."""
        st = self._hooks
        if not self.webhooks_on or st is None:
            return
        with st.lock:
            if st.closed:
                return
            if st.pool is None:
                st.pool = ThreadPoolExecutor(2, thread_name_prefix="wpp-webhook")
            try:
                fut = st.pool.submit(st.owner._register_guarded, integration_id, force)
            except RuntimeError:
                return
            st.futures.add(fut)
        fut.add_done_callback(lambda f: self._forget_future(f))

    def _forget_future(self, fut: Future) -> None:
        st = self._hooks
        if st is not None:
            with st.lock:
                st.futures.discard(fut)

    def wait_webhooks(self, timeout: float = 10.0) -> None:
        """Wait for the registrations under way (tests, scripts)."""
        st = self._hooks
        if st is None:
            return
        with st.lock:
            pending = list(st.futures)
        if pending:
            wait_futures(pending, timeout=timeout)

    def _register_guarded(self, integration_id: str, force: bool = False) -> bool:
        try:
            return self._register_hook(integration_id, force=force)
        except Exception:  # noqa: BLE001 - a background registration never breaks anything; the pass retries
            log.exception("registering the webhook of %s failed unexpectedly", integration_id)
            return False

    def _register_hook(self, integration_id: str, *, force: bool = False) -> bool:
        """Register the number's webhook with a fresh secret now (the console acts; no role is checked: callers
        did). True when the platform took it, or it was taken a moment ago with the same address."""
        st = self._hooks
        if not self.webhooks_on or st is None:
            return False
        from ..status.webhooks import hook_url, secret_hash

        row = self.store.get(integration_id)
        if not (row.is_active and row.api_key and row.session):
            return False
        now = self.clock.time()
        at_ms = row.settings.get(keys.WEBHOOK_AT)
        if (not force and row.settings.get(keys.WEBHOOK_HASH) and row.settings.get(keys.WEBHOOK_BASE) == st.base
                and isinstance(at_ms, (int, float)) and 0 <= now - at_ms / 1000.0 < REGISTER_AGAIN_AFTER_S):
            return True
        lease, holder = f"webhook:{row.id}", uuid.uuid4().hex
        if not self.store.try_lease(lease, holder, ttl_s=LEASE_TTL_S, now=now):
            return False  # another process registers it right now: its secret stands
        try:
            secret = _secrets.token_urlsafe(32)  # 256 random bits; never stored, never logged
            hashed = secret_hash(secret)
            row = self.store.merge_settings(row.id, {keys.WEBHOOK_PENDING: hashed})
            self.inbox.learn(hashed, row.id, row.session)
            time.sleep(SETTLE_S)  # (a background thread) see SETTLE_S
            try:
                self.client.register_webhook(self._session_id(row), hook_url(st.base, secret), self.tokens.auth(row))
            except WppError as err:
                try:
                    self.store.merge_settings(row.id, {keys.WEBHOOK_PENDING: None})
                except WppError:
                    pass
                self.inbox.forget(hashed)
                self._hook_failed(row, err)
                return False
            old = row.settings.get(keys.WEBHOOK_HASH)
            self.store.merge_settings(row.id, {keys.WEBHOOK_HASH: hashed, keys.WEBHOOK_PENDING: None,
                                               keys.WEBHOOK_AT: int(self.clock.time() * 1000),
                                               keys.WEBHOOK_BASE: st.base})
            if old and old != hashed:
                self.inbox.forget(old)  # the platform posts to the new address from now on
            self._hook_ok(row)
            return True
        finally:
            try:
                self.store.release_lease(lease, holder)
            except WppError:
                pass  # it runs out by itself

    def _hook_failed(self, row: Integration, err: WppError) -> None:
        st = self._hooks
        now = self.clock.time()
        with st.lock:
            n = st.failures.get(row.id, (0, 0.0))[0]
            st.failures[row.id] = (n + 1, now + min(RETRY_MAX_S, RETRY_FIRST_S * 2 ** n))
        log.warning("the platform did not take the webhook of %s: %s", row.id, err.english)
        if n == 0:  # the first failure of a run: once in the diary, not on every retry
            self._log("webhook", CONSOLE_ACTOR, row, False, N_(
                "The platform could not be asked to send this number's status to the console: {problem} The console "
                "keeps checking the number itself and will try again.", problem=err.message_text))

    def _hook_ok(self, row: Integration) -> None:
        st = self._hooks
        with st.lock:
            had = st.failures.pop(row.id, None)
        if had is not None:
            self._log("webhook", CONSOLE_ACTOR, row, True,
                      N_("The platform sends this number's status to the console again"))

    def webhook_pass(self) -> int:
        """Register the webhooks still missing -- numbers without one, or registered with another address (a new
        ``WPP_PUBLIC_URL``) -- and again those registered about an hour ago (:data:`REREGISTER_EVERY_S`) or found
        broken since; those whose last try failed wait their pause. Clears the broken mark of a number whose events
        arrive again. Run by the status poller's leaseholder (never from a page). Also saves this process's counts of
        pushes. Returns how many were registered."""
        if self.inbox is not None:
            try:
                self.inbox.flush(force=True)
            except Exception:  # noqa: BLE001
                log.exception("the webhook counts could not be saved")
        st = self._hooks
        if not self.webhooks_on or st is None:
            return 0
        now = self.clock.time()
        done = 0
        tried = 0
        for row in self.store.list_integrations():
            if tried >= PASS_LIMIT:
                break
            if not (row.api_key and row.session):
                continue
            self._heal(row)
            if not self._hook_due(row, now):
                continue
            with st.lock:
                waiting = st.failures.get(row.id)
            if waiting is not None and now < waiting[1]:
                continue
            tried += 1
            if self._register_guarded(row.id, True):
                done += 1
        return done

    def _hook_due(self, row: Integration, now: float) -> bool:
        """Whether the pass registers this number's webhook now."""
        st = self._hooks
        s = row.settings
        if not (s.get(keys.WEBHOOK_HASH) and s.get(keys.WEBHOOK_BASE) == st.base):
            return True  # none yet, or for another address
        at_ms = s.get(keys.WEBHOOK_AT)
        if not isinstance(at_ms, (int, float)):
            return True
        broken = s.get(keys.WEBHOOK_BROKEN)
        if isinstance(broken, (int, float)) and broken > at_ms:
            return True  # found broken after its last registration
        spread = 0.9 + 0.2 * (int(row.id.replace("-", "")[:8], 16) / 0xFFFFFFFF)  # the same for a number, 0.9-1.1
        return now - at_ms / 1000.0 >= REREGISTER_EVERY_S * spread

    def _last_event(self, integration_id: str) -> float | None:
        engine = getattr(self, "engine", None)
        if engine is None:
            return None
        try:
            return engine.last_events([integration_id]).get(integration_id)
        except WppError:
            return None

    def webhook_works(self, row: Integration) -> bool:
        """Whether the platform pushes this number's status: its webhook, registered with this console's address,
        was accepted and is not known to be broken (or an event of it arrived since it was found broken). The status
        engine then only makes a sanity check of the number (``StatusEngine(hooked=...)``)."""
        st = self._hooks
        if not self.webhooks_on or st is None:
            return False
        s = row.settings
        if not (s.get(keys.WEBHOOK_HASH) and s.get(keys.WEBHOOK_BASE) == st.base
                and isinstance(s.get(keys.WEBHOOK_AT), (int, float))):
            return False
        broken = s.get(keys.WEBHOOK_BROKEN)
        if isinstance(broken, (int, float)):
            last = self._last_event(row.id)
            return last is not None and last * 1000.0 > broken
        return True

    def _heal(self, row: Integration) -> None:
        """An event of a number whose webhook was found broken arrived since: the mark goes."""
        broken = row.settings.get(keys.WEBHOOK_BROKEN)
        if not isinstance(broken, (int, float)):
            return
        last = self._last_event(row.id)
        if last is not None and last * 1000.0 > broken:
            try:
                self.store.merge_settings(row.id, {keys.WEBHOOK_BROKEN: None})
            except WppError as err:
                log.warning("could not clear the broken mark of %s: %s", row.id, err.english)
                return
            self._log("webhook", CONSOLE_ACTOR, row, True,
                      N_("The platform sends this number's status to the console again"))

    def webhooks_missed(self, ids) -> None:
        """The status engine found changes that were never pushed (``on_missed_push``): those numbers' webhooks are
        marked broken -- polled as usual until one of their events arrives -- and registered again at once."""
        now_ms = int(self.clock.time() * 1000)
        for iid in ids:
            try:
                row = self.store.merge_settings(iid, {keys.WEBHOOK_BROKEN: now_ms})
            except WppError as err:
                log.warning("could not mark the webhook of %s as broken: %s", iid, err.english)
                continue
            self._log("webhook", CONSOLE_ACTOR, row, False, N_(
                "A change of this number's state was not sent by the platform: the console checks the number itself "
                "as usual again, and asks the platform once more to send its status."))
            self._register_soon(iid, force=True)

    # --- the test messages ------------------------------------------------------------------------------------
    def _keep_test_message(self, row: Integration, message_id: str | None, to: str, actor: str) -> None:
        """Remember a test message the platform accepted, so its delivery updates can be shown."""
        if not message_id:
            return
        try:
            self.store.save_test_message(DeliveryRecord(row.id, str(message_id), self.clock.time(), to=to,
                                                        status="accepted", actor=actor))
        except WppError as err:
            log.warning("could not keep the test message of %s: %s", row.id, err.english)

    def _delivery_view(self, rec: DeliveryRecord) -> DeliveryView:
        if rec.status == "failed":
            words = str(N_("Failed: {reason}", reason=rec.detail) if rec.detail else N_("Failed"))
        else:
            words = str(_STEP_WORDS.get(rec.status, rec.status))
        return DeliveryView(
            message_id=rec.message_id, to=rec.to, sent_at=from_epoch(rec.sent_at), status=rec.status, words=words,
            ticks=_STEP_TICKS.get(rec.status, ""), changed_at=from_epoch(rec.status_at or rec.sent_at),
            done=rec.status in ("read", "failed") or self.clock.time() - rec.sent_at > FOLLOW_FOR_S,
            failed=rec.status == "failed")

    def delivery(self, integration_id: str, message_id: str) -> DeliveryView | None:
        """How far one test message of this number got (None when the console does not know it)."""
        row = self._row(integration_id, "view")  # type: ignore[attr-defined]
        found = self.store.test_messages(row.id, message_id=str(message_id))
        return self._delivery_view(found[0]) if found else None

    def recent_tests(self, integration_id: str, limit: int = 5) -> list[DeliveryView]:
        """The number's latest test messages, newest first, with how far each got."""
        row = self._row(integration_id, "view")  # type: ignore[attr-defined]
        return [self._delivery_view(r) for r in self.store.test_messages(row.id, limit=limit)]

    def delivery_note(self) -> str:
        """What pages say under a test message about following its delivery."""
        if self.webhooks_on:
            return _("The ticks follow the platform's reports: ✓ sent from the phone, ✓✓ delivered, 👁 read.")
        if self._access.may("settings"):  # type: ignore[attr-defined]
            return _("Whether it arrives cannot be followed: the platform reports deliveries only to a console it "
                     "can reach, and WPP_PUBLIC_URL is not set.")
        return _("Whether it arrives cannot be followed on this console: check on the phone it was sent to. To see "
                 "deliveries here, ask the administrator to let the platform reach the console.")

    # --- the Settings page -------------------------------------------------------------------------------------
    def webhook_overview(self) -> WebhookOverview:
        """Per number: its webhook registered or not, whether its events arrive and when the last came, what was
        refused; and the same for all pushes together. The numbers of the schools the person administers; the
        console's own address and the pushes to no number only for an administrator of every school."""
        from ..access.roles import ALL

        self._permit("webhooks", None)  # type: ignore[attr-defined]
        everything = self._access.may("webhooks", ALL)  # type: ignore[attr-defined]
        st = self._hooks
        sanity = getattr(getattr(self.engine, "policy", None), "sanity_s", 600.0)
        if self.webhooks_on and everything:
            summary = _("On: the platform posts each number's status to {address}/_wpp/hook/… (a secret address per "
                        "number). While events arrive, a number is checked by polling only every {every}.",
                        address=st.base, every=format_duration(sanity))
        elif self.webhooks_on:
            summary = _("On: the platform posts each number's status to the console. While events arrive, a number is "
                        "checked by polling only every {every}.", every=format_duration(sanity))
        elif everything:
            summary = self.webhooks_off_reason()
        else:
            summary = _("Off: every number is checked by polling.")
        rows = [r for r in self.store.list_integrations()  # type: ignore[attr-defined]
                if self._visible(r) and self._access.may("webhooks", r.organization_id)]  # type: ignore[attr-defined]
        try:
            counts = self.inbox.counts() if self.inbox is not None else {}
        except WppError as err:
            log.warning("the webhook counts could not be read: %s", err.english)
            counts = {}
        last = self.engine.last_events([r.id for r in rows]) if self.engine is not None else {}
        policy = getattr(self.engine, "policy", None)
        now = self.clock.time()
        from ..status.webhooks import refusals

        lines = []
        for view in self._views(rows):  # type: ignore[attr-defined]
            row = view.integration
            mine = counts.get(row.id, {})
            at_ms = row.settings.get(keys.WEBHOOK_AT)
            at = from_epoch(at_ms / 1000.0) if isinstance(at_ms, (int, float)) else None
            if not (row.api_key and row.session):
                registered = _("Not yet: the number is not finished")
            elif (self.webhooks_on and row.settings.get(keys.WEBHOOK_HASH)
                  and row.settings.get(keys.WEBHOOK_BASE) == st.base and not self.webhook_works(row)):
                registered = _("Yes, but a change came without its push: checked as usual until pushes come again")
            elif row.settings.get(keys.WEBHOOK_HASH) and (st is None or row.settings.get(keys.WEBHOOK_BASE) == st.base):
                registered = _("Yes")
            elif row.settings.get(keys.WEBHOOK_HASH):
                registered = _("With another address: it is registered again soon") if self.webhooks_on else _("Yes")
            else:
                registered = _("Not yet: the console tries again soon") if self.webhooks_on else _("No")
            event_at = last.get(row.id)
            if event_at is None:
                arriving = _("None yet")
            elif policy is not None and policy.pushed(event_at, now):
                arriving = _("Yes")
            else:
                arriving = _("Not lately: polled as usual")
            lines.append(WebhookLine(
                label=view.label, registered=registered, registered_at=at, arriving=arriving,
                last_event=from_epoch(event_at), accepted=mine.get("accepted", (0, None))[0],
                refused=refusals(mine), refused_detail=_refused_words(mine)))
        latest = max(last.values()) if last else None
        if everything:
            total = counts.get("*", {})
        else:  # the pushes about these numbers only (not those to unknown addresses: they belong to no school)
            total = {}
            for row in rows:
                for kind, (n, _at) in counts.get(row.id, {}).items():
                    total[kind] = (total.get(kind, (0, None))[0] + n, None)
        return WebhookOverview(on=self.webhooks_on, summary=summary, lines=lines,
                               accepted=total.get("accepted", (0, None))[0], refused=refusals(total),
                               refused_detail=_refused_words(total), last_event=from_epoch(latest),
                               every_number=everything)


__all__ = ["DeliveryView", "WebhookLine", "WebhookOverview", "WebhooksMixin"]
