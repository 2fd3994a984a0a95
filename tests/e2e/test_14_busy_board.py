"""Journey 14 — a click is never lost to a push: while other numbers of the fleet keep changing (each change pushed
by the platform and shown on every open tab within a second), a receptionist's "Remove" still opens its question and
"Test access" still answers, every time.

The board listener used to re-run the page the moment a push arrived, and a push landing while the click's page run
was under way started the page over with the click forgotten: the button did nothing (seen in CI as "Remove" without
its dialog and "Test access" without its answer). It now waits for an idle page and a second without input.
"""
from __future__ import annotations

import threading

import pytest
from playwright.sync_api import expect

from tests.harness import seed_numbers

from ._ui import assert_no_python_errors, goto, new_context, shot, wait_for_webhooks
from .conftest import app_process

pytestmark = pytest.mark.e2e

CLICKS = 6


@pytest.fixture(scope="module")
def busy_app(browser, tmp_path_factory):
    a = app_process("busy-board", tmp_path_factory.mktemp("wpp-busy"), WPP_POLL_SECONDS=1).start()
    try:
        a.wait_simulator()
        yield a
    finally:
        a.stop()



class Flapping:
    """Two other numbers whose phones go offline and come back every ~0.25 s (each change pushed to the console)."""

    def __init__(self, app, sessions: list[str]):
        self.app, self.sessions = app, sessions
        self.flips = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        states = ["offline", "connected"]
        while not self._stop.is_set():
            for s in self.sessions:
                try:
                    self.app.sim("POST", f"/_sim/accounts/{s}/status", json={"state": states[self.flips % 2]})
                except Exception:  # noqa: BLE001 - the thread only makes noise
                    pass
            self.flips += 1
            self._stop.wait(0.25)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(5)


def test_clicks_are_answered_while_other_numbers_keep_changing(browser, busy_app):
    app = busy_app
    numbers = seed_numbers(app.sim_url, app.db_path, 5, name="Кабинет {i}", connected=5)
    quiet, noisy = numbers[0], [n["session"] for n in numbers[1:]]
    # the console has registered its webhook for every number: changes are pushed, not only polled
    wait_for_webhooks(app, 5)
    ctx, page = new_context(browser, app.url, viewport={"width": 1366, "height": 900})
    try:
        with Flapping(app, noisy) as flapping:
            goto(page, f"/number?n={quiet['id']}")
            for i in range(CLICKS):
                page.get_by_role("button", name="Remove", exact=True).click()
                dialog = page.get_by_role("dialog")
                expect(dialog, f"click {i + 1}: Remove opened nothing").to_contain_text(
                    "stays linked on the WhatsApp platform", timeout=10_000)
                dialog.get_by_role("button", name="Cancel").click()
                expect(dialog).to_be_hidden(timeout=10_000)
            goto(page, f"/access?n={quiet['id']}")
            for i in range(CLICKS):
                page.get_by_role("button", name="Test access").click()
                answer = page.locator('[data-testid="stAlert"]').filter(has_text="The access key works")
                expect(answer, f"click {i + 1}: Test access said nothing").to_be_visible(timeout=10_000)
                # the next click must bring its own answer: drop this one (it stays until another action)
                page.get_by_role("button", name="Get a new access key").click()
                expect(answer).to_be_hidden(timeout=10_000)
            assert flapping.flips >= 10, "the other numbers did not keep changing during the clicks"
        assert_no_python_errors(page, "Number and Access while the fleet keeps changing")
        shot(page, "journey14-busy-board")
    finally:
        ctx.close()
