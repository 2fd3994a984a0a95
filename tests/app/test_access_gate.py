"""Outside demo mode nothing renders before sign-in; sign-in is throttled, logged, lasting, and ends cleanly."""
from __future__ import annotations

import streamlit as st

from .conftest import (
    PAGE_FILES,
    STAFF_PASSWORD,
    services,
    sidebar_text,
    sign_in,
    sign_in_form_shown,
    signed_in_page,
    texts,
)


def activity_actions() -> list[str]:
    svc, _ = services()
    return [e.action for e in svc.store.list_activity(limit=100)]


def test_nothing_renders_before_sign_in_on_any_page(app, real_mode):
    app.run()
    assert sign_in_form_shown(app) and not signed_in_page(app)
    for page in PAGE_FILES:
        app.switch_page(page).run()
        assert not app.exception, page
        assert sign_in_form_shown(app), page
        assert not signed_in_page(app), page
        assert not app.dataframe and not app.metric, page


def test_wrong_password_is_refused_then_the_right_one_opens_the_console(app, real_mode):
    app.run()
    sign_in(app, "anna", "wrong password")
    assert "Wrong name or password" in texts(app)
    assert not signed_in_page(app)
    sign_in(app, "anna", STAFF_PASSWORD)
    assert signed_in_page(app)
    side = sidebar_text(app)
    assert "**anna**" in side
    assert "Demo" not in side
    assert not sign_in_form_shown(app)


def test_unknown_user_gets_the_same_message(app, real_mode):
    app.run()
    sign_in(app, "mallory", "whatever123")
    assert "Wrong name or password" in texts(app)


def test_every_failure_and_throttle_goes_to_the_activity_log(app, real_mode):
    app.run()
    for _ in range(6):
        sign_in(app, "anna", "wrong password")
    page = texts(app)
    assert "wait" in page.lower() and "second" in page.lower(), page
    actions = activity_actions()
    assert "sign_in_failed" in actions
    assert "sign_in_throttled" in actions


def test_throttled_browser_does_not_lock_anna_out_of_another_browser(app_env, real_mode, entry_script_reruns,
                                                                       monkeypatch):
    """20 wrong passwords from one browser; anna's right password from her own browser still signs in within 30 s
    (only the short per-account delay applies to her), while the guessing browser keeps waiting."""
    from streamlit.testing.v1 import AppTest

    from wpp.access import Throttle
    from wpp.clock import ManualClock
    from wppui import state

    from .conftest import APP

    clock = ManualClock()
    throttle = Throttle(clock=clock)
    monkeypatch.setattr(state, "throttle", lambda: throttle)
    attacker = AppTest.from_file(APP, default_timeout=30)
    attacker.run()
    sign_in(attacker, "anna", "guess")
    attacker_key = "device:" + attacker.session_state["_wpp_device"]
    for _ in range(19):  # 20 wrong passwords in all, each tried as soon as the throttle allows
        clock.advance(throttle.wait_for("anna", attacker_key))
        sign_in(attacker, "anna", "guess")
    assert throttle.wait_for("anna", attacker_key) > 60
    clock.advance(30)
    anna = AppTest.from_file(APP, default_timeout=30)
    anna.run()
    sign_in(anna, "anna", STAFF_PASSWORD)
    assert signed_in_page(anna), texts(anna)
    sign_in(attacker, "anna", STAFF_PASSWORD)
    assert not signed_in_page(attacker), "the guessing browser is still made to wait"
    assert "wait" in texts(attacker).lower()


def test_sign_in_is_logged(app, real_mode):
    app.run()
    sign_in(app, "anna", STAFF_PASSWORD)
    assert "sign_in" in activity_actions()


def test_sign_out_clears_everything_the_tab_held_and_ends_the_lasting_sign_in(app, real_mode):
    from wppui import state

    app.run()
    sign_in(app, "anna", STAFF_PASSWORD)
    key = app.session_state["wpp_sign_in_key"]
    assert key and state.sign_ins().is_active(key)
    app.session_state["wpp_tokens"] = {"x": "eyJ.revealed.jwt"}
    app.session_state["tokens_reveal"] = True
    [b for b in app.sidebar.button if b.label == "Sign out"][0].click().run()
    assert sign_in_form_shown(app) and not signed_in_page(app)
    assert "You have signed out" in texts(app)
    held = set(app.session_state.keys())
    assert not held & {"identity", "wpp_tokens", "tokens_reveal", "wpp_sign_in_key"}, held
    assert not state.sign_ins().is_active(key)
    assert state.sign_ins().store.get_sign_in_session(key=key).revoked_at is not None
    assert "sign_out" in activity_actions()


def test_no_sign_in_method_configured_says_what_to_do(app, app_env, sim):
    app_env.setenv("WPP_BASE_URL", sim.base_url)
    st.cache_resource.clear()
    app.run()
    page = texts(app)
    assert "Nobody can sign in yet" in page and "hash_password.py" in page
    assert not signed_in_page(app)


def test_demo_refuses_to_run_on_a_network_address(app, monkeypatch):
    real_get = st.get_option
    monkeypatch.setattr(st, "get_option", lambda k: "0.0.0.0" if k == "server.address" else real_get(k))
    app.run()
    page = texts(app)
    assert "Demo mode only runs on this computer" in page
    assert not signed_in_page(app)


def test_demo_mode_signs_in_the_demo_user_without_a_form(app):
    app.run()
    assert signed_in_page(app)
    assert "Demo user" in sidebar_text(app)
    assert "Demo — simulated platform" in sidebar_text(app)
    assert not [b for b in app.sidebar.button if b.label == "Sign out"]
