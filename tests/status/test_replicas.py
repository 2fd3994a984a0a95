"""Several replicas on one database: exactly one polls; another takes over when it stops or dies; "check now"
and the pairing panel work from any of them. On one SQLite file (two store objects) and on a real PostgreSQL."""
from __future__ import annotations

import pytest

from wpp.models import Status
from wpp.status import POLLER_LEASE, CheckResult, PollPolicy

from .helpers import FakePlatform, add_number, run_for


def _replicas(make_engine, stores, clock):
    """One engine per store object, each with its own (counting) view of the same platform."""
    platforms = [FakePlatform(clock) for _ in stores]
    engines = [make_engine(s, p.check, holder=f"replica-{i + 1}") for i, (s, p) in enumerate(zip(stores, platforms))]
    return engines, platforms


def _replicas_elect_one_poller_and_hand_over(make_engine, stores, clock):
    first_store = stores[0]
    rows = [add_number(first_store, f"N{i}", n=i + 1) for i in range(5)]
    engines, platforms = _replicas(make_engine, stores, clock)
    states = {r.id: ("connected" if i % 2 else "qr_required") for i, r in enumerate(rows)}
    for p in platforms:
        for iid, st in states.items():
            p.set(iid, st)
    e1, e2, e3 = engines
    p1, p2, p3 = platforms

    # both start at the same moment: exactly one polls
    e1.tick(), e2.tick(), e3.tick()
    run_for(engines, clock, 30)
    leaders = [e for e in engines if e.is_leader]
    assert len(leaders) == 1 and leaders[0] is e1
    assert p1.count() > 0 and p2.count() == 0 and p3.count() == 0
    assert first_store.lease_holder(POLLER_LEASE, now=clock.time()) == "replica-1"
    # ... and every replica shows what it saw
    assert {iid: e.state for iid, e in e2.board().items()} == states
    assert {iid: e.state for iid, e in e3.board().items()} == states

    # "check now" pressed on a replica that does not poll: the poller asks at once
    steady = next(r for r in rows if states[r.id] == "connected")
    before = p1.count(steady.id)
    assert e2.check_now([steady.id]) == 1
    run_for(engines, clock, 2)
    assert p1.count(steady.id) == before + 1 and p2.count() == 0

    # the pairing panel open on replica 3: the board shows it everywhere, the poller leaves the number alone
    pairing = next(r for r in rows if states[r.id] == "qr_required")
    asked = p1.count(pairing.id)
    for _ in range(5):
        e3.record(pairing.id, CheckResult(status=Status.parse("qr_required")))
        e3.pairing_heartbeat(pairing.id)  # as the panel does after its report
        run_for(engines, clock, 2)
    assert p1.count(pairing.id) <= asked + 1  # at most one check that was already under way
    e3.record(pairing.id, CheckResult(status=Status.parse("connected")))
    run_for(engines, clock, 1.5)
    assert all(e.board()[pairing.id].connected for e in engines)
    for p in platforms:
        p.set(pairing.id, "connected")

    # someone has another number's QR code on screen on replica 3 (its heartbeat only): asked every 2 s
    watched = [r for r in rows if states[r.id] == "qr_required"][-1]
    panel = [(e3, watched.id)]
    run_for(engines, clock, 4, panels=panel)

    # the poller stops (a rolling restart): another takes over within the retry time, a minute at most
    e1.stop()
    stopped_at, asked_by_first = clock.time(), p1.count()
    run_for([e2, e3], clock, PollPolicy().lease_retry_s + 1, panels=panel)
    leaders = [e for e in (e2, e3) if e.is_leader]
    assert len(leaders) == 1
    if leaders[0] is e2:
        new_engine, new_platform, idle_engine, idle_platform = e2, p2, e3, p3
    else:
        new_engine, new_platform, idle_engine, idle_platform = e3, p3, e2, p2
    taken = new_platform.count()
    assert taken > 0  # the new poller asked at once: the watched number was due for it
    run_for([e1, e2, e3], clock, 60)
    assert new_platform.count() > taken and idle_platform.count() == 0
    assert p1.count() == asked_by_first  # the stopped one asks nobody

    # the new poller dies without giving the lease up: the last one takes over when the lease runs out
    dead_at = clock.time()
    run_for([idle_engine], clock, PollPolicy().lease_ttl_s + PollPolicy().lease_retry_s + 1)
    assert idle_engine.is_leader and idle_platform.count() > 0
    assert clock.time() - dead_at < 60 and clock.time() - stopped_at < 200
    # and the dead one, should it come back, finds the lease gone and stays quiet
    asked = new_platform.count()
    new_engine.tick()
    run_for([new_engine, idle_engine], clock, 10)
    assert not new_engine.is_leader and new_platform.count() == asked


def test_two_replicas_on_one_sqlite_file(make_engine, store, clock):
    from wpp.store.sqlite import SqliteStore

    others = [SqliteStore(store.path), SqliteStore(store.path)]
    try:
        _replicas_elect_one_poller_and_hand_over(make_engine, [store, *others], clock)
    finally:
        for s in others:
            s.close()


@pytest.mark.postgres
def test_replicas_on_a_real_postgresql(make_engine, pg_dsn, clock):
    from wpp.store import PostgresStore

    stores = [PostgresStore(pg_dsn, pool_size=4) for _ in range(3)]
    try:
        _replicas_elect_one_poller_and_hand_over(make_engine, stores, clock)
    finally:
        for s in stores:
            s.close()
