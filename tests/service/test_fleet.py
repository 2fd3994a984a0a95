"""The fleet refresh asks the platform concurrently, but never with more requests at once than configured."""
from __future__ import annotations

import uuid

from wpp.client import WppClient
from wpp.models import ConnState

from tests.harness import run_together


def test_fleet_refresh_is_concurrent_and_bounded(make_service, sim):
    svc = make_service(fleet_concurrency=4)
    for i in range(24):
        out = svc.create_number(str(uuid.uuid4()), name=f"Number {i:02}", actor="test")
        assert out.error is None, out.error
    sim.knobs.latency_s = 0.1
    sim.reset_counters()

    rows = svc.fleet_status()

    assert [r.integration.display_name for r in rows] == [f"Number {i:02}" for i in range(24)]  # input order
    assert all(r.error is None and r.status is not None for r in rows), [r.error for r in rows]
    assert {r.status.state for r in rows} <= {ConnState.STARTING, ConnState.QR_REQUIRED}
    stats = sim.stats()
    assert stats["requests"].get("GET /api/accounts/{session}/status") == 24
    assert stats["tokens_minted"] == 0  # every number reused the token saved by create
    assert 2 <= stats["peak_in_flight"] <= 4, stats


def test_client_never_opens_more_connections_than_configured(sim):
    """The client splits its connections over several pools; together they still respect the limit."""
    client = WppClient(sim.base_url, secret=sim.secret, max_connections=10, timeout=5.0)
    created = client.create_client(str(uuid.uuid4()), secret=sim.secret)
    minted = client.mint_token(created.api_key)
    sim.knobs.latency_s = 0.1
    sim.reset_counters()
    _, errors = run_together(lambda: client.get_status(created.session, minted.token), 30)
    client.close()
    assert not errors, errors
    stats = sim.stats()
    assert stats["requests"]["GET /api/accounts/{session}/status"] == 30
    assert 2 <= stats["peak_in_flight"] <= 10, stats
