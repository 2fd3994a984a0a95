"""Typed results shared by the client, the store and the service.

The platform's many spellings of one state are normalised here, and only here.
"""
from __future__ import annotations

import enum
import time
from dataclasses import dataclass, field
from typing import Any

from . import keys
from .i18n import N_, Text
from .masking import Secret, mask


class ConnState(str, enum.Enum):
    CONNECTED = "connected"
    QR_REQUIRED = "qr_required"
    STARTING = "starting"
    OFFLINE = "offline"
    UNKNOWN = "unknown"  # a value the platform sent that we do not know; the raw text is kept

    @property
    def label(self) -> str:
        """The state in words, in the current language (its one name: :mod:`wpp.glossary`)."""
        return str(self.name_text)

    @property
    def name_text(self) -> Text:
        """The state's one name, translated when shown."""
        from .glossary import state_name

        return state_name(self.value)

_SPELLINGS = {
    "connected": ConnState.CONNECTED,
    "ready": ConnState.CONNECTED,
    "open": ConnState.CONNECTED,
    "online": ConnState.CONNECTED,
    "authenticated": ConnState.CONNECTED,
    "inchat": ConnState.CONNECTED,
    "qr_required": ConnState.QR_REQUIRED,
    "qrrequired": ConnState.QR_REQUIRED,
    "qrcode": ConnState.QR_REQUIRED,
    "qr": ConnState.QR_REQUIRED,
    "scan_qr": ConnState.QR_REQUIRED,
    "need_scan": ConnState.QR_REQUIRED,
    "notlogged": ConnState.QR_REQUIRED,
    "starting": ConnState.STARTING,
    "pending": ConnState.STARTING,
    "initializing": ConnState.STARTING,
    "connecting": ConnState.STARTING,
    "opening": ConnState.STARTING,
    "offline": ConnState.OFFLINE,
    "disconnected": ConnState.OFFLINE,
    "closed": ConnState.OFFLINE,
    "stopped": ConnState.OFFLINE,
    "logout": ConnState.OFFLINE,
    "logged_out": ConnState.OFFLINE,
}


@dataclass(frozen=True)
class Status:
    """A connection state plus the platform's own word for it (and the phone's own number, when the platform's
    answer carried one: digits with the country code)."""

    state: ConnState
    raw: str
    phone: str | None = None

    @classmethod
    def parse(cls, raw: Any, phone: str | None = None) -> "Status":
        text = "" if raw is None else str(raw).strip()
        key = text.lower().replace("-", "_").replace(" ", "_")
        state = _SPELLINGS.get(key) or _SPELLINGS.get(key.replace("_", ""), ConnState.UNKNOWN)
        return cls(state=state, raw=text, phone=phone)

    @property
    def label(self) -> str:
        return str(self.name_text)

    @property
    def name_text(self) -> Text:
        """The state in words, translated when shown (an unknown word of the platform's is kept beside it)."""
        if self.state is ConnState.UNKNOWN:
            return N_("Unknown ({word})", word=self.raw or "—")
        return self.state.name_text

    @property
    def connected(self) -> bool:
        return self.state is ConnState.CONNECTED


@dataclass(frozen=True)
class CreatedClient:
    """Answer of POST /api/integrations/wpp/create."""

    api_key: Secret
    session: str
    status: Status


@dataclass(frozen=True)
class MintedToken:
    """A platform JWT and when it stops working.

    ``expires_at_ms`` is Unix time in milliseconds, the unit of ``wppJwtExpiresAt``.
    ``expiry_source`` is ``"exp"`` (the JWT's own claim), ``"expiresIn"`` (the platform's answer)
    or ``"assumed"`` (neither was there; a short default was assumed).
    """

    token: Secret
    expires_at_ms: int
    expiry_source: str
    obtained_at_ms: int = field(default_factory=lambda: int(time.time() * 1000))

    def seconds_left(self, now: float | None = None) -> float:
        now = time.time() if now is None else now
        return self.expires_at_ms / 1000.0 - now


@dataclass(frozen=True)
class StartResult:
    """Answer of POST /api/accounts/start: a QR payload, a status, or both."""

    qr: str | None
    status: Status | None


@dataclass(frozen=True)
class SendResult:
    task_id: str | None
    status: str
    message: str | None = None


