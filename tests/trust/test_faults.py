"""Faults (issue 6): outages, timeouts, 500s, HTML 502s, 401 storms, a key that activates late, a process killed
half-way through a create. Nothing already created is lost, nothing crashes, and the console works again as soon
as the platform does."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from wpp.clock import ManualClock
from wpp.errors import InvalidApiKey, InvalidToken, PlatformUnreachable, WppError
from wpp.models import ConnState
from wpp.service import WppService
from wpp.simulator import SimKnobs, Simulator
from wpp.store.sqlite import SqliteStore
from wpp import jwtinfo as _tokens

from .conftest import ORG, ORG2, ROOT, snapshot, unreadable_reasons
from .helpers import outcome_of

ORG3 = "5f0c1e2d-1111-4222-8333-444455556666"
#: the console's own bookkeeping in a row's settings: the token, and what the platform answered to the number's keys
#: (a refusal is recorded there, like last_error: wpp.keys.KEY_EVIDENCE)
TOKEN_KEYS = ("wppJwtToken", "wppJwtExpiresAt", "wppKeyEvidence")


def lost(before: dict, after: dict) -> list[str]:
    """What was already created and is gone or altered: rows, keys, sessions, names, other features' settings.
    A token may only be replaced by a newer, readable one; the error columns may change."""
    out = []
    for iid, old in before["rows"].items():
        new = after["rows"].get(iid)
        if new is None:
            out.append(f"row {iid[:8]} is gone")
            continue
        for col in ("organization_id", "name", "is_active", "is_enabled", "is_primary", "created_at"):
            if old[col] != new[col]:
                out.append(f"row {iid[:8]}: {col} changed")
        so, sn = json.loads(old["settings"]), json.loads(new["settings"])
        for k, v in so.items():
            if k in TOKEN_KEYS:
                continue
            if sn.get(k) != v:
                out.append(f"row {iid[:8]}: settings[{k}] changed or lost")
        if so.get("wppJwtToken") != sn.get("wppJwtToken"):
            try:
                _tokens.decode_jwt(sn.get("wppJwtToken"))
            except WppError:
                out.append(f"row {iid[:8]}: the token was replaced by something unreadable")
            if int(sn.get("wppJwtExpiresAt") or 0) < int(so.get("wppJwtExpiresAt") or 0):
                out.append(f"row {iid[:8]}: the token was replaced by an older one")
    if after["activity"][: len(before["activity"])] != before["activity"]:
        out.append("the activity log lost or changed entries")
    return out


def assert_readable(err, what):
    assert isinstance(err, WppError), f"{what}: not a WppError: {err!r}"
    bad = unreadable_reasons(err.message) + unreadable_reasons(err.text)
    assert not bad, f"{what}: {err.message!r}: {bad}"


@pytest.fixture
def fleet(make_service, sim, store):
    """Three numbers: A connected (phone scanned), B waiting for its QR, C of another organisation, connected."""
    sim.knobs.starting_s = 0.0
    svc = make_service(timeout=0.6)
    rows = {}
    for key, org, scan in (("A", ORG, True), ("B", ORG, False), ("C", ORG2, True)):
        out = svc.create_number(org, name=f"number {key}", actor="trust")
        assert out.ok, out.error
        row = out.integration
        if scan:
            sim.scan(row.session, sim.current_qr(row.session))
        rows[key] = row
    sim.knobs.timeout_hold_s = 1.2
    return svc, rows


@dataclass
class Checked:
    integration: object
    status: object
    error: object


def fleet_status(svc) -> list[Checked]:
    """Every number checked the way the status engine's poller checks it (concurrently, through poll_check)."""
    rows = svc.list_numbers()
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(svc.poll_check, rows))
    return [Checked(row, r.status, r.error) for row, r in zip(rows, results)]


def all_fine(svc) -> list:
    return [fr for fr in fleet_status(svc) if fr.error is None]


