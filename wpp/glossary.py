"""One name for each thing staff read about, in one place: every page, the diary, the history and the alerts use these.

* **The states of a number** (:data:`STATE_NAMES`): the list, the Number page, its connection history, the diary's
  outcome for what the phone did, and the alerts' subjects all say a state with :func:`state_name` (and a coloured
  mark, :func:`state_mark`). A sentence that mentions a state takes the name as a value (``{state}``), so there is
  no second way to say it in either language.
* **The two kinds of key**: the number's *permanent key* (the platform's ``apiKey``, given when the number was created;
  it never changes and is used only to get access keys) and its *access key* (a JWT the platform gives out for a few
  minutes at a time, used on every call). Messages say exactly these words (``tests/i18n`` checks both languages).
* **The console's own name** (:data:`CONSOLE_NAME`): in the diary ("who"), the alerts' footer, the test message.
* **What to do**, phone first (:func:`advice`): a dropped number starts with "check that the phone is on and online",
  and the words fit the reader: someone who may not fix it is told whom to ask, never a button they do not have.
* **Proof of delivery** (:data:`DELIVERY_NAMES`): "Delivery proven", "Connected but not delivering", "Checking
  delivery" (issue 26).

Streamlit-free and light: ``wpp.alerts.message`` and ``wpp.status`` import it.
"""
from __future__ import annotations

from .i18n import N_, Text

# --- the states of a number ------------------------------------------------------------------------------------------
CONNECTED = "connected"
QR_REQUIRED = "qr_required"
STARTING = "starting"
OFFLINE = "offline"
UNKNOWN = "unknown"
#: the platform could not be asked (it does not answer, or answers with errors)
CANNOT_CHECK = "cannot_check"
#: the platform refuses the number's keys
ACCESS_REFUSED = "access_refused"
NOT_CHECKED = "not_checked"
#: created in the console but not (fully) on the platform yet
UNFINISHED = "unfinished"
#: the platform's account was already linked to some phone before anyone scanned
PRELINKED = "prelinked"

STATE_NAMES: dict[str, Text] = {
    CONNECTED: N_("Connected"),
    QR_REQUIRED: N_("Waiting for the QR scan"),
    STARTING: N_("Starting"),
    OFFLINE: N_("Offline"),
    UNKNOWN: N_("Unknown"),
    CANNOT_CHECK: N_("Cannot be checked"),
    ACCESS_REFUSED: N_("Access refused"),
    NOT_CHECKED: N_("Not checked yet"),
    UNFINISHED: N_("Not finished"),
    PRELINKED: N_("Already linked before any scan"),
}

STATE_MARKS: dict[str, str] = {
    CONNECTED: "🟢",
    QR_REQUIRED: "🟠",
    STARTING: "🔵",
    OFFLINE: "🔴",
    UNKNOWN: "⚪",
    CANNOT_CHECK: "⚠️",
    ACCESS_REFUSED: "⛔",
    NOT_CHECKED: "⏳",
    UNFINISHED: "🟡",
    PRELINKED: "🟣",
}

#: the error kinds that mean the platform refuses the number's keys (its access key, its permanent key)
REFUSED_KINDS = frozenset({"invalid_token", "invalid_api_key", "wrong_account"})


def state_code(state: object) -> str:
    """A state's code from a :class:`wpp.models.ConnState`, a board state or a code (None: not checked yet)."""
    if state is None:
        return NOT_CHECKED
    value = getattr(state, "value", state)
    text = str(value)
    return text if text in STATE_NAMES else UNKNOWN


def state_name(state: object) -> Text:
    """The one name of a state, translated when shown ("Offline" / "Не в сети")."""
    return STATE_NAMES[state_code(state)]


def state_mark(state: object) -> str:
    return STATE_MARKS[state_code(state)]


def shown_code(state: object, problem_kind: str | None = None) -> str:
    """The code staff see for a board state: "cannot be checked" becomes "access refused" when the platform refuses
    the number's keys (``problem_kind``: the stored error's kind)."""
    code = state_code(state)
    if code == CANNOT_CHECK and problem_kind in REFUSED_KINDS:
        return ACCESS_REFUSED
    return code


def state_since(state: object, time: str) -> Text:
    """ "Offline since 09:12" — the state's one name and the time it began."""
    return N_("{state} since {time}", state=state_name(state), time=time)


