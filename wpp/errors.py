"""One exception family for everything that can go wrong.

Each error carries:
- ``message``: one sentence a staff member can understand,
- ``action``: what to do next,
- ``status``: the HTTP status code, when there was one,
- ``detail``: the technical detail for an expander (secrets already scrubbed).

``str(err)`` is ``message`` plus ``action``; nothing in it is ever a secret.
"""
from __future__ import annotations

from typing import Iterable

from .masking import scrub


class WppError(Exception):
    """Base of every error WPP Console shows to a person."""

    kind = "error"
    default_message = "Something went wrong."
    default_action = "Try again. If it keeps happening, show the details below to support."

    def __init__(
        self,
        message: str | None = None,
        *,
        action: str | None = None,
        status: int | None = None,
        detail: str | None = None,
        secrets: Iterable[str | None] = (),
    ):
        self.message = scrub(message or self.default_message, secrets)
        self.action = scrub(action if action is not None else self.default_action, secrets)
        self.status = status
        self.detail = scrub(detail or "", secrets)
        super().__init__(self.text)

    @property
    def text(self) -> str:
        return f"{self.message} {self.action}".strip()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(kind={self.kind!r}, status={self.status!r}, message={self.message!r})"

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
    default_message = "This value cannot be used."
    default_action = "Check what you typed and try again."


# --- network ----------------------------------------------------------------
class PlatformUnreachable(WppError):
    kind = "unreachable"
    default_message = "The WhatsApp platform cannot be reached."
    default_action = (
        "Check the internet connection of this computer and that the platform address in "
        "Settings is right, then try again in a minute."
    )


class PlatformTimeout(PlatformUnreachable):
    kind = "timeout"
    default_message = "The WhatsApp platform did not answer in time."
    default_action = "It may be busy. Wait a minute and try again."


# --- credentials ------------------------------------------------------------
class InvalidToken(WppError):
    """401 Invalid token on an /api call, even after one refresh."""

    kind = "invalid_token"
    default_message = "The platform did not accept this number's access token."
    default_action = (
        "Open Tokens and press \u201cRefresh now\u201d. If that fails too, the number's API key is no longer "
        "valid: create the number again."
    )


class InvalidSecret(WppError):
    """401 on create: the platform secret (or the staff member's sign-in) was refused."""

    kind = "invalid_secret"
    default_message = "The platform refused to create a client: the platform secret or your sign-in was not accepted."
    default_action = "Ask an administrator to check WPP_SECRET in Settings, or sign out and sign in again."


class InvalidApiKey(WppError):
    """403 Invalid API key from /auth/token."""

    kind = "invalid_api_key"
    default_message = "The platform rejected the API key."
    default_action = (
        "If the number was created just now, the key may still be activating: try again in a few seconds. "
        "Otherwise create the number again."
    )


# --- answers ----------------------------------------------------------------
class NotFound(WppError):
    kind = "not_found"
    default_message = "The platform does not know this number (session)."
    default_action = "Check the session shown on the number's page; it may have been deleted on the platform."


class PlatformError(WppError):
    """5xx, proxies' HTML error pages, other unexpected HTTP statuses."""

    kind = "platform_error"
    default_message = "The WhatsApp platform had a problem answering."
    default_action = "Try again in a minute. If it keeps happening, show the details below to support."


class BadResponse(PlatformError):
    """The platform answered, but not with what it should (not JSON, missing fields)."""

    kind = "bad_response"
    default_message = "The WhatsApp platform sent an answer that could not be read."


class MessageFailed(WppError):
    """The platform took the send request but says it failed (status: error)."""

    kind = "message_failed"
    default_message = "The platform could not send the message."
    default_action = "Check that the number is connected and the recipient's number is right, then try again."


# --- storage ----------------------------------------------------------------
class StoreError(WppError):
    kind = "store_error"
    default_message = "The list of numbers could not be read or saved."
    default_action = "Try again. If it keeps happening, ask an administrator to check the database in Settings."


class IntegrationNotFound(StoreError):
    kind = "integration_not_found"
    default_message = "This number is not in the list any more."
    default_action = "Go back to Numbers and pick it again."


# --- access -----------------------------------------------------------------
class AccessDenied(WppError):
    kind = "access_denied"
    default_message = "You are not signed in, or your sign-in was not accepted."
    default_action = "Sign in again."
