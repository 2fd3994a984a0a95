"""The first visit after a (re)start opens a bookmarked page, not the home page.

Streamlit treats a folder named ``pages/`` next to the entry script as the legacy auto-discovered pages folder
(``PagesManager.uses_pages_directory``) until some session has run ``st.navigation``. Until then a request for
``/connect`` or ``/tokens`` runs that page file alone: no access gate, no sidebar, no demo banner. These tests
open a non-home URL as the very first request of a fresh app process.
"""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from ._ui import goto, shot, visible_text
from .conftest import app_process, open_page

pytestmark = pytest.mark.e2e


def test_first_visit_to_a_bookmarked_page_still_asks_to_sign_in(browser, tmp_path):
    app = app_process("first-visit-sign-in", tmp_path / "data", WPP_DEMO_SIGN_IN=1).start()
    try:
        ctx, page = open_page(browser, app.url)
        goto(page, "/tokens")
        page.wait_for_timeout(1500)
        shot(page, "first-visit-tokens-with-sign-in-required")
        text = visible_text(page)
        assert "Access tokens" not in text, "the Tokens page was shown without signing in (the access gate was skipped)"
        expect(page.get_by_text("Nobody can sign in yet")).to_be_visible()
        ctx.close()
    finally:
        app.stop()


def test_first_visit_to_a_bookmarked_page_shows_the_whole_app(browser, tmp_path):
    app = app_process("first-visit-demo", tmp_path / "data").start()
    try:
        ctx, page = open_page(browser, app.url)
        goto(page, "/connect", title="➕ Connect a WhatsApp number")
        page.wait_for_timeout(1500)
        shot(page, "first-visit-connect")
        sidebar = page.locator('[data-testid="stSidebar"]')
        expect(sidebar.get_by_role("link", name="Connect a number")).to_be_visible()
        expect(sidebar.get_by_role("link", name="streamlit app")).to_have_count(0)
        expect(sidebar).to_contain_text("Demo — simulated platform")
        expect(page.locator('[data-testid="stMain"]')).to_contain_text("Demo — simulated platform")
        ctx.close()
    finally:
        app.stop()
