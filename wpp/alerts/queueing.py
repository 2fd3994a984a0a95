"""Grouping and queueing: what is due becomes one alert per recipient, in the store, once.

Part of :class:`wpp.alerts.desk.AlertDesk` (a mixin). Most of the fleet down, or the platform out of reach, is one
platform incident told to the "*" recipients; drops that start within ``group_s`` of each other share one message;
recoveries follow whoever was told of the drop; one reminder when nobody said "I'm on it"; mutes and maintenance
windows hold what they cover; alerts given up are told to the "*" recipients.
"""
from __future__ import annotations

import logging
from collections import Counter
from dataclasses import replace

from .. import keys
from ..errors import WppError
from ..i18n import N_, Text
from ..models import PLATFORM_INCIDENT, AlertRecord, Incident, Integration
from ..store.alerts import alert_uid
from .config import DAY
from .message import (CANNOT_CHECK, DOWN, NOT_DELIVERING, RECOVERED, REMINDER, UNDELIVERABLE, Item, Outage, Subject,
                      compose_notice, compose_outage, compose_undeliverable)
from .recipients import WEBHOOK, Recipient
from .schedule import working_seconds
from .sending import problem_text

log = logging.getLogger("wpp.alerts")

#: platform incidents' kinds: most of the fleet down at once, or the platform cannot be reached at all
PLATFORM_DOWN = "platform_down"
PLATFORM_UNREACHABLE = "platform_unreachable"


def _said(stored: str | None, lang: str) -> str:
    """A stored failure as a sentence in ``lang``."""
    found = problem_text(stored)
    return found.render(lang) if isinstance(found, Text) else str(found)


