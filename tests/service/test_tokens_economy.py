"""The stored JWT is reused while valid and refreshed once when not; the write-back keeps other settings."""
from __future__ import annotations

import threading

from wpp.clock import ManualClock
from wpp.client import WppClient
from wpp.service import WppService

from .conftest import ORG


def test_stored_token_is_reused_across_service_instances(svc, sim, store, make_service):
    out = svc.create_number(ORG, actor="alice")
    assert sim.count("POST /auth/token") == 1
    other = make_service()  # another process/page: only the database is shared
    for _ in range(5):
        assert other.poll_check(store.get(out.integration.id)).error is None
    assert sim.count("POST /auth/token") == 1


def test_expired_stored_token_refreshed_once_and_written_back_keeping_other_keys(svc, sim, store):
    out = svc.create_number(ORG, actor="alice")
    rid = out.integration.id
    store.merge_settings(rid, {"otherFeature": {"keep": True}, "wppJwtExpiresAt": 1})  # stale by the 60-s rule
    svc.tokens.forget(rid)
    sim.reset_counters()
    rows = [store.get(rid)] * 20
    threads = [threading.Thread(target=svc.poll_check, args=(r,)) for r in rows]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert sim.count("POST /auth/token") == 1
    row = store.get(rid)
    assert row.settings["otherFeature"] == {"keep": True}
    assert row.jwt_expires_at_ms > 1000
    assert row.api_key == sim.api_key_for(ORG)


def test_platform_rejects_token_refresh_once_retry_once(svc, sim, store):
    out = svc.create_number(ORG, actor="alice")
    sim.expire_tokens()
    sim.reset_counters()
    fr = svc.poll_check(store.get(out.integration.id))
    assert fr.error is None and fr.status is not None
    assert sim.count("POST /auth/token") == 1
    assert sim.count("GET /api/accounts/{session}/status") == 2


def test_test_token_diagnoses_expired_then_refresh_fixes(store):
    from wpp.simulator import Simulator

    clock = ManualClock()
    with Simulator(clock=clock) as sim:
        client = WppClient(sim.base_url, secret=sim.secret, timeout=2)
        svc = WppService(client, store, secret=sim.secret, clock=clock)
        try:
            out = svc.create_number(ORG, actor="alice")
            assert out.ok and svc.test_access(out.integration.id, actor="alice").ok
            clock.advance(16 * 60)  # tokens live 15 minutes
            res = svc.test_access(out.integration.id, actor="alice")
            assert not res.ok and res.code == "expired" and res.next_action == "refresh"
            assert "Get a new access key" in str(res.next_step)
            sim.reset_counters()
            svc.refresh_token(out.integration.id, actor="alice")
            assert sim.count("POST /auth/token") == 1
            assert svc.test_access(out.integration.id, actor="alice").ok
        finally:
            svc.close()
            client.close()


def test_token_rejected_but_not_expired_is_called_rejected(svc, sim, store):
    out = svc.create_number(ORG, actor="alice")
    sim.expire_tokens()
    res = svc.test_access(out.integration.id, actor="alice")
    assert not res.ok and res.code == "rejected"
