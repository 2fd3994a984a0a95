"""Values that go into platform URLs and bodies: refused before anything is sent."""
from __future__ import annotations

import pytest

from wpp.errors import InvalidInput
from wpp.validation import validate_message_text, validate_org_id, validate_session, validate_task_id, validate_url

GOOD_SESSIONS = ["0000000000004", "abc", "a.b", "user@host", "x_y-z", "A" * 64, "..a", 7]


@pytest.mark.parametrize("value", GOOD_SESSIONS)
def test_plausible_sessions_pass(value):
    assert validate_session(value) == str(value)


def test_surrounding_whitespace_from_paste_is_removed():
    assert validate_session("  0000000000004\n") == "0000000000004"


BAD_SESSIONS = [
    ("", "is empty"),
    ("   ", "is empty"),
    (None, "no session"),
    (".", "not a session"),
    ("..", "not a session"),
    ("...", "not a session"),
    ("../internal", "“/”"),
    ("..%2finternal", "“%”"),
    ("%2e%2e", "“%”"),
    ("%2E%2E%2Fadmin", "“%”"),
    ("a/b", "“/”"),
    ("a\\b", "“\\”"),
    ("a b", "space"),
    ("a\tb", "space"),
    ("abc\x00", "control"),
    ("abc\x1b[31m", "control"),
    ("a?x=1", "“?”"),
    ("a#frag", "“#”"),
    ("сессия", "“с”"),
    ("x" * 65, "65 characters"),
    ("x" * 10_000, "10000 characters"),
    (True, "must be text"),
    (3.5, "must be text"),
    (["0000000000004"], "must be text"),
]


@pytest.mark.parametrize("value,words", BAD_SESSIONS)
def test_implausible_sessions_are_refused_with_a_reason(value, words):
    with pytest.raises(InvalidInput) as ei:
        validate_session(value)
    err = ei.value
    assert words in err.detail  # the technical reason, for support
    assert "session" not in err.message and err.message.endswith(".")  # staff read plain words
    assert "nothing was sent" in err.message
    assert len(str(err)) < 400 and len(err.detail) < 400  # a 10 000-char value is not echoed back in full


def test_task_id_uses_the_same_rules():
    assert validate_task_id("e49aacce-f052-405e-8d2e-8fb18bd13116") == "e49aacce-f052-405e-8d2e-8fb18bd13116"
    with pytest.raises(InvalidInput, match="reference for this message") as ei:
        validate_task_id("../x")
    assert "message id" in ei.value.detail and "“/”" in ei.value.detail


@pytest.mark.parametrize(
    "value,expected",
    [
        ("123e4567-e89b-12d3-a456-426614174000", "123e4567-e89b-12d3-a456-426614174000"),
        ("123E4567-E89B-12D3-A456-426614174000", "123e4567-e89b-12d3-a456-426614174000"),
        ("  123e4567-e89b-12d3-a456-426614174000 ", "123e4567-e89b-12d3-a456-426614174000"),
        ("123e4567-e89b-12d3-a456-426614174000__wpp__1A2B3C4D", "123e4567-e89b-12d3-a456-426614174000__wpp__1a2b3c4d"),
    ],
)
def test_org_ids(value, expected):
    assert validate_org_id(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "",
        "acme",
        "123e4567e89b12d3a456426614174000x",
        "123e4567-e89b-12d3-a456-42661417400",
        "123e4567-e89b-12d3-a456-4266141740000",
        "{123e4567-e89b-12d3-a456-426614174000}",
        "urn:uuid:123e4567-e89b-12d3-a456-426614174000",
        "123e4567-e89b-12d3-a456-426614174000__wpp__",
        "123e4567-e89b-12d3-a456-426614174000__wpp__xyz12345",
        "123e4567-e89b-12d3-a456-426614174000__wpp__1a2b3c4d5",
        "../123e4567-e89b-12d3-a456-426614174000",
        None,
    ],
)
def test_bad_org_ids(value):
    with pytest.raises(InvalidInput) as ei:
        validate_org_id(value)
    assert "school platform shows it" in str(ei.value) and "organisation id" in ei.value.message
    assert "123e4567" not in ei.value.action  # no example UUID in front of staff (issue 12)


def test_message_text():
    assert validate_message_text(" hi ") == " hi "
    assert validate_message_text("x" * 4096) == "x" * 4096
    for bad, words in [("", "empty"), ("  \n\t", "empty"), (None, "missing"), ("x" * 4097, "4097 characters")]:
        with pytest.raises(InvalidInput, match=words):
            validate_message_text(bad)
    with pytest.raises(InvalidInput, match="limit is 10"):
        validate_message_text("x" * 11, max_len=10)


@pytest.mark.parametrize("url", ["https://example.com/hook", "http://10.0.0.5:8080/wpp/webhook?x=1", " https://a.b/c "])
def test_good_urls(url):
    assert validate_url(url) == url.strip()


@pytest.mark.parametrize(
    "url,words",
    [
        ("", "No web address"),
        ("ftp://example.com/x", "http:// or https://"),
        ("javascript:alert(1)", "http:// or https://"),
        ("file:///etc/passwd", "http:// or https://"),
        ("example.com/hook", "http:// or https://"),
        ("https://", "no host"),
        ("https://exa mple.com", "spaces"),
        ("https://example.com/\nX-Injected: 1", "spaces"),
        ("https://example.com:99999/", "not a valid"),
        ("https://example.com/" + "a" * 3000, "limit"),
    ],
)
def test_bad_urls(url, words):
    with pytest.raises(InvalidInput, match=words) as ei:
        validate_url(url, what="webhook address")
    assert "https://example.com/hook" in ei.value.action and ei.value.detail.startswith("webhook address: ")
