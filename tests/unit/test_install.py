"""What a fresh install brings (issue 15): the libraries the console leans on are declared, so `./run.sh` on a new
machine has them — st.login's Authlib among them (a plain `streamlit` install raises StreamlitMissingAuthlibError)."""
from __future__ import annotations

import importlib
import importlib.metadata as md
import re

import pytest


def _declared() -> dict[str, str]:
    out = {}
    for req in md.requires("wpp-console") or []:
        if "extra ==" in req:
            continue
        name = re.split(r"[\s\[<>=!~;]", req, maxsplit=1)[0].lower()
        out[name] = req
    return out


def test_streamlit_is_declared_with_its_auth_extra():
    assert "auth" in _declared()["streamlit"], _declared()["streamlit"]


@pytest.mark.parametrize("module,package", [
    ("authlib", "authlib"),  # st.login (OIDC)
    ("babel", "babel"),  # catalogues, dates, plurals
    ("pydantic_settings", "pydantic-settings"),  # the one settings model
    ("phonenumbers", "phonenumberslite"),  # recipients
    ("qrcode", "qrcode"),  # QR images
])
def test_a_fresh_install_brings_what_the_console_uses(module, package):
    importlib.import_module(module)
    if package != "authlib":
        assert package in _declared(), sorted(_declared())


def test_postgresql_is_an_extra_named_postgres():
    extras = [r for r in md.requires("wpp-console") or [] if 'extra == "postgres"' in r]
    names = {re.split(r"[\s\[<>=!~;]", r, maxsplit=1)[0].lower() for r in extras}
    assert {"psycopg", "psycopg-pool"} <= names, extras
