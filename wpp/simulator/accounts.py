"""An account of the simulated platform: its phase (starting, waiting for a scan, connected, offline), its QR codes
and the phone linked to it."""
from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from typing import Any

_PHASE_TO_STATE = {"connected": "connected", "qr": "qr_required", "starting": "starting", "offline": "offline"}


def new_qr_text() -> str:
    """Pairing text shaped like WhatsApp's: ref, noise key, identity key, adv secret."""
    ref = "2@" + base64.b64encode(secrets.token_bytes(66)).decode()
    parts = [base64.b64encode(secrets.token_bytes(n)).decode() for n in (32, 32, 32)]
    return ",".join([ref, *parts])


@dataclass
class Account:
    organization_id: str
    session: str
    api_key: str
    created_at: float
    phase: str = "starting"  # starting | qr | connected | offline
    phase_since: float = 0.0
    qr_text: str | None = None
    qr_since: float = 0.0
    qr_first: bool = True
    codes_expired: int = 0
    webhook: str | None = None
    phone: str | None = None  # the linked phone's own number (digits), once a phone is linked
    pushed_phase: str | None = None  # the phase the last state push told the webhook about
    pushed_qr: str | None = None  # the QR code the last "qr" push carried
    #: the seeds' stale-key incident: the apiKey still mints tokens, but every call made with them is refused
    #: (401 Invalid token), as when the console holds a key the platform has replaced
    stale_key: bool = False
    #: keeps showing QR codes however many expire unscanned (the demo's fleet number waiting for its scan)
    patient: bool = False


def phone_for(session: str) -> str:
    """The number of the phone the simulator "links" to an account when no other is given: a Russian
    mobile derived from the session, e.g. ``"0000000000004"`` -> ``"79000000004"``."""
    digits = "".join(ch for ch in str(session) if ch.isdigit()) or "0"
    return f"7900{int(digits) % 10_000_000:07d}"


def _clean_phone(phone: Any) -> str | None:
    if phone is None:
        return None
    digits = str(phone).strip().lstrip("+")
    if not (digits.isascii() and digits.isdigit() and 8 <= len(digits) <= 15):
        raise ValueError("phone must be 8-15 digits with the country code")
    return digits


__all__ = ["Account", "new_qr_text", "phone_for"]
