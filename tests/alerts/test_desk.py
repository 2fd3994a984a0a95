"""Alerts when a number drops (issue 20): one message per incident and recipient after the threshold, one when it is
back, never a storm — across passes, restarts and replicas —, quiet hours, and what each kind of drop says.

The board is written by the real status engine asking a scripted platform; alerts go to a real SMTP server and a
real HTTP server on 127.0.0.1.
"""
from __future__ import annotations

import pytest

from wpp.errors import InvalidToken

from .helpers import HOOK_TOKEN, ORG, ORG_B, UUID_RE, World, msk, smtp_config

MINUTE = 60.0


def _everyone(smtp, hook):
    return {"*": ["support@wpp.example", hook.url(HOOK_TOKEN)],
            ORG: [{"email": "director@school5.ru", "lang": "ru"}, {"email": "deputy@school5.ru", "lang": "en"}]}


def test_one_message_per_incident_after_the_threshold_and_one_on_recovery(world, smtp, hook):
    desk = world.desk(_everyone(smtp, hook), smtp=smtp_config(smtp), public_url="https://console.school.example")
    world.play(2 * MINUTE)  # connected, seen by the engine and the desk: nothing to say
    assert smtp.messages == [] and hook.requests == []

    world.platform.set(world.number.id, "offline")
    world.play(9 * MINUTE)  # down, but not for 10 minutes yet
    assert smtp.messages == [] and hook.requests == []

    world.play(3 * MINUTE)
    assert sorted(smtp.to()) == ["deputy@school5.ru", "director@school5.ru", "support@wpp.example"]
    assert len(hook.requests) == 1
    world.play(60 * MINUTE)  # still down an hour later: nothing more
    assert len(smtp.messages) == 3 and len(hook.requests) == 1

    world.platform.set(world.number.id, "connected")
    world.play(3 * MINUTE)
    assert len(smtp.messages) == 6 and len(hook.requests) == 2
    world.play(30 * MINUTE)
    assert len(smtp.messages) == 6 and len(hook.requests) == 2

    # what the director (ru) and the deputy (en) read: the school and the number by name, what, since when, what to do
    by_to = {rcpts[0]: msg for _f, rcpts, msg in smtp.messages[:3]}
    ru = by_to["director@school5.ru"].get_body(("plain",)).get_content()
    en = by_to["deputy@school5.ru"].get_body(("plain",)).get_content()
    assert "Номер «Ресепшн» школы «Школа № 5» не в сети с 12:" in ru
    assert "Что сделать:" in ru and "QR-код" in ru
    assert "The number “Ресепшн” of “Школа № 5” has been offline since 12:" in en
    assert "What to do: check that the school's phone is on and connected to the internet" in en
    assert "open it in the console and scan a new QR code" in en
    link = f"https://console.school.example/number?n={world.number.id}"
    assert link in ru and link in en
    for text in (ru, en, by_to["deputy@school5.ru"]["Subject"], by_to["director@school5.ru"]["Subject"]):
        assert UUID_RE.findall(text.replace(link, "")) == []  # a UUID only inside the link
    html = by_to["deputy@school5.ru"].get_body(("html",)).get_content()
    assert f'<a href="{link}">' in html
    back = {rcpts[0]: msg for _f, rcpts, msg in smtp.messages[3:]}
    assert "снова подключён" in back["director@school5.ru"].get_body(("plain",)).get_content()
    assert "is connected again" in back["deputy@school5.ru"]["Subject"]

    down, up = (body for _path, _ctype, body in hook.requests)
    assert down["event"] == "number.down" and up["event"] == "number.recovered"
    assert down["school"] == {"id": ORG, "name": "Школа № 5"}
    assert down["number"]["id"] == world.number.id and down["number"]["name"] == "Ресепшн"
    assert down["state"] == "offline" and up["state"] == "connected"
    assert down["since"].endswith("+00:00") and down["url"] == link
    assert "QR" in down["action"] and "Ресепшн" in down["text"]
    assert set(down) >= {"event", "school", "number", "state", "since", "action", "url", "text"}

    lines = [e for e in world.store.list_activity() if e.action == "alert_sent"]
    assert len(lines) == 8 and all(e.organization_id == ORG and e.outcome == "ok" for e in lines)


def test_a_short_drop_sends_nothing(world, smtp):
    desk = world.desk({"*": ["support@wpp.example"]}, smtp=smtp_config(smtp))
    world.play(2 * MINUTE)
    world.platform.set(world.number.id, "offline")
    world.play(5 * MINUTE)
    world.platform.set(world.number.id, "connected")
    world.play(30 * MINUTE)
    assert smtp.messages == []
    assert world.store.load_incidents() == []  # closed: nobody was told, nothing to tell
    assert desk.run_once()["leader"] == 1


def test_a_number_never_connected_is_no_drop(world, smtp):
    world.platform.set(world.number.id, "qr_required")  # a new number waiting for its first scan ...
    world.desk({"*": ["support@wpp.example"]}, smtp=smtp_config(smtp))
    world.play(20 * MINUTE)
    world.platform.set(world.number.id, "offline")  # ... whose QR codes ran out
    world.play(20 * MINUTE)
    assert smtp.messages == [] and world.store.load_incidents(open_only=False) == []


