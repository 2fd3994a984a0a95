"""Words staff read, in their language: gettext catalogues (``wpp/locale/<lang>/LC_MESSAGES/wpp.po``) through Babel.

One translation mechanism for the whole console, Streamlit-free:

* ``_("Sign in")`` translates now, into the language of the current context (:func:`use_language`);
  ``_("Expires in {left}", left=...)`` also fills ``{name}`` placeholders (``str.format`` style).
* ``N_("The platform cannot be reached.")`` is *lazy*: a :class:`Text` that remembers the message id and its
  values and is translated only when it is turned into a string. The domain (errors, statuses, activity lines)
  uses it, so a message made in a background thread is shown in the language of the page that shows it.
* ``_n("{n} number", "{n} numbers", n)`` / ``N_n(...)``: plural forms (Russian has three; the catalogue's
  ``Plural-Forms`` header says which is used).

The source language is English: a message id *is* the English text, so a missing translation shows English.
Catalogues are ``.po`` files for translators; they are compiled in memory with Babel when first needed (a
compiled ``.mo`` beside a ``.po`` is used when it is newer). Extraction: ``pybabel extract -F babel.cfg``
with the keywords listed in :data:`BABEL_KEYWORDS` (see README, "Translations").

Dates, times, durations and numbers are formatted with Babel in the current language
(:func:`format_datetime`, :func:`format_time`, :func:`format_duration`, :func:`format_number`).
"""
from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import gettext as _gettext
import io
import logging
import string
import threading
from pathlib import Path
from typing import Any, Iterator, Mapping

log = logging.getLogger("wpp.i18n")

#: languages with a catalogue, the first is the source language (message ids are English)
LANGUAGES: tuple[str, ...] = ("en", "ru")
DEFAULT_LANGUAGE = "en"
#: what each language is called in itself (for the language switch)
LANGUAGE_NAMES: dict[str, str] = {"en": "English", "ru": "Русский"}
DOMAIN = "wpp"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
#: the extraction keywords (pybabel extract -k ...): name -> positions of the singular/plural message ids
BABEL_KEYWORDS: dict[str, tuple[int, ...]] = {"_": (1,), "N_": (1,), "_n": (1, 2), "N_n": (1, 2)}

_current: contextvars.ContextVar[str] = contextvars.ContextVar("wpp_language", default=DEFAULT_LANGUAGE)
_catalogues: dict[str, _gettext.NullTranslations] = {}
_catalogues_lock = threading.Lock()


# --- which language -------------------------------------------------------------------------------------
def normalize_language(value: Any) -> str:
    """``"ru-RU"``, ``"ru_RU"``, ``"RU"`` -> ``"ru"``; anything without a catalogue -> the default (English)."""
    text = str(value or "").strip().replace("_", "-").lower()
    lang = text.split("-", 1)[0]
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


def current_language() -> str:
    return _current.get()


def set_language(lang: Any) -> str:
    """Use ``lang`` for this thread/context from now on (a page run sets it first thing). Returns it, normalised."""
    code = normalize_language(lang)
    _current.set(code)
    return code


@contextlib.contextmanager
def use_language(lang: Any) -> Iterator[str]:
    """Translate into ``lang`` inside the block (tests, background work that renders for someone)."""
    token = _current.set(normalize_language(lang))
    try:
        yield _current.get()
    finally:
        _current.reset(token)


# --- catalogues ------------------------------------------------------------------------------------------
def _load(lang: str) -> _gettext.NullTranslations:
    if lang == DEFAULT_LANGUAGE:
        return _gettext.NullTranslations()
    folder = LOCALE_DIR / lang / "LC_MESSAGES"
    po, mo = folder / f"{DOMAIN}.po", folder / f"{DOMAIN}.mo"
    try:
        if mo.is_file() and (not po.is_file() or mo.stat().st_mtime >= po.stat().st_mtime):
            with mo.open("rb") as fh:
                return _gettext.GNUTranslations(fh)
        if po.is_file():
            from babel.messages.mofile import write_mo
            from babel.messages.pofile import read_po

            with po.open("rb") as fh:
                catalog = read_po(fh, locale=lang, domain=DOMAIN)
            buf = io.BytesIO()
            write_mo(buf, catalog, use_fuzzy=False)
            buf.seek(0)
            return _gettext.GNUTranslations(buf)
    except Exception:  # noqa: BLE001 - a broken catalogue shows English, never an error page
        log.exception("the %s translation could not be loaded; showing English", lang)
    return _gettext.NullTranslations()


