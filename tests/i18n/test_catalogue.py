"""Every message staff can read exists in Russian, and no translation loses a placeholder (issue 12).

The messages are extracted from the code exactly as a translator's tools do (Babel, babel.cfg), so a new `_()`
without a Russian translation fails here, naming the file and line.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from wpp.i18n import N_, Text, _, _n, format_duration, placeholders, reload_catalogues, use_language

ROOT = Path(__file__).resolve().parents[2]


def _tool():
    spec = importlib.util.spec_from_file_location("i18n_tool", ROOT / "scripts" / "i18n.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def tool():
    return _tool()


@pytest.fixture(scope="module")
def template(tool):
    return tool.extract()


def test_the_code_has_messages_to_translate(template):
    assert len(template) > 300  # every page, error and status


def test_every_message_has_a_russian_translation_with_the_same_placeholders(tool, template):
    found = tool.problems(template, tool.load("ru"))
    assert not found, f"{len(found)} message(s) to translate in wpp/locale/ru/LC_MESSAGES/wpp.po " \
                      f"(run `python scripts/i18n.py`):\n" + "\n".join(found[:60])


def test_placeholders_are_found():
    assert placeholders("Expires at {time} ({left})") == {"time", "left"}
    assert placeholders("no values") == set()


def test_a_lazy_message_is_translated_when_shown_not_when_made():
    made = N_("Connected")
    with use_language("ru"):
        assert str(made) == "Подключён"
    with use_language("en"):
        assert str(made) == "Connected"


def test_values_are_filled_and_a_missing_one_never_breaks_a_page():
    assert _("Hello {name}", name="Анна") == "Hello Анна"
    assert _("Hello {name}") == "Hello {name}"
    assert str(Text("{a} and {b}", a=N_("Connected"), b=1)) == "Connected and 1"


def test_russian_plurals_have_three_forms():
    reload_catalogues()
    with use_language("ru"):
        forms = {_n("{n} number", "{n} numbers", n) for n in (1, 2, 5)}
    assert len(forms) in (1, 3)  # 3 once translated; never 2 (an English-style plural in Russian)


def test_durations_and_dates_follow_the_language():
    with use_language("ru"):
        assert "минут" in format_duration(240)
    with use_language("en"):
        assert "minute" in format_duration(240)
