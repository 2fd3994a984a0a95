"""Sign-in throttling that cannot be turned against staff (OWASP's advice: growing delays, no hard lockout).

Every wrong password makes the *account* and the *client* (the browser; an opaque key the UI passes, e.g. its
own cookie id or Streamlit's session id) wait a little longer before the next try:

* **per client**, the delay grows fast and far (a few free tries for typos, then 2 s, 4 s, ... up to
  :attr:`Throttle.client_cap_s`, 15 minutes): one browser guessing is slowed to a crawl;
* **per account**, it stays short (:attr:`Throttle.account_cap_s`, 10 seconds at most): someone guessing alice's
  password from many browsers gets one guess per 10 s, and alice herself, from her own browser, signs in after at
  most that wait, however many wrong passwords others typed. There is no lock.

An attempt that comes too early is refused *before* the password is looked at and does not count as a failure:
:class:`SignInThrottled` says how many seconds are left. Unknown names are throttled exactly like real ones.
A success clears the account's and the client's count; counts are also forgotten after a quiet while.

``on_event(event, username, client_key)`` hears ``"success"``, ``"failure"`` and ``"throttled"`` (the service writes
them to the activity log). ``username`` is the name as typed (trimmed; it may be a mistyped name).
"""
from __future__ import annotations

import logging
import math
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator, TypeVar

from ..clock import SYSTEM_CLOCK
from ..errors import AccessDenied
from ..i18n import N_, N_n, Text

log = logging.getLogger("wpp.access")

T = TypeVar("T")

EVENTS: tuple[str, ...] = ("success", "failure", "throttled")


def wait_text(seconds: float) -> Text:
    """``"12 seconds"`` / ``"3 minutes"`` as a lazy, translatable text (whole seconds up to two minutes)."""
    s = max(1, math.ceil(seconds))
    if s < 120:
        return N_n("{n} second", "{n} seconds", s)
    m = math.ceil(s / 60)
    return N_n("{n} minute", "{n} minutes", m)


class SignInRateLimited(AccessDenied):
    """Too many sign-in attempts (the console's own throttle, or Supabase Auth's HTTP 429)."""

    kind = "sign_in_rate_limited"
    default_message = N_("Too many sign-in attempts in a short time.")
    default_action = N_("Wait a few minutes, then try again.")


class SignInThrottled(SignInRateLimited):
    """This attempt came too early after wrong passwords; nothing was checked. ``retry_after``: whole seconds."""

    kind = "sign_in_throttled"

    def __init__(self, retry_after: float):
        self.retry_after = max(1, math.ceil(retry_after))
        super().__init__(
            N_("Too many wrong passwords. Please wait {wait} before signing in again.",
               wait=wait_text(self.retry_after)),
            action=N_("If you have forgotten your password, ask an administrator to set a new one."),
        )


class WrongCredentials(AccessDenied):
    """The name (or email) and password do not match. ``retry_after``: seconds until the next try is accepted."""

    kind = "wrong_credentials"
    default_message = N_("Wrong name or password.")
    default_action = N_("Check the name and the password and try again.")

    def __init__(self, message: "Text | str | None" = None, *, retry_after: float = 0.0, **kw):
        self.retry_after = max(0, math.ceil(retry_after))
        if self.retry_after and "action" not in kw:
            kw["action"] = N_("Check what you typed, then try again in {wait}.", wait=wait_text(self.retry_after))
        super().__init__(message, **kw)


@dataclass
class _Record:
    failures: int = 0
    last_failure: float = 0.0
    not_before: float = 0.0