# --- the matrix: every fault kind on every endpoint the console uses --------------------------------------
ENDPOINTS = {
    "create": "POST /api/integrations/wpp/create",
    "token": "POST /auth/token",
    "status": "GET /api/accounts/{session}/status",
    "qr": "GET /api/accounts/{session}/qr",
    "send": "POST /api/messages/text",
}
KINDS = ("500", "html502", "malformed", "empty", "timeout", "invalid_token")


def attempt(svc, rows, endpoint, sim):
    """The staff action that uses ``endpoint``; returns (error or None, a check that it works again)."""
    if endpoint == "create":
        out = svc.create_number(ORG3, name="new", actor="trust")
        iid = out.integration.id

        def again():
            res = svc.resume(iid, actor="trust") if not out.ok else out
            assert res.ok, res.error
            assert sim.stats()["clients_created"] == 4
        return out.error, again
    if endpoint == "token":
        err = outcome_of(lambda: svc.refresh_token(rows["A"].id, actor="trust")).error
        return err, lambda: svc.refresh_token(rows["A"].id, actor="trust")
    if endpoint == "status":
        err = svc.poll_check(svc.get(rows["A"].id)).error

        def again():
            fr = svc.poll_check(svc.get(rows["A"].id))
            assert fr.error is None and fr.status.connected
        return err, again
    if endpoint == "qr":
        view = svc.pairing_state(rows["B"].id)

        def again():
            v = svc.pairing_state(rows["B"].id)
            assert v.error is None and v.qr_png
        return view.error, again
    if endpoint == "send":
        err = outcome_of(lambda: svc.send_test(rows["A"].id, "+7 900 123-45-67", "hello", actor="trust")).error

        def again():
            assert svc.send_test(rows["A"].id, "+7 900 123-45-67", "hello", actor="trust").task_id
        return err, again
    raise AssertionError(endpoint)


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
@pytest.mark.parametrize("kind", KINDS)
def test_fault_gives_readable_error_loses_nothing_and_recovers(fleet, sim, store, trust, kind, endpoint):
    svc, rows = fleet
    before = snapshot(store)
    sim.add_fault(kind, endpoint=ENDPOINTS[endpoint])
    err, again = attempt(svc, rows, endpoint, sim)
    assert err is not None, f"{kind} on {endpoint} went unnoticed"
    assert_readable(err, f"{kind} on {endpoint}")
    assert not lost(before, snapshot(store))
    sim.clear_faults()
    again()
    assert not lost(before, snapshot(store))
    trust.fault(f"{kind} on {ENDPOINTS[endpoint]}",
                f"“{err.message}” — nothing lost; works again once the fault clears")


def test_outage_then_recovery_of_the_fleet(fleet, sim, store, trust):
    svc, rows = fleet
    before = snapshot(store)
    sim.outage(1.5)
    t0 = time.monotonic()
    down = fleet_status(svc)
    assert len(down) == 3 and all(isinstance(fr.error, PlatformUnreachable) for fr in down), [fr.error for fr in down]
    for fr in down:
        assert_readable(fr.error, "fleet during an outage")
    with pytest.raises(PlatformUnreachable) as exc:
        svc.send_test(rows["A"].id, "+79001234567", "during the outage", actor="trust")
    assert_readable(exc.value, "send during an outage")
    assert not lost(before, snapshot(store))
    deadline = time.monotonic() + 10
    while True:
        ok = all_fine(svc)
        if len(ok) == 3:
            break
        assert time.monotonic() < deadline, "the fleet did not recover after the outage"
        time.sleep(0.2)
    assert {fr.integration.id: fr.status.state for fr in ok}[rows["A"].id] is ConnState.CONNECTED
    assert svc.send_test(rows["A"].id, "+79001234567", "after the outage", actor="trust").task_id
    assert not lost(before, snapshot(store))
    trust.fault("platform outage (connection refused) for 1.5 s",
                f"all 3 numbers showed “{down[0].error.message}”; status and sending worked again "
                f"{time.monotonic() - t0:.1f} s after it began")


