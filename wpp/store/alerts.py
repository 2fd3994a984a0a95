"""The alert desk's records in each backend: incidents (``wpp_console_incidents``) and alerts, one per incident,
event and recipient (``wpp_console_alerts``; in demo mode also the outbox).

Mixed into :class:`~wpp.store.sqlite.SqliteStore`, :class:`~wpp.store.postgres.PostgresStore` and
:class:`~wpp.store.supabase.SupabaseStore`. SQLite creates its tables itself on first use; PostgreSQL and Supabase get
them from ``supabase/migrations/20261126000000_wpp_console_alerts.sql`` and
``20261128120000_wpp_console_alert_delivery.sql`` (claims, stable ids, the "sending" state) and
``20261129120000_wpp_console_alert_features.sql`` (grouping, acknowledgements, mutes and maintenance).

Methods (the same in every backend; every failure is a StoreError in words):

* ``save_incident(incident)``: insert or replace an incident by its id;
* ``load_incidents(*, open_only=True)``: incidents (open ones: ``closed_at`` is null), oldest first;
* ``closed_incidents(*, limit=200)``: the closed ones, the most recently closed first (the Alerts page);
* ``queue_alerts(alerts)``: add alerts; one that exists already for its (incident, event, recipient) is left as
  it is (so two replicas, or a restart, never queue one twice). Returns how many were added;
* ``due_alerts(*, now, limit=100)``: alerts to try now: pending or retrying ones whose ``next_try_at`` has come, and
  "sending" ones whose claim ran out (their sender gave up or died); fewest tries first, then earliest;
* ``claim_alert(alert_id, *, holder, now, until)``: ONE conditional update (Healthchecks' ``UPDATE … WHERE …
  processed IS NULL``): the alert becomes ``sending`` by ``holder`` until ``until`` (one try more) only if it is
  still due; the claimed alert, or None when another sender got it (or it is not due any more);
* ``finish_alert(alert_id, *, status, attempts, next_try_at, sent_at=None, error=None, holder=None)``: what a try
  gave; with ``holder``, only while that sender's claim is the alert's (False otherwise: nothing written);
* ``list_alerts(*, limit=200, organization_id=None, integration_id=None, status=None, unreported=False)``: newest
  first (the outbox page; ``unreported``: failed alerts not yet told to the "*" recipients);
* ``mark_alerts_reported(ids, *, at)``: those failed alerts were told to the "*" recipients;
* ``prune_alerts(*, sent_before, failed_before, limit)`` / ``prune_incidents(*, closed_before, limit)``: delete at
  most ``limit`` delivered (or given-up) alerts / closed incidents older than that; how many were deleted;
* ``ack_incident(incident_id, *, by, at)``: "I'm on it" — only the first one counts, only while it is open
  (``save_incident`` never overwrites who acknowledged);
* mutes and maintenance windows (``wpp_console_mutes``): ``add_mute(mute)``, ``end_mute(id, *, at, by)`` (ends it
  early), ``list_mutes(*, since)`` (those not over before ``since``), ``prune_mutes(*, ended_before, limit)``.

The error texts stored are scrubbed of the secrets the store knows (defence in depth: the desk scrubs first).
"""
from __future__ import annotations

import hashlib
import json
from typing import Any, Iterable, Mapping

from ..errors import StoreError
from ..i18n import N_
from ..models import AlertRecord, Incident, Mute
from ._common import check_limit, ref_id, scrub_stored
from ._common import pg_guard as _pg_guard
from ._common import sb_guard as _sb_guard
from ._common import sqlite_guard as _sqlite_guard

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
#: columns added after the first version of the tables (SQLite files made by it get them on first use)
_SQLITE_ADDED = {
    INCIDENTS_TABLE: (("noticed_at", "REAL"), ("parent_id", "TEXT"), ("notice_id", "TEXT"), ("reminded_at", "REAL"),
                      ("acked_by", "TEXT"), ("acked_at", "REAL")),
    ALERTS_TABLE: (("uid", "TEXT"), ("claimed_by", "TEXT"), ("claim_until", "REAL"), ("reported_at", "REAL")),
}


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


