"""The status board as every backend writes and reads it: a number's entry and its history lines as values (secrets
scrubbed) and back from rows, the pairing panel's watch, the ids asked for."""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from ..errors import StoreError
from ..i18n import N_
from ..models import StatusChange, StatusRecord
from ._common import _BUG, _float, _text, dump_json, load_json, ref_id, scrub_json


# --- the status board ------------------------------------------------------------------------------------------
STATUS_COLUMNS = ("integration_id", "state", "raw", "since", "checked_at", "ok_at", "failures", "error",
                  "next_check_at", "phone", "observed_at")
HISTORY_COLUMNS = ("integration_id", "state", "previous", "raw", "at", "error", "late")


def status_values(record: StatusRecord, secrets: Iterable[str | None] = ()) -> dict:
    """A board entry as column values (``error`` as a Python dict, its texts scrubbed of secrets)."""
    if not isinstance(record, StatusRecord):
        raise StoreError(N_("A number's status could not be saved."), action=_BUG, detail=f"got {type(record).__name__}")
    iid = ref_id(record.integration_id)
    if not iid:
        raise StoreError(N_("A number's status could not be saved."), action=_BUG, detail="no integration id")
    error = scrub_json(dict(record.error), secrets) if record.error is not None else None
    if error is not None:
        dump_json(error)
    return {
        "integration_id": iid,
        "state": _text(record.state),
        "raw": _text(record.raw),
        "since": _float(record.since),
        "checked_at": _float(record.checked_at),
        "ok_at": _float(record.ok_at),
        "failures": int(record.failures or 0),
        "error": error,
        "next_check_at": _float(record.next_check_at),
        "phone": _text(record.phone),
        "observed_at": _float(record.observed_at),
    }


def watch_args(integration_id: Any, until: Any, check_by: Any) -> tuple[str, float, float | None]:
    """``watch_status``' arguments checked: (canonical id, until, check_by or None)."""
    iid = ref_id(integration_id) if isinstance(integration_id, str) else None
    try:
        until_f = float(until)
        check_f = None if check_by is None else float(check_by)
    except (TypeError, ValueError):
        until_f = check_f = float("nan")
    if not iid or until_f != until_f or (check_f is not None and check_f != check_f):
        raise StoreError(N_("A number's status could not be saved."), action=_BUG,
                         detail="watch_status needs an integration id and times in Unix seconds")
    return iid, until_f, check_f


def change_values(change: StatusChange, secrets: Iterable[str | None] = ()) -> dict:
    if not isinstance(change, StatusChange):
        raise StoreError(N_("A number's status could not be saved."), action=_BUG, detail=f"got {type(change).__name__}")
    iid = ref_id(change.integration_id)
    if not iid or change.at is None:
        raise StoreError(N_("A number's status could not be saved."), action=_BUG,
                         detail="a change needs an integration id and a time")
    error = scrub_json(dict(change.error), secrets) if change.error is not None else None
    if error is not None:
        dump_json(error)
    return {
        "integration_id": iid,
        "state": _text(change.state),
        "previous": _text(change.previous),
        "raw": _text(change.raw),
        "at": float(change.at),
        "error": error,
        "late": bool(change.late),
    }


def status_from_row(row: Mapping) -> StatusRecord:
    error = load_json(row.get("error"))
    return StatusRecord(
        integration_id=str(row["integration_id"]),
        state=_text(row.get("state")),
        raw=_text(row.get("raw")),
        since=_float(row.get("since")),
        checked_at=_float(row.get("checked_at")),
        ok_at=_float(row.get("ok_at")),
        failures=int(row.get("failures") or 0),
        error=error if isinstance(error, dict) else None,
        next_check_at=_float(row.get("next_check_at")),
        phone=_text(row.get("phone")),
        watched_until=_float(row.get("watched_until")),
        last_event_at=_float(row.get("last_event_at")),
        observed_at=_float(row.get("observed_at")),
    )


def change_from_row(row: Mapping) -> StatusChange:
    error = load_json(row.get("error"))
    return StatusChange(
        integration_id=str(row["integration_id"]),
        state=_text(row.get("state")),
        at=float(row["at"]),
        previous=_text(row.get("previous")),
        raw=_text(row.get("raw")),
        error=error if isinstance(error, dict) else None,
        id=int(row["id"]) if row.get("id") is not None else None,
        late=bool(row.get("late") or False),
    )


def status_ids(integration_ids: Iterable[str] | None) -> list[str] | None:
    """``load_statuses``' ids, canonical and without repeats (None: all of them)."""
    if integration_ids is None:
        return None
    if isinstance(integration_ids, str):
        integration_ids = [integration_ids]
    return list(dict.fromkeys(i for i in (ref_id(x) for x in integration_ids) if i))