class Queueing:
    """The desk's queue (see the module docstring): incidents due become alerts in the store."""

    # --- queueing ---------------------------------------------------------------------------------------------
    def _held(self, inc: Incident, at: float) -> bool:
        """Is ``inc`` under a mute or maintenance window at ``at``? (A platform incident: only the platform's.)"""
        for m in self._mutes:
            if not m.holds(at):
                continue
            if inc.platform:
                if m.scope == "platform":
                    return True
            elif m.covers(inc.integration_id, inc.organization_id):
                return True
        return False

    def _platform_wide(self, down: list[Incident]) -> tuple[bool, bool]:
        """``(platform incident?, unreachable?)`` for the numbers down now: every number of the fleet cannot be
        checked (the platform cannot be reached), or more than ``platform_percent`` of the fleet (at least 3) is down
        at once."""
        down = [i for i in down if i.kind != NOT_DELIVERING]  # connected: never a sign of a platform outage
        n = len(down)
        fleet = max(self._fleet_size, n)
        if n == 0:
            return False, False
        unreachable = n == fleet and all(i.kind == CANNOT_CHECK for i in down)
        return unreachable or (n >= 3 and n * 100 > self.config.platform_percent * fleet), unreachable

    def _queue(self, now: float, stats: Counter) -> None:
        """What is due goes out, grouped: a platform incident to the "*" recipients; drops that started within
        ``group_s`` of each other as one message per recipient; recoveries likewise; one reminder when nobody said
        "I'm on it". Mutes and maintenance windows hold what they cover."""
        try:
            self._mutes = self.store.list_mutes(since=now - 2 * DAY)
        except WppError as err:
            log.warning("could not read the mutes and maintenance windows: %s", err.english)
        names = _LazyNames(self.store)
        incs = self.store.load_incidents(open_only=True)
        numbers = [i for i in incs if not i.platform]
        platforms = sorted((i for i in incs if i.platform), key=lambda i: i.started_at)
        platform = platforms[-1] if platforms else None
        for extra in platforms[:-1]:  # never more than one (two leaders in a handover): keep the newest
            self.store.save_incident(replace(extra, closed_at=now))
        down = [i for i in numbers if i.recovered_at is None]
        wide, unreachable = self._platform_wide(down)

        # 1. the platform incident: most of the fleet down at once, or the platform cannot be reached
        if platform is None and wide:
            cands = [i for i in down if i.notified_at is None and i.parent_id is None and i.kind != NOT_DELIVERING]
            if cands and now - min(i.started_at for i in cands) >= self.config.after_s:
                first = min(cands, key=lambda i: (i.started_at, i.id))
                platform = Incident(id="platform@" + first.id, integration_id=PLATFORM_INCIDENT, organization_id=None,
                                    kind=PLATFORM_UNREACHABLE if unreachable else PLATFORM_DOWN,
                                    started_at=min(i.started_at for i in cands), noticed_at=now)
                self.store.save_incident(platform)
                stats["platform"] += 1
        if platform is not None and platform.recovered_at is None:
            for n, i in enumerate(down):  # its numbers are told in its message, not one by one
                if i.notified_at is None and i.parent_id is None and i.kind != NOT_DELIVERING:
                    down[n] = replace(i, parent_id=platform.id)
                    self.store.save_incident(down[n])
            back = [float(i.recovered_at) for i in numbers if i.parent_id == platform.id and i.recovered_at is not None]
            if not wide and (not back or now - max(back) >= self.config.group_s):
                # the platform works again (and its numbers stopped coming back one by one): what is still down is
                # an ordinary drop of its school now
                platform = replace(platform, recovered_at=now)
                self.store.save_incident(platform)
                for n, i in enumerate(down):
                    if i.parent_id == platform.id:
                        down[n] = replace(i, parent_id=None)
                        self.store.save_incident(down[n])
        if platform is not None:
            self._queue_platform(platform, down, now, stats, names)
        open_platform = platform.id if platform is not None and platform.recovered_at is None else None

        # 2. drops of numbers: those that started within group_s of each other, one message per recipient
        cands = sorted((i for i in down if i.notified_at is None and i.parent_id is None and not self._held(i, now)),
                       key=lambda i: (i.started_at, i.id))
        while cands and now - cands[0].started_at >= self.config.after_s:
            first = cands[0]
            seen = first.noticed_at if first.noticed_at is not None else first.started_at
            if self._suspects and now - seen < self.config.group_s:
                # other numbers' last check failed: they may be dropping in the same outage (or the platform is
                # going away). Wait for them (Alertmanager's group_wait), at most group_s after this drop was seen,
                # so the message, or the platform incident, names them all
                stats["grouping"] += 1
                break
            group = [c for c in cands if c.started_at <= first.started_at + self.config.group_s]
            cands = cands[len(group):]
            notice = f"down:{first.id}"
            stats["queued"] += self.store.queue_alerts(self._notice(notice, DOWN, group, now, names))
            for c in group:
                self.store.save_incident(replace(c, notified_at=now, notice_id=notice))
            stats["notified"] += len(group)

        # 3. recoveries: told to whoever was told of the drop, together with the rest of that message's numbers
        ready = []
        for i in numbers:
            if i.recovered_at is None:
                continue
            if i.parent_id is not None and i.parent_id == open_platform:
                continue  # part of the platform incident still open: it is closed with it
            if i.notified_at is None or i.parent_id is not None:
                self.store.save_incident(replace(i, closed_at=now))  # nobody was told about it alone
                stats["closed"] += 1
            elif self._held(i, i.recovered_at):
                self.store.save_incident(replace(i, closed_at=now))  # back inside a mute: nothing to say
                stats["closed"] += 1
                stats["silenced"] += 1
            else:
                ready.append(i)
        if ready:
            first = min(ready, key=lambda i: (i.recovered_at, i.id))
            told_with = {i.notice_id for i in ready if i.notice_id}
            waiting = any(d.notice_id in told_with for d in down if d.notified_at is not None)
            if not waiting or now - float(first.recovered_at) >= self.config.group_s:
                stats["queued"] += self.store.queue_alerts(self._notice(f"up:{first.id}", RECOVERED, ready, now, names))
                for i in ready:
                    self.store.save_incident(replace(i, closed_at=now))
                stats["closed"] += len(ready)

        # 4. one reminder, when nobody said "I'm on it" after remind_s working hours
        if self.config.remind_s > 0:
            due = [i for i in down if i.notified_at is not None and i.parent_id is None and i.acked_at is None
                   and i.reminded_at is None and not self._held(i, now) and self._worked(i.notified_at, now)]
            if due:
                first = min(due, key=lambda i: (i.started_at, i.id))
                stats["queued"] += self.store.queue_alerts(
                    self._notice(f"remind:{first.id}", REMINDER, due, now, names))
                for i in due:
                    self.store.save_incident(replace(i, reminded_at=now))
                stats["reminded"] += len(due)

    def _worked(self, since: float, now: float) -> bool:
        return working_seconds(since, now, self.config.working, self.config.tz) >= self.config.remind_s

    def _queue_platform(self, platform: Incident, down: list[Incident], now: float, stats: Counter,
                        names: "_LazyNames") -> None:
        if platform.recovered_at is None:
            if platform.notified_at is None and not self._held(platform, now):
                out = self._outage_notice(platform, DOWN, down, now, names)
                stats["queued"] += self.store.queue_alerts(out)
                self.store.save_incident(replace(platform, notified_at=now, notice_id=platform.id))
                stats["notified"] += 1
            elif (self.config.remind_s > 0 and platform.notified_at is not None and platform.acked_at is None
                  and platform.reminded_at is None and not self._held(platform, now)
                  and self._worked(platform.notified_at, now)):
                stats["queued"] += self.store.queue_alerts(self._outage_notice(platform, REMINDER, down, now, names))
                self.store.save_incident(replace(platform, reminded_at=now))
                stats["reminded"] += 1
            return
        if platform.notified_at is not None and not self._held(platform, float(platform.recovered_at)):
            stats["queued"] += self.store.queue_alerts(self._outage_notice(platform, RECOVERED, down, now, names))
        self.store.save_incident(replace(platform, closed_at=now))
        stats["closed"] += 1

    def _notice(self, about_id: str, event: str, incidents: list[Incident], now: float,
                names: "_LazyNames") -> list[AlertRecord]:
        """One alert per recipient about ``incidents`` (each recipient hears about its schools' numbers only)."""
        by_key: dict[str, tuple[Recipient, list[Incident]]] = {}
        for inc in incidents:
            for r in self.config.recipients_for(inc.organization_id):
                by_key.setdefault(r.key, (r, []))[1].append(inc)
        out = []
        for r, its in by_key.values():
            lang = r.lang or self.config.language
            subjects = [names().subject(i.integration_id, i.organization_id) for i in its]
            items = [Item(about=sub, kind=i.kind, started_at=i.started_at, recovered_at=i.recovered_at,
                          acked_by=i.acked_by, acked_at=i.acked_at) for sub, i in zip(subjects, its)]
            c = compose_notice(event, items, lang=lang, tz=self.config.tz, now=now, public_url=self.config.public_url)
            schools = {sub.school_id or i.organization_id for sub, i in zip(subjects, its)}
            out.append(self._record(about_id, event, r, lang, c.subject, c.body, c.payload, now,
                                    integration_id=its[0].integration_id if len(its) == 1 else None,
                                    organization_id=schools.pop() if len(schools) == 1 else None))
        return out

    def _outage_notice(self, platform: Incident, event: str, down: list[Incident], now: float,
                       names: "_LazyNames") -> list[AlertRecord]:
        """The platform incident, one message per "*" recipient."""
        counts: dict[str, int] = {}
        for i in down:
            key = names().subject(i.integration_id, i.organization_id).school_id or ""
            counts[key] = counts.get(key, 0) + 1
        schools = sorted(((names().school_of(k), n) for k, n in counts.items()),
                         key=lambda kv: (-kv[1], str(kv[0]).casefold()))
        outage = Outage(started_at=platform.started_at, down=len(down), fleet=max(self._fleet_size, len(down)),
                        schools=schools if event != RECOVERED else [], unreachable=platform.kind == PLATFORM_UNREACHABLE,
                        recovered_at=platform.recovered_at, still_down=len(down) if event == RECOVERED else 0,
                        acked_by=platform.acked_by, acked_at=platform.acked_at)
        out = []
        for r in self.config.everyone():
            lang = r.lang or self.config.language
            c = compose_outage(event, outage, lang=lang, tz=self.config.tz, now=now, public_url=self.config.public_url)
            out.append(self._record(platform.id, event, r, lang, c.subject, c.body, c.payload, now,
                                    integration_id=None, organization_id=None))
        return out

    def _record(self, about_id: str, event: str, r: Recipient, lang: str, subject: str, body: str,
                payload: dict | None, now: float, *, integration_id: str | None,
                organization_id: str | None) -> AlertRecord:
        uid = alert_uid(about_id, event, r.key)
        if r.kind == WEBHOOK:
            payload = {"id": uid, **(payload or {"text": body})}
        else:
            payload = None
        return AlertRecord(incident_id=about_id, event=event, recipient=r.key, channel=r.kind, shown_to=r.shown,
                           lang=lang, subject=subject, body=body, created_at=now, next_try_at=now,
                           integration_id=integration_id, organization_id=organization_id, payload=payload, uid=uid)

    def _report_failures(self, now: float, stats: Counter) -> None:
        """Alerts given up since the last pass: told once to the "*" recipients (each is told about the others'
        failures, never about its own), then marked as reported."""
        failed = [a for a in self.store.list_alerts(status="failed", unreported=True, limit=200)]
        if not failed:
            return
        failed.sort(key=lambda a: (a.created_at, a.id or 0))
        tellable = [a for a in failed if a.event != UNDELIVERABLE]  # a failed report is not reported again
        if tellable:
            about = "undeliverable:" + (tellable[0].uid or str(tellable[0].id))
            names = _Names(self.store)
            out = []
            for r in self.config.everyone():
                mine = [a for a in tellable if a.recipient != r.key]
                if not mine:
                    continue
                lang = r.lang or self.config.language
                c = compose_undeliverable([(a, names.school_of(a.organization_id), _said(a.error, lang))
                                           for a in mine], lang=lang, tz=self.config.tz, now=now)
                orgs = {a.organization_id for a in mine}
                out.append(self._record(about, UNDELIVERABLE, r, lang, c.subject, c.body, c.payload, now,
                                        integration_id=mine[0].integration_id if len(mine) == 1 else None,
                                        organization_id=orgs.pop() if len(orgs) == 1 else None))
            stats["queued"] += self.store.queue_alerts(out)
        self.store.mark_alerts_reported([a.id for a in failed if a.id is not None], at=now)
        stats["reported"] += len(tellable)


