"""Journey 3 — a test message: Send works with ONE click right after typing the number (no Enter first); the
number is shown the international way; numbers that cannot be made unambiguous are refused in words."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from ._ui import assert_no_python_errors, goto, new_context, paired_number, shot

pytestmark = pytest.mark.e2e

TO = "To (phone number)"


def test_send_works_on_the_first_click_right_after_typing(browser, app):
    number = paired_number(browser, app, school="Гимназия", name="Для сообщений")
    ctx, page = new_context(browser, app.url)
    try:
        goto(page, f"/send?n={number['id']}", title=re.compile("Send a test message"))
        expect(page.get_by_role("combobox", name="From")).to_have_value(re.compile("Для сообщений"))
        before = len(app.sim_json("GET", "/_sim/messages")["messages"])

        # a number that cannot be used: refused in words, nothing sent
        page.get_by_label(TO, exact=True).fill("abc-def-ghij")
        page.get_by_role("button", name="Send", exact=True).click()
        expect(page.locator('[data-testid="stAlert"]').filter(has_text="The message was not sent")).to_be_visible()
        assert len(app.sim_json("GET", "/_sim/messages")["messages"]) == before
        assert_no_python_errors(page, "Send (refused)")

        # typed the local way, then ONE click on Send (no Enter, no click elsewhere first)
        send = page.get_by_role("button", name="Send", exact=True)
        expect(send).to_be_enabled()
        page.get_by_label(TO, exact=True).fill("8 (900) 123-45-67")
        send.click()
        sent = page.locator('[data-testid="stAlert"]').filter(has_text="The platform accepted the message for")
        expect(sent).to_be_visible(timeout=15_000)
        assert "+7 900 123-45-67" in sent.inner_text()
        expect(page.get_by_text("The message goes to +7 900 123-45-67")).to_be_visible()
        messages = app.sim_json("GET", "/_sim/messages", params={"session": number["session"]})["messages"]
        assert [m["to"] for m in messages][-1:] == ["79001234567"], messages
        assert len(app.sim_json("GET", "/_sim/messages")["messages"]) == before + 1
        assert_no_python_errors(page, "Send (sent)")
        shot(page, "journey3-sent")
    finally:
        ctx.close()
