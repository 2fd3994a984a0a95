"""Injected faults: each kind, scoping by endpoint, counting down, clearing."""
from __future__ import annotations

import json

import httpx
import pytest


def test_500(api, sim):
    session, h = api.login()
    sim.add_fault("500")
    r = api.status(session, h)
    assert r.status_code == 500 and isinstance(r.json()["error"], str)


def test_html502(api, sim):
    session, h = api.login()
    sim.add_fault("html502")
    r = api.status(session, h)
    assert r.status_code == 502
    assert r.headers["content-type"].startswith("text/html")
    assert "502 Bad Gateway" in r.text and "nginx" in r.text
    with pytest.raises(json.JSONDecodeError):
        r.json()


def test_malformed_and_empty(api, sim):
    session, h = api.login()
    sim.add_fault("malformed", times=1)
    r = api.status(session, h)
    assert r.status_code == 200 and r.content
    with pytest.raises(json.JSONDecodeError):
        r.json()
    sim.add_fault("empty", times=1)
    r = api.status(session, h)
    assert r.status_code == 200 and r.content == b""
    assert api.status(session, h).json() == {"status": "starting"}


def test_invalid_token_storm_even_for_a_good_token(api, sim):
    session, h = api.login()
    sim.add_fault("invalid_token", endpoint="/status")
    for _ in range(3):
        r = api.status(session, h)
        assert r.status_code == 401 and r.json() == {"error": "Invalid token"}
    assert api.qr(session, h).status_code == 200  # other endpoints unaffected
    sim.clear_faults()
    assert api.status(session, h).status_code == 200


def test_timeout_holds_then_closes_without_answer(api, sim):
    session, h = api.login()
    sim.knobs.timeout_hold_s = 0.6
    sim.add_fault("timeout", endpoint="GET /api/accounts/{session}/status", times=2)
    with pytest.raises(httpx.ReadTimeout):
        api.http.get(f"/api/accounts/{session}/status", headers=h, timeout=0.2)
    with pytest.raises(httpx.RemoteProtocolError):  # the server hung up without a response
        api.http.get(f"/api/accounts/{session}/status", headers=h, timeout=3)
    assert api.status(session, h).status_code == 200
    assert sim.count("GET /api/accounts/{session}/status") == 3


def test_times_counts_down_and_endpoint_scopes(api, sim):
    key, session = api.account()
    sim.add_fault("500", endpoint="POST /auth/token", times=2)
    codes = [api.http.post("/auth/token", json={"apiKey": key}).status_code for _ in range(3)]
    assert codes == [500, 500, 200]
    assert sim.knobs.faults == []
    assert api.create("org-2").status_code == 200


def test_faults_over_http_and_control_endpoints_are_never_faulted(api, sim):
    r = api.http.post("/_sim/faults", json={"kind": "html502", "endpoint": "/auth/token", "times": None})
    assert r.status_code == 200
    assert api.http.get("/_sim/stats").status_code == 200
    key, _ = api.account()
    assert api.http.post("/auth/token", json={"apiKey": key}).status_code == 502
    assert api.http.get("/_sim/knobs").json()["faults"] == [{"kind": "html502", "endpoint": "/auth/token", "times": None}]
    assert api.http.delete("/_sim/faults").status_code == 200
    assert api.http.post("/auth/token", json={"apiKey": key}).status_code == 200
    r = api.http.post("/_sim/faults", json={"kind": "teapot"})
    assert r.status_code == 400 and "error" in r.json()
    with pytest.raises(ValueError):
        sim.add_fault("teapot")


def test_a_late_status_answer_tells_what_was_true_when_the_request_came_in(api, sim):
    """The knob behind issue 23's "a stale poll answer overwrites a newer push": the platform takes the status request
    (the phone is connected), the phone drops meanwhile, and the answer that finally comes still says connected."""
    import threading
    import time

    session, h = api.login()
    sim.set_status(session, "connected")
    sim.knobs.status_late_s = 0.8
    threading.Timer(0.3, lambda: sim.set_status(session, "offline")).start()
    t0 = time.monotonic()
    r = api.status(session, h)
    assert time.monotonic() - t0 >= 0.75
    assert r.json()["status"] == "connected"  # late, and no longer true
    sim.knobs.status_late_s = 0.0
    assert api.status(session, h).json()["status"] == "offline"
    sim.knobs.update({"status_late_s": 1.5})
    assert sim.knobs.status_late_s == 1.5
    with pytest.raises(ValueError):
        sim.knobs.update({"status_late_s": -1})
