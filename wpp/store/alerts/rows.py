"""The alert desk's tables, shared by every backend: their names and columns, and an incident, a mute or an alert
as the values written and back from a row read (checked: a bad one is a StoreError in words)."""
from __future__ import annotations

import hashlib
import json
from typing import Any, Iterable, Mapping

from ...errors import StoreError
from ...i18n import N_
from ...models import AlertRecord, Incident, Mute
from .._common import ref_id, scrub_stored

INCIDENTS_TABLE = "wpp_console_incidents"
ALERTS_TABLE = "wpp_console_alerts"
INCIDENT_COLUMNS = ("id", "integration_id", "organization_id", "kind", "started_at", "notified_at", "recovered_at",
                    "closed_at", "noticed_at", "parent_id", "notice_id", "reminded_at", "acked_by", "acked_at")
#: written by ``ack_incident`` only: the desk's saves of an incident never overwrite who said "I'm on it"
ACK_COLUMNS = ("acked_by", "acked_at")
MUTES_TABLE = "wpp_console_mutes"
MUTE_COLUMNS = ("scope", "target", "starts_at", "ends_at", "reason", "created_by", "created_at", "ended_at",
                "ended_by")
MUTE_SCOPES = ("number", "school", "platform")
#: the columns written when an alert is queued (its claim and report columns start empty)
ALERT_COLUMNS = ("incident_id", "event", "recipient", "channel", "shown_to", "lang", "subject", "body", "payload",
                 "status", "attempts", "created_at", "next_try_at", "sent_at", "error", "integration_id",
                 "organization_id", "uid")
ALERT_STATUSES = ("pending", "sending", "retry", "sent", "failed")
#: statuses of an alert still to be tried (a "sending" one whose claim ran out is due again too)
WAITING = ("pending", "retry")
_TEXT_MAX = 20_000


# --- values and rows -----------------------------------------------------------------------------------------
def _float(v: Any) -> float | None:
    return None if v is None else float(v)


def alert_uid(incident_id: str, event: str, recipient: str) -> str:
    """An alert's stable id: the same for its (incident, event, recipient) in every replica and on every try, so a
    receiver can drop a duplicate. ``wpp-`` and 32 hex digits (no personal data: a hash)."""
    digest = hashlib.sha256("\x1f".join((str(incident_id), str(event), str(recipient))).encode("utf-8"))
    return "wpp-" + digest.hexdigest()[:32]


def incident_values(incident: Incident) -> dict:
    if not isinstance(incident, Incident) or not incident.id or not incident.integration_id:
        raise StoreError(N_("An incident without an id cannot be saved."))
    return {
        "id": str(incident.id)[:200],
        "integration_id": ref_id(incident.integration_id),
        "organization_id": ref_id(incident.organization_id),
        "kind": str(incident.kind)[:40],
        "started_at": float(incident.started_at),
        "notified_at": _float(incident.notified_at),
        "recovered_at": _float(incident.recovered_at),
        "closed_at": _float(incident.closed_at),
        "noticed_at": _float(incident.noticed_at),
        "parent_id": None if incident.parent_id is None else str(incident.parent_id)[:200],
        "notice_id": None if incident.notice_id is None else str(incident.notice_id)[:250],
        "reminded_at": _float(incident.reminded_at),
        "acked_by": None if incident.acked_by is None else str(incident.acked_by)[:200],
        "acked_at": _float(incident.acked_at),
    }


def incident_from_row(row: Mapping) -> Incident:
    return Incident(
        id=str(row["id"]),
        integration_id=str(row["integration_id"]),
        organization_id=None if row.get("organization_id") is None else str(row["organization_id"]),
        kind=str(row.get("kind") or ""),
        started_at=float(row["started_at"]),
        notified_at=_float(row.get("notified_at")),
        recovered_at=_float(row.get("recovered_at")),
        closed_at=_float(row.get("closed_at")),
        noticed_at=_float(row.get("noticed_at")),
        parent_id=None if row.get("parent_id") is None else str(row["parent_id"]),
        notice_id=None if row.get("notice_id") is None else str(row["notice_id"]),
        reminded_at=_float(row.get("reminded_at")),
        acked_by=None if row.get("acked_by") is None else str(row["acked_by"]),
        acked_at=_float(row.get("acked_at")),
    )


def ack_args(incident_id: str, by: str, at: float) -> tuple[str, str, float]:
    incident_id, by = str(incident_id or "").strip(), " ".join(str(by or "").split())
    if not incident_id or not by:
        raise StoreError(N_("An acknowledgement needs an incident and a person."))
    return incident_id[:200], by[:200], float(at)


def mute_values(mute: Mute) -> dict:
    if not isinstance(mute, Mute) or mute.scope not in MUTE_SCOPES or not str(mute.target or "").strip():
        raise StoreError(N_("A mute needs what it is for: a number, a school or the platform."))
    if not float(mute.ends_at) > float(mute.starts_at):
        raise StoreError(N_("A mute must end after it starts."))
    target = "*" if mute.scope == "platform" else (ref_id(mute.target) or "")
    return {
        "scope": mute.scope,
        "target": target[:200],
        "starts_at": float(mute.starts_at),
        "ends_at": float(mute.ends_at),
        "reason": " ".join(str(mute.reason or "").split())[:300],
        "created_by": str(mute.created_by or "")[:200],
        "created_at": float(mute.created_at),
        "ended_at": _float(mute.ended_at),
        "ended_by": None if mute.ended_by is None else str(mute.ended_by)[:200],
    }