def catalogue(lang: str | None = None) -> _gettext.NullTranslations:
    code = normalize_language(lang or current_language())
    cat = _catalogues.get(code)
    if cat is None:
        with _catalogues_lock:
            cat = _catalogues.get(code)
            if cat is None:
                cat = _catalogues[code] = _load(code)
    return cat


def reload_catalogues() -> None:
    """Forget the loaded catalogues (tests that edit a .po, translators trying a change)."""
    with _catalogues_lock:
        _catalogues.clear()


# --- formatting of values into a message ----------------------------------------------------------------
class _Formatter(string.Formatter):
    """``str.format`` that never fails on a message: a missing value shows as ``{name}``, lazy values are
    translated, and nothing in a value is interpreted again."""

    def get_value(self, key, args, kwargs):  # noqa: ANN001
        if isinstance(key, int):
            return args[key] if key < len(args) else "{%d}" % key
        return kwargs.get(key, "{" + key + "}")

    def format_field(self, value, format_spec):  # noqa: ANN001
        if isinstance(value, Text):
            value = str(value)
        try:
            return super().format_field(value, format_spec)
        except (ValueError, TypeError):
            return str(value)


_FORMATTER = _Formatter()


def _fill(template: str, params: Mapping[str, Any]) -> str:
    if not params or "{" not in template:
        return template
    try:
        return _FORMATTER.vformat(template, (), dict(params))
    except (ValueError, IndexError, KeyError):  # an unbalanced brace in a translation: show it unfilled
        return template


def placeholders(template: str) -> set[str]:
    """The ``{name}`` placeholders of a message (for the catalogue checks)."""
    out: set[str] = set()
    try:
        for _lit, field, _spec, _conv in string.Formatter().parse(template):
            if field is not None:
                out.add(field.split(".", 1)[0].split("[", 1)[0])
    except ValueError:
        out.add("<unbalanced braces>")
    return out


# --- the translation functions ----------------------------------------------------------------------------
def _(msgid: str, /, **params: Any) -> str:
    """Translate ``msgid`` into the current language now and fill its ``{placeholders}``."""
    return _fill(catalogue().gettext(msgid), params)


def _n(singular: str, plural: str, n: int, /, **params: Any) -> str:
    """Plural form for ``n`` (``{n}`` is filled with ``n`` unless given)."""
    params.setdefault("n", format_number(n))
    return _fill(catalogue().ngettext(singular, plural, int(n)), params)


gettext = _


class Text:
    """A message translated when it is shown: ``str(text)`` is in the current language.

    Values are kept as given (a value that is itself a :class:`Text` is translated too). Two Texts are equal
    when their message ids and values are; ``text.english`` is the English form, for logs.
    """

    __slots__ = ("msgid", "plural", "n", "params")

    def __init__(self, msgid: str, /, *, plural: str | None = None, n: int | None = None, **params: Any):
        if plural is None and n is not None:
            # ``N_("… this has {n}.", n=2)``: a value named n, not a plural count (a plural message has ``plural``)
            params.setdefault("n", n)
            n = None
        self.msgid = msgid
        self.plural = plural
        self.n = n
        self.params = params

    def render(self, lang: str | None = None) -> str:
        cat = catalogue(lang) if lang else catalogue()
        params = dict(self.params)
        if self.plural is not None:
            n = int(self.n or 0)
            params.setdefault("n", format_number(n, lang))
            template = cat.ngettext(self.msgid, self.plural, n)
        else:
            template = cat.gettext(self.msgid)
        if lang:
            with use_language(lang):
                return _fill(template, params)
        return _fill(template, params)

    @property
    def english(self) -> str:
        return self.render(DEFAULT_LANGUAGE)

    def __str__(self) -> str:
        return self.render()

    def __repr__(self) -> str:
        return f"Text({self.msgid!r}{', ' + repr(self.params) if self.params else ''})"

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Text):
            return (self.msgid, self.plural, self.n, self.params) == (other.msgid, other.plural, other.n, other.params)
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.msgid, self.plural, self.n))

    def __bool__(self) -> bool:
        return bool(self.msgid)

    def __add__(self, other: object) -> str:
        return str(self) + str(other)

    def __radd__(self, other: object) -> str:
        return str(other) + str(self)

    def to_json(self) -> dict:
        """``{"msgid": ..., "params": {...}}`` (plural: also ``plural`` and ``n``) for storing, e.g. activity."""
        out: dict[str, Any] = {"msgid": self.msgid, "params": {k: _jsonable(v) for k, v in self.params.items()}}
        if self.plural is not None:
            out.update(plural=self.plural, n=self.n)
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Text":
        params = {k: (cls.from_json(v) if isinstance(v, Mapping) and "msgid" in v else v)
                  for k, v in dict(data.get("params") or {}).items()}
        if data.get("n") is not None:
            params["n"] = data.get("n")
        return cls(str(data.get("msgid") or ""), plural=data.get("plural"), **params)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Text):
        return value.to_json()
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def N_(msgid: str, /, **params: Any) -> Text:
    """A lazy message (translated when shown). Babel extracts ``msgid``."""
    return Text(msgid, **params)


