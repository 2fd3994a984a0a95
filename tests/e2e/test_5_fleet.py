"""Journey 5 — a fleet: with 200 numbers in the store, the Numbers page lists every one with its state in words,
and a click anywhere in a row (not only on its small checkbox) opens that number.

Its own app process and data directory: the numbers are made on the embedded simulator over HTTP and saved
straight into the app's SQLite file, as if they had been created over months.
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.harness import seed_numbers
from wpp.store.sqlite import SqliteStore
from wppui import tables

from ._ui import assert_no_python_errors, assert_no_uuid, goto, new_context, number_id, shot, wait_idle
from .conftest import app_process

pytestmark = pytest.mark.e2e

N = 200
N_CONNECTED = 40
ROW_H = 35  # st.dataframe's header height


@pytest.fixture(scope="module")
def fleet_app(browser, tmp_path_factory):
    a = app_process("fleet", tmp_path_factory.mktemp("wpp-fleet"), WPP_POLL_SECONDS=2, WPP_SIM_QR_ROTATE=600).start()
    try:
        ctx, page = new_context(browser, a.url)
        page.goto("/")  # starts the embedded simulator (and opens the store)
        a.wait_simulator()
        ctx.close()
        seed_numbers(a.sim_url, a.db_path, N, name="Fleet {i:03d}", connected=N_CONNECTED, mint=False, workers=1)
        store = SqliteStore(a.db_path)
        try:
            assert len(store.list_integrations()) == N
        finally:
            store.close()
        yield a
    finally:
        a.stop()


def grid(page):
    return page.locator('[data-testid="stDataFrame"]').first


def rows_text(page) -> list[str]:
    return grid(page).locator('[role="row"]').all_inner_texts()


#: a state in words (a number nobody pairs is asked slowly, so it may still read "Starting" from its first check)
STATES = re.compile(r"🟢 Connected|🟠 Waiting for the QR scan|🔵 Starting")


def wait_all_known(page, timeout_s: float = 60.0) -> None:
    """Every visible row shows the platform's state in words (none "not checked yet")."""
    import time

    deadline = time.monotonic() + timeout_s
    while True:
        rows = [r for r in rows_text(page)[1:] if "Fleet" in r]
        if rows and all(STATES.search(r) for r in rows):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"rows without a known state: {[r for r in rows if not STATES.search(r)][:5]}")
        page.wait_for_timeout(500)


def test_numbers_page_lists_200_numbers_with_their_states(browser, fleet_app):
    ctx, page = new_context(browser, fleet_app.url, viewport={"width": 1400, "height": 1000})
    try:
        goto(page, "/", title=re.compile("WhatsApp numbers"))
        expect(page.get_by_text(f"{N} numbers")).to_be_visible(timeout=20_000)
        header = grid(page).locator('[role="row"]').first
        expect(header).to_contain_text("What to do", timeout=20_000)
        for col in ("School", "Number", "Status", "What to do"):  # in view; the times follow to the right
            assert col in header.inner_text(), header.inner_text()
        wait_all_known(page)
        assert_no_uuid(page, "Numbers (200)")
        shot(page, "journey5-fleet-top")

        grid(page).hover()
        for _ in range(40):
            page.mouse.wheel(0, 2000)
            page.wait_for_timeout(100)
        rows = rows_text(page)
        assert any("Fleet" in r for r in rows[-3:]), rows[-3:]
        wait_all_known(page)
        assert_no_python_errors(page, "Numbers (200)")
        shot(page, "journey5-fleet-scrolled-to-the-end")
    finally:
        ctx.close()


def test_a_click_anywhere_in_a_row_opens_that_number(browser, fleet_app):
    ctx, page = new_context(browser, fleet_app.url, viewport={"width": 1400, "height": 1000})
    try:
        goto(page, "/", title=re.compile("WhatsApp numbers"))
        wait_all_known(page)
        wait_idle(page)
        texts = rows_text(page)
        k = 3  # the third number (row 0 is the header)
        name = re.search(r"Fleet \d{3}", texts[k]).group(0)
        box = grid(page).bounding_box()
        # the "Status" cell of that row: well to the right of the row's checkbox
        # rows are taller than the header (long cells wrap: wppui.tables.ROW_HEIGHT)
        page.mouse.click(box["x"] + box["width"] * 0.45,
                         box["y"] + ROW_H + tables.ROW_HEIGHT * (k - 1) + tables.ROW_HEIGHT / 2)
        expect(page.get_by_role("heading", level=1)).to_contain_text(name, timeout=20_000)
        assert number_id(page), page.url
        assert "/number" in page.url
        # Back: the list again, and it does not jump to the number by itself
        page.go_back()
        expect(page.get_by_role("heading", level=1, name=re.compile("WhatsApp numbers"))).to_be_visible()
        page.wait_for_timeout(1500)
        expect(page.get_by_role("heading", level=1, name=re.compile("WhatsApp numbers"))).to_be_visible()
    finally:
        ctx.close()
