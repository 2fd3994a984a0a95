"""Sending, deleting and the message validation of the simulated platform."""
from __future__ import annotations

import uuid

import pytest

NOT_CONNECTED = {"status": "error", "message": "Account is not connected"}


@pytest.fixture
def connected(api, sim):
    session, h = api.login()
    sim.set_status(session, "connected")
    return session, h


def test_send_when_not_connected_is_http_200_with_status_error(api, sim):
    session, h = api.login()
    r = api.send_text(h)
    assert r.status_code == 200 and r.json() == NOT_CONNECTED
    assert sim.messages() == []


def test_send_text_when_connected_is_queued_and_recorded(api, sim, connected):
    session, h = connected
    r = api.send_text(h, to="79001234567", text="Привет")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "queued" and body["message"] == "Message queued"
    uuid.UUID(body["taskId"])
    [msg] = sim.messages(session)
    assert msg["taskId"] == body["taskId"] and msg["to"] == "79001234567" and msg["text"] == "Привет"
    assert msg["type"] == "text" and msg["session"] == session
    assert api.http.get("/_sim/messages", params={"session": session}).json()["messages"][0]["taskId"] == body["taskId"]


def test_the_jwt_selects_the_sending_account(api, sim):
    s1, h1 = api.login("org-1")
    s2, h2 = api.login("org-2")
    sim.set_status(s1, "connected")
    sim.set_status(s2, "connected")
    api.send_text(h2, text="from two")
    assert [m["text"] for m in sim.messages(s2)] == ["from two"]
    assert sim.messages(s1) == []


def test_old_form_with_account_and_priority(api, sim, connected):
    session, h = connected
    r = api.send_text(h, account=session, priority="high")
    assert r.json()["status"] == "queued"
    s2, _ = api.login("org-2")
    r = api.send_text(h, account=s2)
    assert r.status_code == 403 and r.json() == {"error": "Forbidden"}


@pytest.mark.parametrize("to", ["12345", "+79001234567", "7900123456712345", "", None, "79OO1234567", "8 900 123"])
def test_bad_recipient_is_400(api, sim, connected, to):
    r = api.send_text(connected[1], to=to)
    assert r.status_code == 400 and isinstance(r.json()["error"], str)
    assert sim.messages() == []


def test_empty_text_is_400(api, connected):
    r = api.send_text(connected[1], text="   ")
    assert r.status_code == 400 and "error" in r.json()


def test_send_needs_a_valid_token(api, connected):
    r = api.send_text({"Authorization": "Bearer nope"})
    assert r.status_code == 401 and r.json() == {"error": "Invalid token"}


@pytest.mark.parametrize("kind", ["image", "file", "video", "audio", "document", "documents"])
def test_media_messages(api, sim, connected, kind):
    session, h = connected
    ok = {"type": kind, "to": "79001234567", "url": "https://example.test/a.bin", "caption": "c", "filename": "a.bin"}
    r = api.http.post(f"/api/messages/{kind}", json=ok, headers=h)
    assert r.status_code == 200 and r.json()["status"] == "queued"
    assert sim.messages(session)[-1]["url"] == ok["url"] and sim.messages(session)[-1]["type"] == kind
    r = api.http.post(f"/api/messages/{kind}", json={"type": kind, "to": "79001234567"}, headers=h)
    assert r.status_code == 400


def test_location_message(api, sim, connected):
    session, h = connected
    ok = {"type": "location", "to": "79001234567", "lat": 55.75, "lng": 37.62, "name": "Office", "address": "Moscow"}
    assert api.http.post("/api/messages/location", json=ok, headers=h).json()["status"] == "queued"
    assert sim.messages(session)[-1]["lat"] == 55.75
    for bad in ({**ok, "lat": "north"}, {**ok, "lng": None}, {**ok, "lat": 95}):
        assert api.http.post("/api/messages/location", json=bad, headers=h).status_code == 400


def test_delete_message(api, sim, connected):
    session, h = connected
    task = api.send_text(h).json()["taskId"]
    other_session, other_h = api.login("org-2")
    r = api.http.delete(f"/api/messages/{task}", headers=other_h)
    assert r.status_code == 404  # someone else's message
    r = api.http.delete(f"/api/messages/{task}", headers=h)
    assert r.status_code == 200 and r.json() == {"status": "deleted"}
    assert sim.messages(session)[0]["status"] == "deleted"
    assert api.http.delete(f"/api/messages/{task}", headers=h).status_code == 404
    assert api.http.delete(f"/api/messages/{uuid.uuid4()}", headers=h).status_code == 404
    assert api.http.delete(f"/api/messages/{task}").status_code == 401
