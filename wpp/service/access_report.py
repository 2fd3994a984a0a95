"""The number's access key (the platform JWT): one sentence for people, the technical view for support.

The 60-second rule lives in ``wpp.jwtinfo`` (a key is used while more than 60 s of its life remain); the
TokenManager renews a key by itself when it is needed, so "renews itself at 12:40" is ``expires_at - 60 s``.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json

from ..errors import InvalidApiKey, InvalidInput, InvalidToken, PlatformUnreachable, WppError, WrongAccount
from ..i18n import N_, Text, _, format_duration, format_time
from ..jwtinfo import MARGIN_S, decode_jwt, expiry_from, is_usable
from ..masking import mask
from ..models import ConnState, Integration, MintedToken
from ..tokens import REFUSED_API_KEY, REFUSED_TOKEN
from .core import from_epoch
from .views import AccessReport, AccessTest, KeyVerdict

SOURCES = {
    "exp": N_("the key's own expiry time"),
    "expiresIn": N_("the platform's answer (it said how long the key lives)"),
    "assumed": N_("assumed: the key does not say when it expires"),
    "stored": N_("the expiry saved with the number"),
}


class AccessMixin:
    def _current_token(self, row) -> MintedToken | None:
        current = getattr(self.tokens, "current", None)
        if callable(current):
            return current(row, session=self._session_cache)
        return self.tokens.cached(row.id)

    def access_report(self, integration_id: str) -> AccessReport:
        """What the platform last answered to calls with the number's keys and what its access key says, in one
        sentence a receptionist understands (the newest evidence first: a key the platform refuses is never "fine").
        The key itself is in the report (``token``) only for someone who may reveal it (an administrator)."""
        row = self._row(integration_id)
        report = self._judged(row, self._access_report(row))
        if report.token and not self._access.may("reveal", row.organization_id):
            report = dataclasses.replace(report, token=None)
        return report

    # --- the platform's answers: the newest evidence ------------------------------------------------------------
    def key_verdict(self, integration_id: str) -> KeyVerdict:
        """What the platform last answered to calls with this number's keys (see :class:`KeyVerdict`)."""
        return self._key_verdict(self._row(integration_id))

    def _key_verdict(self, row: Integration) -> KeyVerdict:
        # the newest evidence first: a refusal the store knows of, unless this process saw a call accepted since
        seen = self.tokens.last_accepted(row.id) if hasattr(self.tokens, "last_accepted") else None
        refused = row.key_refused
        if refused is not None:
            since = float(refused["since"]) / 1000.0
            if refused.get("kind") == REFUSED_API_KEY:
                return KeyVerdict("api_key_refused", from_epoch(since), refused.get("status"), refused.get("said"))
            if seen is None or seen <= since:
                return KeyVerdict("refused", from_epoch(since), refused.get("status"), refused.get("said"),
                                  fresh=bool(refused.get("fresh")))
        accepted = seen
        if accepted is None and self.engine is not None:  # another replica made the calls: the board's last good check
            try:
                record = self.engine.record_of(row.id)
            except WppError:
                record = None
            if record is not None and record.ok_at is not None and not record.error:
                accepted = float(record.ok_at)
        if accepted is not None:
            return KeyVerdict("accepted", from_epoch(accepted))
        return KeyVerdict("unknown")

    def _when(self, moment) -> str:
        return format_time(moment, self._tz, now=self.clock.time()) if moment else "—"

    def _judged(self, row: Integration, report: AccessReport) -> AccessReport:
        """The report's sentence from the newest evidence (the platform's last answer), then from the key itself.
        What to do fits the reader: someone who cannot press the buttons is told whom to ask."""
        verdict = self._key_verdict(row)
        may_fix = self._access.may("refresh_key", row.organization_id)
        since = self._when(verdict.at)
        if verdict.code == "api_key_refused":
            summary = N_("Since {time} the platform refuses this number's permanent key, so the console cannot get "
                         "access keys for it: the number cannot send messages or show its state.", time=since)
            todo = (N_("Open the number and connect it again: it gets a new permanent key, and the school's phone is "
                       "linked again with a new QR code.") if may_fix else
                    N_("Tell an operator or an administrator of this school: the number must be connected again."))
            return dataclasses.replace(report, ok=False, fix="reconnect" if may_fix else None,
                                       summary=N_("{what} {todo}", what=summary, todo=todo), verdict=verdict)
        if verdict.code == "refused":
            summary = (N_("Since {time} the platform refuses this number's access keys, new ones too: the number "
                          "cannot send messages or show its state.", time=since) if verdict.fresh else
                       N_("Since {time} the platform refuses this number's access key: the number cannot send "
                          "messages or show its state.", time=since))
            if not may_fix:
                todo = N_("Tell an operator or an administrator of this school: the number needs a new access key.")
            elif verdict.fresh:  # the stale-key incident: another new key will not help
                todo = N_("A new access key will not help while the platform refuses new ones: open the number and "
                          "connect it again (it gets a new permanent key, and the school's phone is linked with a new "
                          "QR code), or ask support to check platform account {session}.", session=row.session or "—")
            else:
                todo = N_("Press \u201cGet a new access key\u201d: the console gets one and tries it at once.")
            fix = None if not may_fix else "reconnect" if verdict.fresh else "refresh"
            return dataclasses.replace(report, ok=False, fix=fix,
                                       summary=N_("{what} {todo}", what=summary, todo=todo), verdict=verdict)
        if not report.ok or report.fix is not None or not report.usable:
            if not may_fix and report.fix == "refresh":
                report = dataclasses.replace(report, fix=None, summary=N_(
                    "{what} The console gets a new one by itself when it needs one.", what=_without_button(report)))
            return dataclasses.replace(report, verdict=verdict)
        if verdict.code == "accepted":
            summary = N_("Access is fine: the platform accepted this number's access key at {accepted}; the key "
                         "renews itself at {time}.", accepted=since, time=self._when(report.renews_at))
        else:
            summary = N_("The access key is valid and renews itself at {time}; the platform has not been asked with it "
                         "yet.", time=self._when(report.renews_at))
        return dataclasses.replace(report, summary=summary, verdict=verdict)

    def reveal_token(self, integration_id: str, *, actor: str) -> str:
        """The number's current access key in full, for support: administrators only (in the diary)."""
        row = self._row(integration_id, "reveal", actor=actor)
        best = self._current_token(row)
        token = best.token.reveal() if best is not None else row.jwt
        if not token:
            raise InvalidInput(N_("This number has no access key yet."),
                               action=N_("Press \u201cGet a new access key\u201d."))
        self._log("reveal", actor, row, True, N_("Revealed the number's access key"))
        return token

    def _access_report(self, row) -> AccessReport:
        best = self._current_token(row)
        if best is None and row.jwt:
            # something is saved, but it cannot be used: say what is wrong with it and the one fix
            try:
                return self._access_view(row.jwt, row.jwt_expires_at_ms, "stored", stored_session=row.session,
                                         damaged=True)
            except WppError as err:
                return AccessReport(
                    ok=False,
                    summary=N_("The saved access key is damaged. Press “Get a new access key”."),
                    fix="refresh",
                    stored_session=row.session,
                    token_masked=mask(row.jwt),
                    problems=[err.message_text],
                )
        if best is None:
            return AccessReport(
                ok=False,
                summary=N_("This number has no access key yet. Press \u201cGet a new access key\u201d."),
                fix="refresh",
                stored_session=row.session,
            )
        return self._access_view(best.token.reveal(), best.expires_at_ms, best.expiry_source, stored_session=row.session)

    def access_report_pasted(self, pasted: str) -> AccessReport:
        token = (pasted or "").strip()
        if not token:
            raise InvalidInput(N_("Paste a key first."), action=N_("Copy the whole key (three parts separated by dots)."))
        now = self.clock.time()
        exp_ms, source = expiry_from(token, None, now)
        info = decode_jwt(token, key=self.jwt_verify_key, now=now)  # unreadable text raises InvalidInput here
        report = self._access_view(token, exp_ms, source, stored_session=None, pasted=True)
        return dataclasses.replace(report, belongs_to=self._owner_of(info.subject))

    def _owner_of(self, session: str | None) -> Text:
        """Which of the reader's numbers has the platform account named inside a key (its ``sub``), in words."""
        if not session:
            return N_("The key does not say which platform account it belongs to.")
        try:
            rows = [r for r in self.store.list_integrations(include_inactive=True)
                    if r.session == session and self._visible(r)]
        except WppError:
            rows = []
        if not rows:
            return N_("The key belongs to platform account {session}, which is not one of your numbers.",
                      session=session)
        names = [v.label for v in self._views(rows)]
        return N_("The key belongs to \u201c{number}\u201d (platform account {session}).",
                  number=", ".join(names), session=session)

    def _access_view(self, token: str, exp_ms: int | None, source: str, *, stored_session: str | None,
                     pasted: bool = False, damaged: bool = False) -> AccessReport:
        now = self.clock.time()
        info = decode_jwt(token, key=self.jwt_verify_key, now=now)
        if source == "stored":
            source = "exp" if info.expires_at else "stored"
        left = exp_ms / 1000.0 - now if exp_ms else None
        usable = bool(exp_ms and is_usable(exp_ms, now))
        expires_at = from_epoch(exp_ms / 1000.0) if exp_ms else None
        renews_at = from_epoch(exp_ms / 1000.0 - MARGIN_S) if exp_ms else None
        problems = list(info.problems)
        mismatch = bool(stored_session and info.subject and str(info.subject) != stored_session)
        if mismatch:
            problems.append(N_("The key belongs to another platform account ({token_session}) than the one saved for "
                               "this number ({stored_session}).", token_session=info.subject,
                               stored_session=stored_session))
        when = format_time(renews_at, self._tz, now=now) if renews_at else "—"
        if damaged:
            ok, fix = False, "refresh"
            summary = N_("The saved access key says nothing about when it expires, so it is not used. Press "
                         "“Get a new access key”.")
        elif pasted:
            ok = usable
            summary = (N_("This key can be used for {left} more.", left=format_duration(max(0.0, (left or 0) - MARGIN_S)))
                       if usable else N_("This key cannot be used any more: it has expired or expires within a minute."))
            fix = None
        elif mismatch:
            ok, fix = False, "refresh"
            summary = N_("The saved access key belongs to another number. Press \u201cGet a new access key\u201d.")
        elif usable:
            ok, fix = True, None
            summary = N_("Access is fine; the key renews itself at {time}.", time=when)
        else:
            ok, fix = True, "refresh"
            summary = N_("The access key has expired; the console gets a new one by itself the next time it needs "
                         "it. To get one now, press \u201cGet a new access key\u201d.")
        claims = []
        for k, v in info.claims.items():
            shown = v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)
            t = info.claim_time(k) if k in ("exp", "iat", "nbf") else None
            claims.append((str(k), shown, from_epoch(t) if t else None))
        signature = {True: N_("verified"), False: N_("does NOT match the configured key")}.get(
            info.verified, N_("not checked (no key configured)"))
        return AccessReport(
            ok=ok,
            summary=summary,
            fix=fix,
            expires_at=expires_at,
            renews_at=renews_at,
            seconds_left=left,
            usable=usable,
            expiry_source=SOURCES.get(source, source),
            header=[(str(k), v if isinstance(v, str) else json.dumps(v)) for k, v in info.header.items()],
            claims=claims,
            signature=signature,
            token_session=info.subject,
            stored_session=stored_session,
            token=token,
            token_masked=mask(token),
            problems=problems,
            issued_at=from_epoch(info.issued_at) if info.issued_at else None,
        )

    def refresh_token(self, integration_id: str, *, actor: str) -> AccessTest:
        """"Get a new access key": mint one now, save it, and try it once with the platform. The answer says which of
        three it is: accepted; refused while the permanent key still gives out access keys (the seeds' stale-key
        incident, with what support can do); or the permanent key itself refused (raised: :class:`InvalidApiKey`)."""
        row = self._row(integration_id, "refresh_key", actor=actor)
        if not row.api_key:
            raise InvalidInput(N_("This number has no permanent key yet, so no access key can be made."),
                               action=N_("Open the number and press \u201cFinish creating\u201d."))
        current = self._current_token(row)
        try:
            minted = self.tokens.refresh(row, stale=current.token.reveal() if current else None,
                                         session=self._session_cache, reason="asked")
        except InvalidApiKey as err:
            self._record_error(row, err)
            self._log("refresh", actor, row, False, N_("Could not get a new access key: the platform refuses the "
                                                       "number's permanent key"))
            refused = InvalidApiKey(
                N_("The platform refuses this number's permanent key, so no new access key can be made."),
                action=N_("If the number was created in the last minute, wait a few seconds and try again. Otherwise "
                          "open the number and connect it again: it gets a new permanent key, and the school's phone "
                          "is linked again with a new QR code."),
                status=err.status, detail=err.detail)
            refused.said = err.said
            raise refused from None
        except WppError as err:
            self._record_error(row, err)
            self._log("refresh", actor, row, False, N_("Could not get a new access key: {problem}",
                                                       problem=err.message_text))
            raise
        self.store.update(row.id, clear_error=True)
        token = minted.token.reveal()
        try:
            status = self.client.get_status(self._session_id(row), token)
        except (InvalidToken, WrongAccount) as err:
            self.tokens.note_refused(row, kind=REFUSED_TOKEN, status=err.status, said=err.said, renewed="refused")
            self._log("refresh", actor, row, False, N_("Got a new access key: the platform refuses it too"))
            return AccessTest(
                False, N_("The platform refuses the new access key too"),
                N_("The number's permanent key still gives out access keys, but the platform refuses every call made "
                   "with them. The platform has most likely replaced this number's permanent key, and the console "
                   "holds an old one."),
                N_("Support can ask the platform to check platform account {session} and its permanent key. To use "
                   "the number sooner, open it and connect it again: it gets a new permanent key, and the school's "
                   "phone is linked with a new QR code.", session=row.session or "—"),
                None, "refresh_refused")
        except WppError as err:
            self._log("refresh", actor, row, True, N_("Got a new access key; it could not be tried: {problem}",
                                                      problem=err.message_text))
            return AccessTest(True, N_("A new access key was saved, but it could not be tried"), err.message_text,
                              err.action_text, None, "refresh_untried")
        self.tokens.note_accepted(row)
        self._report_status(row.id, status)
        self._log("refresh", actor, row, True, N_("Got a new access key; the platform accepts it"))
        if status.state is ConnState.CONNECTED:
            return AccessTest(True, N_("A new access key was saved, and the platform accepts it"),
                              N_("The platform answered a call made with the new key: the phone is connected."),
                              N_("Nothing to do."), None, "refresh_accepted")
        return AccessTest(True, N_("A new access key was saved, and the platform accepts it"),
                          N_("The platform answered a call made with the new key; the number's state: {state}.",
                             state=status.name_text),
                          N_("Check that the school's phone is on and connected to the internet. If the number stays "
                             "like this, open it and link the phone again with a new QR code."), "show_qr",
                          "refresh_accepted")

    def test_access(self, integration_id: str, *, actor: str) -> AccessTest:
        """One real call with the key as it is now (no automatic renewal), and what it means in plain words."""
        row = self._row(integration_id, "test_access", actor=actor)
        current = self._current_token(row)
        if current is None:
            return AccessTest(False, N_("There is no access key"), N_("This number has no access key yet."),
                              N_("Press \u201cGet a new access key\u201d."), "refresh", "no_token")
        token = current.token.reveal()
        try:
            status = self.client.get_status(self._session_id(row), token)
        except WppError as err:
            if isinstance(err, (InvalidToken, WrongAccount)) and not (current.expires_at_ms / 1000.0 <= self.clock.time()):
                self.tokens.note_refused(row, kind=REFUSED_TOKEN, status=err.status, said=err.said)
            result = self.diagnose(err, token)
            self._log("test", actor, row, False, N_("Checked the access key: {title}", title=result.title))
            return result
        self.tokens.note_accepted(row)
        self._report_status(row.id, status)
        if status.state is ConnState.CONNECTED:
            result = AccessTest(True, N_("The access key works"),
                                N_("The platform accepted it, and the phone is connected."),
                                N_("Nothing to do."), None, "ok")
        else:
            result = AccessTest(True, N_("The access key works; the number's state: {state}", state=status.name_text),
                                N_("The platform accepted the key and says the number is: {state}.",
                                   state=status.name_text),
                                N_("Check that the school's phone is on and connected to the internet. If the number "
                                   "stays like this, open it and link the phone again with a new QR code."),
                                "show_qr", "ok_not_connected")
        self._log("test", actor, row, True, N_("Checked the access key: {title}", title=result.title))
        return result

    def _report_status(self, integration_id: str, status) -> None:
        self._board_report(integration_id, status, None)

    def diagnose(self, err: WppError, token: str | None = None) -> AccessTest:
        now = self.clock.time()
        if isinstance(err, InvalidToken):
            info = None
            if token:
                try:
                    info = decode_jwt(token, key=self.jwt_verify_key, now=now)
                except WppError:
                    info = None
            if info is None:
                return AccessTest(False, N_("The saved access key cannot be read"),
                                  N_("What is saved is not a valid key, so the platform refused it."),
                                  N_("Press \u201cGet a new access key\u201d to replace it."), "refresh", "malformed")
            if info.expires_at and info.expires_at <= now:
                return AccessTest(False, N_("The access key has expired"),
                                  N_("It stopped working {ago} ago. Access keys live about 15 minutes; the console "
                                     "renews them by itself when needed.",
                                     ago=format_duration(now - info.expires_at)),
                                  N_("Press \u201cGet a new access key\u201d."), "refresh", "expired")
            return AccessTest(False, N_("The platform does not recognise this access key"),
                              N_("It has not expired, so it was made for another platform or with a permanent key "
                                 "that has since been replaced."),
                              N_("Press \u201cGet a new access key\u201d. If that is refused too, connect the number "
                                 "again."), "refresh", "rejected")
        if isinstance(err, InvalidApiKey):
            return AccessTest(False, N_("The platform rejected the number's permanent key"),
                              N_("The platform no longer accepts this number's permanent key, so no new access key can "
                                 "be made."),
                              N_("If the number was created in the last minute, wait a few seconds and try again; "
                                 "otherwise connect the number again."), None, "api_key_rejected")
        if isinstance(err, WrongAccount):
            return AccessTest(False, N_("The access key belongs to another number"), err.message_text,
                              N_("Press \u201cGet a new access key\u201d."), "refresh", "wrong_account")
        if isinstance(err, PlatformUnreachable):
            return AccessTest(False, N_("The platform cannot be reached"), err.message_text, err.action_text, None,
                              "unreachable")
        return AccessTest(False, N_("The platform answered with an error"), err.message_text, err.action_text, None,
                          "platform_error")


def _without_button(report: AccessReport) -> Text:
    """The key-only sentence without the button a reader lacks (an expired or missing key renews by itself)."""
    if report.usable is False and report.expires_at is not None:
        return N_("The access key has expired.")
    return N_("This number has no usable access key at the moment.")


__all__ = ["AccessMixin", "SOURCES"]
