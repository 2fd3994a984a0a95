"""The gate right after a fresh start, in Chromium: many browsers at once on every address get the sign-in form and
nothing else; a broken settings file stops the console with its line, never the demo."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests import harness

from ._ui import shot, wait_idle
from .conftest import app_process

pytestmark = pytest.mark.e2e

PASSWORD = "Correct-horse-7"
#: every address a bookmark can hold (the old /tokens too) and one nobody made
SLUGS = ["/", "/numbers", "/connect", "/number", "/tokens", "/access", "/send", "/activity", "/settings",
         "/no-such-page"]
BROWSERS_PER_SLUG = 2
SECRET_NAME = "Secret desk"


def sign_in_form(page):
    return page.get_by_label(re.compile(r"^(Password|Пароль)$"))


def test_unsigned_first_requests_at_once_after_a_fresh_start_get_only_the_sign_in_form(browser, tmp_path):
    from wpp.simulator import Simulator

    with Simulator() as sim:
        secrets = harness.staff_secrets(tmp_path / "secrets.toml", {"anna": PASSWORD})
        app = app_process("shell-gate-race", tmp_path / "data", WPP_BASE_URL=sim.base_url, WPP_SECRET=sim.secret,
                          WPP_SECRETS_FILE=str(secrets), WPP_POLL_SECONDS=1)
        seeded = harness.seed_numbers(sim.base_url, app.db_path, 2, name=SECRET_NAME + " {i}", connected=1)
        sessions = [s["session"] for s in seeded]
        contexts = []
        try:
            app.start()  # nothing has run a page yet: Streamlit is in its legacy pages-folder mode
            visits = []
            for slug in SLUGS:
                for n in range(BROWSERS_PER_SLUG):
                    ctx = browser.new_context(base_url=app.url, locale="en-GB" if n % 2 == 0 else "ru-RU",
                                              viewport={"width": 1280, "height": 720})
                    ctx.set_default_timeout(30_000)
                    contexts.append(ctx)
                    visits.append((slug, ctx.new_page()))
            # every browser asks at the same moment (navigation starts; nothing waits for the page)
            for slug, page in visits:
                page.goto(slug, wait_until="commit")
            for slug, page in visits:
                wait_idle(page, 30_000)
                expect(sign_in_form(page)).to_be_visible(timeout=30_000)
            # time for a page that got through to read and draw, and for any timer it started
            visits[0][1].wait_for_timeout(2000)
            for slug, page in visits:
                wait_idle(page, 30_000)
                text = page.locator("body").inner_text()
                where = f"{slug} ({page.context.pages[0].url})"
                assert SECRET_NAME not in text, f"{where}: a number's name was shown before sign-in"
                for session in sessions:
                    assert session not in text, f"{where}: a platform session was shown"
                assert not re.search(r"Signed in as|Вы вошли как", text), where
                assert page.locator('[data-testid="stDataFrame"]').count() == 0, where
                assert page.locator('[data-testid="stMetric"]').count() == 0, where
                assert page.locator('[data-testid="stImage"]').count() == 0, where
                nav = page.locator('[data-testid="stSidebarNav"]')
                assert nav.count() == 0 or nav.get_by_role("link").count() == 0, \
                    f"{where}: navigation links are shown before sign-in: {nav.inner_text()!r}"
                assert page.locator('[data-testid="stException"]').count() == 0, where
                assert page.get_by_text("Page not found", exact=True).count() == 0, f"{where}: Streamlit's own English dialog"
            shot(visits[0][1], "shell-race-sign-in-only")
            assert "Traceback" not in app.log_tail(100_000)
        finally:
            for ctx in contexts:
                ctx.close()
            app.stop()


def test_a_broken_settings_file_stops_the_console_with_its_line_and_never_starts_the_demo(browser, tmp_path):
    broken = tmp_path / "secrets.toml"
    broken.write_text('WPP_BASE_URL = "http://127.0.0.1:9"\n[staff\nanna = "x"\n', encoding="utf-8")
    app = app_process("shell-broken-secrets", tmp_path / "data", WPP_SECRETS_FILE=str(broken)).start()
    try:
        for locale, heading in (("en-GB", "The console cannot start"), ("ru-RU", "Консоль не может запуститься")):
            ctx = browser.new_context(base_url=app.url, locale=locale)
            page = ctx.new_page()
            for slug in ("/", "/access", "/settings"):
                page.goto(slug)
                wait_idle(page)
                expect(page.get_by_text(heading)).to_be_visible()
                text = page.locator('[data-testid="stMain"]').inner_text()
                assert str(broken) in text, text
                assert re.search(r"line 2|строка 2|Строка: 2", text, re.I), text
                assert not re.search(r"Demo|Демо", page.locator("body").inner_text())
                expect(sign_in_form(page)).to_have_count(0)
            shot(page, f"shell-broken-secrets-{locale}")
            ctx.close()
        with pytest.raises(RuntimeError):
            app.wait_simulator(timeout=2)  # the demo's simulated platform never started
    finally:
        app.stop()
