"""The alert desk's records on Supabase (PostgREST): the same tables, through the API (see :mod:`wpp.store.alerts`)."""
from __future__ import annotations

from typing import Iterable

from ...i18n import N_
from ...models import AlertRecord, Incident, Mute
from .._common import check_limit, ref_id
from .._common import sb_guard as _sb_guard
from .rows import (ACK_COLUMNS, ALERTS_TABLE, INCIDENTS_TABLE, MUTES_TABLE, WAITING, ack_args, alert_from_row,
                   alert_values, claim_args, _ids, incident_from_row, incident_values, mute_from_row, mute_values,
                   outcome_values)


def _num(value: float) -> str:
    return repr(float(value))


class SupabaseAlerts:
    """The alert desk's records on Supabase (see :mod:`wpp.store.alerts`)."""

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
