"""Phone numbers as the platform wants them: digits only, with the country code.

The numbering plans of every country come from ``phonenumbers`` (Google's libphonenumber; the ``phonenumberslite``
build): it knows which country codes exist, how long a number may be, which ranges are in use, the trunk ``0`` of
``+44 (0)20 …`` and how each country groups its digits. On top of it, the Russian habits of the staff:

=========================  ==============  ===========================================
typed                      result          why
=========================  ==============  ===========================================
``+7 (900) 123-45-67``     ``79001234567`` international form
``8 900 123 45 67``        ``79001234567`` domestic trunk prefix 8 → 7
``89001234567``            ``79001234567``
``79001234567``            ``79001234567`` already digits with the country code
``9001234567``             ``79001234567`` ten digits starting with 9: a Russian mobile
``00 44 20 7946 0958``     ``442079460958`` ``00`` is the international prefix
``+44 (0)20 7946 0958``    ``442079460958`` the trunk 0 in brackets is not dialled from abroad
=========================  ==============  ===========================================

Numbers typed the Russian local way went wrong in real use (a number without its leading 7 went to Iran, +98…),
so anything that cannot be made unambiguous is refused with :class:`InvalidInput` in plain words, and so are
letters, country codes that do not exist (``+999 …``) and numbers no country uses (wrong length, unused range).
:func:`describe_phone` shows a number the way its country writes it, to be checked before sending.
"""
from __future__ import annotations

import re

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, ValidationResult

from .errors import InvalidInput
from .i18n import N_, N_n, Text
from .textutil import short

MIN_DIGITS = 8  # the shortest full numbers in use (small countries) have 8 digits with the code
MAX_DIGITS = 15  # E.164
MAX_TYPED = 40
EXAMPLE = "+7 900 123-45-67"
_ACTION = N_("Type the number with its country code, for example {example}.", example=EXAMPLE)
_FOREIGN_ACTION = N_("For a number in another country type + and the country code first, for example {example}.",
                     example="+44 20 7946 0958")
# Characters people use to group digits. Anything else (letters, '#', '*', ';', …) is refused.
_SEPARATORS = set(" \t-()./\u00a0\u2009\u202f\u2010\u2011\u2012\u2013\u2014")


def _refuse(message: Text, action: Text = _ACTION) -> InvalidInput:
    return InvalidInput(message, action=action)


def normalize_phone(raw: object, default_country: str = "7") -> str:
    """Digits with the country code, or :class:`InvalidInput`.

    ``default_country`` is the calling code assumed for numbers typed without ``+``/``00``: with ``"7"`` (the
    default) the Russian local forms apply (leading 8, ten digits starting with 9); with another code a national
    number is read the way that country writes it (``030 1234567`` with ``"49"`` → ``49301234567``).
    """
    if raw is None or isinstance(raw, bool) or not isinstance(raw, (str, int)):
        raise _refuse(N_("No phone number was given."))
    text = str(raw).strip()
    if not text:
        raise _refuse(N_("The phone number is empty."))
    if len(text) > MAX_TYPED:
        raise _refuse(N_("\u201c{raw}\u201d is too long to be a phone number.", raw=short(text, 30)))

    plus = text.startswith("+") or text.startswith("\uff0b")
    body = text[1:] if plus else text
    for ch in body:
        if ch.isdigit() and not ch.isascii():
            raise _refuse(N_("The phone number \u201c{raw}\u201d has digits of another script; type them as 0\u20139.",
                             raw=short(text, 30)))
        if ch.isdigit() or ch in _SEPARATORS:
            continue
        if ch == "+":
            raise _refuse(N_("The phone number \u201c{raw}\u201d has a \u201c+\u201d that is not at the start.",
                             raw=short(text, 30)))
        if ch.isalpha():
            raise _refuse(N_("The phone number \u201c{raw}\u201d contains letters; a phone number is digits only.",
                             raw=short(text, 30)))
        raise _refuse(N_("The phone number \u201c{raw}\u201d contains \u201c{char}\u201d, which is not part of a phone "
                         "number.", raw=short(text, 30), char=short(ch)))
    digits = re.sub(r"\D", "", body)
    if not digits:
        raise _refuse(N_("\u201c{raw}\u201d has no digits.", raw=short(text, 30)))
    if not plus and digits.startswith("00"):
        plus, digits = True, digits[2:]  # 00 is the international prefix
    if len(digits) > MAX_DIGITS:
        raise _refuse(N_n("The phone number has {n} digit; a full number has at most {max}.",
                          "The phone number has {n} digits; a full number has at most {max}.",
                          len(digits), max=MAX_DIGITS))
    if plus:
        return _international(digits, text)
    return _national(digits, text, default_country)


