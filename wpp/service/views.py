"""What the service hands to the pages: typed, already in words (lazy ``Text`` or translated ``str``).

Pages render these; they decide nothing of the domain ("unfinished", the 60-second rule, status wording, which
numbers need attention all come from here).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from ..errors import WppError
from ..i18n import N_, Text
from ..models import ConnState, Integration, Status


@dataclass(frozen=True)
class Problem:
    """A failure as the board keeps it (kind, HTTP status, message and next step, translated when read)."""

    kind: str
    message: "Text | str"
    action: "Text | str" = ""
    status: int | None = None

    @classmethod
    def of(cls, err: WppError) -> "Problem":
        return cls(err.kind, err.message_text, err.action_text, err.status)

    @classmethod
    def from_json(cls, data: dict | None) -> "Problem | None":
        if not data:
            return None

        def txt(v: Any) -> "Text | str":
            if isinstance(v, dict) and v.get("msgid"):
                return Text.from_json(v)
            return "" if v is None else str(v)

        status = data.get("status")
        return cls(str(data.get("kind") or "error"), txt(data.get("message")), txt(data.get("action")),
                   int(status) if isinstance(status, (int, float)) and not isinstance(status, bool) else None)

    def to_json(self) -> dict:
        def js(v: "Text | str") -> Any:
            return v.to_json() if isinstance(v, Text) else str(v)

        return {"kind": self.kind, "message": js(self.message), "action": js(self.action), "status": self.status}

    @property
    def text(self) -> str:
        return f"{self.message} {self.action}".strip()


@dataclass(frozen=True)
class BoardView:
    """A number's connection as the Numbers page shows it (from the shared status board)."""

    state: ConnState | None = None  # None: not checked yet (or cannot be checked: see problem)
    label: str = ""  # in words, current language
    since: dt.datetime | None = None
    checked_at: dt.datetime | None = None
    problem: Problem | None = None
    attention: "Text | None" = None  # why it needs attention, in words; None when all is well
    attention_code: str | None = None
    phone: str | None = None  # international format
    code: str | None = None  # the shown state's code in wpp.glossary (its one name, mark and advice)
    todo: "Text | None" = None  # what to do in a few words, for the reader (a table's cell); None: nothing

    @property
    def needs_attention(self) -> bool:
        return self.attention is not None


@dataclass(frozen=True)
class NumberView:
    """One WhatsApp number as staff know it: by school and name, never by UUID."""

    integration: Integration
    name: str
    org_id: str
    org_name: str
    label: str  # "School · Name" (+ phone or "added …" when two numbers of a school share a name)
    status: BoardView
    created_at: dt.datetime | None
    unfinished: bool = False
    unfinished_reason: "Text | None" = None
    prelinked: bool = False
    removed: bool = False
    phone: str | None = None
    #: its alerts are muted until then (an operator's mute; None: not muted)
    muted_until: dt.datetime | None = None
    #: proof of delivery (``wpp.models.DeliveryState``; None: never checked, or delivery cannot be proven here)
    delivery: Any = None

    @property
    def id(self) -> str:
        return self.integration.id

    @property
    def not_delivering(self) -> bool:
        """Connected, but its delivery checks fail (the glossary's "connected but not delivering")."""
        return self.status.attention_code == "not_delivering"

    @property
    def ready(self) -> bool:
        """Created on the platform with its first access key: it can be paired and used."""
        return not self.unfinished


@dataclass
class CreateOutcome:
    integration: Integration
    created_on_platform: bool
    token_saved: bool
    error: WppError | None = None
    prelinked: bool = False
    view: NumberView | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class PairingView:
    integration: Integration
    status: Status | None
    qr_payload: str | None = field(default=None, repr=False)
    qr_png: bytes | None = field(default=None, repr=False)
    qr_seen_at: float | None = None  # when the console first saw this QR (Unix s)
    qr_expires_in: float | None = None  # estimate, seconds
    error: WppError | None = None
    waiting_since: float | None = None  # since when this number has been waiting without a QR (Unix s)
    prelinked: bool = False

    @property
    def connected(self) -> bool:
        return bool(self.status and self.status.connected) and not self.prelinked


