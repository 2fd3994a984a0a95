"""The simulated WPP Platform's state and rules, without HTTP.

Every operation takes the lock, reads logical time from the injected clock and computes QR rotation and
state transitions lazily, so a :class:`~wpp.clock.ManualClock` drives everything.  HTTP-facing operations
return ``(status_code, json_body)``; :class:`Reply` short-circuits with an error answer.
"""
from __future__ import annotations

import base64
import hashlib
import heapq
import hmac
import io
import itertools
import json
import re
import secrets
import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import jwt

from ..masking import mask
from ..models import ConnState, Status
from .knobs import SimKnobs

INVALID_TOKEN = {"error": "Invalid token"}
INVALID_API_KEY = {"error": "Invalid API key"}
FORBIDDEN = {"error": "Forbidden"}
ACCOUNT_NOT_FOUND = {"error": "Account not found"}

_SPELLINGS = {
    "lower": {"connected": "connected", "qr_required": "qr_required", "starting": "starting", "offline": "offline"},
    "upper": {"connected": "CONNECTED", "qr_required": "QRCODE", "starting": "STARTING", "offline": "OFFLINE"},
    "alt": {"connected": "ready", "qr_required": "qr_required", "starting": "pending", "offline": "offline"},
}
_PHASE_TO_STATE = {"connected": "connected", "qr": "qr_required", "starting": "starting", "offline": "offline"}
_TO_RE = re.compile(r"^\d{10,15}$")
MEDIA_KINDS = ("image", "file", "video", "audio", "document", "documents")
MESSAGE_KINDS = ("text", *MEDIA_KINDS, "location")


class Reply(Exception):
    """An answer to send right away (usually an error)."""

    def __init__(self, status: int, body: Any):
        super().__init__(status)
        self.status = status
        self.body = body


class BadBody:
    """Stands for a request body that was not a JSON object."""

    def __init__(self, reason: str):
        self.reason = reason


def new_qr_text() -> str:
    """Pairing text shaped like WhatsApp's: ref, noise key, identity key, adv secret."""
    ref = "2@" + base64.b64encode(secrets.token_bytes(66)).decode()
    parts = [base64.b64encode(secrets.token_bytes(n)).decode() for n in (32, 32, 32)]
    return ",".join([ref, *parts])


class _PngCache:
    def __init__(self, size: int = 64):
        self._size = size
        self._items: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()

    def b64png(self, text: str) -> str:
        with self._lock:
            hit = self._items.get(text)
            if hit is not None:
                self._items.move_to_end(text)
                return hit
        import qrcode  # imported lazily: only the base64/dataurl forms need it

        img = qrcode.make(text)
        buf = io.BytesIO()
        img.save(buf, format="PNG")
        value = base64.b64encode(buf.getvalue()).decode("ascii")
        with self._lock:
            self._items[text] = value
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return value


_PNG = _PngCache()


@dataclass
class Account:
    organization_id: str
    session: str
    api_key: str
    created_at: float
    phase: str = "starting"  # starting | qr | connected | offline
    phase_since: float = 0.0
    qr_text: str | None = None
    qr_since: float = 0.0
    qr_first: bool = True
    codes_expired: int = 0
    webhook: str | None = None
    phone: str | None = None  # the linked phone's own number (digits), once a phone is linked
    pushed_phase: str | None = None  # the phase the last state push told the webhook about
    pushed_qr: str | None = None  # the QR code the last "qr" push carried
    #: the seeds' stale-key incident: the apiKey still mints tokens, but every call made with them is refused
    #: (401 Invalid token), as when the console holds a key the platform has replaced
    stale_key: bool = False
    #: keeps showing QR codes however many expire unscanned (the demo's fleet number waiting for its scan)
    patient: bool = False


def phone_for(session: str) -> str:
    """The number of the phone the simulator "links" to an account when no other is given: a Russian
    mobile derived from the session, e.g. ``"0000000000004"`` -> ``"79000000004"``."""
    digits = "".join(ch for ch in str(session) if ch.isdigit()) or "0"
    return f"7900{int(digits) % 10_000_000:07d}"


