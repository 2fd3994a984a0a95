"""For whoever runs the console: is this replica's watch healthy (``/_wpp/health``), and its figures in Prometheus'
text format (``/_wpp/metrics``). Framework-free; ``wppui.routes`` is the thin HTTP side.

**Health** (:func:`health`) says, without a secret and without any school's data: whether this replica's watch runs
(the status poller's loop, the alert sender's loop), who holds the poller's and the alert sender's leases, how
overdue the oldest due check is, how old the newest answer from the platform is, how many alerts wait or failed.
It is *unhealthy* (a probe should restart the replica, or page someone) when:

* the configuration cannot be used, or the store cannot be read;
* this replica's poller (or alert sender, when alerts are on) does not run: it died, or was stopped;
* nobody holds the poller's lease, once the lease had time to be taken (nobody watches anything);
* a check is overdue far beyond its interval (``overdue_limit_s``): the poller is stuck.

The platform itself being down is not this replica's fault: it is reported (the answer's age), never a failure.
Results are kept ``cache_s`` seconds, so a probe every second costs a few store reads a minute.

**Metrics** (:func:`metrics_text`): one :class:`ConsoleCollector` in a registry made for the request (never the
process-wide default registry). Counters are this replica's since it started (Prometheus adds the instance); the
numbers by state and the alerts by channel and status are the deployment's (read from the shared store).
"""
from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ..errors import WppError

log = logging.getLogger("wpp.service.ops")

#: alert statuses that are done (anything else still waits: pending, retry, sending, ...)
ALERT_DONE = frozenset({"sent", "failed", "undeliverable", "given_up", "cancelled"})
#: alert statuses that count as failed
ALERT_FAILED = frozenset({"failed", "undeliverable", "given_up"})
#: how many of the newest alerts are counted
ALERT_SAMPLE = 1000
#: a health answer is reused this long (seconds): probes every second cost a few store reads a minute
HEALTH_CACHE_S = 2.0


@dataclass
class Health:
    """What :func:`health` found. ``as_dict()`` is the route's JSON body."""

    ok: bool
    problems: list[str] = field(default_factory=list)
    detail: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"status": "ok" if self.ok else "fail", "problems": list(self.problems), **self.detail}


class _Cache:
    def __init__(self):
        self.lock = threading.Lock()
        self.value: Any = None
        self.at: float | None = None
        self.key: Any = None


_health_cache = _Cache()
_rows_cache = _Cache()


def _pollable_ids(svc, now: float) -> set[str]:
    """The ids of the numbers the poller asks about (read at most every 10 s)."""
    with _rows_cache.lock:
        if _rows_cache.key is svc and _rows_cache.at is not None and 0 <= now - _rows_cache.at < 10.0:
            return _rows_cache.value
    ids = {r.id for r in svc.store.list_integrations() if r.is_active and r.api_key and r.session}
    with _rows_cache.lock:
        _rows_cache.key, _rows_cache.value, _rows_cache.at = svc, ids, now
    return ids


def alert_counts(store) -> Counter:
    """(channel, status) -> how many, among the newest :data:`ALERT_SAMPLE` alerts (tolerant of any status)."""
    out: Counter = Counter()
    if not hasattr(store, "list_alerts"):
        return out
    for a in store.list_alerts(limit=ALERT_SAMPLE):
        out[(str(getattr(a, "channel", "") or "unknown"), str(getattr(a, "status", "") or "unknown"))] += 1
    return out


def overdue_limit(policy) -> float:
    """How late a due check may be before the watch counts as stuck: five connected intervals, at least 5 minutes."""
    return max(300.0, 5.0 * float(getattr(policy, "connected_s", 60.0)))


def health(svc, *, now: float | None = None, cache_s: float | None = None) -> Health:
    """This replica's watch, as a probe sees it (see the module docstring). ``svc``: the process-wide service."""
    cache_s = HEALTH_CACHE_S if cache_s is None else float(cache_s)
    clock_now = svc.clock.time() if now is None else float(now)
    with _health_cache.lock:
        if (_health_cache.key is svc and _health_cache.at is not None
                and 0 <= time.monotonic() - _health_cache.at < cache_s):
            return _health_cache.value
    found = _health(svc, clock_now)
    with _health_cache.lock:
        _health_cache.key, _health_cache.value, _health_cache.at = svc, found, time.monotonic()
    return found


