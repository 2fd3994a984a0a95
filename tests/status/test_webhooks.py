"""Status pushed by the platform: the webhook inbox (``wpp.status.webhooks``) and how polling adapts to it.

Both shapes of platform-api.md (the envelope and the flat bodies), every refusal (unknown address, too big, not
readable, another account, a replay), what an accepted push writes (the board, the history, the diary, a test
message's ticks, ``last_event_at``), the counts, and the poller dropping to a sanity check while events arrive and
coming back when they stop — on one SQLite file and on two replicas sharing a real PostgreSQL.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import secrets
import uuid

import pytest

from wpp import keys
from wpp.models import DeliveryRecord, Status
from wpp.status import PollPolicy
from wpp.status.webhooks import MAX_BODY, Malformed, WebhookInbox, hook_url, parse_event, secret_hash

from .helpers import add_number, run_for

SESSION_N = 4242


def hooked(store, *, n: int = SESSION_N, name: str = "Front desk"):
    """A number with a registered webhook: (row, the secret in its address)."""
    row = add_number(store, name, n=n)
    secret = secrets.token_urlsafe(32)
    row = store.merge_settings(row.id, {keys.WEBHOOK_HASH: secret_hash(secret)})
    return row, secret


@pytest.fixture
def inbox(store, engine, clock):
    return WebhookInbox(store, engine, clock=clock)


def envelope(kind: str, session: str, *, created: float | None = None, **data) -> bytes:
    """An envelope as platform-api.md shows it; ``created`` (Unix seconds) is sent in milliseconds when given, else
    left out (the console dates the event by its arrival)."""
    body = {"id": "evt_" + uuid.uuid4().hex, "type": kind, "data": {"account": session, **data}}
    if created is not None:
        body["created"] = int(created * 1000)
    return json.dumps(body).encode()


def flat(**body) -> bytes:
    return json.dumps(body).encode()


def send(inbox, secret, raw):
    a = inbox.receive(secret, raw)
    return a.status, a.body()["outcome"]


# --- the shapes ---------------------------------------------------------------------------------------------------
def test_the_platform_shapes_are_understood():
    e = parse_event(b"x", {"id": "e1", "type": "connected", "data": {"account": "0000000000004", "phone": "79001234567"}})
    assert (e.what, e.status.state.value, e.status.phone, e.account, e.key) == \
        ("state", "connected", "79001234567", "0000000000004", "e:e1")
    assert parse_event(b"x", {"id": 7, "type": "qr", "data": {"account": 4, "qr": "2@abc"}}).status.state.value \
        == "qr_required"
    assert parse_event(b"x", {"type": "offline", "data": {}}).key.startswith("b:")  # no id: the body's hash
    sent = parse_event(b"x", {"id": "e2", "type": "message.sent", "data": {"account": "4", "messageId": "m1"}})
    assert (sent.what, sent.message_id, sent.delivery) == ("delivery", "m1", "sent")
    dead = parse_event(b"x", {"id": "e3", "type": "message.dead", "data": {"id": "m1", "error": "No such user"}})
    assert (dead.delivery, dead.detail) == ("failed", "No such user")
    assert parse_event(b"x", {"id": "e4", "type": "message.incoming", "data": {"account": "4"}}).what == "message"
    assert parse_event(b"x", {"id": "e5", "type": "session.renamed", "data": {}}).what == "other"
    chat = parse_event(b"y", {"account": "4", "from": "79001234567", "text": "hi", "type": "chat", "messageId": "m9",
                              "fromMe": False})
    assert (chat.what, chat.key) == ("message", "b:" + __import__("hashlib").sha256(b"y").hexdigest())
    for status, step in (("sent", "sent"), ("delivered", "delivered"), ("read", "read"), ("deleted", "failed"),
                         ("error", "failed"), ("READ", "read")):
        d = parse_event(b"z", {"type": "delivery", "account": "4", "messageId": "m1", "status": status})
        assert (d.what, d.delivery) == ("delivery", step)
    assert parse_event(b"z", {"type": "delivery", "messageId": "m1", "status": "queued"}).what == "other"
    for bad in ([], "x", {"type": "connected", "data": "no"}, {"data": {}}, {"type": "delivery", "status": "read"},
                {"type": "delivery", "messageId": "m1"}, {"hello": "world"}, {"type": 5, "account": "4"},
                {"type": "connected", "data": {"account": {"x": 1}}}):
        with pytest.raises(Malformed):
            parse_event(b"q", bad)


# --- what an accepted push does -----------------------------------------------------------------------------------
def test_a_pushed_state_writes_the_board_the_history_and_the_diary(store, engine, platform, inbox, clock):
    row, secret = hooked(store)
    platform.set(row.id, "qr_required")
    engine.tick()
    assert engine.board()[row.id].state == "qr_required"
    before = platform.count(row.id)

    assert send(inbox, secret, envelope("connected", row.session, phone="79001234567")) == (200, "accepted")
    entry = engine.board()[row.id]
    assert entry.connected and entry.phone == "79001234567"
    assert platform.count(row.id) == before  # nobody asked the platform
    history = engine.history(row.id)
    assert [(h.previous, h.state) for h in history[:1]] == [("qr_required", "connected")]
    assert any(a.action == "linked" for a in store.list_activity(integration_id=row.id))
    rec = store.load_statuses([row.id])[row.id]
    assert rec.last_event_at == clock.time() and rec.state == "connected"

    clock.advance(5)
    assert send(inbox, secret, envelope("offline", row.session)) == (200, "accepted")
    assert engine.board()[row.id].state == "offline"
    assert any(a.action == "unlinked" for a in store.list_activity(integration_id=row.id))
    clock.advance(5)
    assert send(inbox, secret, envelope("qr", row.session, qr="2@abc")) == (200, "accepted")
    assert engine.board()[row.id].state == "qr_required"
    assert store.load_statuses([row.id])[row.id].last_event_at == clock.time()


def test_delivery_updates_move_a_test_message_forward_only(store, engine, platform, inbox, clock):
    row, secret = hooked(store)
    platform.set(row.id, "connected")
    engine.tick()
    store.save_test_message(DeliveryRecord(row.id, "task-1", clock.time(), to="+7 900 123-45-67"))
    store.save_test_message(DeliveryRecord(row.id, "task-2", clock.time(), to="+7 900 123-45-68"))

    def status(mid):
        return store.test_messages(row.id, message_id=mid)[0].status

    assert send(inbox, secret, envelope("message.sent", row.session, messageId="task-1")) == (200, "accepted")
    assert status("task-1") == "sent"
    # flat delivery updates, out of order: read first, then a late "delivered" changes nothing
    assert send(inbox, secret, flat(type="delivery", account=row.session, messageId="task-1", status="read")) \
        == (200, "accepted")
    assert send(inbox, secret, flat(type="delivery", account=row.session, messageId="task-1", status="delivered")) \
        == (200, "accepted")
    assert status("task-1") == "read"
    # the other one dies
    assert send(inbox, secret, envelope("message.dead", row.session, messageId="task-2",
                                        error="Recipient is not on WhatsApp")) == (200, "accepted")
    dead = store.test_messages(row.id, message_id="task-2")[0]
    assert (dead.status, dead.detail) == ("failed", "Recipient is not on WhatsApp")
    # an incoming message (flat chat body) and a message the console never sent: accepted, nothing else changes
    assert send(inbox, secret, flat(account=row.session, type="chat", messageId="in-1", fromMe=False,
                                    text="hello", **{"from": "79001234567"})) == (200, "accepted")
    assert send(inbox, secret, flat(type="delivery", account=row.session, messageId="someone-else", status="read")) \
        == (200, "accepted")
    assert [m.status for m in store.test_messages(row.id)] in (["read", "failed"], ["failed", "read"])
    assert engine.board()[row.id].connected  # a delivery update is no state
    assert store.load_statuses([row.id])[row.id].last_event_at == clock.time()


def test_an_account_given_as_a_number_is_the_same_account(store, inbox, engine, platform):
    row, secret = hooked(store, n=17)
    platform.set(row.id, "connected")
    engine.tick()
    assert send(inbox, secret, envelope("offline", 17)) == (200, "accepted")
    assert engine.board()[row.id].state == "offline"


# --- refusals -------------------------------------------------------------------------------------------------
def test_every_refusal_is_answered_in_words_counted_and_changes_nothing(store, engine, platform, inbox, clock):
    row, secret = hooked(store)
    platform.set(row.id, "connected")
    engine.tick()
    history = len(engine.history(row.id))

    # an address nobody was given: 404, counted in total only (it names no number)
    assert send(inbox, secrets.token_urlsafe(32), envelope("offline", row.session)) == (404, "unknown")
    assert send(inbox, "short", envelope("offline", row.session)) == (404, "unknown")
    assert send(inbox, "../../etc/passwd" + "x" * 30, envelope("offline", row.session)) == (404, "unknown")
    # too big
    assert send(inbox, secret, b"{" + b" " * MAX_BODY + b"}") == (413, "too_big")
    # not readable, or none of the platform's shapes
    for raw in (b"not json", b"\xff\xfe", b"[1, 2]", b'{"type": "connected", "data": 5}', b'{"hello": 1}',
                b"[" * 100_00 + b"]" * 100_00):
        assert send(inbox, secret, raw[:MAX_BODY]) == (400, "malformed"), raw[:40]
    # another account: refused
    assert send(inbox, secret, envelope("offline", "0000000009999")) == (403, "mismatch")
    assert send(inbox, secret, flat(type="delivery", account="0000000009999", messageId="m", status="read")) \
        == (403, "mismatch")
    # a replay: the same event id again, and the same flat body again
    event = envelope("connected", row.session)
    assert send(inbox, secret, event) == (200, "accepted")
    assert send(inbox, secret, event) == (200, "duplicate")
    body = flat(type="delivery", account=row.session, messageId="m1", status="read")
    assert send(inbox, secret, body) == (200, "accepted")
    assert send(inbox, secret, body) == (200, "duplicate")
    # ... but after the replay window the same id is news again
    clock.advance(inbox.replay_window_s + 1)
    assert send(inbox, secret, event) == (200, "accepted")
    # a well-formed event the console has no use for
    assert send(inbox, secret, envelope("session.renamed", row.session)) == (202, "ignored")

    assert engine.board()[row.id].connected and len(engine.history(row.id)) == history
    mine, total = inbox.stats(row.id), inbox.stats()
    assert mine == {"too_big": 1, "malformed": 6, "mismatch": 2, "accepted": 3, "duplicate": 2, "ignored": 1}
    assert total == dict(mine, unknown=3)
    counts = inbox.counts()  # in the store, shared by every replica
    assert {k: n for k, (n, _at) in counts[row.id].items()} == mine
    assert {k: n for k, (n, _at) in counts["*"].items()} == total


def test_anything_going_wrong_inside_is_a_counted_error_never_a_crash(store, engine, platform, inbox, monkeypatch):
    row, secret = hooked(store)

    def boom(*a, **kw):
        raise RuntimeError("the database went away " + secret)

    monkeypatch.setattr(store, "webhook_seen", boom)
    answer = inbox.receive(secret, envelope("connected", row.session))
    # 503 and nothing more: the platform tries again later (no detail for whoever posts to the address)
    assert (answer.status, answer.body()) == (503, {"ok": False})
    assert inbox.stats(row.id) == {"error": 1}
    assert inbox.receive(None, None).status == 404  # whatever comes in
    assert inbox.receive(secret, None).status == 400


def test_a_secret_is_looked_up_by_its_hash_and_a_new_one_is_found_without_waiting(store, engine, inbox, clock):
    row, secret = hooked(store)
    assert secret not in json.dumps(store.get(row.id).settings)
    assert send(inbox, secret, envelope("connected", row.session))[0] == 200
    # another replica registered a new secret (pending while the platform is asked): found at once
    fresh = secrets.token_urlsafe(32)
    store.merge_settings(row.id, {keys.WEBHOOK_PENDING: secret_hash(fresh)})
    clock.advance(1)
    assert send(inbox, fresh, envelope("offline", row.session))[0] == 200
    # a flood of unknown addresses costs at most one read of the list per half second
    reads = []
    real = store.list_integrations
    store.list_integrations = lambda *a, **kw: reads.append(1) or real(*a, **kw)
    for _ in range(50):
        assert send(inbox, secrets.token_urlsafe(32), b"{}")[0] == 404
    assert len(reads) <= 1


def test_nothing_of_a_push_reaches_the_log_but_the_number(store, engine, platform, inbox, caplog, monkeypatch):
    row, secret = hooked(store)
    caplog.set_level(logging.DEBUG)
    for raw in (envelope("connected", row.session), b"garbage", envelope("offline", "0000000009999")):
        inbox.receive(secret, raw)
    monkeypatch.setattr(store, "advance_test_message", lambda *a, **kw: (_ for _ in ()).throw(ValueError(secret)))
    inbox.receive(secret, envelope("message.sent", row.session, messageId="m1"))
    assert inbox.stats(row.id)["error"] == 1
    assert secret not in caplog.text and secret_hash(secret) not in caplog.text
    assert hook_url("https://c.example/", "abc") == "https://c.example/_wpp/hook/abc"


# --- polling adapts ----------------------------------------------------------------------------------------------
def test_the_policy_says_when_a_number_is_pushed_and_what_that_means():
    p = PollPolicy(sanity_s=600, push_fresh_s=900)
    assert p.pushed(100.0, 100.0 + 900) and not p.pushed(100.0, 100.0 + 901) and not p.pushed(None, 5.0)
    assert p.interval("connected", 10, pushed=True) == 600
    assert p.interval("offline", 10, pushed=True) == 600
    assert p.interval("qr_required", 10, pushed=True) == 600  # nobody looks at its QR code
    assert p.interval("qr_required", 10, pushed=True, watched=True) == p.qr_s  # a pairing panel: fast as ever
    assert p.interval("connected", 10, pushed=True, fast=True) == p.fast_s  # just changed
    assert p.interval("connected", 10) == p.connected_s


def _checks_between(platform, iid, start, end):
    return [t for t in platform.calls[iid] if start <= t < end]


def test_polling_drops_to_a_sanity_check_while_events_arrive_and_comes_back_by_itself(store, make_engine, platform,
                                                                                     clock):
    policy = PollPolicy(jitter=0.0)
    engine = make_engine(store, platform.check, policy=policy)
    inbox = WebhookInbox(store, engine, clock=clock)
    row, secret = hooked(store)
    quiet = add_number(store, "No webhook", n=99)
    for iid in (row.id, quiet.id):
        platform.set(iid, "connected")
    run_for(engine, clock, 180, step=1.0)
    assert engine.board()[row.id].connected

    # events arrive every 5 minutes for 40 minutes (an incoming message, a delivery update ...)
    start = clock.time()
    for k in range(8):
        body = flat(account=row.session, type="chat", messageId=f"in-{k}", text="hi", **{"from": "79001234567"})
        assert send(inbox, secret, body) == (200, "accepted")
        assert engine.pushed(row.id)
        run_for(engine, clock, 300, step=1.0)
    pushed_checks = _checks_between(platform, row.id, start + 60, clock.time())
    quiet_checks = _checks_between(platform, quiet.id, start + 60, clock.time())
    # 39 minutes: one sanity check every 10 minutes, instead of one a minute like the number without webhooks
    assert 3 <= len(pushed_checks) <= 5, pushed_checks
    assert len(quiet_checks) >= 37
    gaps = [b - a for a, b in zip(pushed_checks, pushed_checks[1:])]
    assert all(g >= policy.sanity_s - 1 for g in gaps), gaps

    # the events stop: after push_fresh_s it is polled as usual again, by itself
    stopped = clock.time()
    run_for(engine, clock, policy.push_fresh_s + policy.sanity_s + 300, step=1.0)
    assert not engine.pushed(row.id)
    late = _checks_between(platform, row.id, stopped + policy.push_fresh_s + policy.sanity_s, clock.time())
    assert len(late) >= 4, late  # once a minute again

    # a change the poller finds (no push came) is still found at the next check
    platform.set(row.id, "offline")
    run_for(engine, clock, 65, step=1.0)
    assert engine.board()[row.id].state == "offline"


def test_a_pairing_panel_still_means_fast_polling_with_pushes(store, make_engine, platform, clock):
    engine = make_engine(store, platform.check, policy=PollPolicy(jitter=0.0))
    inbox = WebhookInbox(store, engine, clock=clock)
    row, secret = hooked(store)
    platform.set(row.id, "qr_required")
    engine.tick()
    assert send(inbox, secret, envelope("qr", row.session, qr="2@x")) == (200, "accepted")
    before = platform.count(row.id)
    run_for(engine, clock, 20, panels=[(engine, row.id)])
    assert platform.count(row.id) - before >= 8  # every 2 s while someone has its QR code on screen
    run_for(engine, clock, PollPolicy().watch_s + 5)  # the panel closed: its heartbeat runs out
    before = platform.count(row.id)
    run_for(engine, clock, 300)  # nobody looks at it now: the QR pushes say enough
    assert platform.count(row.id) - before <= 1


# --- replicas --------------------------------------------------------------------------------------------------
def _two_replicas_share_pushes(make_engine, stores, clock):
    """Replica 1 polls; the platform's pushes land on replica 2 (a load balancer). The poller sees that events
    arrive (last_event_at on the shared board) and drops to a sanity check; a replay to replica 1 of what replica 2
    accepted has no effect; the counts are the deployment's."""
    from .helpers import FakePlatform

    policy = PollPolicy(jitter=0.0)
    p1, p2 = FakePlatform(clock), FakePlatform(clock)
    e1 = make_engine(stores[0], p1.check, policy=policy, holder="replica-1")
    e2 = make_engine(stores[1], p2.check, policy=policy, holder="replica-2")
    inbox1, inbox2 = WebhookInbox(stores[0], e1, clock=clock), WebhookInbox(stores[1], e2, clock=clock)
    row, secret = hooked(stores[0])
    for p in (p1, p2):
        p.set(row.id, "connected")
    e1.tick(), e2.tick()
    run_for([e1, e2], clock, 120, step=1.0)
    assert e1.is_leader and not e2.is_leader and p2.count() == 0

    for p in (p1, p2):
        p.set(row.id, "offline")  # the phone went offline: the platform pushes it
    event = envelope("offline", row.session)
    assert send(inbox2, secret, event) == (200, "accepted")
    assert send(inbox1, secret, event) == (200, "duplicate")  # the same event through the other replica
    run_for([e1, e2], clock, 2, step=1.0)
    assert e1.board()[row.id].state == "offline" and e1.pushed(row.id)
    assert stores[0].load_statuses([row.id])[row.id].last_event_at is not None
    # a pushed change opens no "after a change" window: the platform pushes the next change too
    run_for([e1, e2], clock, policy.fast_window_s + 5, step=1.0)
    asked = p1.count(row.id)
    for k in range(4):  # more events, every 4 minutes, all through replica 2
        run_for([e1, e2], clock, 240, step=2.0)
        send(inbox2, secret, flat(account=row.session, type="chat", messageId=f"m{k}", text="x",
                                  **{"from": "79001234567"}))
    assert p1.count(row.id) - asked <= 2  # 16 minutes of sanity checks instead of 32 checks of an offline number
    assert p2.count() == 0
    counts = inbox1.counts()
    assert counts[row.id]["accepted"][0] == 5 and counts[row.id]["duplicate"][0] == 1
    assert counts["*"]["accepted"][0] == 5


