"""Staff accounts from the ``[staff]`` table of the secrets file (name -> password hash)."""
from __future__ import annotations

from typing import Callable, Mapping

from ..clock import SYSTEM_CLOCK
from ..errors import AccessDenied
from ..i18n import N_, Text
from . import passwords
from .identity import Identity
from .passwords import dummy_hash, staff_problems, user_key
from .throttle import Throttle, WrongCredentials


class StaffDirectory:
    """Staff accounts (username -> password hash), throttled by :class:`~wpp.access.throttle.Throttle`.

    * the same "Wrong name or password." for an unknown name and a wrong password, and an unknown name costs a
      real hash verification too (a dummy hash with the default parameters), so neither words nor timing nor the
      throttle tell which names exist;
    * no lockout: wrong passwords make the account and the browser wait a little (see ``throttle``), never lock
      the real person out;
    * accounts whose names differ only in case are ambiguous: neither can sign in (see :attr:`problems`).

    ``throttle``: share one per process between sign-in methods; by default the directory makes its own, with
    ``clock`` and ``on_event(event, username, client_key)``.
    """

    def __init__(
        self,
        staff: Mapping[str, str] | None,
        *,
        clock=SYSTEM_CLOCK,
        throttle: Throttle | None = None,
        on_event: Callable[[str, str, str | None], None] | None = None,
    ):
        self.throttle = throttle if throttle is not None else Throttle(clock=clock, on_event=on_event)
        self.problems: list[Text] = staff_problems(staff or {})
        accounts: dict[str, tuple[str, str]] = {}
        ambiguous: set[str] = set()
        for username, stored in (staff or {}).items():
            key = user_key(str(username))
            if not key:
                continue
            if key in accounts:
                ambiguous.add(key)
            accounts[key] = (str(username).strip(), str(stored))
        for key in ambiguous:
            accounts.pop(key, None)
        self._accounts = accounts
        dummy_hash()  # pay for the dummy hash now, not on the first unknown name

    # -- introspection ------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._accounts)

    def __contains__(self, username: object) -> bool:
        return isinstance(username, str) and user_key(username) in self._accounts

    @property
    def usernames(self) -> list[str]:
        return sorted(name for name, _ in self._accounts.values())

    def __repr__(self) -> str:
        return f"StaffDirectory({len(self)} account(s))"

    def wait_for(self, username: str, client_key: str | None = None) -> float:
        """Seconds before a sign-in for ``username`` from ``client_key`` is accepted (0: now)."""
        return self.throttle.wait_for(username, client_key)

    # -- signing in ---------------------------------------------------------------------------
    def sign_in(self, username: str, password: str, *, client_key: str | None = None) -> Identity:
        """The staff member's Identity, or an :class:`~wpp.errors.AccessDenied` in plain words:

        * :class:`~wpp.access.throttle.WrongCredentials` ("Wrong name or password."; ``retry_after`` seconds),
        * :class:`~wpp.access.throttle.SignInThrottled` (too early after wrong passwords: nothing was checked),
        * plain AccessDenied for an empty form (not counted).

        ``client_key``: the browser's opaque key (its cookie id or Streamlit session id); without it only the
        per-account delay applies.
        """
        if not isinstance(username, str) or not isinstance(password, str) or not user_key(username) or not password:
            # Nothing to check; not counted as a failure (an empty form is not a guess).
            raise AccessDenied(N_("Enter your name and password."), action="")

        def check() -> Identity:
            account = self._accounts.get(user_key(username))
            if account is None:
                passwords.verify_password(password, dummy_hash())
                raise WrongCredentials()
            if not passwords.verify_password(password, account[1]):
                raise WrongCredentials()
            return Identity(name=account[0], username=account[0], method="staff")

        return self.throttle.attempt(username, client_key, check)


__all__ = ["StaffDirectory"]
