"""What an alert says, in the recipient's language: the school and the number by name, what happened and since when
(in the alerts' time zone), the one thing to do, and a link to the number's page.

Names come from people and the platform: they are data. The e-mail's text part is plain text; its HTML part escapes
everything (:func:`html_part`). A UUID appears only inside the link (``?n=<integration id>``), never in words.
"""
from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass
from typing import Any

from ..i18n import N_, Text, format_time

# kinds of incident (what happened)
OFFLINE = "offline"
LOGGED_OUT = "logged_out"
CANNOT_CHECK = "cannot_check"
KEY_REJECTED = "key_rejected"
CONNECTED = "connected"
KINDS = (OFFLINE, LOGGED_OUT, CANNOT_CHECK, KEY_REJECTED)

DOWN = "down"
RECOVERED = "recovered"
#: the webhook's "event" per alert event
WEBHOOK_EVENTS = {DOWN: "number.down", RECOVERED: "number.recovered"}

_SUBJECTS = {
    OFFLINE: N_("\u201c{number}\u201d ({school}) is offline"),
    LOGGED_OUT: N_("\u201c{number}\u201d ({school}) needs a new QR scan"),
    CANNOT_CHECK: N_("\u201c{number}\u201d ({school}) cannot be checked"),
    KEY_REJECTED: N_("\u201c{number}\u201d ({school}): the access key is refused"),
}
_RECOVERED_SUBJECT = N_("\u201c{number}\u201d ({school}) is connected again")

_WHAT = {
    OFFLINE: N_("The number \u201c{number}\u201d of \u201c{school}\u201d has been offline since {since}."),
    LOGGED_OUT: N_("The number \u201c{number}\u201d of \u201c{school}\u201d has not been linked to its phone since "
                   "{since}: it needs a new QR scan."),
    CANNOT_CHECK: N_("The console has not been able to check the number \u201c{number}\u201d of \u201c{school}\u201d "
                     "since {since}."),
    KEY_REJECTED: N_("Since {since}, the platform refuses the access key of the number \u201c{number}\u201d of "
                     "\u201c{school}\u201d."),
}
_RECOVERED_WHAT = N_("The number \u201c{number}\u201d of \u201c{school}\u201d is connected again since {at} (it was "
                     "not working from {since}).")

_ACTIONS = {
    OFFLINE: N_("open the number in the console and scan a new QR code with the school's phone (WhatsApp \u2192 "
                "Linked devices \u2192 Link a device)."),
    LOGGED_OUT: N_("open the number in the console and scan a new QR code with the school's phone (WhatsApp \u2192 "
                   "Linked devices \u2192 Link a device)."),
    CANNOT_CHECK: N_("nothing at once: the console keeps trying by itself. If it lasts, tell the console's support "
                     "that the WPP platform cannot be reached."),
    KEY_REJECTED: N_("open the number in the console, go to \u201cAccess\u201d and press \u201cGet a new access "
                     "key\u201d."),
}
_RECOVERED_ACTION = N_("nothing: it works again.")

# --- proof of delivery (issue 26): a number that shows as connected but whose check message was not delivered ------
# (the desk opens it from ``store.delivery_states()``; the name is the glossary's; it is back when a check is delivered)
NOT_DELIVERING = "not_delivering"
KINDS = (*KINDS, NOT_DELIVERING)
_SUBJECTS[NOT_DELIVERING] = N_("\u201c{number}\u201d ({school}) is connected but not delivering")
_WHAT[NOT_DELIVERING] = N_("The number \u201c{number}\u201d of \u201c{school}\u201d shows as connected, but its "
                           "check message has not been delivered since {since}: people may not be getting its "
                           "messages.")
_ACTIONS[NOT_DELIVERING] = N_("check that the school's phone is on and has internet, and open WhatsApp on it; then "
                              "press \u201cCheck delivery now\u201d on the number's page. If the check fails again, "
                              "link the phone again with a new QR code.")
#: what "it is back" says for kinds whose recovery is not "connected again"
_RECOVERED_SUBJECTS = {NOT_DELIVERING: N_("\u201c{number}\u201d ({school}) delivers again")}
_RECOVERED_WHATS = {NOT_DELIVERING: N_("The check message of the number \u201c{number}\u201d of \u201c{school}\u201d "
                                       "was delivered at {at}: it delivers again (it was not delivering from "
                                       "{since}).")}

