"""Every text staff may read from the platform modules is a translatable message: a literal English message id
with {placeholders} filled by keyword, in plain words (no "JWT", "token", "session", "apiKey")."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

import wpp
from wpp.i18n import placeholders

PACKAGE = Path(wpp.__file__).resolve().parent
MODULES = ["client.py", "tokens.py", "jwtinfo.py", "phone.py", "qr.py", "validation.py"]
JARGON = ("JWT", "jwt", "token", "Token", "session", "Session", "apiKey", "API key", "HTTP")


def calls(module: str):
    tree = ast.parse((PACKAGE / module).read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("_", "N_", "_n", "N_n"):
            yield node


@pytest.mark.parametrize("module", MODULES)
def test_messages_are_literal_ids_with_matching_placeholders(module):
    found = 0
    for call in calls(module):
        found += 1
        plural = call.func.id in ("_n", "N_n")
        ids = call.args[:2] if plural else call.args[:1]
        assert all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in ids), \
            f"{module}:{call.lineno}: the message id must be a literal string"
        given = {k.arg for k in call.keywords}
        for msgid in (a.value for a in ids):
            wanted = placeholders(msgid) - ({"n"} if plural else set())
            assert wanted == given, f"{module}:{call.lineno}: {msgid!r} wants {wanted}, gets {given}"
            assert not any(word in msgid for word in JARGON), f"{module}:{call.lineno}: {msgid!r}"
    assert found, module


@pytest.mark.parametrize("module", MODULES)
def test_no_text_for_people_is_built_with_an_f_string_inside_a_message(module):
    for call in calls(module):
        for arg in call.args:
            assert not isinstance(arg, ast.JoinedStr), f"{module}:{call.lineno}"
