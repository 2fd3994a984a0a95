"""The WPP Platform HTTP client: one method per endpoint, typed results, typed errors.

- Thread-safe and shared: ``max_connections`` connections in all, split over a few ``httpx.Client``
  pools ("shards", a thread keeps its shard) with an explicit ``httpx.Timeout``. httpcore re-scans every
  connection of a pool for every queued request, so one pool of 50 busy connections spent ~45 % of the
  fleet refresh's CPU on that bookkeeping (bench/bench_fleet.py); shards of ~8 keep it small.
- Every ``{session}`` / ``{taskId}`` is validated and percent-encoded before anything is sent.
- Every answer goes through :meth:`WppClient._error_for` (the ONE mapping from HTTP/transport
  outcomes to :mod:`wpp.errors`); nothing from httpx escapes, and no secret reaches a message,
  a repr or a log line (log lines carry method, path, status and duration only).
"""
from __future__ import annotations

import itertools
import json
import logging
import math
import threading
import time
from typing import Any, Iterable
from urllib.parse import quote

import httpx

from . import jwtinfo, phone, qr as qrmod, validation
from .clock import SYSTEM_CLOCK
from .errors import (
    BadResponse,
    InvalidApiKey,
    InvalidInput,
    InvalidSecret,
    InvalidToken,
    MessageFailed,
    NotFound,
    PlatformError,
    PlatformTimeout,
    PlatformUnreachable,
    WppError,
    WrongAccount,
)
from .i18n import N_, Text
from .masking import Secret, mask, reveal, scrub
from .models import CreatedClient, MintedToken, SendResult, StartResult, Status
from .textutil import short

log = logging.getLogger("wpp.client")

AuthLike = httpx.Auth | str  # a str (or a masking.Secret) is a bearer JWT
DETAIL_BODY_CHARS = 300
MEDIA_KINDS = ("file", "video", "audio", "document")
MAX_TOKEN_CHARS = 8192


class BearerAuth(httpx.Auth):
    """A fixed bearer credential that never shows itself."""

    def __init__(self, token: "str | Secret"):
        self._token = Secret(reveal(token) or "")

    def __repr__(self) -> str:
        return f"BearerAuth({self._token.masked})"

    def known_secrets(self) -> list[str]:
        return [self._token.reveal()]

    def auth_flow(self, request: httpx.Request):
        request.headers["Authorization"] = f"Bearer {self._token.reveal()}"
        yield request


def _as_auth(auth: Any) -> httpx.Auth:
    if isinstance(auth, httpx.Auth):
        return auth
    if isinstance(auth, (str, Secret)) and reveal(auth):
        return BearerAuth(auth)
    raise InvalidInput(
        N_("No access key was given for this request."),
        action=N_("Open \u201cAccess\u201d and press \u201cGet a new access key\u201d."),
    )


def _secrets_of(auth: Any) -> list[str]:
    fn = getattr(auth, "known_secrets", None)
    if callable(fn):
        try:
            return [s for s in fn() if s]
        except Exception:  # pragma: no cover - defensive
            return []
    return []


def _error_text(body: Any) -> str | None:
    """The platform's own words from an error body ({"error"|"message"|"detail": ...})."""
    if isinstance(body, dict):
        for k in ("error", "message", "detail", "msg"):
            v = body.get(k)
            if isinstance(v, str) and v.strip():
                return v.strip()[:2000]
            if isinstance(v, dict):
                inner = _error_text(v)
                if inner:
                    return inner
    return None


