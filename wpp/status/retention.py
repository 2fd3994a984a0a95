"""Keeping the console's records in bounds: a background job that deletes what is older than its retention.

:class:`Retention` holds one :class:`Rule` per table (a name of ``wpp.store.retention.PRUNABLE`` and how long its
rows are kept) and, on every :meth:`Retention.run`, deletes old rows in small batches (``store.prune``: at most
``batch`` rows per statement, so no long lock on a busy table) until a table has nothing older left or the pass's
time budget is spent (the rest goes next time). It runs in the status engine's loop of the replica holding the poller's
lease (``engine.every("retention", ...)``, wired by ``build_service``), never in a page.

To keep another table in bounds (e.g. incidents, delivered alerts): register it in ``wpp.store.retention`` (and its
``wpp_prune_<name>`` SQL function in a migration), then ``service.retention.add(Rule("<name>", keep_s))``.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from ..clock import SYSTEM_CLOCK
from ..errors import WppError

log = logging.getLogger("wpp.status.retention")

DAY = 86400.0


@dataclass(frozen=True)
class Rule:
    """Rows of table ``name`` (``wpp.store.retention.PRUNABLE``) older than ``keep_s`` seconds go."""

    name: str
    keep_s: float

    def __post_init__(self) -> None:
        if not self.keep_s > 0:
            raise ValueError("keep_s must be positive")


def rules_from_settings(settings) -> list[Rule]:
    """The console's own rules from the settings (defaults: history 30 days, diary 365 days, test messages and
    delivery checks 90 days, pushed-event ids 25 hours)."""
    def days(name: str, default: float) -> float:
        return float(getattr(settings, name, default) or default) * DAY

    return [
        Rule("status_history", days("keep_history_days", 30.0)),
        Rule("activity", days("keep_diary_days", 365.0)),
        Rule("test_messages", days("keep_test_messages_days", 90.0)),
        # proof of delivery's check messages are test messages too (the ones a number's state is read from stay)
        Rule("delivery_checks", days("keep_test_messages_days", 90.0)),
        Rule("webhook_seen", float(getattr(settings, "keep_event_ids_hours", 25.0) or 25.0) * 3600.0),
    ]


class Retention:
    """See the module docstring. Thread-safe; one pass at a time."""

    def __init__(self, store, rules: list[Rule] | None = None, *, clock=SYSTEM_CLOCK, batch: int = 500,
                 budget_s: float = 20.0):
        self.store = store
        self.clock = clock
        self.batch = int(batch)
        self.budget_s = float(budget_s)
        self._rules: dict[str, Rule] = {}
        self._lock = threading.Lock()
        self._pass = threading.Lock()
        self.deleted: dict[str, int] = {}  # rows deleted since the start, per table (the metrics)
        self.last_run_at: float | None = None
        for rule in rules or ():
            self.add(rule)

    def __repr__(self) -> str:
        return f"Retention({', '.join(f'{r.name}={r.keep_s / DAY:g}d' for r in self.rules)})"

    def add(self, rule: Rule) -> None:
        """Keep one more table in bounds (a rule of the same name is replaced)."""
        with self._lock:
            self._rules[rule.name] = rule

    @property
    def rules(self) -> list[Rule]:
        with self._lock:
            return list(self._rules.values())

    def run(self) -> dict[str, int]:
        """One pass: for every table, old rows in batches of ``batch`` until none is left or the budget is spent.
        Returns how many rows went per table. A table that fails is logged and skipped (the others still run)."""
        if not self._pass.acquire(blocking=False):
            return {}
        try:
            now = self.clock.time()
            started = time.monotonic()
            out: dict[str, int] = {}
            for rule in self.rules:
                n = 0
                try:
                    while time.monotonic() - started < self.budget_s:
                        got = int(self.store.prune(rule.name, before=now - rule.keep_s, limit=self.batch))
                        n += got
                        if got < self.batch:
                            break
                except WppError as err:
                    log.warning("old records of %s could not be deleted: %s", rule.name, err.english)
                out[rule.name] = n
                if n:
                    log.info("deleted %d old row(s) of %s", n, rule.name)
            with self._lock:
                for name, n in out.items():
                    self.deleted[name] = self.deleted.get(name, 0) + n
                self.last_run_at = now
            return out
        finally:
            self._pass.release()


__all__ = ["DAY", "Retention", "Rule", "rules_from_settings"]
