"""Masking by length (issue 11.7): a short secret shows none of its characters, a longer one at most a quarter."""
from __future__ import annotations

import pytest

from wpp.masking import HIDDEN, Secret, mask, scrub


def shown_characters(secret: str, masked: str) -> int:
    """How many of the secret's characters the masked form gives away (its visible start and end)."""
    if "…" not in masked:
        return 0
    head, tail = masked.split("…", 1)
    tail = tail.split(" (", 1)[0]
    assert secret.startswith(head) and secret.endswith(tail)
    return len(head) + len(tail)


SECRETS = {
    8: "s3cr3t!x",
    13: "hidden-secret",  # the case: once shown as "hidd…cret"
    16: "0123456789abcdef",
    40: "sk_live_51Habcdefghijklmnopqrstuvwxyz012",
    200: "k" * 100 + "z" * 100,
}


@pytest.mark.parametrize("n", sorted(SECRETS))
def test_mask_by_length(n):
    secret = SECRETS[n]
    assert len(secret) == n
    masked = mask(secret)
    shown = shown_characters(secret, masked)
    if n < 16:
        assert masked == HIDDEN and shown == 0
        assert not any(ch in masked for ch in secret)
    else:
        assert 0 < shown <= n // 4
        assert f"({n} chars)" in masked
    assert secret not in masked


def test_mask_examples():
    assert mask("hidden-secret") == "••••••••"
    assert mask("0123456789abcdef") == "01…ef (16 chars)"
    assert mask("abcd" + "x" * 32 + "wxyz") == "abcd…wxyz (40 chars)"
    assert mask(None) == "—" and mask("") == "—"


def test_short_secrets_all_look_the_same():
    """Not even the length of a short secret is given away."""
    assert len({mask("x" * n) for n in range(1, 16)}) == 1


def test_secret_object_uses_the_same_rule():
    s = Secret("hidden-secret")
    for text in (str(s), repr(s), f"{s}", f"{s:>20}"):
        assert "hidd" not in text and "-sec" not in text and "••••••••" in text
    assert s.reveal() == "hidden-secret"


def test_scrub_masks_known_secrets_by_length():
    text = "secret hidden-secret and key sk_live_51Habcdefghijklmnopqrstuvwxyz012 in a message"
    out = scrub(text, ["hidden-secret", SECRETS[40]])
    assert "hidden-secret" not in out and "hidd" not in out
    assert SECRETS[40] not in out
    assert "sk_l…z012 (40 chars)" in out


def test_scrub_masks_bearer_values_and_jwts_by_length():
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
    out = scrub(f"Authorization: Bearer short123 / token {jwt}")
    assert "short123" not in out and "Bearer ••••••••" in out
    assert jwt not in out and "eyJh…R8U" not in out  # at most 4 characters at each end
    assert scrub(out) == out  # masking a masked text changes nothing
