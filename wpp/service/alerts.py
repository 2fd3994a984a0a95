"""What pages read and do about alerts (``wpp.alerts``): the outbox (every alert, to whom, delivered or not), each
recipient's last alert for the Settings page, a number's open problem with "I'm on it" (acknowledge), muting a
number's alerts, maintenance windows of a school or the platform, and the demo's "the phone went offline" and
"platform outage"."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .. import glossary
from ..errors import InvalidInput, WppError
from ..i18n import N_, Text, _, format_time
from ..models import PLATFORM_INCIDENT, Incident, Mute
from .core import from_epoch

#: how long a mute or a maintenance window may last at most
MUTE_MAX_S = 31 * 86400.0
#: the shortest one worth setting
MUTE_MIN_S = 60.0

#: a platform incident's kinds (wpp.alerts.desk.PLATFORM_DOWN / PLATFORM_UNREACHABLE)
_PLATFORM_KIND_WORDS = {
    "platform_down": N_("most numbers are down at once"),
    "platform_unreachable": N_("the platform cannot be reached"),
}

_EVENTS = {"down": N_("The number dropped"), "recovered": N_("Number back"),
           "reminder": N_("Reminder: nobody is on it"), "undeliverable": N_("Alerts not delivered")}
_CHANNELS = {"email": N_("E-mail"), "webhook": N_("Webhook"), "telegram": N_("Telegram"), "outbox": N_("Demo outbox")}
_OUTCOMES = {"sent": N_("Delivered"), "failed": N_("Failed"),
             "pending": N_("Waiting to be sent"), "sending": N_("Being sent now"),
             "retry": N_("Failed, will be tried again")}


@dataclass(frozen=True)
class OutboxLine:
    """One alert as the Alerts page shows it (names, never ids; a webhook masked)."""

    at: dt.datetime | None
    to: str
    channel: str
    school: str
    number: str
    event: str
    subject: str
    text: str
    outcome: str
    ok: bool | None  # None: not tried yet, or to be tried again
    problem: str


@dataclass(frozen=True)
class NumberAlerts:
    """A number's alerts as its page shows them: its open problem (if the alert desk follows one), who is on it,
    and whether its alerts are held (its own mute, or a maintenance window of its school or the platform)."""

    problem: bool = False
    problem_words: str = ""
    since: dt.datetime | None = None
    told: bool = False
    acked_by: str | None = None
    acked_at: dt.datetime | None = None
    muted_until: dt.datetime | None = None
    muted_by: str | None = None
    muted_reason: str = ""
    #: a maintenance window that holds its alerts: "the school's" or "the platform's", until when, why
    window: str | None = None
    window_until: dt.datetime | None = None
    window_reason: str = ""

    @property
    def can_acknowledge(self) -> bool:
        return self.problem and not self.acked_by


@dataclass(frozen=True)
class WindowLine:
    """A maintenance window on the Alerts page."""

    id: int
    what: str  # "The whole platform" or the school's name
    school_id: str | None
    starts: dt.datetime | None
    ends: dt.datetime | None
    reason: str
    by: str
    now: bool  # holding alerts now (else: coming)


@dataclass(frozen=True)
class IncidentLine:
    """A problem the alert desk followed, as the Alerts page shows it (names, never ids)."""

    integration_id: str | None  # None: the whole platform
    school: str
    number: str
    kind: str
    since: dt.datetime | None
    acked_by: str | None
    acked_at: dt.datetime | None
    told: bool  # people were told (or it is part of a platform incident that was)
    recovered_at: dt.datetime | None = None
    closed_at: dt.datetime | None = None

    @property
    def duration_s(self) -> float | None:
        """How long it lasted (from when the number was last seen well until it worked again)."""
        if self.since is None or self.recovered_at is None:
            return None
        return max(0.0, (self.recovered_at - self.since).total_seconds())


@dataclass(frozen=True)
class Incidents:
    """Open problems (the oldest first) and closed ones (the most recently closed first)."""

    open: list[IncidentLine]
    closed: list[IncidentLine]


@dataclass(frozen=True)
class UndeliveredLine:
    """An alert the console gave up on: to whom, about what, and why (the Alerts and Settings pages show it in
    red)."""

    at: dt.datetime | None
    to: str
    school: str
    number: str
    subject: str
    why: str


@dataclass(frozen=True)
class RecipientLine:
    """One recipient on the Settings page: for which schools, and whether the last alert went out."""

    to: str
    channel: str
    scope: str
    last_at: dt.datetime | None
    outcome: str
    ok: bool | None




def _kinds_by_alert(incidents) -> dict[str, str | None]:
    """What each alert's ``incident_id`` was about: an incident's kind, or a notice's (several drops told together)
    when all its incidents were of one kind (else None: "The number dropped")."""
    kinds: dict[str, str | None] = {}
    for i in incidents:
        kinds[i.id] = i.kind
    for i in incidents:
        notice = getattr(i, "notice_id", None)
        if notice and notice != i.id:
            kinds[notice] = i.kind if kinds.get(notice, i.kind) == i.kind else None
    return kinds


def _kind_name(kind: str) -> "Text":
    """A number's problem by the state's one name in :mod:`wpp.glossary` ("Offline", "Connected but not delivering")."""
    if kind == glossary.NOT_DELIVERING:
        return glossary.delivery_name(glossary.NOT_DELIVERING)
    return glossary.state_name(glossary.INCIDENT_STATES.get(kind, "offline"))


def _event_words(event: str, kind: str | None) -> str:
    """What an alert was about, by the state's one name: "🔴 Offline"; "🟢 Connected again" for a recovery."""
    if event == "recovered":
        return f"{glossary.state_mark(glossary.CONNECTED)} " + str(N_("{state} again",
                                                                       state=glossary.state_name(glossary.CONNECTED)))
    if event in ("reminder", "undeliverable"):
        return str(_EVENTS.get(event, event))
    if kind in _PLATFORM_KIND_WORDS:
        return "\U0001f329\ufe0f " + str(_PLATFORM_KIND_WORDS[kind])
    code = glossary.INCIDENT_STATES.get(kind or "")
    if code is None:
        return str(_EVENTS.get(event, event))
    return f"{glossary.state_mark(code)} {glossary.state_name(code)}"


