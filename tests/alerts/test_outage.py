"""Alerts people act on (issue 26), from the real status engine's board to a real SMTP server on 127.0.0.1:

* five drops within the grouping window -> ONE message per recipient, grouped by school, counts first, and one
  recovery message;
* most of the fleet down at once, or the platform that cannot be reached -> ONE platform incident to the "*"
  recipients, no per-school messages; recovery likewise; what is still down afterwards goes to its school;
* a muted number sends nothing, and once at the mute's end if still down; a recovery inside the mute sends nothing;
  a maintenance window of a school or of the platform does the same;
* "I'm on it": the recovery message names who acknowledged; an incident nobody acknowledged is reminded once after
  the working hours set, never more.
"""
from __future__ import annotations

from wpp.errors import PlatformUnreachable
from wpp.models import Mute

from .helpers import ORG, ORG_B, World, msk, smtp_config

MINUTE = 60.0
HOUR = 3600.0


def _by_to(smtp, start: int = 0) -> dict:
    """Recipient -> the messages it got (from message number ``start`` on)."""
    out: dict = {}
    for _f, rcpts, msg in smtp.messages[start:]:
        for r in rcpts:
            out.setdefault(r, []).append(msg)
    return out


def _text(msg) -> str:
    return msg.get_body(("plain",)).get_content()


def _fleet(world, a: int, b: int):
    """``a`` connected numbers at school 5 (the world's own first) and ``b`` at gymnasium 1."""
    world.store.add_organization("Гимназия № 1", ORG_B)
    rows_a = [world.number] + [world.add(f"Кабинет {n}") for n in range(2, a + 1)]
    rows_b = [world.add(f"Вахта {n}", org=ORG_B) for n in range(1, b + 1)]
    return rows_a, rows_b


TABLE = {"*": ["support@wpp.example"], ORG: ["director@school5.ru"], ORG_B: ["head@gym1.ru"]}


def test_five_drops_within_the_window_are_one_message_per_recipient(world, smtp):
    a, b = _fleet(world, 6, 6)  # 12 numbers: 5 down is not "most of the fleet"
    world.desk(TABLE, smtp=smtp_config(smtp), public_url="https://console.school.example")
    world.play(2 * MINUTE)
    dropping = a[:3] + b[:2]
    for row in dropping:  # a gateway hiccup: five numbers, ten seconds apart
        world.platform.set(row.id, "offline")
        world.play(10, step=10)
    world.play(8 * MINUTE)
    assert smtp.messages == [], "told before the threshold"
    world.play(5 * MINUTE)
    got = _by_to(smtp)
    assert {k: len(v) for k, v in got.items()} == {"support@wpp.example": 1, "director@school5.ru": 1,
                                                    "head@gym1.ru": 1}
    support = got["support@wpp.example"][0]
    assert support["Subject"] == "Не работают 5 номеров: Школа № 5 (3), Гимназия № 1 (2)"
    text = _text(support)
    assert text.index("Школа № 5 — 3:") < text.index("Гимназия № 1 — 2:")  # the bigger group first
    for row in dropping:
        assert f"«{row.name}»: не в сети с" in text and f"https://console.school.example/number?n={row.id}" in text
    director = _text(got["director@school5.ru"][0])
    assert "Школа № 5 — 3:" in director and "Гимназия" not in director  # a school hears about its own numbers only
    assert got["head@gym1.ru"][0]["Subject"] == "Не работают 2 номера: Гимназия № 1 (2)"

    for row in dropping:  # all back within a minute: one recovery message each
        world.platform.set(row.id, "connected")
        world.play(10, step=10)
    world.play(5 * MINUTE)
    back = _by_to(smtp, 3)
    assert {k: len(v) for k, v in back.items()} == {"support@wpp.example": 1, "director@school5.ru": 1,
                                                     "head@gym1.ru": 1}
    assert back["support@wpp.example"][0]["Subject"] == "5 номеров снова на связи: Школа № 5 (3), Гимназия № 1 (2)"
    world.play(60 * MINUTE)
    assert len(smtp.messages) == 6


