"""Who may use the console: staff sign-in, framework-free.

This console holds API keys that can send WhatsApp messages for an organisation, so outside demo
mode nobody sees a page before signing in. Four ways in, each ending in an :class:`Identity`:

* **staff** accounts from the ``[staff]`` table of ``.streamlit/secrets.toml`` (username -> password
  hash), checked by :class:`StaffDirectory` with per-username lockout;
* **Supabase Auth** (email + password) through supabase-py, :func:`supabase_sign_in`; the session's
  access token is what "create" sends to the platform when no platform secret is configured;
* **OIDC** through Streamlit's own ``st.login``: the app passes ``st.user`` to :func:`identity_from_oidc`;
* **demo** mode: :func:`demo_identity`.

Passwords are stored only as slow hashes (``hashlib.scrypt``, or PBKDF2-SHA256 made elsewhere);
plain text and fast digests are refused. Nothing here imports Streamlit.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import math
import re
import secrets
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterable, Literal, Mapping

from .clock import SYSTEM_CLOCK
from .errors import AccessDenied, InvalidInput, WppError
from .masking import Secret, mask, reveal, scrub

__all__ = [
    "Identity",
    "StaffDirectory",
    "SignInUnavailable",
    "SignInRateLimited",
    "hash_password",
    "verify_password",
    "check_hash_format",
    "staff_problems",
    "supabase_sign_in",
    "supabase_refresh",
    "identity_from_oidc",
    "demo_identity",
    "SCRYPT_N",
    "SCRYPT_R",
    "SCRYPT_P",
    "PBKDF2_MIN_ITERATIONS",
    "HASH_FORMAT_HELP",
]

Method = Literal["staff", "oidc", "supabase", "demo"]


# =============================================================================
# Errors specific to signing in
# =============================================================================
class SignInUnavailable(WppError):
    """The sign-in service (Supabase Auth) could not be asked, or answered with nonsense.

    Not the person's fault: their email and password were not judged at all.
    """

    kind = "sign_in_unavailable"
    default_message = "The sign-in service cannot be reached."
    default_action = "Check the internet connection of this computer and try again in a minute."


class SignInRateLimited(AccessDenied):
    """Supabase Auth answered 429: too many sign-in attempts."""

    kind = "sign_in_rate_limited"
    default_message = "Too many sign-in attempts in a short time."
    default_action = "Wait a few minutes, then try again."


# =============================================================================
# The signed-in person
# =============================================================================
@dataclass(frozen=True)
class Identity:
    """Who is using the console, and how they proved it.

    ``supabase_jwt`` (a :class:`~wpp.masking.Secret`) is the Supabase user's access token; it is
    only set for ``method == "supabase"``. Its repr is masked.
    """

    name: str
    username: str = ""
    method: Method = "staff"
    supabase_jwt: Secret | None = None
    email: str | None = None
    #: Supabase refresh token (masked like the JWT); lets :func:`supabase_refresh` renew the session
    supabase_refresh_token: Secret | None = field(default=None, compare=False)
    #: Unix time (seconds) when ``supabase_jwt`` stops being valid, when known
    expires_at: float | None = field(default=None, compare=False)
    #: Supabase user id (uuid) or OIDC ``sub``
    user_id: str | None = None

    def __post_init__(self) -> None:
        for attr in ("supabase_jwt", "supabase_refresh_token"):
            v = getattr(self, attr)
            if v is not None and not isinstance(v, Secret):
                object.__setattr__(self, attr, Secret(v))

    @property
    def is_demo(self) -> bool:
        return self.method == "demo"

    def jwt_expired(self, now: float | None = None, margin_s: float = 60.0) -> bool:
        """True when the Supabase JWT is missing or expires within ``margin_s`` seconds."""
        if self.supabase_jwt is None:
            return True
        if self.expires_at is None:
            return False
        now = time.time() if now is None else now
        return now >= self.expires_at - margin_s

    def __repr__(self) -> str:
        jwt = mask(self.supabase_jwt.reveal()) if self.supabase_jwt is not None else None
        return (
            f"Identity(name={self.name!r}, username={self.username!r}, method={self.method!r}, "
            f"email={self.email!r}, supabase_jwt={jwt!r})"
        )

    __str__ = __repr__


def demo_identity() -> Identity:
    """The identity used in demo mode (embedded simulator, nothing real at stake)."""
    return Identity(name="Demo user", username="demo", method="demo")


# =============================================================================
# Password hashing
# =============================================================================
SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
SCRYPT_SALT_BYTES = 16
SCRYPT_KEY_BYTES = 64
PBKDF2_MIN_ITERATIONS = 200_000

# Upper bounds, so that a mistyped hash in the configuration cannot make one sign-in take minutes
# or gigabytes.
_SCRYPT_MAX_N = 2**20
_SCRYPT_MAX_RP = 64  # r * p
_PBKDF2_MAX_ITERATIONS = 10_000_000
_MAX_PASSWORD_CHARS = 4096

HASH_FORMAT_HELP = (
    "Staff passwords must be stored as scrypt or pbkdf2 hashes; "
    "generate one with `python scripts/hash_password.py`"
)


def _b64decode(text: str) -> bytes:
    """Standard or URL-safe base64, padding optional. Raises ValueError."""
    t = text.strip()
    if not t or not re.fullmatch(r"[A-Za-z0-9+/_\-.]+={0,2}", t):
        raise ValueError("not base64")
    t = t.rstrip("=").replace("-", "+").replace("_", "/").replace(".", "+")
    t += "=" * (-len(t) % 4)
    try:
        return base64.b64decode(t, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not base64") from exc


def _b64encode(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _positive_int(text: str) -> int:
    if not text.isdigit() or len(text) > 12:
        raise ValueError("not a positive integer")
    value = int(text)
    if value <= 0:
        raise ValueError("not a positive integer")
    return value


@dataclass(frozen=True)
class _ParsedHash:
    scheme: str  # "scrypt" | "pbkdf2_sha256"
    params: tuple
    salt: bytes
    digest: bytes

    def compute(self, password: bytes) -> bytes:
        if self.scheme == "scrypt":
            n, r, p = self.params
            return hashlib.scrypt(
                password,
                salt=self.salt,
                n=n,
                r=r,
                p=p,
                dklen=len(self.digest),
                maxmem=128 * r * n * p + 128 * r * (n + p + 2) + (1 << 20),
            )
        (iterations,) = self.params
        return hashlib.pbkdf2_hmac("sha256", password, self.salt, iterations, dklen=len(self.digest))


def _describe_bad_hash(stored: str) -> str:
    """A hint about what an unusable stored value looks like (never echoes the value)."""
    s = stored.strip()
    if not s:
        return "the value is empty"
    if re.fullmatch(r"[0-9a-fA-F]{32}", s):
        return "it looks like an MD5 digest, which is far too fast to guess against"
    if re.fullmatch(r"[0-9a-fA-F]{40}", s):
        return "it looks like a SHA-1 digest, which is far too fast to guess against"
    if re.fullmatch(r"[0-9a-fA-F]{64}", s):
        return "it looks like a SHA-256 digest, which is far too fast to guess against"
    if re.fullmatch(r"[0-9a-fA-F]{96}|[0-9a-fA-F]{128}", s):
        return "it looks like a SHA-384/512 digest, which is far too fast to guess against"
    if s.startswith(("$2a$", "$2b$", "$2y$", "$argon2")):
        return "bcrypt and argon2 hashes are not supported here"
    if "$" not in s:
        return "it looks like a plain-text password"
    return "the hash could not be read"


def _parse_hash(stored: str) -> _ParsedHash:
    """Parse a stored hash; raise ValueError (with a reason that never contains the value)."""
    if not isinstance(stored, str):
        raise ValueError("the value is not text")
    s = stored.strip()
    parts = s.split("$")
    try:
        if parts[0] == "scrypt" and len(parts) == 6:
            n, r, p = (_positive_int(x) for x in parts[1:4])
            salt, digest = _b64decode(parts[4]), _b64decode(parts[5])
            if n < SCRYPT_N or n & (n - 1):
                raise ValueError(f"scrypt n must be a power of two of at least {SCRYPT_N}")
            if n > _SCRYPT_MAX_N or r * p > _SCRYPT_MAX_RP:
                raise ValueError("scrypt parameters are unreasonably large")
            if r < SCRYPT_R:
                raise ValueError(f"scrypt r must be at least {SCRYPT_R}")
            if len(salt) < 8:
                raise ValueError("scrypt salt is too short")
            if len(digest) not in (32, SCRYPT_KEY_BYTES):
                raise ValueError("the scrypt hash has the wrong length (was it cut short?)")
            return _ParsedHash("scrypt", (n, r, p), salt, digest)
        if parts[0] == "pbkdf2_sha256" and len(parts) == 4:
            # Django's format: pbkdf2_sha256$<iterations>$<salt text>$<base64 hash>
            iterations = _positive_int(parts[1])
            salt_text, digest = parts[2], _b64decode(parts[3])
            if not salt_text:
                raise ValueError("pbkdf2 salt is empty")
            salt = salt_text.encode("utf-8")
            _check_pbkdf2(iterations, salt, digest)
            return _ParsedHash("pbkdf2_sha256", (iterations,), salt, digest)
        if len(parts) == 5 and parts[0] == "" and parts[1] == "pbkdf2-sha256":
            # passlib's format: $pbkdf2-sha256$<rounds>$<ab64 salt>$<ab64 hash>
            iterations = _positive_int(parts[2])
            salt, digest = _b64decode(parts[3]), _b64decode(parts[4])
            _check_pbkdf2(iterations, salt, digest)
            return _ParsedHash("pbkdf2_sha256", (iterations,), salt, digest)
    except ValueError as exc:
        raise ValueError(str(exc)) from None
    raise ValueError(_describe_bad_hash(s))


def _check_pbkdf2(iterations: int, salt: bytes, digest: bytes) -> None:
    if iterations < PBKDF2_MIN_ITERATIONS:
        raise ValueError(f"pbkdf2 needs at least {PBKDF2_MIN_ITERATIONS:,} iterations")
    if iterations > _PBKDF2_MAX_ITERATIONS:
        raise ValueError("pbkdf2 iterations are unreasonably large")
    if len(salt) < 8:
        raise ValueError("pbkdf2 salt is too short")
    if len(digest) != 32:
        raise ValueError("the pbkdf2 hash has the wrong length (was it cut short?)")


def hash_password(password: str, *, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> str:
    """Hash a password for the ``[staff]`` table: ``scrypt$n$r$p$salt_b64$hash_b64``.

    ``n``/``r``/``p`` exist for completeness; values below the defaults are refused (a hash that
    :func:`verify_password` would never accept is of no use).
    """
    if not isinstance(password, str) or password == "":
        raise InvalidInput("The password is empty.", action="Type a password.")
    if len(password) > _MAX_PASSWORD_CHARS:
        raise InvalidInput("The password is too long.", action=f"Use at most {_MAX_PASSWORD_CHARS} characters.")
    if n < SCRYPT_N or n & (n - 1) or r < SCRYPT_R or p < 1:
        raise InvalidInput(
            "These scrypt parameters are too weak.",
            action=f"Use n >= {SCRYPT_N} (a power of two), r >= {SCRYPT_R}, p >= 1.",
        )
    salt = secrets.token_bytes(SCRYPT_SALT_BYTES)
    parsed = _ParsedHash("scrypt", (n, r, p), salt, b"\0" * SCRYPT_KEY_BYTES)
    digest = parsed.compute(password.encode("utf-8"))
    return f"scrypt${n}${r}${p}${_b64encode(salt)}${_b64encode(digest)}"


def check_hash_format(stored_hash: str) -> None:
    """Raise :class:`InvalidInput` unless ``stored_hash`` is a usable scrypt/pbkdf2 hash."""
    try:
        _parse_hash(stored_hash)
    except ValueError as exc:
        raise InvalidInput(HASH_FORMAT_HELP + ".", action="", detail=f"Why this value was refused: {exc}.") from None


def verify_password(password: str, stored_hash: str) -> bool:
    """True only if ``password`` matches a valid scrypt/pbkdf2 ``stored_hash``. Never raises."""
    if not isinstance(password, str) or password == "" or len(password) > _MAX_PASSWORD_CHARS:
        return False
    try:
        parsed = _parse_hash(stored_hash)
        candidate = parsed.compute(password.encode("utf-8"))
    except (ValueError, MemoryError, OverflowError):
        return False
    return hmac.compare_digest(candidate, parsed.digest)


_DUMMY_HASH: str | None = None
_DUMMY_LOCK = threading.Lock()


def _dummy_hash() -> str:
    """A real hash of a random password, to spend the same time on unknown users."""
    global _DUMMY_HASH
    with _DUMMY_LOCK:
        if _DUMMY_HASH is None:
            _DUMMY_HASH = hash_password(secrets.token_urlsafe(24))
        return _DUMMY_HASH


def staff_problems(staff: Mapping[str, str]) -> list[str]:
    """Readable problems with a ``[staff]`` table (for the Settings page or the log); never shows hashes."""
    problems: list[str] = []
    seen: dict[str, str] = {}
    for username, stored in staff.items():
        key = _user_key(str(username))
        if not key:
            problems.append("A staff account has an empty name.")
            continue
        if key in seen:
            problems.append(
                f"Staff accounts {seen[key]!r} and {username!r} differ only in upper/lower case; "
                "neither can sign in until one is renamed."
            )
        seen[key] = str(username)
        try:
            _parse_hash(stored)
        except ValueError as exc:
            problems.append(f"Staff account {username!r} cannot sign in: {HASH_FORMAT_HELP} ({exc}).")
    return problems


# =============================================================================
# Staff accounts with lockout
# =============================================================================
def _user_key(username: str) -> str:
    return username.strip().casefold()


class _Attempts:
    __slots__ = ("failures", "locked_until", "lock", "users")

    def __init__(self) -> None:
        self.failures: list[float] = []
        self.locked_until: float = 0.0
        self.lock = threading.Lock()  # serialises sign-ins for one username
        self.users = 0  # threads currently holding a reference (guarded by the directory lock)


class StaffDirectory:
    """Staff accounts (username -> password hash) with a per-username lockout.

    * the same "Wrong name or password." for an unknown name and a wrong password, and an
      unknown name costs a real hash verification too, so neither words nor timing tell which
      names exist;
    * ``max_failures`` wrong passwords within ``window_s`` (default: ``lockout_s``) lock that
      username for ``lockout_s`` seconds — unknown usernames too; a success clears the count;
    * sign-ins for one username are serialised, so many parallel guesses still count one by one
      and the account locks exactly once.

    ``on_event(event, username)`` (optional) hears ``"success"``, ``"failure"``, ``"locked"``
    (the moment a lock starts) and ``"refused_locked"``; useful for an audit log.
    """

    #: entries kept for usernames that are neither locked nor recently failed, beyond which old ones are dropped
    max_tracked = 10_000

    def __init__(
        self,
        staff: Mapping[str, str] | None,
        *,
        clock=SYSTEM_CLOCK,
        max_failures: int = 5,
        lockout_s: float = 300,
        window_s: float | None = None,
        on_event: Callable[[str, str], None] | None = None,
    ):
        if max_failures < 1:
            raise ValueError("max_failures must be at least 1")
        self._clock = clock
        self.max_failures = int(max_failures)
        self.lockout_s = float(lockout_s)
        self.window_s = float(lockout_s if window_s is None else window_s)
        self._on_event = on_event
        self.problems: list[str] = staff_problems(staff or {})
        accounts: dict[str, tuple[str, str]] = {}
        ambiguous: set[str] = set()
        for username, stored in (staff or {}).items():
            key = _user_key(str(username))
            if not key:
                continue
            if key in accounts:
                ambiguous.add(key)
            accounts[key] = (str(username).strip(), str(stored))
        for key in ambiguous:
            accounts.pop(key, None)
        self._accounts = accounts
        self._attempts: dict[str, _Attempts] = {}
        self._lock = threading.Lock()
        _dummy_hash()  # pay for the dummy hash now, not on the first unknown name

    # -- introspection ------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._accounts)

    def __contains__(self, username: object) -> bool:
        return isinstance(username, str) and _user_key(username) in self._accounts

    @property
    def usernames(self) -> list[str]:
        return sorted(name for name, _ in self._accounts.values())

    def __repr__(self) -> str:
        return f"StaffDirectory({len(self)} account(s), max_failures={self.max_failures}, lockout_s={self.lockout_s:g})"

    def locked_for(self, username: str) -> float:
        """Seconds this username stays locked (0 when not locked)."""
        now = self._clock.time()
        with self._lock:
            entry = self._attempts.get(_user_key(username))
            return max(0.0, entry.locked_until - now) if entry else 0.0

    def unlock(self, username: str) -> None:
        """Clear failures and lock for a username (an administrator's action)."""
        with self._lock:
            entry = self._attempts.get(_user_key(username))
            if entry is not None:
                entry.failures.clear()
                entry.locked_until = 0.0

    # -- signing in ---------------------------------------------------------------------------
    def sign_in(self, username: str, password: str) -> Identity:
        """Return the staff member's Identity, or raise :class:`AccessDenied` in plain words."""
        if not isinstance(username, str) or not isinstance(password, str):
            raise AccessDenied("Wrong name or password.", action="Check the name and the password and try again.")
        key = _user_key(username)
        if not key or not password:
            # Nothing to check; not counted as a failure (an empty form is not a guess).
            raise AccessDenied("Enter your name and password.", action="")
        entry = self._acquire(key)
        try:
            with entry.lock:
                now = self._clock.time()
                if entry.locked_until > now:
                    self._emit("refused_locked", key)
                    raise self._locked_error(entry.locked_until - now)
                if entry.locked_until:  # a lock that has run out: start afresh
                    entry.locked_until = 0.0
                    entry.failures.clear()
                account = self._accounts.get(key)
                if account is None:
                    verify_password(password, _dummy_hash())
                    ok = False
                else:
                    ok = verify_password(password, account[1])
                now = self._clock.time()
                if ok:
                    entry.failures.clear()
                    self._emit("success", key)
                    return Identity(name=account[0], username=account[0], method="staff")
                entry.failures = [t for t in entry.failures if now - t < self.window_s]
                entry.failures.append(now)
                self._emit("failure", key)
                if len(entry.failures) >= self.max_failures:
                    entry.locked_until = now + self.lockout_s
                    entry.failures.clear()
                    self._emit("locked", key)
                    raise self._locked_error(self.lockout_s)
                raise AccessDenied(
                    "Wrong name or password.", action="Check the name and the password and try again."
                )
        finally:
            self._release(key, entry)

    def _locked_error(self, remaining_s: float) -> AccessDenied:
        minutes = max(1, math.ceil(remaining_s / 60))
        unit = "minute" if minutes == 1 else "minutes"
        return AccessDenied(
            f"Too many wrong passwords: this account is locked for {minutes} more {unit}.",
            action="Wait, then try again, or ask an administrator to check your password.",
        )

    def _emit(self, event: str, key: str) -> None:
        if self._on_event is not None:
            try:
                self._on_event(event, key)
            except Exception:  # an audit hook must never break signing in
                pass

    def _acquire(self, key: str) -> _Attempts:
        with self._lock:
            entry = self._attempts.get(key)
            if entry is None:
                if len(self._attempts) >= self.max_tracked:
                    self._prune_locked()
                entry = self._attempts[key] = _Attempts()
            entry.users += 1
            return entry

    def _release(self, key: str, entry: _Attempts) -> None:
        with self._lock:
            entry.users -= 1

    def _prune_locked(self) -> None:
        """Drop entries nobody is using and that hold no live failure or lock (self._lock held)."""
        now = self._clock.time()
        for k in [
            k
            for k, e in self._attempts.items()
            if e.users == 0
            and e.locked_until <= now
            and not any(now - t < self.window_s for t in e.failures)
        ]:
            del self._attempts[k]


# =============================================================================
# Supabase Auth (GoTrue) through supabase-py
# =============================================================================
_EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]{2,}")