# =================================================================================================================
# SQLite
# =================================================================================================================
_SQLITE_SCHEMA = (
    f"""
    CREATE TABLE IF NOT EXISTS {INCIDENTS_TABLE} (
        id              TEXT PRIMARY KEY NOT NULL,
        integration_id  TEXT NOT NULL,
        organization_id TEXT,
        kind            TEXT NOT NULL,
        started_at      REAL NOT NULL,
        notified_at     REAL,
        recovered_at    REAL,
        closed_at       REAL,
        noticed_at      REAL,
        parent_id       TEXT,
        notice_id       TEXT,
        reminded_at     REAL,
        acked_by        TEXT,
        acked_at        REAL
    )
    """,
    f"CREATE INDEX IF NOT EXISTS {INCIDENTS_TABLE}_open ON {INCIDENTS_TABLE} (closed_at, started_at)",
    f"""
    CREATE TABLE IF NOT EXISTS {ALERTS_TABLE} (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        incident_id     TEXT NOT NULL,
        event           TEXT NOT NULL,
        recipient       TEXT NOT NULL,
        channel         TEXT NOT NULL,
        shown_to        TEXT NOT NULL,
        lang            TEXT NOT NULL,
        subject         TEXT NOT NULL,
        body            TEXT NOT NULL,
        payload         TEXT CHECK (payload IS NULL OR json_valid(payload)),
        status          TEXT NOT NULL,
        attempts        INTEGER NOT NULL DEFAULT 0,
        created_at      REAL NOT NULL,
        next_try_at     REAL NOT NULL,
        sent_at         REAL,
        error           TEXT,
        integration_id  TEXT,
        organization_id TEXT,
        uid             TEXT,
        claimed_by      TEXT,
        claim_until     REAL,
        reported_at     REAL,
        UNIQUE (incident_id, event, recipient)
    )
    """,
    f"CREATE INDEX IF NOT EXISTS {ALERTS_TABLE}_due ON {ALERTS_TABLE} (status, next_try_at)",
    f"CREATE INDEX IF NOT EXISTS {ALERTS_TABLE}_created ON {ALERTS_TABLE} (created_at, id)",
    f"""
    CREATE TABLE IF NOT EXISTS {MUTES_TABLE} (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        scope           TEXT NOT NULL CHECK (scope IN ('number', 'school', 'platform')),
        target          TEXT NOT NULL,
        starts_at       REAL NOT NULL,
        ends_at         REAL NOT NULL,
        reason          TEXT NOT NULL DEFAULT '',
        created_by      TEXT NOT NULL,
        created_at      REAL NOT NULL,
        ended_at        REAL,
        ended_by        TEXT
    )
    """,
    f"CREATE INDEX IF NOT EXISTS {MUTES_TABLE}_ends ON {MUTES_TABLE} (ends_at)",
)




