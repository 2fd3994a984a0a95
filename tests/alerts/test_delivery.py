"""Exactly one message per alert and recipient, never silently none (issue 23), with real servers on 127.0.0.1:

* a tarpit mail server (every reply late) with TWO desks on one store (a SQLite file, a real PostgreSQL): each
  alert reaches its recipient once — an alert is claimed before it is sent, and a claim ends before the lease;
* a mail server that takes a message and loses its answer gets the retry with the SAME Message-ID (the alert's stable
  id), and no second desk sends it while the first one still might;
* a failure to record "sent" never sends again;
* a dead recipient (timeouts) does not delay another recipient's alert beyond one pass, and waits its own back-off;
* a webhook's retry carries the same ``id`` and ``Idempotency-Key``;
* an alert given up is told to the "*" recipients once;
* an incident starts when the number was last seen well, not when a restarted console noticed.
"""
from __future__ import annotations

import json
import threading
import time

import pytest

from wpp.clock import SYSTEM_CLOCK
from wpp.errors import StoreError
from wpp.models import AlertRecord

from .helpers import HOOK_TOKEN, ORG, World, msk, smtp_config
from .sinks import HookSink, SmtpSink

MINUTE = 60.0
SENDER_DOMAIN = "school.example"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def two_stores(request, tmp_path):
    """Two store objects on one database, as two replicas have."""
    if request.param == "sqlite":
        from wpp.store import SqliteStore

        one, other = SqliteStore(tmp_path / "wpp.db"), SqliteStore(tmp_path / "wpp.db")
    else:
        import psycopg

        from wpp.store import PostgresStore
        from tests.store.conftest import CONSOLE_TABLES

        from .conftest import ALERT_TABLES

        dsn = request.getfixturevalue("pg_alerts_dsn")
        with psycopg.connect(dsn, autocommit=True) as c:
            c.execute("truncate public.messenger_integrations, "
                      + ", ".join(f"public.{t}" for t in (*CONSOLE_TABLES, *ALERT_TABLES)) + " restart identity")
        one, other = PostgresStore(dsn, pool_size=6), PostgresStore(dsn, pool_size=6)
    yield one, other
    one.close()
    other.close()


def _queue(store, *recipients: str, at: float | None = None) -> None:
    """One "down" alert per entry (each about its own incident), queued as the desk queues them."""
    at = time.time() if at is None else at
    store.queue_alerts([AlertRecord(
        incident_id=f"incident-{n}@1", event="down", recipient=f"email:{to}", channel="email", shown_to=to, lang="ru",
        subject=f"«Номер {n}» (Школа № 5) не на связи", body=f"Номер {n} не на связи.", created_at=at - 1,
        next_try_at=at - 1, organization_id=ORG) for n, to in enumerate(recipients)])


def _desk(store, sink, holder: str, *, clock=SYSTEM_CLOCK, **kw):
    from wpp.alerts.channels import EmailChannel
    from wpp.alerts.desk import AlertConfig, AlertDesk

    from .helpers import MSK, recipients

    smtp = smtp_config(sink, user=None, timeout_s=kw.pop("timeout_s", 10.0))
    config = AlertConfig(recipients=recipients({"*": ["support@wpp.example"], ORG: ["director@school5.ru"]}),
                         tz=MSK, smtp=smtp)
    return AlertDesk(store, config, clock=clock, holder=holder, channels={"email": EmailChannel(smtp)}, **kw)


def _run_together(desks, until, limit_s: float = 30.0) -> None:
    """Every desk passes again and again (as replicas' loops do, but every 50 ms) until ``until()`` or the limit."""
    stop = threading.Event()

    def loop(d):
        while not stop.is_set():
            d.run_once()
            stop.wait(0.05)

    threads = [threading.Thread(target=loop, args=(d,), daemon=True) for d in desks]
    for t in threads:
        t.start()
    end = time.monotonic() + limit_s
    try:
        while not until() and time.monotonic() < end:
            time.sleep(0.05)
    finally:
        stop.set()
        for t in threads:
            t.join(20)
        for d in desks:
            d.stop()


