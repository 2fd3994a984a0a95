"""One exception family for everything that can go wrong.

Each error carries:
- ``message``: one sentence a staff member can understand,
- ``action``: what to do next,
- ``status``: the HTTP status code, when there was one,
- ``detail``: the technical detail for an expander (secrets already scrubbed; not translated).

``message`` and ``action`` are :class:`wpp.i18n.Text` (or plain strings): they are translated when they are read,
into the language of whoever reads them, so an error raised in a background thread is shown in Russian to a
Russian page. ``str(err)`` is ``message`` plus ``action``; nothing in it is ever a secret: the values of a
message are scrubbed when the error is made, and the finished text again when it is read.
"""
from __future__ import annotations

from typing import Any, Iterable

from .i18n import N_, Text
from .masking import scrub


def _scrubbed(value: "Text | str | None", secrets: list[str]) -> "Text | str | None":
    """A message with every secret in its values (or in itself, for a plain string) masked."""
    if value is None:
        return None
    if isinstance(value, Text):
        if not value.params:
            return value
        params = {k: (_scrubbed(v, secrets) if isinstance(v, (Text, str)) else v) for k, v in value.params.items()}
        if value.n is not None:
            params["n"] = value.n  # a plural message's count (a value named n is already in params)
        return Text(value.msgid, plural=value.plural, **params)
    return scrub(str(value), secrets)


class WppError(Exception):
    """Base of every error WPP Console shows to a person."""

    kind = "error"
    default_message: "Text | str" = N_("Something went wrong.")
    default_action: "Text | str" = N_("Try again. If it keeps happening, show the details below to support.")

    def __init__(
        self,
        message: "Text | str | None" = None,
        *,
        action: "Text | str | None" = None,
        status: int | None = None,
        detail: str | None = None,
        secrets: Iterable[str | None] = (),
    ):
        known = [s for s in secrets if s]
        self._message = _scrubbed(message or self.default_message, known)
        self._action = _scrubbed(action if action is not None else self.default_action, known)
        self._known = frozenset(s for s in known if len(s) >= 6)
        self.status = status
        self.detail = scrub(detail or "", known)
        #: the platform's own words in its answer (``Invalid token``), scrubbed and short: for support only, never
        #: in the message staff read (set by the client)
        self.said: str | None = None
        super().__init__(self.english)

    # --- the words, in the reader's language --------------------------------------------------------------
    def _render(self, value: "Text | str | None") -> str:
        return scrub("" if value is None else str(value), self._known)

    @property
    def message(self) -> str:
        return self._render(self._message)

    @property
    def action(self) -> str:
        return self._render(self._action)

    @property
    def message_text(self) -> "Text | str":
        """The message as given (a lazy Text when it has a translation), for storing or re-raising."""
        return self._message

    @property
    def action_text(self) -> "Text | str":
        return self._action

    @property
    def text(self) -> str:
        return f"{self.message} {self.action}".strip()

    @property
    def english(self) -> str:
        """The message and action in English (logs, the activity log's fallback)."""
        def en(v: Any) -> str:
            return v.english if isinstance(v, Text) else ("" if v is None else str(v))

        return scrub(f"{en(self._message)} {en(self._action)}".strip(), self._known)

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"{type(self).__name__}(kind={self.kind!r}, status={self.status!r}, message={self.english!r})"

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "message": self.message,
            "action": self.action,
            "status": self.status,
            "detail": self.detail,
        }


# --- input ------------------------------------------------------------------
class InvalidInput(WppError):
    """What a person typed (or pasted) cannot be used. Nothing was sent or saved."""

    kind = "invalid_input"
    default_message = N_("This value cannot be used.")
    default_action = N_("Check what you typed and try again.")


# --- network ----------------------------------------------------------------
class PlatformUnreachable(WppError):
    kind = "unreachable"
    default_message = N_("The WhatsApp platform cannot be reached.")
    default_action = N_(
        "Check the internet connection of this computer and that the platform address in "
        "Settings is right, then try again in a minute."
    )


class PlatformTimeout(PlatformUnreachable):
    kind = "timeout"
    default_message = N_("The WhatsApp platform did not answer in time.")
    default_action = N_("It may be busy. Wait a minute and try again.")


# --- credentials ------------------------------------------------------------
class InvalidToken(WppError):
    """401 Invalid token on an /api call, even after one refresh."""

    kind = "invalid_token"
    default_message = N_("The platform did not accept this number's access key.")
    default_action = N_(
        "Open \u201cAccess\u201d and press \u201cGet a new access key\u201d. If that fails too, the number's "
        "permanent key is no longer valid: connect the number again."
    )


class InvalidSecret(WppError):
    """401 on create: the platform secret (or the staff member's sign-in) was refused."""

    kind = "invalid_secret"
    default_message = N_(
        "The platform refused to create the number: the console's platform secret or your sign-in was not accepted."
    )
    default_action = N_("Ask an administrator to check WPP_SECRET in Settings, or sign out and sign in again.")


class InvalidApiKey(WppError):
    """403 Invalid API key from /auth/token."""

    kind = "invalid_api_key"
    default_message = N_("The platform rejected the number's permanent key.")
    default_action = N_(
        "If the number was created just now, the key may still be activating: try again in a few seconds. "
        "Otherwise connect the number again."
    )


class WrongAccount(WppError):
    """403 (other than "Invalid API key") on an /api call: the token is for another number."""

    kind = "wrong_account"
    default_message = N_("The platform refused: this access key belongs to another number.")
    default_action = N_(
        "Open \u201cAccess\u201d and press \u201cGet a new access key\u201d. If it happens again, show the "
        "details below to support."
    )


# --- answers ----------------------------------------------------------------
class NotFound(WppError):
    kind = "not_found"
    default_message = N_("The platform does not know this number.")
    default_action = N_("It may have been deleted on the platform. Connect the number again, or ask support.")


class PlatformError(WppError):
    """5xx, proxies' HTML error pages, other unexpected HTTP statuses."""

    kind = "platform_error"
    default_message = N_("The WhatsApp platform had a problem answering.")
    default_action = N_("Try again in a minute. If it keeps happening, show the details below to support.")


class BadResponse(PlatformError):
    """The platform answered, but not with what it should (not JSON, missing fields)."""

    kind = "bad_response"
    default_message = N_("The WhatsApp platform sent an answer that could not be read.")


class MessageFailed(WppError):
    """The platform took the send request but says it failed (status: error)."""

    kind = "message_failed"
    default_message = N_("The platform could not send the message.")
    default_action = N_("Check that the number is connected and the recipient's number is right, then try again.")


# --- storage ----------------------------------------------------------------
class StoreError(WppError):
    kind = "store_error"
    default_message = N_("The list of numbers could not be read or saved.")
    default_action = N_("Try again. If it keeps happening, ask an administrator to check the database in Settings.")


class IntegrationNotFound(StoreError):
    kind = "integration_not_found"
    default_message = N_("This number is not in the list any more.")
    default_action = N_("Go back to Numbers and pick it again.")


# --- configuration ----------------------------------------------------------
class ConfigError(WppError):
    """The configuration (a secrets file, an environment variable) cannot be used: the console does not start."""

    kind = "config_error"
    default_message = N_("The console's configuration cannot be used.")
    default_action = N_("Ask an administrator to correct it and restart the console.")


# --- access -----------------------------------------------------------------
class AccessDenied(WppError):
    kind = "access_denied"
    default_message = N_("You are not signed in, or your sign-in was not accepted.")
    default_action = N_("Sign in again.")
