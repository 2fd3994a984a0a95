"""Organisation accounts (Streamlit's st.login): only the allow-list gets in; a broken setup is a sentence."""
from __future__ import annotations

import pytest
import streamlit as st

from .conftest import sidebar_text, signed_in_page, texts

AUTH = """
[auth]
redirect_uri = "http://localhost:8501/oauth2callback"
cookie_secret = "a-long-random-cookie-secret-for-tests-only-0123456789"
client_id = "console"
client_secret = "not-a-real-secret"
server_metadata_url = "https://accounts.example.org/.well-known/openid-configuration"
"""


@pytest.fixture
def oidc_mode(app_env, sim, tmp_path):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('WPP_ALLOWED_EMAILS = "@school.org"\n' + AUTH, encoding="utf-8")
    app_env.setenv("WPP_SECRETS_FILE", str(secrets))
    app_env.setenv("WPP_BASE_URL", sim.base_url)
    app_env.setenv("WPP_SECRET", sim.secret)
    st.cache_resource.clear()


def oidc_button(at):
    return [b for b in at.button if b.label == "Sign in with your organisation's account"]


def test_an_allowed_organisation_account_is_let_in(app, oidc_mode):
    app.user = {"is_logged_in": True, "email": "olga@school.org", "name": "Olga", "sub": "42",
                "email_verified": True}
    app.run()
    assert not app.exception
    assert signed_in_page(app) and "**Olga**" in sidebar_text(app)


def test_an_account_not_on_the_list_is_refused_in_words(app, oidc_mode):
    app.user = {"is_logged_in": True, "email": "mallory@gmail.com", "name": "Mallory", "sub": "7"}
    app.run()
    assert not app.exception
    assert not signed_in_page(app)
    assert "not allowed to use WPP Console" in texts(app)
    svc = __import__("wppui.state", fromlist=["service"]).service()
    assert "sign_in_failed" in [e.action for e in svc.store.list_activity(limit=20)]


def test_a_broken_organisation_sign_in_is_a_sentence_not_a_traceback(app, oidc_mode, monkeypatch):
    def broken_login(provider=None):
        raise ModuleNotFoundError("No module named 'authlib'")

    monkeypatch.setattr(st, "login", broken_login)
    app.run()
    assert oidc_button(app)
    oidc_button(app)[0].click().run()
    assert not app.exception
    page = texts(app)
    assert "does not work on this console right now" in page
    assert "authlib" not in page.lower().replace("authlib is installed", "")
