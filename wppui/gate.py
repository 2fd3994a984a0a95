"""The access gate: outside demo mode nothing renders before the person has signed in."""
from __future__ import annotations

import ipaddress

import streamlit as st

from wpp.config import Settings

from .components import guarded


@st.cache_resource(show_spinner=False)
def _staff_directory(_key: tuple):
    from wpp.access import StaffDirectory

    return StaffDirectory(dict(_key))


def _is_loopback(address: str | None) -> bool:
    if not address:
        return False  # Streamlit's default listens on every interface
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def require_identity(settings: Settings) -> bool:
    """True when someone is signed in (or in demo mode); otherwise draws the sign-in form and returns False."""
    if settings.demo:
        if not _is_loopback(st.get_option("server.address")):
            st.error("**Demo mode only runs on this computer.** This console has no platform configured, so it "
                     "runs a simulated platform, and that is only allowed on the loopback address.\n\n"
                     "Start it the way README.md says (it listens on 127.0.0.1), or configure WPP_BASE_URL.",
                     icon="🔒")
            return False
        if not settings.demo_sign_in:
            if "identity" not in st.session_state:
                from wpp.access import demo_identity

                st.session_state["identity"] = demo_identity()
            return True
    if st.session_state.get("identity") is not None:
        return True
    if settings.oidc_configured and getattr(st.user, "is_logged_in", False):
        from wpp.access import identity_from_oidc

        with guarded("Sign-in refused"):
            st.session_state["identity"] = identity_from_oidc(dict(st.user), allowed=settings.allowed_email_list)
            return True
        if st.button("Sign out"):
            st.logout()
        return False
    _sign_in_form(settings)
    return False


def _sign_in_form(settings: Settings) -> None:
    st.title("📱 WPP Console")
    st.subheader("Sign in")
    methods = []
    if settings.staff:
        methods.append("Staff account")
    if settings.supabase_url and settings.supabase_key:
        methods.append("School platform account (email)")
    if not methods and not settings.oidc_configured:
        st.error("**Nobody can sign in yet.** No sign-in method is configured.\n\nAn administrator must add staff "
                 "accounts (`[staff]` in `.streamlit/secrets.toml`, hashes made with "
                 "`python scripts/hash_password.py`), an `[auth]` OpenID Connect provider, or Supabase "
                 "(SUPABASE_URL and SUPABASE_KEY).", icon="🔒")
        return
    if settings.oidc_configured:
        if st.button("Sign in with your organisation's account", type="primary"):
            st.login()
    if not methods:
        return
    method = st.radio("How do you sign in?", methods, horizontal=True) if len(methods) > 1 else methods[0]
    with st.form("sign_in"):
        user = st.text_input("Email" if method.startswith("School") else "Name")
        password = st.text_input("Password", type="password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if submitted:
        with guarded("Sign-in failed"):
            if method.startswith("School"):
                from wpp.access import supabase_sign_in

                ident = supabase_sign_in(settings.supabase_url, settings.supabase_key.reveal(), user, password)
            else:
                ident = _staff_directory(tuple(sorted(settings.staff.items()))).sign_in(user, password)
            st.session_state["identity"] = ident
            st.rerun()


def sidebar_identity(settings: Settings) -> None:
    ident = st.session_state.get("identity")
    if ident is None:
        return
    st.caption(f"Signed in as **{ident.name}**")
    if getattr(ident, "method", "") != "demo" and st.button("Sign out"):
        st.session_state.pop("identity", None)
        st.session_state.pop("wpp_tokens", None)
        if getattr(ident, "method", "") == "oidc":
            st.logout()
        st.rerun()