def test_a_tarpit_mail_server_and_two_replicas_one_message_each(two_stores):
    """Every reply of the mail server ~0.25 s late: a message takes ~1.75 s, the lease lasts 4 s and the sender has
    three messages to write (two to support). Before, the other replica took the lease over mid-way and sent the
    alert still "pending" a second time; now every alert is claimed, and a claim never outlives the lease."""
    one, other = two_stores
    sink = SmtpSink(mode="tarpit", delay=0.25)
    try:
        _queue(one, "support@wpp.example", "support@wpp.example", "director@school5.ru")
        a = _desk(one, sink, "replica-a", lease_ttl_s=4.0, claim_s=3.0)
        b = _desk(other, sink, "replica-b", lease_ttl_s=4.0, claim_s=3.0)
        _run_together([a, b], until=lambda: all(x.status == "sent" for x in one.list_alerts()))
        time.sleep(0.5)  # nothing more arrives afterwards either
        assert sorted(sink.to()) == ["director@school5.ru", "support@wpp.example", "support@wpp.example"]
        alerts = one.list_alerts()
        assert [x.status for x in alerts] == ["sent"] * 3 and all(x.attempts == 1 for x in alerts)
        # each message carries its alert's stable id
        assert sorted(sink.message_ids()) == sorted(f"<{x.uid}@{SENDER_DOMAIN}>" for x in alerts)
    finally:
        sink.close()


def test_a_lost_answer_is_retried_with_the_same_message_id_and_never_raced(two_stores):
    """The mail server takes the message but its answer never comes: the sender gives the send up at its claim's
    deadline; only then is it tried again (by whichever replica), with the same Message-ID — at least once, with an
    id the receiver can drop the duplicate by."""
    one, other = two_stores
    sink = SmtpSink(lose_replies=1)
    try:
        _queue(one, "support@wpp.example")
        a = _desk(one, sink, "replica-a", lease_ttl_s=4.0, claim_s=2.0, retry_first_s=0.5)
        b = _desk(other, sink, "replica-b", lease_ttl_s=4.0, claim_s=2.0, retry_first_s=0.5)
        _run_together([a, b], until=lambda: one.list_alerts()[0].status == "sent")
        [alert] = one.list_alerts()
        assert alert.status == "sent" and alert.attempts == 2
        ids = sink.message_ids()
        assert ids == [f"<{alert.uid}@{SENDER_DOMAIN}>"] * 2
        first, second = sink.connected_at[:2]
        assert second - first >= 1.7, "tried again before the first send was given up"
        assert len(sink.connected_at) == 2
        [line] = [e for e in one.list_activity() if e.action == "alert_failed"]  # the first try's outcome
        assert "did not finish in time" in line.detail
    finally:
        sink.close()


class _FailingSentMarks:
    """A store whose recording of "sent" fails the first ``times`` times (the database blinked)."""

    def __init__(self, inner, times: int):
        self._inner, self.left = inner, times

    def finish_alert(self, alert_id, **kw):
        if kw.get("status") == "sent" and self.left > 0:
            self.left -= 1
            raise StoreError(detail="connection reset while recording")
        return self._inner.finish_alert(alert_id, **kw)

    def __getattr__(self, name):
        return getattr(self._inner, name)


def test_a_failure_to_record_sent_never_sends_again(world, smtp):
    from wpp.store import SqliteStore

    flaky = _FailingSentMarks(world.store, times=5)  # more than one pass's quick retries
    table = {"*": ["support@wpp.example"]}
    a = world.desk(table, smtp=smtp_config(smtp), holder="replica-a", store=flaky, after_s=60.0)
    second = SqliteStore(world.store.path)
    try:
        b = world.desk(table, smtp=smtp_config(smtp), holder="replica-b", store=second, after_s=60.0)
        world.play(2 * MINUTE)
        world.platform.set(world.number.id, "offline")
        world.play(5 * MINUTE)
        assert smtp.to() == ["support@wpp.example"]
        assert flaky.left == 0  # it did fail, more than once
        [alert] = world.store.list_alerts()
        assert alert.status == "sent" and alert.attempts == 1
        world.play(20 * MINUTE)
        assert smtp.to() == ["support@wpp.example"]
        assert len([e for e in world.store.list_activity() if e.action == "alert_sent"]) == 1
        assert b.run_once()["sent"] == 0
    finally:
        second.close()