def test_drops_further_apart_than_the_window_are_told_separately(world, smtp):
    a, _b = _fleet(world, 6, 0)
    world.desk({"*": ["support@wpp.example"]}, smtp=smtp_config(smtp))
    world.play(2 * MINUTE)
    world.platform.set(a[0].id, "offline")
    world.play(5 * MINUTE)
    world.platform.set(a[1].id, "offline")  # five minutes later: another problem
    world.play(15 * MINUTE)
    assert len(smtp.messages) == 2
    assert all("Кабинет" in m["Subject"] or "Ресепшн" in m["Subject"] for _f, _r, m in smtp.messages)


def test_most_of_the_fleet_down_is_one_platform_incident_to_everyone(world, smtp):
    a, b = _fleet(world, 4, 4)  # 8 numbers
    world.desk(TABLE, smtp=smtp_config(smtp))
    world.play(2 * MINUTE)
    for row in a[:3] + b[:3]:  # six of eight drop within 5 s: a gateway upgrade
        world.platform.set(row.id, "offline")
    world.play(15 * MINUTE)
    assert smtp.to() == ["support@wpp.example"], "the schools must not get a storm"
    msg = smtp.messages[0][2]
    assert msg["Subject"] == "Платформа WPP не работает: не работают 6 номеров из 8"
    text = _text(msg)
    assert "Школа № 5 — 3" in text and "Гимназия № 1 — 3" in text and "по отдельности" in text
    [platform] = [i for i in world.store.load_incidents() if i.integration_id == "*"]
    assert platform.kind == "platform_down" and platform.notified_at is not None

    # the platform comes back, except one number: one message to everyone, then that number to its school
    for row in a[:3] + b[1:3]:
        world.platform.set(row.id, "connected")
    world.play(10 * MINUTE)
    later = _by_to(smtp, 1)
    assert [m["Subject"] for m in later["support@wpp.example"]][0] == "Платформа WPP снова работает"
    assert "1 номер всё ещё не работает" in _text(later["support@wpp.example"][0])
    assert set(later) == {"support@wpp.example", "head@gym1.ru"}
    assert len(later["head@gym1.ru"]) == 1 and "«Вахта 1»" in later["head@gym1.ru"][0]["Subject"]
    assert "director@school5.ru" not in later
    world.play(30 * MINUTE)
    assert len(smtp.messages) == 1 + 1 + 2  # nothing more


def test_the_platform_that_cannot_be_reached_is_one_incident_and_no_number_messages(world, smtp, hook):
    a, b = _fleet(world, 2, 2)
    world.desk({**TABLE, "*": ["support@wpp.example", hook.url()]}, smtp=smtp_config(smtp))
    world.play(2 * MINUTE)
    for row in a + b:
        world.platform.fail(row.id, PlatformUnreachable(), times=10_000)
    world.play(20 * MINUTE)
    assert smtp.to() == ["support@wpp.example"] and len(hook.requests) == 1
    assert smtp.messages[0][2]["Subject"] == "Платформа WPP недоступна: нельзя проверить 4 номера"
    body = hook.requests[0][2]
    assert body["event"] == "platform.down" and body["unreachable"] is True and body["count"] == 4
    assert body["id"] == hook.headers[0]["Idempotency-Key"]
    for row in a + b:
        world.platform.errors[row.id].clear()
    world.play(10 * MINUTE)
    assert smtp.to() == ["support@wpp.example"] * 2 and len(hook.requests) == 2
    assert hook.requests[1][2]["event"] == "platform.recovered"


