"""Staff passwords: slow, salted hashes only (scrypt, or PBKDF2-SHA256 made elsewhere).

Plain text and fast digests (MD5, SHA-*) are refused, even when they match. Hashes made here look like
``scrypt$16384$8$1$<salt b64>$<hash b64>``; Django's ``pbkdf2_sha256$...`` and passlib's ``$pbkdf2-sha256$...``
are accepted too.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import threading
from dataclasses import dataclass
from typing import Mapping

from ..errors import InvalidInput
from ..i18n import N_, Text
from ..textutil import b64decode, short

SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
SCRYPT_SALT_BYTES = 16
SCRYPT_KEY_BYTES = 64
PBKDF2_MIN_ITERATIONS = 200_000

# Upper bounds, so that a mistyped hash in the configuration cannot make one sign-in take minutes or gigabytes.
_SCRYPT_MAX_N = 2**20
_SCRYPT_MAX_RP = 64  # r * p
_PBKDF2_MAX_ITERATIONS = 10_000_000
MAX_PASSWORD_CHARS = 4096

HASH_FORMAT_HELP: Text = N_(
    "Staff passwords must be stored as scrypt or pbkdf2 hashes; generate one with `python scripts/hash_password.py`."
)


def _ab64decode(text: str) -> bytes:
    """passlib's "adapted base64" ("." for "+", no padding), then :func:`wpp.textutil.b64decode`."""
    return b64decode(text.replace(".", "+"))


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
            return hashlib.scrypt(password, salt=self.salt, n=n, r=r, p=p, dklen=len(self.digest),
                                  maxmem=128 * r * n * p + 128 * r * (n + p + 2) + (1 << 20))
        (iterations,) = self.params
        return hashlib.pbkdf2_hmac("sha256", password, self.salt, iterations, dklen=len(self.digest))


def _describe_bad_hash(stored: str) -> str:
    """A hint (English, for the technical detail) about what an unusable stored value looks like; never the value."""
    s = stored.strip()
    if not s:
        return "the value is empty"
    for length, name in ((32, "an MD5"), (40, "a SHA-1"), (64, "a SHA-256"), (96, "a SHA-384"), (128, "a SHA-512")):
        if re.fullmatch(r"[0-9a-fA-F]{%d}" % length, s):
            return f"it looks like {name} digest, which is far too fast to guess against"
    if s.startswith(("$2a$", "$2b$", "$2y$", "$argon2")):
        return "bcrypt and argon2 hashes are not supported here"
    if "$" not in s:
        return "it looks like a plain-text password"
    return "the hash could not be read"


def _check_pbkdf2(iterations: int, salt: bytes, digest: bytes) -> None:
    if iterations < PBKDF2_MIN_ITERATIONS:
        raise ValueError(f"pbkdf2 needs at least {PBKDF2_MIN_ITERATIONS:,} iterations")
    if iterations > _PBKDF2_MAX_ITERATIONS:
        raise ValueError("pbkdf2 iterations are unreasonably large")
    if len(salt) < 8:
        raise ValueError("pbkdf2 salt is too short")
    if len(digest) != 32:
        raise ValueError("the pbkdf2 hash has the wrong length (was it cut short?)")


def _parse_hash(stored: str) -> _ParsedHash:
    """Parse a stored hash; raise ValueError (with an English reason that never contains the value)."""
    if not isinstance(stored, str):
        raise ValueError("the value is not text")
    s = stored.strip()
    parts = s.split("$")
    try:
        if parts[0] == "scrypt" and len(parts) == 6:
            n, r, p = (_positive_int(x) for x in parts[1:4])
            salt, digest = b64decode(parts[4]), b64decode(parts[5])
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
            salt_text, digest = parts[2], b64decode(parts[3])
            if not salt_text:
                raise ValueError("pbkdf2 salt is empty")
            salt = salt_text.encode("utf-8")
            _check_pbkdf2(iterations, salt, digest)
            return _ParsedHash("pbkdf2_sha256", (iterations,), salt, digest)
        if len(parts) == 5 and parts[0] == "" and parts[1] == "pbkdf2-sha256":
            # passlib's format: $pbkdf2-sha256$<rounds>$<ab64 salt>$<ab64 hash>
            iterations = _positive_int(parts[2])
            salt, digest = _ab64decode(parts[3]), _ab64decode(parts[4])
            _check_pbkdf2(iterations, salt, digest)
            return _ParsedHash("pbkdf2_sha256", (iterations,), salt, digest)
    except ValueError as exc:
        raise ValueError(str(exc)) from None
    raise ValueError(_describe_bad_hash(s))


