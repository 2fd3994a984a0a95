"""Platform JWTs: reading them, knowing when they expire, and getting a fresh one exactly once.

Decoding policy (:func:`decode_jwt`)
    *Unreadable* text raises :class:`InvalidInput`: not three dot-separated parts, a header or
    payload that is not base64url JSON objects (typically a truncated or mangled copy-paste).
    *Readable but suspicious* tokens give a :class:`JwtInfo` whose ``problems`` list says what is
    wrong: ``alg none``, no signature, a non-numeric/absurd ``exp`` (then ``expires_at`` is None and
    the platform's ``expiresIn`` or the assumed lifetime is used instead), an ``exp`` in the far
    future or past, ``nbf``/``iat`` in the future, a signature that does not match the configured
    key. The signature is checked only when a ``key`` is given. No other exception escapes.

The token rule (seed 002)
    A stored JWT is used while ``now < expires_at - 60 s`` (:func:`is_usable`); otherwise a new one is
    minted with the ``apiKey``, written back (``on_new_token``) and used. :class:`TokenManager`
    makes that happen once per key however many threads ask at the same time.
"""
from __future__ import annotations

import base64
import binascii
import json
import logging
import math
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Generator

import httpx
import jwt as pyjwt

from .clock import SYSTEM_CLOCK
from .errors import InvalidApiKey, InvalidInput
from .masking import Secret, reveal, scrub
from .models import MintedToken

if TYPE_CHECKING:  # pragma: no cover
    from .client import WppClient

log = logging.getLogger("wpp.tokens")

MARGIN_S = 60
#: Used only when neither the JWT's ``exp`` nor the platform's ``expiresIn`` says when a token
#: expires. Deliberately short (the platform's tokens have been seen to live 15 minutes); results
#: built on it carry ``expiry_source == "assumed"`` so the UI can say so.
ASSUMED_LIFETIME_S = 300

_FAR_FUTURE_S = 366 * 24 * 3600  # more than a year ahead is suspicious for a 15-minute token
_FAR_PAST_EPOCH = 946684800  # 2000-01-01
_ABSURD_EPOCH = 32503680000  # year 3000: anything later is not a seconds timestamp
_HMAC_ALGS = {"HS256", "HS384", "HS512"}


@dataclass(frozen=True)
class JwtInfo:
    """What a JWT says about itself. Never holds the token itself."""

    header: dict
    claims: dict
    algorithm: str | None
    subject: str | None
    issued_at: float | None  # epoch seconds, None when missing or absurd
    expires_at: float | None  # epoch seconds, None when missing or unusable
    verified: bool | None  # None: not checked (no key); True/False: signature (not expiry) checked
    problems: list[str] = field(default_factory=list)

    def claim_time(self, name: str) -> float | None:
        """A time claim (``exp``, ``iat``, ``nbf``) as epoch seconds when it is a plausible one
        (a finite number between 1970 and the year 3000), else None: safe to format as a date."""
        value = _number(self.claims.get(name))
        return value if value is not None and 0 < value <= _ABSURD_EPOCH else None

    @property
    def expires_at_ms(self) -> int | None:
        return None if self.expires_at is None else int(self.expires_at * 1000)

    def seconds_left(self, now: float | None = None) -> float | None:
        if self.expires_at is None:
            return None
        return self.expires_at - (time.time() if now is None else now)


def _b64url_json(part: str, which: str) -> Any:
    try:
        padded = part + "=" * (-len(part) % 4)
        raw = base64.urlsafe_b64decode(padded.encode("ascii"))
        return json.loads(raw.decode("utf-8"))
    except (binascii.Error, ValueError, UnicodeError):
        raise InvalidInput(
            f"The token's {which} cannot be read; the token is probably cut off or mangled.",
            action="Copy the whole token again (it is three long parts separated by dots).",
        ) from None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    f = float(value)
    return f if math.isfinite(f) else None


