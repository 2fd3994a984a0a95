"""The platform client never has more requests in flight than configured (the status engine relies on it)."""
from __future__ import annotations

import uuid

from wpp.client import WppClient

from tests.harness import run_together


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
