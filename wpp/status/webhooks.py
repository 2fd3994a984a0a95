"""Status pushed by the platform: the console's webhook inbox. Framework-free; ``wppui.routes`` is its thin HTTP side
(``POST /_wpp/hook/{secret}``), handing over the secret from the address and the raw body.

The platform signs nothing, so the only proof that a push comes from the platform is the address: one per number,
``{WPP_PUBLIC_URL}/_wpp/hook/<secret>``, where the secret (at least 128 random bits, made by the service when it
registers the webhook, rotated on every registration) is known to the platform and to nobody else. The console
keeps only its SHA-256 in the number's settings (``wppWebhookSecretHash``, and ``wppWebhookPendingHash`` while a new
one is being registered); this inbox looks pushes up by that hash.

:meth:`WebhookInbox.receive` answers every push with a :class:`HookAnswer` and never raises:

* an unknown secret: 404 (counted in total only: it names no number);
* a body over ``max_body`` bytes: 413; not JSON, or not one of the platform's shapes: 400;
* an ``account`` that is not the number's platform session: 403 (refused: the address leaked to another account?);
* the same event again (the same ``id`` of an envelope, or the same flat body) within ``replay_window_s`` (25 hours:
  the platform may retry for a day): 200 "duplicate", no effect (in every replica: the store remembers what was
  seen);
* a known event: 200 "accepted". ``connected`` / ``offline`` / ``qr`` go to the status engine
  (:meth:`~wpp.status.StatusEngine.record_event`: the board, the history and the diary, as if the poller had seen
  it), dated by the envelope's ``created`` when it is plausible (not in the future, not older than the replay
  window), else by its arrival; delivery updates (``message.sent``, ``message.dead``, flat ``{"type": "delivery",
  ...}``) move the test message on (``store.advance_test_message``); every accepted event notes the number's
  ``last_event_at``, so its polling drops to a sanity check;
* a state older than the number's newest one: 200 "late" (kept in the history as late, never applied);
* a well-formed event of a type the console has no use for: 202 "ignored";
* anything that goes wrong inside (the store is down ...): 503 with no detail, counted as an error, and the event
  is **not** remembered as seen, so the platform's retry is taken (never a 500, never a traceback to the caller).

Unknown addresses cost at most one read of the numbers' secrets per ``miss_reload_s`` in a process, however many
arrive at once (concurrent misses share that read).

No platform call is made while answering. Every outcome is counted per number and in total (the Settings page shows
them): in memory at once (:meth:`WebhookInbox.stats`), in the store (shared by every replica) at most every
``flush_every_s`` (:meth:`WebhookInbox.flush`). Nothing about a push, and never the secret, is logged above DEBUG,
and the secret not even there.
"""
from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
from dataclasses import dataclass
from typing import Any, Mapping

from .. import keys
from ..clock import SYSTEM_CLOCK
from ..errors import WppError
from ..models import Status, WebhookCount
from .record import CheckResult

log = logging.getLogger("wpp.status.webhooks")

#: the largest body accepted (bytes); the route reads no more than one byte past it
MAX_BODY = 64 * 1024
#: a replay of an event within this many seconds has no effect (the platform may retry for a day; an hour more)
REPLAY_WINDOW_S = 25 * 3600.0
#: a pushed ``created`` this far ahead of the console's clock is still taken (clocks differ a little)
CLOCK_SKEW_S = 120.0
#: the route's path, under Streamlit's base path
HOOK_PATH = "/_wpp/hook"
#: a secret as the service makes it (secrets.token_urlsafe: base64url); anything else is unknown at once
SECRET_RE = re.compile(r"[A-Za-z0-9_-]{22,256}")
#: outcomes, their HTTP status codes and whether they are refusals
OUTCOMES: dict[str, int] = {
    "accepted": 200,
    "duplicate": 200,
    "late": 200,
    "ignored": 202,
    "error": 503,
    "unknown": 404,
    "too_big": 413,
    "malformed": 400,
    "mismatch": 403,
}
REFUSALS = ("unknown", "too_big", "malformed", "mismatch", "duplicate")

_STATE_EVENTS = {"connected": "connected", "offline": "offline", "qr": "qr_required"}
_DELIVERY = {"sent": "sent", "delivered": "delivered", "read": "read", "deleted": "failed", "error": "failed",
             "failed": "failed", "dead": "failed"}
_ID_MAX = 200


