"""Journey 1 — linking a phone as a receptionist does it, on a small laptop screen (1280×720).

The QR code is read back from a screenshot of the screen (zxing-cpp), so what is tested is what a phone camera
pointed at the screen would see; the "phone" then scans it on the simulated platform, which keeps one client per
organizationId like the real one.
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from ._ui import (
    LINKED,
    QR_ALT,
    SCHOOL,
    assert_no_python_errors,
    assert_no_uuid,
    assert_qr_above_the_fold,
    create_number,
    goto,
    new_context,
    number_id,
    qr_image,
    qr_on_screen,
    session_of,
    shot,
    stored_rows,
    wait_for_number_in_address,
    wait_for_qr_text,
    wait_idle,
)

pytestmark = pytest.mark.e2e

CONNECT = re.compile(r"Connect a number")


def platform_qr(app, session: str) -> str:
    return app.sim_json("GET", f"/_sim/accounts/{session}/qr-text")["qr"]


def scan(app, session: str, text: str):
    return app.sim("POST", f"/_sim/accounts/{session}/scan", json={"qr": text})


def test_pair_by_scanning_the_qr_on_screen_then_send_is_one_click_away(browser, app):
    ctx, page = new_context(browser, app.url)
    try:
        goto(page, "/connect", title=CONNECT)
        assert_no_uuid(page, "Connect (empty form)")
        nid = create_number(page, name="Ресепшн")  # the school is picked by name; nothing else is typed
        session = session_of(app.db_path, nid)
        assert_qr_above_the_fold(page, "Connect")
        text = qr_on_screen(page, "journey1-connect-qr")
        assert text == platform_qr(app, session), "the QR on the screen is not the platform's current one"
        expect(page.get_by_role("heading", level=1)).to_contain_text("Connect a number")
        assert f"{SCHOOL} · Ресепшн" in page.locator('[data-testid="stMain"]').inner_text()
        assert_no_uuid(page, "Connect (QR)")
        assert scan(app, session, text).status_code == 200

        # nobody touches the page: it notices by itself, and the next step is one click away
        expect(page.get_by_text(LINKED)).to_be_visible(timeout=15_000)
        expect(qr_image(page)).to_have_count(0)
        assert_no_python_errors(page, "Connect (connected)")
        shot(page, "journey1-connected")
        page.get_by_role("button", name="Send a test message").click()
        expect(page.get_by_role("heading", level=1, name=re.compile("Send a test message"))).to_be_visible()
        assert number_id(page) == nid, page.url
    finally:
        ctx.close()


def test_f5_keeps_the_qr_and_makes_no_second_number(browser, app):
    ctx, page = new_context(browser, app.url)
    try:
        goto(page, "/connect", title=CONNECT)
        before = len(stored_rows(app.db_path))
        nid = create_number(page, school="Гимназия № 1", name="Канцелярия")
        session = session_of(app.db_path, nid)
        clients = app.sim_json("GET", "/_sim/stats")["clients_created"]
        first = qr_on_screen(page, "journey1-f5-before")
        page.reload()
        wait_idle(page)
        assert number_id(page) == nid
        again = wait_for_qr_text(page, "journey1-f5-after", platform_qr(app, session))
        assert again == first == platform_qr(app, session)
        assert len(stored_rows(app.db_path)) == before + 1, "F5 made a second number"
        assert app.sim_json("GET", "/_sim/stats")["clients_created"] == clients
        assert_qr_above_the_fold(page, "Connect after F5")
    finally:
        ctx.close()


def test_f5_while_the_number_is_being_created_finishes_that_number(browser, app):
    """The request id is in the address before the platform is asked: a reload during the wait finds the same
    number and never makes a second one."""
    ctx, page = new_context(browser, app.url)
    app.sim_json("POST", "/_sim/knobs", json={"latency_s": 1.5})
    try:
        goto(page, "/connect", title=CONNECT)
        before = len(stored_rows(app.db_path))
        from ._ui import select_option

        select_option(page, "School", "Лицей")
        page.get_by_role("button", name="Create and show the QR code").click()
        page.wait_for_url(re.compile(r"[?&]req="), timeout=20_000)
        page.reload()  # F5 while the platform is still answering
        wait_idle(page, timeout=60_000)
        nid = wait_for_number_in_address(page)
        app.sim_json("POST", "/_sim/knobs", json={"latency_s": 0})
        expect(qr_image(page)).to_be_visible(timeout=40_000)
        rows = stored_rows(app.db_path)
        assert len(rows) == before + 1, f"F5 during create made {len(rows) - before} numbers"
        assert nid in {r["id"] for r in rows}
        assert_no_python_errors(page, "Connect (F5 during create)")
    finally:
        app.sim_json("POST", "/_sim/knobs", json={"latency_s": 0})
        ctx.close()


def test_a_bookmarked_number_opens_that_number_with_its_qr_above_the_fold(browser, app):
    ctx, page = new_context(browser, app.url)
    try:
        goto(page, "/connect", title=CONNECT)
        first = create_number(page, school="Языковая", name="Первый")
        page.get_by_role("button", name="Connect another number").click()
        wait_idle(page)
        second = create_number(page, school="Языковая", name="Второй")
        assert first != second
    finally:
        ctx.close()
    # a bookmark, opened in a new browser (nothing but the address is known)
    ctx, page = new_context(browser, app.url)
    try:
        goto(page, f"/number?n={second}", title=re.compile("Второй"))
        expect(page.get_by_role("heading", level=1)).to_contain_text("Языковая школа «Полиглот» · Второй")
        assert_qr_above_the_fold(page, "Number")
        session = session_of(app.db_path, second)
        assert wait_for_qr_text(page, "journey1-bookmark-qr", platform_qr(app, session))
        assert session != session_of(app.db_path, first)
        assert_no_uuid(page, "Number")
        shot(page, "journey1-bookmarked-number")
    finally:
        ctx.close()


def test_remove_then_a_new_number_for_the_same_school_gets_a_fresh_qr_not_connected(browser, app):
    ctx, page = new_context(browser, app.url, viewport={"width": 1400, "height": 1000})
    try:
        goto(page, "/connect", title=CONNECT)
        old = create_number(page, school="Гимназия", name="Старый телефон")
        old_session = session_of(app.db_path, old)
        assert scan(app, old_session, qr_on_screen(page, "journey1-remove-old-qr")).status_code == 200
        expect(page.get_by_text(LINKED)).to_be_visible(timeout=15_000)

        # remove it (it stays linked on the platform)
        goto(page, f"/number?n={old}", title=re.compile("Старый телефон"))
        page.get_by_role("button", name="Remove").click()
        dialog = page.get_by_role("dialog")
        expect(dialog).to_contain_text("stays linked on the WhatsApp platform")
        dialog.get_by_role("button", name="Remove", exact=True).click()
        expect(page.get_by_text("was removed from the list").first).to_be_visible()
        assert app.sim_json("GET", "/_sim/accounts")  # the platform still has it, linked

        # a new number for the same school
        goto(page, "/connect", title=CONNECT)
        new = create_number(page, school="Гимназия", name="Новый телефон")
        new_session = session_of(app.db_path, new)
        assert new_session != old_session, "the new number got the removed number's platform account"
        for _ in range(10):  # it must never say "linked" before a scan
            assert page.get_by_text(LINKED).count() == 0, "a new number was shown as linked before any scan"
            assert page.get_by_text("already linked").count() == 0
            page.wait_for_timeout(300)
        text = wait_for_qr_text(page, "journey1-remove-new-qr", platform_qr(app, new_session))
        assert scan(app, new_session, text).status_code == 200
        expect(page.get_by_text(LINKED)).to_be_visible(timeout=15_000)

        # and the removed one can be restored from the Removed numbers view
        goto(page, "/?view=removed", title=re.compile("WhatsApp numbers"))
        expect(page.get_by_text("Старый телефон")).to_be_visible()
        page.get_by_role("button", name="Restore").first.click()
        expect(page.get_by_text("is back in the list")).to_be_visible()
        assert_no_python_errors(page, "Numbers (restored)")
    finally:
        ctx.close()


def test_the_demo_needs_no_id_and_no_page_shows_a_uuid(browser, app):
    ctx, page = new_context(browser, app.url, viewport={"width": 1400, "height": 1000})
    try:
        goto(page, "/connect", title=CONNECT)
        expect(page.get_by_role("textbox", name=re.compile("id", re.I))).to_have_count(0)
        nid = create_number(page, school="Школа", name=None)  # the default name is kept
        expect(page.get_by_role("img", name=QR_ALT)).to_be_visible()
        for path, title in (("/", "WhatsApp numbers"), (f"/number?n={nid}", "Школа № 5"),
                            (f"/send?n={nid}", "Send a test message"), (f"/access?n={nid}", "Access"),
                            ("/activity", "Activity"), ("/settings", "Settings"), (f"/connect?n={nid}", "Connect")):
            goto(page, path, title=re.compile(re.escape(title)))
            page.wait_for_timeout(500)
            assert_no_uuid(page, path)
            assert_no_python_errors(page, path)
    finally:
        ctx.close()
