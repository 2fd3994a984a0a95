"""Proof of delivery (issue 26), at the service level against the simulator pushing for real over loopback: a number
that shows as connected but whose check message dies or is never delivered becomes "not delivering" (in the list, on
its page, in the sidebar's count, and for the alert desk); a witness that is a number of the fleet proves delivery by
its own incoming message; the schedule never sends more than the daily limit (a simulated day, injected clock); a
viewer can neither name a witness nor check now; without webhooks nothing is sent and the page says why.
"""
from __future__ import annotations

import datetime as dt
import random
from collections import Counter

import pytest

from wpp import keys
from wpp.access.roles import Access, Grant, NotAllowed, Role
from wpp.clock import ManualClock
from wpp.errors import InvalidInput
from wpp.models import Status
from wpp.service.proof import ProofConfig
from wpp.simulator.platform import phone_for
from wpp.status import CheckResult, PollPolicy, StatusEngine, WebhookInbox

from .conftest import ORG, ORG2
from .test_webhooks_delivery import console, linked_number, wait_for  # noqa: F401 - fixtures

WITNESS = "79990001122"  # the platform's support phone (not a number of the fleet)
MSK = dt.timezone(dt.timedelta(hours=3))


def person(svc, role, *schools):
    return svc.for_session({}, access=Access.of([Grant(role, frozenset(schools))], source="test"), actor="p")


@pytest.fixture
def proofed(make_service, store, sim, console):  # noqa: F811 - the fixture imported above
    """A service whose numbers' events the simulator pushes to ``console``; checks all day, 10 minutes to arrive."""
    sim.knobs.push_sent_s, sim.knobs.push_delivered_s, sim.knobs.push_read_s = 0.1, 0.3, 0.6
    svc = make_service()
    svc.engine = StatusEngine(store, svc.poll_check, clock=svc.clock, policy=PollPolicy(), rng=random.Random(3))
    inbox = WebhookInbox(store, svc.engine, clock=svc.clock)
    svc.configure_webhooks(console.base, inbox=inbox)
    svc.configure_proof(ProofConfig(hours=(0, 24 * 60 - 1), tz=MSK, max_per_day=3))
    inbox.listen(svc.proof_event)
    console.inbox = inbox
    return svc


def connected(svc, sim, store, org=ORG, name="Reception"):
    row = linked_number(svc, sim, org=org, name=name)
    session = store.get(row.id).session
    sim.set_status(session, "connected")
    svc.engine.record(row.id, CheckResult.ok(Status.parse("connected")))
    return row, session


def test_a_connected_number_whose_check_dies_is_not_delivering_and_says_so(proofed, sim, store):
    row, session = connected(proofed, sim, store)
    admin = proofed.for_session({}, access=Access.full(), actor="admin")
    assert admin.set_witness("*", "+7 999 000-11-22", actor="admin") == "+7 999 000-11-22"
    sim.lose_messages(session, "dead")
    check = admin.check_delivery_now(row.id, actor="olga")
    assert check.witness == WITNESS
    (sent,) = sim.messages(session)
    assert sent["to"] == WITNESS and f"WPP-{check.code}" in sent["text"]
    failing = wait_for(lambda: proofed.proof_view(row.id).state == "failing", what="the dead check")
    assert failing
    view = admin.number(row.id)
    assert view.status.state.value == "connected" and view.not_delivering
    assert "Check that the phone is on" in str(view.status.attention)
    assert proofed.not_delivering() == {row.id: pytest.approx(check.sent_at)}
    assert admin.attention_count() == 1
    diary = [e for e in store.list_activity(integration_id=row.id) if e.action == "delivery_failed"]
    assert len(diary) == 1 and "not delivering" in diary[0].detail

    # the phone is fixed: the next check is delivered, and the number is proven again
    sim.lose_messages(session, "none")
    admin.check_delivery_now(row.id, actor="olga")
    wait_for(lambda: proofed.proof_view(row.id).state == "proven", what="the delivered check")
    assert not admin.number(row.id).not_delivering and proofed.not_delivering() == {}


