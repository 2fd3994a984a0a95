"""Counters, latency, outages, concurrency, robustness and the command line."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import pytest

from wpp.simulator import Simulator

from tests.harness import free_port, run_together


def test_counters_count_platform_calls_only(api, sim):
    session, h = api.login()
    for _ in range(3):
        api.status(session, h)
    api.http.get("/_sim/stats")
    api.http.get("/_sim/accounts")
    stats = sim.stats()
    assert stats == {
        "requests": {
            "POST /api/integrations/wpp/create": 1,
            "POST /auth/token": 1,
            "GET /api/accounts/{session}/status": 3,
        },
        "tokens_minted": 1,
        "clients_created": 1,
        "in_flight": 0,
        "peak_in_flight": 1,
    }
    assert api.http.get("/_sim/stats").json() == stats
    assert sim.count("GET /api/accounts/{session}/status") == 3
    assert sim.count("GET /api/accounts/{session}/qr") == 0
    sim.reset_counters()
    assert sim.stats() == {"requests": {}, "tokens_minted": 0, "clients_created": 0, "in_flight": 0,
                           "peak_in_flight": 0}
    api.status(session, h)  # accounts and tokens survive a counter reset
    assert sim.count("GET /api/accounts/{session}/status") == 1
    assert api.http.post("/_sim/reset").status_code == 200
    assert sim.stats()["requests"] == {}


def test_full_reset_forgets_accounts_and_tokens(api, sim):
    session, h = api.login()
    assert api.http.post("/_sim/reset", json={"all": True}).json() == {"ok": True}
    assert sim.accounts() == []
    assert api.status(session, h).status_code == 401


def test_accounts_listing_masks_the_key(api, sim):
    key, session = api.account("org-m")
    listing = api.http.get("/_sim/accounts").json()["accounts"]
    assert [(a["organizationId"], a["session"], a["status"]) for a in listing] == [("org-m", session, "starting")]
    assert key not in repr(listing) and key not in repr(sim.accounts())
    assert listing[0]["apiKey"].startswith(key[:4])


def test_unknown_paths_and_methods_answer_json(api):
    r = api.http.get("/nope")
    assert r.status_code == 404 and "error" in r.json()
    r = api.http.get("/api/accounts/start")
    assert r.status_code in (404, 405) and "error" in r.json()
    assert api.http.get("/_sim/nope").status_code == 404


def test_a_bug_in_a_handler_answers_500_json_and_the_server_lives_on(api, sim, monkeypatch):
    session, h = api.login()

    def boom(*a, **k):
        raise RuntimeError("bug")

    monkeypatch.setattr(sim.platform, "status", boom)
    r = api.status(session, h)
    assert r.status_code == 500 and "error" in r.json()
    monkeypatch.undo()
    assert api.status(session, h).status_code == 200


def test_latency_is_real_and_requests_run_concurrently(api, sim):
    session, h = api.login()
    sim.knobs.latency_s = 1.0
    t0 = time.monotonic()
    assert api.status(session, h).status_code == 200
    assert time.monotonic() - t0 >= 1.0
    sim.reset_counters()

    def one():
        with httpx.Client(base_url=sim.base_url, timeout=5) as c:
            return c.get(f"/api/accounts/{session}/status", headers=h).status_code

    results, errors = run_together(one, 10)
    assert not errors, errors
    assert results == [200] * 10
    # in series the peak would be 1; most of the ten are answered at the same moment (a loaded machine may
    # start a thread late, so not all ten are required)
    assert sim.stats()["peak_in_flight"] >= 5, sim.stats()
    assert api.http.get("/_sim/stats").status_code == 200  # control calls skip the latency


def test_fifty_threads_minting_tokens(api, sim):
    key, session = api.account()
    sim.reset_counters()

    def mint():
        with httpx.Client(base_url=sim.base_url, timeout=10) as c:
            r = c.post("/auth/token", json={"apiKey": key})
            return r.status_code, r.json().get("token")

    results, errors = run_together(mint, 50)
    assert not errors, errors[:3]
    assert [code for code, _ in results] == [200] * 50
    assert len({tok for _, tok in results}) == 50
    assert sim.count("POST /auth/token") == 50
    assert sim.stats()["tokens_minted"] == 50


def test_keep_alive_connection_is_reused(api, sim):
    session, h = api.login()
    ports = set()
    for _ in range(5):
        with api.http.stream("GET", f"/api/accounts/{session}/status", headers=h) as r:
            ports.add(r.extensions["network_stream"].get_extra_info("client_addr")[1])
            r.read()
    assert len(ports) == 1


def test_outage_refuses_connections_then_reopens_on_the_same_port(api, sim):
    session, h = api.login()
    port = sim.port
    sim.outage(0.5)
    with pytest.raises(httpx.ConnectError):
        api.status(session, h)
    time.sleep(0.8)
    assert sim.port == port
    assert api.status(session, h).status_code == 200  # state and tokens survive an outage


def test_outage_over_http_answers_first(api, sim):
    session, h = api.login()
    r = api.http.post("/_sim/outage", json={"seconds": 0.5})
    assert r.status_code == 200 and r.json()["ok"] is True
    with httpx.Client(base_url=sim.base_url, timeout=2) as fresh, pytest.raises(httpx.ConnectError):
        fresh.get("/_sim/stats")
    deadline = time.monotonic() + 3
    while True:
        try:
            assert api.status(session, h).status_code == 200
            break
        except httpx.ConnectError:
            assert time.monotonic() < deadline, "the simulator did not come back"
            time.sleep(0.05)


def test_stop_closes_the_port_and_with_block_starts_it(make_sim):
    sim = Simulator()
    with sim:
        assert sim.base_url == f"http://127.0.0.1:{sim.port}" and sim.port > 0
        assert httpx.get(sim.base_url + "/_sim/stats").status_code == 200
    with pytest.raises(httpx.ConnectError):
        httpx.get(sim.base_url + "/_sim/stats", timeout=1)


def test_command_line_runs_the_simulator():
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "wpp.simulator", "--port", str(port), "--token-lifetime", "42"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        first = proc.stdout.readline()
        second = proc.stdout.readline()
        assert f"http://127.0.0.1:{port}" in first
        assert "secret" in second.lower() and "sim-platform-secret" in second
        base = f"http://127.0.0.1:{port}"
        r = httpx.post(
            base + "/api/integrations/wpp/create",
            json={"organizationId": "cli-org"},
            headers={"Authorization": "Bearer sim-platform-secret"},
            timeout=5,
        )
        assert r.status_code == 200
        token = httpx.post(base + "/auth/token", json={"apiKey": r.json()["apiKey"]}, timeout=5).json()
        assert token["expiresIn"] == 42
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0


def test_assigning_new_knobs_applies_to_the_next_request(api, sim):
    from wpp.simulator import SimKnobs

    key, _ = api.account()
    sim.knobs = SimKnobs(token_lifetime_s=77, include_expires_in=True)
    assert api.http.post("/auth/token", json={"apiKey": key}).json()["expiresIn"] == 77
