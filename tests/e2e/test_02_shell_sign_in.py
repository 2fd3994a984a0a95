"""A sign-in that lasts the working day, in Chromium: F5, a second tab, a browser restart and a console restart keep
it; "Sign out" ends it in every tab of that browser; another browser is never signed in. The language follows the
browser and the switch; a name full of Markdown is shown as those characters and fetches nothing."""
from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from tests import harness

from ._ui import shot, wait_idle
from .conftest import app_process

pytestmark = pytest.mark.e2e

PASSWORD = "Correct-horse-7"
HOURS = 8
#: a staff member's and a number's name full of Markdown: an image from a host, a fake badge, a link, an autolink
EVIL = ("![x](http://127.0.0.1:9/t.png) :green-background[✅ Connected] [link](http://x) www.example.com "
        "desk@school.org")
NAV_RU = ["Номера", "Подключить номер", "Номер", "Доступ", "Отправить тестовое сообщение", "Журнал", "Настройки"]
OUTER = "e => (e.closest('[data-testid^=st]') || e).outerHTML.slice(0, 500)"
NAV_EN = ["Numbers", "Connect a number", "Number", "Access", "Send a test message", "Activity", "Settings"]


@pytest.fixture(scope="module")
def platform():
    from wpp.simulator import Simulator

    with Simulator() as sim:
        yield sim


@pytest.fixture(scope="module")
def console(platform, tmp_path_factory):
    """The console in real mode (the platform is a simulator in this process) with two staff accounts."""
    tmp = tmp_path_factory.mktemp("shell-sign-in")
    secrets = harness.staff_secrets(tmp / "secrets.toml", {"anna": PASSWORD, EVIL: PASSWORD},
                                    extra=f"WPP_SESSION_HOURS = {HOURS}")
    app = app_process("shell-sign-in", tmp / "data", WPP_BASE_URL=platform.base_url, WPP_SECRET=platform.secret,
                      WPP_SECRETS_FILE=str(secrets), WPP_POLL_SECONDS=1)
    app.seeded = harness.seed_numbers(platform.base_url, app.db_path, 1, name=EVIL, connected=1)
    app.start()
    yield app
    app.stop()


def literal(text: str) -> str:
    """What a person reads (the invisible word joiners that keep text from becoming a link do not count)."""
    return text.replace("\u2060", "")


def new_browser(browser, console, locale="en-GB", **kw):
    ctx = browser.new_context(base_url=console.url, locale=locale, timezone_id="Europe/Moscow",
                              viewport={"width": 1280, "height": 720}, **kw)
    ctx.set_default_timeout(20_000)
    return ctx


def password_field(page):
    return page.get_by_label(re.compile(r"^(Password|Пароль)$"))


def signed_in_as(page, name="anna"):
    shown = "\u2060?".join(re.escape(c) for c in name)  # word joiners may sit between the characters
    return page.locator('[data-testid="stSidebar"]').get_by_text(re.compile(r"(Signed in as|Вы вошли как) " + shown))


def sign_in(page, name="anna", password=PASSWORD):
    wait_idle(page)
    expect(password_field(page)).to_be_visible()
    page.get_by_label(re.compile(r"^(Name|Имя)$")).fill(name)
    password_field(page).fill(password)
    page.get_by_role("button", name=re.compile(r"^(Sign in|Войти)$")).click()
    expect(signed_in_as(page, name)).to_be_visible()
    wait_idle(page)
    wait_for_cookie(page.context)  # the page hands its one-time ticket over for the lasting cookie


def session_cookie(ctx):
    return next((c for c in ctx.cookies() if c["name"] == "wpp_session"), None)