def test_a_dead_recipient_does_not_delay_another_recipients_alert(world, clock):
    """Eight alerts for a mail server that never answers (3 s timeouts) and one, newer, for a webhook: the webhook
    gets its alert at once, the pass lasts one timeout (not eight), and the dead recipient then waits its back-off
    while the others go on."""
    dead = SmtpSink(mode="silent")
    hook = HookSink()
    try:
        from wpp.alerts.recipients import Recipient

        url = hook.url(HOOK_TOKEN)
        desk = world.desk({"*": ["dead@school5.ru", url]}, smtp=smtp_config(dead, user=None, timeout_s=3.0))
        now = clock.time()
        world.store.queue_alerts([AlertRecord(
            incident_id=f"old-{n}@1", event="down", recipient="email:dead@school5.ru", channel="email",
            shown_to="dead@school5.ru", lang="ru", subject=f"Номер {n}", body="…", created_at=now - 100 + n,
            next_try_at=now - 100 + n, organization_id=ORG) for n in range(8)])
        hook_key = Recipient("webhook", url).key
        world.store.queue_alerts([AlertRecord(
            incident_id="new@1", event="down", recipient=hook_key, channel="webhook", shown_to="…", lang="ru",
            subject="Новый", body="…", created_at=now, next_try_at=now, organization_id=ORG,
            payload={"event": "number.down"})])

        started = time.monotonic()
        stats = desk.run_once()
        took = time.monotonic() - started
        assert len(hook.requests) == 1 and hook.arrived[0] - started < 2.0, "the webhook waited for the dead server"
        assert took < 5.5, f"the pass took {took:.1f} s: every dead alert was tried"
        assert stats["sent"] == 1 and stats["failed"] == 1
        tries = sorted(a.attempts for a in world.store.list_alerts() if a.recipient == "email:dead@school5.ru")
        assert tries == [0] * 7 + [1]  # one try for the dead one; the rest waits for its back-off

        # the next pass: the dead recipient is in its back-off, a new alert for the webhook goes at once
        clock.advance(30)
        world.store.queue_alerts([AlertRecord(
            incident_id="newer@1", event="down", recipient=hook_key, channel="webhook", shown_to="…", lang="ru",
            subject="Ещё", body="…", created_at=clock.time(), next_try_at=clock.time(), organization_id=ORG,
            payload={"event": "number.down"})])
        connections = dead.connections
        started = time.monotonic()
        stats = desk.run_once()
        assert time.monotonic() - started < 1.5 and len(hook.requests) == 2 and dead.connections == connections
        assert stats["held"] == 7  # the one tried waits for its retry; the others for the back-off
    finally:
        dead.close()
        hook.close()


def test_a_webhook_retry_carries_the_same_id_and_idempotency_key(world, clock):
    sink = HookSink(mode="error")
    try:
        desk = world.desk({"*": [sink.url(HOOK_TOKEN)]}, after_s=60.0)
        world.play(2 * MINUTE, desks=[])
        world.platform.set(world.number.id, "offline")
        world.play(3 * MINUTE, desks=[])
        assert desk.run_once()["failed"] == 1
        sink.mode = "ok"
        clock.advance(61)
        assert desk.run_once()["sent"] == 1
        [alert] = world.store.list_alerts()
        assert [body["id"] for _p, _c, body in sink.requests] == [alert.uid, alert.uid]
        assert [h["Idempotency-Key"] for h in sink.headers] == [alert.uid, alert.uid]
        assert alert.uid.startswith("wpp-")
    finally:
        sink.close()