@dataclass
class Integration:
    """One row of ``messenger_integrations`` (one WhatsApp number)."""

    id: str
    organization_id: str
    name: str | None = None
    messenger_type: str = "whatsapp"
    provider: str = "wpp"
    is_primary: bool = False
    is_active: bool = True
    settings: dict = field(default_factory=dict)
    last_error: str | None = None
    last_error_at: str | None = None
    created_at: str | None = None
    updated_at: str | None = None

    # --- settings keys, read in one place -------------------------------------------
    @property
    def api_key(self) -> str | None:
        return self.settings.get(keys.API_KEY) or None

    @property
    def session(self) -> str | None:
        v = self.settings.get(keys.SESSION)
        return str(v) if v not in (None, "") else None

    @property
    def jwt(self) -> str | None:
        return self.settings.get(keys.JWT) or None

    @property
    def jwt_expires_at_ms(self) -> int | None:
        v = self.settings.get(keys.JWT_EXPIRES_AT)
        try:
            return int(v) if v not in (None, "") else None
        except (TypeError, ValueError):
            return None

    @property
    def sub_org_id(self) -> str | None:
        return self.settings.get(keys.SUB_ORG) or None

    @property
    def key_evidence(self) -> dict | None:
        """What the platform last answered to calls with this number's keys (:data:`wpp.keys.KEY_EVIDENCE`), or None."""
        v = self.settings.get(keys.KEY_EVIDENCE)
        return v if isinstance(v, dict) and v.get("verdict") in ("accepted", "refused") else None

    @property
    def key_refused(self) -> dict | None:
        """The platform's refusal of this number's keys while it lasts (``kind``, ``since`` …), else None."""
        v = self.key_evidence
        return v if v is not None and v.get("verdict") == "refused" and v.get("since") is not None else None

    @property
    def token_pending(self) -> bool:
        """Created on the platform (key and session saved) but no token stored yet."""
        return bool(self.api_key and self.session and not self.jwt)

    @property
    def display_name(self) -> str:
        return self.name or (f"Session {self.session}" if self.session else f"Number {self.id[:8]}")

    def masked_settings(self) -> dict:
        return {k: (mask(str(v)) if k in keys.SECRET_KEYS and v else v) for k, v in self.settings.items()}

    def __repr__(self) -> str:
        return (
            f"Integration(id={self.id!r}, organization_id={self.organization_id!r}, name={self.name!r}, "
            f"is_active={self.is_active!r}, settings={self.masked_settings()!r})"
        )


@dataclass(frozen=True)
class ActivityEntry:
    """One line of the activity log (the diary on the Activity page).

    ``action`` is a code (create | resume | pair | refresh | test | send | stop | rename | remove | restore |
    sign_in | sign_in_failed | sign_in_throttled | sign_out | organization_added | ...); ``message`` is the line
    as a translatable message (``wpp.i18n.Text.to_json()``: ``{"msgid": ..., "params": {...}}``), rendered in
    the reader's language; ``detail`` is the same in English (search, old entries, other tools).
    ``detail`` and the message's values must never hold a secret (the store scrubs them too).
    """

    action: str
    outcome: str  # ok | error
    actor: str
    integration_id: str | None = None
    organization_id: str | None = None
    detail: str = ""
    at: str | None = None  # ISO 8601 UTC, set by the store when None
    id: int | None = None
    message: dict | None = None

    def text(self) -> "Text | str":
        """The line in the current language (the English ``detail`` for entries without a message)."""
        if self.message and isinstance(self.message, dict) and self.message.get("msgid"):
            return Text.from_json(self.message)
        return self.detail


@dataclass(frozen=True)
class Organization:
    """A school (organisation) as staff know it: by name.

    ``source``: ``"platform"`` when it comes from the school platform's own table (``organizations`` by default,
    configurable), ``"console"`` when staff named it in the console (the console's own table).
    """

    id: str
    name: str
    source: str = "console"


