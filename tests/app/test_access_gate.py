"""Outside demo mode no page renders before sign-in; the signed-in name is what the activity log records."""
from __future__ import annotations

import pytest
import streamlit as st

from wpp.access import hash_password

from .conftest import services, texts

ORG = "123e4567-e89b-12d3-a456-426614174000"


@pytest.fixture(scope="module")
def anna_hash():
    return hash_password("correct horse battery")


@pytest.fixture
def real_mode(app_env, sim, tmp_path, anna_hash):
    """The real-platform configuration (pointed at a simulator) with one staff account."""
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(f'[staff]\nanna = "{anna_hash}"\n')
    app_env.setenv("WPP_SECRETS_FILE", str(secrets))
    app_env.setenv("WPP_BASE_URL", sim.base_url)
    app_env.setenv("WPP_SECRET", sim.secret)
    st.cache_resource.clear()
    return sim


def sign_in(at, user, password):
    at.text_input[0].input(user)
    at.text_input[1].input(password)
    at.button[0].click().run()
    return at


def test_nothing_renders_before_sign_in_even_after_switching_page(app, real_mode):
    app.run()
    page = texts(app)
    assert "Sign in" in page and "WhatsApp numbers" not in page
    app.switch_page("pages/tokens.py").run()
    page = texts(app)
    assert "Sign in" in page and "Access tokens" not in page
    assert not app.exception


def test_wrong_password_is_refused_then_right_one_opens_numbers(app, real_mode):
    app.run()
    sign_in(app, "anna", "wrong password")
    assert "Wrong name or password" in texts(app)
    assert "WhatsApp numbers" not in texts(app)
    sign_in(app, "anna", "correct horse battery")
    page = texts(app)
    assert "WhatsApp numbers" in page and "Signed in as **anna**" in page
    assert "Demo — simulated platform" not in page


def test_unknown_user_gets_the_same_message(app, real_mode):
    app.run()
    sign_in(app, "mallory", "whatever123")
    assert "Wrong name or password" in texts(app)


def test_activity_records_the_signed_in_name(app, real_mode):
    app.run()
    sign_in(app, "anna", "correct horse battery")
    app.switch_page("pages/connect.py").run()
    inputs = {ti.label: ti for ti in app.text_input}
    inputs["Organisation id (only for another organisation)"].input(ORG)
    inputs["Name for this number"].input("Reception")
    [b for b in app.button if b.label == "Create and show the QR code"][0].click().run()
    assert not app.exception
    svc, _ = services()
    entries = svc.activity()
    assert {e.action for e in entries} >= {"create", "pair"}
    assert {e.actor for e in entries} == {"anna"}


def test_no_sign_in_method_configured_says_what_to_do(app, app_env, sim):
    app_env.setenv("WPP_BASE_URL", sim.base_url)
    st.cache_resource.clear()
    app.run()
    page = texts(app)
    assert "Nobody can sign in yet" in page and "hash_password.py" in page
    assert "WhatsApp numbers" not in page


def test_demo_refuses_to_run_on_a_network_address(app, monkeypatch):
    real_get = st.get_option
    monkeypatch.setattr(st, "get_option", lambda k: "0.0.0.0" if k == "server.address" else real_get(k))
    app.run()
    page = texts(app)
    assert "Demo mode only runs on this computer" in page
    assert "WhatsApp numbers" not in page
