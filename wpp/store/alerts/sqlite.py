"""The alert desk's records in the SQLite file: its tables, made on first use (see :mod:`wpp.store.alerts`)."""
from __future__ import annotations

import json
from typing import Iterable

from ...models import AlertRecord, Incident, Mute
from .._common import check_limit
from .._common import sqlite_guard as _sqlite_guard
from .rows import (ACK_COLUMNS, ALERT_COLUMNS, ALERTS_TABLE, INCIDENT_COLUMNS, INCIDENTS_TABLE, MUTE_COLUMNS,
                   MUTES_TABLE, ack_args, alert_filter, alert_from_row, alert_values, claim_args, _ids, incident_from_row,
                   incident_values, mute_from_row, mute_values, outcome_values)


#: columns added after the first version of the tables (SQLite files made by it get them on first use)
_SQLITE_ADDED = {
    INCIDENTS_TABLE: (("noticed_at", "REAL"), ("parent_id", "TEXT"), ("notice_id", "TEXT"), ("reminded_at", "REAL"),
                      ("acked_by", "TEXT"), ("acked_at", "REAL")),
    ALERTS_TABLE: (("uid", "TEXT"), ("claimed_by", "TEXT"), ("claim_until", "REAL"), ("reported_at", "REAL")),
}

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
    """The alert desk's records in the SQLite file (tables made on first use, see :mod:`wpp.store.alerts`)."""

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
        where, args = alert_filter("?", organization_id=organization_id, integration_id=integration_id,
                                   status=status, unreported=unreported)
        sql = f"SELECT * FROM {ALERTS_TABLE}" + where
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
