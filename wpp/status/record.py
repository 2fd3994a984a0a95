"""What one status check means for a number's board entry: calm status, history, the next check.

Pure functions (no store, no clock, no threads): :func:`advance` turns the previous :class:`StatusRecord` and one
:class:`CheckResult` into the new record, the history line to append (if the shown state changed) and the time
of the next check.

The *shown* state (:func:`shown_state`) is what staff see: the state the platform last reported, or
:data:`CANNOT_CHECK` once ``policy.failures_to_show`` checks in a row failed. One failed check leaves a connected
number connected on screen; a state the platform reports takes effect at once. The record keeps the last state
the platform reported even while the number cannot be checked ("last known: connected").
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from .. import errors as _errors
from ..errors import WppError
from ..i18n import Text
from ..models import Status, StatusChange, StatusRecord
from .policy import DEFAULT_POLICY, PollPolicy

#: the shown state of a number whose last ``failures_to_show`` checks failed (also the ``state`` of its history
#: line); every other shown state is a :class:`wpp.models.ConnState` value, or None before the first answer
CANNOT_CHECK = "cannot_check"


@dataclass(frozen=True)
class CheckResult:
    """What one question to the platform about one number gave: a status, or the error that stopped it.

    When both are given the status wins; when neither is, the check counts as failed ("no answer").

    ``observed_at``: when the observation was made (a poll: when its request started; a push: the platform's
    ``created`` when plausible, else its arrival). None: when it is recorded. The board keeps an observation only
    when it is not older than the one it shows (the newest state wins)."""

    status: Status | None = None
    error: WppError | None = None
    observed_at: float | None = None

    @classmethod
    def ok(cls, status: Status, observed_at: float | None = None) -> "CheckResult":
        return cls(status=status, observed_at=observed_at)

    @classmethod
    def failed(cls, error: WppError, observed_at: float | None = None) -> "CheckResult":
        return cls(error=error, observed_at=observed_at)


# --- errors as stored on the board ---------------------------------------------------------------------------
def _jsonable(value: "Text | str | None") -> "dict | str | None":
    if value is None:
        return None
    if isinstance(value, Text):
        return value.to_json()
    return str(value)


def error_to_dict(err: WppError) -> dict:
    """``{"kind", "status", "message", "action"}``; message/action as ``Text.to_json()`` when they are
    translatable (so a page shows them in its own language later), else plain text. Never the technical detail."""
    return {
        "kind": err.kind,
        "status": err.status,
        "message": _jsonable(err.message_text),
        "action": _jsonable(err.action_text),
    }


def _error_classes() -> dict[str, type[WppError]]:
    out: dict[str, type[WppError]] = {}
    for value in vars(_errors).values():
        if isinstance(value, type) and issubclass(value, WppError):
            out.setdefault(value.kind, value)
    return out


_ERROR_CLASSES = _error_classes()


def _text(value: Any) -> "Text | str | None":
    if isinstance(value, Mapping) and value.get("msgid"):
        return Text.from_json(value)
    if value in (None, ""):
        return None
    return str(value)


def error_from_dict(data: Mapping | None) -> WppError | None:
    """A stored board error back as a :class:`WppError` of its kind (``.message``/``.action`` in the current
    language, ``.status``, ``.kind``), for the UI's usual error display. None for None."""
    if not data:
        return None
    kind = str(data.get("kind") or "error")
    cls = _ERROR_CLASSES.get(kind, WppError)
    status = data.get("status")
    try:
        status = int(status) if status is not None else None
    except (TypeError, ValueError):
        status = None
    err = cls(_text(data.get("message")), action=_text(data.get("action")), status=status)
    if err.kind != kind:
        err.kind = kind  # a kind this version does not know: kept as stored
    return err


# --- calm status ---------------------------------------------------------------------------------------------
def shown_state(record: StatusRecord | None, policy: PollPolicy = DEFAULT_POLICY) -> str | None:
    """What staff see: a ConnState value, :data:`CANNOT_CHECK`, or None (never answered yet)."""
    if record is None:
        return None
    if record.error is not None and record.failures >= policy.failures_to_show:
        return CANNOT_CHECK
    return record.state


@dataclass(frozen=True)
class Step:
    """The outcome of :func:`advance`."""

    record: StatusRecord
    change: StatusChange | None
    fast_until: float | None  # checks stay fast until then (after a change of the platform's state)


def _jittered(delay: float, policy: PollPolicy, rand: Callable[[], float]) -> float:
    return delay * (1.0 + policy.jitter * (2.0 * rand() - 1.0))