def _check_email(email: str) -> str:
    if not isinstance(email, str):
        raise InvalidInput("Enter your email address.", action="")
    e = email.strip()
    if not e:
        raise InvalidInput("Enter your email address.", action="")
    if len(e) > 254 or not _EMAIL_RE.fullmatch(e):
        raise InvalidInput(
            "This does not look like an email address.",
            action="Type the email you use for Supabase, like name@example.com.",
        )
    return e


def _make_client(url: str, key: str, timeout: float):
    """A supabase-py client that neither persists nor auto-refreshes the session (no timer threads)."""
    import httpx
    from supabase import ClientOptions, create_client

    http = httpx.Client(timeout=timeout, follow_redirects=True)
    options = ClientOptions(auto_refresh_token=False, persist_session=False, httpx_client=http)
    return create_client(url, key, options=options), http


def _response_of(exc: BaseException):
    """The httpx.Response behind a supabase_auth error, when there was one."""
    seen = 0
    cur: BaseException | None = exc
    while cur is not None and seen < 5:
        resp = getattr(cur, "response", None)
        if resp is not None:
            return resp
        cur = cur.__cause__ or cur.__context__
        seen += 1
    return None


def _map_auth_error(exc: BaseException, secrets_: list[str]) -> WppError:
    """Turn whatever supabase-py raised into one readable WppError; nothing secret in it."""
    import httpx

    try:
        from pydantic import ValidationError
    except Exception:  # pragma: no cover - pydantic always comes with supabase
        ValidationError = ()  # type: ignore[assignment]

    def detail(extra: str) -> str:
        text = f"{type(exc).__name__}: {extra}"
        for s in sorted((s for s in secrets_ if s), key=len, reverse=True):
            text = text.replace(s, "•••")  # also secrets too short for scrub() to look for
        return scrub(text[:500], secrets_)

    # Network trouble (raised by httpx directly, or wrapped as AuthRetryableError with status 0).
    if isinstance(exc, httpx.TimeoutException) or isinstance(exc.__cause__, httpx.TimeoutException):
        return SignInUnavailable(
            "The sign-in service did not answer in time.",
            action="Wait a minute and try again.",
            detail=detail("timeout"),
            secrets=secrets_,
        )
    if isinstance(exc, httpx.RequestError) or isinstance(exc.__cause__, httpx.RequestError):
        return SignInUnavailable(detail=detail("network error"), secrets=secrets_)
    if ValidationError and isinstance(exc, ValidationError):
        return SignInUnavailable(
            "The sign-in service sent an answer that could not be read.",
            action="Try again in a minute. If it keeps happening, ask an administrator to check SUPABASE_URL.",
            detail=detail("the answer did not contain a session"),
            secrets=secrets_,
        )

    status = getattr(exc, "status", None)
    code = getattr(exc, "code", None)
    text = str(getattr(exc, "message", "") or "")
    resp = _response_of(exc)
    if resp is not None:
        status = resp.status_code
        try:
            body = resp.json()
        except Exception:
            body = None
        if isinstance(body, dict):
            code = code or body.get("error_code") or (body.get("code") if isinstance(body.get("code"), str) else None)
            if not code and isinstance(body.get("error"), str):
                code = body["error"]
            text = text or str(body.get("msg") or body.get("message") or body.get("error_description") or "")
    if isinstance(status, int) and status <= 0:
        status = None
    lowered = f"{code or ''} {text}".lower()
    d = detail(f"HTTP {status or '-'} {code or ''} {text}".strip())

    if status == 429 or (code or "").startswith("over_") and "rate_limit" in (code or ""):
        return SignInRateLimited(status=429, detail=d, secrets=secrets_)
    if status is None:
        return SignInUnavailable(detail=d, secrets=secrets_)
    if status in (401,) or "invalid api key" in lowered or "no api key" in lowered:
        return SignInUnavailable(
            "Supabase sign-in is not set up correctly: the Supabase key was refused.",
            action="Ask an administrator to check SUPABASE_URL and SUPABASE_KEY in Settings.",
            status=status,
            detail=d,
            secrets=secrets_,
        )
    if status == 404:
        return SignInUnavailable(
            "Supabase sign-in is not set up correctly: there is no sign-in service at this address.",
            action="Ask an administrator to check SUPABASE_URL in Settings.",
            status=status,
            detail=d,
            secrets=secrets_,
        )
    if status >= 500:
        return SignInUnavailable(
            "The sign-in service had a problem answering.",
            action="Try again in a minute. If it keeps happening, ask an administrator.",
            status=status,
            detail=d,
            secrets=secrets_,
        )
    if "email_not_confirmed" in lowered or "email not confirmed" in lowered:
        return AccessDenied(
            "This email address has not been confirmed yet.",
            action="Open the confirmation link Supabase sent to this address, then sign in again.",
            status=status,
            detail=d,
            secrets=secrets_,
        )
    if "user_banned" in lowered or "banned" in lowered:
        return AccessDenied(
            "This account is not allowed to sign in.",
            action="Ask an administrator.",
            status=status,
            detail=d,
            secrets=secrets_,
        )
    if "provider_disabled" in lowered or "logins are disabled" in lowered:
        return SignInUnavailable(
            "Signing in with email and password is switched off for this Supabase project.",
            action="Ask an administrator to enable the email provider in Supabase Auth.",
            status=status,
            detail=d,
            secrets=secrets_,
        )
    if status == 422:
        return AccessDenied(
            "The sign-in service could not accept this email and password.",
            action="Check the email address and the password and try again.",
            status=status,
            detail=d,
            secrets=secrets_,
        )
    if 400 <= status < 500:
        # invalid_grant / invalid_credentials / "Invalid login credentials" and anything similar
        return AccessDenied(
            "Wrong email or password.",
            action="Check the email address and the password and try again.",
            status=status,
            detail=d,
            secrets=secrets_,
        )
    return SignInUnavailable(
        "The sign-in service sent an answer that could not be read.",
        action="Try again in a minute.",
        status=status,
        detail=d,
        secrets=secrets_,
    )


