"""The alert desk as the console wires it (``build_service``): started beside the status engine, stopped by
``close``; in the demo, the simulated phone going offline ends in the demo outbox, read through the service by an
administrator (operators may make the phone go offline; viewers may not)."""
from __future__ import annotations

import time

import pytest

from wpp.access.roles import Access, Role
from wpp.config import load_settings
from wpp.demo import DemoPhone
from wpp.access.roles import NotAllowed
from wpp.errors import InvalidInput
from wpp.service import build_service

from .helpers import ORG


@pytest.fixture
def quick_sim():
    """The simulated platform, offering the QR code at once."""
    from wpp.simulator import SimKnobs, Simulator

    with Simulator(SimKnobs(starting_s=0.0)) as s:
        yield s


@pytest.fixture
def demo(tmp_path, quick_sim):
    sim = quick_sim
    settings = load_settings(env={"WPP_DATA_DIR": str(tmp_path / "data")}, secrets_files=[])
    assert settings.demo
    svc = build_service(settings, simulator=sim, start_engine=False)
    yield svc, DemoPhone(sim, svc.store)
    svc.close()
    svc.client.close()


def test_build_service_wires_a_desk_that_close_stops(tmp_path, sim):
    settings = load_settings(env={"WPP_DATA_DIR": str(tmp_path / "data")}, secrets_files=[])
    svc = build_service(settings, simulator=sim)
    try:
        assert svc.alerts is not None and svc.alerts.running and svc.alerts.config.demo
        assert svc.alerts.config.after_s == 60.0 and svc.alerts.config.interval_s == 10.0
    finally:
        svc.close()
        svc.client.close()
    assert not svc.alerts.running
    assert svc.store.lease_holder("alert-sender", now=time.time()) is None  # given up at once


def test_nothing_to_tell_outside_the_demo_means_no_desk(tmp_path, sim):
    settings = load_settings(env={"WPP_BASE_URL": sim.base_url, "WPP_DATA_DIR": str(tmp_path / "data")},
                             secrets_files=[])
    svc = build_service(settings, start_engine=False)
    try:
        assert svc.alerts is None
        assert svc.alert_recipients() == [] and svc.outbox() == []
    finally:
        svc.close()
        svc.client.close()


def test_the_demo_phone_goes_offline_and_the_alert_lands_in_the_outbox(demo):
    svc, phone = demo
    school = svc.add_organization("Школа № 5", ORG, actor="demo")
    number = svc.create_number(school.id, name="Ресепшн", actor="demo").integration
    svc.start_pairing(number.id, actor="demo")
    assert phone.scan(number.id)
    now = time.time() + 15  # (the engine's clock, after the pairing panel's quiet time)
    svc.engine.check_now([number.id])
    svc.engine.tick(now)
    assert svc.engine.entry(number.id).state == "connected"

    operator = svc.for_session({}, access=Access(schools={ORG: Role.OPERATOR}), actor="anna")
    viewer = svc.for_session({}, access=Access(schools={ORG: Role.VIEWER}), actor="vera")
    with pytest.raises(NotAllowed):
        viewer.simulate_phone_offline(number.id, phone, actor="vera")
    operator.simulate_phone_offline(number.id, phone, actor="anna")
    svc.engine.tick(now + 1)
    assert svc.engine.entry(number.id).state == "offline"

    desk = svc.alerts
    assert desk.run_once(now + 30)["leader"] == 1 and svc.store.list_alerts() == []  # under a minute: nothing
    stats = desk.run_once(now + 65)
    assert stats["sent"] == 1

    admin = svc.for_session({}, access=Access.full("demo"), actor="demo")
    [line] = admin.outbox()
    assert line.to == "Demo outbox" and line.school == "Школа № 5" and line.number == "Ресепшн"
    assert line.ok is True and line.event == "🔴 Offline" and "«Ресепшн»" in line.subject  # the state by its one name
    assert "Что сделать:" in line.text  # WPP_ALERT_LANGUAGE: Russian by default
    [who] = admin.alert_recipients()
    assert who.to == "Demo outbox" and who.scope == "Every school" and who.ok is True and who.last_at is not None
    with pytest.raises(NotAllowed):
        operator.outbox()
    diary = [e.action for e in svc.store.list_activity()]
    assert "simulate_offline" in diary and "alert_sent" in diary


# --- issue 26: "I'm on it", mute, maintenance, the demo's platform outage -------------------------------------------
def _connected(svc, phone, name="Ресепшн"):
    """A number of school 5, linked and seen connected; returns (number, now) on the engine's clock."""
    if not any(o.id == ORG for o in svc.store.list_organizations()):
        svc.add_organization("Школа № 5", ORG, actor="demo")
    number = svc.create_number(ORG, name=name, actor="demo").integration
    svc.start_pairing(number.id, actor="demo")
    assert phone.scan(number.id)
    now = time.time() + 15
    svc.engine.check_now([number.id])
    svc.engine.tick(now)
    assert svc.engine.entry(number.id).state == "connected"
    return number, now


def _people(svc):
    return (svc.for_session({}, access=Access(schools={ORG: Role.OPERATOR}), actor="anna"),
            svc.for_session({}, access=Access(schools={ORG: Role.VIEWER}), actor="vera"),
            svc.for_session({}, access=Access.full("demo"), actor="admin"))