def _problem(stored: str | None) -> str:
    from ..alerts.desk import problem_text

    return str(problem_text(stored))


class AlertsMixin:
    """Mixed into :class:`wpp.service.WppService`; ``self.alerts`` is the process's :class:`wpp.alerts.AlertDesk`
    (None when nobody is to be told)."""

    alerts = None

    def _alert_names(self) -> dict[str, str]:
        try:
            return {r.id: (r.name or _("Unnamed number"))
                    for r in self.store.list_integrations(include_inactive=True)}  # type: ignore[attr-defined]
        except WppError:
            return {}

    # --- who sees which alert and which recipient -----------------------------------------------------------
    def _recipient_visible(self, org_id: str | None, *, key: str | None = None, shown: object = None) -> bool:
        """May the person see this recipient of an alert about ``org_id`` (by its store ``key`` or as the diary
        shows it)? Someone who may see every school's alerts: yes. An administrator of the school: only the school's
        own recipients (and the demo outbox), never who is told about every school, nor another school's people."""
        from ..access.roles import ALL
        from ..alerts.recipients import OUTBOX_KEY

        access = self._access  # type: ignore[attr-defined]
        if access.may("alerts", ALL):
            return True
        if not org_id or not access.may("alerts", org_id):
            return False
        if key == OUTBOX_KEY or isinstance(shown, dict):  # the demo outbox (the diary keeps it as words)
            return True
        desk = self.alerts
        if desk is None or desk.config.demo:
            return False
        own = desk.config.recipients.own(org_id)
        return any((key is not None and r.key == key) or (shown is not None and r.shown == shown) for r in own)

    def outbox(self, limit: int = 200) -> list[OutboxLine]:
        """The alerts the person may see (in demo mode: the demo outbox), newest first: those about the schools
        they administer, to those schools' own recipients; everything only for an administrator of every school."""
        self._permit("alerts", None)  # type: ignore[attr-defined]
        records = [a for a in self.store.list_alerts(limit=limit)  # type: ignore[attr-defined]
                   if self._recipient_visible(a.organization_id, key=a.recipient)]
        numbers = self._alert_names()
        try:  # what each drop was, by the state's one name (wpp.glossary)
            kinds = _kinds_by_alert(self.store.load_incidents(open_only=False))  # type: ignore[attr-defined]
        except WppError:
            kinds = {}
        out = []
        for a in records:
            at = a.sent_at if a.sent_at is not None else a.created_at
            out.append(OutboxLine(
                at=from_epoch(at),
                to=str(_CHANNELS["outbox"]) if a.channel == "outbox" else a.shown_to,
                channel=str(_CHANNELS.get(a.channel, a.channel)),
                school=self.organization_name(a.organization_id) if a.organization_id else "",  # type: ignore[attr-defined]
                number=(numbers.get(a.integration_id, _("(deleted number)")) if a.integration_id else
                        _("The whole platform") if a.incident_id.startswith("platform@") else
                        _("several numbers") if a.event != "undeliverable" else ""),
                event=_event_words(a.event, kinds.get(a.incident_id)),
                subject=a.subject,
                text=a.body,
                outcome=str(_OUTCOMES.get(a.status, a.status)),
                ok=True if a.status == "sent" else (False if a.status == "failed" else None),
                problem=_problem(a.error),
            ))
        return out

    def incidents(self, closed_limit: int = 200) -> Incidents:
        """The problems the alert desk followed that the person may see on the Alerts page: a number's at the
        schools where they may see the alerts, the whole platform's only for those who see every school's alerts.
        Open ones first (the whole platform's, then the oldest first), then the most recently closed ones (at most
        ``closed_limit`` read)."""
        from ..access.roles import ALL

        self._permit("alerts", None)  # type: ignore[attr-defined]
        access = self._access  # type: ignore[attr-defined]
        names = self._alert_names()

        def line(inc: Incident) -> IncidentLine:
            if inc.platform:
                school, number = _("Every school"), _("The whole platform")
                kind = _PLATFORM_KIND_WORDS.get(inc.kind, _PLATFORM_KIND_WORDS["platform_down"])
            else:
                school = self.organization_name(inc.organization_id)  # type: ignore[attr-defined]
                number = names.get(inc.integration_id, _("(deleted number)"))
                kind = _kind_name(inc.kind)
            return IncidentLine(
                integration_id=None if inc.platform else inc.integration_id, school=school, number=number,
                kind=str(kind), since=from_epoch(inc.started_at), acked_by=inc.acked_by,
                acked_at=from_epoch(inc.acked_at), told=inc.notified_at is not None or inc.parent_id is not None,
                recovered_at=from_epoch(inc.recovered_at), closed_at=from_epoch(inc.closed_at))

        def visible(inc: Incident) -> bool:
            return access.may("alerts", ALL if inc.platform or not inc.organization_id else inc.organization_id)

        opened = [i for i in self.store.load_incidents(open_only=True) if visible(i)]  # type: ignore[attr-defined]
        # an open incident whose number is back already waits only for its recovery message: it is over
        # the whole platform's first (it explains the rest), then the oldest first
        now_open = [line(i) for i in sorted((i for i in opened if i.recovered_at is None),
                                            key=lambda i: (not i.platform, i.started_at, i.id))]
        just_back = [i for i in opened if i.recovered_at is not None]
        closed = [i for i in self.store.closed_incidents(limit=closed_limit) if visible(i)]  # type: ignore[attr-defined]
        ended = sorted(just_back, key=lambda i: -float(i.recovered_at or 0)) + closed
        return Incidents(open=now_open, closed=[line(i) for i in ended])

    def undelivered(self, limit: int = 50, *, recipient_scope: bool = False) -> list[UndeliveredLine]:
        """Alerts the console gave up on (newest first), those the person may see on the Alerts page (the same
        lines as :meth:`outbox`). ``recipient_scope``: asked by the Settings page (the same lines)."""
        self._permit("alerts", None)  # type: ignore[attr-defined]
        numbers = self._alert_names()
        out = []
        for a in self.store.list_alerts(limit=limit, status="failed"):  # type: ignore[attr-defined]
            if not self._recipient_visible(a.organization_id, key=a.recipient):
                continue
            out.append(UndeliveredLine(
                at=from_epoch(a.created_at),
                to=str(_CHANNELS["outbox"]) if a.channel == "outbox" else a.shown_to,
                school=self.organization_name(a.organization_id) if a.organization_id else "",  # type: ignore[attr-defined]
                number=numbers.get(a.integration_id or "", "") if a.integration_id else "",
                subject=a.subject,
                why=_problem(a.error) or _("no reason was recorded"),
            ))
        return out

    # --- a number's problem: "I'm on it", mute ----------------------------------------------------------------
    def _mutes_now(self) -> list[Mute]:
        try:
            return self.store.list_mutes(since=self.clock.time())  # type: ignore[attr-defined]
        except WppError:
            return []

    def _open_incident(self, integration_id: str) -> Incident | None:
        found = [i for i in self.store.load_incidents(open_only=True)  # type: ignore[attr-defined]
                 if i.integration_id == integration_id and i.recovered_at is None]
        return max(found, key=lambda i: i.started_at) if found else None

    def number_alerts(self, integration_id: str) -> NumberAlerts:
        """The number's open problem, who is on it, and whether its alerts are held (for its page)."""
        row = self._row(integration_id)  # type: ignore[attr-defined]
        try:
            inc = self._open_incident(row.id)
        except WppError:
            inc = None
        now = self.clock.time()  # type: ignore[attr-defined]
        out: dict = {}
        if inc is not None:
            out.update(problem=True, problem_words=str(glossary.problem_words(inc.kind)),
                       since=from_epoch(inc.started_at), told=inc.notified_at is not None or inc.parent_id is not None,
                       acked_by=inc.acked_by, acked_at=from_epoch(inc.acked_at))
        for m in self._mutes_now():
            if not m.holds(now) or not m.covers(row.id, row.organization_id):
                continue
            if m.scope == "number":
                if out.get("muted_until") is None or from_epoch(m.until) > out["muted_until"]:
                    out.update(muted_until=from_epoch(m.until), muted_by=m.created_by, muted_reason=m.reason)
            elif out.get("window") is None:
                out.update(window=_("the school's maintenance") if m.scope == "school" else
                           _("the platform's maintenance"), window_until=from_epoch(m.until), window_reason=m.reason)
        return NumberAlerts(**out)

    def acknowledge(self, integration_id: str, *, actor: str) -> NumberAlerts:
        """"I'm on it": the person takes care of the number's open problem. Only the first one counts; the diary
        says who and when, the page shows it, the recovery message names them, and no reminder goes out. An
        administrator of every school acknowledging a number of a platform incident takes that one on too."""
        row = self._row(integration_id, "acknowledge", actor=actor)  # type: ignore[attr-defined]
        inc = self._open_incident(row.id)
        if inc is None:
            raise InvalidInput(N_("This number has no open problem to take care of."),
                               action=N_("Nothing to do: it works, or it has not been down long enough to count."))
        now = self.clock.time()  # type: ignore[attr-defined]
        who = actor or self._actor or ""  # type: ignore[attr-defined]
        if not self.store.ack_incident(inc.id, by=who, at=now):  # type: ignore[attr-defined]
            state = self.number_alerts(row.id)
            if state.acked_by:
                raise InvalidInput(N_("{who} is already taking care of it (since {at}).", who=state.acked_by,
                                      at=format_time(state.acked_at, self.tz, now=now)),  # type: ignore[attr-defined]
                                   action=N_("Nothing more to do here; talk to them if you want to help."))
            raise InvalidInput(N_("This number has no open problem to take care of."),
                               action=N_("Nothing to do: it works, or it has not been down long enough to count."))
        self._log("acknowledge", who, row, True, N_(  # type: ignore[attr-defined]
            "{who} is taking care of it: the number is {problem} since {since}", who=who,
            problem=glossary.problem_words(inc.kind),
            since=format_time(inc.started_at, self.tz, now=now)))  # type: ignore[attr-defined]
        from ..access.roles import ALL

        if inc.parent_id and self._access.may("acknowledge", ALL):  # type: ignore[attr-defined]
            try:
                self.store.ack_incident(inc.parent_id, by=who, at=now)  # type: ignore[attr-defined]
            except WppError:
                pass
        return self.number_alerts(row.id)

    def _until(self, until, now: float) -> float:
        when_ = until.timestamp() if isinstance(until, dt.datetime) else float(until)
        if when_ < now + MUTE_MIN_S:
            raise InvalidInput(N_("That time has passed or is less than a minute away."),
                               action=N_("Choose a time in the future."))
        if when_ > now + MUTE_MAX_S:
            raise InvalidInput(N_("Alerts can be held for at most 31 days."),
                               action=N_("Choose a time within the next 31 days (and set it again then, if needed)."))
        return when_

    def mute_number(self, integration_id: str, until, *, reason: str = "", actor: str) -> NumberAlerts:
        """Hold the number's alerts until ``until`` (a datetime or Unix seconds): nothing is sent about it while the
        mute lasts; a recovery inside it sends nothing, and what is still down when it ends is told once then."""
        row = self._row(integration_id, "mute", actor=actor)  # type: ignore[attr-defined]
        now = self.clock.time()  # type: ignore[attr-defined]
        ends = self._until(until, now)
        reason = " ".join(str(reason or "").split())
        if len(reason) > 200:
            raise InvalidInput(N_("The reason is too long (at most 200 characters)."),
                               action=N_("Say it in a few words, e.g. “the phone is being repaired”."))
        who = actor or self._actor or ""  # type: ignore[attr-defined]
        for m in self._mutes_now():  # one mute per number: a new one replaces the old
            if m.scope == "number" and m.target == row.id and m.ended_at is None and m.id is not None:
                self.store.end_mute(m.id, at=now, by=who)  # type: ignore[attr-defined]
        self.store.add_mute(Mute(scope="number", target=row.id, starts_at=now, ends_at=ends, reason=reason,  # type: ignore[attr-defined]
                                 created_by=who, created_at=now))
        self._log("mute", who, row, True, N_(  # type: ignore[attr-defined]
            "The number's alerts were muted until {until}{why}", until=format_time(ends, self.tz, now=now),  # type: ignore[attr-defined]
            why=(" (" + reason + ")") if reason else ""))
        return self.number_alerts(row.id)

    def unmute_number(self, integration_id: str, *, actor: str) -> NumberAlerts:
        """End the number's mute now (what is still down is told at once, after the threshold)."""
        row = self._row(integration_id, "mute", actor=actor)  # type: ignore[attr-defined]
        now = self.clock.time()  # type: ignore[attr-defined]
        who = actor or self._actor or ""  # type: ignore[attr-defined]
        ended = False
        for m in self._mutes_now():
            if m.scope == "number" and m.target == row.id and m.id is not None and m.holds(now):
                ended = self.store.end_mute(m.id, at=now, by=who) or ended  # type: ignore[attr-defined]
        if ended:
            self._log("unmute", who, row, True, N_("The number's alerts are on again"))  # type: ignore[attr-defined]
        return self.number_alerts(row.id)

    def muted_numbers(self) -> dict[str, dt.datetime]:
        """Number id -> until when its own mute holds its alerts (for the list)."""
        now = self.clock.time()  # type: ignore[attr-defined]
        out: dict[str, dt.datetime] = {}
        for m in self._mutes_now():
            if m.scope == "number" and m.holds(now):
                until = from_epoch(m.until)
                if until is not None and (m.target not in out or until > out[m.target]):
                    out[m.target] = until
        return out

    # --- maintenance windows (administrators) ---------------------------------------------------------------
    def maintenance_windows(self) -> list[WindowLine]:
        """Maintenance windows now and to come, of the person's schools and of the platform."""
        self._permit("alerts", None)  # type: ignore[attr-defined]
        access = self._access  # type: ignore[attr-defined]
        now = self.clock.time()  # type: ignore[attr-defined]
        out = []
        for m in self._mutes_now():
            if m.scope == "number" or m.id is None or m.until <= now:
                continue
            if m.scope == "school" and not access.may("alerts", m.target):
                continue
            out.append(WindowLine(
                id=m.id, what=_("The whole platform") if m.scope == "platform" else self.organization_name(m.target),  # type: ignore[attr-defined]
                school_id=None if m.scope == "platform" else m.target, starts=from_epoch(m.starts_at),
                ends=from_epoch(m.until), reason=m.reason, by=m.created_by, now=m.holds(now)))
        return sorted(out, key=lambda w: (w.starts or dt.datetime.min.replace(tzinfo=dt.timezone.utc)))

    def _may_window(self, org_id: str | None, actor: str) -> None:
        """A school's window: its administrators; the whole platform's: administrators of every school."""
        from ..access.roles import ALL

        if org_id is None:
            self._permit("platform_maintenance", ALL, actor=actor)  # type: ignore[attr-defined]
        else:
            self._permit("maintenance", org_id, actor=actor)  # type: ignore[attr-defined]

    def set_maintenance(self, org_id: str | None, starts, ends, *, reason: str = "", actor: str) -> WindowLine:
        """A maintenance window for school ``org_id`` (None: the whole platform) from ``starts`` to ``ends``
        (datetimes or Unix seconds): alerts about it are held meanwhile; a recovery inside it sends nothing, what is
        still down at its end is told once then."""
        from ..access.roles import base_org

        org = base_org(org_id) if org_id else None
        self._may_window(org, actor)
        now = self.clock.time()  # type: ignore[attr-defined]
        start = starts.timestamp() if isinstance(starts, dt.datetime) else float(starts if starts is not None else now)
        start = max(start, now)
        end = self._until(ends, now)
        if not end > start + MUTE_MIN_S:
            raise InvalidInput(N_("A maintenance window must end after it starts."),
                               action=N_("Choose an end later than the start."))
        reason = " ".join(str(reason or "").split())
        if len(reason) > 200:
            raise InvalidInput(N_("The reason is too long (at most 200 characters)."),
                               action=N_("Say it in a few words, e.g. “the platform is being updated”."))
        who = actor or self._actor or ""  # type: ignore[attr-defined]
        m = self.store.add_mute(Mute(scope="school" if org else "platform", target=org or "*", starts_at=start,  # type: ignore[attr-defined]
                                     ends_at=end, reason=reason, created_by=who, created_at=now))
        what = self.organization_name(org) if org else _("the whole platform")  # type: ignore[attr-defined]
        self._log("maintenance", who, None, True, N_(  # type: ignore[attr-defined]
            "A maintenance window for {what} was set from {start} to {end}{why}", what=what,
            start=format_time(start, self.tz, now=now), end=format_time(end, self.tz, now=now),  # type: ignore[attr-defined]
            why=(" (" + reason + ")") if reason else ""), organization_id=org)
        return WindowLine(id=m.id or 0, what=what, school_id=org, starts=from_epoch(start), ends=from_epoch(end),
                          reason=reason, by=who, now=m.holds(now))

    def end_maintenance(self, window_id: int, *, actor: str) -> None:
        """End a maintenance window now (or drop one that has not started)."""
        now = self.clock.time()  # type: ignore[attr-defined]
        found = [m for m in self._mutes_now() if m.id == int(window_id) and m.scope != "number"]
        if not found:
            raise InvalidInput(N_("This maintenance window has ended already."), action=N_("Nothing to do."))
        m = found[0]
        org = None if m.scope == "platform" else m.target
        self._may_window(org, actor)
        who = actor or self._actor or ""  # type: ignore[attr-defined]
        self.store.end_mute(m.id, at=max(now, m.starts_at + 0.001), by=who)  # type: ignore[attr-defined]
        self._log("maintenance", who, None, True, N_("A maintenance window was ended"),  # type: ignore[attr-defined]
                  organization_id=org)

    def alert_recipients(self) -> list[RecipientLine]:
        """Who is told (from the settings) and whether each one's last alert went out: the recipients of the
        schools the person administers; those told about every school only for an administrator of every school."""
        from ..access.roles import ALL

        self._permit("alerts", None)  # type: ignore[attr-defined]
        desk = self.alerts
        if desk is None:
            return []
        config = desk.config
        if config.demo:
            from ..alerts.desk import DEMO_OUTBOX

            pairs = [("*", DEMO_OUTBOX)]
        else:
            pairs = config.recipients.all()
        access = self._access  # type: ignore[attr-defined]
        pairs = [(scope, r) for scope, r in pairs if access.may("alerts", ALL if scope == "*" else scope)]
        if not pairs:
            return []  # another school's people (and who is told about every school) are not this person's to see
        last: dict[str, object] = {}
        try:
            for a in self.store.list_alerts(limit=2000):  # type: ignore[attr-defined]
                if self._recipient_visible(a.organization_id, key=a.recipient):  # not another school's alert
                    last.setdefault(a.recipient, a)
        except WppError:
            pass
        out = []
        for scope, r in pairs:
            a = last.get(r.key)
            if a is None:
                outcome, ok, at = _("No alert yet"), None, None
            else:
                ok = True if a.status == "sent" else (False if a.status == "failed" else None)  # type: ignore[attr-defined]
                outcome = str(_OUTCOMES.get(a.status, a.status))  # type: ignore[attr-defined]
                if a.error and a.status != "sent":  # type: ignore[attr-defined]
                    outcome += f" ({_problem(a.error)})"  # type: ignore[attr-defined]
                at = from_epoch(a.sent_at if a.sent_at is not None else a.created_at)  # type: ignore[attr-defined]
            out.append(RecipientLine(
                to=str(_CHANNELS["outbox"]) if r.kind == "outbox" else r.shown,
                channel=str(_CHANNELS.get(r.kind, r.kind)),
                scope=_("Every school") if scope == "*" else self.organization_name(scope),  # type: ignore[attr-defined]
                last_at=at, outcome=outcome, ok=ok,
            ))
        return out

    def alert_audience(self, integration_id: str) -> "Text":
        """Who is told when this number drops, and after how long, in words anyone who may see the number can act on
        (e-mail addresses as they are, a webhook only by its host; this school's own recipients first). Never names a
        page the reader may not open."""
        from ..i18n import N_n
        from ..alerts.recipients import EMAIL

        row = self._row(integration_id)  # type: ignore[attr-defined]
        desk = self.alerts
        if desk is None:
            return N_("Nobody is told automatically when this number drops: no one is set to receive alerts. If it "
                      "stays down, tell the school's administrator yourself.")
        config = desk.config
        minutes = max(1, int(round(float(config.after_s) / 60.0)))
        if config.demo:
            return N_n("Demo: if the number stays down for {n} minute, an alert goes to the demo outbox (in real use: "
                       "to the people set to receive alerts for this school).",
                       "Demo: if the number stays down for {n} minutes, an alert goes to the demo outbox (in real use: "
                       "to the people set to receive alerts for this school).", minutes)
        everyone = {r.key for r in config.recipients.get("*", ())}
        own = [r for r in config.recipients_for(row.organization_id) if r.key not in everyone]
        rest = [r for r in config.recipients_for(row.organization_id) if r.key in everyone]
        who = ", ".join(r.shown if r.kind == EMAIL else str(N_("a chat ({host})", host=r.shown.split("/…")[0]))
                        for r in own + rest)
        return N_n("If the number stays down for {n} minute, these are told once (and once more when it is back): "
                   "{who}.",
                   "If the number stays down for {n} minutes, these are told once (and once more when it is back): "
                   "{who}.", minutes, who=who)

    def simulate_phone_offline(self, integration_id: str, phone, *, actor: str) -> None:
        """Demo mode: the simulated phone loses its connection (``phone``: ``wpp.demo.DemoPhone``). Needs the
        operator's role ("check"); the status engine sees it on its next check (asked at once)."""
        row = self._row(integration_id, "check", actor=actor)  # type: ignore[attr-defined]
        if not self.is_demo or phone is None:  # type: ignore[attr-defined]
            from ..errors import InvalidInput

            raise InvalidInput(N_("This works only in the demo."))
        phone.go_offline(row.id)
        self._log("simulate_offline", actor, row, True,  # type: ignore[attr-defined]
                  N_("Demo: the phone was made to go offline"))
        self.check_now([row.id])  # type: ignore[attr-defined]

    def simulate_platform_outage(self, phone, *, actor: str, seconds: float = 180.0) -> None:
        """Demo mode: the simulated platform stops answering for ``seconds`` (three minutes), as in a gateway
        upgrade: every number soon cannot be checked, and the alert desk tells it as ONE platform incident (the
        Alerts page), then once more when the platform works again. Needs the operator's role."""
        self._permit("check", None, actor=actor)  # type: ignore[attr-defined]
        if not self.is_demo or phone is None:  # type: ignore[attr-defined]
            raise InvalidInput(N_("This works only in the demo."))
        phone.platform_outage(seconds)
        self._log("simulate_outage", actor, None, True,  # type: ignore[attr-defined]
                  N_("Demo: the platform was made to stop answering for {n} minutes", n=int(round(seconds / 60))))
        if self.engine is not None:  # type: ignore[attr-defined]
            self.engine.check_now()  # type: ignore[attr-defined]


__all__ = ["AlertsMixin", "IncidentLine", "Incidents", "NumberAlerts", "OutboxLine", "RecipientLine", "UndeliveredLine", "WindowLine"]
