"""Recipient numbers: the Russian local forms are made unambiguous or refused (the +98 incident)."""
from __future__ import annotations

import pytest

from wpp.errors import InvalidInput
from wpp.phone import describe_phone, normalize_phone, validate_digits

GOOD = [
    ("+7 (900) 123-45-67", "79001234567"),
    ("8 900 123 45 67", "79001234567"),
    ("89001234567", "79001234567"),
    ("79001234567", "79001234567"),
    ("9001234567", "79001234567"),
    ("7 900 123 45 67", "79001234567"),
    ("+79001234567", "79001234567"),
    ("8(900)123-45-67", "79001234567"),
    ("8.900.123.45.67", "79001234567"),
    ("+7\u00a0900\u00a0123\u201145\u201167", "79001234567"),
    ("  +7 495 123 45 67 ", "74951234567"),
    ("8 800 555 35 35", "78005553535"),
    ("0079001234567", "79001234567"),
    ("+44 20 7946 0958", "442079460958"),
    ("+1 (212) 555-0123", "12125550123"),
    ("+98 912 345 6789", "989123456789"),
    ("+380 50 123 4567", "380501234567"),
    ("00 49 30 1234567", "49301234567"),
    (79001234567, "79001234567"),
]


@pytest.mark.parametrize("raw,digits", GOOD)
def test_normalize(raw, digits):
    assert normalize_phone(raw) == digits


@pytest.mark.parametrize("raw", [d for _, d in GOOD if d.startswith("7")])
def test_normalize_is_idempotent_for_russian_numbers(raw):
    assert normalize_phone(normalize_phone(raw)) == normalize_phone(raw)


BAD = [
    ("", "empty"),
    ("   ", "empty"),
    (None, "No phone"),
    ("abc", "letters"),
    ("+7 900 ABC 45 67", "letters"),
    ("8 900 123 45 67 доб. 12", "letters"),
    ("+7 900 123 45 6", "too short"),
    ("+7 900 123 45 678", "too long"),
    ("8 900 123 45 6", "10 digits instead of 11"),
    ("900 123 45", "too short"),
    ("12345", "too short"),
    ("+12345", "at least 10"),
    ("4951234567", "no country code"),  # ten digits not starting with 9: where would it go?
    ("+8 900 123 45 67", "+7 instead of +8"),
    ("8 900 123 45 678", "11"),
    ("7 900 123 45 678", "11"),
    ("+7 8 900 123 45 67", "too long"),
    ("+0 900 123 45 67", "never starts with 0"),
    ("12125550123", "does not look like a Russian number"),
    ("+7 900 +123 45 67", "not at the start"),
    ("+7 900 123 45 67; DROP", "“;”"),
    ("+7 900 123*45*67", "“*”"),
    ("+7 900 123 45 67#", "“#”"),
    ("9" * 16, "at most 15"),
    ("+" + "4" * 16, "at most 15"),
    ("1" * 10_000, "too long"),
    ("+", "no digits"),
    ("()-", "no digits"),
    ("+7 ٩٠٠ 123 45 67", "non-Latin"),
    (True, "No phone"),
]


@pytest.mark.parametrize("raw,words", BAD)
def test_refused_with_what_is_wrong_and_an_example(raw, words):
    with pytest.raises(InvalidInput) as ei:
        normalize_phone(raw)
    err = ei.value
    assert words in str(err), str(err)
    assert "+7 900 123-45-67" in str(err) or "+44" in str(err)
    assert len(str(err)) < 400


def test_other_default_country():
    assert normalize_phone("030 1234567", default_country="49") == "49301234567"
    assert normalize_phone("49301234567", default_country="49") == "49301234567"


@pytest.mark.parametrize(
    "digits,shown",
    [
        ("79001234567", "+7 900 123-45-67"),
        ("+7 (900) 123-45-67", "+7 900 123-45-67"),
        ("442079460958", "+442079460958"),
    ],
)
def test_describe(digits, shown):
    assert describe_phone(digits) == shown


def test_validate_digits_refuses_local_forms_instead_of_guessing():
    assert validate_digits("79001234567") == "79001234567"
    assert validate_digits("442079460958") == "442079460958"
    assert validate_digits("84912345678") == "84912345678"  # +84 Vietnam, a mobile
    assert validate_digits("819012345678") == "819012345678"  # +81 Japan
    assert validate_digits("+7 900 123 45 67") == "79001234567"  # non-digits go through normalize_phone
    with pytest.raises(InvalidInput, match="without its country code") as ei:
        validate_digits("9001234567")  # would go to Iran (+98...) as is
    assert "+7 900 123-45-67" in str(ei.value)
    with pytest.raises(InvalidInput, match="local prefix 8"):
        validate_digits("89001234567")
    with pytest.raises(InvalidInput):
        validate_digits("790012345678")
    with pytest.raises(InvalidInput):
        validate_digits("123")
