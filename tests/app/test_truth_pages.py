"""Issue 27 on the pages (AppTest, demo mode): the truth about a number's keys from the platform's own answers, one name
per state, and words that fit the reader."""
from __future__ import annotations

import re

import pytest

from .conftest import services
from .test_pages import click, create_via_service, labels, open_page, texts, widget

SCHOOL = "Школа № 5"


def plain(markdown: str) -> str:
    return re.sub(r"\\(.)", r"\1", markdown)


def as_demo(at, person: str):
    """Try the demo as another person (the sidebar's switch): "demo-operator" (one school), "demo-viewer"."""
    at.run()
    at.selectbox(key="wpp_demo_as_choice").set_value(person).run()
    assert not at.exception, at.exception
    return at


def connected_number(name="Ресепшн"):
    """A number whose phone is linked, as the background poll saw it (the platform accepted its access key)."""
    svc, sim = services()
    view = create_via_service(name)
    sim.set_status(view.integration.session, "connected")
    assert svc.poll_check(svc.store.get(view.id)).status.connected
    return view


# --- the seeds' stale-key incident on the Access page ----------------------------------------------------------------
def test_the_stale_key_incident_is_not_fine_on_the_access_page_and_a_new_key_is_tried(app):
    app.run()
    svc, sim = services()
    view = connected_number()
    open_page(app, "pages/access.py", n=view.id)
    assert "Access is fine: the platform accepted this number's access key at" in texts(app)

    sim.make_key_stale(view.integration.session)  # the permanent key still mints; every call is refused
    assert svc.poll_check(svc.store.get(view.id)).error is not None  # the background poll meets the refusal
    open_page(app, "pages/access.py", n=view.id)
    page = texts(app)
    assert "Access is fine" not in page and "✅" not in [e.icon for e in app.success]
    assert "the platform refuses this number's access keys, new ones too" in page
    assert [e for e in app.error if "refuses this number's access keys" in plain(e.value)], "the refusal is not the headline"
    # support reads the platform's own answer under "Details for support"
    assert "HTTP status: 401 · its words: “Invalid token”" in page

    click(app, "Get a new access key")
    page = texts(app)
    assert "The platform refuses the new access key too" in page
    assert "The number's permanent key still gives out access keys" in page
    assert "A new access key was saved" not in page
    assert f"platform account {view.integration.session}" in page  # what support can do about it


def test_the_access_page_speaks_russian_about_the_refusal(app, browser_cookies):
    browser_cookies["wpp_lang"] = "ru"
    app.run()
    svc, sim = services()
    view = connected_number()
    sim.make_key_stale(view.integration.session)
    svc.poll_check(svc.store.get(view.id))
    open_page(app, "pages/access.py", n=view.id)
    page = texts(app)
    assert "платформа не принимает ключи доступа этого номера, даже новые" in page
    assert "Доступ в порядке" not in page
    click(app, "Получить новый ключ доступа")
    page = texts(app)
    assert "Платформа не принимает и новый ключ доступа" in page
    assert "Invalid token" not in "\n".join(plain(e.value) for e in app.error)  # the platform's words: details only
    assert re.search(r"\(\d+ символ", page), "the masked key's length is not said in Russian"
    assert "chars)" not in page


def test_a_pasted_key_says_which_number_it_belongs_to(app):
    app.run()
    svc, _ = services()
    view = connected_number()
    token = svc.store.get(view.id).jwt
    open_page(app, "pages/access.py")
    app.text_area(key="access_pasted").input(token).run()
    assert f"The key belongs to “{SCHOOL} · Ресепшн” (platform account {view.integration.session})." in texts(app)
    claims = next(df.value for df in app.dataframe if "Claim" in df.value.columns)
    exp = claims.loc[claims["Claim"] == "exp", "Value"].iloc[0]
    assert not re.fullmatch(r"\d{9,}", str(exp)), f"exp is shown as a raw epoch number: {exp}"


# --- words for each role: a viewer's pages name no button she lacks ------------------------------------------------
#: the buttons a viewer does not have, as the pages label them (English, Russian)
NOT_A_VIEWERS = [
    ("Connect a number", "Подключить номер"), ("Check now", "Проверить сейчас"),
    ("Get a new access key", "Получить новый ключ доступа"), ("Test access", "Проверить доступ"),
    ("Show a new QR code", "Показать новый QR-код"), ("Show the QR code", "Показать QR-код"),
    ("Send a test message", "Отправить тестовое сообщение"), ("Finish creating", "Завершить создание"),
    ("Rename", "Переименовать"), ("Remove", "Удалить"), ("Restore", "Восстановить"),
    ("Simulate the phone going offline", "Имитировать потерю связи"), ("Simulate the phone scan", "Имитировать сканирование"),
    ("Connect it again", "Подключить заново"), ("Disconnect and remove", "Отключить и удалить"),
]