def test_unlinked_and_key_refused_say_what_to_do(world, smtp, hook):
    other = world.add("Бухгалтерия")
    world.desk({"*": [hook.url(HOOK_TOKEN)]}, smtp=smtp_config(smtp), language="en")
    world.play(2 * MINUTE)
    world.platform.set(world.number.id, "qr_required")  # the phone was unlinked: it needs a new QR scan
    world.platform.fail(other.id, InvalidToken(), times=1000)  # the platform refuses the number's key
    world.play(15 * MINUTE)
    [(_p, _c, body)] = hook.requests  # both dropped together: one message (issue 26)
    by_number = {n["name"]: n for n in body["numbers"]}
    assert set(by_number) == {"Ресепшн", "Бухгалтерия"} and body["count"] == 2
    assert by_number["Ресепшн"]["state"] == "logged_out"
    assert by_number["Бухгалтерия"]["state"] == "key_rejected"
    text = body["text"]
    assert "“Ресепшн”: needs a new QR scan since" in text and "scan a new QR code" in text
    assert "“Бухгалтерия”: the access key is refused since" in text
    assert "“Access”" in text and "Get a new access key" in text


def test_two_replicas_on_one_store_send_each_message_once(world, smtp, tmp_path):
    from wpp.store import SqliteStore

    second = SqliteStore(world.store.path)  # another process's store object on the same file
    table = {"*": ["support@wpp.example"], ORG: ["director@school5.ru"]}
    a = world.desk(table, smtp=smtp_config(smtp), holder="replica-a")
    b = world.desk(table, smtp=smtp_config(smtp), holder="replica-b", store=second)
    world.play(2 * MINUTE)
    world.platform.set(world.number.id, "offline")
    world.play(15 * MINUTE)
    assert sorted(smtp.to()) == ["director@school5.ru", "support@wpp.example"]
    assert a.run_once()["leader"] + b.run_once()["leader"] == 1  # exactly one of them sends

    # the sender stops (or restarts): the other takes over and sends nothing twice
    leader, follower = (a, b) if a.run_once()["leader"] else (b, a)
    leader.stop()
    world.play(10 * MINUTE, desks=[follower])
    assert follower.run_once()["leader"] == 1
    assert len(smtp.messages) == 2
    world.platform.set(world.number.id, "connected")
    world.play(5 * MINUTE, desks=[follower])
    assert sorted(smtp.to()) == ["director@school5.ru", "director@school5.ru", "support@wpp.example",
                                 "support@wpp.example"]
    # a fresh process (a restart) on the same file: nothing is sent again
    third = world.desk(table, smtp=smtp_config(smtp), holder="after-restart", store=SqliteStore(world.store.path))
    follower.stop()
    world.play(10 * MINUTE, desks=[third])
    assert len(smtp.messages) == 4
    second.close()


@pytest.mark.postgres
def test_two_replicas_on_postgres_send_each_message_once(clock, smtp, pg_alerts_dsn):
    import psycopg

    from wpp.store import PostgresStore

    from tests.store.conftest import CONSOLE_TABLES

    from .conftest import ALERT_TABLES

    with psycopg.connect(pg_alerts_dsn, autocommit=True) as c:
        c.execute("truncate public.messenger_integrations, "
                  + ", ".join(f"public.{t}" for t in (*CONSOLE_TABLES, *ALERT_TABLES)) + " restart identity")
    one, other = PostgresStore(pg_alerts_dsn, pool_size=4), PostgresStore(pg_alerts_dsn, pool_size=4)
    w = World(one, clock)
    try:
        table = {"*": ["support@wpp.example"]}
        a = w.desk(table, smtp=smtp_config(smtp), holder="pg-a")
        b = w.desk(table, smtp=smtp_config(smtp), holder="pg-b", store=other)
        w.play(2 * MINUTE)
        w.platform.set(w.number.id, "offline")
        w.play(15 * MINUTE)
        assert smtp.to() == ["support@wpp.example"]
        a.stop()
        w.play(5 * MINUTE, desks=[b])
        w.platform.set(w.number.id, "connected")
        w.play(5 * MINUTE, desks=[b])
        assert smtp.to() == ["support@wpp.example", "support@wpp.example"]
        subjects = [m["Subject"] for _f, _r, m in smtp.messages]
        assert "не в сети" in subjects[0] and "снова подключён" in subjects[1]
    finally:
        w.close()
        one.close()
        other.close()


