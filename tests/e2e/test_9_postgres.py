"""Journey 9 — production-like: a real PostgreSQL that holds the school platform's own ``organizations`` table,
the platform (simulator) in its own process, a staff account. Staff see and choose schools by name; the number
is created for that school's id."""
from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from ._stack import PgCluster, SimulatorProcess, StackError, staff_secrets
from ._ui import (
    assert_no_python_errors,
    assert_no_uuid,
    create_number,
    goto,
    new_context,
    qr_on_screen,
    shot,
    wait_idle,
)
from .conftest import ARTEFACTS, app_process

pytestmark = pytest.mark.e2e

SCHOOLS = [(str(uuid.uuid4()), "Школа № 7 имени Пушкина"), (str(uuid.uuid4()), "Гимназия «Эрудит»")]
USER, PASSWORD = "anna", "correct horse battery staple"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    folder = tmp_path_factory.mktemp("wpp-pg-stack")
    try:
        pg = PgCluster.start()
    except StackError as err:
        pytest.fail(str(err), pytrace=False)
    sim = app = None
    try:
        url = pg.school_database("school_platform", SCHOOLS)
        sim = SimulatorProcess(ARTEFACTS).start()
        app = app_process("postgres-stack", folder / "data", DATABASE_URL=url, WPP_BASE_URL=sim.url,
                          WPP_SECRET=sim.secret, WPP_SECRETS_FILE=str(staff_secrets(folder, USER, PASSWORD)),
                          WPP_POLL_SECONDS=1).start()
        yield {"pg": pg, "sim": sim, "app": app}
    finally:
        if app is not None:
            app.stop()
        if sim is not None:
            sim.stop()
        pg.stop()


def sign_in(page) -> None:
    page.get_by_label("Name", exact=True).fill(USER)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1, name=re.compile("WhatsApp numbers"))).to_be_visible(timeout=30_000)
    wait_idle(page)


def test_schools_by_name_from_the_platform_table_and_the_number_is_made_for_that_school(browser, stack):
    app, sim, pg = stack["app"], stack["sim"], stack["pg"]
    ctx, page = new_context(browser, app.url, viewport={"width": 1400, "height": 1000})
    try:
        goto(page, "/")
        sign_in(page)
        goto(page, "/connect", title=re.compile("Connect a number"))
        box = page.get_by_role("combobox", name="School", exact=True)
        box.click()
        options = page.get_by_role("option").all_inner_texts()
        assert {name for _, name in SCHOOLS} <= set(options), options
        assert not any("Add:" in o for o in options), "schools come from the school platform: none may be added"
        box.press("Escape")
        assert_no_uuid(page, "Connect (PostgreSQL)")

        nid = create_number(page, school="Эрудит", name="Приёмная")
        qr = qr_on_screen(page, "journey9-qr")
        assert qr
        with pg.connect("school_platform") as c:
            org, name = c.execute("select organization_id::text, name from public.messenger_integrations "
                                  "where id = %s", (nid,)).fetchone()
        assert (org, name) == (SCHOOLS[1][0], "Приёмная"), (org, name)
        accounts = sim.json("GET", "/_sim/accounts")["accounts"]
        assert any(a["organizationId"] == SCHOOLS[1][0] for a in accounts), accounts

        goto(page, "/", title=re.compile("WhatsApp numbers"))
        grid = page.locator('[data-testid="stDataFrame"]').first
        row = grid.locator('[role="row"]').filter(has_text="Приёмная")
        expect(row).to_contain_text("Гимназия «Эрудит»", timeout=20_000)
        assert_no_uuid(page, "Numbers (PostgreSQL)")
        assert not any(sid in " ".join(grid.locator('[role="row"]').all_inner_texts()) for sid, _ in SCHOOLS)
        assert_no_python_errors(page, "Numbers (PostgreSQL)")
        shot(page, "journey9-numbers-by-school-name")
    finally:
        ctx.close()
