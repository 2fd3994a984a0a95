"""Issue 23 at the service level, against the simulator pushing for real over loopback: a registration the platform
accepted puts a quiet number on sanity checks; a change that was never pushed marks the webhook broken (polled as
usual, registered again) until one of its events arrives; every webhook is registered again about hourly; old
records go in the background."""
from __future__ import annotations

import datetime as dt

from wpp import keys
from wpp.models import ActivityEntry, StatusChange

from .test_webhooks_delivery import console, linked_number, pushed, wait_for  # noqa: F401 - fixtures

HOOK = "POST /internal/session/{session}/webhook"


def test_an_accepted_registration_means_the_number_is_pushed_even_when_quiet(pushed, sim, store):  # noqa: F811
    row = linked_number(pushed, sim)
    assert pushed.webhook_works(store.get(row.id))
    # registered with another address (a new WPP_PUBLIC_URL), or never: polled as usual
    assert not pushed.webhook_works(store.merge_settings(row.id, {keys.WEBHOOK_BASE: "https://old.example"}))
    assert not pushed.webhook_works(store.merge_settings(row.id, {keys.WEBHOOK_HASH: None}))


def test_a_missed_push_marks_the_webhook_broken_until_an_event_of_it_arrives(pushed, sim, store):  # noqa: F811
    row = linked_number(pushed, sim)
    session = store.get(row.id).session
    sim.set_status(session, "connected")
    wait_for(lambda: pushed.engine.board([row.id]).get(row.id) and pushed.engine.board()[row.id].connected,
             what="the pushed 'connected'")
    sim.flush_pushes()
    registered = sim.count(HOOK)

    pushed.webhooks_missed([row.id])
    pushed.wait_webhooks()
    marked = store.get(row.id)
    assert isinstance(marked.settings.get(keys.WEBHOOK_BROKEN), int)
    assert not pushed.webhook_works(marked)  # polled as usual meanwhile
    assert sim.count(HOOK) == registered + 1  # and registered again at once
    assert any(a.action == "webhook" and a.outcome == "error" for a in store.list_activity(integration_id=row.id))

    # an event of the number arrives (someone writes to the phone): it works again, and the pass clears the mark
    sim.incoming(session)
    wait_for(lambda: pushed.engine.last_events([row.id]).get(row.id, 0) * 1000 > marked.settings[keys.WEBHOOK_BROKEN],
             what="the incoming message's push")
    assert pushed.webhook_works(store.get(row.id))
    pushed.webhook_pass()
    assert keys.WEBHOOK_BROKEN not in store.get(row.id).settings


def test_every_webhook_is_registered_again_about_hourly(pushed, sim, store):  # noqa: F811
    fresh = linked_number(pushed, sim)
    old = linked_number(pushed, sim, name="Front desk")
    registered = sim.count(HOOK)
    assert pushed.webhook_pass() == 0  # both registered a moment ago
    hour_ago = int((pushed.clock.time() - 3 * 3600) * 1000)
    store.merge_settings(old.id, {keys.WEBHOOK_AT: hour_ago})  # registered three hours ago
    assert pushed.webhook_pass() == 1
    assert sim.count(HOOK) == registered + 1
    assert store.get(old.id).settings[keys.WEBHOOK_AT] > hour_ago
    assert pushed.webhook_pass() == 0
    assert pushed.webhook_works(store.get(fresh.id)) and pushed.webhook_works(store.get(old.id))


def test_build_service_prunes_old_records_after_the_settings(tmp_path, sim):
    from wpp.config import Settings
    from wpp.service import build_service

    svc = build_service(Settings(wpp_base_url=sim.base_url, wpp_secret=sim.secret, data_dir=str(tmp_path),
                                 keep_history_days=2, keep_diary_days=3), start_engine=False)
    try:
        store = svc.store
        row = store.create("123e4567-e89b-12d3-a456-426614174000", "Front desk", {})
        now = svc.clock.time()
        for days in (5, 1):
            store.add_status_history(StatusChange(row.id, "connected", now - days * 86400))
            store.log_activity(ActivityEntry(action="rename", outcome="ok", actor=f"{days}",
                                             at=dt.datetime.fromtimestamp(now - days * 86400, dt.timezone.utc)))
        assert {r.name: r.keep_s / 86400 for r in svc.retention.rules} == {
            "status_history": 2, "activity": 3, "test_messages": 90, "delivery_checks": 90, "webhook_seen": 25 / 24}
        svc.engine.tick()  # the poller's leaseholder runs its jobs
        svc.engine._task_pool.shutdown(wait=True)
        assert [round((now - c.at) / 86400) for c in store.status_history(row.id)] == [1]
        assert [e.actor for e in store.list_activity()] == ["1"]
        assert svc.retention.deleted["status_history"] == 1 and svc.retention.deleted["activity"] == 1
    finally:
        svc.close()
        svc.client.close()
        svc.store.close()


def test_a_late_check_answer_at_the_simulator_never_overwrites_the_pushed_drop(pushed, sim, store):  # noqa: F811
    """Issue 23, point 2, as it was found: "Check now", the platform takes the request while the phone is connected
    but answers late; the phone drops and "offline" is pushed; the late "connected" lands -- and must change nothing."""
    import time

    row = linked_number(pushed, sim)
    session = store.get(row.id).session
    sim.set_status(session, "connected")
    engine = pushed.engine
    engine.tick()
    wait_for(lambda: engine.board([row.id]).get(row.id) and engine.board()[row.id].connected, what="connected")
    sim.flush_pushes()

    sim.knobs.status_late_s = 1.5
    engine.check_now([row.id])
    engine.tick(wait=False)  # the request is taken now, while the phone is connected
    time.sleep(0.4)
    sim.set_status(session, "offline")  # ... the phone drops; the platform pushes it
    wait_for(lambda: engine.board()[row.id].state == "offline", what="the pushed 'offline'")
    sim.knobs.status_late_s = 0.0
    wait_for(lambda: engine.stats()["inflight"] == 0 and engine.stats()["stale"] >= 1, what="the late answer")
    assert engine.board()[row.id].state == "offline"
    assert store.load_statuses([row.id])[row.id].state == "offline"
    asked = sim.count("GET /api/accounts/{session}/status")
    engine.tick()  # the late answer disagreed: asked again at once
    assert sim.count("GET /api/accounts/{session}/status") == asked + 1
    assert engine.board()[row.id].state == "offline"
    assert [c.state for c in store.status_history(row.id)][0] == "offline"