def test_an_alert_given_up_is_told_to_everyone_once(world, clock, smtp):
    hook = HookSink(mode="error")
    try:
        url = hook.url(HOOK_TOKEN)
        desk = world.desk({"*": ["support@wpp.example", url]}, smtp=smtp_config(smtp), after_s=60.0, max_attempts=2)
        world.play(2 * MINUTE, desks=[])
        world.platform.set(world.number.id, "offline")
        world.play(3 * MINUTE, desks=[])
        desk.run_once()  # support's e-mail goes out; the webhook fails (1)
        clock.advance(61)
        desk.run_once()  # the webhook fails again (2): given up
        assert len(smtp.messages) == 1
        clock.advance(30)
        desk.run_once()  # the "*" recipients are told, once: support (not the webhook about itself)
        assert len(smtp.messages) == 2
        told = smtp.messages[1][2]
        text = told.get_body(("plain",)).get_content()
        assert told["Subject"] == "Не удалось доставить 1 оповещение"
        assert f"http://127.0.0.1:{hook.port}/…" in text and "HTTP 500" in text and "Ресепшн" in text
        assert HOOK_TOKEN not in text
        for _ in range(5):
            clock.advance(3600)
            desk.run_once()
        assert len(smtp.messages) == 2 and len(hook.requests) == 2
        [failed] = [a for a in world.store.list_alerts() if a.status == "failed"]
        assert failed.reported_at is not None and failed.recipient.startswith("webhook:")
    finally:
        hook.close()


def test_an_incident_starts_when_the_number_was_last_seen_well(store, smtp):
    """The console stopped at 12:02 (a deploy) with the number connected; it starts again an hour later and finds
    it offline: the alert says since when it was last seen well (12:0x), not when the console noticed (13:0x)."""
    from wpp.clock import ManualClock

    clock = ManualClock(start=msk(2027, 3, 10, 12, 0))
    w = World(store, clock)
    try:
        before = w.desk({"*": ["support@wpp.example"]}, smtp=smtp_config(smtp))
        w.play(2 * MINUTE)  # 12:02: connected, seen by the engine
        before.stop()
        w.platform.set(w.number.id, "offline")
        clock.advance(60 * MINUTE)  # nobody runs: no check, no pass
        after = w.desk({"*": ["support@wpp.example"]}, smtp=smtp_config(smtp), holder="after-restart")
        after.prime()  # what start() does first, before the restarted engine's first check
        w.play(1 * MINUTE, desks=[after])
        assert len(smtp.messages) == 1, "a drop found after a restart, down for an hour, is told at once"
        body = smtp.messages[0][2].get_body(("plain",)).get_content()
        assert "не в сети с 12:0" in body and "13:0" not in body
        [inc] = store.load_incidents()
        assert inc.started_at <= msk(2027, 3, 10, 12, 2) < msk(2027, 3, 10, 13, 0) <= inc.noticed_at
    finally:
        w.close()


def test_the_desk_prunes_what_is_past_its_keeping_time(world, clock, smtp):
    from dataclasses import replace

    desk = world.desk({"*": ["support@wpp.example"]}, smtp=smtp_config(smtp), after_s=60.0)
    desk.config = replace(desk.config, keep_alerts_s=10 * 86400.0, keep_incidents_s=30 * 86400.0)
    world.play(2 * MINUTE)
    world.platform.set(world.number.id, "offline")
    world.play(5 * MINUTE)
    world.platform.set(world.number.id, "connected")
    world.play(5 * MINUTE)
    assert [a.status for a in world.store.list_alerts()] == ["sent", "sent"]
    assert len(world.store.load_incidents(open_only=False)) == 1
    clock.advance(9 * 86400)
    world.play(2 * 3600, step=600)
    assert len(world.store.list_alerts()) == 2  # nine days: kept
    clock.advance(2 * 86400)
    world.play(2 * 3600, step=600)
    assert world.store.list_alerts() == [] and len(world.store.load_incidents(open_only=False)) == 1
    clock.advance(20 * 86400)
    world.play(2 * 3600, step=600)
    assert world.store.load_incidents(open_only=False) == []
