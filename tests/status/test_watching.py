"""Fast only while someone pairs (issue 20): a number starting or waiting for a scan is asked at the pairing
interval only while a pairing panel shows it, in any replica (its heartbeat on the shared board); otherwise at
most twice a minute, whatever its QR codes or its state do. Opening a panel on a slowly asked number brings a check
at once; heartbeats are cheap and run out by themselves."""
from __future__ import annotations

from dataclasses import replace

import pytest

from wpp.errors import StoreError
from wpp.models import Status
from wpp.status import CheckResult, PollPolicy, advance

from .helpers import START, CountingStore, FakePlatform, add_number, run_for

POLICY = PollPolicy()


def _gaps(calls):
    return [b - a for a, b in zip(calls, calls[1:])]


def _most_in_a_minute(calls) -> int:
    return max((sum(1 for t in calls if a <= t < a + 60) for a in calls), default=0)


# --- the policy says it ---------------------------------------------------------------------------------------
def test_the_policy_is_fast_for_pairing_only_while_watched():
    for state in ("qr_required", "starting"):
        assert POLICY.interval(state, 10, watched=True) == 2.0
        assert POLICY.interval(state, 10) == POLICY.interval(state, 10, watched=False) == POLICY.unwatched_s
        assert POLICY.interval(state, 10, watched=False, fast=True) == POLICY.unwatched_s  # no window makes it fast
        # with the jitter, an unwatched number is never asked more than twice in any minute
        assert POLICY.unwatched_s * (1 - POLICY.jitter) > 30.0
    assert POLICY.interval("connected", 10) == POLICY.interval("connected", 10, watched=True) == 60.0
    assert POLICY.interval("connected", 10, fast=True) == POLICY.fast_s
    assert POLICY.interval("offline", 10, fast=True) == POLICY.fast_s


def test_which_changes_open_the_fast_window():
    assert POLICY.opens_fast_window("connected", "offline", watched=False)  # the phone went away
    assert POLICY.opens_fast_window("offline", "connected", watched=False)
    for before, after in (("starting", "qr_required"), ("qr_required", "offline"), ("connected", "qr_required"),
                          ("qr_required", "starting"), ("starting", "offline")):
        assert not POLICY.opens_fast_window(before, after, watched=False), (before, after)  # nobody is there
        assert POLICY.opens_fast_window(before, after, watched=True), (before, after)
    assert not POLICY.opens_fast_window(None, "qr_required", watched=True)  # the first answer is no change
    assert not POLICY.opens_fast_window("qr_required", "qr_required", watched=True)  # a new QR code is no change


def test_advance_keeps_the_heartbeat_and_an_unwatched_change_is_not_fast():
    prev = advance(None, CheckResult(status=Status.parse("starting")), integration_id="x", now=0.0,
                   rand=lambda: 0.5).record
    prev = replace(prev, watched_until=5.0)
    step = advance(prev, CheckResult(status=Status.parse("qr_required")), integration_id="x", now=10.0,
                   rand=lambda: 0.5)
    assert step.record.watched_until == 5.0  # the check never writes the heartbeat away
    assert step.fast_until is None and step.record.next_check_at == 10.0 + POLICY.unwatched_s
    step = advance(prev, CheckResult(status=Status.parse("qr_required")), integration_id="x", now=10.0,
                   rand=lambda: 0.5, watched=True)
    assert step.fast_until == 10.0 + POLICY.fast_window_s and step.record.next_check_at == 12.0


# --- one process ----------------------------------------------------------------------------------------------
def test_an_unwatched_qr_sequence_costs_at_most_two_requests_a_minute(store, engine, platform, clock):
    created = add_number(store, "Created, never scanned")
    steady = add_number(store, "Steady")
    platform.set(created.id, "starting")
    platform.set(steady.id, "connected")
    engine.tick()
    run_for(engine, clock, 20)
    platform.set(created.id, "qr_required")  # the QR codes come and rotate; nobody looks
    run_for(engine, clock, 160)
    platform.set(created.id, "offline")  # they ran out
    run_for(engine, clock, 120)
    platform.set(created.id, "starting")  # restarted from elsewhere (no panel): still nobody to scan
    run_for(engine, clock, 60)
    platform.set(created.id, "qr_required")
    run_for(engine, clock, 240)

    minutes = 10
    calls = platform.calls[created.id]
    assert len(calls) <= 2 * minutes + 1, calls  # the first check at start included
    # no change of state made it fast (the window's 5 s): a minute apart, 30 s while offline (both jittered)
    assert min(_gaps(calls)) >= POLICY.offline_s * (1 - POLICY.jitter), _gaps(calls)
    pairing = [t for t in calls if not START + 190 < t < START + 330]  # seen offline from ~190 s to ~330 s
    assert _most_in_a_minute(pairing) <= 2, calls  # in any minute while it starts or waits for a scan
    assert engine.entry(created.id).state == "qr_required"  # the board still follows it
    assert platform.count(steady.id) <= minutes + 1


def test_a_watched_number_is_asked_at_the_pairing_interval_and_slowly_once_the_panel_closes(
        store, engine, platform, clock):
    row = add_number(store)
    platform.set(row.id, "qr_required")
    engine.tick()
    assert engine.pairing_heartbeat(row.id) and engine.watched(row.id)
    opened = clock.time()
    run_for(engine, clock, 60, panels=[(engine, row.id)])
    calls = [t for t in platform.calls[row.id] if t > opened]
    assert len(calls) >= 25 and max(_gaps(calls)) <= 2.5, _gaps(calls)  # every 2 s (±10 %, on a 0.5 s pass)

    closed = clock.time()  # the tab is closed: no more heartbeats
    run_for(engine, clock, POLICY.watch_s + 5)
    assert not engine.watched(row.id)
    run_for(engine, clock, 240)
    later = [t for t in platform.calls[row.id] if t > closed + POLICY.watch_s + POLICY.qr_s * 1.1]
    assert len(later) <= 2 * 4 + 1 and _most_in_a_minute(later) <= 2, later


