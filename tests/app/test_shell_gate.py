"""The shell's gate in every mode Streamlit serves a page in, lasting sign-ins, and a configuration that cannot be
used."""
from __future__ import annotations

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from .conftest import (
    APP,
    PAGE_FILES,
    STAFF_PASSWORD,
    services,
    sidebar_text,
    sign_in,
    sign_in_form_shown,
    signed_in_page,
    texts,
)

SECRET_NAME = "Reception 7c1f"  # a number whose name must never reach an unsigned browser


def seed_number(name: str = SECRET_NAME) -> str:
    svc, _ = services()
    row = svc.store.create("123e4567-e89b-12d3-a456-426614174000", name=name,
                           settings={"wppApiKey": "k" * 32, "wppAccountNumber": "0000000000042"})
    return row.id


# --- legacy mode: a page file run alone (the switch out of it lost the race) ---------------------------------------
@pytest.fixture
def reads(monkeypatch) -> list[str]:
    """Every call a page could make to read numbers, activity, settings or access (the service's read methods)."""
    from wpp.service import WppService

    seen: list[str] = []
    for name in ("numbers", "number", "activity", "settings_rows", "settings_sections", "access_report",
                 "attention_count", "organizations", "pairing_state", "history", "list_numbers", "get"):
        real = getattr(WppService, name, None)
        if real is None:
            continue

        def spy(self, *a, _name=name, _real=real, **kw):
            seen.append(_name)
            return _real(self, *a, **kw)

        monkeypatch.setattr(WppService, name, spy)
    return seen


@pytest.mark.parametrize("page", PAGE_FILES)
def test_a_page_run_alone_shows_only_the_sign_in_form(legacy_app, real_mode, page, reads):
    legacy_app.run()
    seed_number()
    reads.clear()
    legacy_app.switch_page(page).run()
    assert reads == [], f"{page} read {reads} for a browser nobody signed in with"
    assert not legacy_app.exception, page
    assert sign_in_form_shown(legacy_app), page
    shown = texts(legacy_app)
    assert SECRET_NAME not in shown and "0000000000042" not in shown
    assert not legacy_app.dataframe and not legacy_app.metric and not legacy_app.image


def test_a_page_run_alone_in_demo_mode_is_the_demo_without_the_shell(legacy_app, reads):
    """Proves the legacy fixture (and the read spy) are real: the page ran alone (no shell sidebar), let in by its
    own guard, and read what it shows."""
    legacy_app.run()
    reads.clear()
    legacy_app.switch_page("pages/settings.py").run()
    assert not sign_in_form_shown(legacy_app)
    assert not signed_in_page(legacy_app), "the shell's sidebar is there: this was not the legacy mode"
    assert reads, "the spy saw nothing: the unsigned test above would prove nothing"


def test_the_switch_still_hands_a_page_run_alone_back_to_the_entry_script(app_env):
    """The harmless switch: without the neutraliser, a page run alone reruns through streamlit_app.py (the shell's
    sidebar is there). Fails without ``state.require_app_shell``."""
    at = AppTest.from_file(APP, default_timeout=30)
    at.run()
    at.switch_page("pages/settings.py").run()
    assert signed_in_page(at)


# --- lasting sign-in ---------------------------------------------------------------------------------------------
def lasting_cookie(identity) -> str:
    """What the browser holds after /_wpp/session: the cookie value for a new lasting sign-in."""
    from wppui import state

    ticket, _key = state.begin_sign_in(identity)
    return state.sign_ins().redeem(ticket)


def test_a_browser_with_a_lasting_sign_in_is_signed_in_without_the_form(app, real_mode, browser_cookies):
    from wpp.access import Identity

    app.run()
    browser_cookies["wpp_session"] = lasting_cookie(Identity(name="anna", username="anna"))
    fresh = AppTest.from_file(APP, default_timeout=30)  # F5 / a second tab: a new session, the same browser
    fresh.run()
    assert signed_in_page(fresh) and "**anna**" in sidebar_text(fresh)