# --- the console's own name --------------------------------------------------------------------------------------------
CONSOLE_NAME = N_("WPP Console")
#: how the console's own doings are written in the diary's "who" (stored in English, shown as :data:`CONSOLE_NAME`)
CONSOLE_ACTOR = "WPP Console"


# --- what to do, phone first, for the reader ------------------------------------------------------------------------------
#: readers: someone who may fix the number (an operator or administrator of its school), or who may only look
FIXER = "fixer"
VIEWER = "viewer"

_ADVICE: dict[tuple[str, str], Text] = {
    (OFFLINE, FIXER): N_("Check that the school's phone is on and connected to the internet, and that WhatsApp opens on "
                         "it. If the number is still offline a few minutes later, open it and link the phone again with "
                         "a new QR code."),
    (OFFLINE, VIEWER): N_("Check that the school's phone is on and connected to the internet, and that WhatsApp opens "
                          "on it. If the number is still offline a few minutes later, tell an operator or an "
                          "administrator of this school: the phone must be linked again."),
    (ACCESS_REFUSED, FIXER): N_("Open \u201cAccess\u201d and press \u201cGet a new access key\u201d: the console gets one "
                                "and tries it at once, and says what to do if the platform refuses it too."),
    (ACCESS_REFUSED, VIEWER): N_("Tell an operator or an administrator of this school: the number needs a new access "
                                 "key."),
    (CANNOT_CHECK, FIXER): N_("Nothing at once: the console keeps trying by itself. If it lasts more than a few "
                              "minutes, tell the console's support that the platform cannot be reached."),
    (CANNOT_CHECK, VIEWER): N_("Nothing at once: the console keeps trying by itself. If it lasts more than a few "
                               "minutes, tell the console's support that the platform cannot be reached."),
    (STARTING, FIXER): N_("Open the number and start linking the phone again."),
    (STARTING, VIEWER): N_("Tell an operator or an administrator of this school: linking the phone must be started "
                           "again."),
    (QR_REQUIRED, FIXER): N_("The QR codes have probably run out. Open the number and show a new QR code, then scan it "
                             "with the school's phone."),
    (QR_REQUIRED, VIEWER): N_("Tell an operator or an administrator of this school: the phone must be linked with a new "
                              "QR code."),
    (UNFINISHED, FIXER): N_("Open the number and press \u201cFinish creating\u201d."),
    (UNFINISHED, VIEWER): N_("Tell an operator or an administrator of this school: creating this number must be "
                             "finished."),
    (PRELINKED, FIXER): N_("Open the number and decide whether to take it over."),
    (PRELINKED, VIEWER): N_("Tell an operator or an administrator of this school: someone must decide whether to keep "
                            "it."),
}


_SHORT: dict[tuple[str, str], Text] = {
    (OFFLINE, FIXER): N_("Check that the phone is on and online, then link it again"),
    (OFFLINE, VIEWER): N_("Check that the phone is on and online, then tell an operator"),
    (ACCESS_REFUSED, FIXER): N_("Get a new access key (page \u201cAccess\u201d)"),
    (ACCESS_REFUSED, VIEWER): N_("Tell an operator: it needs a new access key"),
    (CANNOT_CHECK, FIXER): N_("Nothing yet: the console keeps trying"),
    (CANNOT_CHECK, VIEWER): N_("Nothing yet: the console keeps trying"),
    (STARTING, FIXER): N_("Start linking the phone again"),
    (STARTING, VIEWER): N_("Tell an operator: linking must start again"),
    (QR_REQUIRED, FIXER): N_("Show a new QR code and scan it"),
    (QR_REQUIRED, VIEWER): N_("Tell an operator: it needs a new QR scan"),
    (UNFINISHED, FIXER): N_("Open it and press \u201cFinish creating\u201d"),
    (UNFINISHED, VIEWER): N_("Tell an operator: creating it must be finished"),
    (PRELINKED, FIXER): N_("Open it and decide whether to keep it"),
    (PRELINKED, VIEWER): N_("Tell an operator: someone must decide whether to keep it"),
}


def short_advice(state: object, *, may_fix: bool) -> Text | None:
    """What to do in a few words, for a table's cell (the whole advice is on the number's page)."""
    code = state if isinstance(state, str) and (state in STATE_NAMES or state in DELIVERY_NAMES) else state_code(state)
    return _SHORT.get((code, FIXER if may_fix else VIEWER))


def advice(state: object, *, may_fix: bool) -> Text | None:
    """What to do about a number in this state, phone first, for a reader who may fix it or only look (None: nothing
    to do)."""
    code = state if isinstance(state, str) and (state in STATE_NAMES or state in DELIVERY_NAMES) else state_code(state)
    return _ADVICE.get((code, FIXER if may_fix else VIEWER))


