"""The shell speaks the browser's language (Russian browser -> Russian), and the switch overrides it."""
from __future__ import annotations

import pytest

from .conftest import sidebar_text, sign_in_form_shown, texts

NAV_RU = {"numbers": "Номера", "connect": "Подключить номер", "number": "Номер", "access": "Доступ",
          "send": "Отправить тестовое сообщение", "activity": "Журнал", "outbox": "Оповещения", "settings": "Настройки"}
NAV_EN = {"numbers": "Numbers", "connect": "Connect a number", "number": "Number", "access": "Access",
          "send": "Send a test message", "activity": "Activity", "outbox": "Alerts", "settings": "Settings"}


def nav_titles(at) -> dict[str, str]:
    return {k: p.title for k, p in at.session_state["pages"].items()}


def switch(at):
    return at.sidebar.button_group[0] if at.sidebar.button_group else at.button_group[0]


@pytest.mark.parametrize("locale", ["ru-RU", "ru", "RU-ru"])
def test_a_russian_browser_gets_the_sign_in_form_and_navigation_in_russian(app, real_mode, locale):
    app.context = {"locale": locale}
    app.run()
    assert sign_in_form_shown(app)
    assert [s.value for s in app.subheader] == ["Войти"]
    assert {ti.label for ti in app.text_input} == {"Имя", "Пароль"}
    assert "Консоль WPP" in app.title[0].value
    assert nav_titles(app) == NAV_RU


@pytest.mark.parametrize("locale", ["en-GB", "de-DE", None])
def test_other_browsers_get_english(app, real_mode, locale):
    app.context = {"locale": locale}
    app.run()
    assert [s.value for s in app.subheader] == ["Sign in"]
    assert nav_titles(app) == NAV_EN


def test_the_remembered_choice_wins_over_the_browser(app, real_mode, browser_cookies):
    browser_cookies["wpp_lang"] = "en"
    app.context = {"locale": "ru-RU"}
    app.run()
    assert [s.value for s in app.subheader] == ["Sign in"]


def test_the_switch_changes_the_language_and_remembers_it_for_the_browser(app, real_mode):
    app.context = {"locale": "ru-RU"}
    app.run()
    assert switch(app).value == "ru"
    switch(app).set_value("en").run()
    assert [s.value for s in app.subheader] == ["Sign in"]
    assert nav_titles(app) == NAV_EN
    scripts = " ".join(h.proto.body for h in app.get("html"))
    assert "wpp_lang=en" in scripts and "Max-Age=" in scripts
    app.run()
    assert [s.value for s in app.subheader] == ["Sign in"], "the choice holds for the tab"


def test_the_signed_in_sidebar_speaks_russian(app):
    app.context = {"locale": "ru-RU"}
    app.run()
    side = sidebar_text(app).replace("\\", "")
    assert "Вы вошли как" in side and "Демо-пользователь" in side
    assert "Демо — имитация платформы" in side


def test_the_configuration_error_page_speaks_russian(app, app_env, tmp_path):
    import streamlit as st

    broken = tmp_path / "secrets.toml"
    broken.write_text("[staff\n")
    app_env.setenv("WPP_SECRETS_FILE", str(broken))
    st.cache_resource.clear()
    app.context = {"locale": "ru-RU"}
    app.run()
    assert "Консоль не может запуститься" in texts(app)
