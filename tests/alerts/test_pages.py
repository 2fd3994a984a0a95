"""The pages of the alerts, headless through AppTest (demo mode): the Number page's "Simulate the phone going
offline" for a connected number, the Alerts page (the demo outbox) and the Settings page's recipients table."""
from __future__ import annotations

import time

from tests.app.conftest import app, app_env, entry_script_reruns, services  # noqa: F401 - AppTest fixtures
from tests.app.test_pages import create_via_service, labels, open_page, texts, wait_for


def test_simulate_offline_then_the_alert_shows_on_the_alerts_page(app):  # noqa: F811
    app.run()
    assert not app.exception
    view = create_via_service("Ресепшн")
    svc, sim = services()
    sim.set_status(view.integration.session, "connected")
    svc.check_now()
    wait_for(app, lambda a: True, "a run")
    deadline = time.monotonic() + 10
    while svc.number(view.id).status.state is None or svc.number(view.id).status.state.value != "connected":
        assert time.monotonic() < deadline, "the engine did not see the number connected"
        time.sleep(0.2)

    open_page(app, "pages/number.py", n=view.id)
    assert "Simulate the phone going offline" in labels(app)
    [b for b in app.button if b.label == "Simulate the phone going offline"][0].click().run()
    assert not app.exception
    deadline = time.monotonic() + 10
    while svc.engine.entry(view.id).state != "offline":
        assert time.monotonic() < deadline, "the engine did not see the phone go offline"
        time.sleep(0.2)

    desk = svc.alerts
    assert desk is not None and desk.config.demo
    desk.run_once(time.time() + 90)  # a minute and a half later (the desk's own loop would do it by itself)

    open_page(app, "pages/outbox.py")
    assert not app.exception
    assert app.title[0].value.endswith("Alerts")
    # the page leads with what is down now (issue 26), then what was sent
    headings = [h.value for h in app.header]
    assert headings.index("Open problems") < headings.index("Ended problems") < headings.index("Alerts sent")
    problems = app.dataframe[0].value
    assert list(problems["Number"]) == ["Ресепшн"] and list(problems["School"]) == ["Школа № 5"]
    assert list(problems["What happened"]) == ["Offline"] and list(problems["Taken care of by"]) == ["—"]
    assert [b.proto.label for b in app.get("download_button")] == ["Download the problems (CSV)"]
    [table] = [d.value for d in app.dataframe if "To" in d.value.columns]
    assert list(table["To"]) == ["Demo outbox"] and list(table["Number"]) == ["Ресепшн"]
    assert list(table["School"]) == ["Школа № 5"]
    assert table["Delivered?"][0].startswith("✅") and list(table["What happened"]) == ["🔴 Offline"]
    assert "«Ресепшн»" in app.markdown[-1].value or any("Ресепшн" in t.value for t in app.text)  # the text, whole
    assert "Demo outbox" in texts(app)

    open_page(app, "pages/settings.py")
    assert not app.exception
    assert [h.value for h in app.header][0] == "Who is told when a number drops"  # first, school by school
    recipients = next(df.value for df in app.dataframe if "Recipient" in df.value.columns)
    assert list(recipients["Recipient"]) == ["Demo outbox"] and recipients["Did it go out?"][0].startswith("✅")
    import pandas as pd

    settings = pd.concat([df.value for df in app.dataframe if "Setting" in df.value.columns])  # every section
    row = settings[settings["Setting"] == "How long a number may be down before people are told"].iloc[0]
    assert row["Value"] == "1 minute (demo)"


def test_the_alerts_page_in_russian(app):  # noqa: F811
    app.context = {"locale": "ru-RU"}
    app.run()
    open_page(app, "pages/outbox.py")
    assert not app.exception
    assert app.title[0].value.endswith("Оповещения")
    assert "Оповещений пока не было." in texts(app)


