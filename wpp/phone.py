"""Phone numbers as the platform wants them: digits only, with the country code.

Numbers typed the Russian local way went wrong in real use (a number without its leading 7 went to
Iran, +98…). The rules, for the default country 7:

=========================  ==============  ===========================================
typed                      result          why
=========================  ==============  ===========================================
``+7 (900) 123-45-67``     ``79001234567`` international form
``8 900 123 45 67``        ``79001234567`` domestic trunk prefix 8 → 7
``89001234567``            ``79001234567``
``79001234567``            ``79001234567`` already digits with the country code
``9001234567``             ``79001234567`` ten digits starting with 9: a Russian mobile
``+44 20 7946 0958``       ``442079460958`` other countries: ``+`` (or ``00``) and the code
=========================  ==============  ===========================================

Everything else that cannot be made unambiguous is refused with :class:`InvalidInput` saying what is
wrong and showing an example.
"""
from __future__ import annotations

import re

from .errors import InvalidInput

MIN_DIGITS = 10
MAX_DIGITS = 15
_EXAMPLE = "+7 900 123-45-67"
_ACTION = f"Type the number with its country code, for example {_EXAMPLE}."
# Characters people use to group digits. Anything else (letters, '#', '*', ';', …) is refused.
_SEPARATORS = set(" \t-()./\u00a0\u2009\u202f\u2010\u2011\u2012\u2013\u2014")


def _short(raw: str, limit: int = 30) -> str:
    text = "".join(ch if ch.isprintable() else "\ufffd" for ch in raw)
    return text if len(text) <= limit else text[:limit] + "…"


def normalize_phone(raw: object, default_country: str = "7") -> str:
    """Digits with the country code, or :class:`InvalidInput`.

    ``default_country`` is the calling code assumed for numbers typed without ``+``; the Russian
    local forms (leading 8, ten digits starting with 9) apply when it is ``"7"``. For another
    default country, national numbers with one leading trunk ``0`` get that code instead.
    """
    if raw is None or isinstance(raw, bool) or not isinstance(raw, (str, int)):
        raise InvalidInput("No phone number was given.", action=_ACTION)
    text = str(raw).strip()
    if not text:
        raise InvalidInput("The phone number is empty.", action=_ACTION)
    if len(text) > 40:
        raise InvalidInput(f"\u201c{_short(text)}\u201d is too long to be a phone number.", action=_ACTION)

    plus = text.startswith("+") or text.startswith("\uff0b")
    body = text[1:] if plus else text
    for ch in body:
        if ch.isdigit() and not ch.isascii():
            raise InvalidInput(f"The phone number \u201c{_short(text)}\u201d has non-Latin digits.", action=_ACTION)
        if ch.isdigit() or ch in _SEPARATORS:
            continue
        if ch == "+":
            raise InvalidInput(
                f"The phone number \u201c{_short(text)}\u201d has a \u201c+\u201d that is not at the start.",
                action=_ACTION,
            )
        if ch.isalpha():
            raise InvalidInput(
                f"The phone number \u201c{_short(text)}\u201d contains letters; a phone number is digits only.",
                action=_ACTION,
            )
        raise InvalidInput(
            f"The phone number \u201c{_short(text)}\u201d contains \u201c{_short(ch)}\u201d, which is not part of a phone number.",
            action=_ACTION,
        )
    digits = re.sub(r"\D", "", body)
    if not digits:
        raise InvalidInput(f"\u201c{_short(text)}\u201d has no digits.", action=_ACTION)
    if not plus and digits.startswith("00"):
        plus, digits = True, digits[2:]  # 00 is the international prefix
    if len(digits) > MAX_DIGITS:
        raise InvalidInput(
            f"The phone number has {len(digits)} digits; a full number has at most {MAX_DIGITS}.", action=_ACTION
        )

    if plus:
        return _international(digits, text)
    return _national(digits, text, default_country)


def _international(digits: str, text: str) -> str:
    if digits.startswith("0"):
        raise InvalidInput(
            f"\u201c{_short(text)}\u201d: a country code never starts with 0.", action=_ACTION
        )
    if digits.startswith("7"):
        return _russian(digits, text)
    if digits.startswith("89") and len(digits) == 11:
        raise InvalidInput(
            f"\u201c{_short(text)}\u201d mixes + with the Russian 8 prefix.",
            action=f"For a Russian number write +7 instead of +8, e.g. {_EXAMPLE}.",
        )
    if len(digits) < MIN_DIGITS:
        raise InvalidInput(
            f"The phone number has only {len(digits)} digits with its country code; at least {MIN_DIGITS} are needed.",
            action=_ACTION,
        )
    return digits