def test_a_drop_waits_for_numbers_whose_last_check_failed_so_the_outage_is_one_incident(world, smtp):
    """A short threshold (the demo's minute, or less): the platform goes away, one number is already shown as out of
    reach while the other has failed one check only. Before, the first was told to its school at once and the
    platform incident came after it (two messages); now its message waits for the other number (at most the grouping
    window), and the outage is ONE platform incident to the "*" recipients."""
    a, b = _fleet(world, 1, 1)
    desk = world.desk(TABLE, smtp=smtp_config(smtp), after_s=10.0)
    world.play(2 * MINUTE)
    world.platform.fail(a[0].id, PlatformUnreachable(), times=10_000)
    world.engine.check_now([a[0].id])
    for _ in range(30):
        world.clock.advance(2)
        world.engine.tick()
        if world.engine.entry(a[0].id).state == "cannot_check":
            break
    assert world.engine.entry(a[0].id).state == "cannot_check"
    world.platform.fail(b[0].id, PlatformUnreachable(), times=10_000)
    world.engine.check_now([b[0].id])
    world.engine.tick()  # b: one failed check, still shown connected
    assert world.engine.entry(b[0].id).state != "cannot_check"
    world.clock.advance(30)
    desk.run_once()  # a is due, b may be dropping too: wait
    assert smtp.messages == []
    world.play(5 * MINUTE)
    assert smtp.to() == ["support@wpp.example"]
    assert smtp.messages[0][2]["Subject"] == "Платформа WPP недоступна: нельзя проверить 2 номера"


def test_a_muted_number_sends_nothing_then_once_when_the_mute_ends(world, smtp, clock):
    world.desk({"*": ["support@wpp.example"]}, smtp=smtp_config(smtp))
    world.play(2 * MINUTE)
    now = clock.time()
    world.store.add_mute(Mute(scope="number", target=world.number.id, starts_at=now, ends_at=now + HOUR,
                              reason="телефон в ремонте", created_by="olga", created_at=now))
    world.platform.set(world.number.id, "offline")
    world.play(55 * MINUTE)
    assert smtp.messages == []
    world.play(10 * MINUTE)  # the mute ended, and it is still down: told once, saying since when
    assert len(smtp.messages) == 1 and "не в сети с 12:0" in _text(smtp.messages[0][2])
    world.play(30 * MINUTE)
    assert len(smtp.messages) == 1


def test_a_recovery_inside_a_mute_sends_nothing(world, smtp, clock):
    world.desk({"*": ["support@wpp.example"]}, smtp=smtp_config(smtp))
    world.play(2 * MINUTE)
    world.platform.set(world.number.id, "offline")
    world.play(12 * MINUTE)
    assert len(smtp.messages) == 1  # told before the mute
    now = clock.time()
    world.store.add_mute(Mute(scope="number", target=world.number.id, starts_at=now, ends_at=now + HOUR,
                              created_by="olga", created_at=now))
    world.platform.set(world.number.id, "connected")  # repaired while muted
    world.play(2 * HOUR)
    assert len(smtp.messages) == 1 and world.store.load_incidents() == []

    # a drop that starts and ends inside a mute sends nothing either
    now = clock.time()
    world.store.add_mute(Mute(scope="number", target=world.number.id, starts_at=now, ends_at=now + HOUR,
                              created_by="olga", created_at=now))
    world.platform.set(world.number.id, "offline")
    world.play(30 * MINUTE)
    world.platform.set(world.number.id, "connected")
    world.play(2 * HOUR)
    assert len(smtp.messages) == 1