def _identity_from_session(session: Any, user: Any, fallback_email: str) -> Identity:
    access_token = getattr(session, "access_token", None)
    if not access_token:
        raise AccessDenied(
            "The sign-in service did not start a session for this account.",
            action="Confirm the email address if you were asked to, then sign in again.",
        )
    user = user or getattr(session, "user", None)
    meta = getattr(user, "user_metadata", None) or {}
    email = getattr(user, "email", None) or fallback_email
    name = ""
    if isinstance(meta, Mapping):
        name = str(meta.get("full_name") or meta.get("name") or "").strip()
    expires_at = getattr(session, "expires_at", None)
    if not expires_at and getattr(session, "expires_in", None):
        expires_at = time.time() + float(session.expires_in)
    refresh = getattr(session, "refresh_token", None)
    return Identity(
        name=name or email,
        username=email,
        method="supabase",
        supabase_jwt=Secret(access_token),
        email=email,
        supabase_refresh_token=Secret(refresh) if refresh else None,
        expires_at=float(expires_at) if expires_at else None,
        user_id=getattr(user, "id", None),
    )


def _check_config(url: str | None, anon_key: "Secret | str | None") -> tuple[str, str]:
    key = reveal(anon_key)
    if not url or not key:
        raise SignInUnavailable(
            "Supabase sign-in is not set up.",
            action="Ask an administrator to set SUPABASE_URL and SUPABASE_KEY in Settings.",
        )
    url = str(url).strip().rstrip("/")
    if not re.match(r"^https?://[^\s/]+", url):
        raise SignInUnavailable(
            "Supabase sign-in is not set up correctly: SUPABASE_URL is not a web address.",
            action="Ask an administrator to check SUPABASE_URL in Settings.",
            secrets=[key],
        )
    return url, key


