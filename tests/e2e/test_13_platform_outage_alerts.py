"""Journey 13 — the demo's platform outage ends as ONE message (issue 26): two numbers of two schools are connected;
"Simulate a platform outage" on a Number page stops the simulated platform; the Alerts page then leads with the open
problems (the whole platform, and each number), and its outbox holds ONE message about the platform, not one per
school. On the Number page the demo user says "I'm on it" and mutes the number's alerts; both show there, in the
list, and on the Alerts page.

Its own app process (the outage must not disturb the journeys that share the session's app).
"""
from __future__ import annotations

import csv
import io
import re
import sqlite3
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from ._ui import assert_no_python_errors, goto, new_context, paired_number, shot, wait_idle
from .conftest import app_process

pytestmark = pytest.mark.e2e

SCHOOL_A, SCHOOL_B = "Школа № 5", "Гимназия № 1"
NUMBER_A, NUMBER_B = "Ресепшн", "Бухгалтерия"


@pytest.fixture(scope="module")
def outage_app(browser, tmp_path_factory):
    """The demo, polling every second, telling a drop after 6 s (instead of a minute)."""
    a = app_process("platform-outage", tmp_path_factory.mktemp("wpp-outage"), WPP_POLL_SECONDS=1,
                    WPP_SIM_QR_ROTATE=600, WPP_ALERT_AFTER_MINUTES=0.1).start()
    try:
        ctx, page = new_context(browser, a.url)
        page.goto("/")  # the first page view starts the embedded simulator
        a.wait_simulator()
        ctx.close()
        yield a
    finally:
        a.stop()


def _alerts(db_path) -> list[tuple]:
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10)
    try:
        try:
            return con.execute("select incident_id, event, recipient, subject from wpp_console_alerts").fetchall()
        except sqlite3.OperationalError:  # the desk has not made its tables yet
            return []
    finally:
        con.close()


def test_the_demo_platform_outage_is_one_message_and_a_mute_and_an_acknowledgement_show(browser, outage_app):
    app = outage_app
    a = paired_number(browser, app, school=SCHOOL_A, name=NUMBER_A)
    b = paired_number(browser, app, school=SCHOOL_B, name=NUMBER_B)
    ctx, page = new_context(browser, app.url, viewport={"width": 1400, "height": 1000})
    try:
        goto(page, f"/number?n={a['id']}", title=re.compile(NUMBER_A))
        expect(page.locator('[data-testid="stMain"]')).to_contain_text("Connected", timeout=20_000)
        page.get_by_role("button", name="Simulate a platform outage").click()
        expect(page.get_by_text("The platform stops answering for three minutes")).to_be_visible(timeout=15_000)

        # the desk notices, waits its 6 s, and tells the platform incident ONCE (the demo outbox)
        deadline = time.monotonic() + 90
        while not _alerts(app.db_path):
            assert time.monotonic() < deadline, "no alert about the platform outage within 90 s"
            time.sleep(1)
        time.sleep(12)  # one more pass of the desk (every 10 s in the demo): nothing else comes
        sent = _alerts(app.db_path)
        assert len(sent) == 1, sent
        incident_id, event, recipient, subject = sent[0]
        assert incident_id.startswith("platform@") and event == "down" and recipient == "outbox"
        assert "2 номера" in subject, subject  # "… нельзя проверить 2 номера": both numbers, in one message

        # the Alerts page leads with the open problems, then the one message
        goto(page, "/outbox", title=re.compile("Alerts"))
        main = page.locator('[data-testid="stMain"]')
        grids = page.locator('[data-testid="stDataFrame"]')
        problems = grids.first
        expect(problems.locator('[role="row"]').filter(has_text="The whole platform")).to_have_count(
            1, timeout=20_000)
        for name in (NUMBER_A, NUMBER_B):
            expect(problems.locator('[role="row"]').filter(has_text=name)).to_have_count(1)
        outbox = grids.last  # the alerts sent come after the problems
        expect(outbox).to_contain_text("Demo outbox", timeout=20_000)
        rows = outbox.locator('[role="row"]').filter(has_text="Demo outbox")
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text("The whole platform")
        expect(page.get_by_role("button", name="Download the problems (CSV)")).to_be_visible()
        assert_no_python_errors(page, "Alerts (platform outage)")
        shot(page, "journey13-alerts-platform-outage", full_page=True)

        # "I'm on it" and a mute, on the number's page
        goto(page, f"/number?n={a['id']}", title=re.compile(NUMBER_A))
        page.get_by_role("button", name="I'm on it").click()
        expect(main).to_contain_text("Demo user is taking care of it (since", timeout=20_000)
        page.get_by_role("button", name="Mute alerts").click()
        page.get_by_text("For 4 hours").click()
        page.get_by_label("Why (others see it)").fill("телефон в ремонте")
        page.get_by_role("button", name="Mute", exact=True).click()
        expect(main).to_contain_text("Alerts about this number are muted until", timeout=20_000)
        expect(main).to_contain_text("телефон в ремонте")
        assert_no_python_errors(page, "Number (acknowledged, muted)")
        shot(page, "journey13-number-ack-mute")

        # the list says the number is muted; the Alerts page says who is on it
        goto(page, "/", title=re.compile("WhatsApp numbers"))
        row = page.locator('[data-testid="stDataFrame"]').first.locator('[role="row"]').filter(has_text=NUMBER_A)
        expect(row).to_contain_text("alerts muted until", timeout=20_000)
        goto(page, "/outbox", title=re.compile("Alerts"))
        wait_idle(page)
        mine = page.locator('[data-testid="stDataFrame"]').first.locator('[role="row"]').filter(has_text=NUMBER_A)
        expect(mine).to_contain_text("Demo user", timeout=20_000)
        assert_no_python_errors(page, "Alerts (acknowledged)")
        shot(page, "journey13-alerts-acknowledged", full_page=True)
        # the problems as a file, for the school's own reports: English columns, Moscow time (the browser's)
        with page.expect_download() as info:
            page.get_by_role("button", name="Download the problems (CSV)").click()
        rows = list(csv.DictReader(io.StringIO(Path(info.value.path()).read_text(encoding="utf-8-sig"))))
        assert {r["Number"] for r in rows} == {"The whole platform", NUMBER_A, NUMBER_B}, rows
        assert all(r["State"] == "Open" and r["Since (Europe/Moscow)"] for r in rows), rows
        assert next(r for r in rows if r["Number"] == NUMBER_A)["Taken care of by"] == "Demo user"
        assert len(_alerts(app.db_path)) == 1, "an acknowledgement or a mute sent something"
        assert b["id"] != a["id"]
    finally:
        ctx.close()