def test_a_maintenance_window_of_the_school_or_the_platform_holds_its_alerts(world, smtp, clock):
    world.store.add_organization("Гимназия № 1", ORG_B)
    other = world.add("Вахта", org=ORG_B)
    world.desk(TABLE, smtp=smtp_config(smtp))
    world.play(2 * MINUTE)
    now = clock.time()
    world.store.add_mute(Mute(scope="school", target=ORG, starts_at=now, ends_at=now + HOUR,
                              reason="переезд", created_by="admin", created_at=now))
    world.platform.set(world.number.id, "offline")  # school 5: in maintenance
    world.platform.set(other.id, "offline")  # the gymnasium: not
    world.play(15 * MINUTE)
    assert sorted(smtp.to()) == ["head@gym1.ru", "support@wpp.example"]
    world.play(50 * MINUTE)  # the window ended with school 5's number still down: told once now
    assert sorted(smtp.to()[2:]) == ["director@school5.ru", "support@wpp.example"]

    # a platform window holds everything, the platform incident too
    for row in (world.number, other):
        world.platform.set(row.id, "connected")
    world.play(10 * MINUTE)
    sent = len(smtp.messages)
    now = clock.time()
    world.store.add_mute(Mute(scope="platform", target="*", starts_at=now, ends_at=now + HOUR,
                              created_by="admin", created_at=now))
    for row in (world.number, other):
        world.platform.set(row.id, "offline")
    world.play(20 * MINUTE)
    for row in (world.number, other):
        world.platform.set(row.id, "connected")
    world.play(2 * HOUR)
    assert len(smtp.messages) == sent


def test_the_recovery_names_who_was_on_it(world, smtp, clock):
    world.desk({"*": ["support@wpp.example"]}, smtp=smtp_config(smtp))
    world.play(2 * MINUTE)
    world.platform.set(world.number.id, "offline")
    world.play(12 * MINUTE)
    [inc] = world.store.load_incidents()
    assert world.store.ack_incident(inc.id, by="Ольга Петрова", at=clock.time())
    assert not world.store.ack_incident(inc.id, by="Вера", at=clock.time())  # the first one counts
    world.play(MINUTE)  # the desk saves the incident again: the acknowledgement stays
    assert world.store.load_incidents()[0].acked_by == "Ольга Петрова"
    world.platform.set(world.number.id, "connected")
    world.play(3 * MINUTE)
    assert len(smtp.messages) == 2
    assert "Кто занимался: Ольга Петрова (с 12:1" in _text(smtp.messages[1][2])


def test_an_unacknowledged_incident_is_reminded_once_after_four_working_hours(store, smtp):
    from wpp.clock import ManualClock

    clock = ManualClock(start=msk(2027, 3, 12, 15, 0))  # a Friday afternoon
    w = World(store, clock)
    try:
        w.desk({"*": ["support@wpp.example"]}, smtp=smtp_config(smtp), remind_s=4 * HOUR)
        w.play(2 * MINUTE, step=30)
        w.platform.set(w.number.id, "offline")
        w.play(15 * MINUTE, step=60)  # told at ~15:12 on Friday
        assert len(smtp.messages) == 1
        w.play(3 * HOUR, step=300)  # Friday 18:17: nearly 3 working hours
        w.play(60 * HOUR, step=600)  # the weekend does not count
        assert len(smtp.messages) == 1
        w.play(3 * HOUR, step=300)  # Monday 09:17: not yet (2 h 48 on Friday, 17 min today)
        assert len(smtp.messages) == 1
        w.play(1 * HOUR, step=300)  # Monday ~10:17: four working hours
        assert len(smtp.messages) == 2
        reminder = smtp.messages[1][2]
        assert reminder["Subject"].startswith("Напоминание: ")
        assert "Никто пока не взялся" in _text(reminder) and "«Я этим занимаюсь»" in _text(reminder)
        w.play(5 * 24 * HOUR, step=1800)
        assert len(smtp.messages) == 2, "reminded once, never more"
    finally:
        w.close()


def test_an_acknowledged_incident_is_not_reminded(world, smtp, clock):
    world.desk({"*": ["support@wpp.example"]}, smtp=smtp_config(smtp), remind_s=HOUR)
    world.play(2 * MINUTE)
    world.platform.set(world.number.id, "offline")
    world.play(12 * MINUTE)
    [inc] = world.store.load_incidents()
    world.store.ack_incident(inc.id, by="olga", at=clock.time())
    world.play(3 * HOUR, step=300)
    assert len(smtp.messages) == 1
