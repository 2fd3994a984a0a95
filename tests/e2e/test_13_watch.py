"""Journey 13 (issue 23) — a push on screen without anyone pressing anything: a phone drops, the platform pushes it,
and a tab that is only open (the Activity page: no refresh of its own but the sidebar's count) hears of it through
its waiting request to ``/_wpp/board`` and shows "Needs attention: 1"; the Numbers list shows the drop too. The
watch started with the server: nobody had opened a page before the numbers were made.

(How fast is the benchmarks' business: ``bench/bench_watch.py screen``.)
"""
from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from tests.harness import seed_numbers
from wpp.store.sqlite import SqliteStore

from ._ui import assert_no_python_errors, goto, new_context, shot, wait_for_webhooks, wait_until
from .conftest import app_process

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def watch_app(browser, tmp_path_factory):
    a = app_process("watch", tmp_path_factory.mktemp("wpp-watch")).start()
    try:
        a.wait_simulator()  # the server started it: no page was opened
        yield a
    finally:
        a.stop()



def test_a_pushed_drop_reaches_an_open_tab_by_itself(browser, watch_app):
    a = watch_app
    numbers = seed_numbers(a.sim_url, a.db_path, 2, name="Ресепшн {i}", connected=2)
    store = SqliteStore(a.db_path)
    try:
        wait_until(lambda: all((r := store.load_statuses([n["id"]]).get(n["id"])) and r.state == "connected"
                          for n in numbers), 90)
    finally:
        store.close()
    # the webhook pass of the poller's leaseholder registers both (every 30 s)
    wait_for_webhooks(a, 2)

    ctx, page = new_context(browser, a.url)
    try:
        goto(page, "/activity")
        sidebar = page.locator('[data-testid="stSidebar"]')
        expect(sidebar).not_to_contain_text("Needs attention")
        time.sleep(1.0)  # the listener's request is waiting
        with page.expect_response(lambda r: "/_wpp/board" in r.url and r.status == 200, timeout=20_000) as heard:
            a.sim_json("POST", f"/_sim/accounts/{numbers[0]['session']}/status", json={"state": "offline"})
        assert heard.value.json()["v"]
        expect(sidebar).to_contain_text("Needs attention: 1", timeout=8_000)
        assert_no_python_errors(page, "activity after a push")
        shot(page, "13-watch-activity-after-push")
        assert a.sim_json("GET", "/_sim/pushes").get("200", 0) >= 1

        goto(page, "/")
        grid = page.locator('[data-testid="stDataFrame"] [role="row"]', has_text="Offline")
        expect(grid).to_have_count(1)

        # on a Number page the person was just told something ("Renamed to …"); a push re-draws the page within a
        # second, and what they were told stays (only their next action clears it)
        goto(page, f"/number?n={numbers[1]['id']}")
        page.get_by_role("button", name="Rename").click()
        page.get_by_label("New name").fill("Ресепшн второй")
        page.get_by_role("button", name="Save name").click()
        told = page.get_by_text("Renamed to “Ресепшн второй”.")
        expect(told).to_be_visible(timeout=15_000)
        time.sleep(1.0)  # the listener's request is waiting
        with page.expect_response(lambda r: "/_wpp/board" in r.url and r.status == 200, timeout=20_000):
            a.sim_json("POST", f"/_sim/accounts/{numbers[1]['session']}/status", json={"state": "offline"})
        expect(sidebar).to_contain_text("Needs attention: 2", timeout=8_000)  # the page was drawn again
        expect(told).to_be_visible()
        assert_no_python_errors(page, "number page after a push")
    finally:
        ctx.close()