def _international(digits: str, text: str) -> str:
    if digits.startswith("0"):
        raise _refuse(N_("\u201c{raw}\u201d: a country code never starts with 0.", raw=short(text, 30)))
    if digits.startswith("7"):
        return _russian(digits, text)
    if digits.startswith("89") and len(digits) == 11:
        raise _refuse(N_("\u201c{raw}\u201d mixes + with the Russian 8 prefix.", raw=short(text, 30)),
                      N_("For a Russian number write +7 instead of +8, for example {example}.", example=EXAMPLE))
    return _checked(digits, text)


def _russian(digits: str, text: str) -> str:
    """``digits`` starts with 7 (Russia and Kazakhstan): 7 and exactly ten more digits, in a range in use."""
    if len(digits) < 11:
        raise _refuse(N_("The number \u201c{raw}\u201d is too short: after the country code 7 it needs ten more "
                         "digits.", raw=short(text, 30)))
    if len(digits) > 11:
        raise _refuse(N_("The number \u201c{raw}\u201d is too long: after the country code 7 it needs exactly ten "
                         "more digits.", raw=short(text, 30)))
    return _checked(digits, text)


def _national(digits: str, text: str, default_country: str) -> str:
    n = len(digits)
    if default_country == "7":
        if n == 11 and digits[0] == "8":
            return _russian("7" + digits[1:], text)
        if n == 11 and digits[0] == "7":
            return _russian(digits, text)
        if n == 10 and digits[0] == "9":
            return _russian("7" + digits, text)
        if digits[0] in "78" and n >= 8:
            raise _refuse(N_n("\u201c{raw}\u201d looks like a Russian number but has {n} digit instead of 11.",
                              "\u201c{raw}\u201d looks like a Russian number but has {n} digits instead of 11.",
                              n, raw=short(text, 30)))
        if n < 10:
            raise _refuse(N_n("The phone number \u201c{raw}\u201d is too short ({n} digit).",
                              "The phone number \u201c{raw}\u201d is too short ({n} digits).",
                              n, raw=short(text, 30)))
        if n == 10:
            raise _refuse(N_("\u201c{raw}\u201d has ten digits but no country code, so it is not clear where it "
                             "would go.", raw=short(text, 30)))
        raise _refuse(N_("\u201c{raw}\u201d does not look like a Russian number.", raw=short(text, 30)), _FOREIGN_ACTION)
    # another default country: read the way that country writes its numbers (trunk 0 and all)
    code = str(default_country).strip().lstrip("+")
    region = phonenumbers.region_code_for_country_code(int(code)) if code.isdigit() and len(code) <= 3 else "ZZ"
    if region == "ZZ":
        raise InvalidInput(N_("\u201c{code}\u201d is not a country calling code.", code=short(code, 10)))
    try:
        number = phonenumbers.parse(digits, region)
    except NumberParseException:
        raise _refuse(N_("\u201c{raw}\u201d is not a phone number of +{code}.", raw=short(text, 30), code=code)) from None
    return _verdict(number, text)


def _checked(digits: str, text: str) -> str:
    """``digits`` (country code first) checked against the numbering plans; the canonical digits back."""
    if len(digits) < MIN_DIGITS:
        raise _refuse(N_("\u201c{raw}\u201d is too short to be a phone number.", raw=short(text, 30)))
    try:
        number = phonenumbers.parse("+" + digits, None)
    except NumberParseException as exc:
        if exc.error_type == NumberParseException.INVALID_COUNTRY_CODE:
            raise _refuse(N_("\u201c{raw}\u201d does not start with a country code that exists.", raw=short(text, 30)),
                          N_("Check the country code, for example +7 for Russia or +44 for the United Kingdom.")) from None
        raise _refuse(N_("\u201c{raw}\u201d is too short to be a phone number.", raw=short(text, 30))) from None
    return _verdict(number, text)