def _shown(value: Any) -> str:
    """A claim value as JSON text for a problem line (``"tomorrow"``, ``true``), shortened."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = "?"
    return text if len(text) <= 40 else text[:40] + "…"


def _ago(seconds: float) -> str:
    seconds = abs(seconds)
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 3 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.0f} days"


def decode_jwt(token: "str | Secret | None", *, key: "str | Secret | None" = None, now: float | None = None) -> JwtInfo:
    """Read a JWT (see the module docstring for what raises and what becomes a ``problem``)."""
    text = reveal(token) if token is not None else None
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput("No token was given.", action="Paste a token (three long parts separated by dots).")
    text = text.strip()
    if text[:7].lower() == "bearer ":
        text = text[7:].strip()
    secrets = [text]
    parts = text.split(".")
    if len(parts) != 3:
        raise InvalidInput(
            f"This is not a JWT: a JWT has three parts separated by dots, this has {len(parts)}.",
            action="Copy the whole token again; it may have been cut off.",
        )
    if not parts[0] or not parts[1]:
        raise InvalidInput("This is not a JWT: its header or payload is empty.", action="Copy the whole token again.")
    header = _b64url_json(parts[0], "header")
    claims = _b64url_json(parts[1], "payload")
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise InvalidInput("This is not a JWT: its header and payload must be JSON objects.")

    now = time.time() if now is None else float(now)
    problems: list[str] = []
    alg = header.get("alg")
    alg = str(alg) if alg is not None else None
    if alg is None:
        problems.append("no alg in the header")
    elif alg.lower() == "none":
        problems.append("alg none: the token is not signed")
    if not parts[2]:
        problems.append("no signature")

    iat = _number(claims.get("iat"))
    if "iat" in claims and iat is None:
        problems.append(f"iat is not a number ({_shown(claims.get('iat'))})")
    elif iat is not None and not (0 < iat <= _ABSURD_EPOCH):
        problems.append(f"iat is in the future or absurd ({iat:.0f})" if iat > 0 else f"iat is absurd ({iat:.0f})")
        iat = None
    elif iat is not None and iat > now + 60:
        problems.append(f"iat is in the future (by {_ago(iat - now)})")

    nbf = _number(claims.get("nbf"))
    if nbf is not None and nbf > now + 60:
        problems.append(f"not yet valid (nbf is {_ago(nbf - now)} from now)")

    expires_at: float | None = None
    if "exp" not in claims:
        problems.append("no exp claim: the token does not say when it expires")
    else:
        exp = _number(claims.get("exp"))
        if claims.get("exp") is None:
            problems.append("exp is empty (null): the token does not say when it expires")
        elif exp is None:
            problems.append(f"exp is not a number ({_shown(claims.get('exp'))})")
        elif exp <= 0 or exp > _ABSURD_EPOCH:
            hint = " (it looks like milliseconds)" if 1e12 <= exp < 1e14 else ""
            problems.append(f"exp is absurd ({exp:.0f}){hint}")
        else:
            expires_at = exp
            if exp < _FAR_PAST_EPOCH:
                problems.append(f"exp is in the far past ({time.strftime('%Y-%m-%d', time.gmtime(exp))})")
            elif exp <= now:
                problems.append(f"expired {_ago(now - exp)} ago")
            elif exp - now > _FAR_FUTURE_S:
                problems.append(f"exp is in the far future ({time.strftime('%Y-%m-%d', time.gmtime(exp))})")
            if iat is not None and exp < iat:
                problems.append("exp is before iat")

    verified: bool | None = None
    key_text = reveal(key) if key is not None else None
    if key_text:
        secrets.append(key_text)
        verified = _verify(text, key_text, alg, problems)

    sub = claims.get("sub")
    return JwtInfo(
        header=header,
        claims=claims,
        algorithm=alg,
        subject=None if sub is None else str(sub),
        issued_at=iat,
        expires_at=expires_at,
        verified=verified,
        problems=[scrub(p, secrets) for p in problems],
    )


def _verify(token: str, key: str, alg: str | None, problems: list[str]) -> bool:
    if not alg or alg.lower() == "none":
        problems.append("cannot verify: the token is not signed")
        return False
    if alg not in _HMAC_ALGS:
        problems.append(f"cannot verify {alg} with a shared secret")
        return False
    try:
        pyjwt.decode(
            token,
            key,
            algorithms=[alg],
            options={
                "verify_exp": False,
                "verify_nbf": False,
                "verify_iat": False,
                "verify_aud": False,
                "verify_iss": False,
                "verify_sub": False,
                "verify_jti": False,
            },
        )
        return True
    except pyjwt.InvalidSignatureError:
        problems.append("signature does not match the configured key")
        return False
    except Exception:  # PyJWT's other errors (bad claims types, bad key): a problem, not a crash
        problems.append("cannot verify the signature: the token or the configured key is malformed")
        return False


def expiry_from(token: "str | Secret | None", expires_in: Any, now: float) -> tuple[int, str]:
    """When a freshly minted token expires: ``(expires_at_ms, source)``.

    The JWT's own ``exp`` wins (``"exp"``); else the platform's ``expiresIn`` seconds counted from
    ``now`` (``"expiresIn"``); else :data:`ASSUMED_LIFETIME_S` (``"assumed"``).
    """
    try:
        info = decode_jwt(token, now=now)
        if info.expires_at is not None:
            return int(info.expires_at * 1000), "exp"
    except InvalidInput:
        pass
    seconds = None
    if isinstance(expires_in, str):
        try:
            seconds = float(expires_in.strip())
        except ValueError:
            seconds = None
    else:
        seconds = _number(expires_in)
    if seconds is not None and math.isfinite(seconds) and 0 < seconds <= _FAR_FUTURE_S:
        return int((now + seconds) * 1000), "expiresIn"
    return int((now + ASSUMED_LIFETIME_S) * 1000), "assumed"


def is_usable(expires_at_ms: int | float | None, now: float, margin_s: float = MARGIN_S) -> bool:
    """The seed rule: a token is used while ``now < expires_at - margin`` (60 s by default)."""
    if expires_at_ms is None:
        return False
    try:
        return now < float(expires_at_ms) / 1000.0 - margin_s
    except (TypeError, ValueError):
        return False


# --- the manager -----------------------------------------------------------------------------
class TokenManager:
    """One valid platform JWT per key (integration id), minted at most once at a time.

    Thread-safe: a per-key lock makes concurrent callers for one key share one ``/auth/token``;
    different keys never wait for each other.
    """

    def __init__(
        self,
        client: "WppClient",
        *,
        clock=SYSTEM_CLOCK,
        margin_s: float = MARGIN_S,
        activation_wait_s: float = 15.0,
        on_new_token: Callable[[str, MintedToken], None] | None = None,
        first_backoff_s: float = 0.5,
    ):
        self.client = client
        self.clock = clock
        self.margin_s = margin_s
        self.activation_wait_s = activation_wait_s
        self.first_backoff_s = first_backoff_s
        self.on_new_token = on_new_token
        self._cache: dict[str, MintedToken] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def __repr__(self) -> str:
        return f"TokenManager(keys={len(self._cache)}, margin_s={self.margin_s})"

    # -- cache ---------------------------------------------------------------------------------
    def cached(self, key: str) -> MintedToken | None:
        with self._guard:
            return self._cache.get(key)

    def invalidate(self, key: str) -> None:
        with self._guard:
            self._cache.pop(key, None)

    def _lock_for(self, key: str) -> threading.Lock:
        with self._guard:
            lock = self._locks.get(key)
            if lock is None:
                lock = self._locks[key] = threading.Lock()
            return lock

    def _best(self, key: str, stored: MintedToken | None) -> MintedToken | None:
        """The cached or the stored token, whichever expires later; a better stored one is cached."""
        with self._guard:
            cached = self._cache.get(key)
            if stored is not None and (cached is None or stored.expires_at_ms > cached.expires_at_ms):
                self._cache[key] = stored
                return stored
            return cached

    def _usable(self, token: MintedToken | None) -> bool:
        return token is not None and is_usable(token.expires_at_ms, self.clock.time(), self.margin_s)

    # -- public --------------------------------------------------------------------------------
    def get(self, key: str, api_key: "str | Secret", *, stored: MintedToken | None = None) -> MintedToken:
        """A usable token for ``key``: the cached or ``stored`` one, or a newly minted one."""
        best = self._best(key, stored)
        if self._usable(best):
            return best  # type: ignore[return-value]
        with self._lock_for(key):
            best = self._best(key, stored)  # someone may have minted while we waited
            if self._usable(best):
                return best  # type: ignore[return-value]
            return self._mint_and_store(key, api_key)

    def refresh(self, key: str, api_key: "str | Secret", *, stale: "str | Secret | None" = None) -> MintedToken:
        """Force a new token. If the cached token already differs from ``stale`` (another caller
        refreshed meanwhile), that one is returned and nothing is minted."""
        stale_text = reveal(stale) if stale is not None else None
        with self._lock_for(key):
            current = self.cached(key)
            if stale_text is not None and current is not None and current.token.reveal() != stale_text:
                return current
            return self._mint_and_store(key, api_key)

    def auth_for(self, key: str, api_key: "str | Secret", *, stored: MintedToken | None = None) -> "TokenAuth":
        """An ``httpx.Auth`` for calls on behalf of ``key``: bearer token, one refresh+retry on 401."""
        return TokenAuth(self, key, api_key, stored=stored)

    def mint_with_backoff(self, api_key: "str | Secret") -> MintedToken:
        """``client.mint_token`` retried on ``InvalidApiKey`` (a just-created key is sometimes not
        accepted for a few seconds): waits 0.5, 1, 2, 4 … s until ``activation_wait_s`` in total."""
        start = self.clock.time()
        delay = self.first_backoff_s
        attempts = 0
        while True:
            attempts += 1
            try:
                return self.client.mint_token(api_key)
            except InvalidApiKey as exc:
                waited = self.clock.time() - start
                remaining = self.activation_wait_s - waited
                if remaining <= 0 or self.activation_wait_s <= 0:
                    if attempts == 1:
                        raise
                    raise InvalidApiKey(
                        f"The platform rejected the API key, even after retrying for {waited:.0f} seconds "
                        f"({attempts} attempts).",
                        status=exc.status,
                        detail=exc.detail,
                        secrets=[reveal(api_key)],
                    ) from None
                pause = min(delay, remaining)
                log.info("api key not accepted yet; retrying in %.1f s (attempt %d)", pause, attempts)
                self.clock.sleep(pause)
                delay *= 2

    def _mint_and_store(self, key: str, api_key: "str | Secret") -> MintedToken:
        """Mint, cache, write back. Caller holds the key's lock."""
        minted = self.mint_with_backoff(api_key)
        with self._guard:
            self._cache[key] = minted
        log.info("new token for %s (expires in %.0f s, source %s)", key,
                 minted.seconds_left(self.clock.time()), minted.expiry_source)
        if self.on_new_token is not None:
            try:
                self.on_new_token(key, minted)
            except Exception as exc:  # the write-back failing must not lose the token
                log.warning(
                    "saving the new token for %s failed: %s: %s", key, type(exc).__name__,
                    scrub(str(exc), [minted.token.reveal(), reveal(api_key)])[:300],
                )
        return minted


