"""Small Playwright helpers for driving the console the way a receptionist does."""
from __future__ import annotations

import re
import sqlite3
import json
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import PIL.Image
import zxingcpp
from playwright.sync_api import Page, expect

from wpp import keys

from .conftest import ARTEFACTS, PYTHON_ERROR_PATTERNS

QR_ALT = "QR code to link this WhatsApp number"
UNREACHABLE_RE = re.compile(r"cannot be reached|unreachable", re.I)
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
LINKED = "The phone is linked"
#: the viewport where "above the fold" is judged (a small laptop)
SMALL = {"width": 1280, "height": 720}
SCHOOL = "Школа № 5"


def new_context(browser, base_url: str, *, locale: str = "en-GB", viewport: dict | None = None):
    """A fresh browser (its own cookies: a new visitor) in ``locale``, Moscow time."""
    ctx = browser.new_context(viewport=viewport or SMALL, base_url=base_url, timezone_id="Europe/Moscow",
                              locale=locale)
    ctx.set_default_timeout(20_000)
    return ctx, ctx.new_page()


def wait_idle(page: Page, timeout: float = 20_000) -> None:
    """The app has rendered and no script run is in progress (fragments may start again right after)."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout)
    page.wait_for_function(
        """() => { const a = document.querySelector('[data-testid="stApp"]');
                   return a && a.getAttribute('data-test-script-state') !== 'running'
                          && a.getAttribute('data-test-connection-state') !== 'CONNECTING'; }""",
        timeout=timeout,
    )


def goto(page: Page, path: str, title: str | re.Pattern | None = None, timeout: float = 30_000) -> None:
    """A full page load of ``path`` (an address typed, a bookmark); waits for the page's h1 when given."""
    page.goto(path)
    wait_idle(page, timeout)
    if title:
        expect(page.get_by_role("heading", level=1, name=title)).to_be_visible(timeout=timeout)


def nav(page: Page, link: str, title: str | re.Pattern, timeout: float = 20_000) -> None:
    """In-app navigation through the sidebar."""
    page.locator('[data-testid="stSidebar"]').get_by_role("link", name=link, exact=True).click()
    expect(page.get_by_role("heading", level=1, name=title)).to_be_visible(timeout=timeout)
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


def assert_no_uuid(page: Page, where: str) -> None:
    text = visible_text(page)
    m = UUID_RE.search(text)
    assert m is None, f"{where}: a UUID ({m.group(0)}) is shown to staff:\n{text[:3000]}"


def shot(page: Page, name: str, *, full_page: bool = False) -> Path:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTEFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def decode_qr(path: Path) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(PIL.Image.open(path))]


def qr_image(page: Page):
    return page.get_by_role("img", name=QR_ALT)


def qr_on_screen(page: Page, name: str, timeout: float = 30_000) -> str:
    """Screenshot what is on the screen (not the whole page: what a phone camera pointed at it sees), decode the
    one QR code in it, return its text."""
    expect(qr_image(page)).to_be_visible(timeout=timeout)
    qr_image(page).evaluate("img => img.decode()")  # fully loaded
    path = shot(page, name)
    texts = decode_qr(path)
    assert len(texts) == 1, f"expected exactly one QR code on the screen in {path}, decoded {len(texts)}"
    return texts[0]


