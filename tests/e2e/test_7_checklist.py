"""Journey 7 — "Why is there no QR code?": a platform that never offers a QR code (it stays "starting") is
explained in plain words, each step with a tick or the one thing to do and its button."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from ._ui import assert_no_python_errors, create_number, goto, new_context, qr_image, shot

pytestmark = pytest.mark.e2e


def test_the_checklist_explains_a_platform_that_never_offers_a_qr(browser, app):
    app.sim_json("POST", "/_sim/knobs", json={"starting_s": 3600})
    ctx, page = new_context(browser, app.url, viewport={"width": 1400, "height": 1000})
    try:
        goto(page, "/connect", title=re.compile("Connect a number"))
        create_number(page, school="Гимназия", name="Без QR")
        expect(page.get_by_text("Why is there no QR code?")).to_be_visible(timeout=30_000)
        expect(qr_image(page)).to_have_count(0)
        main = page.locator('[data-testid="stMain"]')
        expect(main).to_contain_text("✅ The platform answers")
        expect(main).to_contain_text("✅ The platform accepts the number's permanent key")
        expect(main).to_contain_text("✅ The platform accepts the number's access key")
        expect(main).to_contain_text("❌ The platform offers no QR code")  # the problem said as a fact
        expect(main).not_to_contain_text("❌ The platform offers a QR code")  # never "❌ <what must hold>"
        expect(main).to_contain_text("still starting")
        expect(page.get_by_role("button", name="Show a new QR code")).to_be_visible()
        assert_no_python_errors(page, "Connect (no QR)")
        shot(page, "journey7-why-no-qr", full_page=True)

        # the platform gets going: the button brings the QR code
        app.sim_json("POST", "/_sim/knobs", json={"starting_s": 0})
        page.get_by_role("button", name="Show a new QR code").first.click()
        expect(qr_image(page)).to_be_visible(timeout=30_000)
        expect(page.get_by_text("Why is there no QR code?")).to_have_count(0)
    finally:
        app.sim_json("POST", "/_sim/knobs", json={"starting_s": 1.0})
        ctx.close()
