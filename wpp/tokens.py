"""The platform access key (JWT) of each number: one owner decides which one is current and gets a new one.

:class:`TokenManager` is the only place that knows where a number's token lives and which one is current:

* the browser session's cache (a ``dict``-like ``id -> MintedToken`` the page hands over: ``st.session_state``),
* this process's cache,
* the number's row in the store (``settings`` keys :data:`wpp.keys.JWT` / :data:`wpp.keys.JWT_EXPIRES_AT`).

``token_for`` uses the best usable one of the three (the seed rule: while ``now < expires_at - 60 s``). When none
is usable it mints a new one exactly once per lifetime, however many threads, tabs and replicas ask at once:

1. a per-process lock per number (threads of one process share one mint), then a re-check;
2. ``store.token_mint_lock(id)`` (processes sharing the database mint one at a time: an advisory lock on
   PostgreSQL, a lease row elsewhere), then the row is READ AGAIN: another replica may have minted meanwhile;
3. ``POST /auth/token`` (with back-off while a just-created platform key is not accepted yet), then the new token
   goes back to the store (only the two token keys, ``merge_settings``), this process's cache and the session.
   A failed write-back is logged and the token kept: losing it would only cost another mint.

``auth()`` gives an ``httpx.Auth`` that sends the current token and, on a 401, refreshes once and retries once.

What the platform answers to calls made with a number's keys is evidence the console keeps, for every replica:

* a refusal (``401 Invalid token`` even with a fresh access key, or ``403 Invalid API key`` from ``/auth/token``) opens
  an *episode*: the row's :data:`wpp.keys.KEY_EVIDENCE` says "refused" (kind, since, status, the platform's words),
  written once with one diary line, and removed, with one more line, when a call with the number's access key is
  accepted again (a mint, for a refused permanent key). Nothing is written while calls are accepted: this process
  remembers when it last saw one (:meth:`TokenManager.last_accepted`), the status board says when the last check
  succeeded;
* a refusal cured at once by the automatic renewal is one diary line (at most one an hour per number);
* the routine renewal of a key that ran out is one diary line a day per number (:data:`RENEWAL_LINE_EVERY_S`).
"""
from __future__ import annotations

import contextlib
import logging
import threading
from typing import TYPE_CHECKING, Any, Generator, MutableMapping

import httpx

from . import keys
from .client import WppClient
from .clock import SYSTEM_CLOCK
from .errors import InvalidApiKey, InvalidInput, StoreError, WppError
from .i18n import N_, N_n, Text
from .jwtinfo import MARGIN_S, is_usable, jwt_expiry_ms
from .masking import Secret, reveal, scrub
from .models import ActivityEntry, Integration, MintedToken

if TYPE_CHECKING:  # pragma: no cover
    from .store.base import IntegrationStore

log = logging.getLogger("wpp.tokens")

#: what a page hands over as its session cache: integration id -> MintedToken
SessionCache = MutableMapping[str, Any]

#: who the diary says did what the console did by itself (shown as the console's name, ``wpp.glossary``)
CONSOLE_ACTOR = "WPP Console"
#: the routine renewal of a key that ran out is written to the diary at most this often per number (seconds)
RENEWAL_LINE_EVERY_S = 24 * 3600.0
#: a refusal cured at once by the automatic renewal is written at most this often per number (seconds)
CURED_LINE_EVERY_S = 3600.0
#: the kinds of refusal (:data:`wpp.keys.KEY_EVIDENCE`): the access key (with a fresh one too), the permanent key
REFUSED_TOKEN = "token"
REFUSED_API_KEY = "api_key"


def accepted_status(status: int) -> bool:
    """Whether an answer to a call made with an access key says the platform accepted the key: any answer but a
    refusal (401, 403) or the platform's own failure (5xx), which says nothing about the key."""
    return status < 500 and status not in (401, 403)


def stored_token(integration: Integration) -> MintedToken | None:
    """The token saved in the number's row, or None.

    Its expiry is ``wppJwtExpiresAt`` (``expiry_source="stored"``); without one, the JWT's own ``exp``
    (``"exp"``); a saved token that says nowhere when it expires is not trusted (None: a new one is minted).
    """
    token = integration.settings.get(keys.JWT)
    if not isinstance(token, str) or not token.strip():
        return None
    exp_ms, source = integration.jwt_expires_at_ms, "stored"
    if exp_ms is None:
        exp_ms, source = jwt_expiry_ms(token), "exp"
    if exp_ms is None:
        return None
    return MintedToken(token=Secret(token), expires_at_ms=int(exp_ms), expiry_source=source, obtained_at_ms=0)


