"""Roles and schools on the pages (issue 19): an operator of school A, a viewer, an administrator of every school.

Numbers of another school are answered exactly like unknown numbers (by ``?n=`` on Number, Send and Access), a
button left on screen is refused by the service itself, and each person's list, sidebar count and diary are theirs.
"""
from __future__ import annotations

import pytest
import streamlit as st

from wpp import keys
from wppui import tables

from .conftest import STAFF_PASSWORD, services, sidebar_text, sign_in, signed_in_page, texts

A = "0a0a0a0a-0000-4000-8000-00000000000a"
B = "0b0b0b0b-0000-4000-8000-00000000000b"


@pytest.fixture
def roles_mode(app_env, sim, tmp_path, staff_hash):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(
        f'[staff.anna]\npassword = "{staff_hash}"\nrole = "administrator"\nschools = "*"\n\n'
        f'[staff.olga]\npassword = "{staff_hash}"\nrole = "operator"\nschools = ["{A}"]\n\n'
        f'[staff.vera]\npassword = "{staff_hash}"\nrole = "viewer"\nschools = ["{A}"]\n',
        encoding="utf-8")
    app_env.setenv("WPP_SECRETS_FILE", str(secrets))
    app_env.setenv("WPP_BASE_URL", sim.base_url)
    app_env.setenv("WPP_SECRET", sim.secret)
    st.cache_resource.clear()
    return sim


@pytest.fixture
def schools(app, roles_mode):
    """School A with "Reception A" and school B with "Secret B", both connected; made by the console itself."""
    app.run()  # builds the service
    svc, _ = services()
    svc.add_organization("Школа Альфа", A, actor="setup")
    svc.add_organization("Школа Бета", B, actor="setup")
    made = {}
    for org, name in ((A, "Reception A"), (B, "Secret B")):
        row = svc.create_number(org, name=name, actor="setup").integration
        roles_mode.set_status(svc.store.get(row.id).session, "connected")
        made[org] = row.id
    svc.store.merge_settings(made[B], {keys.PRELINKED: True})  # B needs attention: only B's people count it
    svc.check_now()
    svc.engine.tick()  # the shared board knows A is connected
    tables.changed()
    return made


def as_person(app, who: str):
    sign_in(app, who, STAFF_PASSWORD)
    assert signed_in_page(app), texts(app)
    return app


def open_page(app, page: str, **params):
    for k in list(app.query_params):
        del app.query_params[k]
    for k, v in params.items():
        app.query_params[k] = v
    app.switch_page(page).run()
    assert not app.exception, app.exception
    return texts(app)


def test_an_operator_sees_only_their_schools_numbers_and_count(app, schools):
    as_person(app, "olga")
    page = open_page(app, "pages/numbers.py")
    assert "Reception A" in page and "Школа Альфа" in page
    assert "Secret B" not in page and "Школа Бета" not in page
    assert "Needs attention" not in sidebar_text(app), "B's number was counted in A's sidebar"
    assert "operator: Школа Альфа" in sidebar_text(app).replace("\\", "")


@pytest.mark.parametrize("page", ["pages/number.py", "pages/send.py", "pages/access.py"])
def test_another_schools_number_by_address_is_an_unknown_number(app, schools, page):
    as_person(app, "olga")
    unknown = open_page(app, page, n="11111111-2222-4333-8444-555555555555")
    other = open_page(app, page, n=schools[B])
    assert "Secret B" not in other and "Школа Бета" not in other
    assert "exist" in other, other
    # exactly like an unknown number: the same words (the picker below lists the person's own numbers)
    first = lambda text: [line for line in text.splitlines() if "exist" in line][0]  # noqa: E731
    assert first(other) == first(unknown)