def test_outage_during_create_keeps_the_row_and_finishes_later(fleet, sim, store, trust):
    svc, rows = fleet
    sim.outage(1.0)
    out = svc.create_number(ORG3, name="during outage", actor="trust")
    assert out.error is not None and not out.created_on_platform
    assert_readable(out.error, "create during an outage")
    kept = store.get(out.integration.id)
    assert kept.name == "during outage" and not kept.api_key and kept.last_error
    deadline = time.monotonic() + 10
    while True:
        res = svc.resume(kept.id, actor="trust")
        if res.ok:
            break
        assert time.monotonic() < deadline, res.error
        time.sleep(0.2)
    assert sim.stats()["clients_created"] == 4
    assert len(store.list_integrations(ORG3)) == 1
    trust.fault("platform outage while creating a number",
                f"“{out.error.message}” — the row was kept; “Finish creating” created exactly one client afterwards")


def test_401_storm_refreshes_once_per_number_never_loops(fleet, sim, store, trust):
    svc, rows = fleet
    before = snapshot(store)
    sim.reset_counters()
    sim.add_fault("invalid_token", endpoint="/api/")  # every /api call answers 401 Invalid token
    out = fleet_status(svc)
    assert all(isinstance(fr.error, InvalidToken) for fr in out), [fr.error for fr in out]
    for fr in out:
        assert_readable(fr.error, "401 storm")
    assert sim.count("POST /auth/token") == 3, "one refresh per number, never a loop"
    assert sim.count("GET /api/accounts/{session}/status") == 6, "one retry per number"
    with pytest.raises(InvalidToken):
        svc.send_test(rows["A"].id, "+79001234567", "storm", actor="trust")
    assert not lost(before, snapshot(store))
    sim.clear_faults()
    assert len(all_fine(svc)) == 3
    trust.fault("401 storm: every /api call answers 401 Invalid token",
                f"“{out[0].error.message}” — exactly one refresh and one retry per number (3 mints for 3 numbers); "
                "status works again when the storm ends")


def test_timeouts_on_the_whole_fleet_are_bounded(fleet, sim, store, trust):
    svc, rows = fleet
    before = snapshot(store)
    sim.add_fault("timeout", endpoint="/status")
    out = fleet_status(svc)
    assert all(fr.error is not None and fr.error.kind == "timeout" for fr in out), [fr.error for fr in out]
    for fr in out:
        assert_readable(fr.error, "fleet timeout")
    sim.clear_faults()
    assert len(all_fine(svc)) == 3
    assert not lost(before, snapshot(store))
    trust.fault("every status request hangs (timeout) for the whole fleet",
                f"“{out[0].error.message}” — every number timed out on its own, nothing hung; recovered")


# --- a key that the platform accepts only 10 s after create ---------------------------------------------------
def _late_key_world(tmp_path, activation_wait_s):
    clock = ManualClock()
    sim = Simulator(SimKnobs(key_activation_delay_s=10.0), clock=clock).start()
    store = SqliteStore(tmp_path / "late.db")
    from wpp.client import WppClient

    client = WppClient(sim.base_url, secret=sim.secret, timeout=2.0, clock=clock)
    svc = WppService(client, store, secret=sim.secret, clock=clock, activation_wait_s=activation_wait_s)
    return clock, sim, store, svc


