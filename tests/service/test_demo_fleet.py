"""The demo's first glance (issue 26, ``wpp.demo_fleet``): an empty demo opens on two named schools whose four numbers
are connected with delivery proven, offline with a problem the alert desk tells, waiting for a scan, and muted with
its reason and end — each an account of the simulated platform in that very state, so the console's own calls work
on them. Seeded once: a restart seeds nothing again (a removed number stays removed, a user's number is untouched)
and brings the seeded numbers back onto the new, empty simulator; never seeded over anything, nor with a real
platform, a real database or ``WPP_DEMO_FLEET=false``."""
from __future__ import annotations

import time

import pytest

from wpp import keys
from wpp.access.roles import Access
from wpp.alerts.desk import AlertConfig, AlertDesk
from wpp.config import Settings
from wpp.demo import DEMO_SCHOOLS, seed_schools, seed_witness
from wpp.demo_fleet import MUTE_REASON, fleet_enabled, open_demo_fleet
from wpp.models import ActivityEntry
from wpp.simulator import Simulator
from wpp.status import PollPolicy, StatusEngine

DEMO = Settings()  # nothing configured: the embedded demo default

NAMES = {"Ресепшн": "connected", "Бухгалтерия": "offline", "Приёмная": "qr_required", "Учительская": "offline"}


def first_start(store, sim) -> str:
    """What the app does at a demo start (wppui.state.service): the schools, the witness, then the fleet."""
    seed_schools(store)
    seed_witness(store)
    return open_demo_fleet(store, sim, DEMO)


def with_board(svc):
    """The service reads the shared board the seeding wrote (a status engine that is not started)."""
    svc.engine = StatusEngine(svc.store, svc.poll_check, clock=svc.clock, policy=PollPolicy())
    return svc


def admin(make_service):
    return with_board(make_service()).for_session({}, access=Access.full(), actor="Demo user")


def test_an_empty_demo_opens_on_two_schools_in_four_states_the_platform_agrees_with(store, sim, make_service):
    assert fleet_enabled(DEMO) and first_start(store, sim) == "seeded"
    s = admin(make_service)
    views = {v.integration.name: v for v in s.numbers()}
    assert set(views) == set(NAMES)
    schools = {v.org_name for v in views.values()}
    assert schools == {DEMO_SCHOOLS[0][1], DEMO_SCHOOLS[1][1]}  # «Школа № 5», «Гимназия № 1»
    assert {n: v.status.state.value for n, v in views.items()} == NAMES

    # the simulated platform says the same when the console asks it (what the poller and "Check now" do)
    for name, v in views.items():
        asked = s.poll_check(store.get(v.id))
        assert asked.error is None and asked.status.state.value == NAMES[name], name
    # the waiting number shows a QR code; the connected one sends
    qr = s.pairing_state(views["Приёмная"].id)
    assert qr.qr_png and qr.error is None
    sent = s.send_test(views["Ресепшн"].id, "+7 916 123-45-67", "Проверка", actor="Demo user")
    assert sent.task_id

    # delivery proven for the connected number; the muted one says why and until when
    proven = store.delivery_states()[views["Ресепшн"].id]
    assert proven.proven_at is not None and proven.failing_since is None
    muted = s.number_alerts(views["Учительская"].id)
    assert muted.muted_reason == MUTE_REASON and muted.muted_until.timestamp() > time.time() + 86_400 - 60

    # the alert desk's first pass: the offline number's problem is told (the demo outbox), the muted one's is held
    desk = AlertDesk(store, AlertConfig(demo=True, after_s=60.0, language="ru"), holder="t")
    try:
        desk.run_once()
        desk.run_once()
    finally:
        desk.stop()
    open_ = {i.integration_id: i for i in store.load_incidents(open_only=True)}
    assert set(open_) == {views["Бухгалтерия"].id, views["Учительская"].id}
    assert open_[views["Бухгалтерия"].id].started_at == pytest.approx(time.time() - 40 * 60, abs=120)
    alerts = store.list_alerts()
    assert {a.integration_id for a in alerts} == {views["Бухгалтерия"].id}
    assert all("Бухгалтерия" in a.subject for a in alerts)