def N_n(singular: str, plural: str, n: int, /, **params: Any) -> Text:
    """A lazy plural message."""
    return Text(singular, plural=plural, n=int(n), **params)


def text(value: "Text | str | None") -> str:
    """A message or plain string as text in the current language (None -> empty)."""
    if value is None:
        return ""
    return str(value)


# --- formatting of dates, times, durations and numbers (Babel) -------------------------------------------
def _babel_locale(lang: str | None = None) -> str:
    return {"ru": "ru_RU", "en": "en_GB"}.get(normalize_language(lang or current_language()), "en_GB")


def format_number(value: float | int, lang: str | None = None) -> str:
    from babel.numbers import format_decimal

    return format_decimal(value, locale=_babel_locale(lang))


def _aware(moment: "dt.datetime | float | int", tz: dt.tzinfo | None) -> dt.datetime:
    if isinstance(moment, (int, float)):
        moment = dt.datetime.fromtimestamp(float(moment), tz=dt.timezone.utc)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(tz or dt.timezone.utc)


def format_datetime(moment: "dt.datetime | float | int | None", tz: dt.tzinfo | None = None, *,
                    fmt: str = "medium", lang: str | None = None) -> str:
    """``24 нояб. 2026 г., 09:12:05`` / ``24 Nov 2026, 09:12:05`` in ``tz``. None -> ``—``."""
    if moment is None:
        return "—"
    from babel.dates import format_datetime as _fd

    try:
        return _fd(_aware(moment, tz), format=fmt, locale=_babel_locale(lang))
    except (OverflowError, OSError, ValueError, TypeError):
        return "—"


def format_time(moment: "dt.datetime | float | int | None", tz: dt.tzinfo | None = None, *,
                lang: str | None = None, now: "dt.datetime | float | None" = None) -> str:
    """``09:12`` when ``moment`` is today in ``tz``, else ``24 нояб., 09:12`` / ``24 Nov, 09:12``."""
    if moment is None:
        return "—"
    from babel.dates import format_datetime as _fd, format_time as _ft

    try:
        t = _aware(moment, tz)
        today = _aware(now if now is not None else dt.datetime.now(dt.timezone.utc), tz).date()
        loc = _babel_locale(lang)
        if t.date() == today:
            return _ft(t, format="HH:mm", locale=loc)
        return _fd(t, format="d MMM, HH:mm", locale=loc)
    except (OverflowError, OSError, ValueError, TypeError):
        return "—"


def format_duration(seconds: float | None, *, lang: str | None = None, threshold: float = 0.85,
                    granularity: str = "second", add_direction: bool = False) -> str:
    """``4 минуты`` / ``4 minutes`` (Babel's rounding); ``add_direction``: ``через 4 минуты`` / ``4 минуты назад``."""
    if seconds is None:
        return "—"
    from babel.dates import format_timedelta

    return format_timedelta(dt.timedelta(seconds=float(seconds)), threshold=threshold, granularity=granularity,
                            add_direction=add_direction, locale=_babel_locale(lang))


__all__ = [
    "BABEL_KEYWORDS",
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "LANGUAGE_NAMES",
    "N_",
    "N_n",
    "Text",
    "_",
    "_n",
    "catalogue",
    "current_language",
    "format_datetime",
    "format_duration",
    "format_number",
    "format_time",
    "gettext",
    "normalize_language",
    "placeholders",
    "reload_catalogues",
    "set_language",
    "text",
    "use_language",
]