def test_a_witness_removed_takes_not_delivering_off_the_list_and_saving_it_unchanged_does_not(proofed, sim, store):
    """The list, the page and the sidebar stop saying "not delivering" when no witness applies any more (nothing can
    be proven either way: the alert desk closes the problem); the same witness saved again changes nothing."""
    row, session = connected(proofed, sim, store)
    admin = proofed.for_session({}, access=Access.full(), actor="admin")
    admin.set_witness("*", WITNESS, actor="admin")
    sim.lose_messages(session, "dead")
    check = admin.check_delivery_now(row.id, actor="olga")
    wait_for(lambda: proofed.proof_view(row.id).state == "failing", what="the dead check")
    assert proofed.not_delivering() == {row.id: pytest.approx(check.sent_at)}
    admin.set_witness("*", "+7 999 000-11-22", actor="admin")  # the same phone: the failure still counts
    assert proofed.not_delivering() == {row.id: pytest.approx(check.sent_at)} and admin.attention_count() == 1

    admin.set_witness("*", "", actor="admin")
    assert proofed.not_delivering() == {} and not admin.number(row.id).not_delivering
    assert admin.attention_count() == 0 and proofed.proof_view(row.id).state == "off"


def test_not_delivering_is_an_incident_the_alert_desk_sends_once(proofed, sim, store):
    """End to end: the simulator lets the check message die; the alert desk (demo outbox) opens a "not delivering"
    incident and queues one alert, however many passes follow; a delivered check sends one "delivers again"."""
    from wpp.alerts.desk import AlertConfig, AlertDesk

    row, session = connected(proofed, sim, store)
    store.set_witness("*", WITNESS, actor="admin", at=0)
    desk = AlertDesk(store, AlertConfig(demo=True, after_s=0.0, language="en"), clock=proofed.clock, holder="t")
    try:
        desk.run_once()
        sim.lose_messages(session, "dead")
        proofed.check_delivery_now(row.id, actor="olga")
        wait_for(lambda: proofed.proof_view(row.id).state == "failing", what="the dead check")
        for _ in range(3):
            desk.run_once()
        (alert,) = store.list_alerts(integration_id=row.id)
        assert alert.event == "down" and alert.subject.endswith("is connected but not delivering")
        (incident,) = store.load_incidents(open_only=True)
        assert incident.kind == "not_delivering" and proofed.not_delivering() == {row.id: incident.started_at}

        sim.lose_messages(session, "none")
        proofed.check_delivery_now(row.id, actor="olga")
        wait_for(lambda: proofed.proof_view(row.id).state == "proven", what="the delivered check")
        for _ in range(3):
            desk.run_once()
        alerts = store.list_alerts(integration_id=row.id)
        assert [a.event for a in alerts] == ["recovered", "down"] and alerts[0].subject.endswith("delivers again")
        assert store.load_incidents(open_only=True) == []
    finally:
        desk.stop()


def test_a_check_never_delivered_is_lost_after_the_set_time(proofed, sim, store):
    row, session = connected(proofed, sim, store)
    store.set_witness(ORG, WITNESS, actor="admin", at=0)
    sim.lose_messages(session, "silent")  # accepted, then nothing at all
    check = proofed.for_session({}, access=Access.full()).check_delivery_now(row.id, actor="olga")
    assert proofed.proof_pass(now=check.sent_at + 60)["lost"] == 0  # still within its time
    assert proofed.proof_view(row.id).state == "checking"
    assert proofed.proof_pass(now=check.deadline + 1)["lost"] == 1
    view = proofed.proof_view(row.id)
    assert view.state == "failing" and view.failing_since is not None
    assert proofed.number(row.id).not_delivering
    (line,) = [e for e in store.list_activity(integration_id=row.id) if e.action == "delivery_failed"]
    assert "within 10 minutes" in line.detail


