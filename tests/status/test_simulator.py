"""End to end on the platform simulator: what watching connected numbers costs the platform."""
from __future__ import annotations

import uuid

import pytest

from wpp import keys
from wpp.client import WppClient
from wpp.errors import WppError
from wpp.simulator import Simulator
from wpp.status import CheckResult

from .helpers import run_for

STATUS = "GET /api/accounts/{session}/status"


@pytest.fixture
def platform_sim(clock):
    with Simulator(clock=clock) as sim:
        yield sim


@pytest.fixture
def client(platform_sim, clock):
    c = WppClient(platform_sim.base_url, secret=platform_sim.secret, timeout=5.0, clock=clock)
    yield c
    c.close()


def _numbers(store, client, n: int):
    """``n`` numbers created on the simulator, each with its first token (a bare mint: the service's token
    handling is not what is measured here)."""
    tokens = {}
    rows = []
    for i in range(n):
        created = client.create_client(str(uuid.uuid4()))
        row = store.create(str(uuid.uuid4()), name=f"N{i}", settings={
            keys.API_KEY: created.api_key.reveal(), keys.SESSION: created.session})
        tokens[row.id] = client.mint_token(created.api_key).token
        rows.append(row)
    return rows, tokens


def _check(client, tokens):
    def check(row) -> CheckResult:
        try:
            return CheckResult(status=client.get_status(row.session, tokens[row.id]))
        except WppError as err:
            return CheckResult(error=err)
    return check


def test_watching_connected_numbers_costs_at_most_two_status_requests_a_minute(
        store, make_engine, platform_sim, client, clock):
    n = 12
    rows, tokens = _numbers(store, client, n)
    for r in rows:
        platform_sim.set_status(r.session, "connected")
    engine = make_engine(store, _check(client, tokens), concurrency=4)
    viewer = make_engine(store, _check(client, tokens), holder="viewer-replica")
    platform_sim.reset_counters()

    minutes = 10
    end = clock.time() + minutes * 60
    while clock.time() < end:
        clock.advance(1.0)
        engine.tick()
        viewer.tick()
        viewer.board()  # somebody has the Numbers page open on the other replica

    per_minute = platform_sim.count(STATUS) / n / minutes
    assert per_minute <= 2, per_minute
    assert all(e.connected for e in viewer.board().values()) and len(viewer.board()) == n


def test_a_scan_shows_as_connected_within_one_poll(store, make_engine, platform_sim, client, clock):
    rows, tokens = _numbers(store, client, 1)
    row = rows[0]
    engine = make_engine(store, _check(client, tokens))
    engine.tick()
    panel = [(engine, row.id)]  # someone has the pairing panel open: the number is asked every 2 s
    run_for(engine, clock, platform_sim.knobs.starting_s + 3, panels=panel)
    assert engine.entry(row.id).state == "qr_required"

    assert platform_sim.scan(row.session, platform_sim.current_qr(row.session))
    scanned = clock.time()
    while not engine.entry(row.id).connected:
        assert clock.time() - scanned <= 3, "not shown connected within 3 s of the scan"
        clock.advance(0.25)
        engine.pairing_heartbeat(row.id)
        engine.tick()
