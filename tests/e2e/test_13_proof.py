"""Journey 13 — the demo proves a number's delivery: a linked number, "Check delivery now" on its page, and within
seconds "Delivery proven" (the simulated platform's ✓✓ for the check message, pushed to the console's webhook) on the
Number page and in the list."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from ._ui import goto, new_context, paired_number, shot

pytestmark = pytest.mark.e2e


def test_the_demo_proves_a_linked_numbers_delivery(browser, app):
    number = paired_number(browser, app, school="Школа", name="Доставка")
    ctx, page = new_context(browser, app.url, locale="en-GB", viewport={"width": 1366, "height": 900})
    try:
        goto(page, f"/number?n={number['id']}")
        button = page.get_by_role("button", name="Check delivery now")
        expect(button).to_be_visible(timeout=20_000)
        button.click()
        expect(page.get_by_text(re.compile(r"Delivery proven \d")).first).to_be_visible(timeout=30_000)
        expect(page.get_by_text(re.compile(r"Connected since .* · Delivery proven \d"))).to_be_visible()
        expect(page.get_by_text("Its check message reached the witness +7 999 000-00-00.")).to_be_visible()
        shot(page, "journey13-delivery-proven")
        goto(page, "/")
        expect(page.locator('[data-testid="stDataFrame"]')).to_be_visible(timeout=20_000)
        shot(page, "journey13-list")
    finally:
        ctx.close()
