"""Sending a test message, the activity diary, sign-in events and the Settings page's rows."""
from __future__ import annotations

from .. import glossary
from .. import phone as _phone
from .. import validation
from ..access.identity import DEMO_NAMES
from ..errors import WppError
from ..i18n import N_, Text, _
from ..models import ActivityEntry
from .core import parse_iso
from .views import ActivityLine, SendOutcome

#: sign-in events the access package reports -> (action code, diary sentence, outcome ok)
SIGN_IN_EVENTS = {
    "success": ("sign_in", N_("Signed in"), True),
    "failure": ("sign_in_failed", N_("A sign-in failed: wrong name or password"), False),
    "throttled": ("sign_in_throttled", N_("Sign-in attempts were paused after several wrong passwords"), False),
    "sign_out": ("sign_out", N_("Signed out"), True),
    "refused": ("sign_in_refused", N_("A sign-in was refused: nobody has given this account a role in the console"),
                False),
    "withdrawn": ("sign_in_withdrawn", N_("Signed out: this account's role in the console was taken away"), False),
}


#: diary lines only administrators read (the rest is what happened to the numbers)
ADMIN_ONLY_LINES = frozenset({"refused", "reveal", "sign_in", "sign_in_failed", "sign_in_throttled", "sign_out",
                              "sign_in_refused", "sign_in_withdrawn",
                              # alerts go to support's and directors' addresses: not a receptionist's business
                              "alert_sent", "alert_failed"})
#: diary lines that name an alert's recipient (shown only to who may see that recipient)
ALERT_LINES = frozenset({"alert_sent", "alert_failed"})


def line_permission(action: str) -> str:
    """The permission (``wpp.access.roles.PERMISSIONS``) a diary line of this kind needs, at the line's school."""
    return "diary_all" if action in ADMIN_ONLY_LINES else "view"


#: who did what happened by itself: the phone (through the platform) and the console
_BY_ITSELF = frozenset({"WhatsApp", glossary.CONSOLE_ACTOR})


def _who(actor: str | None) -> str:
    """Who did it, as the diary shows it (the demo's staff member and the console by its one name, in the reader's
    language)."""
    if actor in DEMO_NAMES:
        return str(DEMO_NAMES[actor])
    if actor == glossary.CONSOLE_ACTOR:
        return str(glossary.CONSOLE_NAME)
    return actor or "—"


def _outcome(entry: ActivityEntry) -> str:
    """How it went: the state a phone's or the console's own doing left the number in, by its one name; a person's
    action done or failed."""
    params = (entry.message or {}).get("params") if isinstance(entry.message, dict) else None
    state = params.get("state") if isinstance(params, dict) else None
    if isinstance(state, dict) and state.get("msgid"):
        code = next((c for c, t in glossary.STATE_NAMES.items() if t.msgid == state["msgid"]), None)
        if code is not None:
            return f"{glossary.state_mark(code)} {glossary.state_name(code)}"
    if entry.action == "key_refused":
        return f"{glossary.state_mark(glossary.ACCESS_REFUSED)} {glossary.state_name(glossary.ACCESS_REFUSED)}"
    ok = entry.outcome == "ok"
    if entry.actor in _BY_ITSELF:
        return "✅ " + _("Fine") if ok else "⚠️ " + _("Problem")
    return "✅ " + _("Done") if ok else "❌ " + _("Failed")