def _later(a: MintedToken | None, b: MintedToken | None) -> MintedToken | None:
    """The one that expires later (``a`` on a tie)."""
    if b is None:
        return a
    if a is None or b.expires_at_ms > a.expires_at_ms:
        return b
    return a


class TokenManager:
    """The one owner of every number's platform token (see the module docstring). Thread-safe; one per process."""

    def __init__(
        self,
        client: WppClient,
        store: "IntegrationStore",
        *,
        clock=SYSTEM_CLOCK,
        margin_s: float = MARGIN_S,
        activation_wait_s: float = 15.0,
        lock_timeout_s: float = 30.0,
        first_backoff_s: float = 0.5,
    ):
        self.client = client
        self.store = store
        self.clock = clock
        self.margin_s = margin_s
        self.activation_wait_s = activation_wait_s
        self.lock_timeout_s = lock_timeout_s
        self.first_backoff_s = first_backoff_s
        self._cache: dict[str, MintedToken] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        #: calls to POST /auth/token made by this process, by outcome ("ok", "failed"; /_wpp/metrics)
        self.mints: dict[str, int] = {"ok": 0, "failed": 0}
        #: refusal episodes this process knows are open: id -> kind (the store's marker is the truth for all)
        self._refusals: dict[str, str] = {}
        #: (id, kind of line) -> when this process last wrote a throttled diary line
        self._lines: dict[tuple[str, str], float] = {}
        #: id -> when this process last saw the platform accept a call with the number's access key (Unix ms)
        self._accepted_seen: dict[str, int] = {}
        #: numbers whose open refusal episode includes a brand-new access key refused too (this process knows)
        self._fresh_refused: set[str] = set()

    def __repr__(self) -> str:
        return f"TokenManager(numbers={len(self._cache)}, margin_s={self.margin_s})"

    # --- the caches ---------------------------------------------------------------------------------------------
    def cached(self, integration_id: str) -> MintedToken | None:
        """This process's token for a number (usable or not), None if it has none."""
        with self._guard:
            return self._cache.get(integration_id)

    def forget(self, integration_id: str, *, session: SessionCache | None = None) -> None:
        """Drop the number's token from this process's cache (and ``session``'s). The store keeps its copy."""
        with self._guard:
            self._cache.pop(integration_id, None)
        if session is not None:
            session.pop(integration_id, None)

    def usable(self, token: MintedToken | None) -> bool:
        """The seed rule, on this manager's clock and margin."""
        return token is not None and is_usable(token.expires_at_ms, self.clock.time(), self.margin_s)

    def current(self, integration: "Integration | str", *, session: SessionCache | None = None) -> MintedToken | None:
        """The best token known without asking anyone (session, process, the given row), usable or not."""
        row = self._row(integration)
        return self._known(row, session)

    def _row(self, integration: "Integration | str") -> Integration:
        if isinstance(integration, Integration):
            return integration
        return self.store.get(str(integration))

    def _lock_for(self, integration_id: str) -> threading.Lock:
        with self._guard:
            lock = self._locks.get(integration_id)
            if lock is None:
                lock = self._locks[integration_id] = threading.Lock()
            return lock

    def _candidates(self, row: Integration, session: SessionCache | None,
                    stored: MintedToken | None = None) -> list[MintedToken]:
        """This process's, the session's and the row's token (those that exist), in that order."""
        from_session = session.get(row.id) if session is not None else None
        with self._guard:
            found = [self._cache.get(row.id), from_session if isinstance(from_session, MintedToken) else None,
                     stored if stored is not None else stored_token(row)]
        return [t for t in found if t is not None]

    def _known(self, row: Integration, session: SessionCache | None, *, stored: MintedToken | None = None) -> MintedToken | None:
        """The latest-expiring of the session's, this process's and the row's token; the process cache (and the
        session) are brought up to it."""
        best = None
        for token in self._candidates(row, session, stored):
            best = _later(best, token)
        if best is not None:
            self._adopt(row.id, best, session)
        return best

    def _fresher_than(self, stale: str, row: Integration, session: SessionCache | None, *,
                      stored: MintedToken | None = None) -> MintedToken | None:
        """A usable token other than ``stale`` (someone refreshed already), the latest-expiring; adopted."""
        best = None
        for token in self._candidates(row, session, stored):
            if self.usable(token) and token.token.reveal() != stale:
                best = _later(best, token)
        if best is not None:
            self._adopt(row.id, best, session)
        return best

    def _adopt(self, integration_id: str, token: MintedToken, session: SessionCache | None) -> None:
        with self._guard:
            if self._cache.get(integration_id) is not token:
                self._cache[integration_id] = token
        if session is not None and session.get(integration_id) is not token:
            session[integration_id] = token

    # --- the public API -----------------------------------------------------------------------------------------
    def token_for(self, integration: "Integration | str", *, session: SessionCache | None = None) -> MintedToken:
        """A usable token for the number: the best known one, or a new one minted once for everyone."""
        row = self._row(integration)
        best = self._known(row, session)
        if self.usable(best):
            return best  # type: ignore[return-value]
        with self._lock_for(row.id):
            best = self._known(row, session)  # another thread may have minted while we waited
            if self.usable(best):
                return best  # type: ignore[return-value]
            return self._mint_shared(row, session, stale=None, force=False,
                                     reason="expired" if best is not None else "first")

    def refresh(self, integration: "Integration | str", *, stale: "str | Secret | MintedToken | None" = None,
                session: SessionCache | None = None, reason: str = "refused") -> MintedToken:
        """A new token now (after a 401: ``reason="refused"``, or "Get a new access key": ``"asked"``).

        ``stale`` is the token the caller found wanting: when the current one already differs from it (another
        caller, in this process or another replica, refreshed meanwhile) and is usable, that one is returned and
        nothing is minted. Without ``stale`` a new token is always minted.
        """
        if isinstance(stale, MintedToken):
            stale = stale.token
        stale_text = reveal(stale) if stale is not None else None
        row = self._row(integration)
        with self._lock_for(row.id):
            if stale_text is not None:
                fresher = self._fresher_than(stale_text, row, session)
                if fresher is not None:
                    return fresher
            return self._mint_shared(row, session, stale=stale_text, force=True, reason=reason)

    def auth(self, integration: "Integration | str", *, session: SessionCache | None = None) -> "TokenAuth":
        """An ``httpx.Auth`` for calls on behalf of the number: its current token; one refresh and one retry on 401."""
        return TokenAuth(self, self._row(integration), session=session)

    # --- minting ------------------------------------------------------------------------------------------------
    def _mint_shared(self, row: Integration, session: SessionCache | None, *, stale: str | None,
                     force: bool, reason: str = "asked") -> MintedToken:
        """Mint under the store's lock for this number, unless the re-read row shows another replica did.
        Caller holds the number's process lock."""
        with contextlib.ExitStack() as held:
            try:
                held.enter_context(self.store.token_mint_lock(row.id, timeout_s=self.lock_timeout_s))
            except StoreError as exc:
                # The database lock cannot be had (database down, or a holder stuck past the timeout): a token now
                # is worth more than the one-mint rule, so mint under the process lock only.
                log.warning("token mint lock for %s unavailable (%s: %s); minting without it", row.id,
                            type(exc).__name__, (exc.detail or exc.english)[:200])
                return self._mint(row, row, session, reason=reason)
            try:
                fresh = self.store.get(row.id)
            except StoreError as exc:
                log.warning("re-reading %s before a mint failed (%s: %s); minting anyway", row.id,
                            type(exc).__name__, (exc.detail or exc.english)[:200])
                fresh = row
            stored = stored_token(fresh)
            if self.usable(stored):
                # another replica may have minted while we waited for the lock
                if not force:
                    best = self._known(fresh, session, stored=stored)
                    if self.usable(best):
                        return best  # type: ignore[return-value]
                elif stale is not None and stored.token.reveal() != stale:  # type: ignore[union-attr]
                    self._adopt(row.id, stored, session)  # type: ignore[arg-type]
                    return stored  # type: ignore[return-value]
            return self._mint(fresh, row, session, reason=reason)

    def _mint(self, fresh: Integration, row: Integration, session: SessionCache | None, *,
              reason: str = "asked") -> MintedToken:
        api_key = fresh.api_key or row.api_key
        if not api_key:
            raise InvalidInput(
                N_("This number has no permanent key yet, so no access key can be made."),
                action=N_("Open \u201cConnect a number\u201d and finish connecting it."),
            )
        try:
            minted = self.mint_with_backoff(api_key)
        except InvalidApiKey as err:
            self.note_refused(fresh, kind=REFUSED_API_KEY, status=err.status, said=getattr(err, "said", None))
            raise
        self._adopt(row.id, minted, session)
        if (fresh.key_refused or {}).get("kind") == REFUSED_API_KEY or self._open_kind(row.id) == REFUSED_API_KEY:
            self._end_api_key_refusal(fresh)
        if reason == "expired" and self._due(row.id, "renewal", RENEWAL_LINE_EVERY_S):
            minutes = max(1, int(round(minted.seconds_left(self.clock.time()) / 60.0)))
            self._diary(row, "key_renewed", True, N_n(
                "The console renewed the number's access key by itself, as it does about every {n} minute (this line "
                "is written once a day).",
                "The console renewed the number's access key by itself, as it does about every {n} minutes (this line "
                "is written once a day).", minutes))
        log.info("new token for %s (expires in %.0f s, source %s)", row.id,
                 minted.seconds_left(self.clock.time()), minted.expiry_source)
        try:
            self.store.merge_settings(row.id, {keys.JWT: minted.token.reveal(),
                                               keys.JWT_EXPIRES_AT: int(minted.expires_at_ms)})
        except Exception as exc:  # the write-back failing must not lose the token  # noqa: BLE001
            log.warning("saving the new token for %s failed: %s: %s", row.id, type(exc).__name__,
                        scrub(str(exc), [minted.token.reveal(), reveal(api_key)])[:300])
        return minted

    def _counted_mint(self, api_key: "str | Secret") -> MintedToken:
        ok = False
        try:
            minted = self.client.mint_token(api_key)
            ok = True
            return minted
        finally:
            with self._guard:
                self.mints["ok" if ok else "failed"] += 1

    # --- what the platform answered: evidence every replica sees, and the diary's lines --------------------
    def _open_kind(self, integration_id: str) -> str | None:
        with self._guard:
            return self._refusals.get(integration_id)

    def _due(self, integration_id: str, line: str, every_s: float) -> bool:
        """Whether a throttled diary line of this kind may be written for this number now (and note that it is)."""
        now = self.clock.time()
        with self._guard:
            last = self._lines.get((integration_id, line))
            if last is not None and 0 <= now - last < every_s:
                return False
            self._lines[(integration_id, line)] = now
            if len(self._lines) > 10000:
                self._lines.clear()
            return True

    def _diary(self, row: Integration, action: str, ok: bool, message: Text) -> None:
        try:
            self.store.log_activity(ActivityEntry(
                action=action, outcome="ok" if ok else "error", actor=CONSOLE_ACTOR, integration_id=row.id,
                organization_id=row.organization_id, detail=message.english, message=message.to_json()))
        except Exception as exc:  # noqa: BLE001 - the diary is a record; the call itself goes on
            log.warning("could not write the diary line %s for %s: %s", action, row.id, type(exc).__name__)

    def _fresh(self, row: Integration) -> Integration:
        try:
            return self.store.get(row.id)
        except WppError:
            return row

    def note_refused(self, integration: "Integration | str", *, kind: str = REFUSED_TOKEN, status: int | None = None,
                     said: str | None = None, renewed: str | None = None) -> None:
        """The platform refused a call made with the number's key: ``kind`` :data:`REFUSED_TOKEN` (its access key,
        a fresh one too when ``renewed`` is ``"refused"``) or :data:`REFUSED_API_KEY` (``/auth/token`` refused its
        permanent key). Opens the refusal episode once, for every replica: the row's evidence and one diary line;
        later refusals of the same kind in the same episode write nothing. Never raises."""
        try:
            row = self._row(integration)
        except WppError:
            return
        fresh_too = renewed == "refused"
        with self._guard:
            known = self._refusals.get(row.id)
            if known == kind and (not fresh_too or row.id in self._fresh_refused):
                return
        current = self._fresh(row)
        marker = current.key_refused
        if marker is not None and marker.get("kind") == kind:  # begun already (here or by another replica)
            if fresh_too and not marker.get("fresh"):
                try:  # a brand-new access key is refused too: the stale-key incident
                    self.store.merge_settings(row.id, {keys.KEY_EVIDENCE: dict(marker, fresh=True)})
                except Exception as exc:  # noqa: BLE001
                    log.warning("could not note the refusal of %s's new key: %s", row.id, type(exc).__name__)
            with self._guard:
                self._refusals[row.id] = kind
                if fresh_too or marker.get("fresh"):
                    self._fresh_refused.add(row.id)
            return
        since = int(self.clock.time() * 1000)
        words = scrub(str(said), [s for s in (current.api_key, current.jwt) if s])[:200] if said else None
        evidence = {"verdict": "refused", "kind": kind, "since": since, "status": status, "said": words}
        if fresh_too:
            evidence["fresh"] = True
        try:
            self.store.merge_settings(row.id, {keys.KEY_EVIDENCE: evidence})
        except Exception as exc:  # noqa: BLE001 - the diary still tells
            log.warning("could not note the refusal of %s's key: %s", row.id, type(exc).__name__)
        with self._guard:
            self._refusals[row.id] = kind
            if fresh_too:
                self._fresh_refused.add(row.id)
            else:
                self._fresh_refused.discard(row.id)
        if kind == REFUSED_API_KEY:
            text = N_("The platform refuses the number's permanent key: no new access key can be made for it.")
        elif renewed == "refused":
            text = N_("The platform refused the number's access key, and the new one the console got by itself too. "
                      "See \u201cAccess\u201d.")
        else:
            text = N_("The platform refused the number's access key. See \u201cAccess\u201d.")
        self._diary(row, "key_refused", False, text)

    def note_cured(self, integration: "Integration | str") -> None:
        """A refusal the automatic renewal cured at once (the new access key was accepted): one diary line an hour
        per number at most."""
        try:
            row = self._row(integration)
        except WppError:
            return
        if self._due(row.id, "cured", CURED_LINE_EVERY_S):
            self._diary(row, "key_renewed", True, N_(
                "The platform refused the number's access key; the console got a new one by itself, and the platform "
                "accepted it."))

    def last_accepted(self, integration_id: str) -> float | None:
        """When this process last saw the platform accept a call with the number's access key (Unix s), or None."""
        with self._guard:
            ms = self._accepted_seen.get(integration_id)
        return ms / 1000.0 if ms is not None else None

    def note_accepted(self, integration: "Integration | str") -> None:
        """A call made with the number's access key was accepted (remembered in this process). A refusal of the
        access key ends: its evidence is removed from the row, with one diary line. Costs nothing (no store access)
        while no refusal is open. Never raises."""
        row = integration if isinstance(integration, Integration) else None
        iid = row.id if row is not None else str(integration)
        with self._guard:
            self._accepted_seen[iid] = int(self.clock.time() * 1000)
            if len(self._accepted_seen) > 100_000:
                self._accepted_seen.clear()
            open_kind = self._refusals.get(iid)
        refused_in_row = row is not None and (row.key_refused or {}).get("kind") == REFUSED_TOKEN
        if open_kind != REFUSED_TOKEN and not refused_in_row:
            return
        try:
            row = row if row is not None else self._row(iid)
        except WppError:
            return
        fresh = self._fresh(row)
        marker = fresh.key_refused
        if marker is not None and marker.get("kind") == REFUSED_API_KEY:
            return  # an access key made earlier still works; the permanent key's refusal ends with a mint
        with self._guard:
            if self._refusals.get(iid) == REFUSED_TOKEN:
                del self._refusals[iid]
            self._fresh_refused.discard(iid)
        if marker is None:
            return  # ended already (by another replica)
        try:
            self.store.merge_settings(row.id, {keys.KEY_EVIDENCE: None})
        except Exception as exc:  # noqa: BLE001
            log.warning("could not note that %s's key is accepted again: %s", row.id, type(exc).__name__)
            return
        self._diary(row, "key_accepted", True, N_("The platform accepts the number's access key again."))

    def _end_api_key_refusal(self, row: Integration) -> None:
        """A mint worked: a refusal of the permanent key ends (one diary line)."""
        with self._guard:
            if self._refusals.get(row.id) == REFUSED_API_KEY:
                del self._refusals[row.id]
        fresh = self._fresh(row)
        if (fresh.key_refused or {}).get("kind") != REFUSED_API_KEY:
            return  # ended already (by another replica)
        try:
            self.store.merge_settings(row.id, {keys.KEY_EVIDENCE: None})
        except Exception as exc:  # noqa: BLE001
            log.warning("could not note that %s's permanent key is accepted again: %s", row.id, type(exc).__name__)
            return
        self._diary(row, "key_accepted", True, N_("The platform accepts the number's permanent key again."))

    def mint_with_backoff(self, api_key: "str | Secret") -> MintedToken:
        """``client.mint_token`` retried on ``InvalidApiKey`` (a just-created key is sometimes not
        accepted for a few seconds): waits 0.5, 1, 2, 4 … s until ``activation_wait_s`` in total."""
        start = self.clock.time()
        delay = self.first_backoff_s
        attempts = 0
        while True:
            attempts += 1
            try:
                return self._counted_mint(api_key)
            except InvalidApiKey as exc:
                waited = self.clock.time() - start
                remaining = self.activation_wait_s - waited
                if remaining <= 0 or self.activation_wait_s <= 0:
                    if attempts == 1:
                        raise
                    seconds = int(round(waited))
                    final = InvalidApiKey(
                        N_n("The platform refused the number's permanent key, even after retrying for {n} second.",
                            "The platform refused the number's permanent key, even after retrying for {n} seconds.",
                            seconds),
                        status=exc.status,
                        detail=f"{exc.detail}\n{attempts} attempts in {waited:.1f} s".strip(),
                        secrets=[reveal(api_key)],
                    )
                    final.said = exc.said
                    raise final from None
                pause = min(delay, remaining)
                log.info("platform key not accepted yet; retrying in %.1f s (attempt %d)", pause, attempts)
                self.clock.sleep(pause)
                delay *= 2


