"""Proof of delivery and the diary's CSV on the pages (issue 26): an administrator names the witness on Settings (a
bad phone is refused in words and changes nothing); an operator presses "Check delivery now" on the Number page and
follows the check; a dead check says "Not delivering since …" on the Number page and in the list, and the sidebar
counts it; a viewer gets no button; Activity downloads exactly the lines on screen as CSV, in the reader's language.
"""
from __future__ import annotations

import csv
import io
import re

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from wpp import keys
from wppui import tables

from .conftest import APP, STAFF_PASSWORD, services, sidebar_text, sign_in, signed_in_page
from .conftest import texts as _texts

A = "0a0a0a0a-0000-4000-8000-00000000000a"
B = "0b0b0b0b-0000-4000-8000-00000000000b"
WITNESS = "+7 999 000-11-22"


def _staff(app_env, sim, tmp_path, staff_hash):
    """Staff anna (administrator, every school), olga (operator of A), vera (viewer of A), on the simulator."""
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(
        f'[staff.anna]\npassword = "{staff_hash}"\nrole = "administrator"\nschools = "*"\n\n'
        f'[staff.olga]\npassword = "{staff_hash}"\nrole = "operator"\nschools = ["{A}"]\n\n'
        f'[staff.vera]\npassword = "{staff_hash}"\nrole = "viewer"\nschools = ["{A}"]\n', encoding="utf-8")
    app_env.setenv("WPP_SECRETS_FILE", str(secrets))
    app_env.setenv("WPP_BASE_URL", sim.base_url)
    app_env.setenv("WPP_SECRET", sim.secret)


@pytest.fixture
def proof_mode(app_env, sim, tmp_path, staff_hash):
    """The staff of :func:`_staff`; the platform can reach the console (WPP_PUBLIC_URL: nothing listens there, so no
    check is ever delivered by itself)."""
    _staff(app_env, sim, tmp_path, staff_hash)
    app_env.setenv("WPP_PUBLIC_URL", "http://127.0.0.1:9")
    st.cache_resource.clear()
    return sim


@pytest.fixture
def no_webhooks(app_env, sim, tmp_path, staff_hash):
    """The staff of :func:`_staff`; no WPP_PUBLIC_URL: the platform cannot tell the console what became of a
    message."""
    _staff(app_env, sim, tmp_path, staff_hash)
    app_env.delenv("WPP_PUBLIC_URL", raising=False)
    st.cache_resource.clear()
    return sim


@pytest.fixture
def number(app, proof_mode):
    """School A's connected number "Reception A" (its phone known), on the shared board."""
    app.run()
    svc, _ = services()
    svc.add_organization("Школа Альфа", A, actor="setup")
    row = svc.create_number(A, name="Reception A", actor="setup").integration
    proof_mode.set_status(svc.store.get(row.id).session, "connected")
    svc.store.merge_settings(row.id, {keys.PHONE: "79001234567"})
    svc.check_now()
    svc.engine.tick()
    tables.changed()
    return row.id


def texts(at) -> str:
    """What a person reads (Markdown's backslash escapes of wppui.text.esc removed)."""
    return re.sub(r"\\(.)", r"\1", _texts(at))


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


def submit_witness(app, phone: str):
    app.text_input(key="witness_phone").input(phone)
    [b for b in app.button if b.label == "Save the witness"][0].click().run()
    assert not app.exception, app.exception
    return texts(app)


def test_an_administrator_names_the_witness_on_settings_and_a_bad_phone_changes_nothing(app, number):
    as_person(app, "anna")
    page = open_page(app, "pages/settings.py")
    assert "Proof of delivery" in page and "No witness is named yet" in page
    assert "With 1 connected number: about 1 check messages a day." in page  # one check a day each
    page = submit_witness(app, "12")
    assert "The witness was not saved" in page
    svc, _ = services()
    assert svc.store.witnesses() == []
    page = submit_witness(app, "8 999 000 11 22")
    assert f"Saved: {WITNESS} receives the check messages." in page
    table = [df.value for df in app.dataframe if "Witness" in df.value.columns][0]
    assert list(table["Witness"]) == [WITNESS] and list(table["For"]) == ["Every school"]
    assert [(w.scope, w.phone) for w in svc.store.witnesses()] == [("*", "79990001122")]