def test_two_replicas_on_one_sqlite_file(make_engine, store, clock):
    from wpp.store.sqlite import SqliteStore

    other = SqliteStore(store.path)
    try:
        _two_replicas_share_pushes(make_engine, [store, other], clock)
    finally:
        other.close()


@pytest.mark.postgres
def test_two_replicas_on_a_real_postgresql(make_engine, pg_dsn, clock):
    from wpp.store import PostgresStore

    stores = [PostgresStore(pg_dsn, pool_size=4) for _ in range(2)]
    try:
        _two_replicas_share_pushes(make_engine, stores, clock)
        # the board's last_event_at column is never touched by save_status (the poller's writes)
        row = stores[0].list_integrations()[0]
        rec = stores[0].load_statuses([row.id])[row.id]
        stores[0].save_status(dataclasses.replace(rec, last_event_at=None))
        assert stores[1].load_statuses([row.id])[row.id].last_event_at == rec.last_event_at
        assert stores[0].note_status_event(row.id, at=rec.last_event_at - 100) is True  # never moved back
        assert stores[1].load_statuses([row.id])[row.id].last_event_at == rec.last_event_at
        assert stores[0].note_status_event(str(uuid.uuid4()), at=1.0) is False  # no board entry
        # test messages: only forward, on the SQL functions production runs
        stores[0].save_test_message(DeliveryRecord(row.id, "t1", 10.0, to="+7 900"))
        stores[1].save_test_message(DeliveryRecord(row.id, "t1", 11.0, to="other"))  # kept as it was
        assert stores[1].advance_test_message(row.id, "t1", status="delivered", at=12.0) is True
        assert stores[0].advance_test_message(row.id, "t1", status="sent", at=13.0) is False
        got = stores[1].test_messages(row.id)
        assert [(m.message_id, m.status, m.to, m.sent_at) for m in got] == [("t1", "delivered", "+7 900", 10.0)]
    finally:
        for s in stores:
            s.close()