def hash_password(password: str, *, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> str:
    """Hash a password for the ``[staff]`` table: ``scrypt$n$r$p$salt_b64$hash_b64``.

    ``n``/``r``/``p`` below the defaults are refused (a hash :func:`verify_password` would never accept is of no use).
    """
    if not isinstance(password, str) or password == "":
        raise InvalidInput(N_("The password is empty."), action=N_("Type a password."))
    if len(password) > MAX_PASSWORD_CHARS:
        raise InvalidInput(N_("The password is too long."),
                           action=N_("Use at most {limit} characters.", limit=MAX_PASSWORD_CHARS))
    if n < SCRYPT_N or n & (n - 1) or r < SCRYPT_R or p < 1:
        raise InvalidInput(N_("These scrypt parameters are too weak."),
                           action=N_("Use n of at least {n} (a power of two), r of at least {r}, p of at least 1.",
                                     n=SCRYPT_N, r=SCRYPT_R))
    salt = secrets.token_bytes(SCRYPT_SALT_BYTES)
    parsed = _ParsedHash("scrypt", (n, r, p), salt, b"\0" * SCRYPT_KEY_BYTES)
    digest = parsed.compute(password.encode("utf-8"))
    return f"scrypt${n}${r}${p}${_b64encode(salt)}${_b64encode(digest)}"


def check_hash_format(stored_hash: str) -> None:
    """Raise :class:`InvalidInput` unless ``stored_hash`` is a usable scrypt/pbkdf2 hash (the reason in ``detail``)."""
    try:
        _parse_hash(stored_hash)
    except ValueError as exc:
        raise InvalidInput(HASH_FORMAT_HELP, action="", detail=f"Why this value was refused: {exc}.") from None


def verify_password(password: str, stored_hash: str) -> bool:
    """True only if ``password`` matches a valid scrypt/pbkdf2 ``stored_hash``. Never raises."""
    if not isinstance(password, str) or password == "" or len(password) > MAX_PASSWORD_CHARS:
        return False
    try:
        parsed = _parse_hash(stored_hash)
        candidate = parsed.compute(password.encode("utf-8"))
    except (ValueError, MemoryError, OverflowError):
        return False
    return hmac.compare_digest(candidate, parsed.digest)


_DUMMY_HASH: str | None = None
_DUMMY_LOCK = threading.Lock()


def dummy_hash() -> str:
    """A real hash (default parameters) of a random password, to spend the same time on unknown names."""
    global _DUMMY_HASH
    with _DUMMY_LOCK:
        if _DUMMY_HASH is None:
            _DUMMY_HASH = hash_password(secrets.token_urlsafe(24))
        return _DUMMY_HASH


def user_key(username: str) -> str:
    """How a staff name is compared: without surrounding spaces, case-insensitive."""
    return str(username).strip().casefold()


def staff_problems(staff: Mapping[str, object]) -> list[Text]:
    """Problems with a ``[staff]`` table, in plain words (Settings page, start-up warnings); never shows a hash."""
    problems: list[Text] = []
    seen: dict[str, str] = {}
    for username, stored in staff.items():
        name = short(username)
        key = user_key(str(username))
        if not key:
            problems.append(N_("A staff account in [staff] has an empty name; it cannot sign in."))
            continue
        if key in seen:
            problems.append(N_("Staff accounts “{first}” and “{second}” differ only in upper/lower case; neither can "
                               "sign in until one is renamed.", first=short(seen[key]), second=name))
        seen[key] = str(username)
        if not isinstance(stored, str):
            problems.append(N_("Staff account “{name}” cannot sign in: its password hash is not text.", name=name))
            continue
        try:
            _parse_hash(stored)
        except ValueError:
            problems.append(N_("Staff account “{name}” cannot sign in: its password is not stored as a scrypt or "
                               "pbkdf2 hash. Make one with `python scripts/hash_password.py`.", name=name))
    return problems


__all__ = [
    "HASH_FORMAT_HELP",
    "MAX_PASSWORD_CHARS",
    "PBKDF2_MIN_ITERATIONS",
    "SCRYPT_N",
    "SCRYPT_P",
    "SCRYPT_R",
    "check_hash_format",
    "dummy_hash",
    "hash_password",
    "staff_problems",
    "user_key",
    "verify_password",
]