def test_an_operator_checks_delivery_now_and_a_dead_check_says_not_delivering(app, number, proof_mode):
    svc, sim = services()[0], proof_mode
    svc.store.set_witness("*", "79990001122", actor="anna", at=0)
    as_person(app, "olga")
    page = open_page(app, "pages/number.py", n=number)
    assert "Delivery not checked yet" in page
    [b for b in app.button if b.label == "Check delivery now"][0].click().run()
    assert not app.exception, app.exception
    assert "Checking delivery: a check message went to the witness +7 999 000-11-22" in texts(app)
    (msg,) = sim.messages(svc.store.get(number).session)
    assert msg["to"] == "79990001122" and "WPP-" in msg["text"]
    code = msg["text"].rsplit("WPP-", 1)[1]
    svc.store.settle_delivery_check(code=code, status="dead", at=svc.clock.time(), detail="Recipient is not on "
                                    "WhatsApp")
    svc._forget_states()
    page = open_page(app, "pages/number.py", n=number)
    assert "Not delivering since" in page and "messages from this number do not arrive" in page
    assert "The phone is linked." not in page  # never a green "ready to send" while it delivers nothing
    tables.changed()
    open_page(app, "pages/numbers.py")
    status = list(app.dataframe[0].value["Status"])
    assert status == [status[0]] and status[0].startswith("🟠 Not delivering since")
    assert "Needs attention: 1" in sidebar_text(app) or "1" in sidebar_text(app)


def test_without_webhooks_the_pages_say_in_words_that_delivery_cannot_be_proven(app, no_webhooks):
    app.run()
    svc, _ = services()
    svc.add_organization("Школа Альфа", A, actor="setup")
    row = svc.create_number(A, name="Reception A", actor="setup").integration
    no_webhooks.set_status(svc.store.get(row.id).session, "connected")
    svc.check_now()
    svc.engine.tick()
    svc.store.set_witness("*", "79990001122", actor="anna", at=0)
    as_person(app, "anna")
    page = open_page(app, "pages/settings.py")
    assert ("Delivery cannot be proven on this console: the platform reports deliveries only to a console it can "
            "reach, and WPP_PUBLIC_URL (the console's address) is not set.") in page
    olga = AppTest.from_file(APP, default_timeout=30)  # another browser
    olga.run()
    as_person(olga, "olga")
    page = open_page(olga, "pages/number.py", n=row.id)
    assert ("Delivery cannot be proven on this console: the platform cannot report to it whether messages arrive. "
            "Ask the administrator to let the platform reach the console.") in page
    assert "Check delivery now" not in [b.label for b in olga.button]  # a button that could never prove anything
    assert no_webhooks.messages() == []


def test_a_viewer_sees_the_proof_but_no_button(app, number):
    svc, _ = services()
    svc.store.set_witness("*", "79990001122", actor="anna", at=0)
    as_person(app, "vera")
    page = open_page(app, "pages/number.py", n=number)
    assert "Delivery not checked yet" in page
    assert "Check delivery now" not in [b.label for b in app.button]


def test_the_diary_downloads_as_csv_with_the_readers_columns_and_local_times(app, number, monkeypatch):
    downloads = []
    real = st.download_button

    def spy(label, data=None, *args, **kwargs):  # the bytes a browser would save
        downloads.append((label, data, kwargs.get("file_name")))
        return real(label, data, *args, **kwargs)

    monkeypatch.setattr(st, "download_button", spy)
    svc, _ = services()  # another school's lines in the diary: never in olga's file
    svc.add_organization("Школа Бета", B, actor="setup")
    svc.create_number(B, name="Reception B", actor="setup")
    assert any(e.organization_id == B for e in svc.store.list_activity())
    as_person(app, "olga")
    open_page(app, "pages/activity.py")
    shown = app.dataframe[0].value
    label, data, name = downloads[-1]
    assert label.startswith("Download th") and "(CSV)" in label and name.endswith(".csv")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == ["When", "What happened", "Outcome", "School", "Number", "Who"]
    assert len(rows) - 1 == len(shown) > 0
    assert all(r[2] in ("Done", "Failed") for r in rows[1:])
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", r[0]) for r in rows[1:])  # local, no offset
    assert {r[3] for r in rows[1:]} == {"Школа Альфа"}  # only olga's school's lines
    # a Russian browser: the columns and the outcomes in Russian
    app.context = {"locale": "ru-RU"}
    open_page(app, "pages/activity.py")
    rows = list(csv.reader(io.StringIO(downloads[-1][1].decode("utf-8-sig"))))
    assert rows[0] == ["Когда", "Что произошло", "Результат", "Школа", "Номер", "Кто"], rows[0]
    assert {r[2] for r in rows[1:]} <= {"Выполнено", "Не удалось"}
