"""Lasting sign-ins: a sign-in that survives F5, a second tab, a browser restart and a console restart.

Framework-free. The server keeps the sign-in in the store (:class:`wpp.models.SignInSession`, SHA-256 hashes only);
the browser keeps an opaque, signed id in an HttpOnly cookie (``wpp_session``). The flow:

1. the tab where someone signed in calls :meth:`SignInSessions.begin` and gets a one-time *ticket* (valid
   :attr:`SignInSessions.ticket_lifetime_s`, 2 minutes);
2. the browser takes the ticket to the console's own HTTP route, which calls :meth:`SignInSessions.redeem` and sets
   the cookie with :func:`cookie_kwargs` / :func:`set_cookie_header` (the route is the UI's; the rules are here);
3. every page run reads the cookie and calls :meth:`SignInSessions.resolve` -> ``(Identity, key)`` or None;
   a tab that already knows its ``key`` asks :meth:`SignInSessions.is_active` (cached 2 s) to notice at once a
   sign-out done elsewhere;
4. "Sign out" calls :meth:`SignInSessions.end` (the cookie stops working at once, in every tab of that browser).

The cookie value is ``<random id>.<HMAC-SHA256 of it>``: never the identity, a password hash or a secret. Signing
keeps forged or mangled cookies from reaching the store at all.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import http.cookies
import re
import secrets
import threading
import uuid
from typing import Any

from ..clock import SYSTEM_CLOCK
from ..models import SignInSession
from .identity import Identity

COOKIE_NAME = "wpp_session"
#: a ticket is valid this long after :meth:`SignInSessions.begin`
TICKET_LIFETIME_S = 120.0
#: ``last_seen_at`` is written at most this often per sign-in
TOUCH_EVERY_S = 60.0
#: :meth:`SignInSessions.is_active` answers from memory for this long per key
ACTIVE_CACHE_S = 2.0

_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{32,128}")
_MAX_TOKEN = 200


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def _token(text: object) -> str | None:
    """``text`` when it looks like one of our random tokens (URL-safe base64), else None."""
    if not isinstance(text, str) or len(text) > _MAX_TOKEN or not _TOKEN_RE.fullmatch(text):
        return None
    return text


class SignInSessions:
    """Lasting sign-ins kept in ``store`` (the :class:`~wpp.store.base.IntegrationStore` sign-in methods).

    ``secret``: the cookie signing key, the same in every replica; the UI passes
    ``store.console_secret("sign-in-cookie")``. ``lifetime_s``: how long a sign-in lasts from the moment it began
    (``settings.session_lifetime_s``, e.g. 12 h); it is not extended by use.
    """

    ticket_lifetime_s = TICKET_LIFETIME_S
    touch_every_s = TOUCH_EVERY_S
    active_cache_s = ACTIVE_CACHE_S
    #: expired and revoked sign-ins are deleted at most this often (from :meth:`begin`)
    purge_every_s = 3600.0

    def __init__(self, store: Any, *, clock=SYSTEM_CLOCK, lifetime_s: float, secret: str):
        if not isinstance(secret, str) or len(secret) < 32:
            raise ValueError("the sign-in cookie secret must be at least 32 characters")
        if not lifetime_s or lifetime_s <= 0:
            raise ValueError("lifetime_s must be > 0")
        self.store = store
        self.lifetime_s = float(lifetime_s)
        self._clock = clock
        self._key = secret.encode("utf-8")
        self._lock = threading.Lock()
        self._active: dict[str, tuple[float, bool]] = {}
        self._last_purge: float | None = None

    def __repr__(self) -> str:
        return f"SignInSessions(lifetime_s={self.lifetime_s:g})"

    # --- 1. the tab that signed in ------------------------------------------------------------------------------
    def begin(self, identity: Identity) -> str:
        """Store a new sign-in for ``identity`` and return its one-time ticket (valid 2 minutes).

        Only the ticket's SHA-256 is stored, and ``identity.to_json()`` (no password, hash, secret or token).
        """
        return self.begin_with_key(identity)[0]

    def begin_with_key(self, identity: Identity) -> tuple[str, str]:
        """:meth:`begin`, also giving the sign-in's public ``key`` (not a credential), so that the tab that signed
        in can ask :meth:`is_active` and :meth:`end` before the cookie comes back: ``(ticket, key)``."""
        if not isinstance(identity, Identity):
            raise TypeError("begin() needs an Identity")
        now = self._clock.time()
        self._maybe_purge(now)
        ticket = secrets.token_urlsafe(32)
        key = str(uuid.uuid4())
        self.store.create_sign_in_session(SignInSession(
            key=key,
            identity=identity.to_json(),
            created_at=now,
            expires_at=now + self.lifetime_s,
            ticket_hash=_sha256(ticket),
            ticket_expires_at=now + self.ticket_lifetime_s,
        ))
        return ticket, key

    # --- 2. the console's own route -----------------------------------------------------------------------------
    def redeem(self, ticket: str) -> str | None:
        """Turn a ticket into the cookie value (``"<id>.<signature>"``), once; None for an unknown, used or
        expired ticket (the route then sets no cookie)."""
        ticket = _token(ticket)
        if ticket is None:
            return None
        cookie_id = secrets.token_urlsafe(32)
        session = self.store.redeem_sign_in_ticket(_sha256(ticket), _sha256(cookie_id), now=self._clock.time())
        if session is None:
            return None
        return f"{cookie_id}.{self._sign(cookie_id)}"

    # --- 3. every page run --------------------------------------------------------------------------------------
    def resolve(self, cookie_value: str | None) -> tuple[Identity, str] | None:
        """``(identity, key)`` of the sign-in behind a cookie value; None when the signature is wrong, or the
        sign-in is unknown, expired or ended. Records use (``last_seen_at``) at most once a minute."""
        cookie_id = self._verify(cookie_value)
        if cookie_id is None:
            return None
        now = self._clock.time()
        session = self.store.get_sign_in_session(id_hash=_sha256(cookie_id))
        if session is None or not session.active(now) or session.id_hash != _sha256(cookie_id):
            return None
        try:
            identity = Identity.from_json(session.identity)
        except ValueError:
            return None
        if session.last_seen_at is None or now - session.last_seen_at >= self.touch_every_s:
            self.store.touch_sign_in_session(session.key, last_seen_at=now)
        self._remember(session.key, now, True)
        return identity, session.key

    def is_active(self, key: str | None) -> bool:
        """Is the sign-in ``key`` still on (not ended anywhere, not expired)? Answers from memory for 2 s per key,
        so a page may ask on every run."""
        if not isinstance(key, str) or not key:
            return False
        now = self._clock.time()
        with self._lock:
            cached = self._active.get(key)
        if cached is not None and now - cached[0] < self.active_cache_s:
            return cached[1]
        session = self.store.get_sign_in_session(key=key)
        active = bool(session is not None and session.active(now))
        self._remember(key, now, active)
        return active

    # --- 4. sign-out --------------------------------------------------------------------------------------------
    def end(self, key: str | None) -> None:
        """End the sign-in ``key`` now (every tab of that browser is signed out; the cookie no longer works)."""
        if not isinstance(key, str) or not key:
            return
        now = self._clock.time()
        self.store.revoke_sign_in_session(key, at=now)
        self._remember(key, now, False)

    def purge(self) -> int:
        """Delete sign-ins that expired or were ended (returns how many)."""
        now = self._clock.time()
        self._last_purge = now
        return self.store.purge_sign_in_sessions(before=now)

    # --- the cookie -----------------------------------------------------------------------------------------------
    def cookie_kwargs(self, value: str, *, https: bool) -> dict:
        """Keyword arguments for Starlette's ``Response.set_cookie`` (see :func:`cookie_kwargs`)."""
        return cookie_kwargs(value, max_age=self.lifetime_s, https=https)

    def set_cookie_header(self, value: str, *, https: bool) -> str:
        """The ``Set-Cookie`` header value (see :func:`set_cookie_header`)."""
        return set_cookie_header(value, max_age=self.lifetime_s, https=https)

    # --- inside -------------------------------------------------------------------------------------------------
    def _sign(self, cookie_id: str) -> str:
        mac = hmac.new(self._key, b"wpp_session:" + cookie_id.encode("ascii"), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).decode("ascii").rstrip("=")

    def _verify(self, cookie_value: object) -> str | None:
        if not isinstance(cookie_value, str) or len(cookie_value) > 2 * _MAX_TOKEN or cookie_value.count(".") != 1:
            return None
        cookie_id, signature = cookie_value.split(".")
        if _token(cookie_id) is None or _token(signature) is None:
            return None
        if not hmac.compare_digest(self._sign(cookie_id), signature):
            return None
        return cookie_id

    def _remember(self, key: str, now: float, active: bool) -> None:
        with self._lock:
            if len(self._active) > 10_000:
                self._active = {k: v for k, v in self._active.items() if now - v[0] < self.active_cache_s}
            self._active[key] = (now, active)

    def _maybe_purge(self, now: float) -> None:
        if self._last_purge is None or now - self._last_purge >= self.purge_every_s:
            self._last_purge = now
            try:
                self.store.purge_sign_in_sessions(before=now)
            except Exception:  # noqa: BLE001 - housekeeping must never stop a sign-in
                pass