def wait_for_qr_text(page: Page, name: str, wanted: str, timeout: float = 20.0) -> str:
    """Poll screenshots until the QR on screen decodes to ``wanted`` (the page follows the platform's rotation)."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = qr_on_screen(page, name, timeout=5_000)
        except AssertionError:
            last = None
        if last == wanted:
            return last
        time.sleep(0.5)
    raise AssertionError(f"the QR on screen did not become the platform's current one within {timeout} s (last "
                         f"decoded: {(last or '')[:30]!r}…, wanted {wanted[:30]!r}…)")


def assert_qr_above_the_fold(page: Page, where: str) -> None:
    """The whole QR code is inside the viewport without scrolling."""
    img = qr_image(page)
    expect(img).to_be_visible(timeout=30_000)
    page.evaluate("window.scrollTo(0, 0)")
    box = img.bounding_box()
    view = page.viewport_size
    assert box is not None
    assert box["x"] >= 0 and box["y"] >= 0 and box["x"] + box["width"] <= view["width"] and \
        box["y"] + box["height"] <= view["height"], f"{where}: the QR code {box} is not inside the {view} viewport"
    assert box["width"] >= 300, f"{where}: the QR code is small ({box['width']:.0f} px wide)"


def select_option(page: Page, label: str, text: str, *, type_it: bool = True) -> None:
    """Pick an option of a st.selectbox by typing part of its text (type-to-search) and choosing it."""
    box = page.get_by_role("combobox", name=label, exact=True)
    box.click()
    if type_it:
        box.fill(text)
    # typing offers "Add: <what was typed>" first where new schools may be added: pick the existing one
    page.get_by_role("option").filter(has_text=text).filter(has_not_text=re.compile(r"^Add: ")).first.click()
    expect(box).to_have_value(re.compile(re.escape(text)))
    page.wait_for_timeout(300)  # the re-run the choice starts (the page may fill in defaults)
    wait_idle(page)


def number_id(page: Page) -> str | None:
    """The number the page is about, from its address (``?n=``)."""
    values = parse_qs(urlsplit(page.url).query).get("n")
    return values[0] if values else None


def wait_for_number_in_address(page: Page, timeout: float = 60.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        n = number_id(page)
        if n:
            return n
        page.wait_for_timeout(200)
    raise AssertionError(f"the address never named the number: {page.url}")


def create_number(page: Page, *, school: str = SCHOOL, name: str | None = None) -> str:
    """On Connect: choose the school by name, name the number (or keep the default), create. Returns its id."""
    expect(page.get_by_role("button", name="Create and show the QR code")).to_be_visible()
    select_option(page, "School", school)
    if name is not None:
        field = page.get_by_label("Name of this number", exact=True)
        field.fill(name)
        field.press("Tab")
        page.wait_for_timeout(300)
        wait_idle(page)
        expect(field).to_have_value(name)
    page.get_by_role("button", name="Create and show the QR code").click()
    nid = wait_for_number_in_address(page)
    expect(qr_image(page).or_(page.get_by_text("Why is there no QR code?"))).to_be_visible(timeout=40_000)
    return nid


# --- what the console stored (the app's SQLite file, read-only) -------------------------------------------
def stored_rows(db_path) -> list[dict]:
    """Every number row of the app's SQLite store (id, organization_id, name, is_active, settings)."""
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10)
    try:
        con.row_factory = sqlite3.Row
        cols = {r[1] for r in con.execute("pragma table_info(messenger_integrations)")}
        active = "is_active" if "is_active" in cols else "is_enabled"
        rows = con.execute(f"select id, organization_id, name, {active} as is_active, settings "
                           "from messenger_integrations").fetchall()
        out = []
        for r in rows:
            d = dict(r)
            d["settings"] = json.loads(d["settings"] or "{}")
            out.append(d)
        return out
    finally:
        con.close()


def session_of(db_path, nid: str) -> str:
    for r in stored_rows(db_path):
        if r["id"] == nid:
            return str(r["settings"].get(keys.SESSION))
    raise AssertionError(f"number {nid} is not in the store")


def cyrillic_share(text: str) -> float:
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return 0.0
    return sum(1 for ch in letters if "\u0400" <= ch <= "\u04ff") / len(letters)


def paired_number(browser, app, *, school: str = SCHOOL, name: str = "Ресепшн") -> dict:
    """A number created on Connect and linked by scanning its QR on the simulated platform: {id, session}."""
    ctx, page = new_context(browser, app.url, viewport={"width": 1400, "height": 1000})
    try:
        goto(page, "/connect")
        nid = create_number(page, school=school, name=name)
        session = session_of(app.db_path, nid)
        text = qr_on_screen(page, f"paired-{nid[:8]}")
        r = app.sim("POST", f"/_sim/accounts/{session}/scan", json={"qr": text})
        assert r.status_code == 200, r.text
        expect(page.get_by_text(LINKED)).to_be_visible(timeout=15_000)
    finally:
        ctx.close()
    return {"id": nid, "session": session, "name": name, "school": school}


# --- waiting for the server side ---------------------------------------------------------------------------------
def wait_until(check, timeout: float, what: str = "timed out") -> None:
    """Poll ``check()`` every 0.25 s until it is true; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.25)


def wait_for_webhooks(app, n: int, timeout: float = 90) -> None:
    """The console has registered its webhook on the simulated platform for ``n`` numbers (changes are pushed)."""
    wait_until(lambda: sum(1 for acc in app.sim_json("GET", "/_sim/accounts")["accounts"] if acc.get("webhook")) == n,
               timeout, f"the console did not register its webhook for {n} numbers within {timeout:.0f} s")