def test_a_fleet_witness_proves_delivery_by_its_incoming_message(proofed, sim, store):
    sim.knobs.push_delivered_s = sim.knobs.push_read_s = 3600.0  # no ✓✓ from the platform in this test
    sim.knobs.push_incoming_s = 0.2
    row, _session = connected(proofed, sim, store, name="Reception")
    witness, w_session = connected(proofed, sim, store, org=ORG2, name="Director's phone")
    w_phone = phone_for(w_session)  # the simulator's linked phone of that number
    store.merge_settings(witness.id, {keys.PHONE: w_phone})
    store.set_witness("*", w_phone, actor="admin", at=0)
    check = proofed.check_delivery_now(row.id, actor="olga")
    done = wait_for(lambda: (c := store.delivery_checks(integration_id=row.id)[0]).status == "proven" and c,
                    what="the witness's incoming message")
    assert done.code == check.code and done.proven_by == witness.id
    assert proofed.proof_view(row.id).state == "proven"
    lines = [e.detail for e in store.list_activity(integration_id=row.id) if e.action == "delivery_proven"]
    assert lines == ["Delivery proven: the witness number received the check message"]
    # the witness does not check itself, and Settings names it as the console's own number
    with pytest.raises(InvalidInput):
        proofed.check_delivery_now(witness.id, actor="olga")
    (line,) = proofed.witness_lines()
    assert line.fleet_number and "Director's phone" in line.fleet_number


def test_the_schedule_never_exceeds_its_limit_over_a_simulated_day(make_service, store, sim):
    """Two numbers, 2 checks a day by schedule, at most 3 a day with "Check delivery now" pressed every hour; the
    checks are never delivered (no webhook at the simulator), so each waits out its 10 minutes. Two days in steps
    of 5 minutes: never more than 3 a day per number, never more than 2 by schedule, inside working hours and, once
    the first check after linking is done, spread over the day."""
    start = dt.datetime(2026, 12, 7, 0, 0, tzinfo=MSK).timestamp()
    clock = ManualClock(start)
    svc = make_service(clock=clock)
    svc.engine = StatusEngine(store, svc.poll_check, clock=clock, policy=PollPolicy(), rng=random.Random(5))
    svc.configure_webhooks("http://127.0.0.1:9", inbox=WebhookInbox(store, svc.engine, clock=clock))
    cfg = ProofConfig(checks_per_day=2, max_per_day=3, timeout_s=600, hours=(9 * 60, 18 * 60), tz=MSK)
    svc.configure_proof(cfg)
    operator = person(svc, Role.OPERATOR, ORG)
    ids = []
    for name in ("Reception", "Front desk"):
        row = svc.create_number(ORG, name=name, actor="setup").integration
        sim.set_status(store.get(row.id).session, "connected")
        svc.engine.record(row.id, CheckResult.ok(Status.parse("connected")))
        ids.append(row.id)
    store.set_witness(ORG, WITNESS, actor="admin", at=start)
    refused = Counter()
    for step in range(48 * 12):
        now = clock.time()
        svc.proof_pass()
        if step % 12 == 7 and 10 <= step // 12 % 24:  # from 10:35, every hour, "Check delivery now" on the first
            try:
                operator.check_delivery_now(ids[0], actor="olga")
            except InvalidInput:
                refused["manual"] += 1
        clock.advance(300)
        assert clock.time() == now + 300
    checks = store.delivery_checks(limit=1000)
    per_day = Counter((c.integration_id, dt.datetime.fromtimestamp(c.sent_at, MSK).date()) for c in checks)
    assert per_day and max(per_day.values()) <= 3, per_day
    assert per_day[(ids[0], dt.date(2026, 12, 7))] == 3 and refused["manual"] > 0  # the limit held the button
    scheduled = [c for c in checks if c.trigger == "schedule"]
    assert {c.integration_id for c in scheduled} == set(ids)
    for c in scheduled:
        local = dt.datetime.fromtimestamp(c.sent_at, MSK)
        assert 9 <= local.hour < 18, local
    by_schedule = Counter((c.integration_id, dt.datetime.fromtimestamp(c.sent_at, MSK).date()) for c in scheduled)
    assert max(by_schedule.values()) <= 2, by_schedule
    second = sorted(c.sent_at for c in scheduled if c.integration_id == ids[1]
                    and dt.datetime.fromtimestamp(c.sent_at, MSK).date() == dt.date(2026, 12, 8))
    assert len(second) == 2 and second[1] - second[0] >= 3 * 3600  # spread over the day, not in a burst
    sent_per_day = Counter(dt.datetime.fromtimestamp(c.sent_at, MSK).date() for c in checks)
    assert len(sim.messages()) == len(checks) == sum(sent_per_day.values())


