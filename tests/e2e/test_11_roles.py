"""Who may do what, in Chromium (issue 19): an operator of one school (a Russian browser) and an administrator of
every school (an English browser) use one console at the same time. They see different lists, sidebar counts and
diaries; the operator's bookmark of the other school's number opens the "unknown number" page, with nothing about
that number on it."""
from __future__ import annotations

import json
import re

import httpx
import pytest
from playwright.sync_api import expect

from tests import harness

from ._ui import assert_no_python_errors, goto, main_text, shot, wait_idle
from .conftest import app_process

pytestmark = pytest.mark.e2e

PASSWORD = "Correct-horse-7"
SCHOOL_A, SCHOOL_B = "Школа Альфа", "Гимназия Бета"
NUMBER_A, NUMBER_B = "Ресепшн Альфа", "Секретарь Бета"


@pytest.fixture(scope="module")
def platform():
    from wpp.simulator import Simulator

    with Simulator() as sim:
        yield sim


@pytest.fixture(scope="module")
def console(platform, tmp_path_factory):
    from wpp.access import hash_password
    from wpp.store.sqlite import SqliteStore

    tmp = tmp_path_factory.mktemp("roles")
    app = app_process("roles", tmp / "data", WPP_BASE_URL=platform.base_url, WPP_SECRET=platform.secret,
                      WPP_POLL_SECONDS=1, WPP_POLL_OFFLINE_SECONDS=2, WPP_POLL_CONNECTED_SECONDS=2)
    a, b = harness.seed_numbers(platform.base_url, app.db_path, 2, name="x{i}", connected=1)
    store = SqliteStore(str(app.db_path))
    try:
        store.add_organization(SCHOOL_A, a["org"])
        store.add_organization(SCHOOL_B, b["org"])
        store.update(a["id"], name=NUMBER_A)
        store.update(b["id"], name=NUMBER_B)
    finally:
        store.close()
    # B's phone dropped: it needs attention, but only B's people (and the administrator) count it
    with httpx.Client(base_url=platform.base_url, timeout=10) as http:
        http.post(f"/_sim/accounts/{b['session']}/status", json={"state": "offline"}).raise_for_status()
    secrets = tmp / "secrets.toml"
    h = hash_password(PASSWORD)
    secrets.write_text(
        f'[staff.anna]\npassword = {json.dumps(h)}\nrole = "administrator"\nschools = "*"\n\n'
        f'[staff.olga]\npassword = {json.dumps(h)}\nrole = "operator"\nschools = [{json.dumps(a["org"])}]\n',
        encoding="utf-8")
    app.extra_env["WPP_SECRETS_FILE"] = str(secrets)
    app.a, app.b = a, b
    app.start()
    yield app
    app.stop()


def browser_of(browser, console, locale):
    ctx = browser.new_context(base_url=console.url, locale=locale, timezone_id="Europe/Moscow",
                              viewport={"width": 1280, "height": 720})
    ctx.set_default_timeout(30_000)
    return ctx, ctx.new_page()


def sign_in(page, name):
    wait_idle(page)
    page.get_by_label(re.compile(r"^(Name|Имя)$")).fill(name)
    page.get_by_label(re.compile(r"^(Password|Пароль)$")).fill(PASSWORD)
    page.get_by_role("button", name=re.compile(r"^(Sign in|Войти)$")).click()
    sidebar = page.locator('[data-testid="stSidebar"]')
    expect(sidebar.get_by_text(re.compile(r"(Signed in as|Вы вошли как)"))).to_be_visible()
    wait_idle(page)


def rows(page) -> str:
    """The Numbers grid's rows as text (the grid draws on a canvas; its accessible rows carry the text)."""
    grid = page.locator('[data-testid="stDataFrame"]').first
    expect(grid).to_be_visible(timeout=60_000)
    return "\n".join(grid.locator('[role="row"]').all_inner_texts())


def wait_rows(page, wanted: str, timeout: float = 60.0) -> str:
    import time

    deadline = time.monotonic() + timeout
    while True:
        text = rows(page)
        if wanted in text or time.monotonic() > deadline:
            return text
        time.sleep(0.5)


def sidebar_text(page) -> str:
    return page.locator('[data-testid="stSidebar"]').inner_text()


def test_an_operator_and_an_administrator_see_their_own_console(browser, console):
    olga_ctx, olga = browser_of(browser, console, "ru-RU")
    anna_ctx, anna = browser_of(browser, console, "en-GB")
    try:
        goto(olga, "/")
        sign_in(olga, "olga")
        goto(anna, "/")
        sign_in(anna, "anna")

        # the lists: Olga's school only; Anna every school
        anna_rows, olga_rows = wait_rows(anna, NUMBER_B), wait_rows(olga, NUMBER_A)
        assert NUMBER_A in anna_rows and NUMBER_B in anna_rows
        assert NUMBER_A in olga_rows and SCHOOL_A in olga_rows
        assert NUMBER_B not in olga_rows and SCHOOL_B not in olga_rows and SCHOOL_B not in main_text(olga)
        # the sidebar counts: B's dropped number is Anna's business, not Olga's
        expect(anna.locator('[data-testid="stSidebar"]').get_by_text(re.compile(r"Needs attention: 1"))).to_be_visible(
            timeout=60_000)
        assert "оператор: Школа Альфа" in sidebar_text(olga) and "Требует внимания" not in sidebar_text(olga)
        assert "administrator of every school" in sidebar_text(anna)
        # the menu: no Settings for an operator
        expect(olga.locator('[data-testid="stSidebarNav"]').get_by_text("Настройки")).to_have_count(0)
        expect(anna.locator('[data-testid="stSidebarNav"]').get_by_text("Settings")).to_have_count(1)
        shot(olga, "roles-operator-numbers-ru")

        # the operator's bookmark of B's number: the unknown-number page, nothing about B
        goto(olga, f"/number?n={console.b['id']}")
        expect(olga.get_by_text("Этого номера больше нет").first).to_be_visible()
        page_text = olga.locator("body").inner_text()
        assert NUMBER_B not in page_text and SCHOOL_B not in page_text and console.b["session"] not in page_text
        assert_no_python_errors(olga, "operator on another school's number")
        shot(olga, "roles-operator-other-school-number-ru")
        # the same page for a number that never existed reads the same
        goto(olga, "/number?n=11111111-2222-4333-8444-555555555555")
        expect(olga.get_by_text("Этого номера больше нет").first).to_be_visible()

        # the diaries: Anna sees B's school; Olga only hers
        goto(anna, "/activity")
        expect(anna.get_by_text(re.compile("Signed in")).first).to_be_visible()
        goto(olga, "/activity")
        wait_idle(olga)
        diary = main_text(olga)
        assert SCHOOL_B not in diary and NUMBER_B not in diary
        assert "Вход в консоль" not in diary, "sign-ins (no school) are for administrators of every school"
    finally:
        olga_ctx.close()
        anna_ctx.close()
