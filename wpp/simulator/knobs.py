"""Knobs of the embedded WPP Platform simulator: how it behaves, changeable while it runs."""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

FAULT_KINDS = ("500", "html502", "timeout", "malformed", "empty", "invalid_token")
QR_FORMS = ("raw", "base64", "dataurl")
QR_FIELDS = ("qr", "qrCode", "qrcode", "data.qr")
STATUS_SPELLINGS = ("lower", "upper", "alt")
#: how pushed events are shaped: "envelope" ({id, type, created, data}) where the platform has an envelope type for
#: them, "flat" (flat delivery updates and message bodies) where it has a flat shape, "mixed" as seen in practice
#: (states and message.sent/message.dead as envelopes, delivered/read and incoming messages flat)
PUSH_SHAPES = ("mixed", "envelope", "flat")
#: how a sent message gets lost (proof of delivery): "none" (delivered as usual), "silent" (accepted, then nothing:
#: never sent, never delivered — the number looks connected but delivers nothing), "dead" (``message.dead``)
LOSE_MODES = ("none", "silent", "dead")


@dataclass
class Fault:
    """One injected fault.

    ``kind``: one of :data:`FAULT_KINDS`.
    ``endpoint``: ``None`` (every non-control request), an exact ``"METHOD /path/{template}"`` key or a
    substring of the request path or of that key.
    ``times``: how many requests it hits before it clears itself; ``None`` = until cleared.
    """

    kind: str
    endpoint: str | None = None
    times: int | None = None

    def __post_init__(self) -> None:
        self.kind = str(self.kind)
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {', '.join(FAULT_KINDS)}")
        if self.endpoint is not None:
            self.endpoint = str(self.endpoint)
        if self.times is not None:
            self.times = int(self.times)
            if self.times < 1:
                raise ValueError("fault times must be >= 1 (or None for until cleared)")

    def matches(self, key: str, path: str) -> bool:
        if self.endpoint is None or self.endpoint == "":
            return True
        return self.endpoint == key or self.endpoint in key or self.endpoint in path

    def to_dict(self) -> dict:
        return {"kind": self.kind, "endpoint": self.endpoint, "times": self.times}


@dataclass
class SimKnobs:
    latency_s: float = 0.0
    token_lifetime_s: float = 900
    include_expires_in: bool = True
    include_exp_claim: bool = True
    key_activation_delay_s: float = 0.0
    starting_s: float = 1.0
    qr_first_s: float = 20.0
    qr_rotate_s: float = 20.0
    qr_max_codes: int | None = 6
    qr_form: str = "raw"
    qr_field: str = "qr"
    status_spelling: str = "lower"
    start_returns_qr: bool = False
    #: platform-api.md documents no phone number in the status answer, so by default there is none; with this
    #: knob a connected account's status answer also carries ``"phone": "<digits>"`` (some platforms report it)
    report_phone: bool = False
    timeout_hold_s: float = 15.0
    #: a late answer: the status answer says the state the account had when the request came in, but is sent only
    #: this many seconds later (real seconds; meanwhile the state may change and be pushed)
    status_late_s: float = 0.0
    # --- pushes to a registered webhook (POST /internal/session/{session}/webhook) -------------------------
    push_events: bool = True  # push connected/offline/qr on state changes and delivery updates after a send
    push_shape: str = "mixed"  # one of PUSH_SHAPES
    push_sent_s: float = 0.5  # after a send: "sent" this many seconds later (the simulator's clock) ...
    push_delivered_s: float = 1.5  # ... "delivered" ...
    push_read_s: float = 3.0  # ... and "read"
    push_read: bool = True  # False: messages are delivered but never read
    messages_fail: bool = False  # True: every sent message dies after push_sent_s (message.dead / status error)
    push_replays: int = 0  # every push is sent this many more times (replays)
    lose_messages: str = "none"  # one of LOSE_MODES, for every account's messages ...
    lost_sessions: dict[str, str] = field(default_factory=dict)  # ... or per account: session -> one of LOSE_MODES
    push_incoming_s: float = 1.0  # a message to another account's linked phone arrives there (message.incoming) then
    push_garbage: bool = False  # before every push, also post garbage: not JSON, and an event of another account
    push_tick_s: float = 0.05  # real seconds between two looks for something to push
    faults: list[Fault] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        if self.qr_form not in QR_FORMS:
            raise ValueError(f"qr_form must be one of {QR_FORMS}, not {self.qr_form!r}")
        if self.qr_field not in QR_FIELDS:
            raise ValueError(f"qr_field must be one of {QR_FIELDS}, not {self.qr_field!r}")
        if self.status_spelling not in STATUS_SPELLINGS:
            raise ValueError(f"status_spelling must be one of {STATUS_SPELLINGS}, not {self.status_spelling!r}")
        if self.push_shape not in PUSH_SHAPES:
            raise ValueError(f"push_shape must be one of {PUSH_SHAPES}, not {self.push_shape!r}")
        if int(self.push_replays) < 0:
            raise ValueError("push_replays must be >= 0")
        if self.lose_messages not in LOSE_MODES:
            raise ValueError(f"lose_messages must be one of {LOSE_MODES}, not {self.lose_messages!r}")
        if not isinstance(self.lost_sessions, dict) or not all(
                isinstance(k, str) and v in LOSE_MODES for k, v in self.lost_sessions.items()):
            raise ValueError(f"lost_sessions must map sessions to one of {LOSE_MODES}")
        self.faults = [f if isinstance(f, Fault) else Fault(**f) for f in self.faults]

    def to_dict(self) -> dict:
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["faults"] = [f.to_dict() for f in self.faults]
        out["lost_sessions"] = dict(self.lost_sessions)
        return out

    def update(self, changes: dict[str, Any]) -> None:
        """Partial update from JSON (``POST /_sim/knobs``). Validates everything before changing anything."""
        if not isinstance(changes, dict):
            raise ValueError("knobs update must be a JSON object")
        known = {f.name: f for f in fields(self)}
        new: dict[str, Any] = {}
        for name, value in changes.items():
            if name not in known:
                raise ValueError(f"unknown knob {name!r}")
            if name == "faults":
                if not isinstance(value, list):
                    raise ValueError("faults must be a list")
                new[name] = [v if isinstance(v, Fault) else Fault(**v) for v in value]
            elif name == "qr_max_codes":
                new[name] = None if value is None else int(value)
            elif name in ("include_expires_in", "include_exp_claim", "start_returns_qr", "report_phone",
                          "push_events", "push_read", "messages_fail", "push_garbage"):
                if not isinstance(value, bool):
                    raise ValueError(f"{name} must be true or false")
                new[name] = value
            elif name == "lost_sessions":
                if not isinstance(value, dict):
                    raise ValueError("lost_sessions must be an object")
                new[name] = {str(k): str(v) for k, v in value.items()}
            elif name in ("qr_form", "qr_field", "status_spelling", "push_shape", "lose_messages"):
                new[name] = str(value)
            elif name == "push_replays":
                if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                    raise ValueError("push_replays must be a whole number >= 0")
                new[name] = value
            else:
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    raise ValueError(f"{name} must be a number")
                if value < 0:
                    raise ValueError(f"{name} must be >= 0")
                new[name] = value
        trial = SimKnobs(**{**{k: getattr(self, k) for k in known}, **new})  # validates
        for name in new:
            setattr(self, name, getattr(trial, name))