class WppClient:
    """Talks to one WPP Platform. Thread-safe; share one per process."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 10.0,
        connect_timeout: float = 5.0,
        transport: httpx.BaseTransport | None = None,
        max_connections: int = 64,
        secret: "str | Secret | None" = None,
        clock=None,
    ):
        base = str(base_url or "").strip().rstrip("/")
        if not base.lower().startswith(("http://", "https://")):
            raise InvalidInput(
                N_("The platform address \u201c{address}\u201d must start with http:// or https://.",
                   address=short(base, 60)),
                action=N_("Fix the platform address in Settings."),
            )
        self.base_url = base
        self.clock = clock if clock is not None else SYSTEM_CLOCK
        self._secret = Secret(reveal(secret)) if secret else None
        self.timeout = httpx.Timeout(timeout, connect=connect_timeout, pool=max(connect_timeout, timeout))
        max_connections = max(1, int(max_connections))
        n_shards = max(1, math.ceil(max_connections / self.SHARD_SIZE))
        base_size, extra = divmod(max_connections, n_shards)  # sizes add up to exactly max_connections
        self._shards = [
            httpx.Client(
                base_url=base,
                timeout=self.timeout,
                limits=httpx.Limits(max_connections=base_size + (i < extra),
                                    max_keepalive_connections=base_size + (i < extra)),
                transport=transport,
                follow_redirects=False,
                headers={"Accept": "application/json", "User-Agent": "wpp-console"},
            )
            for i in range(n_shards)
        ]
        self._next_shard = itertools.count()
        self._local = threading.local()

    #: connections per pool shard (see the module docstring)
    SHARD_SIZE = 8

    @property
    def _http(self) -> httpx.Client:
        """This thread's pool: threads are spread round-robin over the shards on their first request."""
        shard = getattr(self._local, "shard", None)
        if shard is None:
            shard = self._local.shard = self._shards[next(self._next_shard) % len(self._shards)]
        return shard

    # --- life cycle ---------------------------------------------------------------------------
    def close(self) -> None:
        for shard in self._shards:
            shard.close()

    def __enter__(self) -> "WppClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"WppClient({self.base_url!r}, secret={'set' if self._secret else 'none'})"

    # --- the one request path -----------------------------------------------------------------
    def _call(
        self,
        method: str,
        path: str,
        *,
        context: str = "api",
        json_body: Any = None,
        auth: Any = None,
        secrets: Iterable[str | None] = (),
        allow_empty: bool = False,
    ) -> dict | None:
        """Send one request; return the JSON object of a 2xx answer or raise a :class:`WppError`."""
        secret_list = [s for s in secrets if s]
        started = time.perf_counter()
        try:
            response = self._http.request(method, path, json=json_body, auth=auth if auth is not None else httpx.USE_CLIENT_DEFAULT)
        except WppError:
            raise  # from an auth flow (e.g. the token refresh failed): already typed
        except (httpx.HTTPError, OSError) as exc:
            secret_list += _secrets_of(auth)
            ms = (time.perf_counter() - started) * 1000
            log.warning("%s %s -> %s after %.0f ms", method, path, type(exc).__name__, ms)
            raise self._error_for(method, path, context=context, exc=exc, secrets=secret_list) from None
        ms = (time.perf_counter() - started) * 1000
        log.info("%s %s -> %s in %.0f ms", method, path, response.status_code, ms)
        secret_list += _secrets_of(auth)
        if 200 <= response.status_code < 300:
            body, problem = self._parse(response)
            if problem is None and isinstance(body, dict):
                return body
            if problem == "empty" and allow_empty:
                return None
            if problem is None and allow_empty:
                return None  # a non-object JSON answer to a call whose answer we do not need
        raise self._error_for(method, path, context=context, response=response, secrets=secret_list)

    @staticmethod
    def _parse(response: httpx.Response) -> tuple[Any, str | None]:
        """``(json, None)`` or ``(None, "empty" | "html" | "not_json")``."""
        raw = response.content or b""
        if not raw.strip():
            return None, "empty"
        text = raw.decode("utf-8", "replace")
        ctype = response.headers.get("content-type", "").lower()
        if "html" in ctype or text.lstrip()[:1] == "<":
            return None, "html"
        try:
            return json.loads(text), None
        except ValueError:
            return None, "not_json"

    def _error_for(
        self,
        method: str,
        path: str,
        *,
        context: str,
        response: httpx.Response | None = None,
        exc: BaseException | None = None,
        secrets: Iterable[str] = (),
    ) -> WppError:
        """THE mapping from a transport failure or an HTTP answer to one typed, readable error.

        ``context``: ``"create"`` (401 → InvalidSecret), ``"mint"`` (401/403 → InvalidApiKey),
        ``"message"`` (404 is about a message), otherwise ``"api"``. The message is plain words; the HTTP
        status, the method and path and the start of the body go into ``detail`` (English, for support).
        """
        secrets = list(secrets)
        if exc is not None:
            detail = f"{method} {path}: {type(exc).__name__}: {scrub(str(exc), secrets)[:DETAIL_BODY_CHARS]}"
            if isinstance(exc, httpx.TimeoutException):
                if isinstance(exc, httpx.ConnectTimeout):
                    msg = N_("The WhatsApp platform did not accept a connection in time.")
                elif isinstance(exc, httpx.PoolTimeout):
                    msg = N_("Too many requests to the platform are waiting; this one gave up.")
                else:
                    msg = None
                return PlatformTimeout(msg, detail=detail, secrets=secrets)
            if isinstance(exc, (httpx.ConnectError, httpx.NetworkError, httpx.RemoteProtocolError, OSError)):
                msg = None
                if isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError)):
                    msg = N_("The connection to the WhatsApp platform broke off before it answered.")
                return PlatformUnreachable(msg, detail=detail, secrets=secrets)
            return PlatformError(
                N_("The request to the WhatsApp platform could not be made."), detail=detail, secrets=secrets
            )

        assert response is not None
        status = response.status_code
        # scrub BEFORE cutting: a secret cut in half would no longer be recognised and replaced
        raw = scrub((response.content or b"").decode("utf-8", "replace"), secrets)
        body, problem = self._parse(response)
        platform_text = _error_text(body)
        if platform_text:
            platform_text = scrub(platform_text, secrets)
            platform_text = platform_text if len(platform_text) <= 200 else platform_text[:200] + "…"
        shown_body = raw[:DETAIL_BODY_CHARS] + ("…" if len(raw) > DETAIL_BODY_CHARS else "")
        detail = f"{method} {path} → HTTP {status}\n{shown_body if raw.strip() else '(empty body)'}"

        def make(cls, message=None, action=None):
            err = cls(message, action=action, status=status, detail=detail, secrets=secrets)
            err.said = platform_text or None
            return err

        def said(message: Text) -> Text:
            """The message staff read: in words only. The platform's own words (often English: "Invalid token") are
            kept in ``err.said`` and ``detail``, for support."""
            return message

        if 200 <= status < 300:
            return make(BadResponse, {
                "empty": N_("The WhatsApp platform sent an empty answer."),
                "html": N_("The WhatsApp platform sent a web page instead of data."),
                "not_json": N_("The WhatsApp platform sent an answer that is not valid JSON (it may be cut off)."),
                None: N_("The WhatsApp platform sent data of an unexpected shape."),
            }[problem])
        if status == 401:
            if context == "create":
                return make(InvalidSecret)
            if context == "mint":
                return make(InvalidApiKey, said(InvalidApiKey.default_message))
            return make(InvalidToken, said(InvalidToken.default_message))
        if status == 403:
            if context == "mint" or (platform_text and "api key" in platform_text.lower()):
                return make(InvalidApiKey, said(InvalidApiKey.default_message))
            if context == "create":
                return make(InvalidSecret, said(N_("The platform refused to create the number.")))
            return make(WrongAccount, said(WrongAccount.default_message))
        if status == 404:
            if context == "message":
                return make(NotFound, said(N_("The platform does not know this message.")),
                            N_("It may have been deleted already."))
            if context == "api":
                return make(NotFound, said(NotFound.default_message))
            return make(PlatformError, N_("The platform has no such service at this address."),
                        N_("Check the platform address in Settings."))
        if status in (400, 422):
            return make(InvalidInput, said(N_("The platform refused the request as invalid.")),
                        N_("Check the values entered and try again."))
        if status == 429:
            return make(PlatformError, said(N_("The platform is limiting requests.")),
                        N_("Wait a minute and try again."))
        if status >= 500:
            if problem == "html":
                msg = N_("The WhatsApp platform (or a proxy in front of it) answered with an error page.")
            elif problem == "empty":
                msg = N_("The WhatsApp platform failed with an empty answer.")
            elif problem == "not_json":
                msg = N_("The WhatsApp platform failed with an unreadable answer.")
            else:
                msg = said(N_("The WhatsApp platform had an internal error."))
            return make(PlatformError, msg)
        if 300 <= status < 400:
            return make(PlatformError, N_("The platform sent the request somewhere else (a redirect)."),
                        N_("Check the platform address in Settings."))
        return make(PlatformError, said(N_("The WhatsApp platform answered in an unexpected way.")))

    def _bad(self, method: str, path: str, message: Text, what: str, body: Any, secrets: Iterable[str]) -> BadResponse:
        """A 200 answer without something the console needs: ``message`` for staff, ``what`` (English) in detail."""
        secrets = [s for s in secrets if s]
        text = scrub(json.dumps(body, ensure_ascii=False), secrets)[:DETAIL_BODY_CHARS] if body is not None else "(none)"
        return BadResponse(
            message,
            status=200,
            detail=f"{method} {path} → HTTP 200: missing {what}\n{text}",
            secrets=secrets,
        )

    @staticmethod
    def _seg(value: str) -> str:
        return quote(value, safe="")

    # --- create and tokens ---------------------------------------------------------------------
    def create_client(
        self, organization_id: str, *, secret: "str | Secret | None" = None, user_jwt: "str | Secret | None" = None
    ) -> CreatedClient:
        """``POST /api/integrations/wpp/create``: the platform secret first (argument, then the one
        given to the client), else the staff member's Supabase JWT."""
        org = validation.validate_org_id(organization_id)
        credential = reveal(secret) or (self._secret.reveal() if self._secret else None) or reveal(user_jwt)
        if not credential:
            raise InvalidInput(
                N_("The console has no platform secret and you are not signed in, so the number cannot be created "
                   "on the platform."),
                action=N_("Ask an administrator to set the platform secret (WPP_SECRET) in Settings, or sign in."),
            )
        path = "/api/integrations/wpp/create"
        secrets = [credential]
        body = self._call("POST", path, context="create", json_body={"organizationId": org},
                          auth=BearerAuth(credential), secrets=secrets)
        body = body or {}
        api_key = body.get("apiKey")
        if isinstance(api_key, str):
            secrets.append(api_key)
        session = body.get("session")
        if isinstance(session, int) and not isinstance(session, bool):
            session = str(session).zfill(13)
        without_key = {k: v for k, v in body.items() if k != "apiKey"}
        if not isinstance(api_key, str) or not api_key.strip():
            raise self._bad("POST", path, N_("The WhatsApp platform created the number but sent no permanent key for it."),
                            "apiKey", without_key, secrets)
        if not isinstance(session, str) or not session.strip():
            raise self._bad("POST", path, N_("The WhatsApp platform created the number but did not say which account "
                                             "it is."), "session", without_key, secrets)
        try:
            session = validation.validate_session(session)
        except InvalidInput:
            raise self._bad("POST", path, N_("The WhatsApp platform created the number but named its account in a "
                                             "way the console cannot use."),
                            "a usable session", {"session": str(session)[:80]}, secrets) from None
        return CreatedClient(api_key=Secret(api_key), session=session, status=Status.parse(body.get("status")))

    def mint_token(self, api_key: "str | Secret") -> MintedToken:
        """``POST /auth/token``: one request, no retry (``TokenManager`` does the back-off)."""
        key = reveal(api_key)
        if not key or not key.strip():
            raise InvalidInput(N_("This number has no permanent key."), action=N_("Connect the number again."))
        path = "/auth/token"
        secrets = [key]
        body = self._call("POST", path, context="mint", json_body={"apiKey": key}, secrets=secrets) or {}
        token = body.get("token")
        if not isinstance(token, str) or not token.strip():
            redacted = {k: v for k, v in body.items() if k not in ("token", "apiKey")}
            raise self._bad("POST", path, N_("The WhatsApp platform sent no access key."), "token", redacted, secrets)
        token = token.strip()
        try:
            if len(token) > MAX_TOKEN_CHARS:
                raise InvalidInput(None)
            jwtinfo.decode_jwt(token)  # the platform's tokens are JWTs; a cut or garbled one would fail every call
        except InvalidInput:
            raise BadResponse(
                N_("The WhatsApp platform sent an access key that cannot be read (it may be cut off)."),
                status=200,
                detail=f"POST {path} → HTTP 200\nnot a readable JWT: token of {len(token)} characters: {mask(token)}",
                secrets=[*secrets, token],
            ) from None
        now = self.clock.time()
        expires_at_ms, source = jwtinfo.expiry_from(token, body.get("expiresIn"), now)
        return MintedToken(token=Secret(token), expires_at_ms=expires_at_ms, expiry_source=source,
                           obtained_at_ms=int(now * 1000))

    # --- accounts ------------------------------------------------------------------------------
    def start_account(self, session: str, auth: Any) -> StartResult:
        s = validation.validate_session(session)
        a = _as_auth(auth)
        body = self._call("POST", "/api/accounts/start", json_body={"number": s}, auth=a)
        raw_status = body.get("status", body.get("state"))
        if raw_status is None and isinstance(body.get("data"), dict):
            raw_status = body["data"].get("status", body["data"].get("state"))
        status = None if raw_status is None else Status.parse(raw_status, phone=reported_phone(body, s))
        return StartResult(qr=qrmod.extract_qr(body), status=status)

    def get_status(self, session: str, auth: Any) -> Status:
        """The number's connection state, with the phone's own number when the platform reports one."""
        s = validation.validate_session(session)
        a = _as_auth(auth)
        path = f"/api/accounts/{self._seg(s)}/status"
        body = self._call("GET", path, auth=a)
        raw = body.get("status", body.get("state"))
        if raw is None and isinstance(body.get("data"), dict):
            raw = body["data"].get("status", body["data"].get("state"))
        if raw is None or isinstance(raw, (dict, list)):
            raise self._bad("GET", path, N_("The WhatsApp platform's answer does not say how the number is connected."),
                            "status", body, _secrets_of(a))
        return Status.parse(raw, phone=reported_phone(body, s))

    def get_qr(self, session: str, auth: Any) -> str | None:
        """The QR payload as the platform sent it (text, base64 PNG or data URL), or None."""
        s = validation.validate_session(session)
        a = _as_auth(auth)
        body = self._call("GET", f"/api/accounts/{self._seg(s)}/qr", auth=a)
        return qrmod.extract_qr(body)

    def stop_session(self, session: str, auth: Any) -> None:
        s = validation.validate_session(session)
        self._call("POST", f"/internal/session/{self._seg(s)}/stop", auth=_as_auth(auth), allow_empty=True)

    def register_webhook(self, session: str, url: str, auth: Any) -> None:
        """``POST /internal/session/{session}/webhook``. The address may hold a secret (the console's own webhooks
        do): it is scrubbed from every error, and no log line carries it (they name the path only)."""
        s = validation.validate_session(session)
        u = validation.validate_url(url, what="webhook address")
        last = u.rstrip("/").rsplit("/", 1)[-1]
        self._call("POST", f"/internal/session/{self._seg(s)}/webhook", json_body={"url": u},
                   auth=_as_auth(auth), allow_empty=True, secrets=(u, last if len(last) >= 16 else None))

    # --- messages ------------------------------------------------------------------------------
    def _send_message(self, kind: str, body: dict, auth: Any) -> SendResult:
        a = _as_auth(auth)
        path = f"/api/messages/{kind}"
        answer = self._call("POST", path, json_body=body, auth=a)
        task_id = answer.get("taskId", answer.get("id"))
        status = answer.get("status")
        message = answer.get("message")
        message = scrub(str(message), _secrets_of(a)) if message is not None else None
        if isinstance(status, str) and status.strip().lower() in ("error", "failed", "fail"):
            if message:
                text = N_("The platform could not send the message: \u201c{said}\u201d.", said=message[:200])
            else:
                text = N_("The platform could not send the message.")
            raise MessageFailed(
                text,
                status=200,
                detail=f"POST {path} → HTTP 200\n{scrub(json.dumps(answer, ensure_ascii=False), _secrets_of(a))[:DETAIL_BODY_CHARS]}",
                secrets=_secrets_of(a),
            )
        return SendResult(
            task_id=None if task_id in (None, "") else str(task_id),
            status=str(status) if status not in (None, "") else "unknown",
            message=message,
        )

    def send_text(self, to: str, text: str, auth: Any, *, account: str | None = None, priority: Any = None) -> SendResult:
        body: dict[str, Any] = {"type": "text", "to": phone.validate_digits(to), "text": validation.validate_message_text(text)}
        if account is not None:
            body["account"] = validation.validate_session(account)
        if priority is not None:
            body["priority"] = priority
        return self._send_message("text", body, auth)

    def send_image(self, to: str, url: str, auth: Any, *, caption: str | None = None) -> SendResult:
        body: dict[str, Any] = {"type": "image", "to": phone.validate_digits(to), "url": validation.validate_url(url, what="image address")}
        if caption is not None:
            body["caption"] = validation.validate_message_text(caption, max_len=1024)
        return self._send_message("image", body, auth)

    def send_file(self, to: str, url: str, auth: Any, *, filename: str | None = None, caption: str | None = None,
                  kind: str = "file") -> SendResult:
        if kind not in MEDIA_KINDS:
            raise InvalidInput(N_("\u201c{kind}\u201d is not a kind of file the platform sends ({kinds}).",
                                  kind=short(kind), kinds=", ".join(MEDIA_KINDS)))
        body: dict[str, Any] = {"type": kind, "to": phone.validate_digits(to), "url": validation.validate_url(url, what="file address")}
        if filename is not None:
            name = str(filename).strip()
            if not name or len(name) > 255 or any(ch in name for ch in "/\\\x00"):
                raise InvalidInput(N_("The file name is empty, too long or contains / or \\."),
                                   action=N_("Use a short file name such as {example}.", example="report.pdf"))
            body["filename"] = name
        if caption is not None:
            body["caption"] = validation.validate_message_text(caption, max_len=1024)
        return self._send_message(kind, body, auth)

    def send_location(self, to: str, lat: float, lng: float, auth: Any, *, name: str | None = None,
                      address: str | None = None) -> SendResult:
        example = N_("For example {example}.", example="55.7558, 37.6173")
        try:
            flat, flng = float(lat), float(lng)
        except (TypeError, ValueError):
            raise InvalidInput(N_("Latitude and longitude must be numbers."), action=example) from None
        if not (math.isfinite(flat) and math.isfinite(flng) and -90 <= flat <= 90 and -180 <= flng <= 180):
            raise InvalidInput(N_("Latitude must be between -90 and 90 and longitude between -180 and 180."),
                               action=example)
        body: dict[str, Any] = {"type": "location", "to": phone.validate_digits(to), "lat": flat, "lng": flng}
        if name is not None:
            body["name"] = str(name)[:256]
        if address is not None:
            body["address"] = str(address)[:512]
        return self._send_message("location", body, auth)

    def delete_message(self, task_id: str, auth: Any) -> None:
        t = validation.validate_task_id(task_id)
        self._call("DELETE", f"/api/messages/{self._seg(t)}", context="message", auth=_as_auth(auth), allow_empty=True)


