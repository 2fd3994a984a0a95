"""Journey 1 — pairing: create a number, scan the QR code shown on the screen, see "connected" by itself.

The QR is read back from a screenshot (zxing-cpp), so what is tested is what a phone camera would see.
"""
from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from ._ui import (
    QR_ALT,
    assert_no_python_errors,
    create_number,
    goto,
    main_text,
    nav,
    qr_on_screen,
    shot,
    wait_for_qr_text,
    wait_idle,
)

pytestmark = pytest.mark.e2e


def test_pair_by_scanning_the_qr_on_screen_then_a_second_number_after_rotation(page, app, shared):
    org = str(uuid.uuid4())
    goto(page, "/", title="📋 WhatsApp numbers")
    nav(page, "Connect a number", "➕ Connect a WhatsApp number")

    # --- first number ---------------------------------------------------------------------------
    session = create_number(page, name="Front desk", org=org)
    accounts = {a["session"]: a for a in app.sim_json("GET", "/_sim/accounts")["accounts"]}
    assert accounts[session]["organizationId"] == org

    text = qr_on_screen(page, "journey1-qr-first-number")
    assert text == app.sim_json("GET", f"/_sim/accounts/{session}/qr-text")["qr"], \
        "the QR on the screen is not the platform's current one"
    r = app.sim("POST", f"/_sim/accounts/{session}/scan", json={"qr": text})
    assert r.status_code == 200, r.text

    # nobody touches the page: it must notice by itself
    expect(page.get_by_text("The phone is connected")).to_be_visible(timeout=15_000)
    expect(page.get_by_role("img", name=QR_ALT)).to_have_count(0)
    assert_no_python_errors(page, "Connect (first number connected)")
    shot(page, "journey1-first-number-connected")
    shared["first"] = {"session": session, "org": org, "name": "Front desk"}

    # --- a second number of the same organisation; the platform rotates its QR before the scan ----
    page.get_by_role("button", name="Connect another number").click()
    expect(page.get_by_role("button", name="Create and show the QR code")).to_be_visible()
    wait_idle(page)
    # the organisation is now in the list and chosen by default
    expect(page.get_by_role("combobox", name="Organisation", exact=True)).to_have_value(org)
    session2 = create_number(page, name="Back office", org=None)
    assert session2 != session, "the second number got the first number's session"
    assert {a["session"] for a in app.sim_json("GET", "/_sim/accounts")["accounts"]} >= {session, session2}

    before = qr_on_screen(page, "journey1-qr-second-number-before-rotation")
    assert before == app.sim_json("GET", f"/_sim/accounts/{session2}/qr-text")["qr"], \
        "the QR on the screen is not the second number's current QR (was it the first number's?)"
    rotated = app.sim_json("POST", f"/_sim/accounts/{session2}/rotate")["qr"]
    assert rotated and rotated != before
    after = wait_for_qr_text(page, "journey1-qr-second-number-after-rotation", rotated, timeout=20)
    assert after != before
    assert after == app.sim_json("GET", f"/_sim/accounts/{session2}/qr-text")["qr"]

    # the old code no longer pairs; the one on the screen does
    assert app.sim("POST", f"/_sim/accounts/{session2}/scan", json={"qr": before}).status_code == 409
    r = app.sim("POST", f"/_sim/accounts/{session2}/scan", json={"qr": after})
    assert r.status_code == 200, r.text
    expect(page.get_by_text("The phone is connected")).to_be_visible(timeout=15_000)
    assert "Back office" in main_text(page)
    assert_no_python_errors(page, "Connect (second number connected)")
    shot(page, "journey1-second-number-connected")
    shared["second"] = {"session": session2, "org": org, "name": "Back office"}
