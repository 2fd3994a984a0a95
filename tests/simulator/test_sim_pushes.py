"""The simulator pushes to a registered webhook (platform-api.md, "Webhook events"): connected / offline / qr on
changes of state, delivery updates shortly after a send (envelope and flat shapes), incoming messages, and — on
request — replays and garbage. A plain HTTP server on loopback stands for the console."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class Receiver:
    """A loopback HTTP server that keeps every POST (path and body) and answers ``status``."""

    def __init__(self, status: int = 200):
        self.status = status
        self.posts: list[tuple[str, bytes]] = []
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):  # noqa: D401 - quiet
                return

            def do_POST(self):  # noqa: N802
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with outer.lock:
                    outer.posts.append((self.path, raw))
                self.send_response(outer.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/_wpp/hook/s3cr3t-address-0123456789"

    def bodies(self) -> list:
        with self.lock:
            out = []
            for _path, raw in self.posts:
                try:
                    out.append(json.loads(raw))
                except ValueError:
                    out.append(raw)
            return out

    def wait(self, n: int, timeout: float = 5.0) -> list:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.posts) >= n:
                time.sleep(0.1)  # anything right behind
                return self.bodies()
            time.sleep(0.02)
        raise AssertionError(f"expected {n} pushes, got {len(self.posts)}: {self.bodies()}")

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def register(api, session, headers, url):
    r = api.http.post(f"/internal/session/{session}/webhook", json={"url": url}, headers=headers)
    assert r.status_code == 200, r.text


def test_changes_of_state_are_pushed_as_envelopes(mapi, msim, clock, receiver):
    session, h = mapi.login()
    clock.advance(2)  # starting -> qr
    register(mapi, session, h, receiver.url)
    time.sleep(0.3)
    assert receiver.posts == []  # nothing until something changes
    clock.advance(25)  # the first QR code expired: a new one
    qr = receiver.wait(1)[0]
    assert qr["type"] == "qr" and qr["data"]["account"] == session and qr["data"]["qr"] == msim.current_qr(session)
    assert qr["id"].startswith("evt_") and isinstance(qr["created"], int)
    assert msim.scan(session, msim.current_qr(session))
    connected = receiver.wait(2)[1]
    assert (connected["type"], connected["data"]["account"]) == ("connected", session)
    msim.set_status(session, "offline")
    offline = receiver.wait(3)[2]
    assert offline["type"] == "offline" and offline["id"] != connected["id"]
    assert receiver.posts[0][0] == "/_wpp/hook/s3cr3t-address-0123456789"
    assert msim.push_stats() == {"200": 3, "total": 3}


def test_a_send_is_followed_by_sent_delivered_read(mapi, msim, clock, receiver):
    session, h = mapi.login()
    msim.set_status(session, "connected")
    register(mapi, session, h, receiver.url)
    task = mapi.send_text(h).json()["taskId"]
    time.sleep(0.2)
    assert receiver.posts == []  # the simulator's clock has not moved
    clock.advance(0.6)
    sent = receiver.wait(1)[0]
    assert sent["type"] == "message.sent" and sent["data"]["messageId"] == task and sent["data"]["account"] == session
    clock.advance(3)
    later = receiver.wait(3)[1:]
    assert later == [{"type": "delivery", "account": session, "messageId": task, "status": "delivered"},
                     {"type": "delivery", "account": session, "messageId": task, "status": "read"}]
    # a deleted message: a flat "deleted" update
    assert mapi.http.delete(f"/api/messages/{task}", headers=h).status_code == 200
    assert receiver.wait(4)[3]["status"] == "deleted"


def test_flat_shapes_failures_and_incoming_messages(make_sim, clock, api_for, receiver):
    sim = make_sim(clock=clock, push_shape="flat", messages_fail=True)
    api = api_for(sim)
    session, h = api.login()
    sim.set_status(session, "connected")
    register(api, session, h, receiver.url)
    task = api.send_text(h).json()["taskId"]
    clock.advance(1)
    dead = receiver.wait(1)[0]
    assert dead == {"type": "delivery", "account": session, "messageId": task, "status": "error",
                    "error": "Recipient is not on WhatsApp"}
    r = api.http.post(f"/_sim/accounts/{session}/incoming", json={"from": "79007654321", "text": "Привет"})
    assert r.status_code == 200
    chat = receiver.wait(2)[1]
    assert chat == {"account": session, "from": "79007654321", "text": "Привет", "type": "chat",
                    "messageId": r.json()["messageId"], "fromMe": False}
    sim.knobs.push_shape = "envelope"
    sim.knobs.messages_fail = False
    sim.incoming(session)
    assert receiver.wait(3)[2]["type"] == "message.incoming"
    task = api.send_text(h).json()["taskId"]
    clock.advance(1)
    assert receiver.wait(4)[3]["type"] == "message.sent"


def test_replays_and_garbage_on_request(make_sim, clock, api_for, receiver):
    sim = make_sim(clock=clock, push_replays=2, push_garbage=True)
    api = api_for(sim)
    session, h = api.login()
    register(api, session, h, receiver.url)
    sim.set_status(session, "connected")
    got = receiver.wait(5)
    garbage, other, event, *replays = got
    assert isinstance(garbage, bytes)  # not JSON
    assert other["data"]["account"] == "9" * 13 and other["type"] == "connected"
    assert event["data"]["account"] == session and replays == [event, event]


def test_nothing_is_pushed_without_a_webhook_during_an_outage_or_with_pushes_off(make_sim, clock, api_for, receiver):
    sim = make_sim(clock=clock)
    api = api_for(sim)
    session, h = api.login()
    sim.set_status(session, "connected")
    time.sleep(0.2)
    register(api, session, h, receiver.url)
    sim.outage(0.5)
    sim.set_status(session, "offline")
    time.sleep(0.2)
    assert receiver.posts == []  # the platform is down: it pushes nothing either
    assert receiver.wait(1, timeout=5)[0]["type"] == "offline"  # ... and catches up when it is back
    sim.knobs.push_events = False
    sim.set_status(session, "connected")
    time.sleep(0.3)
    assert len(receiver.posts) == 1


def test_a_webhook_that_fails_is_counted_and_the_simulator_goes_on(make_sim, clock, api_for):
    refusing = Receiver(status=404)
    try:
        sim = make_sim(clock=clock)
        api = api_for(sim)
        session, h = api.login()
        register(api, session, h, refusing.url)
        sim.set_status(session, "connected")
        refusing.wait(1)
        register(api, session, h, "http://127.0.0.1:9/_wpp/hook/nobody-listens-here-0123")
        sim.set_status(session, "offline")
        deadline = time.monotonic() + 5
        while sim.push_stats().get("failed") != 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sim.push_stats() == {"404": 1, "failed": 1, "total": 2}
        assert api.status(session, h).json()["status"] == "offline"  # still answering
    finally:
        refusing.close()


def test_push_knobs_are_checked(msim, mapi):
    r = mapi.http.post("/_sim/knobs", json={"push_shape": "xml"})
    assert r.status_code == 400
    r = mapi.http.post("/_sim/knobs", json={"push_replays": -1})
    assert r.status_code == 400
    r = mapi.http.post("/_sim/knobs", json={"push_shape": "flat", "push_replays": 1, "messages_fail": True})
    assert r.status_code == 200 and r.json()["push_shape"] == "flat"
    assert mapi.http.get("/_sim/pushes").json() == {}
