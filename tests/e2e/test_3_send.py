"""Journey 3 — a test message: numbers that cannot be made unambiguous are refused before anything is sent;
a Russian number typed the local way goes to 7…, and the platform has the task the page shows."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from ._ui import assert_no_python_errors, choose, goto, shot, wait_idle

pytestmark = pytest.mark.e2e

TO = "To (phone number)"


def type_recipient(page, value: str) -> None:
    box = page.get_by_label(TO, exact=True)
    box.fill(value)
    box.press("Enter")  # a text input outside a form is committed on Enter
    wait_idle(page)


def test_invalid_recipient_is_refused_and_a_valid_one_reaches_the_platform(page, app, connected_number):
    session = connected_number["session"]
    goto(page, "/send", title="✉️ Send a test message")
    choose(page, "Send from", f"session {session}")
    send = page.get_by_role("button", name="Send", exact=True)

    for bad in ("abc-def-ghij", "12345"):  # letters; too short
        type_recipient(page, bad)
        refusal = page.locator('[data-testid="stAlert"]').filter(has_text="This phone number cannot be used")
        expect(refusal).to_be_visible(timeout=10_000)
        expect(send).to_be_disabled()
        expect(page.get_by_text("Will be sent to")).to_have_count(0)
        assert_no_python_errors(page, f"Send ({bad!r})")
    shot(page, "journey3-refused")
    before = len(app.sim_json("GET", "/_sim/messages")["messages"])

    type_recipient(page, "+7 900 123-45-67")
    expect(page.get_by_text("Will be sent to")).to_contain_text("+7 900 123-45-67")
    expect(page.locator('[data-testid="stAlert"]').filter(has_text="cannot be used")).to_have_count(0)
    expect(send).to_be_enabled()
    send.click()
    sent = page.locator('[data-testid="stAlert"]').filter(has_text="Task id")
    expect(sent).to_be_visible(timeout=15_000)
    m = re.search(r"Task id:\s*(\S+)", sent.inner_text())
    assert m, sent.inner_text()
    task_id = m.group(1).strip("`·")

    messages = app.sim_json("GET", "/_sim/messages", params={"session": session})["messages"]
    mine = [x for x in messages if x.get("taskId") == task_id]
    assert len(mine) == 1, f"task {task_id} not at the platform: {messages}"
    assert mine[0]["to"] == "79001234567"
    assert mine[0]["session"] == session
    assert len(app.sim_json("GET", "/_sim/messages")["messages"]) == before + 1, "the refused numbers sent something"
    assert_no_python_errors(page, "Send (sent)")
    shot(page, "journey3-sent")