def supabase_sign_in(
    url: str,
    anon_key: "Secret | str",
    email: str,
    password: str,
    *,
    client: Any = None,
    timeout: float = 10.0,
) -> Identity:
    """Sign in with Supabase Auth (``POST {url}/auth/v1/token?grant_type=password``).

    ``client`` is a supabase-py ``Client`` (or anything with ``.auth.sign_in_with_password``);
    by default one is made with ``create_client(url, anon_key)`` that keeps nothing after the call.
    The returned Identity carries the session's access token as ``supabase_jwt``.

    Raises :class:`InvalidInput` (email shape, empty password), :class:`AccessDenied` (wrong
    credentials, unconfirmed email, 422), :class:`SignInRateLimited` (429) or
    :class:`SignInUnavailable` (network, 5xx, HTML error pages, key refused, unreadable answer).
    No message ever contains the password, the key or a token.
    """
    email = _check_email(email)
    if not isinstance(password, str) or password == "":
        raise InvalidInput("Enter your password.", action="")
    url, key = _check_config(url, anon_key) if client is None else (url, reveal(anon_key) or "")
    secrets_ = [password, key]
    own_http = None
    try:
        if client is None:
            client, own_http = _make_client(url, key, timeout)
        response = client.auth.sign_in_with_password({"email": email, "password": password})
    except WppError:
        raise
    except Exception as exc:  # supabase_auth.errors.AuthError, httpx errors, pydantic errors, ...
        err = _map_auth_error(exc, secrets_)
    else:
        err = None
    finally:
        if own_http is not None:
            own_http.close()
    if err is not None:
        raise err from None
    return _identity_from_session(getattr(response, "session", None), getattr(response, "user", None), email)


