"""Connected but not delivering (issue 26, proof of delivery) as an incident of its own kind: a number the board
shows connected whose check message dies (``message.dead``) or is never delivered (lost after its time) alerts each
recipient once, with its own one thing to do, and once more when a check is delivered again; a number that drops
while not delivering is told about as the drop, never as "delivers again".

The board is written by the real status engine asking a scripted platform; the checks are kept in the real store (as
``wpp.service.proof`` keeps them); alerts go to a real SMTP server on 127.0.0.1.
"""
from __future__ import annotations

import itertools

import pytest

from wpp.models import DeliveryCheck

from .helpers import ORG, msk, smtp_config

MINUTE = 60.0
WITNESS = "79990001122"
_codes = (f"TEST{a}{b}" for a, b in itertools.product("ABCDEFGH", "23456789"))


def check(world, status: str, *, number=None) -> DeliveryCheck:
    """A check message sent now by the number to the witness, settled at once as ``status`` (dead, lost, proven)."""
    number = number or world.number
    now = world.clock.time()
    if not world.store.witnesses():  # checks go only to a named witness (wpp.service.proof), named a day ago
        world.store.set_witness("*", WITNESS, actor="admin", at=now - 86_400)
    c = DeliveryCheck(code=next(_codes), integration_id=number.id, organization_id=ORG, witness=WITNESS, sent_at=now,
                      deadline=now + 600, trigger="schedule")
    assert world.store.start_delivery_check(c, day_start=now - 3600, max_per_day=100)
    assert world.store.settle_delivery_check(code=c.code, status=status, at=now) is not None
    return c


def bodies(smtp) -> list[tuple[str, str, str]]:
    return [(rcpts[0], msg["Subject"], msg.get_body(("plain",)).get_content()) for _f, rcpts, msg in smtp.messages]


@pytest.mark.parametrize("outcome", ["dead", "lost"])
def test_a_connected_number_whose_check_is_not_delivered_alerts_once_and_once_when_it_delivers_again(
        world, smtp, outcome):
    world.desk({"*": ["support@wpp.example"], ORG: [{"email": "director@school5.ru", "lang": "ru"}]},
               smtp=smtp_config(smtp), public_url="https://console.school.example", language="en")
    world.play(5 * MINUTE)  # connected, checked by the engine and the desk: nothing to say
    check(world, "proven")
    world.play(5 * MINUTE)
    assert smtp.messages == []

    failed = check(world, outcome)  # the check message died, or was never delivered within its time
    world.play(9 * MINUTE)  # not for 10 minutes yet
    assert smtp.messages == []
    world.play(3 * MINUTE)
    sent = bodies(smtp)
    assert sorted(to for to, _s, _b in sent) == ["director@school5.ru", "support@wpp.example"]
    by_to = {to: (subject, body) for to, subject, body in sent}
    subject, body = by_to["support@wpp.example"]
    assert subject == "“Ресепшн” (Школа № 5) is connected but not delivering"
    assert "shows as connected, but its check message has not been delivered since" in body
    assert "What to do: check that the school's phone is on" in body and "Check delivery now" in body
    ru_subject, ru_body = by_to["director@school5.ru"]
    assert "подключён, но не доставляет" in ru_subject and "Проверить доставку" in ru_body
    (incident,) = world.store.load_incidents(open_only=True)
    assert incident.kind == "not_delivering" and incident.started_at == pytest.approx(failed.sent_at)

    # still not delivering an hour later, another check fails too: nothing more
    world.play(30 * MINUTE)
    check(world, outcome)
    world.play(30 * MINUTE)
    assert len(smtp.messages) == 2

    # a check is delivered: once "delivers again", then nothing
    proven = check(world, "proven")
    world.play(3 * MINUTE)
    assert len(smtp.messages) == 4
    back = {to: (subject, body) for to, subject, body in bodies(smtp)[2:]}
    assert back["support@wpp.example"][0] == "“Ресепшн” (Школа № 5) delivers again"
    assert "it delivers again" in back["support@wpp.example"][1]
    world.play(60 * MINUTE)
    assert len(smtp.messages) == 4
    assert world.store.load_incidents(open_only=True) == []
    assert proven.sent_at > failed.sent_at