class _LazyNames:
    """``names()`` is the pass's :class:`_Names`, read from the store the first time it is needed."""

    def __init__(self, store):
        self.store = store
        self._names: _Names | None = None

    def __call__(self) -> "_Names":
        if self._names is None:
            self._names = _Names(self.store)
        return self._names


class _Names:
    """Schools' and numbers' names for one pass (read once, only when something is queued)."""

    def __init__(self, store):
        self.store = store
        try:
            self.orgs = {o.id: o.name for o in store.list_organizations()}
        except WppError as err:
            log.warning("could not read the schools' names for the alerts: %s", err.english)
            self.orgs = {}
        self.rows: dict[str, Integration] = {}
        try:
            self.rows = {r.id: r for r in store.list_integrations(include_inactive=True)}
        except WppError:
            pass
        try:
            self.board = store.load_statuses()
        except WppError:
            self.board = {}

    def school_of(self, org_id: str | None) -> "Text | str":
        base = str(org_id or "").split("__wpp__", 1)[0]
        if not base:
            return N_("several schools")
        name = self.orgs.get(base)
        return name if name else N_("Unnamed school \u2026{tail}", tail=base.replace("-", "")[-4:])

    def subject(self, integration_id: str, org_id: str | None) -> Subject:
        row = self.rows.get(integration_id)
        org = (row.organization_id if row is not None else org_id) or ""
        base = str(org).split("__wpp__", 1)[0]
        name = self.orgs.get(base)
        school: Text | str = name if name else N_("Unnamed school \u2026{tail}", tail=base.replace("-", "")[-4:])
        number: Text | str = (row.name if row is not None and row.name else N_("Unnamed number"))
        digits = (row.settings.get(keys.PHONE) if row is not None else None) or getattr(
            self.board.get(integration_id), "phone", None)
        phone = None
        if digits:
            try:
                from ..phone import describe_phone

                phone = describe_phone(str(digits))
            except WppError:
                phone = None
        return Subject(school_id=base, school_name=school, number_id=integration_id, number_name=number, phone=phone)


__all__ = ["PLATFORM_DOWN", "PLATFORM_UNREACHABLE", "Queueing"]
