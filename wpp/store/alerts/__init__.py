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

The rooms: :mod:`.rows` (the tables' names and columns, values and rows, shared by every backend), then one file per
backend: :mod:`.sqlite`, :mod:`.postgres`, :mod:`.supabase`.
"""
from __future__ import annotations

from .postgres import PostgresAlerts
from .rows import ALERT_STATUSES, ALERTS_TABLE, INCIDENTS_TABLE, MUTE_SCOPES, MUTES_TABLE, alert_uid
from .sqlite import SqliteAlerts
from .supabase import SupabaseAlerts

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