class TokenAuth(httpx.Auth):
    """Bearer auth from a :class:`TokenManager`; on a 401 refreshes once and retries once.

    The work that is not the request itself (the locks, a mint) happens in :meth:`sync_auth_flow`, as httpx
    advises. A 401's body is read before the refresh so its connection goes back to the pool first: with many
    threads waiting on one refresh, held connections could exhaust the pool.
    """

    def __init__(self, manager: TokenManager, integration: Integration, *, session: SessionCache | None = None):
        self.manager = manager
        self.integration = integration
        self.session = session
        self._seen: list[str] = []
        self.retried = False

    def __repr__(self) -> str:
        return f"TokenAuth(number={self.integration.id!r})"

    def known_secrets(self) -> list[str]:
        """Everything this auth may have put on the wire, for scrubbing error texts."""
        return [s for s in (self.integration.api_key, *self._seen) if s]

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        minted = self.manager.token_for(self.integration, session=self.session)
        token = minted.token.reveal()
        self._seen.append(token)
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code != 401:
            if accepted_status(response.status_code):
                self.manager.note_accepted(self.integration)
            return
        response.read()
        log.info("401 on %s %s; refreshing the token once", request.method, request.url.path)
        fresh = self.manager.refresh(self.integration, stale=token, session=self.session, reason="refused")
        new_token = fresh.token.reveal()
        self._seen.append(new_token)
        self.retried = True
        request.headers["Authorization"] = f"Bearer {new_token}"
        response = yield request  # a second 401 is returned as is; the client turns it into InvalidToken
        if response.status_code == 401:
            response.read()
            self.manager.note_refused(self.integration, kind=REFUSED_TOKEN, status=401,
                                      said=platform_words(response), renewed="refused")
        elif accepted_status(response.status_code):
            self.manager.note_cured(self.integration)
            self.manager.note_accepted(self.integration)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        raise NotImplementedError("TokenAuth works through sync_auth_flow (an httpx.Client)")
        yield request  # pragma: no cover - makes this a generator

    async def async_auth_flow(self, request: httpx.Request):
        raise NotImplementedError("TokenAuth is for httpx.Client; WPP Console has no async client")
        yield request  # pragma: no cover - makes this an async generator


def platform_words(response: httpx.Response) -> str | None:
    """The platform's own words in an error answer (``{"error": "Invalid token"}`` -> ``Invalid token``), short."""
    from .client import WppClient, _error_text

    body, problem = WppClient._parse(response)
    words = _error_text(body) if problem is None else None
    return words[:200] if words else None


__all__ = ["CONSOLE_ACTOR", "REFUSED_API_KEY", "REFUSED_TOKEN", "SessionCache", "TokenAuth", "TokenManager",
           "accepted_status", "platform_words", "stored_token"]