def secret_hash(secret: str) -> str:
    """The SHA-256 (hex) of a webhook secret: what the number's settings keep and what pushes are looked up by."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class HookAnswer:
    """What :meth:`WebhookInbox.receive` answers: an HTTP status and one word for the caller (and the counts)."""

    status: int
    outcome: str
    integration_id: str | None = None

    def body(self) -> dict:
        if self.outcome == "error":
            return {"ok": False}  # no detail: the platform only needs to try again
        return {"ok": self.outcome in ("accepted", "duplicate", "late", "ignored"), "outcome": self.outcome}


@dataclass(frozen=True)
class Event:
    """One push, understood: ``what`` is state | delivery | message | other."""

    what: str
    type: str
    key: str
    account: str | None = None
    status: Status | None = None
    message_id: str | None = None
    delivery: str | None = None
    detail: str | None = None
    text: str | None = None  # an incoming message's text (the first 1000 characters)
    sender: str | None = None  # an incoming message's sender, as the platform gave it
    created: float | None = None  # when the platform says it happened (Unix seconds), as it said it


def _incoming(place: Mapping) -> dict:
    """The text and the sender of an incoming message (``text``/``body``, ``from``/``sender``), when they are texts."""
    out: dict = {}
    for name in ("text", "body"):
        value = place.get(name)
        if isinstance(value, str):
            out["text"] = value[:1000]
            break
    for name in ("from", "sender"):
        value = place.get(name)
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            out["sender"] = str(value)[:100]
            break
    return out


class Malformed(ValueError):
    """The body is not one of the platform's shapes."""


