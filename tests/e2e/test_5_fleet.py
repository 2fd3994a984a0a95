"""Journey 5 — a fleet: with 200 numbers in the store, the Numbers page lists every one with its status.

Its own app process and data directory: the numbers are made on the embedded simulator over HTTP and saved
straight into the app's SQLite file, as if they had been created over months.
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from ._ui import assert_no_python_errors, goto, grid_rows, shot
from tests.harness import seed_numbers
from wpp.store.sqlite import SqliteStore

from .conftest import app_process, open_page

pytestmark = pytest.mark.e2e

N = 200
N_CONNECTED = 40


@pytest.fixture(scope="module")
def fleet_app(browser, tmp_path_factory):
    a = app_process("fleet", tmp_path_factory.mktemp("wpp-fleet"), WPP_POLL_SECONDS=2, WPP_SIM_QR_ROTATE=600).start()
    try:
        ctx, page = open_page(browser, a.url)
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


def test_numbers_page_lists_200_numbers_with_their_statuses(browser, fleet_app):
    ctx, page = open_page(browser, fleet_app.url)
    try:
        goto(page, "/", title="📋 WhatsApp numbers")
        caption = page.get_by_text(re.compile(r"\d+ number\(s\) ·"))
        expect(caption).to_contain_text(f"{N} number(s)", timeout=20_000)
        # every status is known (no "Checking…", no "Cannot check"), and they are the platform's
        expect(caption).to_contain_text(f"{N - N_CONNECTED} waiting for QR scan", timeout=60_000)
        expect(caption).to_contain_text(f"{N_CONNECTED} connected")
        text = caption.inner_text()
        assert "checking" not in text.lower() and "cannot check" not in text, text

        grid = page.locator('[data-testid="stDataFrame"]').first
        assert grid.locator('[role="grid"], table').first.get_attribute("aria-rowcount") in (str(N + 1), None)
        # the grid's accessible rows follow its canvas a moment later than the caption: wait for the row itself
        first_row = grid.locator('[role="row"]').filter(has_text="Fleet 001")
        expect(first_row).to_contain_text("🟢 Connected", timeout=15_000)
        shot(page, "journey5-fleet-top")

        # scroll the grid to its end: the last number is there, with its status
        grid.hover()
        for _ in range(30):
            page.mouse.wheel(0, 2000)
            if any(f"Fleet {N:03d}" in r for r in grid_rows(page)):
                break
            page.wait_for_timeout(100)
        rows = grid_rows(page)
        assert any(f"Fleet {N:03d}" in r for r in rows), f"Fleet {N:03d} not found after scrolling: {rows[-3:]}"
        last_row = grid.locator('[role="row"]').filter(has_text=f"Fleet {N:03d}")
        expect(last_row).to_contain_text("🟠 Waiting for QR scan", timeout=15_000)
        assert_no_python_errors(page, "Numbers (200)")
        shot(page, "journey5-fleet-scrolled-to-the-end")
    finally:
        ctx.close()