def cookie_kwargs(value: str, *, max_age: float, https: bool) -> dict:
    """``Response.set_cookie(**cookie_kwargs(value, max_age=..., https=...))`` (Starlette's keyword names):
    name ``wpp_session``, HttpOnly, SameSite=Lax, Path=/, Max-Age, and Secure when the request came over https.
    For sign-out, ``value=""`` and ``max_age=0`` delete it."""
    return {"key": COOKIE_NAME, "value": value, "max_age": max(0, int(max_age)), "path": "/", "secure": bool(https),
            "httponly": True, "samesite": "lax"}


def set_cookie_header(value: str, *, max_age: float, https: bool) -> str:
    """The same cookie as a ``Set-Cookie`` header value, for a route that writes headers itself."""
    jar = http.cookies.SimpleCookie()
    jar[COOKIE_NAME] = value
    morsel = jar[COOKIE_NAME]
    morsel["max-age"] = str(max(0, int(max_age)))
    morsel["path"] = "/"
    morsel["httponly"] = True
    morsel["samesite"] = "Lax"
    if https:
        morsel["secure"] = True
    return morsel.OutputString()


__all__ = [
    "ACTIVE_CACHE_S",
    "COOKIE_NAME",
    "SignInSessions",
    "TICKET_LIFETIME_S",
    "cookie_kwargs",
    "set_cookie_header",
]