# --- proof of delivery ---------------------------------------------------------------------------------------------
#: the number's check message reached the witness (✓✓, or the witness number received it)
DELIVERY_PROVEN = "delivery_proven"
#: the number shows as connected, but its check message was not delivered (an incident kind of its own)
NOT_DELIVERING = "not_delivering"
#: a check message is on its way
CHECKING_DELIVERY = "checking_delivery"

DELIVERY_NAMES: dict[str, Text] = {
    DELIVERY_PROVEN: N_("Delivery proven"),
    NOT_DELIVERING: N_("Connected but not delivering"),
    CHECKING_DELIVERY: N_("Checking delivery"),
}

#: the one thing to do about a number that is connected but not delivering (phone first)
NOT_DELIVERING_TODO = N_("Messages from this number do not arrive, although it shows as connected. Check that the "
                         "phone is on and has internet, and open WhatsApp on it; then press “Check delivery now” "
                         "on the number's page. If the check fails again, link the phone again with a new QR code.")


_ADVICE[(NOT_DELIVERING, FIXER)] = NOT_DELIVERING_TODO
_ADVICE[(NOT_DELIVERING, VIEWER)] = N_("Messages from this number do not arrive, although it shows as connected. Check "
                                       "that the school's phone is on and has internet, and open WhatsApp on it; if it "
                                       "lasts, tell an operator or an administrator of this school.")
_SHORT[(NOT_DELIVERING, FIXER)] = N_("Check the phone, then check delivery again")
_SHORT[(NOT_DELIVERING, VIEWER)] = N_("Check the phone, then tell an operator")


# --- a number's problem (an alert desk incident's kind) said inside a sentence -------------------------------------------
#: an incident's kind -> the state it leaves the number in (its name is :func:`state_name` of that)
INCIDENT_STATES: dict[str, str] = {"offline": OFFLINE, "logged_out": QR_REQUIRED, "cannot_check": CANNOT_CHECK,
                                   "key_rejected": ACCESS_REFUSED}

#: an incident's kind in the middle of a sentence ("“Reception”: offline since 09:12", "the number is offline since
#: …"): the alerts, the Number page, the diary say a problem with these words only
PROBLEM_WORDS: dict[str, Text] = {
    "offline": N_("offline"),
    "logged_out": N_("needs a new QR scan"),
    "cannot_check": N_("cannot be checked"),
    "key_rejected": N_("the access key is refused"),
    NOT_DELIVERING: N_("connected but not delivering"),
}


def problem_words(kind: str | None) -> Text:
    """A number's problem (an incident's kind) in the middle of a sentence; an unknown kind is said as offline."""
    return PROBLEM_WORDS.get(str(kind or ""), PROBLEM_WORDS["offline"])


def delivery_name(code: str) -> Text:
    """The one name of a proof-of-delivery state ("Connected but not delivering" / "Подключён, но не доставляет")."""
    return DELIVERY_NAMES[code]


def delivery_proven(time: str) -> Text:
    """"Delivery proven 09:12" (``time`` already formatted for the reader)."""
    return N_("Delivery proven {time}", time=time)


def not_delivering(since: str) -> Text:
    """"Not delivering since 09:12" (``since`` already formatted for the reader)."""
    return N_("Not delivering since {time}", time=since)



__all__ = [
    "ACCESS_REFUSED",
    "CANNOT_CHECK",
    "CHECKING_DELIVERY",
    "CONNECTED",
    "CONSOLE_ACTOR",
    "CONSOLE_NAME",
    "DELIVERY_NAMES",
    "DELIVERY_PROVEN",
    "FIXER",
    "INCIDENT_STATES",
    "NOT_CHECKED",
    "NOT_DELIVERING",
    "NOT_DELIVERING_TODO",
    "OFFLINE",
    "PROBLEM_WORDS",
    "PRELINKED",
    "QR_REQUIRED",
    "REFUSED_KINDS",
    "STARTING",
    "STATE_MARKS",
    "STATE_NAMES",
    "UNFINISHED",
    "UNKNOWN",
    "VIEWER",
    "advice",
    "delivery_name",
    "delivery_proven",
    "not_delivering",
    "problem_words",
    "short_advice",
    "shown_code",
    "state_code",
    "state_mark",
    "state_name",
    "state_since",
]
