"""Typed results shared by the client, the store and the service.

The platform's many spellings of one state are normalised here, and only here.
"""
from __future__ import annotations

import enum
import time
from dataclasses import dataclass, field
from typing import Any

from .masking import Secret, mask


class ConnState(str, enum.Enum):
    CONNECTED = "connected"
    QR_REQUIRED = "qr_required"
    STARTING = "starting"
    OFFLINE = "offline"
    UNKNOWN = "unknown"  # a value the platform sent that we do not know; the raw text is kept

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    ConnState.CONNECTED: "Connected",
    ConnState.QR_REQUIRED: "Waiting for QR scan",
    ConnState.STARTING: "Starting",
    ConnState.OFFLINE: "Offline",
    ConnState.UNKNOWN: "Unknown",
}

_SPELLINGS = {
    "connected": ConnState.CONNECTED,
    "ready": ConnState.CONNECTED,
    "open": ConnState.CONNECTED,
    "online": ConnState.CONNECTED,
    "authenticated": ConnState.CONNECTED,
    "inchat": ConnState.CONNECTED,
    "qr_required": ConnState.QR_REQUIRED,
    "qrrequired": ConnState.QR_REQUIRED,
    "qrcode": ConnState.QR_REQUIRED,
    "qr": ConnState.QR_REQUIRED,
    "scan_qr": ConnState.QR_REQUIRED,
    "need_scan": ConnState.QR_REQUIRED,
    "notlogged": ConnState.QR_REQUIRED,
    "starting": ConnState.STARTING,
    "pending": ConnState.STARTING,
    "initializing": ConnState.STARTING,
    "connecting": ConnState.STARTING,
    "opening": ConnState.STARTING,
    "offline": ConnState.OFFLINE,
    "disconnected": ConnState.OFFLINE,
    "closed": ConnState.OFFLINE,
    "stopped": ConnState.OFFLINE,
    "logout": ConnState.OFFLINE,
    "logged_out": ConnState.OFFLINE,
}


@dataclass(frozen=True)
class Status:
    """A connection state plus the platform's own word for it."""

    state: ConnState
    raw: str

    @classmethod
    def parse(cls, raw: Any) -> "Status":
        text = "" if raw is None else str(raw).strip()
        key = text.lower().replace("-", "_").replace(" ", "_")
        state = _SPELLINGS.get(key) or _SPELLINGS.get(key.replace("_", ""), ConnState.UNKNOWN)
        return cls(state=state, raw=text)

    @property
    def label(self) -> str:
        if self.state is ConnState.UNKNOWN:
            return f"Unknown ({self.raw or 'empty'})"
        return self.state.label

    @property
    def connected(self) -> bool:
        return self.state is ConnState.CONNECTED


@dataclass(frozen=True)
class CreatedClient:
    """Answer of POST /api/integrations/wpp/create."""

    api_key: Secret
    session: str
    status: Status


@dataclass(frozen=True)
class MintedToken:
    """A platform JWT and when it stops working.

    ``expires_at_ms`` is Unix time in milliseconds, the unit of ``wppJwtExpiresAt``.
    ``expiry_source`` is ``"exp"`` (the JWT's own claim), ``"expiresIn"`` (the platform's answer)
    or ``"assumed"`` (neither was there; a short default was assumed).
    """

    token: Secret
    expires_at_ms: int
    expiry_source: str
    obtained_at_ms: int = field(default_factory=lambda: int(time.time() * 1000))

    def seconds_left(self, now: float | None = None) -> float:
        now = time.time() if now is None else now
        return self.expires_at_ms / 1000.0 - now


@dataclass(frozen=True)
class StartResult:
    """Answer of POST /api/accounts/start: a QR payload, a status, or both."""

    qr: str | None
    status: Status | None


@dataclass(frozen=True)
class SendResult:
    task_id: str | None
    status: str
    message: str | None = None


@dataclass
class Integration:
    """One row of ``messenger_integrations`` (one WhatsApp number)."""

    id: str
    organization_id: str
    name: str | None = None
    messenger_type: str = "whatsapp"
    provider: str = "wpp"
    is_primary: bool = False
    is_active: bool = True
    settings: dict = field(default_factory=dict)
    last_error: str | None = None
    last_error_at: str | None = None
    created_at: str | None = None
    updated_at: str | None = None

    # --- settings keys, read in one place -------------------------------------------
    @property
    def api_key(self) -> str | None:
        return self.settings.get("wppApiKey") or None

    @property
    def session(self) -> str | None:
        v = self.settings.get("wppAccountNumber")
        return str(v) if v not in (None, "") else None

    @property
    def jwt(self) -> str | None:
        return self.settings.get("wppJwtToken") or None

    @property
    def jwt_expires_at_ms(self) -> int | None:
        v = self.settings.get("wppJwtExpiresAt")
        try:
            return int(v) if v not in (None, "") else None
        except (TypeError, ValueError):
            return None

    @property
    def sub_org_id(self) -> str | None:
        return self.settings.get("wppSubOrgId") or None

    @property
    def token_pending(self) -> bool:
        """Created on the platform (key and session saved) but no token stored yet."""
        return bool(self.api_key and self.session and not self.jwt)

    @property
    def display_name(self) -> str:
        return self.name or (f"Session {self.session}" if self.session else f"Number {self.id[:8]}")

    def masked_settings(self) -> dict:
        secret_keys = {"wppApiKey", "wppJwtToken"}
        return {k: (mask(str(v)) if k in secret_keys and v else v) for k, v in self.settings.items()}

    def __repr__(self) -> str:
        return (
            f"Integration(id={self.id!r}, organization_id={self.organization_id!r}, name={self.name!r}, "
            f"is_active={self.is_active!r}, settings={self.masked_settings()!r})"
        )


@dataclass(frozen=True)
class ActivityEntry:
    """One line of the activity log. ``detail`` must never hold a secret (the store scrubs it too)."""

    action: str  # create | refresh | send | stop | pair | resume | test | rename | deactivate
    outcome: str  # ok | error
    actor: str
    integration_id: str | None = None
    organization_id: str | None = None
    detail: str = ""
    at: str | None = None  # ISO 8601 UTC, set by the store when None
    id: int | None = None