# --- the phone's own number in a status answer -----------------------------------------------------
_PHONE_FIELDS = ("phone", "number", "msisdn", "wid", "me")


def _phone_digits(value: Any) -> str | None:
    """``"79001234567"``, ``"+7 900 123-45-67"``, ``"79001234567@c.us"``, ``"79001234567:12@s.whatsapp.net"`` or
    ``{"user": "79001234567", "server": "c.us"}`` -> ``"79001234567"``; anything else -> None."""
    if isinstance(value, dict):
        for k in ("user", "_serialized", "id", "number", "phone"):
            got = _phone_digits(value.get(k))
            if got:
                return got
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return None
    text = value.strip().split("@", 1)[0].split(":", 1)[0].strip()
    text = text[1:] if text.startswith("+") else text
    digits = "".join(ch for ch in text if ch not in " -().\u00a0")
    if not (digits.isascii() and digits.isdigit()) or not (8 <= len(digits) <= 15) or digits.startswith("0"):
        return None
    return digits


def reported_phone(body: Any, session: str | None = None) -> str | None:
    """The phone's own number (digits with the country code) when a status answer carries one under ``phone``,
    ``number``, ``msisdn``, ``wid`` or ``me`` (also inside ``data``); never the platform's session id."""
    if not isinstance(body, dict):
        return None
    places = [body]
    if isinstance(body.get("data"), dict):
        places.append(body["data"])
    for place in places:
        for name in _PHONE_FIELDS:
            digits = _phone_digits(place.get(name))
            if digits and digits != session:
                return digits
    return None


__all__ = ["AuthLike", "BearerAuth", "WppClient", "reported_phone"]
