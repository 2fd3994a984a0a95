"""AppTest fixtures: the real entry script, an isolated data folder, the embedded simulator."""
from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "streamlit_app.py")


@pytest.fixture
def entry_script_reruns(monkeypatch):
    """Make AppTest rerun through streamlit_app.py, as the real server does.

    AppTest resets ``PagesManager.uses_pages_directory`` before every run, and because our page files live in
    a folder named ``pages/`` it then takes the legacy (v1) multipage path: every rerun after the first runs
    only the page script, silently skipping the access gate and the sidebar. Keep the flag False.
    """
    original = PagesManager.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", init)


@pytest.fixture
def app_env(tmp_path, monkeypatch):
    """A clean demo configuration: no platform, no secrets file, a fresh SQLite folder, fast QR rotation."""
    for k in ("WPP_BASE_URL", "WPP_SECRET", "SUPABASE_URL", "SUPABASE_KEY", "DATABASE_URL", "WPP_DEMO_SIGN_IN"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("WPP_SECRETS_FILE", str(tmp_path / "no-secrets.toml"))
    monkeypatch.setenv("WPP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(ROOT)
    st.cache_resource.clear()
    yield monkeypatch
    from wppui import state

    st.cache_resource.clear()
    while state.STARTED_SIMULATORS:
        state.STARTED_SIMULATORS.pop().stop()


@pytest.fixture
def app(app_env, entry_script_reruns):
    """A fresh AppTest of the whole app (entry script + navigation), not yet run."""
    return AppTest.from_file(APP, default_timeout=30)


def services():
    """The service and simulator the app under test is using (same process, shared cache)."""
    from wppui import state

    return state.service(), state.simulator()


def texts(at) -> str:
    """Everything a person can read on the page: markdown, alerts, captions, titles, metrics, tables."""
    parts = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "success", "info", "warning", "error",
                 "exception", "code", "metric", "text"):
        for el in getattr(at, kind, []):
            for attr in ("value", "label", "body"):
                v = getattr(el, attr, None)
                if isinstance(v, str):
                    parts.append(v)
    for df in at.dataframe:
        parts.append(df.value.to_string())
    for sb in at.sidebar:
        v = getattr(sb, "value", None)
        if isinstance(v, str):
            parts.append(v)
    return "\n".join(parts)
