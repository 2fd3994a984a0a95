"""Status pushed by the platform, at the service level, against the simulator pushing for real over loopback:
registering each number's webhook (a secret address; only its hash kept), a test message's ticks (accepted ->
sent -> delivered -> read, or failed), the scan reaching the board by push, the Settings page's overview, who may
read what, a registration that fails (written to the diary once, retried later), and a console without an address
(nothing registered, pages say the delivery cannot be followed).

The console's side of the wire is a small loopback HTTP server that hands the path's secret and the body to the
service's inbox, as ``wppui.routes`` does (the route itself is tested in tests/app).
"""
from __future__ import annotations

import json
import random
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from wpp import keys
from wpp.access.roles import Access, Grant, NotAllowed, Role
from wpp.errors import IntegrationNotFound
from wpp.status import PollPolicy, StatusEngine, WebhookInbox
from wpp.status.webhooks import secret_hash

from .conftest import ORG, ORG2


class LoopbackConsole:
    """``POST /_wpp/hook/<secret>`` on loopback -> ``inbox.receive(secret, body)`` (what wppui.routes does)."""

    def __init__(self):
        self.inbox = None
        self.answers: list[int] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                return

            def do_POST(self):  # noqa: N802
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                secret = self.path.rsplit("/", 1)[-1] if self.path.startswith("/_wpp/hook/") else ""
                answer = outer.inbox.receive(secret, raw)
                outer.answers.append(answer.status)
                body = json.dumps(answer.body()).encode()
                self.send_response(answer.status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def console():
    c = LoopbackConsole()
    yield c
    c.close()


@pytest.fixture
def pushed(make_service, store, sim, console):
    """A service whose numbers' status the simulator pushes to ``console`` (a status engine, not started: the tests
    make its passes)."""
    sim.knobs.push_sent_s, sim.knobs.push_delivered_s, sim.knobs.push_read_s = 0.1, 0.3, 0.6
    svc = make_service()
    svc.engine = StatusEngine(store, svc.poll_check, clock=svc.clock, policy=PollPolicy(), rng=random.Random(3))
    inbox = WebhookInbox(store, svc.engine, clock=svc.clock)
    svc.configure_webhooks(console.base, inbox=inbox)
    console.inbox = inbox
    return svc


def wait_for(check, timeout: float = 8.0, what: str = ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what or check}")


def linked_number(svc, sim, org=ORG, name="Reception"):
    out = svc.create_number(org, name=name, actor="alice")
    assert out.ok, out.error
    row = out.integration
    svc.start_pairing(row.id, actor="alice")
    svc.wait_webhooks()
    return row


def test_a_number_gets_its_own_secret_address_and_only_its_hash_is_kept(pushed, sim, store, console):
    a = linked_number(pushed, sim)
    b = linked_number(pushed, sim, org=ORG2, name="Front desk")
    hooks = {acc["session"]: acc["webhook"] for acc in sim.accounts()}
    for row in (a, b):
        url = hooks[store.get(row.id).session]
        assert url.startswith(console.base + "/_wpp/hook/")
        secret = url.rsplit("/", 1)[-1]
        assert len(secret) >= 32  # at least 128 random bits (256 here)
        settings = store.get(row.id).settings
        assert settings[keys.WEBHOOK_HASH] == secret_hash(secret) and keys.WEBHOOK_PENDING not in settings
        assert secret not in json.dumps(settings) and settings[keys.WEBHOOK_BASE] == console.base
        assert not any(secret in (e.detail or "") for e in store.list_activity())
    assert hooks[store.get(a.id).session] != hooks[store.get(b.id).session]
    # registered again (a pass after the address changed, or force): a new secret; the old address is dead
    old = hooks[store.get(a.id).session].rsplit("/", 1)[-1]
    assert pushed._register_hook(a.id, force=True)
    new = {acc["session"]: acc["webhook"] for acc in sim.accounts()}[store.get(a.id).session].rsplit("/", 1)[-1]
    assert new != old and store.get(a.id).settings[keys.WEBHOOK_HASH] == secret_hash(new)
    assert pushed.inbox.receive(old, b'{"type": "offline", "data": {}}').status == 404


def test_the_scan_reaches_the_board_by_push_and_polling_drops_to_a_sanity_check(pushed, sim, store):
    row = linked_number(pushed, sim)
    session = store.get(row.id).session
    pushed.engine.tick()  # the poller's first look: waiting for the scan
    assert pushed.engine.board()[row.id].state in ("starting", "qr_required")
    asked = sim.count("GET /api/accounts/{session}/status")
    assert sim.scan(session, sim.current_qr(session) or sim.rotate_qr(session))
    wait_for(lambda: pushed.engine.board()[row.id].connected, what="the pushed 'connected'")
    assert sim.count("GET /api/accounts/{session}/status") == asked  # nobody asked the platform
    assert any(a.action == "linked" for a in store.list_activity(integration_id=row.id))
    assert pushed.engine.pushed(row.id)


def test_a_test_message_goes_from_accepted_to_read_by_the_platforms_pushes(pushed, sim, store, console):
    row = linked_number(pushed, sim)
    sim.set_status(store.get(row.id).session, "connected")
    out = pushed.send_test(row.id, "8 900 123-45-67", "Проверка", actor="alice")
    assert out.task_id
    first = pushed.delivery(row.id, out.task_id)
    assert first is not None and first.to == "+7 900 123-45-67" and not first.done
    seen = {first.status}
    final = wait_for(lambda: (d := pushed.delivery(row.id, out.task_id)) and (seen.add(d.status) or d.done and d),
                     what="the message to be read")
    assert final.status == "read" and final.ticks == "✓✓ 👁" and str(final.words) == "Read"
    assert seen <= {"accepted", "sent", "delivered", "read"} and "read" in seen
    assert [t.status for t in pushed.recent_tests(row.id)] == ["read"]
    assert set(console.answers) == {200}

    sim.knobs.messages_fail = True
    bad = pushed.send_test(row.id, "+7 900 765-43-21", "Ещё", actor="alice")
    dead = wait_for(lambda: (d := pushed.delivery(row.id, bad.task_id)) and d.failed and d, what="the failure")
    assert dead.words == "Failed: Recipient is not on WhatsApp" and dead.done
    assert [t.status for t in pushed.recent_tests(row.id)] == ["failed", "read"]
    assert "ticks follow" in pushed.delivery_note()


def test_who_may_read_the_ticks_and_the_overview(pushed, sim, store):
    row = linked_number(pushed, sim)
    sim.set_status(store.get(row.id).session, "connected")
    out = pushed.send_test(row.id, "+7 900 123-45-67", "x", actor="alice")

    def person(role, *schools):
        return pushed.for_session({}, access=Access.of([Grant(role, frozenset(schools))], source="test"), actor="p")

    viewer_a, operator_b = person(Role.VIEWER, ORG), person(Role.OPERATOR, ORG2)
    assert viewer_a.delivery(row.id, out.task_id) is not None and viewer_a.recent_tests(row.id)
    with pytest.raises(IntegrationNotFound):
        operator_b.delivery(row.id, out.task_id)
    with pytest.raises(IntegrationNotFound):
        operator_b.recent_tests(row.id)
    with pytest.raises(NotAllowed):
        person(Role.OPERATOR, ORG).webhook_overview()
    wait_for(lambda: pushed.delivery(row.id, out.task_id).done, what="read")
    pushed.inbox.receive("x" * 40, b"{}")  # an address nobody was given
    admin = pushed.for_session({}, access=Access.full())
    over = admin.webhook_overview()
    assert over.on and over.summary.startswith("On:") and "/_wpp/hook/…" in over.summary
    (line,) = over.lines
    assert (line.registered, line.arriving) == ("Yes", "Yes") and line.last_event is not None
    assert line.accepted >= 3 and line.refused == 0
    assert over.accepted == line.accepted and over.refused == 1 and "unknown address 1" in over.refused_detail
    assert ("Status pushed by the platform", "on") in admin.settings_rows()


def test_a_failed_registration_is_written_once_and_retried_later(pushed, sim, store, monkeypatch):
    from wpp.service import webhooks as hooks_module

    sim.add_fault("500", "/webhook")
    row = linked_number(pushed, sim)  # create and pairing: two tries, both refused
    assert keys.WEBHOOK_HASH not in store.get(row.id).settings
    assert pushed.number(row.id).status is not None  # creating and pairing went on as ever
    lines = [a for a in store.list_activity(integration_id=row.id) if a.action == "webhook"]
    assert len(lines) == 1 and lines[0].outcome == "error"
    assert "will try again" in lines[0].detail
    assert pushed.webhook_pass() == 0  # waiting for its pause
    sim.clear_faults()
    monkeypatch.setattr(hooks_module, "RETRY_FIRST_S", 0.0)
    pushed._hooks.failures[row.id] = (1, 0.0)
    assert pushed.webhook_pass() == 1
    assert store.get(row.id).settings[keys.WEBHOOK_HASH]
    ok = [a for a in store.list_activity(integration_id=row.id) if a.action == "webhook" and a.outcome == "ok"]
    assert len(ok) == 1
    assert pushed.webhook_pass() == 0  # nothing left to do


def test_without_an_address_nothing_is_registered_and_pages_say_so(make_service, store, sim):
    svc = make_service()
    svc.engine = StatusEngine(store, svc.poll_check, clock=svc.clock)
    svc.configure_webhooks(None, inbox=WebhookInbox(store, svc.engine, clock=svc.clock))
    row = linked_number(svc, sim)
    sim.set_status(store.get(row.id).session, "connected")
    out = svc.send_test(row.id, "+7 900 123-45-67", "x", actor="alice")
    assert not svc.webhooks_on and all(a["webhook"] is None for a in sim.accounts())
    assert "cannot be followed" in svc.delivery_note() and "WPP_PUBLIC_URL" in svc.delivery_note()
    assert svc.delivery(row.id, out.task_id).status == "accepted"
    assert svc.webhook_pass() == 0
    rows = dict(svc.for_session({}, access=Access.full()).settings_rows())
    assert "WPP_PUBLIC_URL" in rows["Status pushed by the platform"]


def test_build_service_wires_webhooks_from_the_settings(tmp_path, sim):
    from wpp.config import Settings
    from wpp.service import build_service

    on = build_service(Settings(wpp_base_url=sim.base_url, wpp_secret=sim.secret, data_dir=str(tmp_path / "a"),
                                public_url="https://console.school.example/", webhook_sanity_minutes=5),
                       start_engine=False)
    off = build_service(Settings(wpp_base_url=sim.base_url, wpp_secret=sim.secret, data_dir=str(tmp_path / "b")),
                        start_engine=False)
    try:
        assert on.webhooks_on and on._hooks.base == "https://console.school.example"
        assert on.engine.policy.sanity_s == 300 and on.engine.policy.push_fresh_s >= 900
        assert {t.name for t in on.engine._tasks} == {"webhooks", "webhook-counts", "retention", "delivery-proof"}
        assert on.engine.hooked == on.webhook_works and on.engine.on_missed_push == on.webhooks_missed
        assert on.inbox.replay_window_s == 25 * 3600  # the platform may retry for a day
        assert not off.webhooks_on and off.inbox is not None  # pushes to an old address are still understood
        assert {t.name for t in off.engine._tasks} == {"webhook-counts", "retention"}  # nothing is registered
        assert "WPP_PUBLIC_URL" in off.webhooks_off_reason()
    finally:
        for svc in (on, off):
            svc.close()
            svc.client.close()
            svc.store.close()