def mute_from_row(row: Mapping) -> Mute:
    return Mute(
        scope=str(row["scope"]), target=str(row["target"]), starts_at=float(row["starts_at"]),
        ends_at=float(row["ends_at"]), created_by=str(row.get("created_by") or ""),
        created_at=float(row["created_at"]), reason=str(row.get("reason") or ""), ended_at=_float(row.get("ended_at")),
        ended_by=None if row.get("ended_by") is None else str(row["ended_by"]),
        id=None if row.get("id") is None else int(row["id"]))


def alert_values(alert: AlertRecord, secrets: Iterable[str | None] = ()) -> dict:
    if alert.status not in ALERT_STATUSES:
        raise StoreError(N_("An alert's status must be one of {statuses}.", statuses=", ".join(ALERT_STATUSES)))
    incident_id, event, recipient = str(alert.incident_id)[:200], str(alert.event)[:40], str(alert.recipient)[:300]
    return {
        "incident_id": incident_id,
        "event": event,
        "recipient": recipient,
        "channel": str(alert.channel)[:20],
        "shown_to": str(alert.shown_to)[:300],
        "lang": str(alert.lang)[:10],
        "subject": str(alert.subject)[:1000],
        "body": str(alert.body)[:_TEXT_MAX],
        "payload": alert.payload if alert.payload is not None else None,
        "status": alert.status,
        "attempts": int(alert.attempts),
        "created_at": float(alert.created_at),
        "next_try_at": float(alert.next_try_at),
        "sent_at": _float(alert.sent_at),
        "error": scrub_stored(alert.error, secrets) if alert.error else None,
        "integration_id": ref_id(alert.integration_id),
        "organization_id": ref_id(alert.organization_id),
        "uid": str(alert.uid)[:80] if alert.uid else alert_uid(incident_id, event, recipient),
    }


def alert_from_row(row: Mapping) -> AlertRecord:
    payload = row.get("payload")
    if isinstance(payload, str):
        try:
            payload = json.loads(payload)
        except ValueError:
            payload = None
    incident_id, event, recipient = str(row["incident_id"]), str(row["event"]), str(row["recipient"])
    return AlertRecord(
        incident_id=incident_id,
        event=event,
        recipient=recipient,
        channel=str(row["channel"]),
        shown_to=str(row.get("shown_to") or ""),
        lang=str(row.get("lang") or ""),
        subject=str(row.get("subject") or ""),
        body=str(row.get("body") or ""),
        created_at=float(row["created_at"]),
        next_try_at=float(row["next_try_at"]),
        integration_id=None if row.get("integration_id") is None else str(row["integration_id"]),
        organization_id=None if row.get("organization_id") is None else str(row["organization_id"]),
        payload=payload if isinstance(payload, dict) else None,
        status=str(row.get("status") or "pending"),
        attempts=int(row.get("attempts") or 0),
        sent_at=_float(row.get("sent_at")),
        error=None if row.get("error") is None else str(row["error"]),
        id=None if row.get("id") is None else int(row["id"]),
        uid=str(row.get("uid") or "") or alert_uid(incident_id, event, recipient),
        claimed_by=None if row.get("claimed_by") is None else str(row["claimed_by"]),
        claim_until=_float(row.get("claim_until")),
        reported_at=_float(row.get("reported_at")),
    )


def outcome_values(status: str, attempts: int, next_try_at: float, sent_at: float | None, error: str | None,
                   secrets: Iterable[str | None] = ()) -> dict:
    if status not in ALERT_STATUSES or status == "sending":
        raise StoreError(N_("An alert's status must be one of {statuses}.",
                            statuses=", ".join(s for s in ALERT_STATUSES if s != "sending")))
    return {"status": status, "attempts": int(attempts), "next_try_at": float(next_try_at),
            "sent_at": _float(sent_at), "error": scrub_stored(error, secrets) if error else None}


def alert_filter(mark: str, *, organization_id: str | None = None, integration_id: str | None = None,
                 status: str | None = None, unreported: bool = False) -> tuple[str, list]:
    """``list_alerts``' filter in SQL: the WHERE clause ("" for none; ``mark`` is the driver's placeholder, ``?`` or
    ``%s``) and its arguments, in order."""
    where, args = [], []
    if organization_id is not None:
        where.append(f"organization_id = {mark}")
        args.append(ref_id(organization_id))
    if integration_id is not None:
        where.append(f"integration_id = {mark}")
        args.append(ref_id(integration_id))
    if status is not None:
        where.append(f"status = {mark}")
        args.append(str(status))
    if unreported:
        where.append("reported_at is null")
    return (" where " + " and ".join(where) if where else ""), args


def claim_args(holder: str, now: float, until: float) -> tuple[str, float, float]:
    holder = str(holder or "").strip()
    if not holder or len(holder) > 200:
        raise StoreError(N_("An alert can only be claimed by a named sender."), detail=f"holder {holder[:40]!r}")
    now, until = float(now), float(until)
    if not until > now:
        raise StoreError(N_("An alert's claim must end after it starts."), detail=f"now {now}, until {until}")
    return holder, now, until


def _ids(ids: Iterable[int]) -> list[int]:
    return sorted({int(i) for i in ids})