def _clean_phone(phone: Any) -> str | None:
    if phone is None:
        return None
    digits = str(phone).strip().lstrip("+")
    if not (digits.isascii() and digits.isdigit() and 8 <= len(digits) <= 15):
        raise ValueError("phone must be 8-15 digits with the country code")
    return digits


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def hs256_encode(claims: dict, key: str | bytes) -> str:
    """An HS256 JWT. Done by hand for keys of any length (PyJWT warns about short HMAC keys, and the
    simulator's default Supabase secret is a short fake)."""
    key_b = key.encode() if isinstance(key, str) else key
    head = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    body = _b64url(json.dumps(claims, separators=(",", ":")).encode())
    sig = hmac.new(key_b, f"{head}.{body}".encode("ascii"), hashlib.sha256).digest()
    return f"{head}.{body}.{_b64url(sig)}"


def hs256_verify(token: str, key: str | bytes) -> dict | None:
    """The claims of an HS256 JWT signed with ``key``, or None (bad shape, algorithm or signature)."""
    key_b = key.encode() if isinstance(key, str) else key
    try:
        head_b64, body_b64, sig_b64 = token.split(".")
        header = jwt.get_unverified_header(token)
        if header.get("alg") != "HS256":
            return None
        expected = hmac.new(key_b, f"{head_b64}.{body_b64}".encode("ascii"), hashlib.sha256).digest()
        given = base64.urlsafe_b64decode(sig_b64 + "=" * (-len(sig_b64) % 4))
        if not hmac.compare_digest(expected, given):
            return None
        claims = jwt.decode(token, options={"verify_signature": False})
    except (ValueError, UnicodeError, jwt.PyJWTError):
        return None
    return claims if isinstance(claims, dict) else None


def _bearer(header: str | None) -> str | None:
    if not header:
        return None
    parts = header.strip().split(None, 1)
    if len(parts) != 2 or parts[0].lower() != "bearer" or not parts[1].strip():
        return None
    return parts[1].strip()


def _obj(body: Any) -> dict:
    if isinstance(body, BadBody):
        raise Reply(400, {"error": body.reason})
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise Reply(400, {"error": "Request body must be a JSON object"})
    return body