class Throttle:
    """Growing delays per account and per client. Thread-safe; one per process (shared by every sign-in method).

    ``attempt(username, client_key, check)`` is the whole protocol: refuse early tries, run ``check`` (which
    returns the signed-in result or raises), count a :class:`~wpp.errors.AccessDenied` from it as a failure
    (except :class:`SignInRateLimited`), clear the counts on success. Attempts for one account are checked one at a
    time, so parallel guesses still count one by one.
    """

    #: failures an account may have without any wait (typos), then 1 s, 2 s, 4 s, 8 s, capped
    account_free = 3
    account_cap_s = 10.0
    account_forget_s = 15 * 60.0
    #: failures a client may have without any wait, then 2 s, 4 s, ... capped at 15 minutes
    client_free = 4
    client_cap_s = 15 * 60.0
    client_forget_s = 60 * 60.0
    #: records kept before old ones are dropped (memory bound under a flood of names or clients)
    max_tracked = 20_000

    def __init__(self, *, clock=SYSTEM_CLOCK,
                 on_event: Callable[[str, str, str | None], None] | None = None):
        self._clock = clock
        self._on_event = on_event
        self._lock = threading.Lock()
        self._accounts: dict[str, _Record] = {}
        self._clients: dict[str, _Record] = {}
        self._account_locks: dict[str, list] = {}  # key -> [lock, users]

    # --- the schedule ------------------------------------------------------------------------------------------
    def account_delay(self, failures: int) -> float:
        """Seconds an account waits after ``failures`` consecutive failures."""
        if failures < self.account_free:
            return 0.0
        return min(self.account_cap_s, float(2 ** (failures - self.account_free)))

    def client_delay(self, failures: int) -> float:
        """Seconds a client waits after ``failures`` consecutive failures."""
        if failures < self.client_free:
            return 0.0
        return min(self.client_cap_s, float(2 ** (failures - self.client_free + 1)))

    # --- asking ------------------------------------------------------------------------------------------------
    def wait_for(self, username: str, client_key: str | None = None) -> float:
        """Seconds before an attempt for ``username`` from ``client_key`` is accepted (0: now)."""
        now = self._clock.time()
        with self._lock:
            return self._wait(self._account_key(username), client_key, now)

    def attempt(self, username: str, client_key: str | None, check: Callable[[], T]) -> T:
        """Run ``check`` unless this attempt comes too early (then raise :class:`SignInThrottled`)."""
        account = self._account_key(username)
        shown = str(username).strip()
        with self._account_lock(account):
            now = self._clock.time()
            with self._lock:
                wait = self._wait(account, client_key, now)
            if wait > 0:
                self._emit("throttled", shown, client_key)
                raise SignInThrottled(wait)
            try:
                result = check()
            except SignInRateLimited:
                raise
            except AccessDenied as exc:
                wait = self._failed(account, client_key)
                self._emit("failure", shown, client_key)
                if wait and isinstance(exc, WrongCredentials) and not exc.retry_after:
                    raise WrongCredentials(exc.message_text, retry_after=wait, status=exc.status,
                                           detail=exc.detail) from None
                raise
            self._succeeded(account, client_key)
            self._emit("success", shown, client_key)
            return result

    # --- bookkeeping -------------------------------------------------------------------------------------------
    @staticmethod
    def _account_key(username: str) -> str:
        return str(username or "").strip().casefold()

    def _wait(self, account: str, client_key: str | None, now: float) -> float:
        waits = [0.0]
        rec = self._live(self._accounts, account, self.account_forget_s, now)
        if rec is not None:
            waits.append(rec.not_before - now)
        if client_key:
            rec = self._live(self._clients, client_key, self.client_forget_s, now)
            if rec is not None:
                waits.append(rec.not_before - now)
        return max(waits)

    @staticmethod
    def _live(table: dict[str, _Record], key: str, forget_s: float, now: float) -> _Record | None:
        rec = table.get(key)
        if rec is not None and now - rec.last_failure >= forget_s and now >= rec.not_before:
            del table[key]
            return None
        return rec

    def _failed(self, account: str, client_key: str | None) -> float:
        now = self._clock.time()
        with self._lock:
            self._prune(now)
            rec = self._live(self._accounts, account, self.account_forget_s, now) or _Record()
            rec.failures += 1
            rec.last_failure = now
            rec.not_before = now + self.account_delay(rec.failures)
            self._accounts[account] = rec
            if client_key:
                crec = self._live(self._clients, client_key, self.client_forget_s, now) or _Record()
                crec.failures += 1
                crec.last_failure = now
                crec.not_before = now + self.client_delay(crec.failures)
                self._clients[client_key] = crec
            return self._wait(account, client_key, now)

    def _succeeded(self, account: str, client_key: str | None) -> None:
        with self._lock:
            self._accounts.pop(account, None)
            if client_key:
                self._clients.pop(client_key, None)

    def _prune(self, now: float) -> None:
        """Keep memory bounded: drop forgotten records, then the oldest ones (self._lock held)."""
        for table, forget_s in ((self._accounts, self.account_forget_s), (self._clients, self.client_forget_s)):
            if len(table) < self.max_tracked:
                continue
            for key in [k for k, r in table.items() if now - r.last_failure >= forget_s and now >= r.not_before]:
                del table[key]
            if len(table) >= self.max_tracked:
                for key, _ in sorted(table.items(), key=lambda kv: kv[1].last_failure)[: len(table) // 10 + 1]:
                    del table[key]

    @contextmanager
    def _account_lock(self, account: str) -> Iterator[None]:
        with self._lock:
            entry = self._account_locks.get(account)
            if entry is None:
                entry = self._account_locks[account] = [threading.Lock(), 0]
            entry[1] += 1
        try:
            with entry[0]:
                yield
        finally:
            with self._lock:
                entry[1] -= 1
                if entry[1] == 0:
                    self._account_locks.pop(account, None)

    def _emit(self, event: str, username: str, client_key: str | None) -> None:
        if self._on_event is None:
            return
        try:
            self._on_event(event, username, client_key)
        except Exception:  # noqa: BLE001 - an audit hook must never break signing in
            log.exception("the sign-in event hook failed")

    def __repr__(self) -> str:
        return (f"Throttle(account_cap_s={self.account_cap_s:g}, client_cap_s={self.client_cap_s:g}, "
                f"{len(self._accounts)} account(s), {len(self._clients)} client(s) waiting)")


__all__ = ["EVENTS", "SignInRateLimited", "SignInThrottled", "Throttle", "WrongCredentials", "wait_text"]
