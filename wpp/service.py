"""The use-cases the pages call: create, resume, pair, fleet status, token report, send test, stop.

Pages never build a URL nor touch a ``settings`` key: they call these. Every method either returns a
typed result or raises a ``WppError`` whose message a staff member can act on.
"""
from __future__ import annotations

import logging
import secrets as _secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import MutableMapping

from . import phone as _phone
from . import qr as _qr
from . import tokens as _tokens
from . import validation
from .client import WppClient
from .clock import SYSTEM_CLOCK
from .errors import (
    InvalidApiKey,
    InvalidInput,
    InvalidToken,
    PlatformUnreachable,
    WppError,
)
from .masking import Secret, mask, reveal
from .models import ActivityEntry, ConnState, Integration, MintedToken, SendResult, Status
from .store.base import IntegrationStore

log = logging.getLogger("wpp.service")

# settings keys, in one place
K_API_KEY = "wppApiKey"
K_SESSION = "wppAccountNumber"
K_JWT = "wppJwtToken"
K_JWT_EXP = "wppJwtExpiresAt"
K_SUB_ORG = "wppSubOrgId"
K_REQUEST = "wppCreateRequestId"


def stored_token(integration: Integration, now: float | None = None) -> MintedToken | None:
    """The token saved in the row, as a MintedToken; without a saved expiry, the JWT's own is used."""
    if not integration.jwt:
        return None
    exp_ms = integration.jwt_expires_at_ms
    source = "stored"
    if exp_ms is None:
        try:
            exp_ms, source = _tokens.expiry_from(integration.jwt, None, time.time() if now is None else now)
        except WppError:
            return None
    return MintedToken(token=Secret(integration.jwt), expires_at_ms=int(exp_ms), expiry_source=source)


# --- results --------------------------------------------------------------------------------------
@dataclass
class CreateOutcome:
    integration: Integration
    created_on_platform: bool
    token_saved: bool
    error: WppError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class PairingView:
    integration: Integration
    status: Status | None
    qr_payload: str | None = None
    qr_png: bytes | None = None
    qr_seen_at: float | None = None  # when this QR was first seen by the console
    qr_expires_in: float | None = None  # estimate, seconds
    error: WppError | None = None

    @property
    def connected(self) -> bool:
        return bool(self.status and self.status.connected)


@dataclass
class FleetRow:
    integration: Integration
    status: Status | None
    error: WppError | None
    checked_at: float
    token_expires_at_ms: int | None


@dataclass
class Diagnosis:
    code: str  # ok | expired | rejected | api_key_rejected | unreachable | no_token | malformed | platform_error
    title: str
    explanation: str
    next_step: str


@dataclass
class TokenReport:
    info: "_tokens.JwtInfo | None"
    token_masked: str
    token: str | None = field(repr=False)  # the plain token: the page shows it only after "reveal"
    expires_at_ms: int | None
    expiry_source: str | None
    usable: bool
    seconds_left: float | None
    stored_session: str | None = None
    problems: list[str] = field(default_factory=list)


@dataclass
class TokenTest:
    ok: bool
    status: Status | None
    diagnosis: Diagnosis


