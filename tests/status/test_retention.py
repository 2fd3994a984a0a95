"""The retention job (``wpp.status.retention``): old rows go in small batches, table after table, what is inside its
window stays, a table that fails does not stop the others, and other parts can add their tables."""
from __future__ import annotations

import pytest

from wpp.errors import StoreError
from wpp.models import StatusChange
from wpp.status.retention import DAY, Retention, Rule, rules_from_settings

from .helpers import START, add_number


class CountingPrunes:
    def __init__(self, inner, fail: str | None = None):
        self._inner = inner
        self.calls: list[tuple[str, int]] = []
        self.fail = fail

    def prune(self, name, *, before, limit=500):
        self.calls.append((name, limit))
        if name == self.fail:
            raise StoreError("The database cannot be reached.")
        return self._inner.prune(name, before=before, limit=limit)

    def __getattr__(self, name):
        return getattr(self._inner, name)


def test_old_rows_go_in_batches_and_recent_ones_stay(store, clock):
    row = add_number(store)
    for n in range(25):  # 25 lines 40 days old, 5 recent ones
        store.add_status_history(StatusChange(row.id, "connected", START - 40 * DAY + n))
    for n in range(5):
        store.add_status_history(StatusChange(row.id, "offline", START - n * DAY))
    counting = CountingPrunes(store)
    job = Retention(counting, [Rule("status_history", 30 * DAY)], clock=clock, batch=10)
    assert job.run() == {"status_history": 25}
    assert counting.calls == [("status_history", 10)] * 3  # 10 + 10 + 5: small batches, never one big delete
    assert [c.state for c in store.status_history(row.id, limit=100)] == ["offline"] * 5
    assert job.run() == {"status_history": 0} and job.deleted == {"status_history": 25}


def test_a_table_that_fails_does_not_stop_the_others(store, clock):
    row = add_number(store)
    store.add_status_history(StatusChange(row.id, "connected", START - 100 * DAY))
    job = Retention(CountingPrunes(store, fail="activity"),
                    [Rule("activity", DAY), Rule("status_history", DAY)], clock=clock)
    assert job.run() == {"activity": 0, "status_history": 1}


def test_the_settings_give_the_rules_and_other_parts_add_theirs(clock):
    from wpp.config import Settings

    rules = {r.name: r.keep_s for r in rules_from_settings(Settings())}
    assert rules == {"status_history": 30 * DAY, "activity": 365 * DAY, "test_messages": 90 * DAY,
                     "delivery_checks": 90 * DAY, "webhook_seen": 25 * 3600}
    shorter = {r.name: r.keep_s for r in rules_from_settings(Settings(keep_test_messages_days=30))}
    assert shorter["delivery_checks"] == shorter["test_messages"] == 30 * DAY
    job = Retention(None, rules_from_settings(Settings(keep_history_days=7)), clock=clock)
    job.add(Rule("incidents", 365 * DAY))  # e.g. the alert desk's
    assert {r.name for r in job.rules} == {"status_history", "activity", "test_messages", "delivery_checks",
                                           "webhook_seen", "incidents"}
    assert next(r for r in job.rules if r.name == "status_history").keep_s == 7 * DAY
    with pytest.raises(ValueError):
        Rule("status_history", 0)


def test_the_settings_rules_prune_old_delivery_checks_and_keep_each_numbers_state(store, clock):
    from wpp.config import Settings
    from wpp.models import DeliveryCheck

    row = add_number(store)
    for n, days in enumerate((200, 150, 100, 3)):
        at = START - days * DAY
        store.start_delivery_check(DeliveryCheck(code=f"CHK{n}AA", integration_id=row.id, organization_id="",
                                                 witness="79990001122", sent_at=at, deadline=at + 600),
                                   day_start=at, max_per_day=3)
        store.settle_delivery_check(code=f"CHK{n}AA", status="proven", at=at + 10)
    job = Retention(store, rules_from_settings(Settings()), clock=clock)
    assert job.run()["delivery_checks"] == 3  # older than 90 days: gone
    assert [c.code for c in store.delivery_checks(integration_id=row.id)] == ["CHK3AA"]
    assert store.delivery_states()[row.id].proven_at == START - 3 * DAY + 10
