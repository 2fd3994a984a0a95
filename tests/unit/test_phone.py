"""Recipient numbers: the Russian local forms made unambiguous or refused (the +98 incident), every other
country through its own numbering plan (phonenumbers)."""
from __future__ import annotations

import pytest

from wpp.errors import InvalidInput
from wpp.i18n import Text
from wpp.phone import describe_phone, normalize_phone, validate_digits

GOOD = [
    # Russia: the local habits
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
    (79001234567, "79001234567"),
    # Kazakhstan shares +7 (and the trunk 8)
    ("+7 701 123 4567", "77011234567"),
    ("8 701 123 45 67", "77011234567"),
    # the United Kingdom, with and without the trunk 0 in brackets
    ("+44 20 7946 0958", "442079460958"),
    ("+44 (0)20 7946 0958", "442079460958"),
    ("00 44 (0) 7911 123456", "447911123456"),
    # Germany, the USA, Ukraine, Turkey, Iran, Japan
    ("00 49 30 1234567", "49301234567"),
    ("+49 (0)30 1234567", "49301234567"),
    ("+1 (212) 555-0123", "12125550123"),
    ("+380 50 123 4567", "380501234567"),
    ("+90 532 123 45 67", "905321234567"),
    ("+98 912 345 6789", "989123456789"),
    ("+81 90-1234-5678", "819012345678"),
]


@pytest.mark.parametrize("raw,digits", GOOD)
def test_normalize(raw, digits):
    assert normalize_phone(raw) == digits


@pytest.mark.parametrize("raw", [d for _, d in GOOD])
def test_normalize_is_idempotent(raw):
    once = normalize_phone("+" + raw)
    assert normalize_phone("+" + once) == once


BAD = [
    ("", "empty"),
    ("   ", "empty"),
    (None, "No phone"),
    (True, "No phone"),
    ("abc", "letters"),
    ("+7 900 ABC 45 67", "letters"),
    ("+1 800 FLOWERS", "letters"),  # phonenumbers would dial the letters; staff mean digits
    ("8 900 123 45 67 доб. 12", "letters"),
    ("+7 900 123 45 6", "too short"),
    ("+7 900 123 45 678", "too long"),
    ("8 900 123 45 6", "10 digits instead of 11"),
    ("900 123 45", "too short"),
    ("12345", "too short"),
    ("+12345", "too short"),
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
    ("+7 ٩٠٠ 123 45 67", "another script"),
    # country codes no country has, numbers no country uses
    ("+999 1234567890", "country code that exists"),
    ("+292 123 4567", "country code that exists"),
    ("+7 600 123 45 67", "no such phone number"),  # Russia has no 6xx range
    ("+44 20 7946 095", "no such phone number"),
    ("+49 30", "too short"),
    ("+49 1 2345678", "no such phone number"),
    ("+1 212 555 01234", "too long"),
]


@pytest.mark.parametrize("raw,words", BAD)
def test_refused_with_what_is_wrong_and_an_example(raw, words):
    with pytest.raises(InvalidInput) as ei:
        normalize_phone(raw)
    err = ei.value
    assert words in str(err), str(err)
    assert "+7 900 123-45-67" in str(err) or "+44" in str(err)
    assert len(str(err)) < 400
    assert isinstance(err.message_text, Text)  # translated when shown


def test_what_was_typed_is_a_value_not_part_of_the_message():
    with pytest.raises(InvalidInput) as ei:
        normalize_phone("+7 900 ABC 45 67")
    assert "{raw}" in ei.value.message_text.msgid and ei.value.message_text.params["raw"] == "+7 900 ABC 45 67"


def test_other_default_country():
    assert normalize_phone("030 1234567", default_country="49") == "49301234567"
    assert normalize_phone("49301234567", default_country="49") == "49301234567"
    assert normalize_phone("020 7946 0958", default_country="44") == "442079460958"
    with pytest.raises(InvalidInput, match="not a country calling code"):
        normalize_phone("030 1234567", default_country="999")


@pytest.mark.parametrize(
    "digits,shown",
    [
        ("79001234567", "+7 900 123-45-67"),
        ("+7 (900) 123-45-67", "+7 900 123-45-67"),
        ("77011234567", "+7 701 123 4567"),
        ("442079460958", "+44 20 7946 0958"),
        ("+44 (0)20 7946 0958", "+44 20 7946 0958"),
        ("49301234567", "+49 30 1234567"),
        ("12125550123", "+1 212-555-0123"),
        ("380501234567", "+380 50 123 4567"),
        ("905321234567", "+90 532 123 45 67"),
        ("989123456789", "+98 912 345 6789"),
    ],
)
def test_describe_in_the_countrys_own_grouping(digits, shown):
    assert describe_phone(digits) == shown


def test_validate_digits_refuses_local_forms_instead_of_guessing():
    assert validate_digits("79001234567") == "79001234567"
    assert validate_digits("442079460958") == "442079460958"
    assert validate_digits("4402079460958") == "442079460958"  # a trunk 0 after the code is not dialled
    assert validate_digits("84912345678") == "84912345678"  # +84 Vietnam, a mobile
    assert validate_digits("819012345678") == "819012345678"  # +81 Japan
    assert validate_digits("77011234567") == "77011234567"  # Kazakhstan
    assert validate_digits(79001234567) == "79001234567"
    assert validate_digits("+7 900 123 45 67") == "79001234567"  # non-digits go through normalize_phone
    with pytest.raises(InvalidInput, match="without its country code") as ei:
        validate_digits("9001234567")  # would go to Iran (+98...) as is
    assert "+7 900 123-45-67" in str(ei.value)
    with pytest.raises(InvalidInput, match="local prefix 8") as ei:
        validate_digits("89001234567")
    assert "+7 900 123-45-67" in str(ei.value)
    for bad, words in [("790012345678", "too long"), ("123", "too short"), ("9991234567890", "country code"),
                       ("0079001234567", "never starts with 0"), ("79" + "0" * 14, "at most 15")]:
        with pytest.raises(InvalidInput, match=words):
            validate_digits(bad)