def _health(svc, now: float) -> Health:
    from ..alerts.desk import ALERT_LEASE
    from ..status import POLLER_LEASE

    engine = svc.engine
    desk = getattr(svc, "alerts", None)
    problems: list[str] = []
    detail: dict[str, Any] = {"replica": getattr(engine, "holder", None)}
    poller_running = bool(engine is not None and engine.running)
    alerts_running = None if desk is None else bool(desk.running)
    detail["watch"] = {"poller_running": poller_running, "poller_leader": bool(engine is not None and engine.is_leader),
                       "alerts_on": desk is not None, "alerts_running": alerts_running,
                       "webhooks_on": bool(getattr(svc, "webhooks_on", False))}
    if not poller_running:
        problems.append("the status poller of this replica is not running")
    if desk is not None and not alerts_running:
        problems.append("the alert sender of this replica is not running")
    try:
        holders = {POLLER_LEASE: svc.store.lease_holder(POLLER_LEASE, now=now),
                   ALERT_LEASE: svc.store.lease_holder(ALERT_LEASE, now=now)}
        records = engine.records() if engine is not None else {}
        pollable = _pollable_ids(svc, now)
        alerts = alert_counts(svc.store)
    except WppError as err:
        problems.append(f"the store cannot be read: {err.english}")
        return Health(False, problems, detail)
    detail["leases"] = holders
    policy = getattr(engine, "policy", None)
    started = engine.started_at if engine is not None else None
    grace = (policy.lease_ttl_s + policy.lease_retry_s + 5.0) if policy is not None else 60.0
    if holders[POLLER_LEASE] is None and (started is None or now - started > grace):
        problems.append("nobody holds the status poller's lease: no replica checks the numbers")
    due = [now - r.next_check_at for iid, r in records.items()
           if iid in pollable and r.next_check_at is not None and r.next_check_at < now]
    oldest = max(due) if due else 0.0
    limit = overdue_limit(policy)
    detail["checks"] = {"numbers": len(pollable), "oldest_due_s": round(oldest, 1), "overdue_limit_s": limit}
    if oldest > limit:
        problems.append(f"a check is {oldest:.0f} s overdue (more than {limit:.0f} s): the poller is stuck")
    answers = [r.ok_at for r in records.values() if r.ok_at is not None]
    mine = engine.last_ok_at if engine is not None else None
    detail["platform"] = {"last_answer_age_s": round(now - max(answers), 1) if answers else None,
                          "this_replica_last_answer_age_s": round(now - mine, 1) if mine is not None else None}
    detail["alerts"] = {"waiting": sum(n for (_c, st), n in alerts.items() if st not in ALERT_DONE),
                        "failed": sum(n for (_c, st), n in alerts.items() if st in ALERT_FAILED)}
    return Health(not problems, problems, detail)