def _russian(digits: str, text: str) -> str:
    """``digits`` starts with 7: it must be 7 plus a ten-digit national number."""
    if len(digits) < 11:
        raise InvalidInput(
            f"The Russian number \u201c{_short(text)}\u201d is too short: it needs 7 and ten more digits.",
            action=_ACTION,
        )
    if len(digits) > 11:
        raise InvalidInput(
            f"The Russian number \u201c{_short(text)}\u201d is too long: it needs 7 and exactly ten more digits.",
            action=_ACTION,
        )
    if digits[1] == "0":
        raise InvalidInput(f"\u201c{_short(text)}\u201d is not a valid Russian number.", action=_ACTION)
    return digits


def _national(digits: str, text: str, default_country: str) -> str:
    n = len(digits)
    if default_country == "7":
        if n == 11 and digits[0] == "8":
            return _russian("7" + digits[1:], text)
        if n == 11 and digits[0] == "7":
            return _russian(digits, text)
        if n == 10 and digits[0] == "9":
            return "7" + digits
        if digits[0] in "78" and n >= 8:
            raise InvalidInput(
                f"\u201c{_short(text)}\u201d looks like a Russian number but has {n} digits instead of 11.",
                action=_ACTION,
            )
        if n < MIN_DIGITS:
            raise InvalidInput(
                f"The phone number \u201c{_short(text)}\u201d is too short ({n} digits).", action=_ACTION
            )
        if n == 10:
            raise InvalidInput(
                f"\u201c{_short(text)}\u201d has ten digits but no country code, so it is not clear where it would go.",
                action=_ACTION,
            )
        raise InvalidInput(
            f"\u201c{_short(text)}\u201d does not look like a Russian number.",
            action="For a number in another country type + and the country code first, e.g. +44 20 7946 0958.",
        )
    # another default country: an explicit code prefix, or a national number with a trunk 0
    if not default_country.isdigit() or not (1 <= len(default_country) <= 3):
        raise InvalidInput(f"\u201c{default_country}\u201d is not a country calling code.")
    if digits.startswith(default_country) and MIN_DIGITS <= n <= MAX_DIGITS:
        return digits
    national = digits[1:] if digits.startswith("0") and not digits.startswith("00") else digits
    full = default_country + national
    if not (MIN_DIGITS <= len(full) <= MAX_DIGITS):
        raise InvalidInput(
            f"\u201c{_short(text)}\u201d does not make a complete number ({len(full)} digits with the country code).",
            action=_ACTION,
        )
    return full


def validate_digits(value: object) -> str:
    """Check a recipient that is *already* digits with the country code (what the client sends).

    Digits are taken as already carrying their country code, except the two local Russian forms
    that are exactly the numbers that went to the wrong country: ten digits starting with 9 (a
    Russian mobile without its 7, which would go to +98 Iran, +90 Turkey…) and eleven digits starting
    with 89 (the trunk prefix 8; no country code starts with 89). Those are refused, not rewritten,
    with the number they probably meant. Other numbers starting with 8 (+81 Japan, +84 Vietnam…) are
    valid. Anything that is not only digits goes through :func:`normalize_phone`.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip().isdigit() or not value.strip().isascii():
        return normalize_phone(value)
    digits = value.strip()
    if len(digits) == 10 and digits[0] == "9":
        raise InvalidInput(
            f"\u201c{digits}\u201d looks like a Russian number without its country code 7.",
            action=f"Did you mean {describe_phone('7' + digits)}? Type the number with its country code.",
        )
    if len(digits) == 11 and digits.startswith("89"):  # no country code starts with 89
        raise InvalidInput(
            f"\u201c{digits}\u201d starts with the Russian local prefix 8.",
            action=f"Did you mean {describe_phone('7' + digits[1:])}? Type the number with its country code.",
        )
    if digits[0] == "0":
        raise InvalidInput(f"\u201c{digits}\u201d: a country code never starts with 0.", action=_ACTION)
    if digits[0] == "7":
        return _russian(digits, digits)
    if not (MIN_DIGITS <= len(digits) <= MAX_DIGITS):
        raise InvalidInput(
            f"\u201c{_short(digits)}\u201d has {len(digits)} digits; a number with its country code has {MIN_DIGITS}–{MAX_DIGITS}.",
            action=_ACTION,
        )
    return digits


def describe_phone(digits: str) -> str:
    """A readable form of a number for showing before sending: ``+7 900 123-45-67``.

    Accepts the digits returned by :func:`normalize_phone` (anything else is normalised first).
    Numbers outside +7 are shown as ``+`` and the digits, ungrouped: the length of their country
    code is not known here, and a wrong grouping would mislead.
    """
    d = str(digits).strip()
    if not (d.isdigit() and d.isascii()):
        d = normalize_phone(d)
    if len(d) == 11 and d[0] == "7":
        return f"+7 {d[1:4]} {d[4:7]}-{d[7:9]}-{d[9:11]}"
    return "+" + d