def settle(svc, until, what: str, timeout: float = 15.0):
    """Ask the platform again (the app's own poller may be checking at the same moment) until the board shows
    ``until(svc)``."""
    import time

    from wppui import tables

    deadline = time.monotonic() + timeout
    while True:
        svc.check_now()
        svc.engine.tick()
        tables.changed()
        if until(svc):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"the board never showed {what}")
        time.sleep(0.2)


def three_numbers(svc, sim):
    """At Школа № 5: one connected, one that went offline, one whose keys the platform refuses (the stale-key
    incident); and one whose creating was not finished."""
    made = {name: create_via_service(name) for name in ("Ресепшн", "Канцелярия", "Бухгалтерия")}
    for v in made.values():
        sim.set_status(v.integration.session, "connected")
    settle(svc, lambda s: all(s.number(v.id).status.code == "connected" for v in made.values()), "all connected")
    sim.set_status(made["Канцелярия"].integration.session, "offline")
    sim.make_key_stale(made["Бухгалтерия"].integration.session)
    settle(svc, lambda s: (s.number(made["Канцелярия"].id).status.code == "offline"
                           and s.number(made["Бухгалтерия"].id).status.code == "access_refused"),
           "one offline and one refused")
    half = svc.store.create(made["Ресепшн"].org_id, name="Недоделанный")
    made["Недоделанный"] = svc.number(half.id)
    return made


def button_names_in(page: str, lang: int) -> list[str]:
    """Labels of buttons a viewer lacks that a page's words name (in quotes, or as the label itself)."""
    found = []
    for pair in NOT_A_VIEWERS:
        label = pair[lang]
        for form in (f"“{label}”", f"«{label}»", f'"{label}"'):
            if form in page:
                found.append(form)
        if " " in label and re.search(rf"(?<![\w«“]){re.escape(label)}(?![\w»”])", page):
            found.append(label)
    return found


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_a_viewers_pages_name_no_button_she_lacks(app, browser_cookies, lang):
    if lang == "ru":
        browser_cookies["wpp_lang"] = "ru"
    app.run()
    svc, sim = services()
    made = three_numbers(svc, sim)
    as_demo(app, "demo-viewer")
    visits = [("pages/numbers.py", {}), ("pages/numbers.py", {"filter": "attention"}), ("pages/activity.py", {}),
              ("pages/connect.py", {}), ("pages/send.py", {}), ("pages/settings.py", {}), ("pages/outbox.py", {})]
    for v in made.values():
        visits += [("pages/number.py", {"n": v.id}), ("pages/access.py", {"n": v.id})]
    i = 0 if lang == "en" else 1
    lacks = {pair[i] for pair in NOT_A_VIEWERS}
    for page, params in visits:
        open_page(app, page, **params)
        assert not app.exception, (page, app.exception)
        text = texts(app)
        assert not button_names_in(text, i), (page, params, button_names_in(text, i), text)
        assert not lacks & set(labels(app)), (page, params, lacks & set(labels(app)))
    # and she is told something she can do: whom to tell
    open_page(app, "pages/number.py", n=made["Канцелярия"].id)
    tell = "tell an operator or an administrator of this school" if lang == "en" else \
        "сообщите оператору или администратору этой школы"
    assert tell in texts(app).lower()
    phone_first = "Check that the school's phone is on" if lang == "en" else "Проверьте, что телефон школы включён"
    assert phone_first in texts(app)


# --- a one-school operator creates with one click; a viewer's list names all her schools ----------------------------
def test_a_one_school_operator_creates_her_number_with_one_click(app):
    as_demo(app, "demo-operator")
    svc, _ = services()
    open_page(app, "pages/connect.py")
    school = widget(app, "selectbox", "School")
    assert school.value is not None and svc.organization_name(school.value) == SCHOOL  # hers, already chosen
    click(app, "Create and show the QR code")  # the one click
    assert not app.exception, app.exception
    assert "Choose the school first" not in texts(app)
    [made] = svc.numbers()
    assert made.org_name == SCHOOL and app.query_params.get("n") == made.id
    open_page(app, "pages/numbers.py")
    assert svc.organization_name(widget(app, "selectbox", "School").value) == SCHOOL  # the list shows her school


