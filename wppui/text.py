"""Text that is data, shown safely.

A number's name, an organisation's name, a staff member's name, whatever the platform said: all of it is DATA.
Streamlit renders Markdown in titles, headers, ``st.markdown``/``st.write``, captions, alerts, widget labels,
metric values, radio options, badges and toasts. There such a text goes through :func:`esc`, which
backslash-escapes every ASCII punctuation character (CommonMark lets any of them be escaped), so
``![x](http://host/t.png)`` stays those characters and the browser fetches nothing, ``[link](http://x)`` and
``www.example.com`` are not links, ``:green-background[✅ Connected]`` is not a coloured badge, ``:smile:`` is not
an emoji and ``$x$`` is not maths.

Escaping is not enough for one thing: Streamlit's Markdown (remark-gfm) turns ``http://…``, ``www.…`` and
``name@host.org`` in the *finished text* into links, backslashes or not. So :func:`esc` also puts an invisible
WORD JOINER (U+2060) right after ``http``/``https`` before ``:``, after ``www`` before ``.``, and before ``@``:
the same characters on screen, no link.

Plain-text contexts (``st.text``, ``st.code``, dataframe cells, selectbox/multiselect options) take the raw string
(escaping would show the backslashes there); :func:`plain` only makes it one clean line.

Nothing here translates: the words around the data come from ``wpp.i18n._`` with ``{placeholders}``; the values
put into a Markdown message are escaped first: ``st.success(_("**{name}** is connected.", name=esc(name)))``.
"""
from __future__ import annotations

import re
import string
import unicodedata

__all__ = ["bold", "esc", "plain", "shorten"]

_PUNCT = frozenset(string.punctuation)  # every ASCII punctuation character: !"#$%&'()*+,-./:;<=>?@[\]^_`{|}~
#: characters that change how a line is drawn without being seen: controls and the bidi overrides/isolates
#: (a name with U+202E reads backwards and can pretend to be something else)
_INVISIBLE = re.compile(r"[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e"
                        r"\u2060-\u2064\u2066-\u2069\ufeff]")
_BREAKS = re.compile(r"[\r\n\t\u0085\u2028\u2029]+")
#: where GFM would find a link in plain text: a scheme before ":", "www" before ".", the "@" of an email
_AUTOLINK = re.compile(r"(?i)(?<=https)(?=:)|(?<=http)(?=:)|(?<=www)(?=\.)|(?=@)")
JOINER = "\u2060"


def plain(value: object, *, limit: int | None = None) -> str:
    """``value`` as one clean line of plain text: no control or direction-changing characters, line breaks and
    tabs become one space, trimmed; cut to ``limit`` characters with "…" when longer. None -> ``""``."""
    if value is None:
        return ""
    text = _BREAKS.sub(" ", str(value))
    text = _INVISIBLE.sub("", text).strip()
    return shorten(text, limit) if limit else text


def shorten(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, ending in "…" when it was cut."""
    if limit < 1 or len(text) <= limit:
        return text
    return text[: max(0, limit - 1)].rstrip() + "…"


def esc(value: object, *, limit: int | None = None) -> str:
    """``value`` (a name, a platform text) made safe for a Markdown context, shown literally.

    Every ASCII punctuation character gets a backslash and would-be autolinks an invisible word joiner; the text is
    first made one clean line (:func:`plain`), because a line break in Markdown can start a heading, a list or a
    code block. ``limit`` cuts the text (before escaping) to at most that many characters."""
    text = plain(value, limit=limit)
    if not text:
        return ""
    text = _AUTOLINK.sub(JOINER, text)
    out = []
    for ch in text:
        if ch in _PUNCT:
            out.append("\\" + ch)
        elif unicodedata.category(ch) == "Zs" and ch != " ":
            out.append(" ")  # no-break and other spaces: one ordinary space (a run of them can indent a block)
        else:
            out.append(ch)
    return "".join(out)


def bold(text: str) -> str:
    """Our own (translated) words in bold; never data (data goes through :func:`esc`)."""
    return f"**{text}**"