# --- metrics ---------------------------------------------------------------------------------------------------------
class ConsoleCollector:
    """A Prometheus collector of one service's figures (see the module docstring)."""

    def __init__(self, svc):
        self.svc = svc

    def describe(self):
        return []  # described when collected (the registry never asks twice)

    def collect(self):
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        from ..status import CANNOT_CHECK

        svc = self.svc
        engine = svc.engine
        now = svc.clock.time()
        up = GaugeMetricFamily("wpp_watch_up", "Whether this replica's part of the watch runs (1) or not (0).",
                               labels=["part"])
        up.add_metric(["poller"], 1.0 if engine is not None and engine.running else 0.0)
        desk = getattr(svc, "alerts", None)
        if desk is not None:
            up.add_metric(["alerts"], 1.0 if desk.running else 0.0)
        yield up
        yield GaugeMetricFamily("wpp_poller_leader", "Whether this replica polls the platform (holds the lease).",
                                value=1.0 if engine is not None and engine.is_leader else 0.0)
        stats = engine.stats() if engine is not None else {}
        requests = CounterMetricFamily("wpp_status_requests", "Status requests this replica made to the platform, "
                                       "by outcome.", labels=["outcome"])
        requests.add_metric(["answered"], float(stats.get("checks_ok", 0)))
        requests.add_metric(["failed"], float(stats.get("checks_failed", 0)))
        yield requests
        yield CounterMetricFamily("wpp_status_answers_dropped", "Status answers dropped because a newer state was "
                                  "already known.", value=float(stats.get("stale", 0)))
        yield CounterMetricFamily("wpp_webhooks_found_broken", "Numbers whose change was found by a poll but never "
                                  "pushed.", value=float(stats.get("missed_push", 0)))
        pushes = CounterMetricFamily("wpp_pushes", "Pushes to the console's webhook this replica answered, by outcome "
                                     "(accepted, duplicate, late, ignored, error, or why it was refused).",
                                     labels=["outcome"])
        inbox = getattr(svc, "inbox", None)
        for outcome, n in sorted((inbox.stats() if inbox is not None else {}).items()):
            pushes.add_metric([outcome], float(n))
        yield pushes
        mints = CounterMetricFamily("wpp_token_mints", "Access keys minted at the platform (POST /auth/token) by this "
                                    "replica, by outcome.", labels=["outcome"])
        for outcome, n in sorted(getattr(getattr(svc, "tokens", None), "mints", {}).items()):
            mints.add_metric([outcome], float(n))
        yield mints
        retention = getattr(svc, "retention", None)
        if retention is not None:
            pruned = CounterMetricFamily("wpp_records_pruned", "Old records deleted by this replica, by table.",
                                         labels=["table"])
            for table, n in sorted(retention.deleted.items()):
                pruned.add_metric([table], float(n))
            yield pruned
        # the deployment's, from the shared store
        try:
            records = engine.records() if engine is not None else {}
            pollable = _pollable_ids(svc, now)
            alerts = alert_counts(svc.store)
        except WppError as err:
            log.warning("the metrics could not read the store: %s", err.english)
            return
        numbers = GaugeMetricFamily("wpp_numbers", "Numbers by the state staff see.", labels=["state"])
        by_state: Counter = Counter()
        policy = getattr(engine, "policy", None)
        from ..status import shown_state

        for iid in pollable:
            rec = records.get(iid)
            state = shown_state(rec, policy) if rec is not None and policy is not None else None
            by_state[state or "not_checked"] += 1
        for state in ("connected", "offline", "qr_required", "starting", "unknown", CANNOT_CHECK, "not_checked"):
            numbers.add_metric([state], float(by_state.pop(state, 0)))
        for state, n in sorted(by_state.items()):
            numbers.add_metric([state], float(n))
        yield numbers
        due = [now - r.next_check_at for iid, r in records.items()
               if iid in pollable and r.next_check_at is not None and r.next_check_at < now]
        yield GaugeMetricFamily("wpp_oldest_due_check_age_seconds", "How overdue the oldest due status check is.",
                                value=max(due) if due else 0.0)
        answers = [r.ok_at for r in records.values() if r.ok_at is not None]
        if answers:
            yield GaugeMetricFamily("wpp_last_platform_answer_age_seconds", "Age of the newest answer from the "
                                    "platform about any number.", value=max(0.0, now - max(answers)))
        family = GaugeMetricFamily("wpp_alerts", f"Alerts by channel and status (of the newest {ALERT_SAMPLE}).",
                                   labels=["channel", "status"])
        for (channel, status), n in sorted(alerts.items()):
            family.add_metric([channel, status], float(n))
        yield family


def metrics_text(svc) -> tuple[bytes, str]:
    """The service's figures in Prometheus' text format: ``(body, content type)``. A registry of its own per call:
    nothing of it outlives the request, nothing of the process-wide default registry is in it."""
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

    registry = CollectorRegistry(auto_describe=False)
    registry.register(ConsoleCollector(svc))
    return generate_latest(registry), CONTENT_TYPE_LATEST


__all__ = ["ALERT_SAMPLE", "ConsoleCollector", "Health", "alert_counts", "health", "metrics_text", "overdue_limit"]
