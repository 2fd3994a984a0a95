"""What tests, benchmarks and the demo do to the simulated platform beside its HTTP API: scan a QR code, rotate it,
set a state, expire tokens, make a key stale or revoke it, read the messages and the accounts.

A mixin of :class:`~wpp.simulator.platform.Platform` (it uses the platform's lock, clock and accounts).
"""
from __future__ import annotations

import hmac

from ..masking import mask
from ..models import ConnState, Status
from .accounts import _PHASE_TO_STATE, Account, _clean_phone, new_qr_text, phone_for


class _Controls:
    """The platform's test and control helpers (see the module docstring)."""

    # --- test/control helpers ---------------------------------------------------------------------
    def _acct(self, session: str) -> Account:
        acct = self._accounts.get(session)
        if acct is None:
            raise KeyError(f"no account with session {session!r}")
        return acct

    def adopt(self, organization_id: str, session: str, api_key: str, *, state: str, phone: str | None = None,
              patient: bool = False) -> None:
        """Know an account the platform already had (the demo's fleet, after the console restarted the in-memory
        simulator): its organizationId, session and apiKey as the console stored them, in ``state`` (connected,
        offline, qr_required or starting), linked to ``phone``. Idempotent; an account of that session is replaced."""
        linked = _clean_phone(phone)
        with self.lock:
            old = self._accounts.pop(str(session), None)
            if old is not None:
                self._by_key.pop(old.api_key, None)
                self._by_org.pop(old.organization_id, None)
            acct = Account(organization_id=str(organization_id), session=str(session), api_key=str(api_key),
                           created_at=self.clock.time(), phone=linked, patient=bool(patient))
            self._accounts[acct.session] = acct
            self._by_org[acct.organization_id] = acct.session
            self._by_key[acct.api_key] = acct.session
        self.set_status(acct.session, state)

    def current_qr(self, session: str) -> str | None:
        with self.lock:
            acct = self._acct(session)
            self._advance(acct)
            return acct.qr_text if acct.phase == "qr" else None

    def scan(self, session: str, qr_text: str, phone: str | None = None) -> bool:
        """The phone scans ``qr_text``; when it is the code on screen the account is linked (to ``phone``, digits
        with the country code, or a number derived from the session)."""
        linked = _clean_phone(phone)
        with self.lock:
            acct = self._acct(session)
            self._advance(acct)
            if acct.phase != "qr" or not acct.qr_text or not isinstance(qr_text, str):
                return False
            if not hmac.compare_digest(acct.qr_text.encode(), qr_text.encode()):
                return False
            acct.phase = "connected"
            acct.phase_since = self.clock.time()
            acct.qr_text = None
            acct.phone = linked or acct.phone or phone_for(acct.session)
            return True

    def rotate_qr(self, session: str) -> str | None:
        with self.lock:
            acct = self._acct(session)
            self._advance(acct)
            if acct.phase == "starting":
                self._enter_qr(acct, self.clock.time())
            elif acct.phase == "qr":
                acct.qr_text = new_qr_text()
                acct.qr_since = self.clock.time()
                acct.qr_first = False
            else:
                return None
            return acct.qr_text

    def set_status(self, session: str, state: str) -> str:
        parsed = Status.parse(state).state
        with self.lock:
            acct = self._acct(session)
            now = self.clock.time()
            if parsed is ConnState.CONNECTED:
                acct.phase, acct.phase_since, acct.qr_text = "connected", now, None
            elif parsed is ConnState.OFFLINE:
                self._go_offline(acct, now)
            elif parsed is ConnState.QR_REQUIRED:
                self._enter_qr(acct, now)
            elif parsed is ConnState.STARTING:
                self._start(acct)
            else:
                raise ValueError(f"unknown state {state!r}: use connected, offline, qr_required or starting")
            return _PHASE_TO_STATE[acct.phase]

    def expire_tokens(self, session: str | None = None) -> None:
        with self.lock:
            if session is None:
                self._revoked_all = self._token_serial
            else:
                self._revoked[session] = self._token_serial

    def make_key_stale(self, session: str, stale: bool = True) -> None:
        """The seeds' stale-key incident (or its end): ``POST /auth/token`` with the account's apiKey still mints
        tokens, but every ``/api`` call made with them answers ``401 {"error": "Invalid token"}``."""
        with self.lock:
            self._acct(session).stale_key = bool(stale)

    def revoke_api_key(self, session: str) -> None:
        """The account's apiKey is no longer accepted: ``POST /auth/token`` answers ``403 Invalid API key`` (tokens
        minted before keep working until they expire or are expired)."""
        with self.lock:
            acct = self._acct(session)
            self._by_key.pop(acct.api_key, None)

    def messages(self, session: str | None = None) -> list[dict]:
        with self.lock:
            return [dict(m) for m in self._messages if session is None or m["session"] == session]

    def accounts(self) -> list[dict]:
        with self.lock:
            out = []
            for acct in self._accounts.values():
                out.append(
                    {
                        "organizationId": acct.organization_id,
                        "session": acct.session,
                        "status": self._state(acct),
                        "apiKey": mask(acct.api_key),
                        "webhook": acct.webhook,
                        "createdAt": acct.created_at,
                        "staleKey": acct.stale_key,
                    }
                )
            return out

    def api_key_for(self, organization_id: str) -> str:
        with self.lock:
            session = self._by_org.get(organization_id)
            if session is None:
                raise KeyError(f"no account for organization {organization_id!r}")
            return self._accounts[session].api_key


__all__ = ["_Controls"]