class SqliteAlerts:
    """The alert desk's records in the SQLite file (tables made on first use, see the module docstring)."""

    _alert_tables_ready = False

    def _alert_tables(self) -> None:
        if self._alert_tables_ready:
            return
        with self._write() as c:  # type: ignore[attr-defined]
            for stmt in _SQLITE_SCHEMA:
                c.execute(stmt)
            for table, columns in _SQLITE_ADDED.items():  # a file made by an older console
                have = {r[1] for r in c.execute(f"PRAGMA table_info({table})").fetchall()}
                for name, kind in columns:
                    if name not in have:
                        c.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")
        self._alert_tables_ready = True

    @_sqlite_guard
    def save_incident(self, incident: Incident) -> None:
        values = incident_values(incident)
        self._alert_tables()
        updates = ", ".join(f"{k} = excluded.{k}" for k in INCIDENT_COLUMNS if k != "id" and k not in ACK_COLUMNS)
        with self._write() as c:  # type: ignore[attr-defined]
            c.execute(f"INSERT INTO {INCIDENTS_TABLE} ({', '.join(INCIDENT_COLUMNS)})"
                      f" VALUES ({', '.join('?' * len(INCIDENT_COLUMNS))}) ON CONFLICT (id) DO UPDATE SET {updates}",
                      [values[k] for k in INCIDENT_COLUMNS])

    @_sqlite_guard
    def load_incidents(self, *, open_only: bool = True) -> list[Incident]:
        self._alert_tables()
        sql = f"SELECT * FROM {INCIDENTS_TABLE}"
        if open_only:
            sql += " WHERE closed_at IS NULL"
        rows = self._conn().execute(sql + " ORDER BY started_at, id").fetchall()  # type: ignore[attr-defined]
        return [incident_from_row(dict(r)) for r in rows]

    @_sqlite_guard
    def closed_incidents(self, *, limit: int = 200) -> list[Incident]:
        self._alert_tables()
        rows = self._conn().execute(  # type: ignore[attr-defined]
            f"SELECT * FROM {INCIDENTS_TABLE} WHERE closed_at IS NOT NULL ORDER BY closed_at DESC, id DESC LIMIT ?",
            (check_limit(limit),)).fetchall()
        return [incident_from_row(dict(r)) for r in rows]

    @_sqlite_guard
    def queue_alerts(self, alerts: Iterable[AlertRecord]) -> int:
        known = self._secrets.all()  # type: ignore[attr-defined]
        rows = [alert_values(a, known) for a in alerts]
        if not rows:
            return 0
        self._alert_tables()
        added = 0
        with self._write() as c:  # type: ignore[attr-defined]
            for v in rows:
                v["payload"] = None if v["payload"] is None else json.dumps(v["payload"], ensure_ascii=False)
                cur = c.execute(f"INSERT OR IGNORE INTO {ALERTS_TABLE} ({', '.join(ALERT_COLUMNS)})"
                                f" VALUES ({', '.join('?' * len(ALERT_COLUMNS))})", [v[k] for k in ALERT_COLUMNS])
                added += max(0, cur.rowcount)
        return added

    @_sqlite_guard
    def due_alerts(self, *, now: float, limit: int = 100) -> list[AlertRecord]:
        self._alert_tables()
        rows = self._conn().execute(  # type: ignore[attr-defined]
            f"SELECT * FROM {ALERTS_TABLE} WHERE (status IN ('pending', 'retry') AND next_try_at <= ?1)"
            " OR (status = 'sending' AND claim_until <= ?1)"
            " ORDER BY attempts, next_try_at, id LIMIT ?2", (float(now), check_limit(limit))).fetchall()
        return [alert_from_row(dict(r)) for r in rows]

    @_sqlite_guard
    def claim_alert(self, alert_id: int, *, holder: str, now: float, until: float) -> AlertRecord | None:
        holder, now, until = claim_args(holder, now, until)
        self._alert_tables()
        with self._write() as c:  # type: ignore[attr-defined]
            cur = c.execute(
                f"UPDATE {ALERTS_TABLE} SET status = 'sending', claimed_by = ?1, claim_until = ?2,"
                " attempts = attempts + 1 WHERE id = ?3 AND ((status IN ('pending', 'retry') AND next_try_at <= ?4)"
                " OR (status = 'sending' AND claim_until <= ?4))", (holder, until, int(alert_id), now))
            if cur.rowcount != 1:
                return None
            row = c.execute(f"SELECT * FROM {ALERTS_TABLE} WHERE id = ?", (int(alert_id),)).fetchone()
        return alert_from_row(dict(row))

    @_sqlite_guard
    def finish_alert(self, alert_id: int, *, status: str, attempts: int, next_try_at: float,
                     sent_at: float | None = None, error: str | None = None, holder: str | None = None) -> bool:
        v = outcome_values(status, attempts, next_try_at, sent_at, error, self._secrets.all())  # type: ignore[attr-defined]
        self._alert_tables()
        sql = (f"UPDATE {ALERTS_TABLE} SET status = ?, attempts = ?, next_try_at = ?, sent_at = ?, error = ?,"
               " claim_until = NULL WHERE id = ?")
        args: list = [v["status"], v["attempts"], v["next_try_at"], v["sent_at"], v["error"], int(alert_id)]
        if holder is not None:
            sql += " AND status = 'sending' AND claimed_by = ?"
            args.append(str(holder))
        with self._write() as c:  # type: ignore[attr-defined]
            return c.execute(sql, args).rowcount > 0

    @_sqlite_guard
    def list_alerts(self, *, limit: int = 200, organization_id: str | None = None,
                    integration_id: str | None = None, status: str | None = None,
                    unreported: bool = False) -> list[AlertRecord]:
        self._alert_tables()
        where, args = [], []
        if organization_id is not None:
            where.append("organization_id = ?")
            args.append(ref_id(organization_id))
        if integration_id is not None:
            where.append("integration_id = ?")
            args.append(ref_id(integration_id))
        if status is not None:
            where.append("status = ?")
            args.append(str(status))
        if unreported:
            where.append("reported_at IS NULL")
        sql = f"SELECT * FROM {ALERTS_TABLE}" + (" WHERE " + " AND ".join(where) if where else "")
        rows = self._conn().execute(sql + " ORDER BY created_at DESC, id DESC LIMIT ?",  # type: ignore[attr-defined]
                                    (*args, check_limit(limit))).fetchall()
        return [alert_from_row(dict(r)) for r in rows]

    @_sqlite_guard
    def mark_alerts_reported(self, alert_ids: Iterable[int], *, at: float) -> None:
        ids = _ids(alert_ids)
        if not ids:
            return
        self._alert_tables()
        with self._write() as c:  # type: ignore[attr-defined]
            c.execute(f"UPDATE {ALERTS_TABLE} SET reported_at = ? WHERE reported_at IS NULL AND id IN"
                      f" ({', '.join('?' * len(ids))})", (float(at), *ids))

    @_sqlite_guard
    def prune_alerts(self, *, sent_before: float, failed_before: float, limit: int = 500) -> int:
        self._alert_tables()
        with self._write() as c:  # type: ignore[attr-defined]
            return c.execute(
                f"DELETE FROM {ALERTS_TABLE} WHERE id IN (SELECT id FROM {ALERTS_TABLE} WHERE"
                " (status = 'sent' AND sent_at < ?) OR (status = 'failed' AND created_at < ?) LIMIT ?)",
                (float(sent_before), float(failed_before), check_limit(limit))).rowcount

    @_sqlite_guard
    def prune_incidents(self, *, closed_before: float, limit: int = 500) -> int:
        self._alert_tables()
        with self._write() as c:  # type: ignore[attr-defined]
            return c.execute(
                f"DELETE FROM {INCIDENTS_TABLE} WHERE id IN (SELECT id FROM {INCIDENTS_TABLE} WHERE"
                " closed_at IS NOT NULL AND closed_at < ? LIMIT ?)",
                (float(closed_before), check_limit(limit))).rowcount


    @_sqlite_guard
    def ack_incident(self, incident_id: str, *, by: str, at: float) -> bool:
        iid, by, at = ack_args(incident_id, by, at)
        self._alert_tables()
        with self._write() as c:  # type: ignore[attr-defined]
            return c.execute(f"UPDATE {INCIDENTS_TABLE} SET acked_by = ?, acked_at = ? WHERE id = ? AND acked_at IS NULL"
                             " AND closed_at IS NULL", (by, at, iid)).rowcount > 0

    @_sqlite_guard
    def add_mute(self, mute: Mute) -> Mute:
        v = mute_values(mute)
        self._alert_tables()
        with self._write() as c:  # type: ignore[attr-defined]
            cur = c.execute(f"INSERT INTO {MUTES_TABLE} ({', '.join(MUTE_COLUMNS)})"
                            f" VALUES ({', '.join('?' * len(MUTE_COLUMNS))})", [v[k] for k in MUTE_COLUMNS])
            return mute_from_row({**v, "id": cur.lastrowid})

    @_sqlite_guard
    def end_mute(self, mute_id: int, *, at: float, by: str) -> bool:
        self._alert_tables()
        with self._write() as c:  # type: ignore[attr-defined]
            return c.execute(f"UPDATE {MUTES_TABLE} SET ended_at = ?1, ended_by = ?2 WHERE id = ?3 AND ended_at IS NULL"
                             " AND ends_at > ?1", (float(at), str(by)[:200], int(mute_id))).rowcount > 0

    @_sqlite_guard
    def list_mutes(self, *, since: float) -> list[Mute]:
        self._alert_tables()
        rows = self._conn().execute(  # type: ignore[attr-defined]
            f"SELECT * FROM {MUTES_TABLE} WHERE min(ends_at, coalesce(ended_at, ends_at)) >= ?"
            " ORDER BY starts_at, id", (float(since),)).fetchall()
        return [mute_from_row(dict(r)) for r in rows]

    @_sqlite_guard
    def prune_mutes(self, *, ended_before: float, limit: int = 500) -> int:
        self._alert_tables()
        with self._write() as c:  # type: ignore[attr-defined]
            return c.execute(
                f"DELETE FROM {MUTES_TABLE} WHERE id IN (SELECT id FROM {MUTES_TABLE} WHERE"
                " min(ends_at, coalesce(ended_at, ends_at)) < ? LIMIT ?)",
                (float(ended_before), check_limit(limit))).rowcount