def test_a_restart_seeds_nothing_again_and_brings_the_fleet_back_onto_the_new_simulator(store, sim, make_service):
    first_start(store, sim)
    rows = {r.name: r for r in store.list_integrations()}
    store.deactivate(rows["Бухгалтерия"].id)  # a user removed one
    mine = store.create(DEMO_SCHOOLS[0][0], name="Мой номер", settings={"other": "kept"})  # and added one
    with Simulator() as restarted:  # the in-memory platform starts empty again, like the console's process
        assert restarted.accounts() == []
        assert open_demo_fleet(store, restarted, DEMO) == "revived"
        active = {r.name for r in store.list_integrations()}
        assert active == {"Ресепшн", "Приёмная", "Учительская", "Мой номер"}  # nothing seeded twice, none back
        assert len(store.list_integrations(include_inactive=True)) == 5
        assert store.get(mine.id).settings == mine.settings
        on_platform = {a["session"]: a["status"] for a in restarted.accounts()}
        assert on_platform == {rows["Ресепшн"].session: "connected", rows["Бухгалтерия"].session: "offline",
                               rows["Приёмная"].session: "qr_required", rows["Учительская"].session: "offline"}
        # the console's calls work on them again: a fresh access key, the state, the QR code
        s = make_service_on(make_service, restarted)
        assert s.poll_check(store.get(rows["Ресепшн"].id)).status.state.value == "connected"
        assert s.pairing_state(rows["Приёмная"].id).qr_png
        # a second restart: the same again, still nothing new
        assert open_demo_fleet(store, restarted, DEMO) == "revived"
        assert len(store.list_integrations(include_inactive=True)) == 5


def make_service_on(make_service, simulator):
    from wpp.client import WppClient

    s = make_service()
    s.client = WppClient(simulator.base_url, secret=simulator.secret, timeout=2.0, connect_timeout=1.0)
    s.tokens.client = s.client
    return with_board(s).for_session({}, access=Access.full(), actor="Demo user")


def test_a_waiting_number_keeps_waiting_for_its_scan(store, sim):
    """The platform gives up on a QR code after six unscanned codes; the demo's waiting number does not, so a newcomer
    who opens the console later still finds it waiting."""
    sim.knobs.qr_first_s = sim.knobs.qr_rotate_s = 0.05
    first_start(store, sim)
    waiting = next(r for r in store.list_integrations() if r.name == "Приёмная")
    time.sleep(0.6)  # more than six codes' time
    assert sim.current_qr(waiting.session)
    assert {a["status"] for a in sim.accounts() if a["session"] == waiting.session} == {"qr_required"}


@pytest.mark.parametrize("what", ["a number", "a removed number", "a diary line", "switched off"])
def test_nothing_is_seeded_over_anything_or_when_switched_off(store, sim, what):
    settings = DEMO
    if what == "a number":
        store.create(DEMO_SCHOOLS[2][0], name="Свой")
    elif what == "a removed number":
        store.deactivate(store.create(DEMO_SCHOOLS[2][0], name="Убранный").id)
    elif what == "a diary line":
        store.log_activity(ActivityEntry(action="sign_in", outcome="ok", actor="anna"))
    else:
        settings = Settings(demo_fleet=False)
    before = store.list_integrations(include_inactive=True)
    seed_schools(store)
    assert open_demo_fleet(store, sim, settings) == "none"
    assert store.list_integrations(include_inactive=True) == before and sim.accounts() == []


def test_never_with_a_real_platform_or_a_real_database():
    assert fleet_enabled(DEMO)
    assert not fleet_enabled(Settings(demo_fleet=False))
    assert not fleet_enabled(Settings(wpp_base_url="https://wpp.example"))
    assert not fleet_enabled(Settings(database_url="postgresql://u@db.example/wpp"))
    assert not fleet_enabled(Settings(supabase_url="https://x.supabase.co", supabase_key="k" * 40))


def test_the_fleet_rows_say_which_of_the_fleet_they_are(store, sim):
    first_start(store, sim)
    slots = {r.name: r.settings.get(keys.DEMO_FLEET) for r in store.list_integrations()}
    assert slots == {"Ресепшн": "proven", "Бухгалтерия": "offline", "Приёмная": "waiting", "Учительская": "muted"}
