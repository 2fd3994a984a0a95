"""Small Playwright helpers for driving the Streamlit app the way a person does."""
from __future__ import annotations

import re
import time
from pathlib import Path

import PIL.Image
import zxingcpp
from playwright.sync_api import Page, expect

from .conftest import ARTEFACTS, PYTHON_ERROR_PATTERNS

QR_ALT = "QR code to link this WhatsApp number"
SESSION_RE = re.compile(r"session (\d{13})")
UNREACHABLE_RE = re.compile(r"cannot be reached|unreachable", re.I)


def wait_idle(page: Page, timeout: float = 20_000) -> None:
    """The app has rendered and no script run is in progress (fragments may start again right after)."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout)
    page.wait_for_function(
        """() => { const a = document.querySelector('[data-testid="stApp"]');
                   return a && a.getAttribute('data-test-script-state') !== 'running'
                          && a.getAttribute('data-test-connection-state') !== 'CONNECTING'; }""",
        timeout=timeout,
    )


def goto(page: Page, path: str, title: str | None = None, timeout: float = 30_000) -> None:
    """A full page load of ``path``; waits for the page's title (an h1) when given."""
    page.goto(path)
    wait_idle(page, timeout)
    if title:
        expect(page.get_by_role("heading", name=title)).to_be_visible(timeout=timeout)


def nav(page: Page, link: str, title: str, timeout: float = 20_000) -> None:
    """In-app navigation through the sidebar (keeps st.session_state)."""
    page.locator('[data-testid="stSidebar"]').get_by_role("link", name=link, exact=True).click()
    expect(page.get_by_role("heading", name=title)).to_be_visible(timeout=timeout)
    wait_idle(page, timeout)


def main_text(page: Page) -> str:
    return page.locator('[data-testid="stMain"]').inner_text()


def visible_text(page: Page) -> str:
    return page.locator("body").inner_text()


def assert_no_python_errors(page: Page, where: str) -> None:
    """Staff read words: no traceback, no exception class names, no Streamlit exception box."""
    assert page.locator('[data-testid="stException"]').count() == 0, f"{where}: a Streamlit exception box is shown"
    text = visible_text(page)
    for pattern in PYTHON_ERROR_PATTERNS:
        m = pattern.search(text)
        assert m is None, f"{where}: python error text {m.group(0)!r} is visible:\n{text[:3000]}"


def shot(page: Page, name: str, *, full_page: bool = True) -> Path:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTEFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def decode_qr(path: Path) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(PIL.Image.open(path))]


def qr_on_screen(page: Page, name: str) -> str:
    """Screenshot the page, decode the one QR code on it, return its text."""
    expect(page.get_by_role("img", name=QR_ALT)).to_be_visible(timeout=30_000)
    page.get_by_role("img", name=QR_ALT).evaluate("img => img.decode()")  # fully loaded
    path = shot(page, name, full_page=False)
    texts = decode_qr(path)
    assert len(texts) == 1, f"expected exactly one QR code in {path}, decoded {len(texts)}"
    return texts[0]


def wait_for_qr_text(page: Page, name: str, wanted: str, timeout: float = 20.0) -> str:
    """Poll screenshots until the QR on screen decodes to ``wanted`` (the page follows the platform's rotation)."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = qr_on_screen(page, name)
        except AssertionError:
            last = None
        if last == wanted:
            return last
        time.sleep(0.5)
    raise AssertionError(f"the QR on screen did not follow the platform within {timeout} s (last decoded: "
                         f"{(last or '')[:30]!r}…, wanted {wanted[:30]!r}…)")


def choose(page: Page, label: str, option_contains: str) -> None:
    """Pick the option of a st.selectbox whose text contains ``option_contains``."""
    box = page.get_by_role("combobox", name=label, exact=True)
    box.click()
    page.get_by_role("option").filter(has_text=option_contains).first.click()
    expect(box).to_have_value(re.compile(re.escape(option_contains)), timeout=10_000)
    wait_idle(page)


def grid_rows(page: Page, testid: str = "stDataFrame", nth: int = 0) -> list[str]:
    """The text of the rows glide-data-grid exposes to assistive technology (the visible ones)."""
    grid = page.locator(f'[data-testid="{testid}"]').nth(nth)
    return grid.locator('[role="row"]').all_inner_texts()


def create_number(page, *, name: str, org: str | None) -> str:
    """Fill the Connect form and press the button; returns the platform session shown on the page.

    ``org`` None keeps the organisation already chosen in the "Organisation" box."""
    if org is not None:
        page.get_by_label("Organisation id (only for another organisation)", exact=True).fill(org)
    page.get_by_label("Name for this number", exact=True).fill(name)
    page.get_by_role("button", name="Create and show the QR code").click()
    expect(page.get_by_role("img", name=QR_ALT)).to_be_visible(timeout=40_000)
    created = page.get_by_text("was created on the platform")
    expect(created).to_contain_text(name)
    m = SESSION_RE.search(created.inner_text())
    assert m, f"no session on the page: {created.inner_text()!r}"
    return m.group(1)
