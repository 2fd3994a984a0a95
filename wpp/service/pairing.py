"""Linking the phone: the platform's QR code, its rotation, and "why is there no QR code?".

The pairing panel asks every couple of seconds while someone looks at it (its own loop); what it learns goes to
the shared status board, so the poller need not ask about that number meanwhile. Its heartbeat
(:meth:`PairingMixin.pairing_heartbeat`) tells the poller, in whichever replica, that someone has the QR code on
screen: only then is a number waiting for a scan asked fast.
"""
from __future__ import annotations

import logging

from .. import glossary, keys
from .. import qr as _qr
from ..errors import (
    InvalidApiKey,
    InvalidInput,
    InvalidToken,
    WppError,
    WrongAccount,
)
from ..i18n import N_
from ..models import ConnState
from .views import Check, PairingView

log = logging.getLogger("wpp.service")

#: the QR image's width on the page, in CSS pixels (drawn at a whole number of pixels per module, at most this)
QR_SIZE_PX = 380
#: after this many seconds without a QR code, the page explains why (the checklist)
NO_QR_EXPLAIN_AFTER_S = 6.0


class PairingMixin:
    def start_pairing(self, integration_id: str, *, actor: str) -> PairingView:
        """Ask the platform to start the number's session, so it offers QR codes."""
        row = self._row(integration_id, "pair", actor=actor)
        try:
            res = self.client.start_account(self._session_id(row), self._auth(row))
        except WppError as err:
            self._record_error(row, err)
            self._log("pair", actor, row, False, N_("Could not start linking the phone: {problem}",
                                                    problem=err.message_text))
            raise
        self._waiting.pop(row.id, None)
        self._log("pair", actor, row, True, N_("Started linking the phone (QR code shown)"))
        self._register_soon(row.id)  # the scan is pushed to the console (in the background; never delays this)
        return self.pairing_state(integration_id, start_result=res)

    def pairing_state(self, integration_id: str, *, start_result=None) -> PairingView:
        """Status and, while waiting for a scan, the current QR code as a PNG. Errors are returned, not raised —
        except that a person who may not link phones (a viewer) is refused: a QR code links a phone to the number."""
        row = self._row(integration_id, "pair")
        prelinked = bool(row.settings.get(keys.PRELINKED))
        now = self.clock.time()
        try:
            auth = self._auth(row)
            session = self._session_id(row)
            status = self.client.get_status(session, auth)
            payload = None
            if status.state is not ConnState.CONNECTED:
                payload = (start_result.qr if start_result and start_result.qr else None) or self.client.get_qr(session, auth)
        except WppError as err:
            self._board_report(row.id, None, err)
            return PairingView(row, None, error=err, prelinked=prelinked,
                               waiting_since=self._waiting.setdefault(row.id, now))
        self._board_report(row.id, status, None)
        if status.phone and row.settings.get(keys.PHONE) != status.phone:
            try:
                row = self.store.merge_settings(row.id, {keys.PHONE: status.phone})
            except WppError:
                pass
        view = PairingView(row, status, prelinked=prelinked)
        if payload:
            self._waiting.pop(row.id, None)
            seen = self._qr_seen.get(row.id)
            if not seen or seen[0] != payload:
                seen = (payload, now)
                self._qr_seen[row.id] = seen
            view.qr_payload = payload
            view.qr_seen_at = seen[1]
            view.qr_expires_in = max(0.0, self.qr_lifetime_s - (now - seen[1]))
            try:
                view.qr_png = _qr.qr_to_png(payload, size_px=QR_SIZE_PX)
            except WppError as err:
                view.error = err
        else:
            if status.connected:
                self._qr_seen.pop(row.id, None)
                self._waiting.pop(row.id, None)
            else:
                view.waiting_since = self._waiting.setdefault(row.id, now)
        return view

    def no_qr_for(self, view: PairingView) -> float:
        """Seconds this number has been waiting without a QR code (0 when one is shown or it is connected)."""
        if view.qr_png or view.connected or view.waiting_since is None:
            return 0.0
        return max(0.0, self.clock.time() - view.waiting_since)

    def should_explain(self, view: PairingView) -> bool:
        return self.no_qr_for(view) >= NO_QR_EXPLAIN_AFTER_S or (view.status is not None and
                                                                 view.status.state is ConnState.OFFLINE)

    def _board_report(self, integration_id: str, status, err: WppError | None) -> None:
        if self.engine is None:
            return
        try:
            self.engine_record(integration_id, status, err)
        except Exception:  # noqa: BLE001 - the board is a convenience; the panel already has its answer
            log.exception("could not record a pairing answer on the status board")

    def engine_record(self, integration_id: str, status, err) -> None:  # overridden in the status glue
        return None

    def pairing_heartbeat(self, integration_id: str) -> None:
        """The pairing panel shows this number (called on each of its runs): while it starts or waits for a scan the
        status poller asks about it at the pairing interval, in any replica, and slowly once no panel shows it.
        Cheap (written at most every ``PollPolicy.watch_beat_s`` per number and process). Never raises: a heartbeat
        that could not be written is logged, and the panel goes on."""
        engine = self.engine
        if engine is None:
            return
        def allowed() -> bool:  # only someone who may link a phone makes it polled fast (a viewer sees no QR code)
            row = self.store.get(integration_id)
            return self._visible(row) and self._access.may("pair", row.organization_id)

        try:
            engine.pairing_heartbeat(integration_id, allowed=allowed)
        except Exception:  # noqa: BLE001 - polling speed is a convenience; the panel already has its answer
            log.exception("could not note that a pairing panel shows a number")

    # --- why is there no QR code? -----------------------------------------------------------------------
    def pairing_checklist(self, integration_id: str) -> list[Check]:
        """Each step a QR code needs, checked in order, with a tick or what is wrong, the one thing to do and its
        button. The two keys are named apart: the number's permanent key (it gives out access keys) and its access
        key (used on every call)."""
        row = self._row(integration_id, "pair")
        checks: list[Check] = []

        def skipped(code: str, title) -> Check:
            return Check(code, None, title)

        titles = {
            "reachable": N_("The platform answers"),
            "key": N_("The platform accepts the number's permanent key"),
            "token": N_("The platform accepts the number's access key"),
            "session": N_("The number is started on the platform"),
            "qr": N_("The platform offers a QR code"),
            "codes": N_("QR codes are not used up"),
        }
        problems = {
            "reachable": N_("The platform does not answer"),
            "key": N_("The platform refuses the number's permanent key"),
            "token": N_("The platform refuses the number's access key"),
            "session": N_("{state}: the number is stopped on the platform", state=glossary.state_name(glossary.OFFLINE)),
            "qr": N_("The platform offers no QR code"),
        }
        order = list(titles)

        def failed(code: str, fix, action: str | None = None, label=None) -> Check:
            return Check(code, False, titles[code], fix, action, label, problem=problems.get(code))

        def rest(after: str) -> list[Check]:
            return [skipped(c, titles[c]) for c in order[order.index(after) + 1:]]

        if not (row.api_key and row.session):
            checks.append(Check("key", False, titles["key"], N_("The number was not fully created on the platform."),
                                "finish_creating", N_("Finish creating"),
                                problem=N_("The number was not fully created on the platform")))
            return checks
        # 1-2: reachable, permanent key accepted (getting a usable access key needs both)
        try:
            self.tokens.token_for(row, session=self._session_cache)
        except InvalidApiKey:
            checks.append(Check("reachable", True, titles["reachable"]))
            if self._access.may("remove", row.organization_id):  # connecting it again takes this one off the list
                checks.append(failed("key", N_("It no longer gives out access keys. Connect the number again: it gets "
                                               "a new permanent key, and the phone is linked with a new QR code."),
                                     "make_new", N_("Connect it again")))
            else:
                checks.append(failed("key", N_("It no longer gives out access keys. The number must be connected "
                                               "again: ask an administrator of this school (it replaces this "
                                               "number).")))
            return checks + rest("key")
        except WppError as err:
            checks.append(failed("reachable", err.message_text, "retry", N_("Check again")))
            return checks + rest("reachable")
        checks.append(Check("reachable", True, titles["reachable"]))
        checks.append(Check("key", True, titles["key"]))
        # 3: the access key works (a status call, with one refresh on 401)
        try:
            status = self.client.get_status(self._session_id(row), self._auth(row))
        except (InvalidToken, WrongAccount):
            checks.append(failed("token", N_("A brand-new one was refused too. Press \u201cGet a new access key\u201d: "
                                             "the console tries it at once and says what to do next."),
                                 "refresh_token", N_("Get a new access key")))
            return checks + rest("token")
        except WppError as err:
            checks.append(failed("token", err.message_text, "retry", N_("Check again")))
            return checks + rest("token")
        checks.append(Check("token", True, titles["token"]))
        self._board_report(row.id, status, None)
        # 4-6: session, QR offered, codes used up
        if status.state is ConnState.CONNECTED:
            checks.append(Check("session", True, titles["session"]))
            checks.append(Check("qr", True, N_("No QR code is needed: the phone is already linked.")))
            return checks
        if status.state is ConnState.OFFLINE:
            checks.append(failed("session", N_("First check that the school's phone is on and online. If the number "
                                               "stays offline, the phone was unlinked, or its QR codes ran out before "
                                               "a scan (WhatsApp offers about six, one every 20 seconds): press "
                                               "\u201cShow a new QR code\u201d and scan it with the school's phone."),
                                 "start", N_("Show a new QR code")))
            return checks + rest("session")
        checks.append(Check("session", True, titles["session"]))
        try:
            payload = self.client.get_qr(self._session_id(row), self._auth(row))
        except WppError as err:
            checks.append(failed("qr", err.message_text, "retry", N_("Check again")))
            return checks + rest("qr")
        if not payload:
            fix = (N_("The number is still starting; a QR code usually follows within a few seconds.")
                   if status.state is ConnState.STARTING else
                   N_("The platform says it waits for a scan but sends no QR code. Start linking the phone again."))
            checks.append(failed("qr", fix, "start", N_("Show a new QR code")))
            return checks + rest("qr")
        checks.append(Check("qr", True, titles["qr"]))
        checks.append(Check("codes", True, titles["codes"]))
        return checks

    def run_check_action(self, integration_id: str, action: str, *, actor: str):
        """The button of a failed check."""
        self._row(integration_id, "pair", actor=actor)
        if action == "start":
            return self.start_pairing(integration_id, actor=actor)
        if action == "refresh_token":
            return self.refresh_token(integration_id, actor=actor)
        if action == "finish_creating":
            return self.resume(integration_id, actor=actor)
        if action == "make_new":
            return self.make_new_instead(integration_id, actor=actor)
        if action == "retry":
            return None
        raise InvalidInput(N_("Unknown action."))


__all__ = ["NO_QR_EXPLAIN_AFTER_S", "PairingMixin", "QR_SIZE_PX"]
