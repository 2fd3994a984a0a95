"""Process-wide resources (st.cache_resource) and what belongs to one browser tab (st.session_state)."""
from __future__ import annotations

import logging

import streamlit as st

from wpp.config import Settings, load_settings
from wpp.models import Integration

log = logging.getLogger("wppui")

#: simulators this process started (tests stop them between runs)
STARTED_SIMULATORS: list = []


def require_app_shell() -> None:
    """Every page file calls this first: it makes sure the page runs inside the app (gate, sidebar, banner).

    A folder named ``pages/`` beside the entry script makes Streamlit treat the app as a legacy "pages folder"
    app until some session has run ``st.navigation``. Until then, the first request of a fresh process for a
    bookmarked ``/tokens`` or ``/connect`` runs that page file alone: no access gate, no sidebar, no demo
    banner. Here the page notices it, switches Streamlit to the entry script's navigation, and reruns, so the
    request is served by ``streamlit_app.py`` like every other one.
    """
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # a Streamlit without this legacy mode
        return
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


@st.cache_resource(show_spinner=False)
def settings() -> Settings:
    return load_settings()


@st.cache_resource(show_spinner="Starting the simulated platform…")
def simulator():
    """The embedded WPP Platform, only in demo mode (nothing configured)."""
    s = settings()
    if not s.demo:
        return None
    from wpp.simulator import SimKnobs, Simulator

    knobs = SimKnobs(token_lifetime_s=s.sim_token_lifetime_s, qr_first_s=s.sim_qr_rotate_s, qr_rotate_s=s.sim_qr_rotate_s)
    sim = Simulator(knobs, port=s.sim_port or 0).start()
    STARTED_SIMULATORS.append(sim)
    return sim


@st.cache_resource(show_spinner=False)
def service():
    from wpp.service import build_service

    return build_service(settings(), simulator=simulator())


def token_cache() -> dict:
    """The JWTs this browser tab is using, per integration id (the store keeps them too)."""
    return st.session_state.setdefault("wpp_tokens", {})


def actor() -> str:
    ident = st.session_state.get("identity")
    return getattr(ident, "name", None) or "unknown"


def select_integration(integration_id: str | None) -> None:
    st.session_state["selected_id"] = integration_id


def selected_id() -> str | None:
    return st.session_state.get("selected_id")


def number_label(row: Integration) -> str:
    name = row.name or "Unnamed number"
    session = row.session or "not created yet"
    return f"{name} · org {row.organization_id[:8]}… · session {session}"


def pick_number(rows: list[Integration], *, key: str, label: str = "Number") -> Integration:
    """A selectbox over ``rows`` that starts on (and remembers) the number this tab last looked at."""
    ids = [r.id for r in rows]
    current = selected_id() if selected_id() in ids else ids[0]
    labels = {r.id: number_label(r) for r in rows}
    chosen = st.selectbox(label, ids, index=ids.index(current), format_func=labels.get, key=key)
    select_integration(chosen)
    return next(r for r in rows if r.id == chosen)
