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

from .. import glossary
from ..i18n import N_, N_n, Text, format_time

# kinds of incident (what happened)
OFFLINE = "offline"
LOGGED_OUT = "logged_out"
CANNOT_CHECK = "cannot_check"
KEY_REJECTED = "key_rejected"
CONNECTED = "connected"
KINDS = (OFFLINE, LOGGED_OUT, CANNOT_CHECK, KEY_REJECTED)

DOWN = "down"
RECOVERED = "recovered"
#: once, when nobody said "I'm on it" after the reminder time
REMINDER = "reminder"
#: alerts that could not be delivered, told to the "*" recipients
UNDELIVERABLE = "undeliverable"
#: the webhook's "event" per alert event
WEBHOOK_EVENTS = {DOWN: "number.down", RECOVERED: "number.recovered", REMINDER: "number.reminder",
                  UNDELIVERABLE: "alert.undeliverable"}

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
    OFFLINE: N_("check that the school's phone is on and connected to the internet, and that WhatsApp opens on it. "
                "If the number is still offline a few minutes later, open it in the console and scan a new QR code "
                "with the school's phone (WhatsApp \u2192 Linked devices \u2192 Link a device)."),
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
_IM_ON_IT = N_("Whoever takes care of it: open the number in the console and press \u201cI'm on it\u201d, so the "
               "others know.")
_LINK_LIST = N_("Open the console: {url}")
#: what a number's state is called in a list: the glossary's one set of words for a problem
_STATE_WORDS = glossary.PROBLEM_WORDS
_LINK = N_("Open the number: {url}")
_PHONE = N_("Phone: {phone}")
_FOOTER = N_("This message was sent by the WPP Console, once for this problem.")
_FOOTER_FAILED = N_("This message was sent by the WPP Console, once for these failures.")
_FOOTER_MANY = N_("This message was sent by the WPP Console, once for these problems.")


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
            lang: str, tz: dt.tzinfo, now: float, public_url: str | None, acked_by: str | None = None,
            acked_at: float | None = None) -> Composed:
    """The alert in ``lang`` (subject, plain text and the webhook's JSON body) about one number. ``event``: down,
    recovered or reminder; ``acked_by``: who said "I'm on it" (named in the message)."""
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
        if event == REMINDER:
            subject = N_("Reminder: {subject}", subject=subject).render(lang)
            what = N_("Nobody has said they are on it yet.").render(lang) + " " + what
    lines = [what]
    if about.phone:
        lines.append(Text(_PHONE.msgid, phone=about.phone).render(lang))
    ack = _ack_line(event, acked_by, acked_at, tz=tz, lang=lang, now=now)
    if ack:
        lines.append(ack)
    lines.append(Text(_TODO.msgid, action=action).render(lang))
    if event == REMINDER:
        lines.append(_IM_ON_IT.render(lang))
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
    if acked_by:
        payload["acknowledged"] = {"by": acked_by, "at": _iso(acked_at)}
    payload["numbers"] = [_number_json(about, school, number, state, started_at,
                                       recovered_at if event == RECOVERED else None, acked_by, url)]
    payload["count"] = 1
    return Composed(subject=_clean(subject), body=text, payload=payload)


def _ack_line(event: str, acked_by: str | None, acked_at: float | None, *, tz: dt.tzinfo, lang: str,
              now: float) -> str | None:
    if not acked_by:
        return None
    at = format_time(acked_at, tz, lang=lang, now=now) if acked_at is not None else "\u2014"
    if event == RECOVERED:
        return N_("{who} was on it (since {at}).", who=_clean(acked_by), at=at).render(lang)
    return N_("{who} is on it (since {at}).", who=_clean(acked_by), at=at).render(lang)


def _number_json(about: Subject, school: str, number: str, state: str, since: float, back: float | None,
                 acked_by: str | None, url: str | None) -> dict:
    return {"id": about.number_id, "name": number, "phone": about.phone,
            "school": {"id": about.school_id, "name": school}, "state": state, "since": _iso(since),
            "recovered_at": _iso(back), "acknowledged_by": acked_by, "url": url}


@dataclass(frozen=True)
class Item:
    """One number in a notice: what it is, what happened and since when, who is on it."""

    about: Subject
    kind: str
    started_at: float
    recovered_at: float | None = None
    acked_by: str | None = None
    acked_at: float | None = None


@dataclass(frozen=True)
class Outage:
    """A platform incident as a message says it: ``unreachable`` (every number cannot be checked) or most of the
    fleet down; ``down`` of ``fleet`` numbers, in ``schools`` schools."""

    started_at: float
    down: int
    fleet: int
    schools: "list[tuple[Text | str, int]]"
    unreachable: bool = False
    recovered_at: float | None = None
    still_down: int = 0
    acked_by: str | None = None
    acked_at: float | None = None


def _name(value: "Text | str", lang: str) -> str:
    return _clean(value.render(lang) if isinstance(value, Text) else value)