def supabase_refresh(
    url: str,
    anon_key: "Secret | str",
    identity: Identity,
    *,
    client: Any = None,
    timeout: float = 10.0,
) -> Identity:
    """Renew a Supabase identity's access token with its refresh token (one request, no loop).

    A refused refresh token raises :class:`AccessDenied` ("Your sign-in has expired").
    """
    if identity.method != "supabase" or identity.supabase_refresh_token is None:
        raise AccessDenied("Your sign-in has expired.", action="Sign in again.")
    refresh = identity.supabase_refresh_token.reveal()
    url, key = _check_config(url, anon_key) if client is None else (url, reveal(anon_key) or "")
    secrets_ = [refresh, key] + ([identity.supabase_jwt.reveal()] if identity.supabase_jwt else [])
    own_http = None
    try:
        if client is None:
            client, own_http = _make_client(url, key, timeout)
        response = client.auth.refresh_session(refresh)
    except Exception as exc:
        err = _map_auth_error(exc, secrets_)
        if type(err) is AccessDenied:
            err = AccessDenied(
                "Your sign-in has expired.", action="Sign in again.", status=err.status, detail=err.detail
            )
    else:
        err = None
    finally:
        if own_http is not None:
            own_http.close()
    if err is not None:
        raise err from None
    fresh = _identity_from_session(
        getattr(response, "session", None), getattr(response, "user", None), identity.email or ""
    )
    return replace(fresh, name=fresh.name or identity.name)