_TODO = N_("What to do: {action}")
_LINK = N_("Open the number: {url}")
_PHONE = N_("Phone: {phone}")
_FOOTER = N_("This message was sent by the WPP Console, once for this problem.")


@dataclass(frozen=True)
class Subject:
    """What an alert is about: names are shown as they are (data), ids only in the link and the webhook's ids."""

    school_id: str
    school_name: Text | str
    number_id: str
    number_name: Text | str
    phone: str | None = None


@dataclass(frozen=True)
class Composed:
    subject: str
    body: str
    payload: dict


def _clean(text: Any) -> str:
    """A name on one line (no line breaks can reach a mail header)."""
    return " ".join(str(text).split())


def number_url(public_url: str | None, integration_id: str) -> str | None:
    if not public_url:
        return None
    return f"{public_url.rstrip('/')}/number?n={integration_id}"


def compose(about: Subject, *, event: str, kind: str, started_at: float, recovered_at: float | None,
            lang: str, tz: dt.tzinfo, now: float, public_url: str | None) -> Composed:
    """The alert in ``lang`` (subject, plain text and the webhook's JSON body)."""
    school = _clean(about.school_name.render(lang) if isinstance(about.school_name, Text) else about.school_name)
    number = _clean(about.number_name.render(lang) if isinstance(about.number_name, Text) else about.number_name)
    since = format_time(started_at, tz, lang=lang, now=now)
    url = number_url(public_url, about.number_id)
    if event == RECOVERED:
        at = format_time(recovered_at if recovered_at is not None else now, tz, lang=lang, now=now)
        subject = Text(_RECOVERED_SUBJECTS.get(kind, _RECOVERED_SUBJECT).msgid, number=number,
                       school=school).render(lang)
        what = Text(_RECOVERED_WHATS.get(kind, _RECOVERED_WHAT).msgid, number=number, school=school, since=since,
                    at=at).render(lang)
        action = _RECOVERED_ACTION.render(lang)
        state = CONNECTED
    else:
        kind = kind if kind in KINDS else OFFLINE
        subject = Text(_SUBJECTS[kind].msgid, number=number, school=school).render(lang)
        what = Text(_WHAT[kind].msgid, number=number, school=school, since=since).render(lang)
        action = _ACTIONS[kind].render(lang)
        state = kind
    lines = [what]
    if about.phone:
        lines.append(Text(_PHONE.msgid, phone=about.phone).render(lang))
    lines.append(Text(_TODO.msgid, action=action).render(lang))
    if url:
        lines.append(Text(_LINK.msgid, url=url).render(lang))
    text = "\n\n".join([lines[0], "\n".join(lines[1:])]) + "\n\n\u2014 " + _FOOTER.render(lang) + "\n"
    payload = {
        "event": WEBHOOK_EVENTS.get(event, event),
        "school": {"id": about.school_id, "name": school},
        "number": {"id": about.number_id, "name": number, "phone": about.phone},
        "state": state,
        "since": _iso(started_at),
        "action": action,
        "url": url,
        "text": text,
    }
    if event == RECOVERED:
        payload["recovered_at"] = _iso(recovered_at if recovered_at is not None else now)
    return Composed(subject=_clean(subject), body=text, payload=payload)


def _iso(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    return dt.datetime.fromtimestamp(float(seconds), tz=dt.timezone.utc).isoformat(timespec="seconds")


def html_part(body: str) -> str:
    """The e-mail's HTML alternative: every character of the text escaped, line breaks kept, the number's link (the
    console's own address) made clickable."""
    out = []
    for line in body.split("\n"):
        escaped = html.escape(line, quote=True)
        words = line.rsplit(" ", 1)
        if len(words) == 2 and words[1].startswith(("https://", "http://")) and "/number?n=" in words[1]:
            link = html.escape(words[1], quote=True)
            escaped = f"{html.escape(words[0] + ' ', quote=True)}<a href=\"{link}\">{link}</a>"
        out.append(escaped)
    return ("<!doctype html><html><body><div style=\"font-family: sans-serif\">" + "<br>\n".join(out)
            + "</div></body></html>")


__all__ = [
    "CANNOT_CHECK",
    "CONNECTED",
    "Composed",
    "DOWN",
    "KEY_REJECTED",
    "KINDS",
    "LOGGED_OUT",
    "NOT_DELIVERING",
    "OFFLINE",
    "RECOVERED",
    "Subject",
    "compose",
    "html_part",
    "number_url",
]