def _by_school(items: "list[Item]", lang: str) -> "list[tuple[str, list[Item]]]":
    """Items grouped by school: the school with most numbers first, then by name; numbers by name."""
    groups: dict[str, list[Item]] = {}
    for it in items:
        groups.setdefault(_name(it.about.school_name, lang), []).append(it)
    for its in groups.values():
        its.sort(key=lambda it: _name(it.about.number_name, lang).casefold())
    return sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0].casefold()))


def _schools_short(groups: "list[tuple[str, list]]") -> str:
    return ", ".join(f"{school} ({len(its)})" for school, its in groups)


def compose_notice(event: str, items: "list[Item]", *, lang: str, tz: dt.tzinfo, now: float,
                   public_url: str | None) -> Composed:
    """One message about several numbers (drops that started close together, recoveries, or a reminder): counts
    first, grouped by school, then each number with what happened and since when, then what to do. One number: the
    same as :func:`compose`."""
    if len(items) == 1:
        it = items[0]
        return compose(it.about, event=event, kind=it.kind, started_at=it.started_at, recovered_at=it.recovered_at,
                       lang=lang, tz=tz, now=now, public_url=public_url, acked_by=it.acked_by, acked_at=it.acked_at)
    n = len(items)
    groups = _by_school(items, lang)
    schools = _schools_short(groups)
    if event == RECOVERED:
        subject = N_n("{n} number is connected again: {schools}", "{n} numbers are connected again: {schools}", n,
                      schools=schools).render(lang)
        head = N_n("{n} number is connected again.", "{n} numbers are connected again.", n).render(lang)
    else:
        subject = N_n("{n} number is not working: {schools}", "{n} numbers are not working: {schools}", n,
                      schools=schools).render(lang)
        first = format_time(min(it.started_at for it in items), tz, lang=lang, now=now)
        head = N_n("{n} number stopped working, the first since {first}.",
                   "{n} numbers stopped working, the first since {first}.", n, first=first).render(lang)
        if event == REMINDER:
            subject = N_("Reminder: {subject}", subject=subject).render(lang)
            head = N_("Nobody has said they are on it yet.").render(lang) + " " + head
    lines = [head, ""]
    listed = []
    for school, its in groups:
        lines.append(N_("{school} \u2014 {n}:", school=school, n=len(its)).render(lang))
        for it in its:
            number = _name(it.about.number_name, lang)
            since = format_time(it.started_at, tz, lang=lang, now=now)
            kind = it.kind if it.kind in KINDS else OFFLINE
            if event == RECOVERED:
                at = format_time(it.recovered_at if it.recovered_at is not None else now, tz, lang=lang, now=now)
                line = N_("\u201c{number}\u201d: back at {at} (not working from {since})", number=number, at=at,
                          since=since).render(lang)
            else:
                line = N_("\u201c{number}\u201d: {state} since {since}", number=number,
                          state=_STATE_WORDS[kind], since=since).render(lang)
            if it.about.phone:
                line += f", {it.about.phone}"
            ack = _ack_line(event, it.acked_by, it.acked_at, tz=tz, lang=lang, now=now)
            if ack:
                line += " \u2014 " + ack
            lines.append("\u2022 " + line)
            url = number_url(public_url, it.about.number_id)
            if url:
                lines.append("  " + url)
            listed.append(_number_json(it.about, school, number, CONNECTED if event == RECOVERED else kind,
                                       it.started_at, it.recovered_at if event == RECOVERED else None, it.acked_by, url))
        lines.append("")
    if event == RECOVERED:
        lines.append(Text(_TODO.msgid, action=_RECOVERED_ACTION).render(lang))
    else:
        kinds = sorted({it.kind if it.kind in KINDS else OFFLINE for it in items}, key=KINDS.index)
        lines.append(N_("What to do:").render(lang))
        for kind in kinds:
            lines.append("\u2022 " + N_("{state}: {action}", state=_STATE_WORDS[kind],
                                        action=_ACTIONS[kind]).render(lang))
        if event == REMINDER:
            lines.append(_IM_ON_IT.render(lang))
    text = "\n".join(lines).rstrip("\n") + "\n\n\u2014 " + _FOOTER_MANY.render(lang) + "\n"
    payload = {"event": WEBHOOK_EVENTS.get(event, event), "count": n, "numbers": listed, "text": text}
    return Composed(subject=_clean(subject), body=text, payload=payload)