def _verdict(number: "phonenumbers.PhoneNumber", text: str) -> str:
    code = str(number.country_code)
    if phonenumbers.region_code_for_country_code(number.country_code) == "ZZ":
        raise _refuse(N_("\u201c{raw}\u201d does not start with a country code that exists.", raw=short(text, 30)),
                      N_("Check the country code, for example +7 for Russia or +44 for the United Kingdom."))
    reason = phonenumbers.is_possible_number_with_reason(number)
    if reason == ValidationResult.TOO_SHORT:
        raise _refuse(N_("\u201c{raw}\u201d is too short for a number with the country code +{code}.",
                         raw=short(text, 30), code=code))
    if reason == ValidationResult.TOO_LONG:
        raise _refuse(N_("\u201c{raw}\u201d is too long for a number with the country code +{code}.",
                         raw=short(text, 30), code=code))
    if reason not in (ValidationResult.IS_POSSIBLE, ValidationResult.IS_POSSIBLE_LOCAL_ONLY) or \
            not phonenumbers.is_valid_number(number):
        raise _refuse(N_("There is no such phone number: \u201c{raw}\u201d does not match the numbers used with the "
                         "country code +{code}.", raw=short(text, 30), code=code),
                      N_("Check the digits. Type the number with its country code, for example {example}.",
                         example=EXAMPLE))
    return code + phonenumbers.national_significant_number(number)


def validate_digits(value: object) -> str:
    """Check a recipient that is *already* digits with the country code (what the client sends).

    Digits are taken as already carrying their country code, except the two local Russian forms
    that are exactly the numbers that went to the wrong country: ten digits starting with 9 (a
    Russian mobile without its 7, which would go to +98 Iran, +90 Turkey…) and eleven digits starting
    with 89 (the trunk prefix 8; no country code starts with 89). Those are refused, not rewritten,
    with the number they probably meant. Other numbers starting with 8 (+81 Japan, +84 Vietnam…) are
    valid. Anything that is not only digits goes through :func:`normalize_phone`. The canonical digits
    are returned (a trunk 0 after the country code is dropped).
    """
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip().isdigit() or not value.strip().isascii():
        return normalize_phone(value)
    digits = value.strip()
    if len(digits) == 10 and digits[0] == "9":
        raise _refuse(N_("\u201c{raw}\u201d looks like a Russian number without its country code 7.", raw=digits),
                      N_("Did you mean {number}? Type the number with its country code.",
                         number=describe_phone("7" + digits)))
    if len(digits) == 11 and digits.startswith("89"):  # no country code starts with 89
        raise _refuse(N_("\u201c{raw}\u201d starts with the Russian local prefix 8.", raw=digits),
                      N_("Did you mean {number}? Type the number with its country code.",
                         number=describe_phone("7" + digits[1:])))
    if digits[0] == "0":
        raise _refuse(N_("\u201c{raw}\u201d: a country code never starts with 0.", raw=short(digits, 30)))
    if len(digits) > MAX_DIGITS:
        raise _refuse(N_n("The phone number has {n} digit; a full number has at most {max}.",
                          "The phone number has {n} digits; a full number has at most {max}.",
                          len(digits), max=MAX_DIGITS))
    if digits[0] == "7":
        return _russian(digits, digits)
    return _checked(digits, digits)


def describe_phone(digits: object) -> str:
    """A number as its country writes it internationally, for showing before sending:
    ``+7 900 123-45-67``, ``+44 20 7946 0958``, ``+49 30 1234567``.

    Accepts the digits returned by :func:`normalize_phone` (anything else is normalised first).
    """
    d = str(digits).strip()
    if not (d.isdigit() and d.isascii()):
        d = normalize_phone(d)
    try:
        number = phonenumbers.parse("+" + d, None)
    except NumberParseException:
        return "+" + d
    if not phonenumbers.is_valid_number(number):
        return "+" + d
    return phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)


__all__ = ["EXAMPLE", "describe_phone", "normalize_phone", "validate_digits"]