@pytest.mark.parametrize("tamper", ["flip", "unsigned", "garbage"])
def test_a_forged_cookie_signs_nobody_in(app, real_mode, browser_cookies, tamper):
    from wpp.access import Identity

    app.run()
    value = lasting_cookie(Identity(name="anna", username="anna"))
    ident, sig = value.split(".")
    browser_cookies["wpp_session"] = {
        "flip": ident[:-1] + ("A" if ident[-1] != "A" else "B") + "." + sig,
        "unsigned": ident,
        "garbage": "<script>alert(1)</script>",
    }[tamper]
    fresh = AppTest.from_file(APP, default_timeout=30)
    fresh.run()
    assert sign_in_form_shown(fresh) and not signed_in_page(fresh)


def ticket_scripts(at) -> list[str]:
    return [h.proto.body for h in at.get("html") if "/_wpp/session" in h.proto.body and "ticket" in h.proto.body]


def test_signing_in_starts_a_lasting_sign_in_and_hands_its_ticket_to_the_page_until_redeemed(app, real_mode):
    import re

    from wppui import state

    app.run()
    sign_in(app, "anna", STAFF_PASSWORD)
    key = app.session_state["wpp_sign_in_key"]
    assert state.sign_ins().is_active(key)
    scripts = ticket_scripts(app)
    assert len(scripts) == 1
    app.run()
    assert ticket_scripts(app) == scripts, "drawn again while the browser has not redeemed it (a cut-short run)"
    ticket = re.search(r"[A-Za-z0-9_-]{40,}", scripts[0]).group(0)
    assert state.sign_ins().redeem(ticket)  # what the browser's POST /_wpp/session does
    app.run()
    assert not ticket_scripts(app), "once redeemed, the ticket is not sent again"


def test_sign_out_in_one_tab_ends_the_others(app, real_mode, browser_cookies):
    from wpp.access import Identity

    app.run()
    browser_cookies["wpp_session"] = lasting_cookie(Identity(name="anna", username="anna"))
    tab1 = AppTest.from_file(APP, default_timeout=30)
    tab2 = AppTest.from_file(APP, default_timeout=30)
    tab1.run()
    tab2.run()
    assert signed_in_page(tab1) and signed_in_page(tab2)
    [b for b in tab1.sidebar.button if b.label == "Sign out"][0].click().run()
    assert sign_in_form_shown(tab1)
    # the other tab's next run (a click, its sidebar watch, a fragment) finds the sign-in ended
    tab2.run()
    assert sign_in_form_shown(tab2) and not signed_in_page(tab2)
    assert "You were signed out" in texts(tab2)
    # and the ended sign-in's cookie opens nothing any more (F5 in either tab)
    fresh = AppTest.from_file(APP, default_timeout=30)
    fresh.run()
    assert sign_in_form_shown(fresh)


def _fragment_script():
    import streamlit as st

    from wppui import gate

    if st.session_state.get("setup") == "ended" and "done" not in st.session_state:
        from wpp.access import Identity

        st.session_state["done"] = True
        st.session_state["identity"] = Identity(name="anna", username="anna")
        st.session_state["wpp_sign_in_key"] = st.session_state["ended_key"]

    @gate.fragment(run_every=60)
    def status():
        st.session_state["fragment_read"] = st.session_state.get("fragment_read", 0) + 1
        st.write("NUMBER DATA")

    status()


@pytest.mark.parametrize("setup", ["nobody", "ended"])
def test_a_fragment_whose_check_fails_draws_and_reads_nothing(app_env, real_mode, setup):
    from wpp.access import Identity

    from wppui import state

    at = AppTest.from_function(_fragment_script, default_timeout=30)
    at.session_state["setup"] = setup
    if setup == "ended":
        ticket, key = state.begin_sign_in(Identity(name="anna", username="anna"))
        state.sign_ins().end(key)
        at.session_state["ended_key"] = key
    at.run()
    assert not at.exception
    assert "NUMBER DATA" not in [m.value for m in at.markdown]
    assert at.session_state.get("fragment_read") is None
    assert "identity" not in at.session_state