def test_a_viewer_of_two_schools_finds_both_in_the_list_filter_also_the_one_without_a_number(app):
    app.run()
    create_via_service("Ресепшн")  # only Школа № 5 has a number
    as_demo(app, "demo-viewer")
    open_page(app, "pages/numbers.py")
    options = set(widget(app, "selectbox", "School").options)  # as she reads them: by name
    assert {SCHOOL, "Гимназия № 1"} <= options, options


# --- Settings an administrator can read: who is told first, school by school; then sections in words ----------------
def test_settings_lead_with_who_is_told_per_school_then_sections_in_words(app, app_env, sim, tmp_path, staff_hash):
    from .conftest import sign_in

    school_a = "0a0a0a0a-0000-4000-8000-00000000000a"
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(
        f'WPP_SMTP_HOST = "smtp.example.org"\nWPP_SMTP_FROM = "console@school.example"\n'
        f'[staff.anna]\npassword = "{staff_hash}"\nrole = "administrator"\nschools = "*"\n\n'
        f'[WPP_ALERT_RECIPIENTS]\n"*" = ["support@wpp.example"]\n"{school_a}" = ["director@school-a.ru"]\n',
        encoding="utf-8")
    app_env.setenv("WPP_SECRETS_FILE", str(secrets))
    app_env.setenv("WPP_BASE_URL", sim.base_url)
    app_env.setenv("WPP_SECRET", sim.secret)
    import streamlit as st

    st.cache_resource.clear()
    app.run()
    svc, _ = services()
    svc.add_organization("Школа Альфа", school_a, actor="setup")
    sign_in(app, "anna")
    open_page(app, "pages/settings.py")
    assert not app.exception, app.exception
    headers = [h.value for h in app.header]
    assert headers[0] == "Who is told when a number drops", headers
    assert {"The WhatsApp platform", "Where the numbers are kept", "Who may sign in", "How alerts are sent",
            "Where these settings come from"} <= set(headers), headers
    who = next(df.value for df in app.dataframe if "Recipient" in df.value.columns)
    assert list(who["For"]) == ["Школа Альфа", "Every school"]  # the school's own first
    assert list(who["Recipient"]) == ["director@school-a.ru", "support@wpp.example"]
    rows = {r["Setting"]: r["Value"] for df in app.dataframe if "Setting" in df.value.columns
            for r in df.value.to_dict("records")}
    assert rows["How the connection to the mail server is protected"] == "encrypted once connected (STARTTLS)"
    platform = next(df.value for df in app.dataframe if "Setting" in df.value.columns)
    assert list(platform["Setting"])[:2] == ["Mode", "Platform"], list(platform["Setting"])  # the mode leads
    assert ".streamlit/secrets.toml" not in "\n".join(c.value for c in app.caption)


# --- an empty cell reads empty: never the English word "None" the grid writes by itself ---------------------------
def test_no_grid_writes_none_in_an_empty_cell(app, browser_cookies):
    browser_cookies["wpp_lang"] = "ru"
    app.run()
    svc, sim = services()
    view = create_via_service("Ресепшн")  # not linked yet: no last check, no events, no alert yet
    seen_empty = []
    for page, params in [("pages/settings.py", {}), ("pages/numbers.py", {}), ("pages/number.py", {"n": view.id}),
                         ("pages/access.py", {"n": view.id}), ("pages/activity.py", {}), ("pages/outbox.py", {})]:
        open_page(app, page, **params)
        assert not app.exception, (page, app.exception)
        for df in app.dataframe:
            frame = df.value
            assert not (frame.astype(str) == "None").any().any(), (page, "a cell reads “None”", frame)
            if frame.isna().any().any():  # the grid draws its placeholder there
                seen_empty.append(page)
                assert df.proto.placeholder not in ("", "None"), (page, "an empty cell reads “None”", frame)
    assert "pages/settings.py" in seen_empty  # the recipient with no alert yet, the number with no event yet


# --- sending from a number that is not connected says what will happen, before the click ---------------------------
def test_sending_from_a_dropped_number_says_before_the_click_that_nothing_would_go_out(app):
    app.run()
    svc, sim = services()
    view = connected_number()
    open_page(app, "pages/send.py", n=view.id)
    assert not app.exception, app.exception
    assert widget(app, "button", "Send").disabled is False
    assert "would not go out" not in texts(app)

    sim.set_status(view.integration.session, "offline")
    settle(svc, lambda s: s.number(view.id).status.code == "offline", "the drop")
    open_page(app, "pages/send.py", n=view.id)
    warning = "\n".join(plain(w.value) for w in app.warning)
    assert "Offline" in warning and "A message sent now would not go out" in warning, warning
    assert "Check that the school's phone is on" in warning  # what to do, the phone first
    assert widget(app, "button", "Send").disabled is True  # not a click that fails afterwards