def _nonempty_str(body: dict, name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise Reply(400, {"error": f"{name} is required"})
    return value


# --- pushes to webhooks ------------------------------------------------------------------------------------------
_STATE_EVENT = {"connected": "connected", "offline": "offline", "qr": "qr"}


def _envelope(kind: str, session: str, now: float, **data: Any) -> dict:
    return {"id": "evt_" + uuid.uuid4().hex, "type": kind, "created": int(now * 1000),
            "data": {"account": session, **data}}


def _delivery(session: str, task_id: str, status: str, **extra: Any) -> dict:
    return {"type": "delivery", "account": session, "messageId": task_id, "status": status, **extra}


class _Pushes:
    """The push side of :class:`Platform` (mixed in below): what is due to which webhook, shaped as the knobs say."""

    def _state_phase(self, acct: Account) -> str:
        self._advance(acct)
        return acct.phase

    def _queue_push(self, session: str, due: float, body: dict) -> None:
        heapq.heappush(self._pushes, (due, next(self._push_seq), session, body))

    def _schedule_delivery(self, acct: Account, task_id: str, record: dict) -> None:
        k = self.knobs
        lost = k.lost_sessions.get(acct.session, k.lose_messages)
        if lost == "silent":
            record["status"] = "lost"
            return  # accepted, then nothing: never sent, never delivered, nothing pushed
        if lost == "none" and not k.messages_fail:
            self._deliver_to_fleet(acct, record)
        if not (k.push_events and acct.webhook):
            return
        now = self.clock.time()
        if k.messages_fail or lost == "dead":
            at = now + float(k.push_sent_s)
            if k.push_shape == "flat":
                body = _delivery(acct.session, task_id, "error", error="Recipient is not on WhatsApp")
            else:
                body = _envelope("message.dead", acct.session, at, messageId=task_id,
                                 error="Recipient is not on WhatsApp")
            self._queue_push(acct.session, at, body)
            return
        at = now + float(k.push_sent_s)
        if k.push_shape == "flat":
            self._queue_push(acct.session, at, _delivery(acct.session, task_id, "sent"))
        else:
            self._queue_push(acct.session, at, _envelope("message.sent", acct.session, at, messageId=task_id,
                                                         to=record.get("to")))
        self._queue_push(acct.session, now + float(k.push_delivered_s), _delivery(acct.session, task_id, "delivered"))
        if k.push_read:
            self._queue_push(acct.session, now + float(k.push_read_s), _delivery(acct.session, task_id, "read"))

    def _deliver_to_fleet(self, sender: Account, record: dict) -> None:
        """A text to the phone linked to another account of this platform arrives there: that account's webhook gets
        it as an incoming message (``push_incoming_s`` later), from the sender's phone."""
        to = record.get("to")
        if record.get("type") != "text" or not to:
            return
        for other in self._accounts.values():
            if other is sender or not other.webhook or self._state(other) != "connected":
                continue
            if (other.phone or phone_for(other.session)) == to:
                self._queue_incoming(other, sender.phone or phone_for(sender.session), str(record.get("text") or ""),
                                     self.clock.time() + float(self.knobs.push_incoming_s))

    def _queue_incoming(self, acct: Account, sender: str, text: str, due: float) -> str:
        mid = "msg_" + uuid.uuid4().hex[:16]
        if self.knobs.push_events and acct.webhook:
            if self.knobs.push_shape == "envelope":
                body = _envelope("message.incoming", acct.session, due, messageId=mid, **{"from": sender}, text=text)
            else:
                body = {"account": acct.session, "from": sender, "text": text, "type": "chat", "messageId": mid,
                        "fromMe": False}
            self._queue_push(acct.session, due, body)
        return mid

    def _push_delivery(self, acct: Account, task_id: str, status: str, due: float) -> None:
        if self.knobs.push_events and acct.webhook:
            self._queue_push(acct.session, due, _delivery(acct.session, task_id, status))

    def incoming(self, session: str, sender: str = "79001234567", text: str = "Hello") -> str:
        """Someone writes to the account's phone: the webhook gets ``message.incoming`` (envelope) or the flat
        ``{account, from, text, type: "chat", messageId, fromMe: false}``. Returns the message id."""
        with self.lock:
            return self._queue_incoming(self._acct(session), sender, text, self.clock.time())

    def due_pushes(self) -> list[tuple[str, bytes]]:
        """What is to be posted now, in order: ``(webhook address, JSON body)``. State changes of every account with
        a webhook (connected, offline, a new QR code), then the delivery updates whose time has come; with the
        ``push_garbage`` / ``push_replays`` knobs, garbage before and replays after each."""
        out: list[tuple[str, bytes]] = []
        with self.lock:
            k = self.knobs
            if not k.push_events:
                self._pushes.clear()
                return out
            now = self.clock.time()
            events: list[tuple[Account, dict]] = []
            for acct in self._accounts.values():
                if not acct.webhook:
                    continue
                phase = self._state_phase(acct)
                if phase != acct.pushed_phase:
                    acct.pushed_phase = phase
                    if phase in _STATE_EVENT:
                        data: dict[str, Any] = {}
                        if phase == "qr":
                            data["qr"] = self._qr_value(acct.qr_text)
                            acct.pushed_qr = acct.qr_text
                        if phase == "connected" and self.knobs.report_phone:
                            data["phone"] = acct.phone or phone_for(acct.session)
                        events.append((acct, _envelope(_STATE_EVENT[phase], acct.session, now, **data)))
                elif phase == "qr" and acct.qr_text != acct.pushed_qr:
                    acct.pushed_qr = acct.qr_text
                    events.append((acct, _envelope("qr", acct.session, now, qr=self._qr_value(acct.qr_text))))
            while self._pushes and self._pushes[0][0] <= now:
                _due, _seq, session, body = heapq.heappop(self._pushes)
                acct = self._accounts.get(session)
                if acct is not None and acct.webhook:
                    events.append((acct, body))
            for acct, body in events:
                raw = json.dumps(body).encode("utf-8")
                if k.push_garbage:
                    out.append((acct.webhook, b'{"type": "connected", "data": {"account"'))
                    other = dict(body, account="9" * 13) if "data" not in body else \
                        dict(body, id="evt_" + uuid.uuid4().hex, data=dict(body["data"], account="9" * 13))
                    out.append((acct.webhook, json.dumps(other).encode("utf-8")))
                out.append((acct.webhook, raw))
                out.extend((acct.webhook, raw) for _ in range(int(k.push_replays)))
        return out



class Platform(_Pushes):
    def __init__(self, knobs: SimKnobs, clock, secret: str, supabase_jwt_secret: str):
        self.knobs = knobs
        self.clock = clock
        self.secret = secret
        self.supabase_jwt_secret = supabase_jwt_secret
        self.lock = threading.RLock()
        self._forget_all()
        self.reset_counters()

    # --- bookkeeping -----------------------------------------------------------------------------
    def _forget_all(self) -> None:
        self._signing_key = secrets.token_bytes(32)
        self._accounts: dict[str, Account] = {}
        self._by_org: dict[str, str] = {}
        self._by_key: dict[str, str] = {}
        self._session_counter = 0
        self._token_serial = 0
        self._token_exp: dict[int, float] = {}
        self._revoked_all = 0
        self._revoked: dict[str, int] = {}
        self._messages: list[dict] = []
        self._by_task: dict[str, dict] = {}
        # pushes to registered webhooks, due at a time of the clock: (due, seq, session, body)
        self._pushes: list[tuple[float, int, str, dict]] = []
        self._push_seq = itertools.count()
        self._push_counts: dict[str, int] = {}

    def reset_all(self) -> None:
        with self.lock:
            self._forget_all()
            self.reset_counters()
            self.knobs.faults.clear()

    def reset_counters(self) -> None:
        with self.lock:
            self._requests: dict[str, int] = {}
            self._tokens_minted = 0
            self._clients_created = 0
            self._in_flight = getattr(self, "_in_flight", 0)  # requests being answered right now survive a reset
            self._peak_in_flight = self._in_flight
            self._push_counts = {}

    def count_request(self, key: str) -> None:
        """A platform request arrived (its answer is still to come: see :meth:`request_done`)."""
        with self.lock:
            self._requests[key] = self._requests.get(key, 0) + 1
            self._in_flight += 1
            self._peak_in_flight = max(self._peak_in_flight, self._in_flight)

    def request_done(self) -> None:
        with self.lock:
            self._in_flight = max(0, self._in_flight - 1)

    def stats(self) -> dict:
        with self.lock:
            return {
                "requests": dict(self._requests),
                "tokens_minted": self._tokens_minted,
                "clients_created": self._clients_created,
                "in_flight": self._in_flight,
                "peak_in_flight": self._peak_in_flight,
            }

    def push_stats(self) -> dict:
        """Pushes posted to webhooks by outcome (an HTTP status code as text, or "failed"), and their "total"."""
        with self.lock:
            return dict(self._push_counts)

    def count_push(self, outcome: str) -> None:
        """A push went out: ``outcome`` is its HTTP status code (as text) or "failed" (nobody answered)."""
        with self.lock:
            self._push_counts[outcome] = self._push_counts.get(outcome, 0) + 1
            self._push_counts["total"] = self._push_counts.get("total", 0) + 1

    def count(self, endpoint: str) -> int:
        with self.lock:
            return self._requests.get(endpoint, 0)

    def take_fault(self, key: str, path: str):
        """The first fault matching this request (its ``times`` used up by one), or None."""
        with self.lock:
            faults = self.knobs.faults
            for fault in list(faults):
                if fault.matches(key, path):
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            faults.remove(fault)
                    return fault
        return None

    # --- the account life cycle (lazy) ------------------------------------------------------------
    def _advance(self, acct: Account) -> None:
        now = self.clock.time()
        k = self.knobs
        if acct.phase == "starting":
            t = acct.phase_since + max(0.0, float(k.starting_s))
            if now < t:
                return
            self._enter_qr(acct, t)
        if acct.phase != "qr":
            return
        life = float(k.qr_first_s if acct.qr_first else k.qr_rotate_s)
        expires = acct.qr_since + max(life, 1e-3)
        if now < expires:
            return
        acct.codes_expired += 1
        limit = None if acct.patient else k.qr_max_codes
        if limit is not None and acct.codes_expired >= limit:
            self._go_offline(acct, expires)
            return
        period = max(float(k.qr_rotate_s), 1e-3)
        more = int((now - expires) // period)  # later codes that also expired unscanned
        if limit is not None and acct.codes_expired + more >= limit:
            self._go_offline(acct, expires + (limit - acct.codes_expired) * period)
            acct.codes_expired = limit
            return
        acct.codes_expired += more
        acct.qr_since = expires + more * period
        acct.qr_first = False
        acct.qr_text = new_qr_text()

    def _enter_qr(self, acct: Account, since: float) -> None:
        acct.phase = "qr"
        acct.phase_since = since
        acct.qr_since = since
        acct.qr_first = True
        acct.codes_expired = 0
        acct.qr_text = new_qr_text()

    def _go_offline(self, acct: Account, since: float) -> None:
        acct.phase = "offline"
        acct.phase_since = since
        acct.qr_text = None

    def _start(self, acct: Account) -> None:
        acct.phase = "starting"
        acct.phase_since = self.clock.time()
        acct.qr_text = None
        acct.codes_expired = 0

    def _state(self, acct: Account) -> str:
        self._advance(acct)
        return _PHASE_TO_STATE[acct.phase]

    def _spelled(self, acct: Account) -> str:
        return _SPELLINGS[self.knobs.status_spelling][self._state(acct)]

    def _qr_value(self, text: str | None) -> str | None:
        if text is None:
            return None
        form = self.knobs.qr_form
        if form == "raw":
            return text
        b64 = _PNG.b64png(text)
        return b64 if form == "base64" else "data:image/png;base64," + b64

    # --- auth -------------------------------------------------------------------------------------
    def _check_create_auth(self, header: str | None) -> None:
        token = _bearer(header)
        if not token:
            raise Reply(401, INVALID_TOKEN)
        if hmac.compare_digest(token.encode(), self.secret.encode()):
            return
        claims = hs256_verify(token, self.supabase_jwt_secret)
        if claims is None:
            raise Reply(401, INVALID_TOKEN)
        exp = claims.get("exp")
        ok = (
            isinstance(claims.get("sub"), str)
            and bool(claims["sub"])
            and claims.get("role") == "authenticated"
            and (exp is None or (isinstance(exp, (int, float)) and self.clock.time() < exp))
        )
        if not ok:
            raise Reply(401, INVALID_TOKEN)

    def _account_from_jwt(self, header: str | None) -> Account:
        token = _bearer(header)
        if not token:
            raise Reply(401, INVALID_TOKEN)
        try:
            claims = jwt.decode(
                token,
                self._signing_key,
                algorithms=["HS256"],
                options={"verify_exp": False, "verify_iat": False, "verify_nbf": False, "verify_aud": False},
            )
            serial = int(claims["jti"])
            session = str(claims["sub"])
        except (jwt.PyJWTError, KeyError, TypeError, ValueError):
            raise Reply(401, INVALID_TOKEN) from None
        exp_at = self._token_exp.get(serial)
        if exp_at is None or self.clock.time() >= exp_at:
            raise Reply(401, INVALID_TOKEN)
        if serial <= self._revoked_all or serial <= self._revoked.get(session, 0):
            raise Reply(401, INVALID_TOKEN)
        acct = self._accounts.get(session)
        if acct is None or acct.stale_key:
            raise Reply(401, INVALID_TOKEN)
        return acct

    def _path_account(self, session: str, owner: Account) -> Account:
        acct = self._accounts.get(session)
        if acct is None:
            raise Reply(404, ACCOUNT_NOT_FOUND)
        if acct is not owner:
            raise Reply(403, FORBIDDEN)
        return acct

    # --- HTTP operations --------------------------------------------------------------------------
    def create(self, auth: str | None, body: Any) -> tuple[int, Any]:
        with self.lock:
            self._check_create_auth(auth)
            org = _nonempty_str(_obj(body), "organizationId")
            session = self._by_org.get(org)
            if session is None:
                self._session_counter += 1
                while f"{self._session_counter:013d}" in self._accounts:  # one an adopted account already has
                    self._session_counter += 1
                session = f"{self._session_counter:013d}"
                api_key = secrets.token_urlsafe(32)
                acct = Account(organization_id=org, session=session, api_key=api_key, created_at=self.clock.time())
                self._start(acct)
                self._accounts[session] = acct
                self._by_org[org] = session
                self._by_key[api_key] = session
                self._clients_created += 1
            acct = self._accounts[session]
            return 200, {"apiKey": acct.api_key, "session": acct.session, "status": self._spelled(acct)}

    def mint_token(self, body: Any) -> tuple[int, Any]:
        with self.lock:
            api_key = _nonempty_str(_obj(body), "apiKey")
            session = self._by_key.get(api_key)
            now = self.clock.time()
            if session is None:
                raise Reply(403, INVALID_API_KEY)
            acct = self._accounts[session]
            if now < acct.created_at + float(self.knobs.key_activation_delay_s):
                raise Reply(403, INVALID_API_KEY)
            lifetime = self.knobs.token_lifetime_s
            self._token_serial += 1
            serial = self._token_serial
            claims: dict[str, Any] = {
                "sub": session,
                "organizationId": acct.organization_id,
                "iat": int(now),
                "jti": str(serial),
            }
            exp_at = now + float(lifetime)
            if self.knobs.include_exp_claim:
                exp_at = float(int(exp_at))
                claims["exp"] = int(exp_at)
            self._token_exp[serial] = exp_at
            self._tokens_minted += 1
            out: dict[str, Any] = {"token": jwt.encode(claims, self._signing_key, algorithm="HS256")}
            if self.knobs.include_expires_in:
                out["expiresIn"] = int(lifetime) if float(lifetime).is_integer() else lifetime
            return 200, out

    def start(self, auth: str | None, body: Any) -> tuple[int, Any]:
        with self.lock:
            owner = self._account_from_jwt(auth)
            data = _obj(body)
            number = data.get("number")
            if not isinstance(number, str) or not number.strip():
                raise Reply(400, {"error": "number is required"})
            acct = self._path_account(number, owner)
            state = self._state(acct)
            if state == "offline":
                self._start(acct)
                self._advance(acct)  # starting_s may be 0
            if self.knobs.start_returns_qr and acct.qr_text is not None:
                return 200, {"qr": self._qr_value(acct.qr_text)}
            return 200, {"status": self._spelled(acct)}

    def status(self, auth: str | None, session: str) -> tuple[int, Any]:
        with self.lock:
            acct = self._path_account(session, self._account_from_jwt(auth))
            out: dict[str, Any] = {"status": self._spelled(acct)}
            if self.knobs.report_phone and acct.phase == "connected":
                out["phone"] = acct.phone or phone_for(acct.session)
            return 200, out

    def qr(self, auth: str | None, session: str) -> tuple[int, Any]:
        with self.lock:
            acct = self._path_account(session, self._account_from_jwt(auth))
            self._advance(acct)
            text = acct.qr_text if acct.phase == "qr" else None
        value = self._qr_value(text)  # PNG rendering outside the lock
        field = self.knobs.qr_field
        if field == "data.qr":
            return 200, {"data": {"qr": value}}
        return 200, {field: value}

    def send(self, auth: str | None, kind: str, body: Any) -> tuple[int, Any]:
        with self.lock:
            owner = self._account_from_jwt(auth)
            data = _obj(body)
            account = data.get("account")
            if account is not None and account != "":
                if str(account) not in self._accounts:
                    raise Reply(404, ACCOUNT_NOT_FOUND)
                if self._accounts[str(account)] is not owner:
                    raise Reply(403, FORBIDDEN)
            to = data.get("to")
            if isinstance(to, int) and not isinstance(to, bool):
                to = str(to)
            if not isinstance(to, str) or not _TO_RE.match(to):
                raise Reply(400, {"error": "Invalid 'to': expected 10-15 digits including the country code"})
            record: dict[str, Any] = {"type": kind, "to": to}
            if kind == "text":
                text = data.get("text")
                if not isinstance(text, str) or not text.strip():
                    raise Reply(400, {"error": "text is required"})
                record["text"] = text
            elif kind == "location":
                try:
                    lat, lng = float(data["lat"]), float(data["lng"])
                except (KeyError, TypeError, ValueError):
                    raise Reply(400, {"error": "lat and lng are required numbers"}) from None
                if not (-90 <= lat <= 90 and -180 <= lng <= 180):
                    raise Reply(400, {"error": "lat/lng out of range"})
                record.update(lat=lat, lng=lng, name=data.get("name"), address=data.get("address"))
            else:
                url = data.get("url")
                if not isinstance(url, str) or not url.strip():
                    raise Reply(400, {"error": "url is required"})
                record.update(url=url, caption=data.get("caption"), filename=data.get("filename"))
            if self._state(owner) != "connected":
                return 200, {"status": "error", "message": "Account is not connected"}
            task_id = str(uuid.uuid4())
            record.update(
                taskId=task_id,
                session=owner.session,
                organizationId=owner.organization_id,
                priority=data.get("priority"),
                status="queued",
                createdAt=self.clock.time(),
            )
            self._messages.append(record)
            self._by_task[task_id] = record
            self._schedule_delivery(owner, task_id, record)
            return 200, {"taskId": task_id, "status": "queued", "message": "Message queued"}

    def delete_message(self, auth: str | None, task_id: str) -> tuple[int, Any]:
        with self.lock:
            owner = self._account_from_jwt(auth)
            record = self._by_task.get(task_id)
            if record is None or record["session"] != owner.session or record["status"] == "deleted":
                raise Reply(404, {"error": "Message not found"})
            record["status"] = "deleted"
            self._push_delivery(owner, task_id, "deleted", self.clock.time())
            return 200, {"status": "deleted"}

    def stop_session(self, auth: str | None, session: str) -> tuple[int, Any]:
        with self.lock:
            acct = self._path_account(session, self._account_from_jwt(auth))
            self._go_offline(acct, self.clock.time())
            return 200, {"status": _SPELLINGS[self.knobs.status_spelling]["offline"]}

    def set_webhook(self, auth: str | None, session: str, body: Any) -> tuple[int, Any]:
        with self.lock:
            acct = self._path_account(session, self._account_from_jwt(auth))
            acct.webhook = _nonempty_str(_obj(body), "url")
            acct.pushed_phase = self._state_phase(acct)  # from now on, every change of state is pushed
            acct.pushed_qr = acct.qr_text
            return 200, {"status": "ok"}

    # --- test/control helpers ---------------------------------------------------------------------
    def _acct(self, session: str) -> Account:
        acct = self._accounts.get(session)
        if acct is None:
            raise KeyError(f"no account with session {session!r}")
        return acct

    def adopt(self, organization_id: str, session: str, api_key: str, *, state: str, phone: str | None = None,
              patient: bool = False) -> None:
        """Know an account the platform already had (the demo's fleet, after the console restarted the in-memory
        simulator): its organizationId, session and apiKey as the console stored them, in ``state`` (connected,
        offline, qr_required or starting), linked to ``phone``. Idempotent; an account of that session is replaced."""
        linked = _clean_phone(phone)
        with self.lock:
            old = self._accounts.pop(str(session), None)
            if old is not None:
                self._by_key.pop(old.api_key, None)
                self._by_org.pop(old.organization_id, None)
            acct = Account(organization_id=str(organization_id), session=str(session), api_key=str(api_key),
                           created_at=self.clock.time(), phone=linked, patient=bool(patient))
            self._accounts[acct.session] = acct
            self._by_org[acct.organization_id] = acct.session
            self._by_key[acct.api_key] = acct.session
        self.set_status(acct.session, state)

    def current_qr(self, session: str) -> str | None:
        with self.lock:
            acct = self._acct(session)
            self._advance(acct)
            return acct.qr_text if acct.phase == "qr" else None

    def scan(self, session: str, qr_text: str, phone: str | None = None) -> bool:
        """The phone scans ``qr_text``; when it is the code on screen the account is linked (to ``phone``, digits
        with the country code, or a number derived from the session)."""
        linked = _clean_phone(phone)
        with self.lock:
            acct = self._acct(session)
            self._advance(acct)
            if acct.phase != "qr" or not acct.qr_text or not isinstance(qr_text, str):
                return False
            if not hmac.compare_digest(acct.qr_text.encode(), qr_text.encode()):
                return False
            acct.phase = "connected"
            acct.phase_since = self.clock.time()
            acct.qr_text = None
            acct.phone = linked or acct.phone or phone_for(acct.session)
            return True

    def rotate_qr(self, session: str) -> str | None:
        with self.lock:
            acct = self._acct(session)
            self._advance(acct)
            if acct.phase == "starting":
                self._enter_qr(acct, self.clock.time())
            elif acct.phase == "qr":
                acct.qr_text = new_qr_text()
                acct.qr_since = self.clock.time()
                acct.qr_first = False
            else:
                return None
            return acct.qr_text

    def set_status(self, session: str, state: str) -> str:
        parsed = Status.parse(state).state
        with self.lock:
            acct = self._acct(session)
            now = self.clock.time()
            if parsed is ConnState.CONNECTED:
                acct.phase, acct.phase_since, acct.qr_text = "connected", now, None
            elif parsed is ConnState.OFFLINE:
                self._go_offline(acct, now)
            elif parsed is ConnState.QR_REQUIRED:
                self._enter_qr(acct, now)
            elif parsed is ConnState.STARTING:
                self._start(acct)
            else:
                raise ValueError(f"unknown state {state!r}: use connected, offline, qr_required or starting")
            return _PHASE_TO_STATE[acct.phase]

    def expire_tokens(self, session: str | None = None) -> None:
        with self.lock:
            if session is None:
                self._revoked_all = self._token_serial
            else:
                self._revoked[session] = self._token_serial

    def make_key_stale(self, session: str, stale: bool = True) -> None:
        """The seeds' stale-key incident (or its end): ``POST /auth/token`` with the account's apiKey still mints
        tokens, but every ``/api`` call made with them answers ``401 {"error": "Invalid token"}``."""
        with self.lock:
            self._acct(session).stale_key = bool(stale)

    def revoke_api_key(self, session: str) -> None:
        """The account's apiKey is no longer accepted: ``POST /auth/token`` answers ``403 Invalid API key`` (tokens
        minted before keep working until they expire or are expired)."""
        with self.lock:
            acct = self._acct(session)
            self._by_key.pop(acct.api_key, None)

    def messages(self, session: str | None = None) -> list[dict]:
        with self.lock:
            return [dict(m) for m in self._messages if session is None or m["session"] == session]

    def accounts(self) -> list[dict]:
        with self.lock:
            out = []
            for acct in self._accounts.values():
                out.append(
                    {
                        "organizationId": acct.organization_id,
                        "session": acct.session,
                        "status": self._state(acct),
                        "apiKey": mask(acct.api_key),
                        "webhook": acct.webhook,
                        "createdAt": acct.created_at,
                        "staleKey": acct.stale_key,
                    }
                )
            return out

    def api_key_for(self, organization_id: str) -> str:
        with self.lock:
            session = self._by_org.get(organization_id)
            if session is None:
                raise KeyError(f"no account for organization {organization_id!r}")
            return self._accounts[session].api_key

