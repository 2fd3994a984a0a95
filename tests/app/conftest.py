"""AppTest fixtures: the real entry script, an isolated data folder, the embedded simulator, a browser's cookies."""
from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "streamlit_app.py")
#: the page files of the navigation (pages/tokens.py is only the old address of pages/access.py)
PAGE_FILES = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "pages").glob("*.py")
                    if p.name not in ("__init__.py", "tokens.py"))
STAFF_PASSWORD = "correct horse battery"


@pytest.fixture
def entry_script_reruns(monkeypatch):
    """Make AppTest rerun through streamlit_app.py, as the real server does once it left the legacy mode.

    AppTest resets ``PagesManager.uses_pages_directory`` before every run, and because our page files live in
    a folder named ``pages/`` it then takes the legacy (v1) multipage path: every rerun after the first runs
    only the page script. Keep the flag False.
    """
    original = PagesManager.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", init)


@pytest.fixture
def no_shell_switch(monkeypatch):
    """The legacy-mode switch lost the race (another first session flipped the flag, or none did yet): the page
    file runs alone and only its own guard stands between the browser and the data."""
    from wppui import state

    monkeypatch.setattr(state, "require_app_shell", lambda **_: None)


@pytest.fixture
def app_env(tmp_path, monkeypatch):
    """A clean demo configuration: no platform, no secrets file, a fresh data folder."""
    import os

    for k in list(os.environ):
        if k.startswith(("WPP_", "SUPABASE_")) or k == "DATABASE_URL":
            monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("WPP_SECRETS_FILE", str(tmp_path / "no-secrets.toml"))
    monkeypatch.setenv("WPP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("WPP_DEMO_FLEET", "false")  # the pages' tests start on an empty demo
    monkeypatch.chdir(ROOT)
    st.cache_resource.clear()
    yield monkeypatch
    _stop_everything()


def _stop_everything() -> None:
    from wppui import state

    try:
        svc = state.service()
    except Exception:  # noqa: BLE001 - a test of a broken configuration
        svc = None
    if svc is not None:
        try:
            svc.close()
        except Exception:  # noqa: BLE001
            pass
    st.cache_resource.clear()
    state.STARTED_SERVICES.clear()  # closed above (the server's lifespan closes them on shutdown)
    while state.STARTED_SIMULATORS:
        state.STARTED_SIMULATORS.pop().stop()


@pytest.fixture
def browser_cookies(monkeypatch) -> dict:
    """The cookies the simulated browser sent when its tab connected (AppTest cannot send any itself)."""
    from wppui import lang

    jar: dict[str, str] = {}
    monkeypatch.setattr(lang, "cookies", lambda: dict(jar))
    return jar


@pytest.fixture(scope="session")
def staff_hash():
    from wpp.access import hash_password

    return hash_password(STAFF_PASSWORD)


@pytest.fixture
def real_mode(app_env, sim, tmp_path, staff_hash):
    """The real-platform configuration (pointed at a simulator) with one staff account, anna."""
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(f'[staff]\nanna = "{staff_hash}"\n')
    app_env.setenv("WPP_SECRETS_FILE", str(secrets))
    app_env.setenv("WPP_BASE_URL", sim.base_url)
    app_env.setenv("WPP_SECRET", sim.secret)
    st.cache_resource.clear()
    return sim


@pytest.fixture
def app(app_env, entry_script_reruns):
    """A fresh AppTest of the whole app (entry script + navigation), not yet run."""
    return AppTest.from_file(APP, default_timeout=30)


@pytest.fixture
def legacy_app(app_env, no_shell_switch):
    """A fresh AppTest in Streamlit's legacy pages-folder mode, with the switch out of it not happening."""
    return AppTest.from_file(APP, default_timeout=30)


def services():
    """The service and simulator the app under test is using (same process, shared cache)."""
    from wppui import state

    return state.service(), state.simulator()


def sign_in(at, user, password=STAFF_PASSWORD):
    """Fill the sign-in form (name, password) and press "Sign in"."""
    at.text_input(key="wpp_sign_in_user").input(user)
    at.text_input(key="wpp_sign_in_password").input(password)
    [b for b in at.button if b.label in ("Sign in", "Войти")][0].click().run()
    return at


def sidebar_text(at) -> str:
    parts = []
    for el in at.sidebar:
        for attr in ("value", "label", "body"):
            v = getattr(el, attr, None)
            if isinstance(v, str):
                parts.append(v)
    for b in at.sidebar.button:
        parts.append(b.label)
    return "\n".join(parts)


def texts(at) -> str:
    """Everything a person can read on the page: markdown, alerts, captions, titles, metrics, tables, labels."""
    parts = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "success", "info", "warning", "error",
                 "exception", "code", "metric", "text"):
        for el in getattr(at, kind, []):
            for attr in ("value", "label", "body"):
                v = getattr(el, attr, None)
                if isinstance(v, str):
                    parts.append(v)
    for kind in ("button", "text_input", "radio", "selectbox", "toggle", "checkbox"):
        for el in getattr(at, kind, []):
            if isinstance(getattr(el, "label", None), str):
                parts.append(el.label)
    for df in at.dataframe:
        parts.append(df.value.to_string())
    parts.append(sidebar_text(at))
    return "\n".join(parts)


def signed_in_page(at) -> bool:
    """The shell drew a signed-in page (its sidebar says who is signed in)."""
    side = sidebar_text(at)
    return "Signed in as" in side or "Вы вошли как" in side


def sign_in_form_shown(at) -> bool:
    keys = {getattr(ti, "key", None) for ti in at.text_input}
    return "wpp_sign_in_password" in keys
