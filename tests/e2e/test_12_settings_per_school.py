"""Roles hold at the edges, in Chromium (issue 24): the administrator of one school opens Settings and sees what
concerns her school (its alert recipient, its number's webhook), never another school's address, those told about
every school, the console's staff or its mail server's login — and the administrator of every school, at the same
time, sees all of it."""
from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from tests import harness

from ._ui import assert_no_python_errors, goto, main_text, shot, wait_idle
from .conftest import app_process

pytestmark = pytest.mark.e2e

PASSWORD = "Correct-horse-7"
SCHOOL_A, SCHOOL_B = "Школа Альфа", "Гимназия Бета"
NUMBER_A, NUMBER_B = "Ресепшн Альфа", "Секретарь Бета"
SUPPORT, DIRECTOR_A, DIRECTOR_B = "support@wpp.example", "director@school-a.ru", "director@gymnasium-b.ru"
SMTP_LOGIN = "smtp-login@console.example"


@pytest.fixture(scope="module")
def platform():
    from wpp.simulator import Simulator

    with Simulator() as sim:
        yield sim


@pytest.fixture(scope="module")
def console(platform, tmp_path_factory):
    from wpp.access import hash_password
    from wpp.store.sqlite import SqliteStore

    tmp = tmp_path_factory.mktemp("settings-per-school")
    app = app_process("settings-per-school", tmp / "data", WPP_BASE_URL=platform.base_url,
                      WPP_SECRET=platform.secret, WPP_POLL_SECONDS=1, WPP_POLL_OFFLINE_SECONDS=2,
                      WPP_POLL_CONNECTED_SECONDS=2)
    a, b = harness.seed_numbers(platform.base_url, app.db_path, 2, name="x{i}", connected=2)
    store = SqliteStore(str(app.db_path))
    try:
        store.add_organization(SCHOOL_A, a["org"])
        store.add_organization(SCHOOL_B, b["org"])
        store.update(a["id"], name=NUMBER_A)
        store.update(b["id"], name=NUMBER_B)
    finally:
        store.close()
    h = json.dumps(hash_password(PASSWORD))
    secrets = tmp / "secrets.toml"
    secrets.write_text(
        # a mail server nobody listens on: nothing is sent during the journey (no number is down for 10 minutes)
        f'WPP_SMTP_HOST = "127.0.0.1"\nWPP_SMTP_PORT = 9\nWPP_SMTP_FROM = "console@school.example"\n'
        f'WPP_SMTP_USER = "{SMTP_LOGIN}"\nWPP_SMTP_PASSWORD = "smtp-Pa55word-very-secret"\n\n'
        f'[WPP_ALERT_RECIPIENTS]\n"*" = ["{SUPPORT}"]\n"{a["org"]}" = ["{DIRECTOR_A}"]\n'
        f'"{b["org"]}" = ["{DIRECTOR_B}"]\n\n'
        f'[staff.anna]\npassword = {h}\nrole = "administrator"\nschools = "*"\n\n'
        f'[staff.maria]\npassword = {h}\nrole = "administrator"\nschools = [{json.dumps(a["org"])}]\n',
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
    expect(page.locator('[data-testid="stSidebar"]').get_by_text(re.compile(r"(Signed in as|Вы вошли как)"))
           ).to_be_visible()
    wait_idle(page)


def grids(page) -> str:
    """Every table on the page as text (the grids draw on a canvas; their accessible rows carry the text)."""
    return "\n".join(page.locator('[data-testid="stDataFrame"] [role="row"]').all_inner_texts())


def test_an_administrator_of_one_school_sees_no_other_schools_address_on_settings(browser, console):
    maria_ctx, maria = browser_of(browser, console, "ru-RU")
    anna_ctx, anna = browser_of(browser, console, "en-GB")
    try:
        goto(maria, "/")
        sign_in(maria, "maria")
        goto(anna, "/")
        sign_in(anna, "anna")

        # the menu offers Settings to both: hers is her school's part of it
        expect(maria.locator('[data-testid="stSidebarNav"]').get_by_text("Настройки")).to_have_count(1)
        goto(maria, "/settings", title=re.compile("Настройки"))
        expect(maria.get_by_text(re.compile("Кому сообщают о сбое номера|Who is told when a number drops")).first
               ).to_be_visible()
        expect(maria.locator('[data-testid="stDataFrame"]').first).to_be_visible()
        maria.wait_for_timeout(500)  # the grids draw their rows
        seen = main_text(maria) + "\n" + grids(maria)
        assert DIRECTOR_A in seen and NUMBER_A in seen, seen[:2000]
        for other in (DIRECTOR_B, SUPPORT, SMTP_LOGIN, "anna", SCHOOL_B, NUMBER_B, "WPP_"):
            assert other not in seen, f"the administrator of {SCHOOL_A} read {other!r} on Settings"
        assert "@" not in seen.replace(DIRECTOR_A, ""), "an address other than her school's own was shown"
        assert_no_python_errors(maria, "Settings of an administrator of one school")
        shot(maria, "settings-administrator-of-one-school-ru")

        # the administrator of every school: everyone's, and the console's own settings
        goto(anna, "/settings", title=re.compile("Settings"))
        expect(anna.get_by_text(SUPPORT).or_(anna.locator('[data-testid="stDataFrame"]')).first).to_be_visible()
        anna.wait_for_timeout(500)
        everything = main_text(anna) + "\n" + grids(anna)
        for address in (SUPPORT, DIRECTOR_A, DIRECTOR_B, SMTP_LOGIN):
            assert address in everything, f"the administrator of every school did not see {address!r}"
        shot(anna, "settings-administrator-of-every-school-en")
    finally:
        maria_ctx.close()
        anna_ctx.close()