def test_an_alert_given_up_is_shown_in_red_with_why_on_alerts_and_settings(app):  # noqa: F811
    """Issue 23: never silently none — an alert the console gave up on is in red, with why, on both pages."""
    import json

    from wpp.models import AlertRecord

    app.run()
    view = create_via_service("Ресепшн")
    svc, _sim = services()
    now = time.time()
    svc.store.queue_alerts([AlertRecord(
        incident_id="x@1", event="down", recipient="email:director@school5.ru", channel="email",
        shown_to="director@school5.ru", lang="ru", subject="«Ресепшн» (Школа № 5) не на связи", body="…",
        created_at=now - 60, next_try_at=now - 60, integration_id=view.id, organization_id=view.org_id)])
    [a] = [x for x in svc.store.list_alerts() if x.recipient == "email:director@school5.ru"]
    svc.store.finish_alert(a.id, status="failed", attempts=10, next_try_at=now, error=json.dumps(
        {"msgid": "the mail server refused the address", "params": {},
         "english": "the mail server refused the address"}))

    open_page(app, "pages/outbox.py")
    assert not app.exception
    [box] = [e for e in app.error if "could not be delivered" in e.value]
    shown = box.value.replace("\\", "").replace("\u2060", "")
    assert "1 alert could not be delivered" in shown and "director@school5.ru" in shown
    assert "the mail server refused the address" in shown and "«Ресепшн» (Школа № 5) не на связи" in shown

    open_page(app, "pages/settings.py")
    assert not app.exception
    [box] = [e for e in app.error if "could not be delivered" in e.value]
    assert "the mail server refused the address" in box.value.replace("\\", "")


def _connected_number(app, name="Ресепшн"):  # noqa: F811
    view = create_via_service(name)
    svc, sim = services()
    sim.set_status(view.integration.session, "connected")
    svc.check_now()
    deadline = time.monotonic() + 10
    while svc.number(view.id).status.state is None or svc.number(view.id).status.state.value != "connected":
        assert time.monotonic() < deadline, "the engine did not see the number connected"
        time.sleep(0.2)
    return view, svc, sim


def test_im_on_it_mute_and_the_platform_outage_button_on_the_number_page(app):  # noqa: F811
    """Issue 26 on the Number page (demo, an administrator): the demo's two buttons, "I'm on it" once the number
    has an open problem (then who is on it), muting its alerts (then the list says so), turning them back on."""
    app.run()
    view, svc, sim = _connected_number(app)
    open_page(app, "pages/number.py", n=view.id)
    assert not app.exception
    assert {"Simulate the phone going offline", "Simulate a platform outage"} <= set(labels(app))
    assert "I'm on it" not in labels(app)  # nothing to take care of

    sim.set_status(view.integration.session, "offline")
    svc.check_now()
    deadline = time.monotonic() + 10
    while svc.engine.entry(view.id).state != "offline":
        assert time.monotonic() < deadline, "the engine did not see the phone go offline"
        time.sleep(0.2)
    svc.alerts.run_once(time.time() + 90)
    open_page(app, "pages/number.py", n=view.id)
    assert "I'm on it" in labels(app)
    assert "Tell the others you are taking care of it" in texts(app)
    [b for b in app.button if b.label == "I'm on it"][0].click().run()
    assert not app.exception
    assert "I'm on it" not in labels(app)
    assert "Demo user is taking care of it (since" in texts(app)

    app.radio(key="mute_choice").set_value("4h")
    app.text_input(key="mute_reason").input("the phone is being repaired")
    [b for b in app.button if b.label == "Mute"][0].click().run()
    assert not app.exception
    assert "Alerts about this number are muted until" in texts(app)
    assert "the phone is being repaired" in texts(app)
    open_page(app, "pages/numbers.py")
    status = list(app.dataframe[0].value["Status"])
    assert len(status) == 1 and "🔕 alerts muted until" in status[0]

    open_page(app, "pages/number.py", n=view.id)
    [b for b in app.button if b.label == "Turn alerts back on"][0].click().run()
    assert "Alerts about this number are muted until" not in texts(app)
    assert "Mute" in labels(app) and "Turn alerts back on" not in labels(app)


def test_the_alerts_page_sets_and_ends_a_maintenance_window(app):  # noqa: F811
    app.run()
    open_page(app, "pages/outbox.py")
    assert not app.exception
    app.selectbox(key="window_for").set_value("*")
    app.text_input(key="window_reason").input("обновление платформы")
    [b for b in app.button if b.label == "Set the window"][0].click().run()
    assert not app.exception
    shown = texts(app)
    assert "The whole platform: maintenance now, until" in shown and "обновление платформы" in shown
    [b for b in app.button if b.label == "End now"][0].click().run()
    assert not app.exception and "maintenance now" not in texts(app)
