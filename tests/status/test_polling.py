"""How often the platform is asked: by what the number is doing, jittered, "check now", the pairing panel."""
from __future__ import annotations

import random
import threading
import time

from wpp import keys
from wpp.errors import PlatformUnreachable
from wpp.models import ConnState, Status
from wpp.status import CheckResult, PollPolicy, advance

from .helpers import add_number, run_for


def test_a_connected_number_is_not_asked_before_its_interval_while_one_being_paired_is(store, engine, platform, clock):
    steady = add_number(store, "Steady")
    pairing = add_number(store, "Pairing")
    platform.set(steady.id, "connected")
    platform.set(pairing.id, "qr_required")

    engine.tick()  # the first pass asks about both
    panel = [(engine, pairing.id)]  # someone has the pairing one's QR code on screen
    run_for(engine, clock, 50, panels=panel)

    assert platform.count(steady.id) == 1  # 50 s later, still once
    calls = platform.calls[pairing.id]
    gaps = [b - a for a, b in zip(calls, calls[1:])]
    assert len(calls) >= 20 and max(gaps) <= 2.5, gaps  # every 2 s (±10 %, on a 0.5 s pass)

    run_for(engine, clock, 20, panels=panel)  # 70 s: the connected one's minute has come
    assert platform.count(steady.id) == 2


def test_after_a_change_it_is_fast_for_a_while_then_calm_again(store, engine, platform, clock):
    row = add_number(store)
    platform.set(row.id, "connected")
    engine.tick()
    run_for(engine, clock, 100)
    assert platform.count(row.id) == 2  # 0 s and about 60 s

    platform.set(row.id, "offline")  # the phone went away
    run_for(engine, clock, 30)  # the next regular check sees it
    seen = next(t for t in platform.calls[row.id] if t > clock.time() - 30)
    run_for(engine, clock, 200)
    calls = platform.calls[row.id]
    in_window = [t for t in calls if seen < t <= seen + 60]
    later = [t for t in calls if seen + 70 < t <= seen + 190]
    assert len(in_window) >= 10  # fast (about every 5 s) for a minute after the change
    assert len(later) <= 5  # then offline's 30 s


def test_jitter_stays_within_ten_percent():
    policy = PollPolicy()
    up = Status.parse("connected")
    for r in (0.0, 0.25, 0.5, 0.999, 1.0):
        step = advance(None, CheckResult(status=up), integration_id="x", now=1000.0, policy=policy, rand=lambda: r)
        assert 54.0 <= step.record.next_check_at - 1000.0 <= 66.0

    rng = random.Random(3)
    delays = [advance(None, CheckResult(status=up), integration_id="x", now=0.0, policy=policy,
                      rand=rng.random).record.next_check_at for _ in range(500)]
    assert min(delays) >= 54.0 and max(delays) <= 66.0
    assert max(delays) - min(delays) > 8.0  # really spread, not all at once


def test_many_connected_numbers_are_spread_over_the_minute(store, engine, platform, clock):
    rows = [add_number(store, f"N{i}", n=i + 1) for i in range(40)]
    for r in rows:
        platform.set(r.id, "connected")
    engine.tick()
    run_for(engine, clock, 70)
    second = sorted(platform.calls[r.id][1] for r in rows)
    assert all(54.0 <= t - (clock.time() - 70) <= 66.5 for t in second)
    assert second[-1] - second[0] > 5.0  # not a burst of 40 at the same second


def test_a_failed_check_is_retried_sooner_but_bounded(store, engine, platform, clock):
    row = add_number(store)
    platform.set(row.id, "connected")
    engine.tick()
    platform.fail(row.id, PlatformUnreachable(), times=100)
    run_for(engine, clock, 60 * 15)
    calls = platform.calls[row.id]
    gaps = [b - a for a, b in zip(calls, calls[1:])]
    assert gaps[1] < 10  # the first retry comes within seconds, not after a minute
    assert max(gaps) <= 66.5  # never further apart than the policy's bound (60 s ± jitter)
    assert gaps[-1] >= 50  # and backs off to that bound while the platform stays unreachable


def test_check_now_for_one_number_and_for_all(store, engine, platform, clock):
    rows = [add_number(store, f"N{i}", n=i + 1) for i in range(3)]
    for r in rows:
        platform.set(r.id, "connected")
    engine.tick()
    run_for(engine, clock, 10)
    assert [platform.count(r.id) for r in rows] == [1, 1, 1]

    engine.check_now([rows[1].id])
    clock.advance(0.5)
    engine.tick()
    assert [platform.count(r.id) for r in rows] == [1, 2, 1]

    engine.check_now()
    clock.advance(0.5)
    engine.tick()
    assert [platform.count(r.id) for r in rows] == [2, 3, 2]
    run_for(engine, clock, 20)
    assert [platform.count(r.id) for r in rows] == [2, 3, 2]  # then calm again


def test_the_pairing_panel_reports_and_the_poller_holds_off(store, engine, platform, clock):
    row = add_number(store)
    platform.set(row.id, "qr_required")
    engine.tick()
    run_for(engine, clock, 10)
    before = platform.count(row.id)
    assert before == 1  # nobody has its QR code on screen: asked slowly

    # someone opens the pairing panel: it asks the platform itself every 2 s, reports to the engine, then beats
    for _ in range(10):
        engine.record(row.id, CheckResult(status=Status.parse("qr_required")))
        engine.pairing_heartbeat(row.id)
        run_for(engine, clock, 2)
    assert platform.count(row.id) == before  # the poller left the number to the panel
    assert engine.watched(row.id)

    # the scan: the panel sees "connected" and the board shows it at once
    entry = engine.record(row.id, CheckResult(status=Status.parse("connected", phone="79001234567")))
    assert entry.state == "connected" and entry.phone == "79001234567"
    assert engine.board([row.id])[row.id].connected

    # the panel closes; the poller takes over again once the quiet time is over
    platform.set(row.id, "connected")
    run_for(engine, clock, 12)
    assert platform.count(row.id) == before + 1


def test_only_created_active_numbers_are_polled(store, engine, platform):
    ready = add_number(store, "Ready")
    add_number(store, "Half-made", **{keys.API_KEY: None, keys.SESSION: None})
    gone = add_number(store, "Removed")
    store.deactivate(gone.id)
    engine.tick()
    assert set(platform.calls) == {ready.id}


def test_a_check_that_breaks_counts_as_a_failed_check(store, make_engine, clock):
    row = add_number(store)

    def broken(_row):
        raise RuntimeError("bug in the check")

    eng = make_engine(store, broken)
    eng.tick()
    clock.advance(10)
    eng.tick()
    entry = eng.board()[row.id]
    assert entry.cannot_check and entry.problem["kind"] == "error"


def test_the_background_loop_polls_and_stops_promptly(store, make_engine, platform):
    row = add_number(store)
    platform.set(row.id, "connected")
    eng = make_engine(store, platform.check)
    asked = threading.Event()
    original = platform.check

    def check(r):
        out = original(r)
        asked.set()
        return out

    eng.check = check
    eng.start()
    assert eng.running
    assert asked.wait(10), "the background loop never asked"
    for _ in range(500):  # the answer reaches the board (a wait, not a timing assert)
        if eng.entry(row.id) is not None:
            break
        time.sleep(0.01)
    assert eng.entry(row.id).state == ConnState.CONNECTED.value
    eng.stop()
    assert not eng.running
    assert store.lease_holder("status-poller", now=eng.clock.time()) is None  # given up for another replica
    asked_before = platform.count()
    eng.check_now()
    assert eng.tick() == 0 and platform.count() == asked_before  # a stopped engine asks nobody