# =================================================================================================================
# PostgreSQL (psycopg): the tables of the migration
# =================================================================================================================


class PostgresAlerts:
    """The alert desk's records on PostgreSQL (see the module docstring)."""

    @_pg_guard
    def save_incident(self, incident: Incident) -> None:
        v = incident_values(incident)
        updates = ", ".join(f"{k} = excluded.{k}" for k in INCIDENT_COLUMNS if k != "id" and k not in ACK_COLUMNS)
        self._run(lambda c: c.execute(  # type: ignore[attr-defined]
            f"insert into public.{INCIDENTS_TABLE} ({', '.join(INCIDENT_COLUMNS)})"
            f" values ({', '.join(['%s'] * len(INCIDENT_COLUMNS))}) on conflict (id) do update set {updates},"
            " updated_at = now()", [v[k] for k in INCIDENT_COLUMNS]))

    @_pg_guard
    def load_incidents(self, *, open_only: bool = True) -> list[Incident]:
        sql = f"select * from public.{INCIDENTS_TABLE}" + (" where closed_at is null" if open_only else "")
        rows = self._run(lambda c: c.execute(sql + " order by started_at, id").fetchall())  # type: ignore[attr-defined]
        return [incident_from_row(r) for r in rows]

    @_pg_guard
    def closed_incidents(self, *, limit: int = 200) -> list[Incident]:
        rows = self._run(lambda c: c.execute(  # type: ignore[attr-defined]
            f"select * from public.{INCIDENTS_TABLE} where closed_at is not null order by closed_at desc, id desc"
            " limit %s", (check_limit(limit),)).fetchall())
        return [incident_from_row(r) for r in rows]

    @_pg_guard
    def queue_alerts(self, alerts: Iterable[AlertRecord]) -> int:
        known = self._known_secrets()  # type: ignore[attr-defined]
        rows = [alert_values(a, known) for a in alerts]
        if not rows:
            return 0
        sql = (f"insert into public.{ALERTS_TABLE} ({', '.join(ALERT_COLUMNS)})"
               f" values ({', '.join(['%s'] * len(ALERT_COLUMNS))})"
               " on conflict (incident_id, event, recipient) do nothing")

        def insert(c) -> int:
            added = 0
            for v in rows:
                v["payload"] = None if v["payload"] is None else self._jsonb(v["payload"])  # type: ignore[attr-defined]
                added += max(0, c.execute(sql, [v[k] for k in ALERT_COLUMNS]).rowcount)
            return added

        return self._run(insert)  # type: ignore[attr-defined]

    @_pg_guard
    def due_alerts(self, *, now: float, limit: int = 100) -> list[AlertRecord]:
        rows = self._run(lambda c: c.execute(  # type: ignore[attr-defined]
            f"select * from public.{ALERTS_TABLE} where (status in ('pending', 'retry') and next_try_at <= %(now)s)"
            " or (status = 'sending' and claim_until <= %(now)s) order by attempts, next_try_at, id limit %(n)s",
            {"now": float(now), "n": check_limit(limit)}).fetchall())
        return [alert_from_row(r) for r in rows]

    @_pg_guard
    def claim_alert(self, alert_id: int, *, holder: str, now: float, until: float) -> AlertRecord | None:
        holder, now, until = claim_args(holder, now, until)
        row = self._run(lambda c: c.execute(  # type: ignore[attr-defined]
            f"update public.{ALERTS_TABLE} set status = 'sending', claimed_by = %(holder)s, claim_until = %(until)s,"
            " attempts = attempts + 1 where id = %(id)s and ((status in ('pending', 'retry') and next_try_at <= %(now)s)"
            " or (status = 'sending' and claim_until <= %(now)s)) returning *",
            {"holder": holder, "until": until, "id": int(alert_id), "now": now}).fetchone())
        return None if row is None else alert_from_row(row)

    @_pg_guard
    def finish_alert(self, alert_id: int, *, status: str, attempts: int, next_try_at: float,
                     sent_at: float | None = None, error: str | None = None, holder: str | None = None) -> bool:
        v = outcome_values(status, attempts, next_try_at, sent_at, error, self._known_secrets())  # type: ignore[attr-defined]
        sql = (f"update public.{ALERTS_TABLE} set status = %s, attempts = %s, next_try_at = %s, sent_at = %s,"
               " error = %s, claim_until = null where id = %s")
        args: list = [v["status"], v["attempts"], v["next_try_at"], v["sent_at"], v["error"], int(alert_id)]
        if holder is not None:
            sql += " and status = 'sending' and claimed_by = %s"
            args.append(str(holder))
        return self._run(lambda c: c.execute(sql, args).rowcount) > 0  # type: ignore[attr-defined]

    @_pg_guard
    def list_alerts(self, *, limit: int = 200, organization_id: str | None = None,
                    integration_id: str | None = None, status: str | None = None,
                    unreported: bool = False) -> list[AlertRecord]:
        where, args = [], []
        if organization_id is not None:
            where.append("organization_id = %s")
            args.append(ref_id(organization_id))
        if integration_id is not None:
            where.append("integration_id = %s")
            args.append(ref_id(integration_id))
        if status is not None:
            where.append("status = %s")
            args.append(str(status))
        if unreported:
            where.append("reported_at is null")
        sql = f"select * from public.{ALERTS_TABLE}" + (" where " + " and ".join(where) if where else "")
        rows = self._run(lambda c: c.execute(sql + " order by created_at desc, id desc limit %s",  # type: ignore[attr-defined]
                                             (*args, check_limit(limit))).fetchall())
        return [alert_from_row(r) for r in rows]

    @_pg_guard
    def mark_alerts_reported(self, alert_ids: Iterable[int], *, at: float) -> None:
        ids = _ids(alert_ids)
        if ids:
            self._run(lambda c: c.execute(  # type: ignore[attr-defined]
                f"update public.{ALERTS_TABLE} set reported_at = %s where reported_at is null and id = any(%s)",
                (float(at), ids)))

    @_pg_guard
    def prune_alerts(self, *, sent_before: float, failed_before: float, limit: int = 500) -> int:
        return self._run(lambda c: c.execute(  # type: ignore[attr-defined]
            f"delete from public.{ALERTS_TABLE} where id in (select id from public.{ALERTS_TABLE} where"
            " (status = 'sent' and sent_at < %s) or (status = 'failed' and created_at < %s) limit %s)",
            (float(sent_before), float(failed_before), check_limit(limit))).rowcount)

    @_pg_guard
    def prune_incidents(self, *, closed_before: float, limit: int = 500) -> int:
        return self._run(lambda c: c.execute(  # type: ignore[attr-defined]
            f"delete from public.{INCIDENTS_TABLE} where id in (select id from public.{INCIDENTS_TABLE} where"
            " closed_at is not null and closed_at < %s limit %s)", (float(closed_before), check_limit(limit))).rowcount)


    @_pg_guard
    def ack_incident(self, incident_id: str, *, by: str, at: float) -> bool:
        iid, by, at = ack_args(incident_id, by, at)
        return self._run(lambda c: c.execute(  # type: ignore[attr-defined]
            f"update public.{INCIDENTS_TABLE} set acked_by = %s, acked_at = %s, updated_at = now() where id = %s"
            " and acked_at is null and closed_at is null", (by, at, iid)).rowcount) > 0

    @_pg_guard
    def add_mute(self, mute: Mute) -> Mute:
        v = mute_values(mute)
        row = self._run(lambda c: c.execute(  # type: ignore[attr-defined]
            f"insert into public.{MUTES_TABLE} ({', '.join(MUTE_COLUMNS)})"
            f" values ({', '.join(['%s'] * len(MUTE_COLUMNS))}) returning *", [v[k] for k in MUTE_COLUMNS]).fetchone())
        return mute_from_row(row)

    @_pg_guard
    def end_mute(self, mute_id: int, *, at: float, by: str) -> bool:
        return self._run(lambda c: c.execute(  # type: ignore[attr-defined]
            f"update public.{MUTES_TABLE} set ended_at = %(at)s, ended_by = %(by)s where id = %(id)s"
            " and ended_at is null and ends_at > %(at)s",
            {"at": float(at), "by": str(by)[:200], "id": int(mute_id)}).rowcount) > 0

    @_pg_guard
    def list_mutes(self, *, since: float) -> list[Mute]:
        rows = self._run(lambda c: c.execute(  # type: ignore[attr-defined]
            f"select * from public.{MUTES_TABLE} where least(ends_at, coalesce(ended_at, ends_at)) >= %s"
            " order by starts_at, id", (float(since),)).fetchall())
        return [mute_from_row(r) for r in rows]

    @_pg_guard
    def prune_mutes(self, *, ended_before: float, limit: int = 500) -> int:
        return self._run(lambda c: c.execute(  # type: ignore[attr-defined]
            f"delete from public.{MUTES_TABLE} where id in (select id from public.{MUTES_TABLE} where"
            " least(ends_at, coalesce(ended_at, ends_at)) < %s limit %s)",
            (float(ended_before), check_limit(limit))).rowcount)