def test_im_on_it_is_refused_for_a_viewer_and_named_in_the_recovery(demo):
    svc, phone = demo
    number, now = _connected(svc, phone)
    operator, viewer, admin = _people(svc)
    with pytest.raises(InvalidInput):  # nothing to take care of yet
        operator.acknowledge(number.id, actor="anna")
    phone.go_offline(number.id)
    svc.engine.check_now([number.id])
    svc.engine.tick(now + 1)
    svc.alerts.run_once(now + 65)
    assert [line.event for line in admin.outbox()] == ["🔴 Offline"]

    with pytest.raises(NotAllowed) as info:
        viewer.acknowledge(number.id, actor="vera")
    assert "operator" in info.value.message
    assert viewer.number_alerts(number.id).acked_by is None
    state = operator.acknowledge(number.id, actor="anna")
    assert state.acked_by == "anna" and state.problem and not state.can_acknowledge
    assert viewer.number_alerts(number.id).acked_by == "anna"  # everyone sees who is on it
    with pytest.raises(InvalidInput) as info:
        admin.acknowledge(number.id, actor="admin")
    assert "anna" in info.value.message
    diary = [(e.action, e.actor) for e in svc.store.list_activity()]
    assert ("acknowledge", "anna") in diary and ("refused", "vera") in diary

    phone.simulator.set_status(svc.store.get(number.id).session, "connected")
    svc.engine.check_now([number.id])
    svc.engine.tick(now + 100)
    svc.alerts.run_once(now + 110)
    back = [line for line in admin.outbox() if line.event == "🟢 Connected again"]
    assert len(back) == 1 and "Кто занимался: anna" in back[0].text


def test_muting_is_for_operators_and_the_list_says_so(demo):
    svc, phone = demo
    number, now = _connected(svc, phone)
    operator, viewer, admin = _people(svc)
    with pytest.raises(NotAllowed):
        viewer.mute_number(number.id, time.time() + 3600, actor="vera")
    with pytest.raises(InvalidInput):
        operator.mute_number(number.id, time.time() - 10, actor="anna")  # the past
    with pytest.raises(InvalidInput):
        operator.mute_number(number.id, time.time() + 40 * 86400, actor="anna")  # over a month
    with pytest.raises(InvalidInput):
        operator.mute_number(number.id, time.time() + 3600, reason="x" * 300, actor="anna")
    state = operator.mute_number(number.id, time.time() + 3600, reason="телефон в ремонте", actor="anna")
    assert state.muted_by == "anna" and state.muted_reason == "телефон в ремонте" and state.muted_until is not None
    [view] = viewer.numbers()
    assert view.muted_until == state.muted_until  # the list knows
    phone.go_offline(number.id)
    svc.engine.check_now([number.id])
    svc.engine.tick(now + 1)
    assert svc.alerts.run_once(now + 300)["queued"] == 0  # muted: nothing
    state = operator.unmute_number(number.id, actor="anna")
    assert state.muted_until is None and viewer.numbers()[0].muted_until is None
    assert svc.alerts.run_once(now + 310)["queued"] == 1  # still down when the mute ended: told once, now
    diary = [e.action for e in svc.store.list_activity()]
    assert "mute" in diary and "unmute" in diary


def test_maintenance_windows_are_for_administrators(demo):
    svc, phone = demo
    svc.add_organization("Школа № 5", ORG, actor="demo")
    operator, viewer, admin = _people(svc)
    school_admin = svc.for_session({}, access=Access(schools={ORG: Role.ADMINISTRATOR}), actor="olga")
    start, end = time.time(), time.time() + 7200
    with pytest.raises(NotAllowed):
        operator.set_maintenance(ORG, start, end, actor="anna")
    with pytest.raises(NotAllowed):  # the whole platform: administrators of every school only
        school_admin.set_maintenance(None, start, end, actor="olga")
    with pytest.raises(InvalidInput):
        school_admin.set_maintenance(ORG, end, start + 30, actor="olga")
    mine = school_admin.set_maintenance(ORG, start, end, reason="переезд", actor="olga")
    assert mine.now and mine.what == "Школа № 5" and mine.reason == "переезд"
    everywhere = admin.set_maintenance(None, start + 3600, end + 3600, actor="admin")
    assert not everywhere.now
    assert [w.what for w in admin.maintenance_windows()] == ["Школа № 5", "The whole platform"]
    assert [w.what for w in school_admin.maintenance_windows()] == ["Школа № 5", "The whole platform"]
    with pytest.raises(NotAllowed):
        school_admin.end_maintenance(everywhere.id, actor="olga")
    school_admin.end_maintenance(mine.id, actor="olga")
    assert [w.what for w in admin.maintenance_windows()] == ["The whole platform"]


def test_the_demo_platform_outage_is_one_message_in_the_outbox(demo):
    svc, phone = demo
    numbers = [_connected(svc, phone, name)[0] for name in ("Ресепшн", "Бухгалтерия", "Директор")]
    operator, viewer, admin = _people(svc)
    with pytest.raises(NotAllowed):
        viewer.simulate_platform_outage(phone, actor="vera")
    operator.simulate_platform_outage(phone, actor="anna", seconds=3.0)
    now = time.time()
    for n in range(3):  # the engine finds every number out of reach (two failed checks each)
        svc.engine.check_now([x.id for x in numbers])
        svc.engine.tick(now + 20 + n)
    assert all(svc.engine.entry(x.id).state == "cannot_check" for x in numbers)
    svc.alerts.run_once(now + 200)
    lines = admin.outbox()
    assert len(lines) == 1, [ln.subject for ln in lines]
    assert lines[0].subject == "Платформа WPP недоступна: нельзя проверить 3 номера"
    assert lines[0].number == "The whole platform" and lines[0].to == "Demo outbox"
    time.sleep(3.5)  # the simulated platform answers again
    svc.engine.check_now([x.id for x in numbers])
    svc.engine.tick(now + 400)
    svc.alerts.run_once(now + 700)
    assert [ln.subject for ln in admin.outbox()][0] == "Платформа WPP снова работает"
    assert len(admin.outbox()) == 2
