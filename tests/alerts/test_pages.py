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
    table = app.dataframe[0].value
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