def compose_outage(event: str, outage: Outage, *, lang: str, tz: dt.tzinfo, now: float,
                   public_url: str | None) -> Composed:
    """The platform incident, to the "*" recipients: most of the fleet down at once, or the platform cannot be
    reached — one message instead of one per school."""
    since = format_time(outage.started_at, tz, lang=lang, now=now)
    schools = ", ".join(f"{_name(name, lang)} \u2014 {count}" for name, count in outage.schools)
    if event == RECOVERED:
        at = format_time(outage.recovered_at if outage.recovered_at is not None else now, tz, lang=lang, now=now)
        subject = N_("The WPP platform works again").render(lang)
        lines = [N_("The WPP platform works again since {at} (it was not working from {since}).", at=at,
                    since=since).render(lang)]
        if outage.still_down:
            lines.append(N_n("{n} number is still not working; its school is told separately.",
                             "{n} numbers are still not working; their schools are told separately.",
                             outage.still_down).render(lang))
        action = _RECOVERED_ACTION
    else:
        if outage.unreachable:
            subject = N_n("The WPP platform cannot be reached: {n} number cannot be checked",
                          "The WPP platform cannot be reached: {n} numbers cannot be checked",
                          outage.down).render(lang)
            what = N_n("Since {since} the console cannot reach the WPP platform: {n} number cannot be checked.",
                       "Since {since} the console cannot reach the WPP platform: {n} numbers cannot be checked.",
                       outage.down, since=since).render(lang)
        else:
            subject = N_n("The WPP platform is not working: {n} of {fleet} numbers are down",
                          "The WPP platform is not working: {n} of {fleet} numbers are down", outage.down,
                          fleet=outage.fleet).render(lang)
            what = N_n("Since {since}, {n} of {fleet} numbers stopped working at the same time: the WPP platform "
                       "itself is not working.",
                       "Since {since}, {n} of {fleet} numbers stopped working at the same time: the WPP platform "
                       "itself is not working.", outage.down, since=since, fleet=outage.fleet).render(lang)
        if event == REMINDER:
            subject = N_("Reminder: {subject}", subject=subject).render(lang)
            what = N_("Nobody has said they are on it yet.").render(lang) + " " + what
        lines = [what, N_("The schools are not told one by one.").render(lang)]
        action = N_("check the WPP platform (its server, or ask its support). The numbers come back by themselves "
                    "when it works again; nothing needs doing at the schools.")
    if schools:
        lines.append(N_("Schools: {schools}", schools=schools).render(lang))
    ack = _ack_line(event, outage.acked_by, outage.acked_at, tz=tz, lang=lang, now=now)
    if ack:
        lines.append(ack)
    lines.append(Text(_TODO.msgid, action=action).render(lang))
    if public_url:
        lines.append(Text(_LINK_LIST.msgid, url=public_url.rstrip("/") + "/").render(lang))
    text = lines[0] + "\n\n" + "\n".join(lines[1:]) + "\n\n\u2014 " + _FOOTER.render(lang) + "\n"
    payload = {"event": "platform.recovered" if event == RECOVERED else (
                   "platform.reminder" if event == REMINDER else "platform.down"),
               "since": _iso(outage.started_at), "count": outage.down, "fleet": outage.fleet,
               "unreachable": outage.unreachable,
               "schools": [{"name": _name(name, lang), "count": count} for name, count in outage.schools],
               "text": text}
    if event == RECOVERED:
        payload["recovered_at"] = _iso(outage.recovered_at if outage.recovered_at is not None else now)
        payload["still_down"] = outage.still_down
    if outage.acked_by:
        payload["acknowledged"] = {"by": outage.acked_by, "at": _iso(outage.acked_at)}
    return Composed(subject=_clean(subject), body=text, payload=payload)


def compose_undeliverable(items: "list[tuple[Any, Text | str, str]]", *, lang: str, tz: dt.tzinfo,
                          now: float) -> Composed:
    """To the "*" recipients: these alerts could not be delivered and the console stopped trying. ``items``:
    ``(alert record, its school's name, why in lang)``; the recipient and subject of each are shown as stored (a
    webhook is masked there already)."""
    n = len(items)
    subject = N_n("An alert could not be delivered", "{n} alerts could not be delivered", n).render(lang)
    lines = [N_n("The console could not deliver this alert and has stopped trying:",
                 "The console could not deliver these {n} alerts and has stopped trying:", n).render(lang), ""]
    listed = []
    for alert, school, why in items[:50]:
        school_name = _clean(school.render(lang) if isinstance(school, Text) else school)
        when = format_time(alert.created_at, tz, lang=lang, now=now)
        lines.append("\u2022 " + N_("to {to}, about {school}, written {when}: \u201c{subject}\u201d \u2014 {why}",
                                    to=alert.shown_to, school=school_name, when=when, subject=_clean(alert.subject),
                                    why=why).render(lang))
        listed.append({"id": alert.uid, "to": alert.shown_to, "school": school_name, "subject": _clean(alert.subject),
                       "created": _iso(alert.created_at), "why": why})
    if n > 50:
        lines.append(N_n("\u2026 and {n} more", "\u2026 and {n} more", n - 50).render(lang))
    lines += ["", Text(_TODO.msgid, action=N_(
        "check these recipients in WPP_ALERT_RECIPIENTS and the mail server (WPP_SMTP_*) or bot settings; the "
        "console's Alerts page lists every alert and why it failed.")).render(lang)]
    text = "\n".join(lines) + "\n\n\u2014 " + _FOOTER_FAILED.render(lang) + "\n"
    payload = {"event": WEBHOOK_EVENTS[UNDELIVERABLE], "alerts": listed, "text": text}
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
    "Item",
    "Outage",
    "REMINDER",
    "KEY_REJECTED",
    "KINDS",
    "LOGGED_OUT",
    "NOT_DELIVERING",
    "OFFLINE",
    "RECOVERED",
    "Subject",
    "UNDELIVERABLE",
    "compose",
    "compose_notice",
    "compose_outage",
    "compose_undeliverable",
    "html_part",
    "number_url",
]