def test_quiet_hours_hold_the_alert_until_they_end(store, smtp):
    from wpp.clock import ManualClock

    from wpp.alerts.schedule import parse_quiet_hours

    clock = ManualClock(start=msk(2027, 3, 10, 22, 30))
    w = World(store, clock)
    try:
        w.desk({"*": ["support@wpp.example"]}, smtp=smtp_config(smtp), quiet=parse_quiet_hours("22:00-07:00"))
        w.play(2 * MINUTE, step=30)
        w.platform.set(w.number.id, "offline")  # at 22:32
        w.play((8 * 60 + 27) * MINUTE, step=60)  # until 06:59
        assert smtp.messages == []
        w.play(3 * MINUTE, step=60)  # 07:00: still down, so it is sent now, saying since when
        assert len(smtp.messages) == 1
        body = smtp.messages[0][2].get_body(("plain",)).get_content()
        assert "не в сети с 10 мар" in body and "22:3" in body  # another day: the date too
        w.play(60 * MINUTE, step=60)
        assert len(smtp.messages) == 1
    finally:
        w.close()


def test_a_drop_that_starts_and_ends_in_quiet_hours_sends_nothing(store, smtp):
    from wpp.clock import ManualClock

    from wpp.alerts.schedule import parse_quiet_hours

    clock = ManualClock(start=msk(2027, 3, 10, 23, 0))
    w = World(store, clock)
    try:
        w.desk({"*": ["support@wpp.example"]}, smtp=smtp_config(smtp), quiet=parse_quiet_hours("22:00-07:00"))
        w.play(2 * MINUTE, step=30)
        w.platform.set(w.number.id, "offline")
        w.play(2 * 60 * MINUTE, step=60)  # down for two hours in the night ...
        w.platform.set(w.number.id, "connected")
        w.play(7 * 60 * MINUTE, step=60)  # ... back at 01:00; the morning comes
        assert smtp.messages == []
        assert store.load_incidents() == []
    finally:
        w.close()


def test_a_recovery_in_quiet_hours_is_said_when_they_end(store, smtp):
    from wpp.clock import ManualClock

    from wpp.alerts.schedule import parse_quiet_hours

    clock = ManualClock(start=msk(2027, 3, 10, 21, 0))
    w = World(store, clock)
    try:
        w.desk({"*": ["support@wpp.example"]}, smtp=smtp_config(smtp), quiet=parse_quiet_hours("22:00-07:00"))
        w.play(2 * MINUTE, step=30)
        w.platform.set(w.number.id, "offline")
        w.play(20 * MINUTE, step=60)  # 21:22: told
        assert len(smtp.messages) == 1
        w.play(3 * 60 * MINUTE, step=60)
        w.platform.set(w.number.id, "connected")  # back at about 00:22, in the quiet hours
        w.play(6 * 60 * MINUTE, step=60)  # 06:22
        assert len(smtp.messages) == 1
        w.play(60 * MINUTE, step=60)  # 07:22
        assert len(smtp.messages) == 2 and "снова подключён" in smtp.messages[1][2]["Subject"]
    finally:
        w.close()


def test_schools_get_their_own_recipients_and_everyone_gets_star(world, smtp):
    world.store.add_organization("Гимназия № 1", ORG_B)
    b = world.add("Ресепшн", org=ORG_B)
    world.desk({"*": ["support@wpp.example"], ORG: ["director@school5.ru"], ORG_B: ["head@gym1.ru"]},
               smtp=smtp_config(smtp))
    world.play(2 * MINUTE)
    world.platform.set(b.id, "offline")
    world.play(15 * MINUTE)
    assert sorted(smtp.to()) == ["head@gym1.ru", "support@wpp.example"]
    assert all("Гимназия № 1" in m["Subject"] for _f, _r, m in smtp.messages)


def test_a_removed_number_is_left_alone(world, smtp):
    world.desk({"*": ["support@wpp.example"]}, smtp=smtp_config(smtp))
    world.play(2 * MINUTE)
    world.platform.set(world.number.id, "offline")
    world.play(5 * MINUTE)
    world.store.deactivate(world.number.id)
    world.play(20 * MINUTE)
    assert smtp.messages == [] and world.store.load_incidents() == []


def test_demo_alerts_go_to_the_outbox_after_a_minute(world):
    desk = world.desk(demo=True, after_s=60.0)
    world.play(2 * MINUTE)
    world.platform.set(world.number.id, "offline")
    world.play(3 * MINUTE)
    sent = world.store.list_alerts()
    assert len(sent) == 1 and sent[0].channel == "outbox" and sent[0].status == "sent"
    assert "«Ресепшн»" in sent[0].subject and "«Школа № 5»" in sent[0].body
    assert desk.run_once()["sent"] == 0


def test_a_linked_number_already_down_when_the_console_starts_is_a_drop(world, smtp):
    """A phone was linked to it once (its number is known), and the console's first look finds it offline: nobody
    saw it drop, but it is down all the same — tell people after the threshold."""
    from wpp import keys

    world.store.merge_settings(world.number.id, {keys.PHONE: "79001234567"})
    world.platform.set(world.number.id, "offline")
    world.desk({"*": ["support@wpp.example"]}, smtp=smtp_config(smtp))
    world.play(5 * MINUTE)
    assert smtp.messages == [], "told before the threshold"
    world.play(10 * MINUTE)
    assert len(smtp.messages) == 1
    world.platform.set(world.number.id, "connected")
    world.play(5 * MINUTE)
    assert len(smtp.messages) == 2, "the recovery is told too"