def test_a_button_left_on_screen_is_refused_by_the_service(app, schools):
    """Olga's Number page with a Remove confirmation crafted into her tab (a stale screen, a forged rerun)."""
    as_person(app, "olga")
    page = open_page(app, "pages/number.py", n=schools[A])
    assert "Reception A" in page
    assert not [b for b in app.button if b.key == "number_remove"], "an operator was offered Remove"
    app.session_state["_number_removing"] = schools[A]
    app.run()
    [b for b in app.button if b.key == "remove_keep"][0].click().run()
    assert "Only an administrator can remove a number" in texts(app)
    svc, _ = services()
    assert svc.store.get(schools[A]).is_active, "the refused remove changed something"
    assert "refused" in [e.action for e in svc.store.list_activity(limit=20)]


def test_a_viewer_gets_words_instead_of_connect_send_and_settings(app, schools):
    as_person(app, "vera")
    for page, words in (("pages/connect.py", "Only an operator or an administrator can connect a new number"),
                        ("pages/send.py", "Only an operator or an administrator can send a test message"),
                        ("pages/settings.py", "Only an administrator of every school can see the console's settings")):
        assert words in open_page(app, page).replace("\\", "")
    number = open_page(app, "pages/number.py", n=schools[A])
    assert "Reception A" in number and "The phone is linked" in number, number
    labels = {b.label for b in app.button}
    assert not labels & {"Check now", "Remove", "Send a test message", "Simulate the phone scan"}, labels


def test_the_administrator_sees_every_school_and_the_whole_diary(app, schools):
    as_person(app, "anna")
    page = open_page(app, "pages/numbers.py")
    assert "Reception A" in page and "Secret B" in page
    assert "Needs attention: 1" in sidebar_text(app)
    diary = open_page(app, "pages/activity.py")
    assert "Secret B" in diary or "Школа Бета" in diary


def test_the_operators_diary_has_only_their_schools_lines(app, schools):
    svc, _ = services()
    svc.rename(schools[B], "Secret B2", actor="anna")
    as_person(app, "olga")
    diary = open_page(app, "pages/activity.py")
    assert "Школа Альфа" in diary
    assert "Secret B" not in diary and "Школа Бета" not in diary


def test_the_demo_switches_between_its_three_people(app, browser_cookies):
    """Demo: the notice's switch tries the console as the receptionist of one school (operator) and as a viewer."""
    from wpp.demo import DEMO_SCHOOLS

    app.run()
    svc, _ = services()
    first, second = DEMO_SCHOOLS[0], DEMO_SCHOOLS[2]
    svc.create_number(first[0], name="Ресепшн", actor="setup")
    svc.create_number(second[0], name="Директор", actor="setup")
    tables.changed()  # made behind the pages' back: the shared list must be read again
    page = open_page(app, "pages/numbers.py")
    assert "Ресепшн" in page and "Директор" in page
    app.selectbox(key="wpp_demo_as_choice").set_value("demo-operator").run()
    page = open_page(app, "pages/numbers.py")
    assert "Ресепшн" in page and "Директор" not in page, "the receptionist saw another school's number"
    assert "operator: Школа № 5" in sidebar_text(app).replace("\\", "")
    assert "Only an administrator of every school can see the console's settings" in open_page(app, "pages/settings.py").replace("\\", "")
    app.selectbox(key="wpp_demo_as_choice").set_value("demo-viewer").run()
    assert "Only an operator or an administrator can connect a new number" in \
        open_page(app, "pages/connect.py").replace("\\", "")
    app.selectbox(key="wpp_demo_as_choice").set_value("demo").run()
    assert "Директор" in open_page(app, "pages/numbers.py")


def test_a_role_taken_away_signs_the_open_tab_out_in_words(app, schools, monkeypatch):
    from wpp.access.roles import Access
    from wppui import state

    as_person(app, "olga")
    assert "Reception A" in open_page(app, "pages/numbers.py")
    authorizer = state.authorizer()
    monkeypatch.setattr(authorizer, "access_for", lambda ident, fresh=False: Access.none())  # the re-read finds nothing
    app.run()
    assert not signed_in_page(app)
    page = texts(app)
    assert "Your access to WPP Console was withdrawn" in page and "Reception A" not in page
    svc, _ = services()
    assert "sign_in_withdrawn" in [e.action for e in svc.store.list_activity(limit=20)]
