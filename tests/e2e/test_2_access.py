"""Journey 2 — "is the number's access working?": one sentence on top, the one button that fixes it, "Test access"
with what it means, and, for support staff, the key's details (the full key only after "Reveal")."""
from __future__ import annotations

import base64
import json
import re
import time

import pytest
from playwright.sync_api import expect

from ._ui import assert_no_python_errors, assert_no_uuid, goto, new_context, paired_number, shot, visible_text, wait_idle

pytestmark = pytest.mark.e2e

ACCESS = re.compile(r"Access")


def jwt_claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def alert(page, text):
    return page.locator('[data-testid="stAlert"]').filter(has_text=text)


def test_access_sentence_test_diagnosis_new_key_and_reveal(browser, app):
    number = paired_number(browser, app, name="Доступ")
    ctx, page = new_context(browser, app.url, viewport={"width": 1400, "height": 1000})
    try:
        goto(page, f"/tokens?n={number['id']}", title=ACCESS)  # the old address still opens it
        expect(alert(page, "Access is fine")).to_be_visible()
        assert_no_uuid(page, "Access")

        # the platform stops accepting the key: "Test access" says so and what to do
        app.sim_json("POST", "/_sim/tokens/expire", json={"session": number["session"]})
        page.get_by_role("button", name="Test access").click()
        diagnosis = alert(page, "Next step")
        expect(diagnosis).to_be_visible(timeout=15_000)
        assert re.search(r"has expired|does not recognise", diagnosis.inner_text()), diagnosis.inner_text()
        assert "Get a new access key" in diagnosis.inner_text()
        shot(page, "journey2-diagnosis")

        # the one button that fixes it
        time.sleep(1.1)  # the new key's exp (whole seconds) must differ from the old one
        page.get_by_role("button", name="Get a new access key").click()
        # the new key is tried at once: the platform accepts it, and the old diagnosis is gone
        expect(alert(page, "A new access key was saved, and the platform accepts it")).to_be_visible(timeout=15_000)
        expect(alert(page, re.compile("has expired|does not recognise"))).to_have_count(0)
        page.get_by_role("button", name="Test access").click()
        expect(alert(page, "The access key works")).to_be_visible(timeout=15_000)

        # support staff: the details, the key masked until "Reveal"
        html_before = page.content()
        text_before = visible_text(page)
        page.get_by_text("Details for support").click()
        code = page.locator('[data-testid="stCode"]').first
        expect(code).to_be_visible()
        masked = code.inner_text().strip()
        assert "…" in masked, f"the key is not masked: {masked!r}"
        page.get_by_text("Reveal the full key").click()
        expect(code).not_to_contain_text("…", timeout=10_000)
        token = re.sub(r"\s+", "", code.inner_text())
        assert re.fullmatch(r"[\w-]+\.[\w-]+\.[\w-]+", token), token[:40]
        assert jwt_claims(token)["sub"] == number["session"]
        assert token not in html_before and token not in text_before, "the full key was on the page before Reveal"
        for part in token.split("."):
            if len(part) > 12:
                assert part not in html_before, "a part of the full key was in the page before Reveal"
        assert_no_python_errors(page, "Access")
        shot(page, "journey2-revealed", full_page=True)
    finally:
        ctx.close()


def test_access_points_a_number_that_is_not_linked_to_its_qr(browser, app):
    ctx, page = new_context(browser, app.url)
    try:
        from ._ui import create_number

        goto(page, "/connect")
        nid = create_number(page, school="Лицей", name="Без телефона")
        goto(page, f"/access?n={nid}", title=ACCESS)
        page.get_by_role("button", name="Test access").click()
        expect(alert(page, "The access key works; the number's state")).to_be_visible(timeout=15_000)
        page.get_by_role("button", name="Show the QR code").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Без телефона", timeout=15_000)
        wait_idle(page)
        assert f"n={nid}" in page.url
    finally:
        ctx.close()
