"""Journey 10 — a school that is not in the list yet is added by its name, once, while connecting its first number
(issue 12: where the school platform has no table of schools, staff name a school when they add its first number).
Its id is never asked for; an id typed in the "advanced" field by mistake is refused in words and nothing is saved.
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from ._ui import assert_no_python_errors, assert_no_uuid, goto, new_context, stored_rows, wait_for_number_in_address, \
    wait_idle

pytestmark = pytest.mark.e2e

CONNECT = re.compile(r"Connect a number")
NEW_SCHOOL = "Гимназия Зелёный Сад"  # nothing in the demo's list looks like it


def type_new_school(page, name: str) -> None:
    box = page.get_by_role("combobox", name="School", exact=True)
    box.click()
    box.fill(name)
    page.get_by_role("option").filter(has_text=name).first.click()  # "Add: <name>", offered first
    page.wait_for_timeout(300)
    wait_idle(page)


def test_a_new_school_is_added_by_name_and_its_number_created_without_any_id(browser, app):
    ctx, page = new_context(browser, app.url)
    try:
        goto(page, "/connect", title=CONNECT)
        before = {r["organization_id"] for r in stored_rows(app.db_path)}
        type_new_school(page, NEW_SCHOOL)
        expect(page.locator('[data-testid="stMain"]')).to_contain_text("is a new school")
        # an id typed by mistake in the advanced field: refused in words, nothing saved
        page.get_by_text("Advanced: the school's id").click()
        field = page.get_by_label("School id on the school platform (optional)", exact=True)
        field.fill("../internal")
        field.press("Tab")
        page.get_by_role("button", name="Create and show the QR code").click()
        expect(page.locator('[data-testid="stAlertContentError"]').first).to_contain_text("is not an organisation id",
                                                                                        timeout=20_000)
        assert {r["organization_id"] for r in stored_rows(app.db_path)} == before
        assert_no_python_errors(page, "Connect, bad school id")
        # the same school, without an id: created, and its number named "Main number" by default
        field.fill("")
        field.press("Tab")
        wait_idle(page)
        page.get_by_role("button", name="Create and show the QR code").click()
        nid = wait_for_number_in_address(page)
        row = next(r for r in stored_rows(app.db_path) if r["id"] == nid)
        assert row["organization_id"] not in before
        main = page.locator('[data-testid="stMain"]')
        expect(main).to_contain_text(f"{NEW_SCHOOL} · Main number", timeout=20_000)
        assert_no_uuid(page, "Connect, new school")
        # the school is in the list from now on, by its name
        goto(page, "/connect", title=CONNECT)
        box = page.get_by_role("combobox", name="School", exact=True)
        box.click()
        box.fill("Зелёный")
        expect(page.get_by_role("option").filter(has_text=NEW_SCHOOL).filter(
            has_not_text=re.compile(r"^Add: "))).to_have_count(1)
    finally:
        ctx.close()