def test_a_short_failure_sends_nothing_and_a_drop_takes_over(world, smtp):
    """A failed check proven again within the threshold says nothing; a number not delivering that then drops is told
    about as the drop (offline), never with a "delivers again" in between."""
    world.desk({"*": ["support@wpp.example"]}, smtp=smtp_config(smtp), language="en")
    world.play(5 * MINUTE)
    check(world, "dead")
    world.play(4 * MINUTE)
    check(world, "proven")
    world.play(30 * MINUTE)
    assert smtp.messages == []

    check(world, "dead")
    world.play(12 * MINUTE)
    assert [s for _t, s, _b in bodies(smtp)] == ["“Ресепшн” (Школа № 5) is connected but not delivering"]
    world.platform.set(world.number.id, "offline")
    world.play(12 * MINUTE)
    subjects = [s for _t, s, _b in bodies(smtp)]
    assert len(subjects) == 2 and subjects[1] == "“Ресепшн” (Школа № 5) is offline", subjects
    (incident,) = world.store.load_incidents(open_only=True)
    assert incident.kind == "offline"


def test_a_failure_from_before_the_phone_was_linked_again_waits_for_a_new_check(world, smtp):
    """Relinked after a failed check: not an incident until a check sent since then fails too (then from the
    relinking); delivered, it never was one."""
    world.desk({"*": ["support@wpp.example"]}, smtp=smtp_config(smtp), language="en", after_s=5 * MINUTE)
    world.play(5 * MINUTE)
    world.platform.set(world.number.id, "offline")
    world.play(2 * MINUTE)
    check(world, "lost")  # sent just before it dropped, given up while it was down
    world.play(2 * MINUTE)
    world.platform.set(world.number.id, "connected")
    world.play(3 * MINUTE)  # the drop was short: nothing sent; the old failure is not this connection's
    assert smtp.messages == [] and world.store.load_incidents(open_only=True) == []
    relinked = world.store.load_statuses()[world.number.id].since
    again = check(world, "dead")  # the check sent at once after relinking fails too
    world.play(7 * MINUTE)
    (incident,) = world.store.load_incidents(open_only=True)
    assert incident.kind == "not_delivering" and incident.started_at == pytest.approx(relinked)
    assert [s for _t, s, _b in bodies(smtp)] == ["“Ресепшн” (Школа № 5) is connected but not delivering"]
    assert again.sent_at >= relinked
    assert msk(2027, 3, 10, 12, 0) < incident.started_at


def test_a_witness_removed_while_not_delivering_closes_the_problem_without_a_false_recovery(world, smtp):
    """The administrator removes the witness while a number is not delivering: the proof can no longer be run, so the
    problem closes with a line in the diary, and nobody is told it "delivers again" (nor anything else). Naming a
    witness again starts afresh: the old failure alerts nobody; a check to the new witness that fails does."""
    world.desk({"*": ["support@wpp.example"]}, smtp=smtp_config(smtp), language="en")
    world.play(5 * MINUTE)
    check(world, "dead")
    world.play(12 * MINUTE)
    assert [s for _t, s, _b in bodies(smtp)] == ["“Ресепшн” (Школа № 5) is connected but not delivering"]

    world.store.set_witness("*", None, actor="admin", at=world.clock.time())
    world.play(3 * MINUTE)
    assert world.store.load_incidents(open_only=True) == []
    (closed,) = world.store.load_incidents(open_only=False)
    assert closed.kind == "not_delivering" and closed.closed_at is not None and closed.recovered_at is None
    (line,) = [e for e in world.store.list_activity() if e.action == "delivery_unprovable"]
    assert line.integration_id == world.number.id and "no witness is named for its school any more" in line.detail
    world.play(60 * MINUTE)
    assert len(smtp.messages) == 1  # no "delivers again", no reminder, no second "not delivering"

    world.store.set_witness("*", "79990003344", actor="admin", at=world.clock.time())
    world.play(30 * MINUTE)  # the old failure is not the new witness's: nothing reopens
    assert world.store.load_incidents(open_only=True) == [] and len(smtp.messages) == 1
    check(world, "lost")  # the first check to the new witness is not delivered either
    world.play(12 * MINUTE)
    (incident,) = world.store.load_incidents(open_only=True)
    assert incident.kind == "not_delivering" and incident.id != closed.id
    assert [s for _t, s, _b in bodies(smtp)][1:] == ["“Ресепшн” (Школа № 5) is connected but not delivering"]