# --- a configuration that cannot be used -------------------------------------------------------------------------
def test_a_broken_secrets_file_stops_the_console_and_names_its_line(app, app_env, tmp_path):
    broken = tmp_path / "secrets.toml"
    broken.write_text('WPP_BASE_URL = "http://127.0.0.1:9"\n[staff\nanna = "x"\n')
    app_env.setenv("WPP_SECRETS_FILE", str(broken))
    st.cache_resource.clear()
    app.run()
    assert not app.exception
    page = texts(app)
    assert "The console cannot start" in page
    assert str(broken) in page.replace("\\", "") and "line 2" in page.replace("\\", "")
    assert not sign_in_form_shown(app) and not signed_in_page(app)
    assert "Demo" not in page


@pytest.mark.parametrize("page", PAGE_FILES)
def test_a_broken_configuration_stops_every_page_even_run_alone(legacy_app, app_env, tmp_path, page):
    broken = tmp_path / "secrets.toml"
    broken.write_text("[staff\n")
    app_env.setenv("WPP_SECRETS_FILE", str(broken))
    st.cache_resource.clear()
    legacy_app.run()
    legacy_app.switch_page(page).run()
    assert not legacy_app.exception
    assert "The console cannot start" in texts(legacy_app)
    assert not signed_in_page(legacy_app)


def test_an_unexpected_failure_at_start_is_a_sentence_not_a_traceback(app, monkeypatch):
    from wppui import state

    def boom():
        raise RuntimeError("could not connect to postgresql://wpp:hunter2@db.internal:5432/school")

    monkeypatch.setattr(state, "service", boom)
    app.run()
    assert not app.exception
    page = texts(app)
    assert "The console could not start" in page and "db.internal" in page
    assert "hunter2" not in page
    assert not signed_in_page(app) and not sign_in_form_shown(app)


# --- the sidebar -------------------------------------------------------------------------------------------------
def test_the_sidebar_points_to_the_numbers_that_need_attention(app, monkeypatch):
    from wpp.service import WppService

    monkeypatch.setattr(WppService, "attention_count", lambda self: 3)
    app.run()
    links = [el for el in app.sidebar if "page_link" in str(getattr(el, "type", ""))]
    assert links, "no link to the numbers that need attention"
    link = links[0].proto
    assert link.label == "Needs attention: 3" and "filter=attention" in link.query_string


def test_no_attention_link_when_every_number_is_fine(app, monkeypatch):
    from wpp.service import WppService

    monkeypatch.setattr(WppService, "attention_count", lambda self: 0)
    app.run()
    assert not [el for el in app.sidebar if "page_link" in str(getattr(el, "type", ""))]


def _fragment_bodies():
    """Every function of pages/ and wppui/ that Streamlit re-runs on its own: decorated with ``st.fragment`` or
    ``st.dialog`` (a dialog's button re-runs only the dialog, in a fresh thread)."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    for path in sorted([*root.joinpath("pages").glob("*.py"), *root.joinpath("wppui").rglob("*.py")]):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.FunctionDef):
                continue
            for deco in node.decorator_list:
                target = deco.func if isinstance(deco, ast.Call) else deco
                if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and \
                        target.value.id == "st" and target.attr in ("fragment", "dialog"):
                    yield f"{path.relative_to(root)}:{node.lineno} {node.name}", node


def test_every_fragment_and_dialog_checks_the_sign_in_and_language_first():
    """A bare ``st.fragment``/``st.dialog`` must call the gate's check first (``guard_fragment`` or
    ``pagekit.fragment_service``); otherwise use ``gate.fragment``/``gate.dialog``. Found in a walk-through: the
    Remove dialog's own run spoke English to a Russian tab."""
    import ast

    found = list(_fragment_bodies())
    assert found, "no fragment found: the scan is broken"
    unchecked = []
    for where, fn in found:
        first = fn.body[1] if isinstance(fn.body[0], ast.Expr) and isinstance(fn.body[0].value, ast.Constant) \
            else fn.body[0]  # after a docstring
        text = ast.unparse(first)
        if "guard_fragment()" not in text and "fragment_service()" not in text:
            unchecked.append(f"{where}: starts with {text.splitlines()[0]!r}")
    assert not unchecked, "fragments or dialogs that read or draw before the gate's check:\n" + "\n".join(unchecked)