def advance(
    prev: StatusRecord | None,
    result: CheckResult,
    *,
    integration_id: str,
    now: float,
    policy: PollPolicy = DEFAULT_POLICY,
    rand: Callable[[], float] = random.random,
    fast_until: float | None = None,
    not_before: float | None = None,
    watched: bool = False,
    pushed: bool = False,
    by_push: bool = False,
) -> Step:
    """Apply one check (or push) recorded at ``now``, observed at ``result.observed_at`` (default ``now``): the
    record's ``observed_at``, and the moment a change of state is dated (``since``, the history line).

    ``fast_until``: the number is in its "after a change" window until then (kept by the caller).
    ``not_before``: the next check is not earlier than this (the pairing panel's hold-off).
    ``watched``: a pairing panel shows the number (in any replica): see :meth:`PollPolicy.interval`. The record
    keeps ``prev.watched_until`` (the heartbeat is the store's to keep, never the check's).
    ``pushed``: the platform pushes the number's events (:meth:`PollPolicy.pushed`): the next check is a sanity
    check. The record keeps ``prev.last_event_at`` too (the store's to keep, like the heartbeat).
    ``by_push``: the platform pushed this state: a change opens no fast window (the platform pushes the next change
    too; polling fast after a push would cost a dozen checks for nothing).
    """
    before = shown_state(prev, policy)
    seen_at = float(result.observed_at) if result.observed_at is not None else now
    if seen_at > now:
        seen_at = now
    if result.status is not None:
        st = result.status
        state = st.state.value
        new = StatusRecord(
            integration_id=integration_id, state=state, raw=st.raw, since=None, checked_at=now, ok_at=now,
            failures=0, error=None, next_check_at=None,
            phone=st.phone or (prev.phone if prev else None),
        )
        # a different state than the platform said before: fast again for a while (not the first answer, nor
        # the same state again after a spell of failed checks, nor pairing's steps while nobody watches)
        if not by_push and prev is not None and policy.opens_fast_window(prev.state, state, watched=watched):
            fast_until = now + policy.fast_window_s
    else:
        err = result.error if result.error is not None else _errors.BadResponse()
        failures = (prev.failures if prev else 0) + 1
        new = StatusRecord(
            integration_id=integration_id,
            state=prev.state if prev else None,
            raw=prev.raw if prev else None,
            since=None,
            checked_at=now,
            ok_at=prev.ok_at if prev else None,
            failures=failures,
            error=error_to_dict(err),
            next_check_at=None,
            phone=prev.phone if prev else None,
        )
    after = shown_state(new, policy)

    change: StatusChange | None = None
    if after != before:
        since = seen_at
        if after == CANNOT_CHECK and prev is not None and prev.failures >= 1 and prev.checked_at is not None:
            since = prev.checked_at  # it could not be checked since the first failed check of this run
        change = StatusChange(integration_id=integration_id, state=after, at=since, previous=before, raw=new.raw,
                              error=new.error if after == CANNOT_CHECK else None)
    else:
        since = prev.since if prev is not None else None
        if (after == CANNOT_CHECK and prev is not None and prev.error and new.error
                and prev.error.get("kind") != new.error.get("kind")):
            # still cannot be checked, for another reason now (e.g. the key is rejected instead of a timeout)
            change = StatusChange(integration_id=integration_id, state=after, at=seen_at, previous=before,
                                  raw=new.raw, error=new.error)

    if fast_until is not None and fast_until <= now:
        fast_until = None
    if new.failures:
        delay = policy.retry(new.failures)
    else:
        delay = policy.interval(new.state, (now - since) if since is not None else None, watched=watched,
                                fast=fast_until is not None, pushed=pushed)
    next_at = now + _jittered(delay, policy, rand)
    if not_before is not None:
        next_at = max(next_at, not_before)
    record = StatusRecord(
        integration_id=integration_id, state=new.state, raw=new.raw, since=since, checked_at=new.checked_at,
        ok_at=new.ok_at, failures=new.failures, error=new.error, next_check_at=next_at, phone=new.phone,
        watched_until=prev.watched_until if prev is not None else None,
        last_event_at=prev.last_event_at if prev is not None else None,
        observed_at=seen_at,
    )
    return Step(record, change, fast_until)


def is_stale(prev: StatusRecord | None, result: CheckResult) -> bool:
    """Whether ``result`` was observed before what ``prev`` shows (the newest state wins: it is dropped)."""
    return (prev is not None and prev.observed_at is not None and result.observed_at is not None
            and float(result.observed_at) < float(prev.observed_at))


__all__ = [
    "CANNOT_CHECK",
    "CheckResult",
    "Step",
    "advance",
    "is_stale",
    "error_from_dict",
    "error_to_dict",
    "shown_state",
]