class DiaryMixin:
    # --- messages ----------------------------------------------------------------------------------------
    def preview_recipient(self, raw: str) -> str:
        """The number the message will go to, in international format (raises InvalidInput in plain words)."""
        return _phone.describe_phone(_phone.normalize_phone(raw))

    def send_test(self, integration_id: str, to: str, text: str, *, actor: str) -> SendOutcome:
        digits = _phone.normalize_phone(to)
        shown = _phone.describe_phone(digits)
        text = validation.validate_message_text(text)
        row = self._row(integration_id, "send", actor=actor)
        try:
            res = self.client.send_text(digits, text, self._auth(row))
        except WppError as err:
            self._record_error(row, err)
            self._log("send", actor, row, False, N_("A test message to {phone} was not sent: {problem}", phone=shown,
                                                    problem=err.message_text))
            raise
        self._log("send", actor, row, True, N_("Sent a test message to {phone}: the platform accepted it", phone=shown))
        self._keep_test_message(row, res.task_id, shown, actor)  # its delivery updates, when the platform pushes them
        return SendOutcome(N_("The platform accepted the message for {phone}.", phone=shown), shown, res.task_id,
                           res.status)

    # --- the diary ----------------------------------------------------------------------------------------
    def activity(self, limit: int = 500) -> list[ActivityLine]:
        """Who did what, to which school's number, with what outcome: one line per action, newest first.

        Each line needs its own role at its own school (:func:`line_permission`): what happened to a number, for
        anyone who sees that school; refusals, revealed keys and alerts, for an administrator of that school (an
        alert's recipient only when it is the school's own); lines about no school (sign-ins, …) only for an
        administrator of every school."""
        entries = self.store.list_activity(limit=limit)
        rows = {r.id: r for r in self.store.list_integrations(include_inactive=True)}
        out = []
        for e in entries:
            row = rows.get(e.integration_id) if e.integration_id else None
            org = (row.organization_id if row else None) or e.organization_id
            if not self._sees_line(e, org):
                continue
            school = self.organization_name(org) if org else ""
            number = (row.name or _("Unnamed number")) if row else ("" if not e.integration_id else _("(deleted number)"))
            what = e.text()
            out.append(ActivityLine(parse_iso(e.at), _who(e.actor), school, number,
                                    str(what) if isinstance(what, Text) else (what or e.action), e.outcome == "ok",
                                    e.action, _outcome(e)))
        return out

    def _sees_line(self, entry: ActivityEntry, org: str | None) -> bool:
        from ..access.roles import ALL

        if not self._access.may(line_permission(entry.action), org or ALL):
            return False
        if entry.action in ALERT_LINES:
            params = entry.message.get("params") if isinstance(entry.message, dict) else None
            shown = params.get("to") if isinstance(params, dict) else None
            return self._recipient_visible(org, shown=shown)
        return True

    def log_sign_in(self, event: str, *, username: str, client: str | None = None, method: str = "staff") -> None:
        """Sign-in events into the diary (every failure and throttle, as the gate issue asks)."""
        action, message, ok = SIGN_IN_EVENTS.get(event, ("sign_in_" + str(event), N_("Sign-in event"), False))
        try:
            self.store.log_activity(ActivityEntry(action=action, outcome="ok" if ok else "error",
                                                  actor=str(username or "")[:200] or "—",
                                                  detail=message.english, message=message.to_json()))
        except WppError:
            pass

    # --- settings -----------------------------------------------------------------------------------------
    def settings_rows(self) -> list[tuple[str, str]]:
        self._permit("settings", None)
        rows: list[tuple[str, str]] = []
        if self._settings_rows is not None:
            rows.extend((str(label), str(value)) for label, value in self._settings_rows())
        rows.append((_("Where the numbers are kept"), str(getattr(self.store, "described_as", None) or self.store.description)))
        rows.append((_("Platform"), _("simulated (demo)") if self.is_demo else self.client.base_url))
        if hasattr(self, "webhooks_on"):
            rows.append((_("Status pushed by the platform"),
                         _("on") if self.webhooks_on else self.webhooks_off_reason()))
        return rows

    def settings_sections(self) -> list[tuple[str, str, list[tuple[str, str]]]]:
        """The Settings page's sections: ``(title, what it is about, rows)`` in words an administrator reads (secrets
        masked). For an administrator of every school."""
        self._permit("settings", None)
        found = self._settings_sections() if self._settings_sections is not None else []
        sections = {g: (str(title), str(about), [(str(k), str(v)) for k, v in rows]) for g, title, about, rows in found}
        extra = {
            "platform": [(_("Platform"), _("simulated (demo)") if self.is_demo else self.client.base_url)],
            "store": [(_("Where the numbers are kept"),
                       str(getattr(self.store, "described_as", None) or self.store.description))],
        }
        if hasattr(self, "webhooks_on"):
            extra["platform"].append((_("Status pushed by the platform"),
                                      _("on") if self.webhooks_on else str(self.webhooks_off_reason())))
        out = []
        for g, (title, about, rows) in sections.items():
            known = extra.pop(g, [])  # after the section's first row ("Mode" leads the platform's section)
            out.append((title, about, rows[:1] + known + rows[1:]))
        if not sections:  # no described settings (tests, scripts): what the service itself knows
            out = [(_("The console"), "", [row for rows in extra.values() for row in rows])]
        return out


__all__ = ["ADMIN_ONLY_LINES", "DiaryMixin", "SIGN_IN_EVENTS", "line_permission"]