# =============================================================================
# OIDC (Streamlit's st.login / st.user)
# =============================================================================
def identity_from_oidc(user_info: Mapping[str, Any], *, allowed: Iterable[str] | None = None) -> Identity:
    """Identity from the claims of an OIDC sign-in (Streamlit's ``st.user`` is such a mapping).

    ``allowed``: optional list of email addresses and ``@domain`` entries; when given, anyone
    else is refused (an OIDC provider like Google lets *every* account holder sign in).
    """
    if user_info is None or not hasattr(user_info, "get"):
        raise AccessDenied()
    if "is_logged_in" in user_info and not user_info.get("is_logged_in"):
        raise AccessDenied("You are not signed in.", action="Sign in again.")

    def claim(name: str) -> str | None:
        v = user_info.get(name)
        return str(v).strip() if v not in (None, "") and str(v).strip() else None

    email, sub, name = claim("email"), claim("sub"), claim("name")
    display = name or email or sub
    if not display:
        raise AccessDenied(
            "The sign-in provider did not say who you are.",
            action="Sign in again, or ask an administrator to check the [auth] settings.",
        )
    if allowed is not None:
        rules = {a.strip().casefold() for a in allowed if a and a.strip()}
        addr = (email or "").casefold()
        domain = "@" + addr.rsplit("@", 1)[-1] if "@" in addr else None
        verified = user_info.get("email_verified", True) not in (False, "false", "False")
        if not (addr and verified and (addr in rules or (domain and domain in rules))):
            raise AccessDenied(
                "This account is not allowed to use WPP Console.",
                action="Sign in with your work account, or ask an administrator to add you.",
            )
    return Identity(name=display, username=email or sub or display, method="oidc", email=email, user_id=sub)