def test_key_that_activates_after_10_s_is_waited_for(tmp_path, trust):
    clock, sim, store, svc = _late_key_world(tmp_path, activation_wait_s=15.0)
    try:
        t0, c0 = time.monotonic(), clock.time()
        out = svc.create_number(ORG, name="late key", actor="trust")
        real = time.monotonic() - t0
        assert out.ok and out.token_saved, out.error
        assert clock.time() - c0 >= 10.0, "the console must have waited (in platform time) for the key"
        assert real < 5.0, f"the wait took {real:.1f} real seconds: the manual clock was not used"
        mints = sim.count("POST /auth/token")
        assert 2 <= mints <= 8, f"{mints} mint attempts: back-off must be bounded"
        assert store.get(out.integration.id).jwt
        trust.fault("a new API key accepted only 10 s after create (waiting up to 15 s)",
                    f"{mints} attempts with back-off over {clock.time() - c0:.1f} s of platform time; "
                    "the first token was saved")
    finally:
        svc.close(); svc.client.close(); sim.stop(); store.close()


def test_key_that_activates_too_late_leaves_a_finishable_row(tmp_path, trust):
    clock, sim, store, svc = _late_key_world(tmp_path, activation_wait_s=4.0)
    try:
        out = svc.create_number(ORG, name="later key", actor="trust")
        assert isinstance(out.error, InvalidApiKey)
        assert_readable(out.error, "key still activating")
        row = store.get(out.integration.id)
        assert row.api_key == sim.api_key_for(ORG) and row.session and row.token_pending
        clock.advance(10)
        res = svc.resume(row.id, actor="trust")
        assert res.ok and store.get(row.id).jwt
        assert sim.stats()["clients_created"] == 1
        trust.fault("a new API key accepted only 10 s after create (waiting only 4 s)",
                    f"“{out.error.message}” — key and session saved; “Finish creating” got the token later, "
                    "one platform client in all")
    finally:
        svc.close(); svc.client.close(); sim.stop(); store.close()


# --- a process killed between "client created" and "token saved" ------------------------------------------------
WORKER = textwrap.dedent("""
    import sys
    from wpp.client import WppClient
    from wpp.service import WppService
    from wpp.store.sqlite import SqliteStore

    base, secret, db, org = sys.argv[1:5]
    client = WppClient(base, secret=secret, timeout=120, connect_timeout=5)
    svc = WppService(client, SqliteStore(db), secret=secret, activation_wait_s=120)
    print("creating", flush=True)
    out = svc.create_number(org, name="killed half-way", actor="worker")
    print("finished", out.ok, flush=True)
""")


def test_process_killed_after_create_before_token_is_resumed(tmp_path, sim, trust):
    db = tmp_path / "killed.db"
    SqliteStore(db).close()
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    sim.knobs.timeout_hold_s = 60
    sim.add_fault("timeout", endpoint="POST /auth/token")  # the token request hangs: the kill lands in between
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen([sys.executable, str(script), sim.base_url, sim.secret, str(db), ORG], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while sim.count("POST /auth/token") < 1:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the worker never reached the token step"
            time.sleep(0.05)
        assert sim.stats()["clients_created"] == 1
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    out, errout = proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    assert b"finished" not in out

    sim.clear_faults()
    store = SqliteStore(db)  # a fresh process: only the file is shared
    from wpp.client import WppClient

    client = WppClient(sim.base_url, secret=sim.secret, timeout=2.0)
    svc = WppService(client, store, secret=sim.secret, activation_wait_s=1.0)
    try:
        rows = store.list_integrations(include_inactive=True)
        assert len(rows) == 1
        row = rows[0]
        assert row.api_key == sim.api_key_for(ORG), "the apiKey from create must have been saved before the token step"
        assert row.session and row.token_pending and not row.jwt
        res = svc.resume(row.id, actor="next morning")
        assert res.ok and res.token_saved, res.error
        assert store.get(row.id).jwt
        assert sim.stats()["clients_created"] == 1, "resuming must not create a second platform client"
        fr = svc.poll_check(store.get(row.id))
        assert fr.error is None
        trust.fault("process SIGKILLed after the platform created the client, before the token was saved",
                    "a fresh process found the key and session in the SQLite file, finished with one click, "
                    "one platform client in all")
    finally:
        svc.close(); client.close(); store.close()
