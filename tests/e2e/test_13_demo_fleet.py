"""Journey 13 — the demo's first glance (issue 26): a newcomer opens the console on its embedded default with the
fleet on (``WPP_DEMO_FLEET``, off in every other journey) in a Russian browser, and sees what the console is for
before connecting anything: two schools by name, a number connected with its delivery proven, one offline, one
waiting for its QR scan, one muted with its reason; the offline number's open problem on the Alerts page with the
alert it produced; a QR code on the waiting number's page. F5 changes nothing; a restart of the server seeds nothing
again and the numbers keep their states on the restarted simulated platform.

Its own app process (a data folder of its own, the fleet on).
"""
from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from wpp.store import SqliteStore

from ._ui import assert_no_python_errors, goto, new_context, shot, wait_idle
from .conftest import app_process

pytestmark = pytest.mark.e2e

RU = "ru-RU"
SCHOOLS = ("Школа № 5", "Гимназия № 1")
#: each number of the fleet and what its row in the list says (the glossary's Russian names)
ROWS = {
    "Ресепшн": "🟢 Подключён",
    "Бухгалтерия": "🔴 Не в сети",
    "Приёмная": "🟠 Ждёт сканирования QR-кода",
    "Учительская": "оповещения выключены до",
}
QR_ALT_RU = "QR-код для привязки этого номера WhatsApp"


@pytest.fixture(scope="module")
def fleet_app(browser, tmp_path_factory):
    """The demo as a newcomer starts it (the fleet on), polling every 2 s."""
    a = app_process("demo-fleet", tmp_path_factory.mktemp("wpp-demo-fleet"), WPP_DEMO_FLEET="true",
                    WPP_POLL_SECONDS=2).start()
    try:
        a.wait_simulator()
        yield a
    finally:
        a.stop()


def _ids(db_path) -> dict[str, str]:
    store = SqliteStore(db_path)
    try:
        return {r.name: r.id for r in store.list_integrations(include_inactive=True)}
    finally:
        store.close()


def _rows(page):
    return page.locator('[data-testid="stDataFrame"]').first.locator('[role="row"]')


def _see_the_fleet(page, where: str) -> None:
    goto(page, "/", title=re.compile("Номера WhatsApp"))
    for name, says in ROWS.items():
        expect(_rows(page).filter(has_text=name)).to_contain_text(says, timeout=30_000)
    text = " ".join(_rows(page).all_inner_texts())
    for school in SCHOOLS:
        assert school in text, (school, text[:500])
    expect(_rows(page).filter(has_text="Учительская")).to_contain_text("🔴 Не в сети")
    assert_no_python_errors(page, where)


def test_the_demo_opens_on_two_schools_in_four_states(browser, fleet_app):
    app = fleet_app
    ctx, page = new_context(browser, app.url, locale=RU, viewport={"width": 1400, "height": 1000})
    try:
        _see_the_fleet(page, "Numbers (demo fleet)")
        shot(page, "journey13-demo-fleet-numbers-ru", full_page=True)
        ids = _ids(app.db_path)
        assert set(ids) == set(ROWS)

        # the connected number: delivery proven, on its page
        goto(page, f"/number?n={ids['Ресепшн']}", title=re.compile("Ресепшн"))
        main = page.locator('[data-testid="stMain"]')
        expect(main).to_contain_text("Доставка подтверждена", timeout=30_000)
        # the muted one: why and until when
        goto(page, f"/number?n={ids['Учительская']}", title=re.compile("Учительская"))
        expect(main).to_contain_text("Телефон в ремонте до пятницы", timeout=30_000)
        # the waiting one: a QR code to scan
        goto(page, f"/number?n={ids['Приёмная']}", title=re.compile("Приёмная"))
        expect(page.get_by_role("img", name=QR_ALT_RU)).to_be_visible(timeout=30_000)
        assert_no_python_errors(page, "Number (waiting for its scan)")
        shot(page, "journey13-demo-fleet-qr-ru")

        # the Alerts page: the offline number's open problem first, and the alert it produced (the demo outbox)
        deadline = time.monotonic() + 90
        while True:
            goto(page, "/outbox", title=re.compile("Оповещения"))
            wait_idle(page)
            grids = page.locator('[data-testid="stDataFrame"]')
            problem = grids.first.locator('[role="row"]').filter(has_text="Бухгалтерия")
            sent = grids.last.locator('[role="row"]').filter(has_text="Бухгалтерия")
            try:  # a grid draws its rows a moment after it appears: wait for them, do not just count
                expect(grids).to_have_count(2, timeout=10_000)
                expect(problem).to_have_count(1, timeout=10_000)
                expect(sent).to_have_count(1, timeout=5_000)  # one alert for this problem, not one per pass
                break
            except AssertionError:
                assert time.monotonic() < deadline, "the offline number's problem and alert never showed on Alerts"
                page.wait_for_timeout(2_000)
        expect(problem).to_contain_text("Не в сети")
        expect(problem).to_contain_text("Школа № 5")
        assert_no_python_errors(page, "Alerts (demo fleet)")
        shot(page, "journey13-demo-fleet-alerts-ru", full_page=True)

        # F5: the same fleet, nothing new
        page.reload()
        _see_the_fleet(page, "Numbers after F5")
        assert _ids(app.db_path) == ids
    finally:
        ctx.close()


def test_a_restart_keeps_the_fleet_as_it_was_and_seeds_nothing_again(browser, fleet_app):
    app = fleet_app
    before = _ids(app.db_path)
    app.restart()
    app.wait_simulator()
    ctx, page = new_context(browser, app.url, locale=RU, viewport={"width": 1400, "height": 1000})
    try:
        _see_the_fleet(page, "Numbers after a restart")
        assert _ids(app.db_path) == before
        # the restarted platform knows them again: the waiting number still shows its QR code
        goto(page, f"/number?n={before['Приёмная']}", title=re.compile("Приёмная"))
        expect(page.get_by_role("img", name=QR_ALT_RU)).to_be_visible(timeout=30_000)
        states = sorted(a["status"] for a in app.sim_json("GET", "/_sim/accounts")["accounts"])
        assert states == ["connected", "offline", "offline", "qr_required"], states
    finally:
        ctx.close()
