"""End-to-end fixtures: a real ``streamlit run`` of the app (as README.md starts it) and Debian's Chromium.

* ``browser`` (session): Chromium through Playwright's sync API. A missing Chromium FAILS the run, never skips.
* ``app`` (session): one app process with its embedded simulator, shared by the journeys 1-4.
* ``app_process`` starts another one, for journeys that need their own data directory.

Artefacts (screenshots, server logs) go to ``test-artifacts/e2e/`` in the repo root; its absolute path is printed
in the terminal summary of every run.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests import harness

REPO = harness.REPO
ARTEFACTS = REPO / "test-artifacts" / "e2e"
#: text that must never be in front of staff
PYTHON_ERROR_PATTERNS = (
    re.compile(r"Traceback"),
    re.compile(r"httpx", re.I),
    re.compile(r"\b[A-Z][A-Za-z]*(Error|Exception): "),  # "ConnectError: ...", "KeyError: ..."
    re.compile(r"File \"[^\"]+\.py\", line \d+"),
)


def pytest_configure(config):
    ARTEFACTS.mkdir(parents=True, exist_ok=True)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if getattr(config, "_e2e_used", False):
        terminalreporter.write_sep("-", "e2e artefacts")
        terminalreporter.write_line(f"e2e screenshots and server logs: {ARTEFACTS}")


def pytest_collection_modifyitems(session, config, items):
    if any(item.get_closest_marker("e2e") for item in items):
        config._e2e_used = True


# --- the app process ------------------------------------------------------------------------------
def app_process(name: str, data_dir: Path, **env) -> harness.AppProcess:
    """The harness's app process, its server log kept with the journey's screenshots."""
    return harness.AppProcess(name, data_dir, log_dir=ARTEFACTS, **env)


# --- fixtures -------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def playwright_sync():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_sync):
    if not (os.path.isfile(harness.CHROMIUM) and os.access(harness.CHROMIUM, os.X_OK)):
        pytest.fail(f"Chromium is missing at {harness.CHROMIUM}: the e2e journeys need it. Install Debian's chromium "
                    "(apt-get install -y chromium) — never `playwright install`.", pytrace=False)
    b = harness.launch_chromium(playwright_sync)
    yield b
    b.close()


def open_page(browser, base_url: str):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, base_url=base_url,
                              timezone_id="Europe/Moscow", locale="en-GB")
    ctx.set_default_timeout(15_000)
    return ctx, ctx.new_page()


@pytest.fixture(scope="session")
def app(browser, tmp_path_factory):
    """The app as README.md starts it, with a quick poll and a QR that only rotates when a test says so."""
    a = app_process("journeys", tmp_path_factory.mktemp("wpp-data"),
                   WPP_POLL_SECONDS=1, WPP_SIM_QR_ROTATE=600).start()
    try:
        ctx, page = open_page(browser, a.url)  # the first page view starts the embedded simulator
        page.goto("/")
        a.wait_simulator()
        ctx.close()
        yield a
    finally:
        a.stop()


@pytest.fixture
def page(browser, app, request):
    ctx, pg = open_page(browser, app.url)
    yield pg
    ctx.close()