@dataclass(frozen=True)
class SignInSession:
    """A lasting sign-in, kept server-side; the browser holds only an opaque id in a signed HttpOnly cookie.

    Life: the tab where someone signed in gets a one-time *ticket* (``ticket_hash`` stored, valid until
    ``ticket_expires_at``); the browser hands it to the console's own route, which turns it into the lasting
    sign-in (``id_hash`` set, ticket cleared) and sets the cookie. The store keeps SHA-256 hashes of the ticket and
    of the id, never the values. ``key`` is a public, stable handle (a uuid4, not a credential): a tab remembers it
    to notice at once when the sign-in was ended elsewhere. ``identity`` is the person as plain JSON (built and
    read by ``wpp.access``; never a password, a hash or a platform secret). Times are Unix seconds.
    """

    key: str
    identity: dict
    created_at: float
    expires_at: float
    id_hash: str | None = None
    ticket_hash: str | None = None
    ticket_expires_at: float | None = None
    last_seen_at: float | None = None
    revoked_at: float | None = None

    def active(self, now: float) -> bool:
        return self.revoked_at is None and now < self.expires_at


@dataclass(frozen=True)
class StatusRecord:
    """One number's entry on the shared status board (table ``wpp_console_status``), written by the poller.

    ``state`` is a :class:`ConnState` value or None (never answered yet); ``since`` is when the number entered
    that state; ``checked_at`` the last poll (successful or not), ``ok_at`` the last answer; ``failures`` counts
    consecutive failed polls; ``error`` is the last failure as ``{"kind", "status", "message", "action"}``
    (message/action as ``Text.to_json()`` or plain English), None after a good answer; ``next_check_at`` is when
    the poller asks again; ``phone`` the phone's own number when the platform reported it; ``watched_until``: a
    pairing panel shows the number until then (its heartbeat, written by ``watch_status`` only: ``save_status``
    leaves it as it is); ``last_event_at``: when the platform last pushed an event about the number to the
    console's webhook (written by ``note_status_event`` only: ``save_status`` leaves it as it is too);
    ``observed_at``: when the observation this entry says was made (a poll: when its request started; a push: the
    platform's ``created``, else its arrival): the store keeps an entry only if it is not older than the one it has
    (``save_status`` is a compare-and-set on it), so the newest state wins in every replica. Times: Unix seconds.
    """

    integration_id: str
    state: str | None = None
    raw: str | None = None
    since: float | None = None
    checked_at: float | None = None
    ok_at: float | None = None
    failures: int = 0
    error: dict | None = None
    next_check_at: float | None = None
    phone: str | None = None
    watched_until: float | None = None
    last_event_at: float | None = None
    observed_at: float | None = None

    @property
    def conn_state(self) -> ConnState | None:
        try:
            return ConnState(self.state) if self.state else None
        except ValueError:
            return ConnState.UNKNOWN


@dataclass(frozen=True)
class StatusChange:
    """A line of a number's connection history (table ``wpp_console_status_history``): it went from ``previous``
    to ``state`` at ``at`` (Unix seconds). ``error`` as in :class:`StatusRecord` when the change was to
    "cannot be checked". ``late``: a report that came after a newer one (a pushed event older than the number's
    newest state): kept in the history as it was said, never applied to the board."""

    integration_id: str
    state: str | None
    at: float
    previous: str | None = None
    raw: str | None = None
    error: dict | None = None
    id: int | None = None
    late: bool = False


#: the ``integration_id`` of a platform incident (it is about every number, not one)
PLATFORM_INCIDENT = "*"


@dataclass(frozen=True)
class Incident:
    """A number that dropped (table ``wpp_console_incidents``), kept by the alert desk (``wpp.alerts``).

    ``id`` is ``<integration id>@<started_at in ms>``: the same drop gets the same id in every replica. ``kind`` is
    offline | logged_out | cannot_check | key_rejected (the latest while it lasts), or not_delivering (connected, but
    its delivery checks fail: id ``…~not_delivering``, from when they began to fail); ``started_at`` when the number
    stopped being connected; ``notified_at`` when people were told (None: not yet, e.g. under the threshold or in
    quiet hours); ``recovered_at`` when it was connected again; ``closed_at`` when the desk is done with it (open
    while None). ``started_at`` is when the number was last seen well (from the shared board), not when the
    console noticed. Times: Unix seconds."""

    id: str
    integration_id: str
    organization_id: str | None
    kind: str
    started_at: float
    notified_at: float | None = None
    recovered_at: float | None = None
    closed_at: float | None = None
    #: when the status engine recorded the drop (its history line): the drop's identity across replicas, while
    #: ``started_at`` is when the number was last seen well (earlier, when the console knew it)
    noticed_at: float | None = None
    #: the platform incident this drop is part of (told once to the "*" recipients, not per school)
    parent_id: str | None = None
    #: the message (notice) it was told in: drops starting within the grouping window share one
    notice_id: str | None = None
    #: who said "I'm on it", and when (written by :meth:`acknowledge` only: the desk never overwrites it)
    acked_by: str | None = None
    acked_at: float | None = None
    #: when a reminder went out because nobody acknowledged it (once)
    reminded_at: float | None = None

    @property
    def platform(self) -> bool:
        """A platform incident (most of the fleet down, or the platform cannot be reached), not one number's."""
        return self.integration_id == PLATFORM_INCIDENT


