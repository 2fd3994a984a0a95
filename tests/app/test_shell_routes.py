"""The console's own routes: a one-time ticket becomes the lasting sign-in cookie; sign-out deletes it."""
from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from wpp.access import Identity, SignInSessions
from wpp.clock import ManualClock
from wpp.store.sqlite import SqliteStore

ORIGIN = "http://testserver"
HOURS = 12


@pytest.fixture
def sessions(tmp_path, monkeypatch):
    from wppui import state

    store = SqliteStore(tmp_path / "wpp.db")
    clock = ManualClock()
    s = SignInSessions(store, clock=clock, lifetime_s=HOURS * 3600,
                       secret=store.console_secret("sign-in-cookie"))
    s.clock = clock
    monkeypatch.setattr(state, "sign_ins", lambda: s)
    yield s
    store.close()


@pytest.fixture
def client():
    from wppui.routes import routes

    with TestClient(Starlette(routes=routes()), base_url=ORIGIN) as c:
        yield c


def begin(sessions, name="anna"):
    from wppui import state

    return state.begin_sign_in(Identity(name=name, username=name))


def post(client, path, body, *, origin=ORIGIN, **kw):
    headers = {"Content-Type": "application/json"}
    if origin:
        headers["Origin"] = origin
    return client.post(path, json=body, headers=headers, **kw)


def test_a_ticket_becomes_an_httponly_lax_cookie_for_the_working_day(client, sessions):
    ticket, key = begin(sessions)
    r = post(client, "/_wpp/session", {"ticket": ticket})
    assert r.status_code == 200
    header = r.headers["set-cookie"]
    assert header.startswith("wpp_session=")
    low = header.lower()
    assert "httponly" in low and "samesite=lax" in low and "path=/" in low
    assert f"max-age={HOURS * 3600}" in low
    assert "secure" not in low  # plain http on the loopback; https requests get Secure
    value = r.cookies["wpp_session"]
    ident, found_key = sessions.resolve(value)
    assert ident.name == "anna" and found_key == key
    assert ticket not in header and "anna" not in header


def test_the_cookie_is_secure_behind_https(client, sessions):
    ticket, _ = begin(sessions)
    r = client.post("/_wpp/session", json={"ticket": ticket},
                    headers={"Content-Type": "application/json", "Origin": ORIGIN, "X-Forwarded-Proto": "https"})
    assert r.status_code == 200
    assert "secure" in r.headers["set-cookie"].lower()


def test_a_ticket_works_once(client, sessions):
    ticket, _ = begin(sessions)
    assert post(client, "/_wpp/session", {"ticket": ticket}).status_code == 200
    client.cookies.clear()
    again = post(client, "/_wpp/session", {"ticket": ticket})
    assert again.status_code == 400 and "set-cookie" not in again.headers


def test_an_old_ticket_sets_nothing(client, sessions):
    ticket, _ = begin(sessions)
    sessions.clock.advance(sessions.ticket_lifetime_s + 1)
    r = post(client, "/_wpp/session", {"ticket": ticket})
    assert r.status_code == 400 and "set-cookie" not in r.headers


@pytest.mark.parametrize("origin", ["http://evil.example", "null", None])
def test_another_site_cannot_sign_a_browser_in(client, sessions, origin):
    ticket, _ = begin(sessions)
    r = post(client, "/_wpp/session", {"ticket": ticket}, origin=origin)
    assert r.status_code == 403 and "set-cookie" not in r.headers


def test_a_form_post_is_refused(client, sessions):
    ticket, _ = begin(sessions)
    r = client.post("/_wpp/session", data={"ticket": ticket}, headers={"Origin": ORIGIN})
    assert r.status_code == 400 and "set-cookie" not in r.headers


def test_sign_out_deletes_the_cookie_and_ends_its_sign_in(client, sessions):
    ticket, key = begin(sessions)
    value = post(client, "/_wpp/session", {"ticket": ticket}).cookies["wpp_session"]
    r = post(client, "/_wpp/session/end", {"key": key})
    assert r.status_code == 200
    assert "max-age=0" in r.headers["set-cookie"].lower()
    assert sessions.resolve(value) is None


def test_a_tab_cannot_end_a_newer_sign_in_of_its_browser(client, sessions):
    """A tab that noticed its old sign-in ended (another tab signed out and in again) leaves the new cookie."""
    old_ticket, old_key = begin(sessions)
    post(client, "/_wpp/session", {"ticket": old_ticket})
    sessions.end(old_key)
    new_ticket, new_key = begin(sessions)
    value = post(client, "/_wpp/session", {"ticket": new_ticket}).cookies["wpp_session"]
    r = post(client, "/_wpp/session/end", {"key": old_key})
    assert r.status_code == 200 and "set-cookie" not in r.headers
    assert sessions.resolve(value)[1] == new_key


def test_a_dead_cookie_is_deleted(client, sessions):
    ticket, key = begin(sessions)
    post(client, "/_wpp/session", {"ticket": ticket})
    sessions.end(key)
    r = post(client, "/_wpp/session/end", {"key": None})
    assert "max-age=0" in r.headers["set-cookie"].lower()


def test_another_site_cannot_sign_a_browser_out(client, sessions):
    ticket, key = begin(sessions)
    value = post(client, "/_wpp/session", {"ticket": ticket}).cookies["wpp_session"]
    r = post(client, "/_wpp/session/end", {"key": key}, origin="http://evil.example")
    assert r.status_code == 403
    assert sessions.resolve(value) is not None


def test_the_entry_script_is_the_asgi_app_with_these_routes(monkeypatch):
    """Imported by the server (not run as a script), streamlit_app.py is an st.App carrying the console's routes."""
    import importlib
    import sys
    from pathlib import Path

    import streamlit as st

    from wppui import routes

    made = []
    real_routes = routes.routes
    monkeypatch.setattr(routes, "routes", lambda: made.append(real_routes()) or made[-1])
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[2]))
    sys.modules.pop("streamlit_app", None)
    module = importlib.import_module("streamlit_app")
    try:
        assert isinstance(module.app, st.App)
        assert {r.path for r in made[0]} == {"/_wpp/session", "/_wpp/session/end", "/_wpp/hook/{secret}",
                                             "/_wpp/board", "/_wpp/health", "/_wpp/metrics"}
        from wppui.state import lifespan

        assert module.app._user_lifespan is lifespan  # the watch starts and stops with the server
    finally:
        sys.modules.pop("streamlit_app", None)
