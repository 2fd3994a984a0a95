"""Reading a platform access key (a JWT): what it says about itself and when it stops working.

Nothing here talks to the platform or the store; :mod:`wpp.client` and :mod:`wpp.tokens` both import it
(and it imports neither).

Decoding policy (:func:`decode_jwt`)
    *Unreadable* text raises :class:`InvalidInput`: not three dot-separated parts, a header or
    payload that is not base64url JSON objects (typically a truncated or mangled copy-paste).
    *Readable but suspicious* tokens give a :class:`JwtInfo` whose ``problems`` list says what is
    wrong, each a translatable :class:`wpp.i18n.Text`: ``alg none``, no signature, a non-numeric/absurd
    ``exp`` (then ``expires_at`` is None and the platform's ``expiresIn`` or the assumed lifetime is used
    instead), an ``exp`` in the far future or past, ``nbf``/``iat`` in the future, a signature that does not
    match the configured key. The signature is checked only when a ``key`` is given. No other exception escapes.

The token rule (seed 002)
    A stored token is used while ``now < expires_at - 60 s`` (:func:`is_usable`).
"""
from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from typing import Any

import jwt as pyjwt

from .errors import InvalidInput
from .i18n import N_, Text, format_duration
from .masking import Secret, reveal, scrub
from .textutil import b64decode

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
    problems: list[Text] = field(default_factory=list)  # translated when shown (str(p))

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


class _Duration:
    """A length of time shown in the reader's language when the message holding it is shown."""

    __slots__ = ("seconds",)

    def __init__(self, seconds: float):
        self.seconds = abs(float(seconds))

    def __str__(self) -> str:
        return format_duration(self.seconds)

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Duration) and other.seconds == self.seconds

    def __hash__(self) -> int:
        return hash(self.seconds)

    def __repr__(self) -> str:
        return f"_Duration({self.seconds:.0f} s)"


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


def _date(epoch: float) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(epoch))


def _json_part(part: str, header: bool) -> Any:
    try:
        return json.loads(b64decode(part).decode("utf-8"))
    except (ValueError, UnicodeError):
        if header:
            message = N_("The first part of the access key (its header) cannot be read; the key is probably cut off "
                         "or mangled.")
        else:
            message = N_("The second part of the access key (its contents) cannot be read; the key is probably cut "
                         "off or mangled.")
        raise InvalidInput(
            message, action=N_("Copy the whole access key again (three long parts separated by dots).")
        ) from None


