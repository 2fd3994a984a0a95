"""Creating a number never loses what the platform already created (issue 3, "Creating without losing anything")."""
from __future__ import annotations

import threading

import pytest

from wpp.errors import InvalidInput, PlatformUnreachable
from wpp.models import ConnState

from .conftest import ORG, ORG2


def test_create_saves_key_session_and_first_token(svc, sim, store):
    out = svc.create_number(ORG, name="Front desk", actor="alice")
    assert out.ok and out.created_on_platform and out.token_saved
    row = store.get(out.integration.id)
    assert row.api_key == sim.api_key_for(ORG)
    assert len(row.session) == 13 and row.session.isdigit()
    assert row.jwt and row.jwt_expires_at_ms > 0
    assert sim.count("POST /auth/token") == 1
    assert [e.action for e in store.list_activity()] == ["create", "create", "create"]
    assert {e.actor for e in store.list_activity()} == {"alice"}
    assert row.name == "Front desk"


@pytest.mark.parametrize("fault", ["500", "html502", "timeout", "malformed", "empty"])
def test_token_step_failure_keeps_key_and_session_and_resume_finishes(make_service, sim, store, fault):
    svc = make_service(timeout=1.0)
    sim.knobs.timeout_hold_s = 2.0
    sim.add_fault(fault, endpoint="POST /auth/token")
    out = svc.create_number(ORG, actor="alice")
    assert not out.ok and out.error is not None
    assert out.error.message and "Traceback" not in out.error.text
    row = store.get(out.integration.id)
    assert row.api_key == sim.api_key_for(ORG), "the apiKey from create must already be saved"
    assert row.session and row.token_pending
    assert row.last_error  # visible "token pending" state with the reason
    sim.clear_faults()
    resumed = svc.resume(row.id, actor="bob")
    assert resumed.ok and resumed.token_saved
    row = store.get(row.id)
    assert row.jwt and not row.token_pending and row.last_error is None
    assert sim.stats()["clients_created"] == 1


def test_key_still_activating_leaves_pending_row_then_resume_works(make_service, sim, store):
    svc = make_service(activation_wait_s=0.6)
    sim.knobs.key_activation_delay_s = 3.0
    out = svc.create_number(ORG, actor="alice")
    assert out.error is not None and out.error.kind == "invalid_api_key"
    row = store.get(out.integration.id)
    assert row.api_key and row.session and row.token_pending
    sim.knobs.key_activation_delay_s = 0.0
    assert svc.resume(row.id, actor="alice").ok


def test_platform_down_at_create_keeps_row_and_resume_creates_once(make_service, sim, store):
    svc = make_service(timeout=1.0)
    sim.add_fault("500", endpoint="POST /api/integrations/wpp/create")
    out = svc.create_number(ORG, actor="alice")
    assert out.error is not None and not out.created_on_platform
    assert store.get(out.integration.id).api_key is None
    sim.clear_faults()
    res = svc.resume(out.integration.id, actor="alice")
    assert res.ok and res.created_on_platform
    assert len(store.list_integrations(ORG)) == 1


def test_killed_between_client_created_and_token_saved(svc, sim, store):
    """A process that died after the platform created the client but before anything was saved: the row only
    knows its organisation. The platform answers a repeated create with the same key, so nothing is orphaned."""
    first = sim_create_directly(sim, ORG)
    row = store.create(ORG, name="half-done")
    res = svc.resume(row.id, actor="alice")
    assert res.ok
    row = store.get(row.id)
    assert row.api_key == first["apiKey"] and row.session == first["session"]


def sim_create_directly(sim, org):
    import httpx

    r = httpx.post(f"{sim.base_url}/api/integrations/wpp/create", json={"organizationId": org},
                   headers={"Authorization": f"Bearer {sim.secret}"})
    r.raise_for_status()
    return r.json()


def test_double_click_with_same_request_id_creates_one_client(svc, sim, store):
    results = []
    barrier = threading.Barrier(5)

    def click():
        barrier.wait()
        results.append(svc.create_number(ORG, actor="alice", request_id="form-1"))

    threads = [threading.Thread(target=click) for _ in range(5)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert all(r.ok for r in results)
    assert len({r.integration.id for r in results}) == 1
    assert len(store.list_integrations(ORG)) == 1
    assert sim.stats()["clients_created"] == 1
    assert sim.count("POST /auth/token") == 1


def test_second_number_of_an_organisation_gets_its_own_client(svc, sim, store):
    a = svc.create_number(ORG, name="Reception", actor="alice")
    b = svc.create_number(ORG, name="Accounts", actor="alice")
    assert a.ok and b.ok
    ra, rb = store.get(a.integration.id), store.get(b.integration.id)
    assert ra.session != rb.session and ra.api_key != rb.api_key
    assert rb.sub_org_id and rb.sub_org_id.startswith(ORG + "__wpp__") and len(rb.sub_org_id.split("__")[-1]) == 8
    # each number shows its own status (the two-numbers bug)
    sim.set_status(rb.session, "connected")
    assert svc.poll_check(rb).status.state is ConnState.CONNECTED
    assert svc.poll_check(ra).status.state is not ConnState.CONNECTED


@pytest.mark.parametrize("bad", ["", "not-a-uuid", "123", "../internal", "x" * 10000])
def test_bad_organisation_id_changes_nothing(svc, sim, store, bad):
    with pytest.raises(InvalidInput) as ei:
        svc.create_number(bad, actor="alice")
    assert ei.value.message
    assert store.list_integrations(include_inactive=True) == []
    assert sim.stats()["clients_created"] == 0


def test_platform_unreachable_gives_readable_error(make_service, sim, store):
    svc = make_service(timeout=1.0)
    sim.stop()
    out = svc.create_number(ORG2, actor="alice")
    assert isinstance(out.error, PlatformUnreachable)
    assert out.error.kind in ("unreachable", "timeout") and out.error.message
    assert store.list_integrations(ORG2)[0].last_error
