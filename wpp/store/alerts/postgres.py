"""The alert desk's records on PostgreSQL (psycopg): the tables of the migration (see :mod:`wpp.store.alerts`)."""
from __future__ import annotations

from typing import Iterable

from ...models import AlertRecord, Incident, Mute
from .._common import check_limit
from .._common import pg_guard as _pg_guard
from .rows import (ACK_COLUMNS, ALERT_COLUMNS, ALERTS_TABLE, INCIDENT_COLUMNS, INCIDENTS_TABLE, MUTE_COLUMNS,
                   MUTES_TABLE, ack_args, alert_filter, alert_from_row, alert_values, claim_args, _ids, incident_from_row,
                   incident_values, mute_from_row, mute_values, outcome_values)


class PostgresAlerts:
    """The alert desk's records on PostgreSQL (see :mod:`wpp.store.alerts`)."""

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
        where, args = alert_filter("%s", organization_id=organization_id, integration_id=integration_id,
                                   status=status, unreported=unreported)
        sql = f"select * from public.{ALERTS_TABLE}" + where
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