# --- understanding a body ------------------------------------------------------------------------------------
def _scalar_id(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.strip() and len(value.strip()) <= _ID_MAX:
        return value.strip()
    return None


def _account(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise Malformed("account is not a text")
    text = str(value).strip()
    if not text or len(text) > _ID_MAX:
        raise Malformed("account is empty or too long")
    return text


def _message_id(*places: Mapping) -> str | None:
    for place in places:
        for name in ("messageId", "message_id", "taskId", "id"):
            found = _scalar_id(place.get(name))
            if found:
                return found
        inner = place.get("message")
        if isinstance(inner, dict):
            found = _message_id(inner)
            if found:
                return found
    return None


def _words(*places: Mapping) -> str | None:
    for place in places:
        for name in ("error", "reason", "message", "detail", "status_text"):
            value = place.get(name)
            if isinstance(value, str) and value.strip():
                return value.strip()[:300]
    return None


def parse_created(value: Any) -> float | None:
    """An envelope's ``created`` as Unix seconds: a number of milliseconds (the platform's) or seconds, or an ISO 8601
    time; None when it is none of these."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        t = float(value)
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        try:
            t = float(text)
        except ValueError:
            import datetime as dt

            try:
                when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                return None
            if when.tzinfo is None:
                when = when.replace(tzinfo=dt.timezone.utc)
            return when.timestamp()
    else:
        return None
    if t != t or t <= 0:
        return None
    return t / 1000.0 if t > 1e11 else t  # milliseconds from about 1973 on; seconds until about 5138


def parse_event(raw: bytes, body: Any) -> Event:
    """The push ``body`` (parsed from ``raw``) as an :class:`Event`; :class:`Malformed` when it is none of the
    platform's shapes (platform-api.md: an envelope ``{id, type, created, data: {account, ...}}``, a flat message
    ``{account, from, text, type: "chat", messageId, fromMe}``, a flat delivery update
    ``{type: "delivery", account, messageId, status}``)."""
    if not isinstance(body, dict):
        raise Malformed("not a JSON object")
    body_key = "b:" + hashlib.sha256(raw).hexdigest()
    kind = body.get("type")
    if "data" in body:  # the envelope
        data = body.get("data")
        if not isinstance(data, dict) or not isinstance(kind, str) or not kind.strip():
            raise Malformed("an envelope needs a type and a data object")
        kind = kind.strip().lower()
        event_id = _scalar_id(body.get("id"))
        key = ("e:" + (event_id if len(event_id) <= 100 else hashlib.sha256(event_id.encode()).hexdigest())
               if event_id else body_key)
        account = _account(data.get("account", body.get("account")))
        if kind in _STATE_EVENTS:
            from ..client import reported_phone

            phone = reported_phone(data, account)
            return Event("state", kind, key, account, status=Status.parse(_STATE_EVENTS[kind], phone=phone),
                         created=parse_created(body.get("created")))
        if kind in ("message.sent", "message.dead"):
            mid = _message_id(data)
            if mid is None:
                raise Malformed(f"{kind} without a message id")
            delivery = "sent" if kind == "message.sent" else "failed"
            return Event("delivery", kind, key, account, message_id=mid, delivery=delivery,
                         detail=_words(data) if delivery == "failed" else None)
        if kind == "message.incoming":
            return Event("message", kind, key, account, message_id=_message_id(data), **_incoming(data))
        return Event("other", kind, key, account)
    # flat bodies
    if kind is not None and (not isinstance(kind, str) or not kind.strip()):
        raise Malformed("type is not a text")
    kind = (kind or "").strip().lower()
    account = _account(body.get("account"))
    if kind == "delivery":
        mid = _message_id(body)
        status = body.get("status")
        if mid is None or not isinstance(status, str) or not status.strip():
            raise Malformed("a delivery update needs a messageId and a status")
        step = _DELIVERY.get(status.strip().lower())
        if step is None:
            return Event("other", "delivery:" + status.strip().lower()[:40], body_key, account)
        return Event("delivery", kind, body_key, account, message_id=mid, delivery=step,
                     detail=(_words(body) or status.strip().lower()) if step == "failed" else None)
    if kind == "chat" or ("from" in body and ("messageId" in body or "text" in body)):
        return Event("message", kind or "chat", body_key, account, message_id=_message_id(body), **_incoming(body))
    if kind and account is not None:
        return Event("other", kind[:40], body_key, account)
    raise Malformed("none of the platform's shapes")


def _same_account(given: str, session: str | None) -> bool:
    if session is None:
        return False
    a, b = given.strip(), str(session).strip()
    if a.isdigit() and b.isdigit():
        return a.lstrip("0") == b.lstrip("0")
    return a == b


# --- the inbox ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Known:
    integration_id: str
    session: str | None


class WebhookInbox:
    """Receives the platform's pushes (see the module docstring). Thread-safe; one per process (the service owns
    it). ``engine``: the process's :class:`~wpp.status.StatusEngine`."""

    def __init__(self, store, engine, *, clock=SYSTEM_CLOCK, max_body: int = MAX_BODY,
                 replay_window_s: float = REPLAY_WINDOW_S, reload_every_s: float = 60.0, miss_reload_s: float = 0.5,
                 flush_every_s: float = 5.0, skew_s: float = CLOCK_SKEW_S):
        self.store = store
        self.engine = engine
        self.clock = clock
        self.max_body = int(max_body)
        self.replay_window_s = float(replay_window_s)
        self.reload_every_s = float(reload_every_s)
        self.miss_reload_s = float(miss_reload_s)
        self.flush_every_s = float(flush_every_s)
        self.skew_s = float(skew_s)
        self._lock = threading.Lock()
        self._load_lock = threading.Lock()
        self._by_hash: dict[str, _Known] = {}
        self._loaded_at: float | None = None
        self._load_started: float | None = None
        self._generation = 0  # bumped by every finished read of the secrets
        self._load_done: float | None = None  # when the last read of the secrets ended
        self._learned: dict[str, float] = {}  # hash -> when this process stored it (kept over a read begun before)
        self.reloads = 0  # reads of the secrets (tests, benches)
        self._pending: dict[tuple[str, str], list] = {}  # (scope, kind) -> [n, last_at], not in the store yet
        self._stats: dict[tuple[str, str], int] = {}  # (scope, kind) -> n since this process started
        self._flushed_at: float | None = None
        self._listeners: list = []

    def listen(self, fn) -> None:
        """``fn(integration_id, event, now)`` is called for every accepted event, after the inbox's own work (proof
        of delivery follows its check messages this way). A listener that raises is logged; the push stays
        accepted."""
        self._listeners.append(fn)

    def __repr__(self) -> str:
        return f"WebhookInbox(numbers={len(self._by_hash)}, max_body={self.max_body})"

    # --- which secret is which number's ----------------------------------------------------------------------
    def learn(self, hashed: str, integration_id: str, session: str | None) -> None:
        """This process just stored ``hashed`` for a number: known at once, before the next reload."""
        with self._lock:
            self._by_hash[hashed] = _Known(integration_id, session)
            self._learned[hashed] = self.clock.time()
            if len(self._learned) > 10_000:
                self._learned.clear()

    def forget(self, hashed: str | None) -> None:
        if hashed:
            with self._lock:
                self._by_hash.pop(hashed, None)

    def _reload(self) -> None:
        """Read every active number's webhook hashes (the current and the one being registered)."""
        started = self.clock.time()
        with self._lock:
            self._load_started = started
        found: dict[str, _Known] = {}
        try:
            rows = self.store.list_integrations()
        finally:
            with self._lock:
                self.reloads += 1
        for row in rows:
            for key in (keys.WEBHOOK_HASH, keys.WEBHOOK_PENDING):
                value = row.settings.get(key)
                if isinstance(value, str) and value:
                    found[value] = _Known(row.id, row.session)
        with self._lock:
            learned = {h: k for h, k in self._by_hash.items() if h not in found and self._learned.get(h, 0) > started}
            self._by_hash = {**found, **learned}
            self._loaded_at = started
            self._load_done = self.clock.time()
            self._generation += 1

    def _lookup(self, hashed: str) -> _Known | None:
        """The number a secret's hash belongs to. A miss (or a list older than ``reload_every_s``) reads the list
        again -- never within ``miss_reload_s`` of the last read's start or end, however many ask (so even a store
        slower than that is never read back to back); callers that arrive while it is read wait for that read and
        share it."""
        now = self.clock.time()
        with self._lock:
            known = self._by_hash.get(hashed)
            fresh = self._loaded_at is not None and 0 <= now - self._loaded_at < self.reload_every_s
            generation = self._generation
        if known is not None and fresh:
            return known
        with self._load_lock:  # one read at a time; those waiting for it share it
            with self._lock:
                if self._generation != generation:  # read while this caller waited
                    return self._by_hash.get(hashed)
                now = self.clock.time()
                recent = ((self._load_started is not None and 0 <= now - self._load_started < self.miss_reload_s)
                          or (self._load_done is not None and 0 <= now - self._load_done < self.miss_reload_s))
            if recent:  # the list was read a moment ago: a flood of unknown addresses costs no more reads
                return known
            self._reload()
        with self._lock:
            return self._by_hash.get(hashed)

    # --- counting ---------------------------------------------------------------------------------------------
    def _count(self, outcome: str, integration_id: str | None) -> None:
        now = self.clock.time()
        with self._lock:
            for scope in ("*", integration_id) if integration_id else ("*",):
                k = (scope, outcome)
                slot = self._pending.setdefault(k, [0, now])
                slot[0] += 1
                slot[1] = now
                self._stats[k] = self._stats.get(k, 0) + 1

    def stats(self, integration_id: str | None = None) -> dict[str, int]:
        """Outcomes counted by this process since it started: in total, or for one number."""
        scope = integration_id or "*"
        with self._lock:
            return {kind: n for (s, kind), n in self._stats.items() if s == scope}

    def flush(self, *, force: bool = False) -> None:
        """Add what this process counted to the store's counts (at most every ``flush_every_s`` unless
        ``force``). A store error keeps them for the next time."""
        now = self.clock.time()
        with self._lock:
            if not self._pending:
                return
            if not force and self._flushed_at is not None and 0 <= now - self._flushed_at < self.flush_every_s:
                return
            pending, self._pending = self._pending, {}
            self._flushed_at = now
        try:
            self.store.add_webhook_counts(WebhookCount(scope, kind, n, at) for (scope, kind), (n, at) in pending.items())
        except WppError as err:
            log.warning("the webhook counts could not be saved: %s", err.english)
            with self._lock:
                for k, (n, at) in pending.items():
                    slot = self._pending.setdefault(k, [0, at])
                    slot[0] += n
                    slot[1] = max(slot[1], at)

    def counts(self) -> dict[str, dict[str, tuple[int, float | None]]]:
        """Every count in the store (every replica's), this process's latest included: scope (an integration id,
        or ``"*"``) -> kind -> (n, last time)."""
        self.flush(force=True)
        out: dict[str, dict[str, tuple[int, float | None]]] = {}
        for c in self.store.webhook_counts():
            out.setdefault(c.scope, {})[c.kind] = (c.n, c.last_at)
        with self._lock:  # what a failed flush kept back
            for (scope, kind), (n, at) in self._pending.items():
                old_n, old_at = out.setdefault(scope, {}).get(kind, (0, None))
                out[scope][kind] = (old_n + n, max(at, old_at or at))
        return out

    # --- a push ----------------------------------------------------------------------------------------------
    def receive(self, secret: Any, body: bytes | None) -> HookAnswer:
        """Answer one push (see the module docstring). Never raises."""
        seen: dict[str, str] = {}
        try:
            answer = self._receive(secret, body, seen)
        except Exception as exc:  # noqa: BLE001 - a push never breaks anything; it is counted and answered 503
            # the type only: an exception's text could quote what came in (the secret is never part of it)
            log.warning("a pushed event for %s could not be handled (%s); the platform is asked to send it again",
                        seen.get("iid", "?"), type(exc).__name__)
            answer = HookAnswer(OUTCOMES["error"], "error", seen.get("iid"))
        try:
            self._count(answer.outcome, answer.integration_id)
            self.flush()
        except Exception as exc:  # noqa: BLE001
            log.warning("a pushed event could not be counted (%s)", type(exc).__name__)
        return answer

    def _answer(self, outcome: str, iid: str | None = None) -> HookAnswer:
        if iid is not None:
            log.debug("webhook push for %s: %s", iid, outcome)
        return HookAnswer(OUTCOMES[outcome], outcome, iid)

    def _receive(self, secret: Any, body: bytes | None, seen: dict[str, str]) -> HookAnswer:
        if not isinstance(secret, str) or not SECRET_RE.fullmatch(secret):
            return self._answer("unknown")
        known = self._lookup(secret_hash(secret))
        if known is None:
            return self._answer("unknown")
        iid = seen["iid"] = known.integration_id
        raw = body or b""
        if len(raw) > self.max_body:
            return self._answer("too_big", iid)
        try:
            parsed = json.loads(raw.decode("utf-8"))
            event = parse_event(raw, parsed)
        except (UnicodeDecodeError, ValueError, RecursionError):  # Malformed is a ValueError
            return self._answer("malformed", iid)
        if event.account is not None and not _same_account(event.account, known.session):
            log.info("a pushed event for %s named another platform account: refused", iid)
            return self._answer("mismatch", iid)
        now = self.clock.time()
        key = f"{iid}:{event.key}"
        if not self.store.webhook_seen(key, integration_id=iid, at=now, keep_s=self.replay_window_s):
            return self._answer("duplicate", iid)
        if event.what == "other":
            return self._answer("ignored", iid)
        try:
            applied = self._apply(iid, event, now)
        except BaseException:
            try:  # not seen after all: the platform's retry must be taken
                self.store.webhook_unseen(key)
            except Exception as exc:  # noqa: BLE001
                log.warning("a failed push of %s could not be forgotten (%s)", iid, type(exc).__name__)
            raise
        return self._answer("accepted" if applied else "late", iid)

    def observed_at(self, event: Event, now: float) -> float:
        """When the event happened: its ``created`` when plausible (not ahead of this clock by more than
        ``skew_s``, not older than the replay window), else its arrival ``now``; never later than ``now``."""
        t = event.created
        if t is None or t > now + self.skew_s or t < now - self.replay_window_s:
            return now
        return min(t, now)

    def _apply(self, iid: str, event: Event, now: float) -> bool:
        """Apply an event; False when its state came late (kept in the history, not applied). Raises on failure."""
        if event.what == "delivery" and event.message_id and event.delivery:
            self.store.advance_test_message(iid, event.message_id, status=event.delivery, at=now, detail=event.detail)
        result = None
        if event.what == "state" and event.status is not None:
            result = CheckResult.ok(event.status, observed_at=self.observed_at(event, now))
        if self.engine is None:
            self.store.note_status_event(iid, at=now)
            applied = True
        else:
            entry = self.engine.record_event(iid, result)
            applied = result is None or entry is not None
        for listener in self._listeners:
            try:
                listener(iid, event, now)
            except Exception as exc:  # noqa: BLE001 - a listener never turns an accepted push into an error
                log.warning("a listener of pushed events failed for %s (%s)", iid, type(exc).__name__)
        return applied


def hook_url(base: str, secret: str) -> str:
    """The address a number's webhook is registered with: ``{base}/_wpp/hook/{secret}``."""
    return base.rstrip("/") + HOOK_PATH + "/" + secret


def refusals(counts: Mapping[str, tuple[int, float | None]] | None) -> int:
    """How many pushes of one scope's counts were refused (every outcome but accepted and ignored)."""
    return sum(n for kind, (n, _at) in (counts or {}).items() if kind in REFUSALS)


__all__ = [
    "Event",
    "HOOK_PATH",
    "HookAnswer",
    "MAX_BODY",
    "Malformed",
    "OUTCOMES",
    "CLOCK_SKEW_S",
    "REFUSALS",
    "REPLAY_WINDOW_S",
    "WebhookInbox",
    "hook_url",
    "parse_created",
    "parse_event",
    "refusals",
    "secret_hash",
]