# --- the service ---------------------------------------------------------------------------------
class WppService:
    def __init__(
        self,
        client: WppClient,
        store: IntegrationStore,
        *,
        tokens: "_tokens.TokenManager | None" = None,
        secret: str | None = None,
        clock=SYSTEM_CLOCK,
        fleet_concurrency: int = 50,
        activation_wait_s: float = 15.0,
        qr_lifetime_s: float = 20.0,
        jwt_verify_key: str | None = None,
        simulator=None,
        poll_seconds: float = 3.0,
    ):
        self.client = client
        self.store = store
        self.clock = clock
        self.secret = reveal(secret)
        self.fleet_concurrency = max(1, int(fleet_concurrency))
        self.qr_lifetime_s = qr_lifetime_s
        self.jwt_verify_key = reveal(jwt_verify_key)
        self.simulator = simulator  # only in demo mode: lets staff "simulate the phone scan"
        self.tokens = tokens or _tokens.TokenManager(
            client, clock=clock, activation_wait_s=activation_wait_s, on_new_token=self._save_token
        )
        if tokens is not None and getattr(tokens, "on_new_token", None) is None:
            tokens.on_new_token = self._save_token
        self._org_locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self._qr_seen: dict[str, tuple[str, float]] = {}
        self._pool = ThreadPoolExecutor(max_workers=self.fleet_concurrency, thread_name_prefix="wpp-fleet")
        from .fleet import StatusBoard

        self.board = StatusBoard(self, max_age_s=poll_seconds)

    # -- helpers -----------------------------------------------------------------------------------
    def _save_token(self, integration_id: str, minted: MintedToken) -> None:
        """Write-back of a new token: only the two token keys change."""
        self.store.merge_settings(
            integration_id, {K_JWT: minted.token.reveal(), K_JWT_EXP: int(minted.expires_at_ms)}
        )

    def _org_lock(self, key: str) -> threading.Lock:
        with self._locks_guard:
            return self._org_locks.setdefault(key, threading.Lock())

    def _log(self, action: str, actor: str, integration: Integration | None, outcome: str, detail: str = "",
             organization_id: str | None = None) -> None:
        try:
            self.store.log_activity(
                ActivityEntry(
                    action=action,
                    outcome=outcome,
                    actor=actor or "unknown",
                    integration_id=integration.id if integration else None,
                    organization_id=(integration.organization_id if integration else organization_id),
                    detail=detail,
                )
            )
        except WppError:
            log.warning("could not write the activity log for %s", action)

    def _record_error(self, integration: Integration, err: WppError) -> None:
        try:
            self.store.update(integration.id, last_error=err.message)
        except WppError:
            pass

    def _auth(self, integration: Integration, token_cache: MutableMapping | None = None):
        if not integration.api_key:
            raise InvalidInput(
                "This number was never created on the platform (it has no API key).",
                action="Open Connect a number and press \u201cFinish creating\u201d.",
            )
        self._session(integration)
        stored = stored_token(integration, self.clock.time())
        if token_cache is not None:
            hint = token_cache.get(integration.id)
            if isinstance(hint, MintedToken) and (stored is None or hint.expires_at_ms > stored.expires_at_ms):
                stored = hint
        auth = self.tokens.auth_for(integration.id, integration.api_key, stored=stored)
        return auth

    def _remember(self, integration: Integration, token_cache: MutableMapping | None) -> None:
        if token_cache is not None:
            cur = self.tokens.cached(integration.id)
            if cur is not None:
                token_cache[integration.id] = cur

    @staticmethod
    def _session(integration: Integration) -> str:
        if not integration.session:
            raise InvalidInput(
                "This number has no platform session saved.",
                action="Open Connect a number and press \u201cFinish creating\u201d.",
            )
        return validation.validate_session(integration.session)

    # -- reading -----------------------------------------------------------------------------------
    def list_numbers(self, organization_id: str | None = None, *, include_inactive: bool = False) -> list[Integration]:
        return self.store.list_integrations(organization_id, include_inactive=include_inactive)

    def get(self, integration_id: str) -> Integration:
        return self.store.get(integration_id)

    def activity(self, **filters) -> list[ActivityEntry]:
        return self.store.list_activity(**filters)

    # -- create / resume ---------------------------------------------------------------------------
    def create_number(
        self,
        organization_id: str,
        *,
        name: str | None = None,
        actor: str,
        request_id: str | None = None,
        user_jwt: str | None = None,
    ) -> CreateOutcome:
        """Create a platform client for a new number of this organisation, save it, mint its first token.

        ``request_id`` makes a repeated click idempotent: the same id never creates a second client.
        """
        org = validation.validate_org_id(organization_id)
        name = (name or "").strip() or None
        if name and len(name) > 100:
            raise InvalidInput("The name is too long (100 characters at most).", action="Use a shorter name.")
        with self._org_lock(org):
            existing = self.store.list_integrations(org, include_inactive=True)
            if request_id:
                for row in existing:
                    if row.settings.get(K_REQUEST) == request_id:
                        return self._finish(row, actor=actor, user_jwt=user_jwt)
            # The platform keeps one client per organisationId: once an active number uses the plain id,
            # a further number is created under a sub-organisation id.
            plain_taken = any(r.is_active and not r.sub_org_id for r in existing)
            settings: dict = {}
            if plain_taken:
                settings[K_SUB_ORG] = f"{org}__wpp__{_secrets.token_hex(4)}"
            if request_id:
                settings[K_REQUEST] = request_id
            row = self.store.create(org, name=name, settings=settings)
            self._log("create", actor, row, "ok", "row saved; creating the client on the platform")
            return self._finish(row, actor=actor, user_jwt=user_jwt)

    def resume(self, integration_id: str, *, actor: str, user_jwt: str | None = None) -> CreateOutcome:
        """Finish a half-done create: create on the platform (idempotent there) and/or mint the first token."""
        row = self.store.get(integration_id)
        with self._org_lock(row.organization_id):
            return self._finish(self.store.get(integration_id), actor=actor, user_jwt=user_jwt, resumed=True)

    def _finish(self, row: Integration, *, actor: str, user_jwt: str | None, resumed: bool = False) -> CreateOutcome:
        action = "resume" if resumed else "create"
        created = False
        if not (row.api_key and row.session):
            platform_org = row.sub_org_id or row.organization_id
            try:
                cc = self.client.create_client(platform_org, secret=self.secret, user_jwt=user_jwt)
            except WppError as err:
                self._record_error(row, err)
                self._log(action, actor, row, "error", f"platform create failed: {err.message}")
                return CreateOutcome(self.store.get(row.id), False, False, err)
            # Saved the moment the platform answers: losing these would orphan the client.
            row = self.store.merge_settings(row.id, {K_API_KEY: cc.api_key.reveal(), K_SESSION: cc.session})
            created = True
            self._log(action, actor, row, "ok", f"platform client created, session {cc.session}")
        now = self.clock.time()
        saved = stored_token(row, now)
        if saved and _tokens.is_usable(saved.expires_at_ms, now):
            return CreateOutcome(self.store.update(row.id, clear_error=True), created, True)
        try:
            self.tokens.get(row.id, row.api_key, stored=saved)
        except WppError as err:
            self._record_error(row, err)
            self._log(action, actor, row, "error", f"first token not obtained: {err.message}")
            return CreateOutcome(self.store.get(row.id), created, False, err)
        row = self.store.update(row.id, clear_error=True)
        self._log(action, actor, row, "ok", "first token saved")
        return CreateOutcome(row, created, True)

    # -- pairing -----------------------------------------------------------------------------------
    def start_pairing(self, integration_id: str, *, actor: str, token_cache: MutableMapping | None = None) -> PairingView:
        row = self.store.get(integration_id)
        try:
            res = self.client.start_account(self._session(row), self._auth(row, token_cache))
        except WppError as err:
            self._record_error(row, err)
            self._log("pair", actor, row, "error", f"start failed: {err.message}")
            raise
        finally:
            self._remember(row, token_cache)
        self._log("pair", actor, row, "ok", "pairing started")
        return self.pairing_state(integration_id, token_cache=token_cache, start_result=res)

    def pairing_state(self, integration_id: str, *, token_cache: MutableMapping | None = None,
                      start_result=None) -> PairingView:
        """Status and, while waiting for a scan, the current QR as PNG. Errors are returned, not raised."""
        row = self.store.get(integration_id)
        try:
            auth = self._auth(row, token_cache)
            session = self._session(row)
            status = self.client.get_status(session, auth)
            payload = None
            if status.state is not ConnState.CONNECTED:
                payload = (start_result.qr if start_result and start_result.qr else None) or self.client.get_qr(session, auth)
        except WppError as err:
            return PairingView(row, None, error=err)
        finally:
            self._remember(row, token_cache)
        view = PairingView(row, status)
        if payload:
            now = self.clock.time()
            seen = self._qr_seen.get(row.id)
            if not seen or seen[0] != payload:
                seen = (payload, now)
                self._qr_seen[row.id] = seen
            view.qr_payload = payload
            view.qr_seen_at = seen[1]
            view.qr_expires_in = max(0.0, self.qr_lifetime_s - (now - seen[1]))
            try:
                view.qr_png = _qr.qr_to_png(payload)
            except WppError as err:
                view.error = err
        elif status.connected:
            self._qr_seen.pop(row.id, None)
        return view

    def simulate_scan(self, integration_id: str) -> bool:
        """Demo mode only: act as the phone, scanning the QR currently shown."""
        if self.simulator is None:
            raise InvalidInput("There is no simulated phone: this console is connected to the real platform.")
        row = self.store.get(integration_id)
        session = self._session(row)
        text = self.simulator.current_qr(session)
        return bool(text) and self.simulator.scan(session, text)

    def stop(self, integration_id: str, *, actor: str, token_cache: MutableMapping | None = None) -> None:
        row = self.store.get(integration_id)
        try:
            self.client.stop_session(self._session(row), self._auth(row, token_cache))
        except WppError as err:
            self._record_error(row, err)
            self._log("stop", actor, row, "error", err.message)
            raise
        finally:
            self._remember(row, token_cache)
        self._log("stop", actor, row, "ok", "session stopped (phone disconnected)")

    def rename(self, integration_id: str, name: str, *, actor: str) -> Integration:
        name = (name or "").strip()
        if not name or len(name) > 100:
            raise InvalidInput("A name needs 1 to 100 characters.", action="Type a short name, e.g. \u201cFront desk\u201d.")
        row = self.store.update(integration_id, name=name)
        self._log("rename", actor, row, "ok", f"renamed to {name}")
        return row

    def deactivate(self, integration_id: str, *, actor: str) -> Integration:
        row = self.store.deactivate(integration_id)
        self._log("deactivate", actor, row, "ok", "removed from the list (kept in the database)")
        return row

    # -- fleet -------------------------------------------------------------------------------------
    def check_status(self, row: Integration, token_cache: MutableMapping | None = None) -> FleetRow:
        now = self.clock.time()
        try:
            status = self.client.get_status(self._session(row), self._auth(row, token_cache))
            err = None
        except WppError as e:
            status, err = None, e
        cached = self.tokens.cached(row.id) or stored_token(row, self.clock.time())
        return FleetRow(row, status, err, now, cached.expires_at_ms if cached else None)

    def fleet_status(self, rows: list[Integration] | None = None, *,
                     token_cache: MutableMapping | None = None) -> list[FleetRow]:
        """Status of every number, asked concurrently (bounded by ``fleet_concurrency``), in input order."""
        rows = self.list_numbers() if rows is None else rows
        out = list(self._pool.map(lambda r: self.check_status(r), rows))
        if token_cache is not None:
            for r in rows:
                self._remember(r, token_cache)
        return out

    # -- tokens ------------------------------------------------------------------------------------
    def token_report(self, integration_id: str | None = None, *, pasted: str | None = None) -> TokenReport:
        now = self.clock.time()
        stored_session = None
        if pasted is not None:
            token = pasted.strip()
            if not token:
                raise InvalidInput("Paste a token first.", action="Copy the whole token (three parts separated by dots).")
            info = _tokens.decode_jwt(token, key=self.jwt_verify_key, now=now)
            exp_ms, source = _tokens.expiry_from(token, None, now)
        else:
            row = self.store.get(integration_id)
            stored_session = row.session
            cached = self.tokens.cached(row.id)
            st = stored_token(row, self.clock.time())
            best = max([t for t in (cached, st) if t], key=lambda t: t.expires_at_ms, default=None)
            if best is None:
                return TokenReport(None, "—", None, None, None, False, None, stored_session,
                                   ["No token is saved for this number yet."])
            token = best.token.reveal()
            info = _tokens.decode_jwt(token, key=self.jwt_verify_key, now=now)
            exp_ms = best.expires_at_ms
            source = best.expiry_source
            if source == "stored":
                source = "exp" if info.expires_at else "stored"
        problems = list(info.problems)
        if stored_session and info.subject and str(info.subject) != stored_session:
            problems.append(
                f"The token belongs to session {info.subject}, but this number's saved session is {stored_session}."
            )
        left = exp_ms / 1000.0 - now if exp_ms else None
        return TokenReport(
            info=info,
            token_masked=mask(token),
            token=token,
            expires_at_ms=exp_ms,
            expiry_source=source,
            usable=bool(exp_ms and _tokens.is_usable(exp_ms, now)),
            seconds_left=left,
            stored_session=stored_session,
            problems=problems,
        )

    def refresh_token(self, integration_id: str, *, actor: str, token_cache: MutableMapping | None = None) -> MintedToken:
        row = self.store.get(integration_id)
        if not row.api_key:
            raise InvalidInput("This number has no API key yet, so no token can be made.",
                               action="Open Connect a number and press \u201cFinish creating\u201d.")
        current = self.tokens.cached(row.id) or stored_token(row, self.clock.time())
        try:
            minted = self.tokens.refresh(row.id, row.api_key, stale=current.token.reveal() if current else None)
        except WppError as err:
            self._record_error(row, err)
            self._log("refresh", actor, row, "error", err.message)
            raise
        if token_cache is not None:
            token_cache[row.id] = minted
        self.store.update(row.id, clear_error=True)
        self._log("refresh", actor, row, "ok", f"new token, expires in {int(minted.seconds_left(self.clock.time()))} s")
        return minted

    def test_token(self, integration_id: str, *, actor: str) -> TokenTest:
        """One real call with the token as it is now (no automatic refresh), and a diagnosis."""
        row = self.store.get(integration_id)
        current = self.tokens.cached(row.id) or stored_token(row, self.clock.time())
        if current is None:
            d = Diagnosis("no_token", "No token saved", "This number has no access token yet.",
                          "Press \u201cRefresh now\u201d to get one.")
            return TokenTest(False, None, d)
        token = current.token.reveal()
        try:
            status = self.client.get_status(self._session(row), token)
        except WppError as err:
            d = self.diagnose(err, token)
            self._log("test", actor, row, "error", d.title)
            return TokenTest(False, None, d)
        d = Diagnosis("ok", "The token works", f"The platform accepted it and says the number is: {status.label}.",
                      "Nothing to do.")
        self._log("test", actor, row, "ok", d.explanation)
        return TokenTest(True, status, d)

    def diagnose(self, err: WppError, token: str | None = None) -> Diagnosis:
        now = self.clock.time()
        if isinstance(err, InvalidToken):
            info = None
            if token:
                try:
                    info = _tokens.decode_jwt(token, key=self.jwt_verify_key, now=now)
                except WppError:
                    info = None
            if info is None:
                return Diagnosis("malformed", "The token is not a readable token",
                                 "What is saved is not a valid JWT, so the platform refused it.",
                                 "Press \u201cRefresh now\u201d to replace it with a new one.")
            if info.expires_at and info.expires_at <= now:
                ago = int(now - info.expires_at)
                return Diagnosis("expired", "The token has expired",
                                 f"It stopped working {ago} s ago. Tokens live about 15 minutes.",
                                 "Press \u201cRefresh now\u201d. The console also does this by itself when needed.")
            return Diagnosis("rejected", "The platform does not recognise this token",
                             "It has not expired, so it was made for another platform or with an API key that has "
                             "since been replaced (or it was forged).",
                             "Press \u201cRefresh now\u201d. If the refresh is refused too, create the number again.")
        if isinstance(err, InvalidApiKey):
            return Diagnosis("api_key_rejected", "The API key was rejected",
                             "The platform no longer accepts this number's API key, so no new token can be made.",
                             "If the number was created in the last minute wait a few seconds and retry; "
                             "otherwise create the number again.")
        if isinstance(err, PlatformUnreachable):
            return Diagnosis("unreachable", "The platform cannot be reached",
                             err.message, "Check the internet connection and try again in a minute.")
        return Diagnosis("platform_error", "The platform answered with an error", err.message, err.action)

    # -- messages ----------------------------------------------------------------------------------
    def preview_recipient(self, raw: str) -> str:
        """The digits that will be used, for showing before sending (raises InvalidInput)."""
        return _phone.normalize_phone(raw)

    def send_test(self, integration_id: str, to: str, text: str, *, actor: str, priority: str | None = None,
                  token_cache: MutableMapping | None = None) -> SendResult:
        digits = _phone.normalize_phone(to)
        text = validation.validate_message_text(text)
        row = self.store.get(integration_id)
        try:
            res = self.client.send_text(digits, text, self._auth(row, token_cache), priority=priority)
        except WppError as err:
            self._record_error(row, err)
            self._log("send", actor, row, "error", f"to {_phone.describe_phone(digits)}: {err.message}")
            raise
        finally:
            self._remember(row, token_cache)
        self._log("send", actor, row, "ok", f"to {_phone.describe_phone(digits)}, task {res.task_id}")
        return res

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def build_service(settings, *, store=None, simulator=None, clock=SYSTEM_CLOCK) -> WppService:
    """Wire client, store and token manager from Settings (used by the app and the CLI)."""
    from .store import open_store

    base_url = settings.wpp_base_url or (simulator.base_url if simulator else None)
    if not base_url:
        raise InvalidInput("No platform address is configured.", action="Set WPP_BASE_URL, or run in demo mode.")
    secret = reveal(settings.wpp_secret) or (simulator.secret if simulator else None)
    client = WppClient(base_url, timeout=settings.http_timeout, secret=secret,
                       max_connections=max(64, settings.fleet_concurrency), clock=clock)
    if store is None:
        store = open_store(
            supabase_url=settings.supabase_url,
            supabase_key=reveal(settings.supabase_key),
            database_url=reveal(settings.database_url),
            sqlite_path=(None if not settings.data_dir else f"{settings.data_dir}/wpp-console.db"),
        )
    return WppService(
        client,
        store,
        secret=secret,
        clock=clock,
        fleet_concurrency=settings.fleet_concurrency,
        activation_wait_s=settings.activation_wait_s,
        qr_lifetime_s=(settings.sim_qr_rotate_s if simulator else 20.0),
        jwt_verify_key=reveal(settings.jwt_verify_key),
        simulator=simulator,
        poll_seconds=settings.poll_seconds,
    )