class TokenAuth(httpx.Auth):
    """Bearer auth from a :class:`TokenManager`; on a 401 refreshes once and retries once.

    The response body is read before deciding (``requires_response_body``) so the connection goes
    back to the pool before a refresh needs one: with many threads waiting on one refresh, holding
    connections could otherwise exhaust the pool.
    """

    requires_response_body = True

    def __init__(self, manager: TokenManager, key: str, api_key: "str | Secret", *, stored: MintedToken | None = None):
        self.manager = manager
        self.key = key
        self._api_key = Secret(reveal(api_key) or "")
        self.stored = stored
        self._seen: list[str] = []
        self.retried = False

    def __repr__(self) -> str:
        return f"TokenAuth(key={self.key!r}, api_key={self._api_key.masked})"

    def known_secrets(self) -> list[str]:
        """Everything this auth has put on the wire, for scrubbing error texts."""
        return [self._api_key.reveal(), *self._seen]

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        minted = self.manager.get(self.key, self._api_key, stored=self.stored)
        token = minted.token.reveal()
        self._seen.append(token)
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code != 401:
            return
        log.info("401 on %s %s; refreshing the token once", request.method, request.url.path)
        fresh = self.manager.refresh(self.key, self._api_key, stale=token)
        new_token = fresh.token.reveal()
        self._seen.append(new_token)
        self.retried = True
        request.headers["Authorization"] = f"Bearer {new_token}"
        yield request  # a second 401 is returned as is; the client turns it into InvalidToken


__all__ = [
    "ASSUMED_LIFETIME_S",
    "MARGIN_S",
    "JwtInfo",
    "TokenAuth",
    "TokenManager",
    "decode_jwt",
    "expiry_from",
    "is_usable",
]