def test_a_viewer_can_neither_name_a_witness_nor_check_now(proofed, sim, store):
    row, _ = connected(proofed, sim, store)
    store.set_witness("*", WITNESS, actor="admin", at=0)
    viewer = person(proofed, Role.VIEWER, ORG)
    with pytest.raises(NotAllowed):
        viewer.check_delivery_now(row.id, actor="vera")
    with pytest.raises(NotAllowed):
        viewer.set_witness(ORG, "+7 900 111-22-33", actor="vera")
    operator = person(proofed, Role.OPERATOR, ORG)
    with pytest.raises(NotAllowed):
        operator.set_witness(ORG, "+7 900 111-22-33", actor="olga")  # an administrator's decision
    school_admin = person(proofed, Role.ADMINISTRATOR, ORG)
    with pytest.raises(NotAllowed):
        school_admin.set_witness("*", "+7 900 111-22-33", actor="anna")  # every school: not hers to decide
    with pytest.raises(NotAllowed):
        school_admin.set_witness(ORG2, "+7 900 111-22-33", actor="anna")  # not one of her schools
    assert school_admin.set_witness(ORG, "8 900 111-22-33", actor="anna") == "+7 900 111-22-33"
    assert {w.scope: w.phone for w in store.witnesses()} == {"*": WITNESS, ORG: "79001112233"}
    assert sim.messages() == []  # nothing was sent by anyone refused
    refusals = [e for e in store.list_activity() if e.action == "refused"]
    assert len(refusals) == 5


def test_a_bad_witness_is_refused_in_words_and_changes_nothing(proofed):
    admin = proofed.for_session({}, access=Access.full(), actor="admin")
    admin.set_witness("*", "+7 999 000-11-22", actor="admin")
    for bad in ("12", "+7 (999) abc", "9" * 20):
        with pytest.raises(InvalidInput) as info:
            admin.set_witness("*", bad, actor="admin")
        assert info.value.action
    assert [w.phone for w in proofed.store.witnesses()] == [WITNESS]
    admin.set_witness("*", "", actor="admin")  # empty: removed
    assert proofed.store.witnesses() == []


def test_without_webhooks_nothing_is_sent_and_the_page_says_why(make_service, store, sim):
    svc = make_service()
    svc.engine = StatusEngine(store, svc.poll_check, clock=svc.clock, policy=PollPolicy(), rng=random.Random(1))
    svc.configure_webhooks(None, inbox=None)
    row = svc.create_number(ORG, name="Reception", actor="setup").integration
    sim.set_status(store.get(row.id).session, "connected")
    svc.engine.record(row.id, CheckResult.ok(Status.parse("connected")))
    store.set_witness("*", WITNESS, actor="admin", at=0)
    admin = svc.for_session({}, access=Access.full(), actor="admin")
    view = admin.proof_view(row.id)
    assert view.state == "off" and "WPP_PUBLIC_URL" in view.why
    assert "cannot be proven" in person(svc, Role.OPERATOR, ORG).proof_view(row.id).why
    with pytest.raises(InvalidInput):
        admin.check_delivery_now(row.id, actor="admin")
    assert svc.proof_pass()["sent"] == 0 and sim.messages() == []