def wait_for_cookie(ctx, present=True, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (session_cookie(ctx) is not None) == present:
            return session_cookie(ctx)
        time.sleep(0.2)
    raise AssertionError(f"the wpp_session cookie was {'never set' if present else 'not deleted'}")


def test_the_sign_in_lasts_through_f5_a_second_tab_and_restarts_but_not_sign_out(browser, console):
    ctx = new_browser(browser, console)
    page = ctx.new_page()
    page.goto("/send")  # a bookmark: after signing in, the person is on that page
    sign_in(page)
    assert "/send" in page.url
    cookie = wait_for_cookie(ctx)
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and cookie["path"] == "/"
    lifetime = cookie["expires"] - time.time()
    assert HOURS * 3600 - 300 < lifetime <= HOURS * 3600 + 5, "a persistent cookie for the working day"
    assert "anna" not in cookie["value"] and PASSWORD not in cookie["value"]

    page.reload()
    expect(signed_in_as(page)).to_be_visible()
    expect(password_field(page)).to_have_count(0)

    tab2 = ctx.new_page()
    tab2.goto("/activity")
    expect(signed_in_as(tab2)).to_be_visible()

    other = new_browser(browser, console)  # another browser on the same computer
    stranger = other.new_page()
    stranger.goto("/activity")
    wait_idle(stranger)
    expect(password_field(stranger)).to_be_visible()
    expect(signed_in_as(stranger)).to_have_count(0)

    saved = ctx.storage_state()  # what a browser keeps on disk across its own restart
    restarted_browser = new_browser(browser, console, storage_state=saved)
    again = restarted_browser.new_page()
    again.goto("/")
    expect(signed_in_as(again)).to_be_visible()
    restarted_browser.close()

    console.restart()  # the console restarts (same address, same data)
    page.reload()
    wait_idle(page, 60_000)
    expect(signed_in_as(page)).to_be_visible(timeout=60_000)
    tab2.reload()
    expect(signed_in_as(tab2)).to_be_visible(timeout=60_000)
    shot(page, "shell-signed-in-after-restart", full_page=False)

    page.locator('[data-testid="stSidebar"]').get_by_role("button", name="Sign out").click()
    expect(password_field(page)).to_be_visible()
    expect(page.get_by_text("You have signed out.")).to_be_visible()
    wait_for_cookie(ctx, present=False)
    # the other tab of this browser notices by itself within seconds
    expect(password_field(tab2)).to_be_visible(timeout=20_000)
    expect(signed_in_as(tab2)).to_have_count(0)
    page.reload()
    wait_idle(page)
    expect(password_field(page)).to_be_visible()
    # a copy of the cookie taken before "Sign out" opens nothing either: it was ended on the server
    thief = new_browser(browser, console, storage_state=saved)
    stolen = thief.new_page()
    stolen.goto("/")
    wait_idle(stolen)
    expect(password_field(stolen)).to_be_visible()
    expect(signed_in_as(stolen)).to_have_count(0)
    for c in (thief, other, ctx):
        c.close()


def test_a_russian_browser_gets_russian_and_the_switch_sticks_after_f5(browser, console):
    ctx = new_browser(browser, console, locale="ru-RU")
    page = ctx.new_page()
    page.goto("/")
    wait_idle(page)
    expect(page.get_by_role("heading", name="Войти")).to_be_visible()
    expect(page.get_by_label("Имя", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Войти")).to_be_visible()
    sign_in(page)
    side = page.locator('[data-testid="stSidebar"]')
    for label in NAV_RU:
        expect(side.get_by_role("link", name=label, exact=True)).to_be_visible()
    letters = [c for c in side.inner_text() if c.isalpha()]
    cyrillic = [c for c in letters if "а" <= c.lower() <= "я" or c.lower() == "ё"]
    assert len(cyrillic) >= 0.8 * len(letters), side.inner_text()
    shot(page, "shell-russian", full_page=False)

    side.get_by_text("English", exact=True).click()
    for label in NAV_EN:
        expect(side.get_by_role("link", name=label, exact=True)).to_be_visible()
    wait_idle(page)
    page.wait_for_function("() => document.cookie.includes('wpp_lang=en')")
    page.reload()
    wait_idle(page)
    side = page.locator('[data-testid="stSidebar"]')
    for label in NAV_EN:
        expect(side.get_by_role("link", name=label, exact=True)).to_be_visible()
    expect(side.get_by_text("Signed in as anna")).to_be_visible()

    side.get_by_text("Русский", exact=True).click()
    expect(side.get_by_role("link", name="Номера", exact=True)).to_be_visible()
    ctx.close()


def test_names_full_of_markdown_are_shown_as_text_and_fetch_nothing(browser, console):
    ctx = new_browser(browser, console)
    page = ctx.new_page()
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto("/")
    sign_in(page, EVIL)  # the staff member's own name is Markdown, too
    side = page.locator('[data-testid="stSidebar"]')
    assert EVIL in literal(side.inner_text()), side.inner_text()
    number_id = console.seeded[0]["id"]
    for path in ("/", f"/number?n={number_id}", f"/access?n={number_id}", f"/send?n={number_id}", "/activity"):
        page.goto(path)
        wait_idle(page)
        expect(signed_in_as(page, EVIL)).to_be_visible()
        page.wait_for_timeout(1000)
        wait_idle(page)
        assert page.locator('img[src*="127.0.0.1:9"]').count() == 0, f"{path}: the name became an image"
        links = page.locator('a[href^="http://x"], a[href*="127.0.0.1:9"], a[href*="example.com"], a[href^="mailto:"]')
        where = [link.evaluate(OUTER) for link in links.all()]
        assert not where, f"{path}: the name became a link in {where}"
        main = page.locator('[data-testid="stMain"]')
        assert main.locator('[data-testid="stMarkdownBadge"], span[class*="background"]').filter(
            has_text="Connected").count() == 0, f"{path}: a fake badge"
    page.goto(f"/number?n={number_id}")
    wait_idle(page)
    heading = page.get_by_role("heading", level=1)
    expect(heading.first).to_be_visible()
    assert "![x](http://127.0.0.1:9/t.png)" in literal(heading.first.inner_text()), heading.first.inner_text()
    shot(page, "shell-markdown-name-literal", full_page=False)
    assert not [u for u in requested if u.startswith(("http://127.0.0.1:9/", "http://x", "http://www.example.com"))], \
        [u for u in requested if "127.0.0.1:9/" in u or "example.com" in u]
    ctx.close()


def test_old_and_unknown_addresses_open_a_page_in_the_staff_language(browser, console):
    ctx = new_browser(browser, console, locale="ru-RU")
    page = ctx.new_page()
    page.goto("/")
    sign_in(page)
    page.goto("/tokens?n=" + console.seeded[0]["id"])  # a bookmark of the former "Tokens" page
    wait_idle(page)
    expect(page).to_have_url(re.compile(r"/access\?n="))
    expect(page.locator('[data-testid="stSidebar"]').get_by_role("link", name="Доступ", exact=True)).to_be_visible()
    for path in ("/no-such-page", "/numbers"):
        page.goto(path)
        wait_idle(page)
        page.wait_for_timeout(500)
        text = page.locator("body").inner_text()
        assert "Running the app's main page" not in text and "does not seem to exist" not in text, \
            f"{path}: Streamlit's own English dialog"
    page.goto("/no-such-page")
    wait_idle(page)
    expect(page.get_by_role("heading", name="Страница не найдена")).to_be_visible()
    page.get_by_role("link", name="Открыть список номеров").click()
    expect(page).to_have_url(re.compile(r"/$"))
    ctx.close()
