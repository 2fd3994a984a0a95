"""Password hashing: only slow, salted hashes are ever accepted."""
from __future__ import annotations

import base64
import hashlib

import pytest

from wpp.access import passwords
from wpp.access import HASH_FORMAT_HELP, check_hash_format, hash_password, verify_password
from wpp.access import staff_problems
from wpp.errors import InvalidInput
from wpp.i18n import Text

STAFF_PASSWORD = "correct horse battery"  # the password behind the anna_hash fixture


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def test_round_trip(anna_hash):
    assert anna_hash.startswith("scrypt$")
    assert verify_password(STAFF_PASSWORD, anna_hash) is True
    check_hash_format(anna_hash)  # does not raise


def test_wrong_password_is_false(anna_hash):
    assert verify_password("correct horse battery!", anna_hash) is False
    assert verify_password("Correct horse battery", anna_hash) is False


def test_empty_and_non_text_password_is_false(anna_hash):
    assert verify_password("", anna_hash) is False
    assert verify_password(None, anna_hash) is False  # type: ignore[arg-type]


def test_default_parameters_are_slow_hash_parameters(anna_hash):
    scheme, n, r, p, salt, digest = anna_hash.split("$")
    assert scheme == "scrypt"
    assert int(n) >= 2**14 and int(r) >= 8 and int(p) >= 1
    assert len(base64.b64decode(salt)) == 16
    assert len(base64.b64decode(digest)) == 64
    # the digest really is scrypt of the password with these parameters
    again = hashlib.scrypt(
        STAFF_PASSWORD.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p), dklen=64
    )
    assert again == base64.b64decode(digest)


def test_salt_is_random():
    assert hash_password("same password") != hash_password("same password")


@pytest.mark.parametrize("part", [1, 4, 5])  # n, salt, digest
def test_tampered_hash_is_false(anna_hash, part):
    parts = anna_hash.split("$")
    if part == 1:
        parts[1] = str(int(parts[1]) * 2)
    else:
        raw = bytearray(base64.b64decode(parts[part]))
        raw[0] ^= 0x01
        parts[part] = _b64(bytes(raw))
    assert verify_password(STAFF_PASSWORD, "$".join(parts)) is False


def test_truncated_or_garbled_hash_is_false(anna_hash):
    assert verify_password(STAFF_PASSWORD, anna_hash[:-10]) is False
    assert verify_password(STAFF_PASSWORD, anna_hash.replace("$", "#")) is False
    assert verify_password(STAFF_PASSWORD, anna_hash + "$extra") is False


PW = "Tr0ub4dor&3"
REJECTED = {
    "plain text": PW,
    "md5": hashlib.md5(PW.encode()).hexdigest(),
    "sha1": hashlib.sha1(PW.encode()).hexdigest(),
    "sha256": hashlib.sha256(PW.encode()).hexdigest(),
    "sha512": hashlib.sha512(PW.encode()).hexdigest(),
    "empty": "",
    "garbage": "scrypt$x$y$z$!!$??",
    "bcrypt": "$2b$12$C6UzMDM.H6dfI/f/IKcEeO5G1W6i5b2b1W0bR4F9k0fT8WmZ5e3.e",
    "weak scrypt": "scrypt$1024$8$1${}${}".format(
        _b64(b"0123456789abcdef"),
        _b64(hashlib.scrypt(PW.encode(), salt=b"0123456789abcdef", n=1024, r=8, p=1, dklen=64)),
    ),
    "weak pbkdf2": "pbkdf2_sha256$1000$saltsalt12${}".format(
        _b64(hashlib.pbkdf2_hmac("sha256", PW.encode(), b"saltsalt12", 1000))
    ),
}


@pytest.mark.parametrize("kind", sorted(REJECTED))
def test_plain_and_fast_formats_are_rejected(kind):
    stored = REJECTED[kind]
    # even the exact matching password is refused: the stored form itself is not acceptable
    assert verify_password(PW, stored) is False
    with pytest.raises(InvalidInput) as info:
        check_hash_format(stored)
    assert str(HASH_FORMAT_HELP) in str(info.value)
    assert "python scripts/hash_password.py" in info.value.message
    if kind != "empty":
        assert stored not in str(info.value) and stored not in info.value.detail


def test_check_hash_format_names_the_problem():
    with pytest.raises(InvalidInput) as info:
        check_hash_format(REJECTED["md5"])
    assert "MD5" in info.value.detail
    with pytest.raises(InvalidInput) as info:
        check_hash_format("hunter2")
    assert "plain-text" in info.value.detail


def test_pbkdf2_django_format_is_accepted():
    salt = "Xs9vKq2mZt7w"
    digest = hashlib.pbkdf2_hmac("sha256", b"s3cret pass", salt.encode(), 260_000)
    stored = f"pbkdf2_sha256$260000${salt}${_b64(digest)}"
    check_hash_format(stored)
    assert verify_password("s3cret pass", stored) is True
    assert verify_password("s3cret pas", stored) is False


def test_pbkdf2_passlib_format_is_accepted():
    salt = b"0123456789abcdef"
    digest = hashlib.pbkdf2_hmac("sha256", b"s3cret pass", salt, 200_000)
    ab64 = lambda raw: _b64(raw).rstrip("=").replace("+", ".")  # noqa: E731  (passlib's adapted base64)
    stored = f"$pbkdf2-sha256$200000${ab64(salt)}${ab64(digest)}"
    assert verify_password("s3cret pass", stored) is True
    assert verify_password("wrong", stored) is False


def test_hash_password_refuses_weak_parameters_and_empty_password():
    with pytest.raises(InvalidInput):
        hash_password("x" * 10, n=2**10)
    with pytest.raises(InvalidInput):
        hash_password("")


def test_comparison_is_constant_time(anna_hash, monkeypatch):
    calls = []
    real = passwords.hmac.compare_digest

    def spy(a, b):
        calls.append((len(a), len(b)))
        return real(a, b)

    monkeypatch.setattr(passwords.hmac, "compare_digest", spy)
    assert verify_password(STAFF_PASSWORD, anna_hash)
    assert not verify_password("nope", anna_hash)
    assert calls == [(64, 64), (64, 64)]


def test_staff_problems_name_the_account_never_the_hash(anna_hash):
    problems = staff_problems({"plain": PW, "md5": REJECTED["md5"], "anna": anna_hash, "Anna": anna_hash, "": anna_hash,
                               "num": 12345})
    text = "\n".join(str(p) for p in problems)
    for name in ("“plain”", "“md5”", "“anna”", "“Anna”", "“num”", "empty name"):
        assert name in text
    assert PW not in text and REJECTED["md5"] not in text and anna_hash not in text
    assert all(isinstance(p, Text) for p in problems)