def test_opening_a_panel_on_a_slowly_asked_number_brings_a_check_at_once(store, engine, platform, clock):
    row = add_number(store)
    platform.set(row.id, "qr_required")
    engine.tick()
    run_for(engine, clock, POLICY.unwatched_s * 1.1 + 5)  # asked at 0 and once more; the next one is far off
    asked = platform.count(row.id)
    assert asked == 2 and engine.entry(row.id).checked_at > clock.time() - POLICY.unwatched_s * 0.8

    assert engine.pairing_heartbeat(row.id)  # the panel opens
    clock.advance(0.5)
    engine.tick()
    assert platform.count(row.id) == asked + 1  # at once, not up to a minute later
    # the panel's first report came first (it does, on its run): no extra check besides the panel's own
    other = add_number(store, "Other")
    platform.set(other.id, "qr_required")
    engine.tick()
    run_for(engine, clock, 10)
    before = platform.count(other.id)
    engine.record(other.id, CheckResult(status=Status.parse("qr_required")))
    engine.pairing_heartbeat(other.id)
    run_for(engine, clock, 5)
    assert platform.count(other.id) == before  # the poller leaves it to the panel for its hold time


def test_heartbeats_are_written_at_most_every_ten_seconds_per_number(store, make_engine, platform, clock):
    counting = CountingStore(store)
    writes = []
    counting.watch_status = lambda iid, **kw: writes.append((clock.time(), iid)) or store.watch_status(iid, **kw)
    eng = make_engine(counting, platform.check)
    rows = [add_number(store, f"N{i}", n=i + 1) for i in range(2)]
    for r in rows:
        platform.set(r.id, "qr_required")
    eng.tick()
    for _ in range(30):  # two panels re-running every 2 s for a minute, two tabs on the first number
        for r in rows:
            eng.pairing_heartbeat(r.id)
        eng.pairing_heartbeat(rows[0].id)
        run_for(eng, clock, 2)
    per_number = {r.id: [t for t, i in writes if i == r.id] for r in rows}
    for r in rows:
        assert 6 <= len(per_number[r.id]) <= 7, per_number  # 60 s / 10 s
        assert min(_gaps(per_number[r.id])) >= POLICY.watch_beat_s
    assert eng.stats()["heartbeats"] == len(writes)


def test_a_heartbeat_never_raises(store, make_engine, platform, clock):
    row = add_number(store)
    platform.set(row.id, "qr_required")

    class Broken(CountingStore):
        def watch_status(self, *a, **kw):
            raise StoreError("the database is away")

    eng = make_engine(Broken(store), platform.check)
    eng.tick()
    assert eng.pairing_heartbeat(row.id) is False
    assert eng.pairing_heartbeat(row.id) is False  # and a broken store is not asked again on every run
    assert not eng.watched(row.id)
    assert eng.pairing_heartbeat("no-such-number") is False


# --- several replicas -----------------------------------------------------------------------------------------
def _heartbeat_from_another_replica_makes_the_poller_fast(make_engine, stores, clock):
    row = add_number(stores[0], "Being paired")
    p_poller, p_panel = FakePlatform(clock), FakePlatform(clock)
    for p in (p_poller, p_panel):
        p.set(row.id, "qr_required")
    poller = make_engine(stores[0], p_poller.check, holder="replica-1")
    panel_side = make_engine(stores[1], p_panel.check, holder="replica-2")
    engines = [poller, panel_side]
    poller.tick()
    panel_side.tick()
    run_for(engines, clock, 60)
    assert poller.is_leader and not panel_side.is_leader
    assert p_poller.count(row.id) <= 3 and p_panel.count() == 0  # nobody watches: slowly

    # a pairing panel opens on replica 2: only its heartbeat (no report), the poller on replica 1 asks fast
    opened = clock.time()
    assert panel_side.pairing_heartbeat(row.id)
    run_for(engines, clock, 2)
    assert p_poller.calls[row.id][-1] > opened  # the next check came at once
    run_for(engines, clock, 60, panels=[(panel_side, row.id)])
    calls = [t for t in p_poller.calls[row.id] if t > opened]
    assert len(calls) >= 25 and max(_gaps(calls)) <= 3.5, _gaps(calls)  # the pairing interval (+ a board read)
    assert poller.watched(row.id) and p_panel.count() == 0

    # the tab is closed on replica 2: slow again once the heartbeat has run out
    closed = clock.time()
    run_for(engines, clock, 300)
    settled = [t for t in p_poller.calls[row.id] if t > closed + POLICY.watch_s + 3]
    assert len(settled) <= 2 * 5 and _most_in_a_minute(settled) <= 2, settled
    assert not poller.watched(row.id) and not panel_side.watched(row.id)


def test_a_heartbeat_on_one_replica_makes_the_poller_on_another_fast_sqlite(make_engine, store, clock):
    from wpp.store.sqlite import SqliteStore

    other = SqliteStore(store.path)
    try:
        _heartbeat_from_another_replica_makes_the_poller_fast(make_engine, [store, other], clock)
    finally:
        other.close()


@pytest.mark.postgres
def test_a_heartbeat_on_one_replica_makes_the_poller_on_another_fast_postgresql(make_engine, pg_dsn, clock):
    from wpp.store import PostgresStore

    stores = [PostgresStore(pg_dsn, pool_size=4) for _ in range(2)]
    try:
        _heartbeat_from_another_replica_makes_the_poller_fast(make_engine, stores, clock)
    finally:
        for s in stores:
            s.close()