@dataclass(frozen=True)
class Check:
    """One line of "Why is there no QR code?": ``title`` says what must hold (shown with a tick, or greyed while an
    earlier step failed); a failed step shows ``problem``, what is wrong said as a fact (never "❌ <what must hold>",
    which reads as a double negative), with the one thing to do (``fix``) and its button. The checklist is titled by
    its first problem."""

    code: str  # reachable | key | token | session | qr | codes
    ok: bool | None  # None: not checked (an earlier step failed)
    title: "Text | str"
    fix: "Text | str | None" = None
    action: str | None = None  # retry | finish_creating | refresh_token | start | make_new
    action_label: "Text | str | None" = None
    problem: "Text | str | None" = None  # a failed step, said as a fact


@dataclass(frozen=True)
class HistoryLine:
    at: dt.datetime
    state: str  # in words
    previous: str  # in words ("—" for the first)
    problem: str = ""


@dataclass(frozen=True)
class KeyVerdict:
    """What the platform last answered to calls made with a number's keys (the newest evidence first).

    ``code``: ``accepted`` (at ``at``, the last accepted call), ``refused`` (its access key, since ``at``; ``fresh``:
    a brand-new one was refused too), ``api_key_refused`` (its permanent key, since ``at``), or ``unknown`` (no call
    made with its keys yet). ``status`` and ``said``: the platform's HTTP status and own words, for support."""

    code: str
    at: dt.datetime | None = None
    status: int | None = None
    said: str | None = None
    fresh: bool = False

    @property
    def refused(self) -> bool:
        return self.code in ("refused", "api_key_refused")


@dataclass
class AccessReport:
    """What the number's access key (the platform JWT) says, for people first and support staff below.

    The sentence (``summary``) comes from the newest evidence: what the platform last answered to a call made with
    the number's keys (``verdict``), and only then from the key's own expiry. A key the platform refuses is never
    ``ok``."""

    ok: bool
    summary: "Text | str"
    fix: str | None = None  # "refresh": the one button that fixes it; "reconnect": connect the number again
    expires_at: dt.datetime | None = None
    renews_at: dt.datetime | None = None
    seconds_left: float | None = None
    usable: bool = False
    expiry_source: "Text | str" = ""
    header: list[tuple[str, str]] = field(default_factory=list)
    claims: list[tuple[str, str, dt.datetime | None]] = field(default_factory=list)
    signature: "Text | str" = ""
    token_session: str | None = None
    stored_session: str | None = None
    token: str | None = field(default=None, repr=False)  # the plain token: shown only after "Reveal"
    token_masked: str = "—"
    problems: list["Text | str"] = field(default_factory=list)
    issued_at: dt.datetime | None = None
    verdict: KeyVerdict | None = None
    #: the pasted-key tool: which of the reader's numbers the key belongs to (by the platform account inside it)
    belongs_to: "Text | str | None" = None


@dataclass(frozen=True)
class AccessTest:
    ok: bool
    title: "Text | str"
    explanation: "Text | str"
    next_step: "Text | str"
    next_action: str | None = None  # refresh | show_qr | None
    code: str = "ok"


#: what the platform says about an accepted message, in words
SEND_STATUSES = {
    "queued": N_("waiting in the platform's queue"),
    "pending": N_("waiting in the platform's queue"),
    "sent": N_("sent"),
    "delivered": N_("delivered"),
    "read": N_("read"),
}


@dataclass(frozen=True)
class SendOutcome:
    sentence: "Text | str"
    phone: str
    task_id: str | None
    status: str

    @property
    def status_label(self) -> str:
        """The platform's word for the message's state, in the reader's language (unknown words as they came)."""
        word = SEND_STATUSES.get(str(self.status or "").strip().lower())
        return str(word) if word is not None else str(self.status or "—")


@dataclass(frozen=True)
class ActivityLine:
    at: dt.datetime | None
    who: str
    school: str
    number: str
    what: str
    ok: bool
    action: str
    #: how it went, in words: a person's action "Done"/"Failed"; what the phone or the console did by itself, the
    #: state it left the number in by its one name ("🔴 Offline"), or "Problem"
    outcome: str = ""


__all__ = [
    "AccessReport",
    "AccessTest",
    "ActivityLine",
    "BoardView",
    "Check",
    "CreateOutcome",
    "HistoryLine",
    "KeyVerdict",
    "NumberView",
    "PairingView",
    "Problem",
    "SendOutcome",
]
