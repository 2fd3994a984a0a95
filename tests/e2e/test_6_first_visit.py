"""The first visit after a (re)start opens a bookmarked page, not the home page.

Streamlit treats a folder named ``pages/`` next to the entry script as the legacy auto-discovered pages folder
(``PagesManager.uses_pages_directory``) until some session has run ``st.navigation``. Until then a request for
``/number?n=…`` or ``/tokens`` runs that page file alone. These tests open a non-home address as the very first
request of a fresh app process: the page must still be closed to strangers, and open to a signed-in person with
the whole app around it and the number of its address.
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from ._ui import goto, new_context, shot, visible_text
from .conftest import app_process

pytestmark = pytest.mark.e2e


def test_first_visit_to_a_bookmarked_page_still_asks_to_sign_in(browser, tmp_path):
    app = app_process("first-visit-sign-in", tmp_path / "data", WPP_DEMO_SIGN_IN=1).start()
    try:
        ctx, page = new_context(browser, app.url)
        goto(page, "/tokens")
        page.wait_for_timeout(1500)
        shot(page, "first-visit-tokens-with-sign-in-required")
        text = visible_text(page)
        assert "Test access" not in text and "Get a new access key" not in text, \
            "the Access page was shown without signing in (the access gate was skipped)"
        expect(page.get_by_text("Nobody can sign in yet")).to_be_visible()
        ctx.close()
    finally:
        app.stop()


def test_first_visit_to_a_bookmarked_page_shows_the_whole_app(browser, tmp_path):
    app = app_process("first-visit-demo", tmp_path / "data").start()
    try:
        ctx, page = new_context(browser, app.url)
        goto(page, "/connect", title=re.compile("Connect a number"))
        page.wait_for_timeout(1500)
        shot(page, "first-visit-connect")
        sidebar = page.locator('[data-testid="stSidebar"]')
        expect(sidebar.get_by_role("link", name="Connect a number")).to_be_visible()
        expect(sidebar.get_by_role("link", name="streamlit app")).to_have_count(0)
        expect(sidebar).to_contain_text("Demo — simulated platform")
        expect(page.get_by_role("combobox", name="School")).to_be_visible()
        ctx.close()
    finally:
        app.stop()
