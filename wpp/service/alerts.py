"""What pages read about alerts (``wpp.alerts``): the outbox (every alert, to whom, delivered or not), each
recipient's last alert for the Settings page, and the demo's "the phone went offline"."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..errors import WppError
from ..i18n import N_, Text, _
from .core import from_epoch

_EVENTS = {"down": N_("The number dropped"), "recovered": N_("Number back")}
_CHANNELS = {"email": N_("E-mail"), "webhook": N_("Webhook"), "outbox": N_("Demo outbox")}
_OUTCOMES = {"sent": N_("Delivered"), "failed": N_("Failed"), "pending": N_("Waiting to be sent"),
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
class RecipientLine:
    """One recipient on the Settings page: for which schools, and whether the last alert went out."""

    to: str
    channel: str
    scope: str
    last_at: dt.datetime | None
    outcome: str
    ok: bool | None


#: what kind of drop an incident was -> the state it left the number in (wpp.glossary)
_KIND_STATES = {"offline": "offline", "logged_out": "qr_required", "cannot_check": "cannot_check",
                "key_rejected": "access_refused"}


def _event_words(event: str, kind: str | None) -> str:
    """What an alert was about, by the state's one name: "🔴 Offline"; "🟢 Connected again" for a recovery."""
    from .. import glossary

    if event == "recovered":
        return f"{glossary.state_mark(glossary.CONNECTED)} " + str(N_("{state} again",
                                                                       state=glossary.state_name(glossary.CONNECTED)))
    code = _KIND_STATES.get(kind or "")
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
            kinds = {i.id: i.kind for i in self.store.load_incidents(open_only=False)}  # type: ignore[attr-defined]
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
                number=numbers.get(a.integration_id or "", _("(deleted number)")),
                event=_event_words(a.event, kinds.get(a.incident_id)),
                subject=a.subject,
                text=a.body,
                outcome=str(_OUTCOMES.get(a.status, a.status)),
                ok=True if a.status == "sent" else (False if a.status == "failed" else None),
                problem=_problem(a.error),
            ))
        return out

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


__all__ = ["AlertsMixin", "OutboxLine", "RecipientLine"]
