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
