"""Data shown in a Markdown context stays those characters (wppui.text.esc)."""
from __future__ import annotations

import string

import pytest
from streamlit.testing.v1 import AppTest

from wppui.text import JOINER, esc, plain, shorten

EVIL = "![x](http://127.0.0.1:9/t.png) :green-background[✅ Connected] [link](http://x) www.example.com"


def test_every_ascii_punctuation_character_is_escaped():
    out = esc(string.punctuation).replace(JOINER, "")
    assert out == "".join("\\" + c for c in string.punctuation)


def test_letters_digits_and_cyrillic_are_left_alone():
    assert esc("Школа № 5 Ресепшн 2") == "Школа № 5 Ресепшн 2"


def test_the_markdown_name_has_no_unescaped_markup_left():
    out = esc(EVIL)
    for token in ("![", "](", ":green-", "[link]", "www.example.com", "http://"):
        assert token not in out
    assert out.replace("\\", "").replace(JOINER, "") == EVIL


@pytest.mark.parametrize("text", ["http://host.org/x", "HTTPS://host.org", "www.example.com", "anna@school.org",
                                  "see http://a.b and www.c.d, mail x@y.zz"])
def test_text_that_gfm_would_turn_into_a_link_by_itself_is_broken_invisibly(text):
    """remark-gfm finds http://, www. and emails in the finished text (escapes do not stop it): a word joiner does."""
    import re

    shown = esc(text).replace("\\", "")
    assert not re.search(r"(?i)https?:|www\.|[\w.+-]@", shown)
    assert shown.replace(JOINER, "") == text


def test_line_breaks_and_invisible_direction_marks_do_not_reach_the_page():
    assert esc("a\n# b\r\n- c") == "a \\# b \\- c"
    assert plain("evil\u202egnp.exe\u200b") == "evilgnp.exe"
    assert esc(None) == "" and plain(None) == ""


def test_long_data_is_cut_before_escaping():
    assert shorten("abcdef", 4) == "abc…"
    assert esc("a.b.c.d.e", limit=4) == "a\\.b…"


def _page_with_a_markdown_name():
    import streamlit as st

    from wppui.text import esc

    name = st.session_state["name"]
    st.title(esc(name))
    st.caption(esc(name))
    st.error(esc(name))
    st.markdown(f"**{esc(name)}**")


@pytest.mark.parametrize("name", [EVIL, "<img src=x onerror=alert(1)>", "$x^2$ `code` *em* __b__ ~~s~~",
                                  "# heading", "> quote", "1. list", "| a | b |\n|---|---|", ":smile: :red[x]"])
def test_streamlit_receives_only_escaped_text(name):
    at = AppTest.from_function(_page_with_a_markdown_name, default_timeout=10)
    at.session_state["name"] = name
    at.run()
    assert not at.exception
    bodies = [at.title[0].value, at.caption[0].value, at.error[0].value]
    for body in bodies:
        assert body.replace("\\", "").replace(JOINER, "") == plain(name)
        assert all(body[i - 1] == "\\" for i, c in enumerate(body) if c in string.punctuation and c != "\\" and i)
