"""The simulated WPP Platform's state and rules, without HTTP.

Every operation takes the lock, reads logical time from the injected clock and computes QR rotation and
state transitions lazily, so a :class:`~wpp.clock.ManualClock` drives everything.  HTTP-facing operations
return ``(status_code, json_body)``; :class:`Reply` short-circuits with an error answer.

An account is :mod:`wpp.simulator.accounts`; what is pushed to webhooks :mod:`wpp.simulator.pushes`; what
tests and the demo do beside the API (scan, set a state, expire tokens …) :mod:`wpp.simulator.controls`.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import io
import itertools
import json
import re
import secrets
import threading
import uuid
from collections import OrderedDict
from typing import Any

import jwt

from .accounts import _PHASE_TO_STATE, Account, new_qr_text, phone_for
from .controls import _Controls
from .knobs import SimKnobs
from .pushes import _Pushes

INVALID_TOKEN = {"error": "Invalid token"}
INVALID_API_KEY = {"error": "Invalid API key"}
FORBIDDEN = {"error": "Forbidden"}
ACCOUNT_NOT_FOUND = {"error": "Account not found"}

_SPELLINGS = {
    "lower": {"connected": "connected", "qr_required": "qr_required", "starting": "starting", "offline": "offline"},
    "upper": {"connected": "CONNECTED", "qr_required": "QRCODE", "starting": "STARTING", "offline": "OFFLINE"},
    "alt": {"connected": "ready", "qr_required": "qr_required", "starting": "pending", "offline": "offline"},
}
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


class Platform(_Pushes, _Controls):
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


__all__ = ["MESSAGE_KINDS", "Account", "BadBody", "Platform", "Reply", "hs256_encode", "hs256_verify", "new_qr_text",
           "phone_for"]
