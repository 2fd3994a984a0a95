"""The number's access key (the platform JWT): one sentence for people, the technical view for support.

The 60-second rule lives in ``wpp.jwtinfo`` (a key is used while more than 60 s of its life remain); the
TokenManager renews a key by itself when it is needed, so "renews itself at 12:40" is ``expires_at - 60 s``.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json

from ..errors import InvalidApiKey, InvalidInput, InvalidToken, PlatformUnreachable, WppError, WrongAccount
from ..i18n import N_, _, format_duration, format_time
from ..jwtinfo import MARGIN_S, decode_jwt, expiry_from, is_usable
from ..masking import mask
from ..models import ConnState, MintedToken
from .core import from_epoch
from .views import AccessReport, AccessTest

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
        """What the number's current access key says, and one sentence a receptionist understands. The key itself
        is in the report (``token``) only for someone who may reveal it (an administrator); others get it masked."""
        row = self._row(integration_id)
        report = self._access_report(row)
        if report.token and not self._access.may("reveal", row.organization_id):
            report = dataclasses.replace(report, token=None)
        return report

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
        decode_jwt(token, key=self.jwt_verify_key, now=now)  # unreadable text raises InvalidInput here
        return self._access_view(token, exp_ms, source, stored_session=None, pasted=True)

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

    def refresh_token(self, integration_id: str, *, actor: str) -> AccessReport:
        """Get a new access key now (and save it)."""
        row = self._row(integration_id, "refresh_key", actor=actor)
        if not row.api_key:
            raise InvalidInput(N_("This number has no platform key yet, so no access key can be made."),
                               action=N_("Open the number and press \u201cFinish creating\u201d."))
        current = self._current_token(row)
        try:
            self.tokens.refresh(row, stale=current.token.reveal() if current else None, session=self._session_cache)
        except WppError as err:
            self._record_error(row, err)
            self._log("refresh", actor, row, False, N_("Could not get a new access key: {problem}",
                                                       problem=err.message_text))
            raise
        self.store.update(row.id, clear_error=True)
        self._log("refresh", actor, row, True, N_("Got a new access key"))
        return self.access_report(row.id)

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
            result = self.diagnose(err, token)
            self._log("test", actor, row, False, N_("Checked the access key: {title}", title=result.title))
            return result
        self._report_status(row.id, status)
        if status.state is ConnState.CONNECTED:
            result = AccessTest(True, N_("The access key works"),
                                N_("The platform accepted it, and the phone is connected."),
                                N_("Nothing to do."), None, "ok")
        else:
            result = AccessTest(True, N_("The access key works, but the phone is not connected"),
                                N_("The platform accepted the key and says the number is: {state}.",
                                   state=status.label),
                                N_("Open the number and link the phone again with a new QR code."), "show_qr",
                                "ok_not_connected")
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
                              N_("It has not expired, so it was made for another platform or with a platform key "
                                 "that has since been replaced."),
                              N_("Press \u201cGet a new access key\u201d. If that is refused too, connect the number "
                                 "again."), "refresh", "rejected")
        if isinstance(err, InvalidApiKey):
            return AccessTest(False, N_("The platform rejected the number's platform key"),
                              N_("The platform no longer accepts this number's platform key, so no new access key can "
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


__all__ = ["AccessMixin", "SOURCES"]