def decode_jwt(token: "str | Secret | None", *, key: "str | Secret | None" = None, now: float | None = None) -> JwtInfo:
    """Read a JWT (see the module docstring for what raises and what becomes a ``problem``)."""
    text = reveal(token) if token is not None else None
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput(N_("No access key was given."),
                           action=N_("Paste an access key (three long parts separated by dots)."))
    text = text.strip()
    if text[:7].lower() == "bearer ":
        text = text[7:].strip()
    secrets = [text]
    parts = text.split(".")
    if len(parts) != 3:
        raise InvalidInput(
            N_("This is not an access key: an access key has three parts separated by dots, this has {n}.",
               n=len(parts)),
            action=N_("Copy the whole access key again; it may have been cut off."),
        )
    if not parts[0] or not parts[1]:
        raise InvalidInput(N_("This is not an access key: its first or second part is empty."),
                           action=N_("Copy the whole access key again; it may have been cut off."))
    header = _json_part(parts[0], header=True)
    claims = _json_part(parts[1], header=False)
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise InvalidInput(N_("This is not an access key: its first two parts do not hold what an access key holds."),
                           action=N_("Copy the whole access key again; it may have been cut off."))

    now = time.time() if now is None else float(now)
    problems: list[Text] = []

    def problem(text: Text) -> None:
        clean = {k: (scrub(v, secrets) if isinstance(v, str) else v) for k, v in text.params.items()}
        problems.append(Text(text.msgid, **clean))

    alg = header.get("alg")
    alg = str(alg) if alg is not None else None
    if alg is None:
        problem(N_("The header names no signing algorithm (no alg)."))
    elif alg.lower() == "none":
        problem(N_("The access key is not signed (alg none)."))
    if not parts[2]:
        problem(N_("The access key has no signature."))

    iat = _number(claims.get("iat"))
    if "iat" in claims and iat is None:
        problem(N_("The issue time (iat) is not a number ({value}).", value=_shown(claims.get("iat"))))
    elif iat is not None and not (0 < iat <= _ABSURD_EPOCH):
        if iat > 0:
            problem(N_("The issue time (iat) is in the future or absurd ({value}).", value=f"{iat:.0f}"))
        else:
            problem(N_("The issue time (iat) is absurd ({value}).", value=f"{iat:.0f}"))
        iat = None
    elif iat is not None and iat > now + 60:
        problem(N_("The issue time (iat) is in the future (by {duration}).", duration=_Duration(iat - now)))

    nbf = _number(claims.get("nbf"))
    if nbf is not None and nbf > now + 60:
        problem(N_("The access key is not valid yet (nbf is {duration} from now).",
                   duration=_Duration(nbf - now)))

    expires_at: float | None = None
    if "exp" not in claims:
        problem(N_("The access key does not say when it expires (no exp)."))
    else:
        exp = _number(claims.get("exp"))
        if claims.get("exp") is None:
            problem(N_("The access key does not say when it expires (exp is empty)."))
        elif exp is None:
            problem(N_("The expiry time (exp) is not a number ({value}).", value=_shown(claims.get("exp"))))
        elif exp <= 0 or exp > _ABSURD_EPOCH:
            if 1e12 <= exp < 1e14:
                problem(N_("The expiry time (exp) is absurd ({value}); it looks like milliseconds.",
                           value=f"{exp:.0f}"))
            else:
                problem(N_("The expiry time (exp) is absurd ({value}).", value=f"{exp:.0f}"))
        else:
            expires_at = exp
            if exp < _FAR_PAST_EPOCH:
                problem(N_("The expiry time (exp) is in the far past ({date}).", date=_date(exp)))
            elif exp <= now:
                problem(N_("The access key expired {duration} ago.", duration=_Duration(now - exp)))
            elif exp - now > _FAR_FUTURE_S:
                problem(N_("The expiry time (exp) is in the far future ({date}).", date=_date(exp)))
            if iat is not None and exp < iat:
                problem(N_("The expiry time (exp) is before the issue time (iat)."))

    verified: bool | None = None
    key_text = reveal(key) if key is not None else None
    if key_text:
        secrets.append(key_text)
        verified = _verify(text, key_text, alg, problem)

    sub = claims.get("sub")
    return JwtInfo(
        header=header,
        claims=claims,
        algorithm=alg,
        subject=None if sub is None else str(sub),
        issued_at=iat,
        expires_at=expires_at,
        verified=verified,
        problems=problems,
    )


def _verify(token: str, key: str, alg: str | None, problem) -> bool:
    if not alg or alg.lower() == "none":
        problem(N_("The signature cannot be checked: the access key is not signed."))
        return False
    if alg not in _HMAC_ALGS:
        problem(N_("The signature cannot be checked: {alg} is not checked with a shared secret.", alg=alg[:20]))
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
        problem(N_("The signature does not match the configured key."))
        return False
    except Exception:  # PyJWT's other errors (bad claims types, bad key): a problem, not a crash
        problem(N_("The signature cannot be checked: the access key or the configured key is malformed."))
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


def jwt_expiry_ms(token: "str | Secret | None") -> int | None:
    """The JWT's own ``exp`` in milliseconds, or None when it has none (or is unreadable)."""
    try:
        info = decode_jwt(token, now=0)
    except InvalidInput:
        return None
    return info.expires_at_ms


def is_usable(expires_at_ms: int | float | None, now: float, margin_s: float = MARGIN_S) -> bool:
    """The seed rule: a token is used while ``now < expires_at - margin`` (60 s by default)."""
    if expires_at_ms is None:
        return False
    try:
        return now < float(expires_at_ms) / 1000.0 - margin_s
    except (TypeError, ValueError):
        return False


__all__ = [
    "ASSUMED_LIFETIME_S",
    "MARGIN_S",
    "JwtInfo",
    "decode_jwt",
    "expiry_from",
    "is_usable",
    "jwt_expiry_ms",
]