@dataclass(frozen=True)
class AlertRecord:
    """One alert to one recipient (table ``wpp_console_alerts``; in demo mode also the outbox).

    ``event``: down | recovered; ``recipient``: the recipient's key (``email:<address>``, ``webhook:<hash>`` — never
    a webhook's address — or ``outbox``); ``channel``: email | webhook | outbox; ``shown_to``: the recipient as
    screens may show it; ``subject``/``body``: the message as written, in ``lang``; ``payload``: a webhook's JSON
    body; ``status``: pending | sending (claimed by ``claimed_by`` until ``claim_until``) | retry | sent | failed
    (given up); ``error``: the last failure in English, scrubbed. One alert per (incident, event, recipient);
    ``incident_id`` names what it is about (an incident, or a notice grouping several). Times: Unix seconds."""

    incident_id: str
    event: str
    recipient: str
    channel: str
    shown_to: str
    lang: str
    subject: str
    body: str
    created_at: float
    next_try_at: float
    integration_id: str | None = None
    organization_id: str | None = None
    payload: dict | None = None
    status: str = "pending"
    attempts: int = 0
    sent_at: float | None = None
    error: str | None = None
    id: int | None = None
    #: the alert's stable id (the same on every try): the e-mail's Message-ID, the webhook's ``id`` and
    #: ``Idempotency-Key``; derived from (incident, event, recipient) when not given
    uid: str | None = None
    #: who is sending it now (``status == "sending"``) and until when that claim holds
    claimed_by: str | None = None
    claim_until: float | None = None
    #: for a failed alert: when the "*" recipients were told that it could not be delivered
    reported_at: float | None = None


@dataclass(frozen=True)
class Mute:
    """A time when alerts are held (table ``wpp_console_mutes``): an operator's mute of one number ("the phone is
    being repaired until Friday"), or an administrator's maintenance window for a school or the whole platform.

    ``scope``: number | school | platform; ``target``: the number's id, the school's id, or ``"*"``; alerts about
    what it covers are held from ``starts_at`` until ``ends_at`` (or ``ended_at`` when it was ended early): a
    recovery inside it sends nothing, and what is still down when it ends is told once then. ``reason``: what the
    person wrote (data). Times: Unix seconds."""

    scope: str
    target: str
    starts_at: float
    ends_at: float
    created_by: str
    created_at: float
    reason: str = ""
    ended_at: float | None = None
    ended_by: str | None = None
    id: int | None = None

    @property
    def until(self) -> float:
        """When it stops holding alerts."""
        return self.ends_at if self.ended_at is None else min(self.ends_at, self.ended_at)

    def holds(self, at: float) -> bool:
        return self.starts_at <= float(at) < self.until

    def covers(self, integration_id: str | None, org_id: str | None) -> bool:
        """Is a number (``integration_id`` of school ``org_id``; None: the platform incident) under it?"""
        if self.scope == "platform":
            return True
        if self.scope == "school":
            return bool(org_id) and str(org_id).split("__wpp__", 1)[0] == self.target
        return integration_id is not None and integration_id == self.target


#: what became of a test message, in the order it can only move forward (``failed`` ends it)
DELIVERY_STEPS: tuple[str, ...] = ("accepted", "sent", "delivered", "read", "failed")