# =================================================================================================================
# Supabase (PostgREST): the same tables, through the API
# =================================================================================================================


def _num(value: float) -> str:
    return repr(float(value))


class SupabaseAlerts:
    """The alert desk's records on Supabase (see the module docstring)."""

    @_sb_guard(N_("Saving an incident"))
    def save_incident(self, incident: Incident) -> None:
        v = {k: x for k, x in incident_values(incident).items() if k not in ACK_COLUMNS}
        self._client.table(INCIDENTS_TABLE).upsert(v, on_conflict="id").execute()  # type: ignore[attr-defined]

    @_sb_guard(N_("Reading the incidents"))
    def load_incidents(self, *, open_only: bool = True) -> list[Incident]:
        def query():
            q = self._client.table(INCIDENTS_TABLE).select("*")  # type: ignore[attr-defined]
            if open_only:
                q = q.is_("closed_at", "null")
            return q.order("started_at").order("id")

        return [incident_from_row(r) for r in self._all_pages(query)]  # type: ignore[attr-defined]

    @_sb_guard(N_("Reading the incidents"))
    def closed_incidents(self, *, limit: int = 200) -> list[Incident]:
        n = check_limit(limit)
        if n == 0:
            return []
        data = (self._client.table(INCIDENTS_TABLE).select("*")  # type: ignore[attr-defined]
                .not_.is_("closed_at", "null").order("closed_at", desc=True).order("id", desc=True)
                .limit(n).execute().data or [])
        return [incident_from_row(r) for r in data]

    @_sb_guard(N_("Queueing alerts"))
    def queue_alerts(self, alerts: Iterable[AlertRecord]) -> int:
        known = self._known_secrets()  # type: ignore[attr-defined]
        rows = [alert_values(a, known) for a in alerts]
        if not rows:
            return 0
        res = (self._client.table(ALERTS_TABLE)  # type: ignore[attr-defined]
               .upsert(rows, on_conflict="incident_id,event,recipient", ignore_duplicates=True).execute())
        return len(res.data or [])

    @_sb_guard(N_("Reading the alerts"))
    def due_alerts(self, *, now: float, limit: int = 100) -> list[AlertRecord]:
        n = check_limit(limit)
        if n == 0:
            return []
        data = (self._client.table(ALERTS_TABLE).select("*")  # type: ignore[attr-defined]
                .or_(_due_filter(now)).order("attempts").order("next_try_at").order("id").limit(n).execute().data
                or [])
        return [alert_from_row(r) for r in data]

    @_sb_guard(N_("Claiming an alert"))
    def claim_alert(self, alert_id: int, *, holder: str, now: float, until: float) -> AlertRecord | None:
        """Read the alert, then one conditional update that also compares its number of tries (PostgREST has no
        ``attempts + 1``): of two senders, only one changes the row."""
        holder, now, until = claim_args(holder, now, until)
        rows = (self._client.table(ALERTS_TABLE).select("*").eq("id", int(alert_id))  # type: ignore[attr-defined]
                .limit(1).execute().data or [])
        if not rows:
            return None
        tries = int(rows[0].get("attempts") or 0)
        data = (self._client.table(ALERTS_TABLE)  # type: ignore[attr-defined]
                .update({"status": "sending", "claimed_by": holder, "claim_until": until, "attempts": tries + 1})
                .eq("id", int(alert_id)).eq("attempts", tries).or_(_due_filter(now)).execute().data or [])
        return alert_from_row(data[0]) if data else None

    @_sb_guard(N_("Saving an alert"))
    def finish_alert(self, alert_id: int, *, status: str, attempts: int, next_try_at: float,
                     sent_at: float | None = None, error: str | None = None, holder: str | None = None) -> bool:
        from postgrest.types import ReturnMethod

        v = outcome_values(status, attempts, next_try_at, sent_at, error, self._known_secrets())  # type: ignore[attr-defined]
        v["claim_until"] = None
        if holder is None:
            (self._client.table(ALERTS_TABLE).update(v, returning=ReturnMethod.minimal)  # type: ignore[attr-defined]
             .eq("id", int(alert_id)).execute())
            return True
        data = (self._client.table(ALERTS_TABLE).update(v)  # type: ignore[attr-defined]
                .eq("id", int(alert_id)).eq("status", "sending").eq("claimed_by", str(holder)).execute().data or [])
        return bool(data)

    @_sb_guard(N_("Reading the alerts"))
    def list_alerts(self, *, limit: int = 200, organization_id: str | None = None,
                    integration_id: str | None = None, status: str | None = None,
                    unreported: bool = False) -> list[AlertRecord]:
        n = check_limit(limit)
        if n == 0:
            return []
        q = self._client.table(ALERTS_TABLE).select("*")  # type: ignore[attr-defined]
        if organization_id is not None:
            q = q.eq("organization_id", ref_id(organization_id))
        if integration_id is not None:
            q = q.eq("integration_id", ref_id(integration_id))
        if status is not None:
            q = q.eq("status", str(status))
        if unreported:
            q = q.is_("reported_at", "null")
        data = q.order("created_at", desc=True).order("id", desc=True).limit(n).execute().data or []
        return [alert_from_row(r) for r in data]

    @_sb_guard(N_("Saving an alert"))
    def mark_alerts_reported(self, alert_ids: Iterable[int], *, at: float) -> None:
        from postgrest.types import ReturnMethod

        ids = _ids(alert_ids)
        if ids:
            (self._client.table(ALERTS_TABLE)  # type: ignore[attr-defined]
             .update({"reported_at": float(at)}, returning=ReturnMethod.minimal)
             .in_("id", ids).is_("reported_at", "null").execute())

    @_sb_guard(N_("Deleting old alerts"))
    def prune_alerts(self, *, sent_before: float, failed_before: float, limit: int = 500) -> int:
        n = check_limit(limit)
        if n == 0:
            return 0
        rows = (self._client.table(ALERTS_TABLE).select("id")  # type: ignore[attr-defined]
                .or_(f"and(status.eq.sent,sent_at.lt.{_num(sent_before)}),"
                     f"and(status.eq.failed,created_at.lt.{_num(failed_before)})")
                .order("id").limit(n).execute().data or [])
        return self._delete_ids(ALERTS_TABLE, [int(r["id"]) for r in rows])

    @_sb_guard(N_("Deleting old incidents"))
    def prune_incidents(self, *, closed_before: float, limit: int = 500) -> int:
        n = check_limit(limit)
        if n == 0:
            return 0
        rows = (self._client.table(INCIDENTS_TABLE).select("id")  # type: ignore[attr-defined]
                .lt("closed_at", _num(closed_before)).order("id").limit(n).execute().data or [])
        return self._delete_ids(INCIDENTS_TABLE, [str(r["id"]) for r in rows])

    @_sb_guard(N_("Saving an acknowledgement"))
    def ack_incident(self, incident_id: str, *, by: str, at: float) -> bool:
        iid, by, at = ack_args(incident_id, by, at)
        data = (self._client.table(INCIDENTS_TABLE).update({"acked_by": by, "acked_at": at})  # type: ignore[attr-defined]
                .eq("id", iid).is_("acked_at", "null").is_("closed_at", "null").execute().data or [])
        return bool(data)

    @_sb_guard(N_("Saving a mute"))
    def add_mute(self, mute: Mute) -> Mute:
        v = mute_values(mute)
        data = self._client.table(MUTES_TABLE).insert(v).execute().data or []  # type: ignore[attr-defined]
        return mute_from_row(data[0]) if data else mute_from_row(v)

    @_sb_guard(N_("Saving a mute"))
    def end_mute(self, mute_id: int, *, at: float, by: str) -> bool:
        data = (self._client.table(MUTES_TABLE)  # type: ignore[attr-defined]
                .update({"ended_at": float(at), "ended_by": str(by)[:200]}).eq("id", int(mute_id))
                .is_("ended_at", "null").gt("ends_at", _num(at)).execute().data or [])
        return bool(data)

    @_sb_guard(N_("Reading the mutes"))
    def list_mutes(self, *, since: float) -> list[Mute]:
        def query():
            return (self._client.table(MUTES_TABLE).select("*")  # type: ignore[attr-defined]
                    .gte("ends_at", _num(since)).order("starts_at").order("id"))

        found = [mute_from_row(r) for r in self._all_pages(query)]  # type: ignore[attr-defined]
        return [m for m in found if m.until >= float(since)]

    @_sb_guard(N_("Deleting old mutes"))
    def prune_mutes(self, *, ended_before: float, limit: int = 500) -> int:
        n = check_limit(limit)
        if n == 0:
            return 0
        rows = (self._client.table(MUTES_TABLE).select("id")  # type: ignore[attr-defined]
                .or_(f"ends_at.lt.{_num(ended_before)},ended_at.lt.{_num(ended_before)}")
                .order("id").limit(n).execute().data or [])
        return self._delete_ids(MUTES_TABLE, [int(r["id"]) for r in rows])

    def _delete_ids(self, table: str, ids: list) -> int:
        if not ids:
            return 0
        from postgrest.types import ReturnMethod

        self._client.table(table).delete(returning=ReturnMethod.minimal).in_("id", ids).execute()  # type: ignore[attr-defined]
        return len(ids)


def _due_filter(now: float) -> str:
    """PostgREST's ``or`` for "due": waiting and its time has come, or claimed by a sender whose claim ran out."""
    x = _num(now)
    return f"and(status.in.({','.join(WAITING)}),next_try_at.lte.{x}),and(status.eq.sending,claim_until.lte.{x})"


__all__ = [
    "ALERTS_TABLE",
    "alert_uid",
    "ALERT_STATUSES",
    "INCIDENTS_TABLE",
    "MUTES_TABLE",
    "MUTE_SCOPES",
    "PostgresAlerts",
    "SqliteAlerts",
    "SupabaseAlerts",
]