@dataclass(frozen=True)
class DeliveryRecord:
    """A test message sent from a number (table ``wpp_console_test_messages``) and what the platform's pushes said
    became of it.

    ``message_id``: the platform's id of the message (the send answer's ``taskId``/``id``); ``to``: the recipient as
    staff saw it (``+7 900 123-45-67``); ``status``: one of :data:`DELIVERY_STEPS` (``accepted`` by the platform,
    ``sent`` from the phone, ``delivered`` to the recipient's phone, ``read``, or ``failed`` with ``detail``, the
    platform's own words, scrubbed); it only moves forward. ``actor``: who sent it. Times: Unix seconds."""

    integration_id: str
    message_id: str
    sent_at: float
    to: str = ""
    status: str = "accepted"
    status_at: float | None = None
    detail: str | None = None
    actor: str | None = None


#: what became of a delivery check (table ``wpp_console_delivery_checks``): ``pending`` until proven or given up;
#: ``proven`` (the platform said delivered/read, or a fleet witness received it), ``lost`` (nothing within the set
#: time), ``dead`` (the platform said it died), ``not_sent`` (the platform did not take it: says nothing either way)
CHECK_STATUSES: tuple[str, ...] = ("pending", "proven", "lost", "dead", "not_sent")


@dataclass(frozen=True)
class Witness:
    """Who receives the delivery checks (table ``wpp_console_witnesses``): ``scope`` is a school's organisation id, or
    ``"*"`` for every school without one of its own; ``phone`` digits with the country code. Times: Unix seconds."""

    scope: str
    phone: str
    set_by: str | None = None
    set_at: float | None = None


@dataclass(frozen=True)
class DeliveryCheck:
    """One check message from a number to its witness (table ``wpp_console_delivery_checks``).

    ``code``: the random id carried in the text (a fleet witness's incoming message names it); ``message_id``: the
    platform's id once it took the message; ``deadline``: proven by then, or it is ``lost``; ``status``: one of
    :data:`CHECK_STATUSES`; ``proven_by``: the integration id of the fleet number that received it (None: the
    platform's "delivered"); ``trigger``: ``schedule`` or ``manual``. Times: Unix seconds."""

    code: str
    integration_id: str
    organization_id: str
    witness: str
    sent_at: float
    deadline: float
    status: str = "pending"
    message_id: str | None = None
    settled_at: float | None = None
    detail: str | None = None
    actor: str | None = None
    trigger: str = "schedule"
    proven_by: str | None = None


@dataclass(frozen=True)
class DeliveryState:
    """A number's proof of delivery, from its checks (view ``wpp_console_delivery_states``): when delivery was last
    proven, since when its checks fail (the first one not delivered after the last proven; None: not failing), since
    when one is under way, when the last was sent and how many there were. Times: Unix seconds."""

    integration_id: str
    proven_at: float | None = None
    failing_since: float | None = None
    pending_since: float | None = None
    last_sent_at: float | None = None
    checks: int = 0

    @property
    def failing(self) -> bool:
        return self.failing_since is not None

    def not_delivering_since(self, connected_since: float | None) -> float | None:
        """Since when a number that is connected (since ``connected_since``, the board's ``since``) has not been
        delivering, or None. A failure from before it was connected again (the phone was relinked) counts only once a
        check sent since then has not been delivered either (the proof pass sends one at once): then it is not
        delivering since it was connected again."""
        if self.failing_since is None:
            return None
        if connected_since is None or self.failing_since >= connected_since:
            return self.failing_since
        if self.pending_since is None and self.last_sent_at is not None and self.last_sent_at >= connected_since:
            return connected_since
        return None

    def judged(self, connected_since: float | None, witness: "Witness | None") -> float | None:
        """:meth:`not_delivering_since` for a number whose checks go to ``witness`` (the one that applies to its
        school now). No witness: delivery can no longer be proven either way, so the number is not said to be "not
        delivering" (an open incident of that kind closes without a recovery). A failure from before the witness was
        named (or replaced) counts only once a check to it has failed too, as after a relink."""
        if witness is None:
            return None
        since = connected_since
        if witness.set_at is not None and (since is None or witness.set_at > since):
            since = witness.set_at
        return self.not_delivering_since(since)


@dataclass(frozen=True)
class WebhookCount:
    """How many pushes to the console's webhook ended how (table ``wpp_console_webhook_counts``): ``scope`` is a
    number's integration id, or ``"*"`` for all of them together (pushes with an unknown address only count there);
    ``kind`` is accepted | duplicate | ignored | unknown | too_big | malformed | mismatch | error; ``last_at`` the
    latest of them (Unix seconds)."""

    scope: str
    kind: str
    n: int
    last_at: float | None = None
